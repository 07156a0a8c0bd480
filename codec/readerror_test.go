package codec_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// resumingReader serves data, fails one read with err, then serves more.
type resumingReader struct {
	data, more string
	err        error
	failed     bool
}

func (r *resumingReader) Read(p []byte) (int, error) {
	if r.data != "" {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	if !r.failed {
		r.failed = true
		return 0, r.err
	}
	if r.more == "" {
		return 0, io.EOF
	}
	n := copy(p, r.more)
	r.more = r.more[n:]
	return n, nil
}

// TestNextReadErrorAfterMalformed: a response found malformed before the
// read failed (a lone " " where a response starts, a stray byte after a
// complete FETCH, a number past 64 bits) gives a *DecodeError that wraps
// the read's failure too (a deadline, a reset, the end of the stream), so
// that the caller sees the failure; after a deadline the next call skips
// the rest of the line and reads the next response. Found by review: the
// error held the syntax error alone, and a session read again with a new
// deadline (a lone " " then a stall was cut after two stall timeouts).
// The failures of a partial token, quoted string or literal header are
// returned as they are (TestNextReadErrorMidToken).
func TestNextReadErrorAfterMalformed(t *testing.T) {
	for name, data := range map[string]string{
		"lone space":      " ",
		"lone paren":      ")",
		"stray byte":      "* 1 FETCH (UID 1) x",
		"number overflow": "* 1 FETCH (RFC822.SIZE 99999999999999999999999 ",
		"bad tag":         "A%1 OK over quota {5",
	} {
		for ename, rerr := range map[string]error{"deadline": os.ErrDeadlineExceeded, "reset": errConnReset, "EOF": io.EOF} {
			t.Run(name+"/"+ename, func(t *testing.T) {
				r := &resumingReader{data: data, err: rerr, more: "\r\n* 2 EXISTS\r\n"}
				d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
				_, err := d.Next()
				want := rerr
				if rerr == io.EOF {
					want = io.ErrUnexpectedEOF // within a line
				}
				var de *codec.DecodeError
				if !errors.As(err, &de) || !errors.Is(err, want) {
					t.Fatalf("Next: %v; want a *DecodeError wrapping %v", err, want)
				}
				if rerr != os.ErrDeadlineExceeded {
					return
				}
				resp, err := d.Next()
				if e, ok := resp.(*codec.Exists); err != nil || !ok || e.Count != 2 {
					t.Fatalf("Next after the deadline: %#v, %v; want the EXISTS after the skipped line", resp, err)
				}
			})
		}
	}
}

// TestNextReadErrorMidToken: a read that fails in the middle of a token
// or line that is so far well formed (a partial atom, quoted string,
// literal header, a CR without its LF) gives the read's error, never a
// syntax error: a deadline as it is (the response is resumed by the next
// call), the end of the stream as io.ErrUnexpectedEOF (within a
// *DecodeError when the token it cut reads as malformed). Before, the
// end of the stream where a token was expected ("* " then the end) was
// a *wire.SyntaxError "got EOF" without it.
func TestNextReadErrorMidToken(t *testing.T) {
	for _, data := range []string{
		"*", "* ", "* 1 EX", "* 1 EXISTS", "A1 ", "A1 OK", `* OK [BADCHARSET ("ab`,
		"* 1 FETCH (BODY[] {12", "* 1 FETCH (BODY[] {12}\r", "* 1 FETCH (BODY[] {12}\r\nabc",
		"* OK hi\r", `* 1 FETCH (FLAGS (\Seen`, `* 1 FETCH (BODY[] "abc`, "* SEARCH 1 2 3",
		`* ESEARCH (TAG "A1") ALL 1:`, "* 1 FETCH (UID 1", "* OK [UIDNEXT 1", "* LIST (", "+",
		"* 1 FETCH (RFC822.SIZE 99999999999999999999999", `* 1 FETCH (UID 1 FLAGS (\Seen) x`,
	} {
		for ename, rerr := range map[string]error{"deadline": os.ErrDeadlineExceeded, "reset": errConnReset, "EOF": io.EOF} {
			t.Run(data+"/"+ename, func(t *testing.T) {
				r := &resumingReader{data: data, err: rerr}
				d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
				_, err := d.Next()
				want := rerr
				if rerr == io.EOF {
					want = io.ErrUnexpectedEOF
				}
				// A deadline or a reset as it is (the response is
				// resumed); the end of the stream may come in a
				// *DecodeError, when the token it cut reads as
				// malformed ("1:", a number past 64 bits).
				var de *codec.DecodeError
				if !errors.Is(err, want) || rerr != io.EOF && errors.As(err, &de) {
					t.Fatalf("Next: %v; want %v, no *DecodeError", err, want)
				}
			})
		}
	}
}
