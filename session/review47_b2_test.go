package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
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

// TestReview47BCompressWorkerEnds: under COMPRESS, the inflater's worker
// goroutine, started by a pulled body's reads with a context that can end,
// is kept for the length of the body only: once the body was read and the
// pull waited for, a NOOP (whose reads run on the reader's goroutine)
// leaves none (AfterBody); and a session closed while a body was read in
// part, nothing reading since, leaves none either (Closed: the session's
// end stops the worker, which waits for a read that never comes). The
// library's defaults.
func TestReview47BCompressWorkerEnds(t *testing.T) {
	for _, closed := range []bool{false, true} {
		t.Run(map[bool]string{false: "AfterBody", true: "Closed"}[closed], func(t *testing.T) {
			const size = 256 << 10
			check := leakcheck.Start()
			conn := bodyCtxConn(t, false, bodyCtxServer(size, false, nil, 0, true))
			s, err := session.Open(context.Background(), conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Compress(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
			if err != nil {
				t.Fatal(err)
			}
			it, err := p.Next(ctx)
			if err != nil || it.Body == nil {
				t.Fatalf("Next: %v, %v", it, err)
			}
			if closed {
				// A part of the body read, and no more: the worker
				// waits for the next read, which never comes.
				if _, err := io.CopyN(io.Discard, it.Body, 1000); err != nil {
					t.Fatal(err)
				}
				s.Close()
			} else {
				if n, err := io.Copy(io.Discard, it.Body); err != nil || n != size {
					t.Fatalf("body: %d bytes, %v", n, err)
				}
				if _, err := p.Wait(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Run(context.Background(), &session.Command{Name: "NOOP"}); err != nil {
					t.Fatal(err)
				}
			}
			if n := review47BWorkers(check, leakcheck.Wait); n != 0 {
				t.Fatalf("%d inflater workers left (session closed: %v)", n, closed)
			}
		})
	}
}

// review47BWorkers counts the inflater's worker goroutines that c did not
// see at its start, waiting up to wait for none to be left. Only those:
// tests running in parallel start others.
func review47BWorkers(c *leakcheck.Checker, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		n := 0
		var le *leakcheck.LeakError
		if errors.As(c.Check(0), &le) {
			for _, g := range le.Goroutines {
				if strings.Contains(g, "session.inflateWorker") {
					n++
				}
			}
		}
		if n == 0 || !time.Now().Before(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}
