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
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview47BAppendManyOpenBlockedCancel: AppendMany's message opened by
// an Open that blocks (until its channel is closed) returns when its
// context is cancelled, with an error matching context.Canceled, and the
// session is aborted (the command's start is written: the rules of a
// body's Read whose context ends, ctxbody.go), which wakes a NOOP waiting
// behind it with an *AbortError that does not match context.Canceled.
// Once the Open returns, no goroutine is left (leakcheck). Open ran on the
// session's writer goroutine: AppendMany waited in it for ever, the NOOP
// with it. The library's defaults.
func TestReview47BAppendManyOpenBlockedCancel(t *testing.T) {
	check := leakcheck.Start()
	client, server := transport.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 MULTIAPPEND] ready\r\n"))
		io.Copy(io.Discard, server)
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
	appended := make(chan error, 1)
	go func() {
		_, err := cl.AppendMany(ctx, "INBOX", []commands.AppendMessage{{Open: func() (io.Reader, int64, error) {
			close(opening)
			<-block
			return strings.NewReader("never read"), 10, nil
		}}})
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
		if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrAborted) {
			t.Fatalf("AppendMany: %v", err)
		}
	case <-guard.C:
		close(block)
		t.Fatal("AppendMany still blocked in its message's Open 10 s after its context was cancelled")
	}
	select {
	case err := <-nooped:
		if !errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled) {
			t.Fatalf("NOOP: %v", err)
		}
	case <-guard.C:
		t.Fatal("NOOP still waiting behind the cancelled AppendMany")
	}
	s.Close()
	client.Close()
	<-served
	close(block) // the Open returns: its goroutine goes
	if err := check.Check(5 * time.Second); err != nil {
		t.Fatal(err)
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
