package session_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// A pulled command P whose caller drives the reading (its second Next)
// gets its own item while other goroutines already wait for the reader
// (they said so while P drove, when the reader could not resume): P's
// caller then holds the lent item and waits for them. Pull's design says
// the reader resumes the lent coroutine for them (otherDemand); nothing
// wakes it: Next's drive path does not broadcast for an item of its own
// (itemLocked: ev.p == self) and its defer does not when lent == p.
// waiters: how many pulled commands wait in Next beside P; run: whether a
// command run with Run waits too.
// Found by review (stop 50): before the fix, the others' answers sat
// unread until CommandTimeout (15 min, defaults) aborted the session;
// with two waiters the old broadcast at every wait hid it by spinning.
func driverHoldsItem(t *testing.T, waiters int, run bool) {
	bubbleGuarded(t, 10*time.Second, func(t *testing.T) { driverHoldsItemBubble(t, waiters, run) })
}

func driverHoldsItemBubble(t *testing.T, waiters int, run bool) {
	c, srv := transport.Pipe()
	others := waiters
	if run {
		others++
	}
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer srv.Close()
		io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
		r := bufio.NewReader(srv)
		readTag := func() string {
			line, err := r.ReadString('\n')
			if err != nil {
				return ""
			}
			tag, _, _ := strings.Cut(line, " ")
			return tag
		}
		tp := readTag()
		io.WriteString(srv, "* SEARCH 1\r\n") // P's first item, lent by the reader
		var tags []string
		for range others {
			tags = append(tags, readTag())
		}
		time.Sleep(time.Second)               // every caller waits (the bubble's clock)
		io.WriteString(srv, "* SEARCH 2\r\n") // P's second item, read by P's caller
		for _, tag := range tags {
			io.WriteString(srv, tag+" OK done\r\n")
		}
		io.WriteString(srv, tp+" OK done\r\n")
		for {
			tag := readTag()
			if tag == "" {
				return
			}
			io.WriteString(srv, "* BYE bye\r\n"+tag+" OK done\r\n")
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
	p, err := s.Start(ctx, &session.Command{Name: "NOOP", Pull: true,
		Want: func(r codec.Response) bool { _, ok := r.(*codec.Search); return ok }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(ctx); err != nil { // lent by the reader goroutine
		t.Fatal(err)
	}
	othersDone := make(chan error, others)
	pDone := make(chan error, 1)
	go func() {
		// Drives the reading: the coroutine is lent to p.
		if _, err := p.Next(ctx); err != nil {
			pDone <- err
			return
		}
		// Holding the item, waits for the others (a pipeline stage).
		for range others {
			if err := <-othersDone; err != nil {
				t.Errorf("other: %v", err)
			}
		}
		pDone <- drainPulled(ctx, p)
	}()
	synctest.Wait() // p's caller drives, waiting for the server
	for range waiters {
		q, err := s.Start(ctx, &session.Command{Name: "NOOP", Pull: true})
		if err != nil {
			t.Fatal(err)
		}
		go func() { othersDone <- drainPulled(ctx, q) }()
	}
	if run {
		go func() {
			_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
			othersDone <- err
		}()
	}
	if err := <-pDone; err != nil {
		t.Errorf("pulled P: %v", err)
	}
}

// TestPulledDriverHoldsItemWakesReaderTwoWaiters: two pulled waiters (the case the broadcast at every wait
// used to mask by spinning: each waiter woke the reader too).
func TestPulledDriverHoldsItemWakesReaderTwoWaiters(t *testing.T) { driverHoldsItem(t, 2, false) }

// TestPulledDriverHoldsItemWakesReader: one pulled waiter (lost before the spin fix too).
func TestPulledDriverHoldsItemWakesReader(t *testing.T) { driverHoldsItem(t, 1, false) }

// TestPulledDriverHoldsItemWakesReaderRun: a command run with Run beside (lost before the spin fix too).
func TestPulledDriverHoldsItemWakesReaderRun(t *testing.T) { driverHoldsItem(t, 0, true) }
