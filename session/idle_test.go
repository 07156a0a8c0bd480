package session_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
)

// The IDLE tests below run with the default options, each in a
// testing/synctest bubble (idleBubble): the silent server is cut exactly
// one stall timeout after DONE on the bubble's clock (they ran the stall
// timeout 200 times faster on the wall clock, StallSpeed, and checked
// only that the cut came before a deadline of 20 of them).

// TestIdlePlusAfterDone: a "+" the server sends to IDLE after
// the client's DONE was counted as owed and never answered: the stall
// timer stayed off for good, and a server that then says nothing was never
// cut (IDLE is exempt from CommandTimeout: only the caller's context ends
// it). Once DONE is out, no "+" turns the timer off.
func TestIdlePlusAfterDone(t *testing.T) {
	idleBubble(t, false, "+ still idling\r\n", func(t *testing.T, ctx context.Context, p *session.Pending, _ chan struct{}) {
		select {
		case <-p.Continuations():
		case <-ctx.Done():
			t.Fatal("no continuation request")
		}
		idleDoneCut(t, ctx, p, "IDLE whose server sends \"+\" after DONE and then nothing")
	})
}

// TestIdleTwoPlusOneDone: two "+" to IDLE (some servers send a
// second one, as commands/idle.go notes), both taken by the caller, and
// one DONE: counted, the second "+" left the timer off after DONE, and a
// server silent after DONE was never cut. One line answers every "+"
// taken before it.
func TestIdleTwoPlusOneDone(t *testing.T) {
	idleBubble(t, true, "+ idling again\r\n", func(t *testing.T, ctx context.Context, p *session.Pending, second chan struct{}) {
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
		idleDoneCut(t, ctx, p, "IDLE given two \"+\", one DONE, then a silent server")
	})
}

// TestIdlePlusWaitingAtDone: IDLE's caller took the first "+";
// a second one waits in the channel, untaken, when DONE goes out. After
// DONE no "+" may be owed: Continue marks a "+" already in the channel
// owed (one routed while its line was flushed) only after it has set
// IDLE answering, so the silent server is still cut by the stall timeout.
func TestIdlePlusWaitingAtDone(t *testing.T) {
	// The second "+" goes out once the caller took the first: one that
	// came while the first still waited in the channel would abort the
	// session ("did not ask for one").
	idleBubble(t, true, "+ idling again\r\n", func(t *testing.T, ctx context.Context, p *session.Pending, took chan struct{}) {
		select {
		case <-p.Continuations():
		case <-ctx.Done():
			t.Fatal("no continuation request")
		}
		close(took)
		synctest.Wait() // the second "+" is read and routed
		if len(p.Continuations()) == 0 {
			t.Fatal("the second continuation request was not routed")
		}
		idleDoneCut(t, ctx, p, "IDLE with a \"+\" waiting at DONE, then a silent server")
	})
}

// idleBubble runs body in stallBubble (a bubble, the defaults) with the
// server of the IDLE tests above and IDLE started: the server greets,
// answers the IDLE line with "+ idling", and sends second: with gated,
// before DONE once the gate passed to body is closed; otherwise after
// DONE. Then it reads the rest in silence (a line other than DONE ends it
// there).
func idleBubble(t *testing.T, gated bool, second string, body func(t *testing.T, ctx context.Context, p *session.Pending, gate chan struct{})) {
	t.Helper()
	var gate chan struct{}
	dial := func(t *testing.T) net.Conn {
		if gated {
			gate = make(chan struct{}) // in the bubble
		}
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
	stallBubbleConn(t, dial, func(t *testing.T, s *session.Session, ctx context.Context) {
		p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
		if err != nil {
			t.Fatal(err)
		}
		body(t, ctx, p, gate)
	})
}

// idleDoneCut sends IDLE's DONE and fails unless the session is then
// cut by the stall timeout, exactly one after the DONE (the server's last
// bytes come at once).
func idleDoneCut(t *testing.T, ctx context.Context, p *session.Pending, what string) {
	t.Helper()
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	_, err := p.Wait(ctx)
	bubbleWantStall(t, what, err, time.Since(done))
}
