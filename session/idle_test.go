package session_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestReview45EIdlePlusAfterDone: a "+" the server sends to IDLE after
// the client's DONE was counted as owed and never answered: the stall
// timer stayed off for good, and a server that then says nothing was never
// cut (IDLE is exempt from CommandTimeout: only the caller's context ends
// it). Once DONE is out, no "+" turns the timer off. Default options, run
// 200 times faster.
func TestReview45EIdlePlusAfterDone(t *testing.T) {
	session.StallSpeed(t, 200)
	conn := idlePlusServer(t, nil, "+ still idling\r\n") // hostile: then silent
	ctx, p := idleStart(t, conn)
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation request")
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	_, err := p.Wait(ctx)
	e45WantStall(t, "IDLE whose server sends \"+\" after DONE and then nothing", err)
}

// TestReview45EIdleTwoPlusOneDone: two "+" to IDLE (some servers send a
// second one, as commands/idle.go notes), both taken by the caller, and
// one DONE: counted, the second "+" left the timer off after DONE, and a
// server silent after DONE was never cut. One line answers every "+"
// taken before it. Default options, run 200 times faster.
func TestReview45EIdleTwoPlusOneDone(t *testing.T) {
	session.StallSpeed(t, 200)
	second := make(chan struct{})
	conn := idlePlusServer(t, second, "+ idling again\r\n")
	ctx, p := idleStart(t, conn)
	for i := 0; i < 2; i++ {
		select {
		case <-p.Continuations():
		case <-ctx.Done():
			t.Fatal("no continuation request")
		}
		if i == 0 {
			close(second)
		}
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	_, err := p.Wait(ctx)
	e45WantStall(t, "IDLE given two \"+\", one DONE, then a silent server", err)
}

// TestReview45MIdlePlusWaitingAtDone: IDLE's caller took the first "+";
// a second one waits in the channel, untaken, when DONE goes out. After
// DONE no "+" may be owed: Continue marks a "+" already in the channel
// owed (one routed while its line was flushed) only after it has set
// IDLE answering, so the silent server is still cut by the stall timeout.
func TestReview45MIdlePlusWaitingAtDone(t *testing.T) {
	session.StallSpeed(t, 200)
	// The second "+" goes out once the caller took the first: one that
	// came while the first still waited in the channel would abort the
	// session ("did not ask for one"), which a loaded machine did (1 run
	// in 40): the test then never saw it routed.
	took := make(chan struct{})
	conn := idlePlusServer(t, took, "+ idling again\r\n")
	ctx, p := idleStart(t, conn)
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation request")
	}
	close(took)
	for len(p.Continuations()) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the second continuation request was not routed")
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	_, err := p.Wait(ctx)
	e45WantStall(t, "IDLE with a \"+\" waiting at DONE, then a silent server", err)
}

// idlePlusServer is the server of the IDLE tests above: it greets, answers the
// IDLE line with "+ idling", and sends a second line: once gate is closed,
// before DONE; or, with gate nil, after DONE. Then it reads the rest in
// silence (a line other than DONE ends it there).
func idlePlusServer(t *testing.T, gate <-chan struct{}, second string) net.Conn {
	t.Helper()
	return fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		readLine(r)
		io.WriteString(w, "+ idling\r\n")
		if gate != nil {
			<-gate
			io.WriteString(w, second)
		}
		if readLine(r) != "DONE" {
			return
		}
		if gate == nil {
			io.WriteString(w, second)
		}
		io.Copy(io.Discard, r) // silent after DONE
	})
}

// idleStart opens a session (the defaults) on conn and starts IDLE in it,
// with a context of e45Deadline; the session ends with the test.
func idleStart(t *testing.T, conn net.Conn) (context.Context, *session.Pending) {
	t.Helper()
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), e45Deadline)
	t.Cleanup(cancel)
	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, p
}
