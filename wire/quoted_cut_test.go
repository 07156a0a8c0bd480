package wire_test

import (
	"errors"
	"io"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestQuotedBareCRThenEndIsSyntax: a quoted string that holds a CR (or an
// LF) is malformed whatever follows it, so a stream that ends after the CR
// fails with the syntax error, as the same bytes followed by more do, not
// with io.ErrUnexpectedEOF: the bytes seen already say it. Before, only an
// LF was checked until the closing quote came, and "\"ab\r" and then the
// end was the cut.
func TestQuotedBareCRThenEndIsSyntax(t *testing.T) {
	for _, in := range []string{"\"ab\r", "\"ab\rc", "\"a\\\"b\r", "\"ab\r\n", "\"ab\r\n\""} {
		for name, r := range readers(in) {
			_, err := wire.NewTokenizer(r, nil).Quoted()
			if !errors.Is(err, wire.ErrSyntax) || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s: Quoted(%q) = %v; want a syntax error, not the cut", name, in, err)
			}
		}
	}
	// The control: a quoted string the end cuts before any CR is the cut.
	for name, r := range readers("\"ab") {
		if _, err := wire.NewTokenizer(r, nil).Quoted(); err != io.ErrUnexpectedEOF {
			t.Errorf("%s: Quoted(%q) = %v; want io.ErrUnexpectedEOF", name, "\"ab", err)
		}
	}
}
