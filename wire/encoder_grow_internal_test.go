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
// goes through setBuf, which zeroes the array an append outgrew, or, where
// setBuf's cost would make a hot method too costly to inline (SP,
// BeginList), is the plain append between "old := e.buf" and
// "e.zeroMoved(old)": a new write site that assigns otherwise would leave
// a password behind again.
func TestEncoderBufferWritesGoThroughSetBuf(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "encoder.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil || fn.Name.Name == "setBuf" || fn.Name.Name == "outgrown" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			block, ok := n.(*ast.BlockStmt)
			if !ok {
				return true
			}
			for i, st := range block.List {
				if as, ok := st.(*ast.AssignStmt); ok && assignsBufCall(as) && !betweenZeroMoved(block.List, i) {
					t.Errorf("%s: %s assigns e.buf a call's result directly, not through setBuf (nor between old := e.buf and e.zeroMoved(old))", fset.Position(as.Pos()), fn.Name.Name)
				}
			}
			return true
		})
	}
}

// assignsBufCall reports whether as assigns e.buf a call's result.
func assignsBufCall(as *ast.AssignStmt) bool {
	for i, l := range as.Lhs {
		if isEBuf(l) {
			if _, call := as.Rhs[min(i, len(as.Rhs)-1)].(*ast.CallExpr); call {
				return true
			}
		}
	}
	return false
}

// isEBuf reports whether x is e.buf.
func isEBuf(x ast.Expr) bool {
	sel, ok := x.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "buf" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "e"
}

// betweenZeroMoved reports whether list[i] comes right after "old := e.buf"
// and right before "e.zeroMoved(old)", for the same old.
func betweenZeroMoved(list []ast.Stmt, i int) bool {
	if i == 0 || i+1 >= len(list) {
		return false
	}
	before, ok := list[i-1].(*ast.AssignStmt)
	if !ok || before.Tok != token.DEFINE || len(before.Lhs) != 1 || !isEBuf(before.Rhs[0]) {
		return false
	}
	old, ok := before.Lhs[0].(*ast.Ident)
	if !ok {
		return false
	}
	after, ok := list[i+1].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := after.X.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return false
	}
	fun, ok := call.Fun.(*ast.SelectorExpr)
	arg, ok2 := call.Args[0].(*ast.Ident)
	return ok && ok2 && fun.Sel.Name == "zeroMoved" && isEBufOwner(fun.X) && arg.Name == old.Name
}

// isEBufOwner reports whether x is e.
func isEBufOwner(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == "e"
}

// TestEncoderGrowthByOneByteZeroesOldBuffer: SP and BeginList append
// plainly (zeroMoved after, to stay inlinable): the array one of them
// outgrows is zeroed as well.
func TestEncoderGrowthByOneByteZeroesOldBuffer(t *testing.T) {
	const pw = "correct-horse-battery-staple-0123456789"
	for _, tc := range []struct {
		name  string
		write func(e *Encoder)
	}{
		{"SP", func(e *Encoder) { e.SP() }},
		{"BeginList", func(e *Encoder) { e.BeginList().EndList() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEncoder(nil)
			e.Begin("A1").SP().Atom("LOGIN").SP().Atom("user").SP().Password(pw).SP()
			e.Atom(strings.Repeat("x", cap(e.buf)-len(e.buf))) // full to the brim
			old := e.buf[:cap(e.buf)]
			if len(e.buf) != cap(e.buf) || !bytes.Contains(old, []byte(pw)) {
				t.Fatalf("the case is not made: len %d cap %d", len(e.buf), cap(e.buf))
			}
			tc.write(e) // outgrows it by one byte
			if _, err := e.End(); err != nil {
				t.Fatal(err)
			}
			if cap(e.buf) == len(old) {
				t.Fatal("the buffer did not grow")
			}
			if bytes.Contains(old, []byte(pw)) {
				t.Fatalf("the array %s outgrew still holds the password", tc.name)
			}
		})
	}
}
