package codec_test

import (
	"io"
	"os"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// cutReader hands out the input up to cut, then fails one read with a
// timeout (a read deadline), then hands out the rest.
type cutReader struct {
	s      string
	cut    int
	failed bool
}

func (r *cutReader) Read(p []byte) (int, error) {
	if r.cut > 0 {
		n := copy(p, r.s[:r.cut])
		r.s, r.cut = r.s[n:], r.cut-n
		return n, nil
	}
	if !r.failed {
		r.failed = true
		return 0, os.ErrDeadlineExceeded
	}
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// A read deadline that fires right after a quoted string of an envelope
// must not change the decode: Next resumes the response (package doc). The
// check of the byte after the string (an unescaped quote inside the
// subject, repaired) swallowed the read error and took the string as
// ended, so the subject was cut at its inner quote and the rest of the
// envelope shifted by a field.
func TestResumeAfterQuotedEnvelopeString(t *testing.T) {
	in := `* 1 FETCH (ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "He said "hi" there" NIL NIL NIL NIL NIL NIL NIL "<m@x>"))` + "\r\n"
	want := `He said "hi" there`
	for cut := 1; cut < len(in); cut++ {
		d := codec.NewDecoder(wire.NewTokenizer(&cutReader{s: in, cut: cut}, nil), nil)
		var resp codec.Response
		var err error
		for i := 0; i < 3; i++ {
			if resp, err = d.Next(); err == nil || !os.IsTimeout(err) {
				break
			}
		}
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		env := resp.(*codec.Fetch).Envelope
		if string(env.Subject) != want || string(env.MessageID) != "<m@x>" {
			t.Errorf("cut %d (%q|%q): subject %q, message-id %q", cut, in[:cut], in[cut:], env.Subject, env.MessageID)
		}
	}
}
