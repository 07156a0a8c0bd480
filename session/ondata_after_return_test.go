package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestOnDataNotRunAfterCancelledWaitReturned: a command's OnData fills
// its caller's result (package commands' Move and Expunge do). When the
// caller's context ends while the session is in an OnData of the command
// (read before the caller gave up), Wait returns only once that OnData
// has returned, and no OnData of the command runs after: what the caller
// reads of its result once Wait returned no longer changes. The OnData
// holds on a channel (the reader is in it as the context ends); the
// bubble's synctest.Wait lets a Wait that returns at once do so before
// the OnData is let go, so no run of the race is left to chance.
func TestOnDataNotRunAfterCancelledWaitReturned(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		line, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(w, "* LIST () \"/\" a\r\n* LIST () \"/\" b\r\n")
		io.WriteString(w, tag+" OK done\r\n")
		line, _ = r.ReadString('\n') // the NOOP after
		tag, _, _ = strings.Cut(line, " ")
		io.WriteString(w, tag+" OK done\r\n")
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, bg context.Context) {
		h := newHeldOnData()
		cmd := &session.Command{Name: "LIST", OnData: h.onData}
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		p, err := s.Start(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		waited := make(chan error)
		go func() {
			_, err := p.Wait(ctx)
			h.returned.Store(true)
			waited <- err
		}()
		<-h.entered
		cancel()        // the caller gives up while the reader is in OnData
		synctest.Wait() // a Wait that does not wait for OnData has returned now
		close(h.release)
		if err := <-waited; err != context.Canceled {
			t.Fatalf("Wait: %v; want context.Canceled", err)
		}
		if _, err := s.Run(bg, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
		if h.callsAfter != 0 || h.calls != 1 {
			t.Errorf("OnData ran %d times, %d of them (or the end of one) after a cancelled Wait returned; want once, ended before Wait returned", h.calls, h.callsAfter)
		}
	})
}

// TestOnDataNotRunAfterCancelledStartReturned: as
// TestOnDataNotRunAfterCancelledWaitReturned, for a command whose Start
// fails once it is in flight: its synchronizing literal waits for the
// server's "+", a (hostile) server sends a response the command takes
// first, and the caller's context ends while the session is in the
// command's OnData. Start returns the context's error (the session
// ended: half the command is out) only once that OnData has returned,
// and none runs after: no Wait follows to wait for it.
func TestOnDataNotRunAfterCancelledStartReturned(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n') // the LIST's first part, up to its literal's header
		io.WriteString(w, "* LIST () \"/\" a\r\n* LIST () \"/\" b\r\n")
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, bg context.Context) {
		h := newHeldOnData()
		cmd := &session.Command{Name: "LIST", Args: func(e *wire.Encoder) {
			e.SP().String("").SP().Literal([]byte("*"))
		}, OnData: h.onData}
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		started := make(chan error)
		go func() {
			_, err := s.Start(ctx, cmd)
			h.returned.Store(true)
			started <- err
		}()
		<-h.entered
		cancel()        // the caller gives up while the reader is in OnData
		synctest.Wait() // a Start that does not wait for OnData has returned now
		close(h.release)
		if err := <-started; !errors.Is(err, context.Canceled) {
			t.Fatalf("Start: %v; want context.Canceled", err)
		}
		s.Close()
		if h.callsAfter != 0 {
			t.Errorf("OnData ran %d times, %d of them (or the end of one) after a cancelled Start returned; want none after", h.calls, h.callsAfter)
		}
	})
}

// heldOnData is a command's OnData that holds its first call until
// release is closed (entered is closed as it does), and counts its
// calls, and those that ran, or ended, once returned was set.
type heldOnData struct {
	entered, release  chan struct{}
	returned          atomic.Bool
	calls, callsAfter int
}

func newHeldOnData() *heldOnData {
	return &heldOnData{entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *heldOnData) onData(codec.Response) {
	h.calls++
	if h.returned.Load() {
		h.callsAfter++
	}
	if h.calls == 1 {
		close(h.entered)
		<-h.release
		if h.returned.Load() {
			h.callsAfter++
		}
	}
}
