package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// undocumented returns the exported names of f that have no doc comment:
// functions, methods of exported types, types, constants and variables (a
// name in a documented group, or with a comment on its line, counts as
// documented). Package main is skipped: nothing imports it.
func undocumented(fset *token.FileSet, f *ast.File) []string {
	if f.Name.Name == "main" {
		return nil
	}
	var out []string
	add := func(pos token.Pos, kind, name string) {
		p := fset.Position(pos)
		out = append(out, fmt.Sprintf("%s:%d: %s %s has no doc comment", p.Filename, p.Line, kind, name))
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil && !exportedRecv(d.Recv.List[0].Type) {
				continue
			}
			add(d.Pos(), "func", d.Name.Name)
		case *ast.GenDecl:
			if d.Doc != nil {
				continue
			}
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && s.Comment == nil {
						add(s.Pos(), "type", s.Name.Name)
					}
				case *ast.ValueSpec:
					if s.Doc != nil || s.Comment != nil {
						continue
					}
					for _, n := range s.Names {
						if n.IsExported() {
							add(n.Pos(), d.Tok.String(), n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// exportedRecv reports whether a method's receiver type is exported (T,
// *T, T[P] or *T[P]).
func exportedRecv(t ast.Expr) bool {
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// TestExportedNamesDocumented keeps the brief's rule that every exported
// name of the library has a doc comment: it parses every non-test Go file
// of the module (not testdata, not the bench/ module, which has its own
// go.mod) and fails on each exported name without one.
func TestExportedNamesDocumented(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module (bench/)
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, msg := range undocumented(fset, f) {
			t.Error(strings.TrimPrefix(msg, root+string(filepath.Separator)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("parsed only %d files under %s", files, root)
	}
}

// TestDocCheckCatchesPlanted runs the check over planted sources, each
// with one undocumented exported name (and documented or unexported ones
// beside it), so that a weakened check fails here.
func TestDocCheckCatchesPlanted(t *testing.T) {
	for _, c := range []struct {
		name, src, want string // want: "" when nothing is undocumented
	}{
		{"func", "package p\n// F does.\nfunc F() {}\nfunc G() {}\nfunc h() {}\n", "func G"},
		{"method of an exported type", "package p\n// T is.\ntype T int\nfunc (T) M() {}\n", "func M"},
		{"method of a pointer to a generic type", "package p\n// T is.\ntype T[P any] struct{}\nfunc (*T[P]) M() {}\n", "func M"},
		{"method of an unexported type", "package p\ntype t int\nfunc (t) M() {}\n", ""},
		{"type in a group", "package p\ntype (\n\t// A is.\n\tA int\n\tB int\n)\n", "type B"},
		{"const", "package p\nconst C = 1\n", "const C"},
		{"documented var group", "package p\n// Errors.\nvar (\n\tE1 = 1\n\tE2 = 2\n)\n", ""},
		{"var with a line comment", "package p\nvar V = 1 // V is.\n", ""},
		{"package main", "package main\nfunc F() {}\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "p.go", c.src, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			got := undocumented(fset, f)
			switch {
			case c.want == "" && len(got) != 0:
				t.Fatalf("got %q; want nothing", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
				t.Fatalf("got %q; want exactly one naming %q", got, c.want)
			}
		})
	}
}
