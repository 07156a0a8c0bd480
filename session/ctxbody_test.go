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

// TestPreOpenInvalidLiteralNotSent: a Part.Open that a command starts
// with (wire.Encoder.LiteralFunc after plain text) returning a negative
// size, run before any byte of the command is written, leaves the command
// not sent (ErrNotSent with wire.ErrInvalidLiteral), the session going on
// and the server never seeing it: the encoder used to find it with the
// command's start in the write buffer, and the session was aborted. Under
// a context that cannot end and one that can. The library's defaults.
func TestPreOpenInvalidLiteralNotSent(t *testing.T) {
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

// TestPreOpenSkippedAfterContextEnded (found by review): a command whose context has ended by the
// time it is encoded (here its Args end it, standing for a deadline that
// passes while the command is encoded) is not sent, and its literal's
// Open, whose turn never comes, is not called: it used to be so (send's
// check of ctx after encoding), and preOpen now calls it (on a goroutine,
// waiting writeGrace for it) before that check, for a command it knows
// will not be sent. Open's side effect (a message taken from another
// session's FETCH, a file opened, a temporary file made) is then done
// for nothing, and the caller cannot tell.
func TestPreOpenSkippedAfterContextEnded(t *testing.T) {
	client, server := transport.Pipe()
	done := make(chan struct{})
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
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(server, tag+" OK done\r\n")
		}
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-done })
	s := openDefaults(t, client, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var opened atomic.Int32
	_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		cancel()
		e.Atom("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) {
			opened.Add(1)
			return strings.NewReader("hello"), 5, nil
		}, false)
	}})
	if !errors.Is(err, session.ErrNotSent) || !errors.Is(err, context.Canceled) {
		t.Fatalf("APPEND: %v; want not sent", err)
	}
	if n := opened.Load(); n != 0 {
		t.Errorf("Open called %d times for a command whose context had ended before its turn; want 0", n)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
}
