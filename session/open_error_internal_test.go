package session

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestSentinelsDeclaredHere: every package-level error variable of the
// package is made by sentinel (of type *sentinelError, declared here), not
// by errors.New or fmt.Errorf: an *OpenError passes over the errors whose
// type is declared here, and a sentinel of another package's type, one
// added later with errors.New say, would go through it (another session's
// ErrWriteCut matching a command not sent).
func TestSentinelsDeclaredHere(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	n := 0
	for name, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, sp := range g.Specs {
				for _, v := range sp.(*ast.ValueSpec).Values {
					call, ok := v.(*ast.CallExpr)
					if !ok {
						continue
					}
					switch fn := call.Fun.(type) {
					case *ast.Ident:
						if fn.Name == "sentinel" {
							n++
						}
					case *ast.SelectorExpr:
						if x, ok := fn.X.(*ast.Ident); ok && (x.Name == "errors" && fn.Sel.Name == "New" || x.Name == "fmt" && fn.Sel.Name == "Errorf") {
							t.Errorf("%s: a package-level error made by %s.%s, not sentinel", name, x.Name, fn.Sel.Name)
						}
					}
				}
			}
		}
	}
	if n < 25 {
		t.Errorf("%d package-level errors made by sentinel; the package has at least 25", n)
	}
	for _, e := range []error{ErrAborted, ErrWriteCut, ErrNotSent, ErrRenumbered, errOpenCancelled} {
		if !declaredHere(e) || (&OpenError{Err: e}).Is(e) {
			t.Errorf("%v: not declared here, or an OpenError matches it", e)
		}
	}
}
