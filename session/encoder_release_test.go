package session_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// okServe greets with PREAUTH and answers every command line, however
// long, with a tagged OK.
func okServe(c net.Conn) {
	defer c.Close()
	c.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		c.Write([]byte(tag + " OK done\r\n"))
	}
}

// TestReleasesEncoder: with the defaults, a session holds its command
// Encoder only while something is to be written. After a command with a
// 64 KiB argument is answered it holds none (so not the buffer that
// command grew), and the next commands encode as before.
func TestReleasesEncoder(t *testing.T) {
	client, server := transport.Pipe()
	go okServe(server)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
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
