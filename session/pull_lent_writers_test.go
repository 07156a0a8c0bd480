package session_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The tests here are TestPulledLentWriteNotStuck's (pull_lent_write_test.go)
// for the other ways bytes go to the server, and for a wait in Wait (not
// on Done or Continuations, which cannot tell a wait from a poll): a
// pulled command's caller holds a lent item, or leaves its queue full,
// and the reader goroutine, parked for it, must go on for a goroutine
// that writes (the server may not read before it has written the rest of
// its answer) or waits for another command's end. Found by review (stop
// 51, lost wake-ups). Library defaults throughout: the bounds are the
// library's (the write stall, 4 min; CommandTimeout, 15 min), and the
// bubble's clock reaches them at once when everything waits.

// lentServer is a scripted server for the tests here, over transport.Pipe
// (LITERAL+ announced). It reads the first n commands, then
// writes "* SEARCH 1" (lent to the pulled command's caller, who holds it),
// then the rest of the first command's answer before it reads on: items
// SEARCH lines of about 1000 bytes (past the pipe's buffer, and past
// pullQueue, so that the reader parks on a full queue if it ever went on),
// then its tagged OK. From then on it answers each command OK, reading
// an APPEND's LITERAL+ body and a continuation line after a "+" it sends
// for XCONT.
func lentServer(t *testing.T, srv io.ReadWriteCloser, n, items int) {
	t.Helper()
	defer srv.Close()
	io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
	r := bufio.NewReaderSize(srv, 64<<10)
	// readCommand reads a command and returns its tag and name, its
	// LITERAL+ body skipped.
	readCommand := func() (tag, name string) {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", ""
		}
		tag, rest, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
		if i := strings.LastIndexByte(line, '{'); i >= 0 && strings.HasSuffix(line, "+}\r\n") {
			n, err := strconv.ParseInt(line[i+1:len(line)-4], 10, 64)
			if err != nil {
				return "", ""
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return "", ""
			}
			if _, err := r.ReadString('\n'); err != nil {
				return "", ""
			}
		}
		return tag, name
	}
	var tags, names []string
	for range n {
		tag, name := readCommand()
		if tag == "" {
			return
		}
		if name == "XCONT" {
			io.WriteString(srv, "+ go on\r\n")
		}
		tags, names = append(tags, tag), append(names, name)
	}
	io.WriteString(srv, "* SEARCH 1\r\n")
	line := "* SEARCH " + strings.TrimSpace(strings.Repeat("2 ", 495)) + "\r\n"
	for range items {
		if _, err := io.WriteString(srv, line); err != nil {
			return
		}
	}
	io.WriteString(srv, tags[0]+" OK done\r\n")
	answer := func(tag, name string) bool {
		if name == "XCONT" {
			// Its continuation line, then its OK.
			if _, err := r.ReadString('\n'); err != nil {
				return false
			}
		}
		_, err := io.WriteString(srv, tag+" OK done\r\n")
		return err == nil
	}
	for i := 1; i < len(tags); i++ {
		if !answer(tags[i], names[i]) {
			return
		}
	}
	for {
		tag, name := readCommand()
		if tag == "" || !answer(tag, name) {
			return
		}
	}
}

// lentSession opens a session, with the defaults, on lentServer(n,
// items) over transport.Pipe, in the calling test's bubble; it is closed,
// and the server waited for, when the test ends.
func lentSession(t *testing.T, n, items int) *session.Session {
	t.Helper()
	c, srv := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		lentServer(t, srv, n, items)
	}()
	s, err := session.Open(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		<-srvDone
	})
	return s
}

// startHeld starts the pulled command of the tests here and takes its
// first item, which the caller holds: the reader goroutine is parked,
// lent to it.
func startHeld(t *testing.T, s *session.Session) *session.Pending {
	t.Helper()
	ctx := context.Background()
	p, err := s.Start(ctx, &session.Command{Name: "NOOP", Pull: true,
		Want: func(r codec.Response) bool { _, ok := r.(*codec.Search); return ok }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPulledLentBatchFlushNotStuck: StartBatch flushes what its earlier
// commands left in the write buffer before a later one waits for its
// turn (register's flush). That write, like a command's, may wait for a
// server that writes the rest of an answer before it reads on, while the
// reader is parked for a pulled command's caller who holds a lent item:
// an APPEND that just fits in the connection's buffer, a NOOP of 12 KiB
// left in the write buffer, and a command that runs alone (it waits for
// the pulled command, so the batch flushes first). Before the fix the
// flush waited for the write stall bound and the session was aborted.
func TestPulledLentBatchFlushNotStuck(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		ctx := context.Background()
		s := lentSession(t, 1, transport.PipeBufferSize*3/2/1000)
		p := startHeld(t, s)
		if _, err := p.Next(ctx); err != nil { // lent, and held
			t.Fatal(err)
		}
		synctest.Wait() // the server blocks writing: the reader is parked
		// The APPEND leaves 8 KiB of the pipe free, less its line: it
		// goes out at once (it is larger than the write buffer) and
		// does not wait. The NOOP stays in the write buffer, larger
		// than what the pipe has left.
		msg := strings.Repeat("y", transport.PipeBufferSize-8<<10)
		ps, err := s.StartBatch(ctx, []*session.Command{
			{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Raw("INBOX").SP().Literal([]byte(msg)) }},
			{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Raw(strings.Repeat("n", 12<<10)) }},
			{Name: "XALONE"}, // unknown: runs alone, waits for the rest
		})
		if err != nil {
			t.Fatalf("StartBatch beside a held pulled item: %v", err)
		}
		for _, q := range ps {
			if _, err := q.Wait(ctx); err != nil {
				t.Fatalf("%s: %v", q.Tag(), err)
			}
		}
		if err := drainPulled(ctx, p); err != nil {
			t.Fatalf("the pulled command: %v", err)
		}
	})
}

// TestPulledLentContinueNotStuck: Continue (a line in answer to a "+":
// IDLE's DONE, a SASL response, a command of the caller's that takes
// continuations) writes to the server as a command does, and may wait as
// one does for a server that writes the rest of another command's answer
// before it reads on, while the reader is parked for that command's
// caller, who holds a lent item. Here a line past the connection's
// buffer, for a command whose Rules take continuations and that does not
// run alone. Before the fix Continue waited for the write stall bound
// and the session was aborted.
func TestPulledLentContinueNotStuck(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		ctx := context.Background()
		s := lentSession(t, 2, transport.PipeBufferSize*3/2/1000)
		p := startHeld(t, s)
		x, err := s.Start(ctx, &session.Command{Name: "XCONT", Rules: &session.Rules{Continuations: true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Next(ctx); err != nil { // the "+" went to x; this is lent, and held
			t.Fatal(err)
		}
		<-x.Continuations()
		synctest.Wait() // the server blocks writing: the reader is parked
		if err := x.Continue(ctx, []byte(strings.Repeat("z", transport.PipeBufferSize*3/2))); err != nil {
			t.Fatalf("Continue beside a held pulled item: %v", err)
		}
		if _, err := x.Wait(ctx); err != nil {
			t.Fatalf("XCONT: %v", err)
		}
		if err := drainPulled(ctx, p); err != nil {
			t.Fatalf("the pulled command: %v", err)
		}
	})
}

// TestPulledLentWaitNotStuck: a caller that holds a lent item of a
// pulled command and waits, in Wait, for a plain command started beside
// it: the reader goes on for it (Wait counts as demand; the held item is
// kept valid first), also when the pulled answer fills the connection
// (the server writes it all before it reads on). Done, which cannot tell a
// wait from a poll, does not (TestPulledBodyStreamsBesideDonePolled).
func TestPulledLentWaitNotStuck(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		ctx := context.Background()
		s := lentSession(t, 2, 200)
		p := startHeld(t, s)
		q, err := s.Start(ctx, &session.Command{Name: "NOOP"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Next(ctx); err != nil { // lent, and held
			t.Fatal(err)
		}
		synctest.Wait()
		start := time.Now()
		if _, err := q.Wait(ctx); err != nil {
			t.Fatalf("NOOP, %v after Wait began (the bubble's clock): %v", time.Since(start), err)
		}
		if err := drainPulled(ctx, p); err != nil {
			t.Fatalf("the pulled command: %v", err)
		}
	})
}

// TestPulledLentFlushBehindNotStuck: a writer whose context ended while it
// waited for the write lock flushes what the command before it left in
// the write buffer counting on it (flushBehind, on a goroutine of its
// own: since stop 52 also when the lock is free), and that write, like a command's, may
// wait for a server that writes the rest of an answer before it reads on,
// while the reader is parked for a pulled command's caller who holds a
// lent item. Here an APPEND that just fits in the connection's buffer and
// a NOOP of 12 KiB left in the write buffer (FlushBehindAfter counts the
// writer that gives up). Before the fix the flush waited for the write
// stall bound and the session was aborted.
func TestPulledLentFlushBehindNotStuck(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		ctx := context.Background()
		s := lentSession(t, 1, transport.PipeBufferSize*3/2/1000)
		p := startHeld(t, s)
		if _, err := p.Next(ctx); err != nil { // lent, and held
			t.Fatal(err)
		}
		synctest.Wait() // the server blocks writing: the reader is parked
		msg := strings.Repeat("y", transport.PipeBufferSize-8<<10)
		a, err := s.Start(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Raw("INBOX").SP().Literal([]byte(msg)) }})
		if err != nil {
			t.Fatal(err)
		}
		var n *session.Pending
		session.FlushBehindAfter(s, func() {
			n, err = s.Start(ctx, &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Raw(strings.Repeat("n", 12<<10)) }})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []*session.Pending{a, n} {
			if _, err := q.Wait(ctx); err != nil {
				t.Fatalf("%s: %v", q.Tag(), err)
			}
		}
		if err := drainPulled(ctx, p); err != nil {
			t.Fatalf("the pulled command: %v", err)
		}
	})
}

// TestPulledBodyStreamsBesideDonePolled (found by review, stop 51): a
// caller streams the body of a pulled FETCH and, beside it, only POLLS a
// NOOP's Done (a select with a default, or with a timeout that fired): it
// does not wait for the NOOP. A first form of the lost wake-up fixes
// marked a command whose Done was asked for as waited on until it ended
// (which it cannot before the body is read), and the reader went on for
// it as for a caller in Wait: the streamed body was read into memory, and
// past MaxResultBytes the FETCH failed, where it streams. MaxResultBytes
// is 1 MiB (a 2 MiB body) only to keep the test cheap: with the default
// the same happened for a 65 MiB body.
func TestPulledBodyStreamsBesideDonePolled(t *testing.T) {
	const size = 2 << 20
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		c, srv := transport.Pipe()
		srvDone := make(chan struct{})
		go func() {
			defer close(srvDone)
			defer srv.Close()
			io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
			r := bufio.NewReader(srv)
			var tags []string
			for len(tags) < 2 {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				tags = append(tags, tag)
			}
			fmt.Fprintf(srv, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", size)
			chunk := strings.Repeat("x", 64<<10)
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := io.WriteString(srv, chunk); err != nil {
					return
				}
			}
			io.WriteString(srv, ")\r\n"+tags[0]+" OK done\r\n"+tags[1]+" OK done\r\n")
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				io.WriteString(srv, tag+" OK done\r\n")
			}
		}()
		ctx := context.Background()
		s, err := session.Open(ctx, c, &session.Options{MaxResultBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			s.Close()
			<-srvDone
		}()
		p, err := s.Start(ctx, &session.Command{Name: "UID", AnyState: true, Pull: true,
			Args: func(e *wire.Encoder) { e.SP().Raw("FETCH 1 (UID BODY.PEEK[])") }})
		if err != nil {
			t.Fatal(err)
		}
		q, err := s.Start(ctx, &session.Command{Name: "NOOP"})
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("body item %+v, %v", it, err)
		}
		// A poll, not a wait: the NOOP's answer comes after the body.
		select {
		case <-q.Done():
			t.Fatal("NOOP done before the body was read")
		default:
		}
		synctest.Wait()
		n, err := io.Copy(io.Discard, it.Body)
		if err != nil || n != size {
			t.Fatalf("body read: %d of %d bytes, %v (the reader went on for a NOOP whose Done was only polled, and read the body into memory)", n, size, err)
		}
		if err := drainPulled(ctx, p); err != nil {
			t.Fatalf("FETCH: %v", err)
		}
		if _, err := q.Wait(ctx); err != nil {
			t.Fatalf("NOOP: %v", err)
		}
	})
}

// TestPulledLentContinuationsHeld (from a review, stop 51): a wait on a
// command's Continuations channel, like one on Done, does not make the
// reader go on while a pulled command's caller holds a lent item (a
// channel cannot tell a wait from a poll: see Pending.Done); the "+" comes
// once the item is released. Here a command whose Rules take
// continuations (not run alone), sent after the pulled one, whose "+" the
// server sends after the pulled command's answer (1.5 MiB of SEARCH
// lines); another goroutine takes the held item's successors (Next) and
// the "+" arrives, the exchange ends and both commands complete.
func TestPulledLentContinuationsHeld(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
		c, srv := transport.Pipe()
		srvDone := make(chan struct{})
		go func() {
			defer close(srvDone)
			defer srv.Close()
			io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
			r := bufio.NewReader(srv)
			var tags []string
			for len(tags) < 2 {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				tags = append(tags, tag)
			}
			io.WriteString(srv, "* SEARCH 1\r\n")
			line := "* SEARCH " + strings.TrimSpace(strings.Repeat("2 ", 495)) + "\r\n"
			for range transport.PipeBufferSize * 3 / 2 / 1000 {
				if _, err := io.WriteString(srv, line); err != nil {
					return
				}
			}
			io.WriteString(srv, tags[0]+" OK done\r\n+ go on\r\n")
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			io.WriteString(srv, tags[1]+" OK done\r\n")
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				io.WriteString(srv, tag+" OK done\r\n")
			}
		}()
		ctx := context.Background()
		s, err := session.Open(ctx, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			s.Close()
			<-srvDone
		}()
		p := startHeld(t, s)
		x, err := s.Start(ctx, &session.Command{Name: "XCONT", Rules: &session.Rules{Continuations: true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Next(ctx); err != nil { // lent, and held
			t.Fatal(err)
		}
		synctest.Wait() // the server blocks writing: the reader is parked
		drained := make(chan error, 1)
		go func() { drained <- drainPulled(ctx, p) }() // releases the item
		start := time.Now()
		select {
		case <-x.Continuations():
		case <-time.After(2 * time.Minute):
			t.Fatalf("XCONT's \"+\" not seen %v after the held item was released (the bubble's clock; session: %v)", time.Since(start), s.Err())
		}
		if err := x.Continue(ctx, []byte("z")); err != nil {
			t.Fatalf("Continue: %v", err)
		}
		if _, err := x.Wait(ctx); err != nil {
			t.Fatalf("XCONT: %v", err)
		}
		if err := <-drained; err != nil {
			t.Fatalf("the pulled command: %v", err)
		}
	})
}
