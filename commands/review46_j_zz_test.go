package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// review46JOKServer answers every command OK, reading each literal (of
// either kind) as it comes.
func review46JOKServer(server net.Conn) {
	r := bufio.NewReaderSize(server, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		for {
			i := strings.LastIndexByte(line, '{')
			if i < 0 || !strings.HasSuffix(line, "}\r\n") {
				break
			}
			num := strings.TrimSuffix(strings.TrimSuffix(line[i+1:], "\r\n"), "}")
			plus := strings.HasSuffix(num, "+")
			n, _ := strconv.ParseInt(strings.TrimSuffix(num, "+"), 10, 64)
			if !plus {
				server.Write([]byte("+ go\r\n"))
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if line, err = r.ReadString('\n'); err != nil {
				return
			}
		}
		server.Write([]byte(tag + " OK [APPENDUID 1 1] done\r\n"))
	}
}

// review46JFileLike is a body that is not one of the in-memory readers
// the session reads directly (a file, say): it is pumped.
type review46JFileLike struct{ r io.Reader }

func (f *review46JFileLike) Read(p []byte) (int, error) { return f.r.Read(p) }

// TestReview46JMultiAppendPumpsHeldUntilCommandEnd (found by review): an AppendMany of 400
// messages, each a reader that is not in memory, with a context that can
// end (the common case). Each message's body gets its own goroutine and a
// pooled 16 KiB buffer at its first Read (ctxbody.go), and they are let go
// only when the whole command is written (send's deferred release), not
// when the body is done: by the last message's Open, 399 goroutines and
// 399 x 16 KiB (6.2 MiB) are held for bodies already sent. Memory grows
// with the group (a library caller's AppendMany has no bound on its
// messages); before 54d4656 it was flat: no goroutine at all. A body
// read to its end (its LimitedReader at 0) could let its pump go at once.
func TestReview46JMultiAppendPumpsHeldUntilCommandEnd(t *testing.T) {
	const n = 400
	cl := review46DClient(t, "IMAP4rev1 MULTIAPPEND LITERAL+", review46JOKServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := runtime.NumGoroutine()
	var atLast int
	msgs := make([]commands.AppendMessage, n)
	for i := range msgs {
		last := i == n-1
		msgs[i].Open = func() (io.Reader, int64, error) {
			if last {
				atLast = runtime.NumGoroutine()
			}
			return &review46JFileLike{strings.NewReader("Subject: x\r\n\r\nbody\r\n")}, 20, nil
		}
	}
	if _, err := cl.AppendMany(ctx, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	if extra := atLast - base; extra > 16 {
		t.Fatalf("%d goroutines (each with a 16 KiB buffer) held at the last message's Open for %d bodies already sent", extra, n-1)
	}
}

// review46JSlowBody is a message read from a slow source: each Read
// takes 10 ms (well less than writeGrace, 50 ms) and gives the whole
// message.
// It counts the Reads that start after the context's end.
type review46JSlowBody struct {
	r       io.Reader
	onFirst func()
	ctx     context.Context
	late    *atomic.Int32
}

func (b *review46JSlowBody) Read(p []byte) (int, error) {
	if b.onFirst != nil {
		b.onFirst()
		b.onFirst = nil
	}
	if b.ctx.Err() != nil {
		b.late.Add(1)
	}
	time.Sleep(10 * time.Millisecond)
	return b.r.Read(p)
}

// TestReview46JMultiAppendGracePerBody (found by review): a7af9e3 gives a
// body's reads writeGrace (50 ms) "in all from the first that found the
// context ended", but the grace was kept per body (ctxBody.graceEnd), not
// per command: in an AppendMany each body read after the context's end
// started a fresh 50 ms. The review's case: 30 small messages whose Reads
// took 30 ms each, the context cancelled as the first was read: the
// command went on reading one message after the other, all 30 (0.9 s past
// the context's end where a write gets 50 ms; with 1,000 messages, 30 s).
// Here 40 messages of 10 ms Reads (so that a fresh grace per body is
// never missed on a loaded machine): the grace belongs to the command now
// (bodyGroup), the Reads started after the cancel are those that fit in
// 50 ms (six at most, fewer on a loaded machine, whose slower Reads fit
// fewer), and the command is cut with the session aborted. Counted, not
// timed: a loaded machine only makes the count smaller. With the grace
// per body, all 40 are read.
func TestReview46JMultiAppendGracePerBody(t *testing.T) {
	const n = 40
	cl := review46DClient(t, "IMAP4rev1 MULTIAPPEND LITERAL+", review46JOKServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var late atomic.Int32
	msgs := make([]commands.AppendMessage, n)
	for i := range msgs {
		b := &review46JSlowBody{r: strings.NewReader("Subject: x\r\n\r\nbody\r\n"), ctx: ctx, late: &late}
		if i == 0 {
			b.onFirst = cancel
		}
		msgs[i] = commands.AppendMessage{R: b, Size: 20}
	}
	_, err := cl.AppendMany(ctx, "INBOX", msgs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendMany: %v", err)
	}
	if got := late.Load(); got > 15 {
		t.Fatalf("%d of %d bodies read after the context's end (AppendMany: %v): the grace (50 ms) is not the command's", got, n, err)
	}
	if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) {
		t.Fatalf("AppendMany: %v: not cut (ErrWriteCut, ErrAborted)", err)
	}
}
