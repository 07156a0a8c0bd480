package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview47BAppendManyOpenBlockedCancel: AppendMany's message opened by
// an Open that blocks (until its channel is closed) returns when its
// context is cancelled, with an error matching context.Canceled. The
// second message's Open (Second: the first went out whole before it) so
// aborts the session, as a body's Read whose context ends does
// (ctxbody.go), which wakes a NOOP waiting behind it with an *AbortError
// that does not match context.Canceled. The first message's (First), whose
// turn comes before any byte of the command is written, leaves the command
// not sent (ErrNotSent): the server never sees an APPEND, the session goes
// on and the NOOP waiting behind it runs. Once the Open returns, no
// goroutine is left (leakcheck). Open ran on the session's writer
// goroutine: AppendMany waited in it for ever, the NOOP with it. The
// library's defaults.
func TestReview47BAppendManyOpenBlockedCancel(t *testing.T) {
	for _, second := range []bool{false, true} {
		name := map[bool]string{false: "First", true: "Second"}[second]
		t.Run(name, func(t *testing.T) { review47BOpenBlocked(t, second) })
	}
}

func review47BOpenBlocked(t *testing.T, second bool) {
	check := leakcheck.Start()
	client, server := transport.Pipe()
	served := make(chan struct{})
	var sawAppend atomic.Bool
	go func() {
		defer close(served)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 MULTIAPPEND LITERAL+] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, "APPEND") {
				sawAppend.Store(true)
				io.Copy(io.Discard, r)
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			server.Write([]byte(tag + " OK done\r\n"))
		}
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := commands.New(s)
	block := make(chan struct{})
	opening := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs := []commands.AppendMessage{{Open: func() (io.Reader, int64, error) {
		close(opening)
		<-block
		return strings.NewReader("never read"), 10, nil
	}}}
	if second {
		msgs = append([]commands.AppendMessage{{R: strings.NewReader("first"), Size: 5}}, msgs...)
	}
	appended := make(chan error, 1)
	go func() {
		_, err := cl.AppendMany(ctx, "INBOX", msgs)
		appended <- err
	}()
	guard := time.NewTimer(10 * time.Second) // a hang guard, not a measure
	defer guard.Stop()
	select {
	case <-opening:
	case err := <-appended:
		t.Fatalf("AppendMany returned before opening its message: %v", err)
	case <-guard.C:
		t.Fatal("the message was not opened")
	}
	nooped := make(chan error, 1)
	go func() { nooped <- cl.Noop(context.Background()) }()
	cancel()
	select {
	case err := <-appended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("AppendMany: %v", err)
		}
		if second && !errors.Is(err, session.ErrAborted) {
			t.Fatalf("AppendMany: %v; want the session aborted", err)
		}
		if !second && (!errors.Is(err, session.ErrNotSent) || errors.Is(err, session.ErrAborted)) {
			t.Fatalf("AppendMany: %v; want not sent", err)
		}
	case <-guard.C:
		close(block)
		t.Fatal("AppendMany still blocked in its message's Open 10 s after its context was cancelled")
	}
	select {
	case err := <-nooped:
		if second && (!errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled)) {
			t.Fatalf("NOOP: %v", err)
		}
		if !second && err != nil {
			t.Fatalf("NOOP after the APPEND not sent: %v", err)
		}
	case <-guard.C:
		t.Fatal("NOOP still waiting behind the cancelled AppendMany")
	}
	if !second {
		if sawAppend.Load() || s.Err() != nil {
			t.Fatalf("the server saw the APPEND (%v), or the session ended: %v", sawAppend.Load(), s.Err())
		}
	}
	s.Close()
	client.Close()
	<-served
	if n := review47BOpeners(check, 0); n != 1 {
		t.Errorf("%d goroutines in the blocked Open; want 1", n)
	}
	close(block) // the Open returns: its goroutine goes
	if n := review47BOpeners(check, leakcheck.Wait); n != 0 {
		t.Fatalf("%d goroutines left in an Open once it returned", n)
	}
}

// review47BOpeners counts the goroutines running a Part.Open (whose stacks
// show session.runOpen) that c did not see at its start, waiting up to wait
// for none to be left. Only those: tests running in parallel start others
// (and child processes).
func review47BOpeners(c *leakcheck.Checker, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		n := 0
		var le *leakcheck.LeakError
		if errors.As(c.Check(0), &le) {
			for _, g := range le.Goroutines {
				if strings.Contains(g, "session.runOpen") {
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

// BenchmarkReview47BAppendFile64MiB appends a 64 MiB *os.File over
// transport.Pipe to a server that discards it, with context.Background()
// (the body read on the writer's goroutine) and with a context that can
// end (the body pumped through a goroutine of its own, ctxbody.go): the
// cost of that pump for a regular file. Binary: AppendOptions.Binary with
// BINARY, so that the *os.File itself reaches the session (otherwise
// commands wraps it in its NUL guard, which the session cannot tell from
// a reader that may block).
func BenchmarkReview47BAppendFile64MiB(b *testing.B) {
	const size = 64 << 20
	path := filepath.Join(b.TempDir(), "msg")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(patternReader{}, size)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c := pipeClient(b, "IMAP4rev1 LITERAL+ BINARY", func(server net.Conn) {
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
	for _, bc := range []struct {
		name   string
		cancel bool
		binary bool
	}{{"Background", false, false}, {"Cancelable", true, false}, {"BinaryBackground", false, true}, {"BinaryCancelable", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			if bc.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			var opts *commands.AppendOptions
			if bc.binary {
				opts = &commands.AppendOptions{Binary: true}
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				res, err := c.Append(ctx, "INBOX", f, size, opts)
				f.Close()
				if err != nil || res.UID != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}
