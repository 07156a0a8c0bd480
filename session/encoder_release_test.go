package session_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReleasesEncoder: with the defaults, a session holds its command
// Encoder only while something is to be written. After a command with a
// 64 KiB argument is answered it holds none (so not the buffer that
// command grew), and the next commands encode as before.
func TestReleasesEncoder(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
		for line := readLine(r); line != ""; line = readLine(r) {
			tag, _, _ := strings.Cut(line, " ")
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	ctx := ctx20(t)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if session.HeldEncoder(s) {
		t.Fatal("an Encoder held before any command")
	}
	big := strings.Repeat("a", 64<<10)
	for i, cmd := range []*session.Command{
		{Name: "NOOP"},
		{Name: "XBIG", Args: func(e *wire.Encoder) { e.SP().Atom(big) }},
		{Name: "NOOP"},
	} {
		res, err := s.Run(ctx, cmd)
		if err != nil || res.Status.Kind != codec.StatusOK {
			t.Fatalf("command %d (%s): %v %+v", i, cmd.Name, err, res)
		}
		if session.HeldEncoder(s) {
			t.Fatalf("after command %d (%s): the session still holds its Encoder", i, cmd.Name)
		}
	}
}
