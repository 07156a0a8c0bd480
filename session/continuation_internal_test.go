package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// contFlags is a snapshot of a command's continuation flags.
type contFlags struct {
	held, owed, waiter, taken, refusing, answering, abandoned bool
	queued                                                    int // "+" waiting in the channel
}

// readContFlags takes a snapshot under s.mu and checks the invariant written at
// Pending.contOwed's declaration.
func readContFlags(t *testing.T, p *Pending, where string) contFlags {
	t.Helper()
	p.s.mu.Lock()
	f := contFlags{held: p.contHeld, owed: p.contOwed, waiter: p.contWaiter, taken: p.contTaken,
		refusing: p.refusing, answering: p.answering, abandoned: p.abandoned.Load(), queued: len(p.cont)}
	p.s.mu.Unlock()
	switch {
	case f.owed && !f.held:
		t.Errorf("%s: owed but not held: %+v", where, f)
	case f.owed && !(f.waiter || f.taken):
		t.Errorf("%s: owed with no answerer: %+v", where, f)
	case f.owed && (f.refusing || f.answering || f.abandoned):
		t.Errorf("%s: owed while refusing, answering or abandoned: %+v", where, f)
	case f.waiter && f.taken:
		t.Errorf("%s: two answerers: %+v", where, f)
	case f.refusing && (f.waiter || f.taken || f.owed):
		t.Errorf("%s: an answerer besides the refusal: %+v", where, f)
	}
	return f
}

// wantContFlags checks a snapshot's flags against want (queued and abandoned
// aside unless set in want).
func wantContFlags(t *testing.T, p *Pending, where string, want contFlags) {
	t.Helper()
	got := readContFlags(t, p, where)
	got.queued = want.queued
	if !want.abandoned {
		got.abandoned = false
	}
	if got != want {
		t.Errorf("%s: flags %+v; want %+v", where, got, want)
	}
}

// internalHang bounds a wait of the package's internal tests only to stop
// a real hang (the external tests' hangBound, leakcheck.Hang): a loaded
// 2-core CI may take any time short of it, and a wait returns as soon as
// what it waits for has happened.
const internalHang = time.Minute

// untilContFlags waits (yielding, no sleep) until cond holds of p's flags; a
// bound of internalHang against a hang, not a timing.
func untilContFlags(t *testing.T, p *Pending, what string, cond func(contFlags) bool) {
	t.Helper()
	for deadline := time.Now().Add(internalHang); !cond(readContFlags(t, p, what)); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// lineServer is the server's end of a transport.Pipe a test scripts: it
// sends lines, and reads one by one the lines the client sends.
type lineServer struct {
	t     *testing.T
	conn  net.Conn
	lines chan string
}

// newLineServer returns the client's end of a transport.Pipe and its
// scripted server end; the test's cleanup closes both and waits for the
// server's reader.
func newLineServer(t *testing.T) (net.Conn, *lineServer) {
	client, server := transport.Pipe()
	sv := &lineServer{t: t, conn: server, lines: make(chan string, 16)}
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer close(sv.lines)
		r := bufio.NewReader(server)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			sv.lines <- strings.TrimRight(l, "\r\n")
		}
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	return client, sv
}

// send writes the line l, CRLF added, to the client.
func (sv *lineServer) send(l string) { io.WriteString(sv.conn, l+"\r\n") }

// next returns the next line the client sent ("" once it closed). The
// test fails when none comes within internalHang: a bound for a failing
// run, not a timing.
func (sv *lineServer) next() string {
	sv.t.Helper()
	select {
	case l := <-sv.lines:
		return l
	case <-time.After(internalHang):
		sv.t.Fatal("the client sent nothing")
	}
	return ""
}

// nextTag returns the tag of the next line the client sent.
func (sv *lineServer) nextTag() string {
	sv.t.Helper()
	tag, _, _ := strings.Cut(sv.next(), " ")
	return tag
}

// TestContFlagsTransitions drives every transition of the
// continuation flags (Pending.contOwed's declaration) over a scripted
// server and checks the invariant and the expected flags after each:
// a "+" routed with no answerer, with a caller, with Wait's OnContinue,
// to a refused command and to IDLE after DONE; an answerer arriving with
// a "+" waiting (Continuations, Wait); Continue; OnContinue's error
// (noAnswerer); RefuseContinuations with a taken "+"; Continuations after
// it; an abandoned Wait (which refuses, with OnContinue); a pulled
// command abandoned by Next with a taken "+" (added after review: it kept
// contOwed), then refused. Defaults.
func TestContFlagsTransitions(t *testing.T) {
	client, sv := newLineServer(t)
	send := sv.send
	line := func(want string) {
		t.Helper()
		if l := sv.next(); want != "" && l != want {
			t.Fatalf("client sent %q; want %q", l, want)
		}
	}
	send("* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi")
	ctx, cancel := context.WithTimeout(context.Background(), internalHang)
	defer cancel()
	s, err := Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	auth := func(onContinue func([]byte) ([]byte, error)) *Command {
		return &Command{Name: "AUTHENTICATE", AnyState: true, OnContinue: onContinue,
			Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }}
	}

	// The caller answers (Continuations).
	p, err := s.Start(ctx, auth(nil))
	if err != nil {
		t.Fatal(err)
	}
	tag := sv.nextTag()
	send("+ a")
	untilContFlags(t, p, "route, no answerer", func(f contFlags) bool { return f.queued == 1 })
	wantContFlags(t, p, "route, no answerer", contFlags{held: true})
	ch := p.Continuations()
	wantContFlags(t, p, "Continuations with a \"+\" waiting", contFlags{held: true, owed: true, taken: true})
	<-ch
	wantContFlags(t, p, "taken, not answered", contFlags{held: true, owed: true, taken: true})
	if err := p.Continue(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	line("x")
	wantContFlags(t, p, "Continue", contFlags{taken: true})
	send("+ b")
	<-ch
	wantContFlags(t, p, "route, the caller answers", contFlags{held: true, owed: true, taken: true})
	p.RefuseContinuations()
	// held until the refusal's goroutine has answered it (any time now)
	if f := readContFlags(t, p, "RefuseContinuations, a \"+\" taken"); (f != contFlags{held: true, refusing: true}) && (f != contFlags{refusing: true}) {
		t.Errorf("RefuseContinuations, a \"+\" taken: flags %+v", f)
	}
	line("*")
	untilContFlags(t, p, "the refusal's Continue", func(f contFlags) bool { return !f.held })
	if p.Continuations() == nil {
		t.Error("Continuations after RefuseContinuations is nil")
	}
	wantContFlags(t, p, "Continuations after RefuseContinuations", contFlags{refusing: true})
	send("+ c")
	line("*")
	untilContFlags(t, p, "route while refusing, answered", func(f contFlags) bool { return !f.held })
	wantContFlags(t, p, "route while refusing, answered", contFlags{refusing: true})
	send(tag + " BAD cancelled")
	if _, err := p.Wait(ctx); err == nil {
		t.Error("Wait: no error for a BAD")
	}

	// Wait answers (OnContinue): a "+" waiting before Wait, OnContinue's
	// response, a "+" routed to it, OnContinue's error.
	var inside []contFlags
	var p2 *Pending
	calls := 0
	p2, err = s.Start(ctx, auth(func([]byte) ([]byte, error) {
		inside = append(inside, readContFlags(t, p2, "in OnContinue"))
		if calls++; calls == 1 {
			return []byte("y"), nil
		}
		return nil, errors.New("gives up")
	}))
	if err != nil {
		t.Fatal(err)
	}
	tag = sv.nextTag()
	if p2.Continuations() != nil {
		t.Error("Continuations of a command with OnContinue is not nil")
	}
	send("+ d")
	untilContFlags(t, p2, "route before Wait", func(f contFlags) bool { return f.queued == 1 })
	wantContFlags(t, p2, "route before Wait", contFlags{held: true})
	waited := make(chan error, 1)
	go func() {
		_, err := p2.Wait(ctx)
		waited <- err
	}()
	line("y")
	send("+ e")
	line("*")
	untilContFlags(t, p2, "OnContinue's error (noAnswerer)", func(f contFlags) bool { return !f.waiter })
	wantContFlags(t, p2, "OnContinue's error (noAnswerer)", contFlags{})
	send("+ f")
	untilContFlags(t, p2, "route after noAnswerer", func(f contFlags) bool { return f.queued == 1 })
	wantContFlags(t, p2, "route after noAnswerer", contFlags{held: true})
	send(tag + " NO cancelled")
	if err := <-waited; err == nil {
		t.Error("Wait: no error")
	}
	want := []contFlags{{held: true, owed: true, waiter: true}, {held: true, owed: true, waiter: true}}
	if len(inside) != 2 || inside[0] != want[0] || inside[1] != want[1] {
		t.Errorf("flags in OnContinue %+v; want %+v (owed when Wait came, then when routed)", inside, want)
	}

	// An abandoned Wait with OnContinue: it refuses.
	p3, err := s.Start(ctx, auth(func([]byte) ([]byte, error) { return []byte("z"), nil }))
	if err != nil {
		t.Fatal(err)
	}
	tag = sv.nextTag()
	wctx, wcancel := context.WithCancel(ctx)
	go func() {
		_, err := p3.Wait(wctx)
		waited <- err
	}()
	untilContFlags(t, p3, "Wait with OnContinue", func(f contFlags) bool { return f.waiter })
	wantContFlags(t, p3, "Wait with OnContinue", contFlags{waiter: true})
	wcancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Wait: %v", err)
	}
	wantContFlags(t, p3, "abandoned Wait", contFlags{refusing: true, abandoned: true})
	send("+ g")
	line("*")
	untilContFlags(t, p3, "route after the abandoned Wait, refused", func(f contFlags) bool { return !f.held })
	wantContFlags(t, p3, "route after the abandoned Wait, refused", contFlags{refusing: true, abandoned: true})
	send(tag + " BAD cancelled")
	untilContFlags(t, p3, "the end", func(contFlags) bool {
		select {
		case <-p3.Done():
			return true
		default:
			return false
		}
	})

	// A pulled command given up by Next's context, its taken "+"
	// unanswered (found by review): abandoning clears the answerer as an
	// abandoned Wait does and keeps contHeld, so RefuseContinuations
	// still answers the "+".
	p5, err := s.Start(ctx, &Command{Name: "XCONT", Pull: true, Rules: &Rules{Alone: true, Continuations: true}})
	if err != nil {
		t.Fatal(err)
	}
	tag = sv.nextTag()
	nctx, ncancel := context.WithCancel(ctx)
	go func() {
		for {
			if _, err := p5.Next(nctx); err != nil {
				waited <- err
				return
			}
		}
	}()
	ch = p5.Continuations()
	send("+ h")
	<-ch
	wantContFlags(t, p5, "pulled, \"+\" taken", contFlags{held: true, owed: true, taken: true})
	ncancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Next: %v", err)
	}
	wantContFlags(t, p5, "abandoned Next", contFlags{held: true, abandoned: true})
	p5.RefuseContinuations()
	line("*")
	untilContFlags(t, p5, "the refusal after the abandoned Next", func(f contFlags) bool { return !f.held })
	wantContFlags(t, p5, "the refusal after the abandoned Next", contFlags{refusing: true, abandoned: true})
	send(tag + " BAD cancelled")
	select {
	case <-p5.Done():
	case <-time.After(internalHang): // a bound for a failing run
		t.Fatal("the abandoned pulled command never ended")
	}

	// IDLE: DONE makes it answering; a "+" after it is held, not owed.
	p4, err := s.Start(ctx, &Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	tag = sv.nextTag()
	ch = p4.Continuations()
	send("+ idling")
	<-ch
	wantContFlags(t, p4, "IDLE's \"+\" taken", contFlags{held: true, owed: true, taken: true})
	if err := p4.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	line("DONE")
	wantContFlags(t, p4, "DONE", contFlags{taken: true, answering: true})
	send("+ again")
	<-ch
	wantContFlags(t, p4, "route after DONE", contFlags{held: true, taken: true, answering: true})
	send(tag + " OK done")
	if _, err := p4.Wait(ctx); err != nil {
		t.Errorf("IDLE: %v", err)
	}
}

// TestContFlagsInvariantPulledAbandoned (found by review): the invariant
// written at contOwed's declaration ("never set once the command is
// abandoned") was broken by a pulled command (Command.Pull) that takes
// continuations, whose caller took its "+" from Continuations (owed), given
// up by Next's context (abandoned): Next's ctx.Err branch set abandoned and
// left the flags as they were, so the stall timeout stayed off for a "+"
// whose answerer had gone (TestPulledAbandonedOwedPlusStallOff
// shows the hang). Now Next abandons as Wait does (abandonLocked): the
// answerer flags are cleared, contHeld kept, the stall timer armed.
// Defaults.
func TestContFlagsInvariantPulledAbandoned(t *testing.T) {
	client, server := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		io.WriteString(server, "+ go on\r\n")
		io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	s, err := Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(context.Background(), &Command{Name: "XCONT", Pull: true,
		Rules: &Rules{Alone: true, Continuations: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		for {
			if _, err := p.Next(ctx); err != nil {
				gone <- err
				return
			}
		}
	}()
	select {
	case <-p.Continuations():
	case <-time.After(internalHang):
		t.Fatal("no \"+\"")
	}
	wantContFlags(t, p, "taken, not answered", contFlags{held: true, owed: true, taken: true})
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next: %v", err)
	}
	wantContFlags(t, p, "abandoned by Next, the taken \"+\" unanswered", contFlags{held: true, abandoned: true})
	f := readContFlags(t, p, "abandoned by Next, the taken \"+\" unanswered")
	s.mu.Lock()
	armed := s.counts.waits == 0 && s.stallOwedLocked()
	s.mu.Unlock()
	if !armed {
		t.Errorf("stall timeout off after the command was abandoned (flags %+v)", f)
	}
}

// TestBodyEndedOwedPlus: the other way a pulled command is
// abandoned, a body read after the context of the Next that handed it out
// ended (pullBody.ended), clears the answerer as Next's and Wait's do
// (abandonLocked): a "+" the caller took and left unanswered is no longer
// owed, the stall timeout is armed, and RefuseContinuations still answers
// it ("*"). Before, ended set abandoned and left contOwed set, the stall
// timer off until CommandTimeout. Defaults.
func TestBodyEndedOwedPlus(t *testing.T) {
	client, server := transport.Pipe()
	lines := make(chan string, 4)
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer close(lines)
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		// A "+" and a FETCH whose body stops after 1000 of its 100000
		// bytes: the body stays on the connection, lent to the caller.
		io.WriteString(server, "+ go on\r\n* 1 FETCH (UID 1 BODY[] {100000}\r\n"+strings.Repeat("y", 1000))
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimRight(l, "\r\n")
		}
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-srvDone })
	s, err := Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(context.Background(), &Command{Name: "XCONT", Pull: true,
		Rules: &Rules{Alone: true, Continuations: true, Data: []string{"FETCH"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it, err := p.Next(ctx)
	if err != nil || it.Body == nil {
		t.Fatalf("Next: %+v %v", it, err)
	}
	select {
	case <-p.Continuations():
	case <-time.After(internalHang): // a bound for a failing run
		t.Fatal("no \"+\"")
	}
	wantContFlags(t, p, "\"+\" taken, a body held", contFlags{held: true, owed: true, taken: true})
	cancel()
	if _, err := it.Body.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("body read after its context ended: %v", err)
	}
	wantContFlags(t, p, "body ended, the taken \"+\" unanswered", contFlags{held: true, abandoned: true})
	s.mu.Lock()
	armed := s.counts.waits == 0 && s.stallOwedLocked()
	s.mu.Unlock()
	if !armed {
		t.Error("stall timeout off after the body's context ended")
	}
	p.RefuseContinuations()
	select {
	case l := <-lines:
		if l != "*" {
			t.Errorf("client sent %q; want \"*\"", l)
		}
	case <-time.After(internalHang): // a bound for a failing run
		t.Error("the taken \"+\" was never refused")
	}
}

// openRefusalBlocked sets refuseTimeout to 0.2 s (testRefuseTimeout,
// for the test) and opens a session, with the defaults, on a net.Pipe
// (unbuffered) server that answers the first command with a "+" and then
// reads nothing more: a "*" refusing it blocks. srvDone is closed once
// the server has sent the "+" (it reads no more). The session ends with
// the test.
func openRefusalBlocked(t *testing.T) (s *Session, srvDone <-chan struct{}) {
	t.Helper()
	testRefuseTimeout = 200 * time.Millisecond
	t.Cleanup(func() { testRefuseTimeout = 0 })
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		io.WriteString(server, "+ go on\r\n")
		// and reads nothing more: the "*" write blocks
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-done })
	s, err := Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, done
}

// TestRefuseWriteBounded: the "*" RefuseContinuations sends is
// bounded by refuseTimeout: a server that stops reading (the write
// blocks) has the write cut at that bound and the session ended, not left
// to the write side's stall timeout (60 s) or forever. refuseTimeout (a
// constant, 10 s) stands at 0.2 s here through the package's test hook
// (testRefuseTimeout, no user option); the session ending within 10 s is a
// bound for a failing run, not a timing. net.Pipe: unbuffered, so the
// write blocks as soon as the server stops reading.
func TestRefuseWriteBounded(t *testing.T) {
	s, srvDone := openRefusalBlocked(t)
	p, err := s.Start(context.Background(), &Command{Name: "XCONT", Rules: &Rules{Alone: true, Continuations: true}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-time.After(internalHang): // a bound for a failing run
		t.Fatal("no \"+\"")
	}
	<-srvDone // the server reads no more
	p.RefuseContinuations()
	select {
	case <-s.Done():
	case <-time.After(internalHang): // a bound for a failing run
		t.Fatal("the blocked \"*\" write was not cut at refuseTimeout (0.2 s here): the session goes on")
	}
	if _, err := p.Wait(context.Background()); err == nil {
		t.Error("Wait: no error after the session ended")
	}
}

// TestContFlagsDuringContinueWrite: the invariant readContFlags checks
// holds while Continue's line is written too. Continue cleared contHeld as
// it committed to writing and contOwed only once the line was out, so
// from the one to the other (the whole write, which waits for the server
// to read) the flags said "owed but not held"; TestContFlagsTransitions
// saw it on a loaded machine, its poll running before Continue took the
// lock back. Checked at the hook after the flush, before that lock: not
// parallel (the hook is the process's).
func TestContFlagsDuringContinueWrite(t *testing.T) {
	client, sv := newLineServer(t)
	sv.send("* PREAUTH [CAPABILITY IMAP4rev1] hi")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Start(ctx, &Command{Name: "AUTHENTICATE", AnyState: true,
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
	if err != nil {
		t.Fatal(err)
	}
	tag := sv.nextTag()
	ch := p.Continuations()
	sv.send("+ a")
	<-ch
	wantContFlags(t, p, "taken, not answered", contFlags{held: true, owed: true, taken: true})
	hook := func(hp *Pending) {
		if hp == p {
			readContFlags(t, p, "Continue's line flushed")
		}
	}
	testHookContinueFlushed.Store(&hook)
	defer testHookContinueFlushed.Store(nil)
	if err := p.Continue(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if l := sv.next(); l != "x" {
		t.Fatalf("client sent %q; want \"x\"", l)
	}
	wantContFlags(t, p, "Continue", contFlags{taken: true})
	sv.send(tag + " OK [CAPABILITY IMAP4rev1] done")
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Close's LOGOUT: the scripted server answers it.
	go func() {
		if tag := sv.nextTag(); tag != "" {
			sv.send("* BYE bye")
			sv.send(tag + " OK done")
		}
	}()
}

// TestRefuseHeldChallengeLeavesNoAnswerer: RefuseContinuations on an
// AUTHENTICATE whose OK came with a challenge the caller took from
// Continuations (the held case, which refuses it and aborts the session)
// keeps the invariant at Pending.contOwed's declaration that owedLocked
// relies on: refusing leaves no answerer (contTaken cleared), as the
// refusal of a command in flight does. Library defaults.
func TestRefuseHeldChallengeLeavesNoAnswerer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p, _ := startEarlyOK(t, true, nil)
		defer s.Close()
		<-p.Done()
		<-p.Continuations() // the caller takes the challenge: contTaken
		p.RefuseContinuations()
		readContFlags(t, p, "RefuseContinuations of a held challenge the caller took")
		<-s.Done()
	})
}
