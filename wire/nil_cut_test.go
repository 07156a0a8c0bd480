package wire_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestTokenizerNILCutByEOF: a NIL the end of the stream cuts ("N" or "NI"
// and then the end) is the cut, io.ErrUnexpectedEOF (or the read's own
// error), for NString and AcceptNIL alike, as a quoted string or a literal
// header the end cuts is. Before, NString reported a *SyntaxError
// "expected nstring, got NI", and a decoder that called AcceptNIL and then
// String or Expect('(') one "expected '('": the session blamed the
// server's syntax for a cut connection. Bytes that can begin no NIL stay a
// syntax error.
func TestTokenizerNILCutByEOF(t *testing.T) {
	nstring := func(tk *wire.Tokenizer) error { _, _, err := tk.NString(); return err }
	acceptNIL := func(tk *wire.Tokenizer) error {
		ok, err := tk.AcceptNIL()
		if ok {
			return errors.New("AcceptNIL took a cut NIL for NIL")
		}
		return err
	}
	for _, in := range []string{"N", "NI", "ni", "nI"} {
		for name, call := range map[string]func(*wire.Tokenizer) error{"NString": nstring, "AcceptNIL": acceptNIL} {
			for _, rerr := range []error{io.EOF, os.ErrDeadlineExceeded} {
				err := call(wire.NewTokenizer(&cutReader{data: in, err: rerr}, nil))
				want := rerr
				if rerr == io.EOF {
					want = io.ErrUnexpectedEOF // within a line
				}
				if !errors.Is(err, want) || errors.Is(err, wire.ErrSyntax) {
					t.Errorf("%s on %q, then %v: %v; want %v", name, in, rerr, err, want)
				}
			}
		}
	}
	// Bytes no NIL begins with are malformed whatever would follow.
	for _, in := range []string{"NX", "NILX", "NIX"} {
		_, _, err := wire.NewTokenizer(&cutReader{data: in, err: io.EOF}, nil).NString()
		if !errors.Is(err, wire.ErrSyntax) {
			t.Errorf("NString on %q, then the end: %v; want a syntax error", in, err)
		}
	}
	// A whole NIL is NIL; the end meets the next call.
	tk := wire.NewTokenizer(&cutReader{data: "NIL", err: io.EOF}, nil)
	if _, isNil, err := tk.NString(); err != nil || !isNil {
		t.Errorf("NString on NIL, then the end: %v, %v; want NIL", isNil, err)
	}
	// AcceptNIL where the stream ends before a line decides nothing (the
	// next call meets the end, io.EOF there).
	if ok, err := wire.NewTokenizer(&cutReader{err: io.EOF}, nil).AcceptNIL(); ok || err != nil {
		t.Errorf("AcceptNIL at the end: %v, %v; want false, nil", ok, err)
	}
}
