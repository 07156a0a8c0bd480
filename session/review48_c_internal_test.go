package session

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// TestReview48COpenErrorSentinels: sentinels (which an *OpenError does
// not match) lists every exported sentinel error of the package, once:
// one added later and not listed would pass through an Open's chain.
func TestReview48COpenErrorSentinels(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range pkgs["session"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, sp := range g.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	seen := map[error]bool{}
	for _, e := range sentinels {
		if e == nil || seen[e] {
			t.Errorf("sentinels holds %v twice (or nil)", e)
		}
		seen[e] = true
		if (&OpenError{Err: e}).Is(e) || errors.Is(&OpenError{Err: e}, e) {
			t.Errorf("an OpenError matches %v", e)
		}
	}
	if len(names) != len(sentinels) {
		t.Errorf("the package has %d exported Err variables (%v), sentinels lists %d", len(names), names, len(sentinels))
	}
}
