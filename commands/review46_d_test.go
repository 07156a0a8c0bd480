package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// review46DClient opens a client, with the library's defaults, over
// transport.Pipe to serve, greeted with caps.
func review46DClient(t *testing.T, caps string, serve func(server net.Conn)) *commands.Client {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY " + caps + "] ready\r\n"))
		serve(server)
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		server.Close()
		<-done
	})
	return commands.New(s)
}

// TestReview46DAppendBlockedReaderCancel: an Append whose message is an
// io.Reader that blocks (a pipe whose writer stalls after 1000 bytes)
// returns when its context is cancelled, with an error matching
// context.Canceled, and the session is aborted (half a literal is on the
// wire), which wakes a NOOP waiting behind it with an *AbortError that
// does not match context.Canceled (its own context did not end). The
// Append waited in the Read for ever, and the NOOP with it (its context
// cannot end); the library's defaults (no option has a bound on a
// caller's Read). The goroutine reading the body ends when the pipe is
// closed (leakcheck). The same for AppendMany's message opened by Open.
func TestReview46DAppendBlockedReaderCancel(t *testing.T) {
	for _, c := range []struct {
		name, caps string
		open       bool // AppendMany, the message's reader from Open
	}{{"Sync", "IMAP4rev1", false}, {"LiteralPlus", "IMAP4rev1 LITERAL+", false}, {"Open", "IMAP4rev1 MULTIAPPEND", true}} {
		caps := c.caps
		t.Run(c.name, func(t *testing.T) {
			cl := review46DClient(t, caps, func(server net.Conn) {
				r := bufio.NewReader(server)
				line, err := r.ReadString('\n')
				if err != nil || !strings.Contains(line, "APPEND") {
					return
				}
				if !strings.HasSuffix(line, "+}\r\n") {
					server.Write([]byte("+ go\r\n"))
				}
				io.Copy(io.Discard, r) // the literal, never complete
			})
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			half := make(chan struct{})
			go func() {
				pw.Write(bytes.Repeat([]byte("x"), 1000)) // returns once read
				close(half)
			}()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			appended := make(chan error, 1)
			go func() {
				if c.open {
					_, err := cl.AppendMany(ctx, "INBOX", []commands.AppendMessage{{Open: func() (io.Reader, int64, error) { return pr, 10000, nil }}})
					appended <- err
					return
				}
				_, err := cl.Append(ctx, "INBOX", pr, 10000, nil)
				appended <- err
			}()
			guard := time.NewTimer(10 * time.Second)
			defer guard.Stop()
			select {
			case <-half:
			case err := <-appended:
				t.Fatalf("Append returned before reading its message: %v", err)
			case <-guard.C:
				t.Fatal("the message was not read")
			}
			nooped := make(chan error, 1)
			go func() { nooped <- cl.Noop(context.Background()) }()
			cancel()
			select {
			case err := <-appended:
				if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrAborted) {
					t.Fatalf("Append: %v", err)
				}
			case <-guard.C:
				t.Fatal("Append still blocked in its body's Read 10 s after its context was cancelled")
			}
			select {
			case err := <-nooped:
				if !errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled) {
					t.Fatalf("NOOP: %v", err)
				}
			case <-guard.C:
				t.Fatal("NOOP still waiting behind the cancelled Append")
			}
		})
	}
}

// BenchmarkReview46DAppend100MiBCtx is BenchmarkAppend100MiB with a
// context that can end (the common case: a deadline or a cancel), the
// path on which a blocked body read must be interruptible.
func BenchmarkReview46DAppend100MiBCtx(b *testing.B) {
	const size = 100 << 20
	c := pipeClient(b, "IMAP4rev1 LITERAL+", func(server net.Conn) {
		r := bufio.NewReaderSize(server, 64<<10)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			if i := strings.LastIndexByte(line, '{'); i >= 0 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSuffix(line[i+1:], "\r\n"), "+}"), 10, 64)
				if _, err := io.CopyN(io.Discard, r, n); err != nil {
					return
				}
				r.ReadString('\n')
			}
			server.Write([]byte(tag + " OK [APPENDUID 1 1] done\r\n"))
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.SetBytes(size)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		res, err := c.Append(ctx, "INBOX", io.LimitReader(patternReader{}, size), size, nil)
		if err != nil || res.UID != 1 {
			b.Fatal(err)
		}
	}
}
