package wire_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// cutReader serves data, then fails every read with err.
type cutReader struct {
	data string
	err  error
}

func (r *cutReader) Read(p []byte) (int, error) {
	if r.data != "" {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	return 0, r.err
}

// TestTokenizerReadErrorMidToken: a read that fails within a token or a
// line that is so far well formed gives the read's error, never a
// *SyntaxError: a deadline as it is, the end of the stream as
// io.ErrUnexpectedEOF within a line (io.EOF before its first byte). A run
// the end cut (an atom, a number, a flag, a set, spaces) is returned as it
// is (the proxy traces a cut line's bytes so), and the call after it meets
// the end. Before, that call, or one at the very end, failed with a
// *SyntaxError "got EOF": the end of the stream taken for malformed input.
func TestTokenizerReadErrorMidToken(t *testing.T) {
	type op func(tk *wire.Tokenizer) error
	atom := func(tk *wire.Tokenizer) error { _, err := tk.Atom(); return err }
	for _, tt := range []struct {
		in   string
		call op
	}{
		{"ab", atom},
		{"12", func(tk *wire.Tokenizer) error { _, err := tk.Number(); return err }},
		{`\Se`, func(tk *wire.Tokenizer) error { _, err := tk.Flag(); return err }},
		{"1:", func(tk *wire.Tokenizer) error { _, err := tk.SeqSet(); return err }},
		{"a ", func(tk *wire.Tokenizer) error { tk.Atom(); return tk.SP() }},
		{"a  ", func(tk *wire.Tokenizer) error { tk.Atom(); return tk.SP() }},
		{"a\r", func(tk *wire.Tokenizer) error { tk.Atom(); return tk.CRLF() }},
		{`"ab`, func(tk *wire.Tokenizer) error { _, err := tk.Quoted(); return err }},
		{`"a\`, func(tk *wire.Tokenizer) error { _, err := tk.Quoted(); return err }},
		{"{12", func(tk *wire.Tokenizer) error { _, err := tk.Literal(); return err }},
		{"{12}\r", func(tk *wire.Tokenizer) error { _, err := tk.Literal(); return err }},
		{"<1.", func(tk *wire.Tokenizer) error { _, _, _, err := tk.Partial(); return err }},
	} {
		for _, rerr := range []error{os.ErrDeadlineExceeded, io.EOF} {
			tk := wire.NewTokenizer(&cutReader{data: tt.in, err: rerr}, nil)
			err := tt.call(tk)
			if err == nil && rerr == io.EOF {
				// A run the end cut (an atom, a number, spaces) is
				// returned as it is: the next call meets the end.
				err = atom(tk)
			}
			want := rerr
			if rerr == io.EOF {
				want = io.ErrUnexpectedEOF
			}
			if !errors.Is(err, want) || errors.Is(err, wire.ErrSyntax) {
				t.Errorf("%q, then %v: %v; want %v", tt.in, rerr, err, want)
			}
		}
	}
	// Before a line's first byte the end is clean.
	if _, err := wire.NewTokenizer(&cutReader{err: io.EOF}, nil).Atom(); err != io.EOF {
		t.Errorf("Atom at the end: %v; want io.EOF", err)
	}
}
