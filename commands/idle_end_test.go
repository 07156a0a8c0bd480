package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestIdleServerEnds: a server that ends IDLE on its own (its tagged OK
// right after an event) while onEvent asks to stop at that event: Idle's
// DONE, racing the end, sent "DONE" as a command line after the IDLE was
// over, the server answered "DONE BAD", and the session was aborted (the
// next NOOP failed; 8 runs of 20). Now no DONE goes once the IDLE has
// ended, and an answer to one already on its way is dropped. With onEvent
// going on, Idle returns ErrIdleEnded (it was an untyped error). Found by
// the fault audit of 2026-12-04.
func TestIdleServerEnds(t *testing.T) {
	for i := 0; i < 20; i++ {
		stray := make(chan string, 10)
		c := hostileClient(t, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1 IDLE")
			cmd, err := c.Until("IDLE")
			if err != nil {
				return err
			}
			c.Continue("idling")
			c.Sleep(5 * time.Millisecond)
			c.Lines("* 1 EXISTS", cmd.Tag+" OK IDLE terminated by server")
			for {
				cmd, err := c.ReadCommand()
				if err != nil {
					return err
				}
				if cmd.Line == "DONE" {
					stray <- cmd.Line
					c.Line("DONE BAD Error in IMAP command received by server.") // as Dovecot answers
					continue
				}
				if err := c.Answer(cmd); err != nil {
					return err
				}
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stop := i%2 == 0
		ierr := c.Idle(ctx, nil, func(r codec.Response) bool { return !stop })
		nerr := c.Noop(ctx)
		cancel()
		if nerr != nil {
			t.Fatalf("run %d: NOOP after Idle: %v (Idle: %v)", i, nerr, ierr)
		}
		switch {
		case stop && ierr != nil:
			t.Fatalf("run %d: Idle stopped by onEvent: %v; want nil", i, ierr)
		case !stop && !errors.Is(ierr, commands.ErrIdleEnded):
			t.Fatalf("run %d: Idle ended by the server: %v; want ErrIdleEnded", i, ierr)
		}
		select {
		case <-stray:
			t.Logf("run %d: a DONE crossed the server's end; its answer was dropped", i)
		default:
		}
	}
}

// TestIdleRestartCrossesServerEnd: a command on another goroutine asks the
// IDLE to end (as the restart timer does), and the server ends it on its
// own before DONE could go (no "+" had come). The IDLE was being ended
// for the restart anyway, so Idle lets the waiting command run and idles
// again; it returned ErrIdleEnded, ending a caller's loop over a race the
// caller had no part in.
func TestIdleRestartCrossesServerEnd(t *testing.T) {
	idles := make(chan struct{}, 4)
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 IDLE")
		cmd, err := c.Until("IDLE")
		if err != nil {
			return err
		}
		idles <- struct{}{}
		c.Line("* 1 EXISTS")
		// The NOOP the EXISTS starts is waiting for the IDLE by now.
		c.Sleep(300 * time.Millisecond)
		c.Line(cmd.Tag + " OK IDLE terminated by server")
		var idle string
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch {
			case cmd.Name == "IDLE":
				idles <- struct{}{}
				idle = cmd.Tag
				c.Continue("idling")
				c.Line("* 2 EXISTS")
			case cmd.Line == "DONE":
				c.Line(idle + " OK IDLE done")
			default:
				if err := c.Answer(cmd); err != nil {
					return err
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	noop := make(chan error, 1)
	err := c.Idle(ctx, nil, func(r codec.Response) bool {
		e, ok := r.(*codec.Exists)
		if ok && e.Count == 1 {
			go func() { noop <- c.Noop(ctx) }()
		}
		return !ok || e.Count != 2
	})
	if err != nil {
		t.Fatalf("Idle: %v; want nil (ended by onEvent at the second IDLE's EXISTS)", err)
	}
	if err := <-noop; err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	if n := len(idles); n != 2 {
		t.Fatalf("the server saw %d IDLEs; want 2", n)
	}
}
