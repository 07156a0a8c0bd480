package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestReview47BPreOpenInvalidLiteral: a Part.Open that a command starts
// with (wire.Encoder.LiteralFunc after plain text) returning a negative
// size, run before any byte of the command is written, leaves the command
// not sent (ErrNotSent with wire.ErrInvalidLiteral), the session going on
// and the server never seeing it: the encoder used to find it with the
// command's start in the write buffer, and the session was aborted. Under
// a context that cannot end and one that can. The library's defaults.
func TestReview47BPreOpenInvalidLiteral(t *testing.T) {
	for _, cancelable := range []bool{false, true} {
		t.Run(map[bool]string{false: "Background", true: "Cancelable"}[cancelable], func(t *testing.T) {
			client, server := transport.Pipe()
			done := make(chan struct{})
			var sawX atomic.Bool
			go func() {
				defer close(done)
				defer server.Close()
				io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
				br := bufio.NewReader(server)
				for {
					l := readLine(br)
					if l == "" {
						return
					}
					if strings.Contains(l, "XAPPEND") {
						sawX.Store(true)
					}
					tag, _, _ := strings.Cut(l, " ")
					io.WriteString(server, tag+" OK done\r\n")
				}
			}()
			t.Cleanup(func() { client.Close(); server.Close(); <-done })
			s := openDefaults(t, client, nil)
			ctx := context.Background()
			if cancelable {
				c, cancel := context.WithCancel(ctx)
				defer cancel()
				ctx = c
			}
			_, err := s.Run(ctx, &session.Command{Name: "XAPPEND", Args: func(e *wire.Encoder) {
				e.Atom("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) {
					return strings.NewReader(""), -1, nil
				}, false)
			}})
			if !errors.Is(err, session.ErrNotSent) || !errors.Is(err, wire.ErrInvalidLiteral) {
				t.Fatalf("XAPPEND: %v; want not sent, an invalid literal", err)
			}
			if _, err := s.Run(context.Background(), &session.Command{Name: "NOOP"}); err != nil {
				t.Fatalf("NOOP after the command not sent: %v", err)
			}
			if sawX.Load() || s.Err() != nil {
				t.Fatalf("the server saw the command (%v), or the session ended: %v", sawX.Load(), s.Err())
			}
		})
	}
}
