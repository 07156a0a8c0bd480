package wire

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestEncoderGrowthZeroesOldBuffer: when a command outgrows the Encoder's
// buffer, append moves it to a larger array and the old one goes to the
// garbage collector. It held the command's start, a LOGIN's password
// included, which stayed in memory unzeroed until that memory was reused
// (Reset zeroes the buffer in use, not the arrays left behind; found by
// review). The old array is now zeroed as the buffer grows (setBuf).
func TestEncoderGrowthZeroesOldBuffer(t *testing.T) {
	const pw = "correct-horse-battery-staple-0123456789"
	e := NewEncoder(nil)
	e.Begin("A1").SP().Atom("LOGIN").SP().Atom("user").SP().Password(pw)
	old := e.buf[:cap(e.buf)]
	if !bytes.Contains(old, []byte(pw)) {
		t.Fatalf("the buffer does not hold the password before it grows: %q", old)
	}
	e.SP().Atom(strings.Repeat("x", 2*cap(old))) // outgrows it
	if _, err := e.End(); err != nil {
		t.Fatal(err)
	}
	if cap(e.buf) == len(old) {
		t.Fatal("the buffer did not grow")
	}
	if bytes.Contains(old, []byte(pw)) {
		t.Fatalf("the array the Encoder's buffer outgrew still holds the password: %q", old)
	}
	if !bytes.Contains(e.buf, []byte(pw)) {
		t.Fatal("the grown buffer lost the password: the command changed")
	}
}

// TestEncoderBufferWritesGoThroughSetBuf: every assignment to an Encoder's
// buf of a call's result (an append, AppendToken, appendLiteralHeader...)
// goes through setBuf, which zeroes the array an append outgrew: a new
// write site that assigns directly would leave a password behind again.
func TestEncoderBufferWritesGoThroughSetBuf(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "encoder.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil || fn.Name.Name == "setBuf" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for i, l := range as.Lhs {
				if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "buf" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "e" {
						rhs := as.Rhs[min(i, len(as.Rhs)-1)]
						if _, call := rhs.(*ast.CallExpr); call {
							t.Errorf("%s: %s assigns e.buf a call's result directly, not through setBuf", fset.Position(as.Pos()), fn.Name.Name)
						}
					}
				}
			}
			return true
		})
	}
}
