package session_test

import (
	"bufio"
	"errors"
	"io"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestOpenRefusesTagPrefixNotReadBack: Options.TagPrefix may hold only
// bytes a tag carries whole both ways. RFC 3501 allows '[' in a tag and
// the encoder wrote it, but the decoder reads a response's tag as an atom,
// which stops at '[': with TagPrefix "X[" the server's right answer
// "X[1 OK done" was read as tag "X" and blamed as an untagged line on the
// oldest command, which never completed (it waited until its context
// ended, the session going on). Found by review (revB252). Open now
// refuses such a prefix before reading anything, with an error matching
// wire.ErrInvalidTag; the prefixes it keeps work end to end.
func TestOpenRefusesTagPrefixNotReadBack(t *testing.T) {
	for _, prefix := range []string{"X[", "[X", "X]", "X+", "X Y", "X%", "X*", "X\"", "X\\", "X(", "X{", "X\r\n", "Xé"} {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			answerOK(r, w)
		})
		s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: prefix})
		if err == nil {
			s.Close()
			t.Errorf("TagPrefix %q: Open succeeded; want an error matching wire.ErrInvalidTag", prefix)
			continue
		}
		if !errors.Is(err, wire.ErrInvalidTag) {
			t.Errorf("TagPrefix %q: %v; want an error matching wire.ErrInvalidTag", prefix, err)
		}
	}
	for _, prefix := range []string{"", "A", "x-1.b_Z9"} {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			answerOK(r, w)
		})
		s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: prefix})
		if err != nil {
			t.Errorf("TagPrefix %q: Open: %v", prefix, err)
			continue
		}
		if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Errorf("TagPrefix %q: NOOP: %v", prefix, err)
		}
		s.Close()
	}
}
