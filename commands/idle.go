package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// DefaultIdleRestart is how long one IDLE command lasts before Idle ends
// it with DONE and starts another: below the 30 minutes after which RFC
// 9051 section 6.3.13 lets a server drop an idle client.
const DefaultIdleRestart = 29 * time.Minute

// DefaultIdlePoll is how often Idle sends NOOP to a server without IDLE.
const DefaultIdlePoll = time.Minute

// IdleOptions are the options of Idle.
type IdleOptions struct {
	// Restart is the lifetime of one IDLE command; 0 means
	// DefaultIdleRestart.
	Restart time.Duration
	// PollInterval is how often Idle sends NOOP when the server does not
	// advertise IDLE; 0 means DefaultIdlePoll.
	PollInterval time.Duration
	// NoPoll makes Idle return ErrUnsupported, sending nothing, when the
	// server does not advertise IDLE, instead of polling.
	NoPoll bool
}

// Idle sends IDLE (RFC 2177, RFC 9051) and hands every untagged response
// the server sends meanwhile (EXISTS, EXPUNGE, FETCH flag changes,
// VANISHED, alerts, ...) to onEvent, in order, on the calling goroutine.
// It re-issues IDLE every opts.Restart. It ends, after sending DONE and
// reading the server's answer, when ctx ends (returning ctx's error) or
// when onEvent returns false (returning nil). onEvent must not run
// commands on the same session: they wait until IDLE is over.
//
// A server without IDLE is polled instead: Idle sends NOOP at once and
// then every opts.PollInterval (DefaultIdlePoll), and hands the untagged
// responses each NOOP brings to onEvent, in order, as IDLE would; events
// arrive up to one interval late. It ends in the same ways (when ctx ends
// during a NOOP, the NOOP's answer is read and dropped in the background).
// With opts.NoPoll it returns ErrUnsupported instead.
func (c *Client) Idle(ctx context.Context, opts *IdleOptions, onEvent func(codec.Response) bool) error {
	var o IdleOptions
	if opts != nil {
		o = *opts
	}
	if !c.hasCap("IDLE") {
		if o.NoPoll {
			return fmt.Errorf("%w: IDLE", ErrUnsupported)
		}
		interval := DefaultIdlePoll
		if o.PollInterval > 0 {
			interval = o.PollInterval
		}
		return c.idlePoll(ctx, interval, onEvent)
	}
	restart := DefaultIdleRestart
	if o.Restart > 0 {
		restart = o.Restart
	}
	for {
		stop, err := c.idleOnce(ctx, restart, onEvent)
		if err != nil || stop {
			return err
		}
	}
}

// idleWant is what IDLE, and the NOOP that stands for it, take: every
// untagged response but those the session handles itself.
func idleWant(r codec.Response) bool {
	switch r.(type) {
	case *codec.Continuation, *codec.Capability, *codec.Enabled:
		return false
	}
	return true
}

// idlePoll stands for IDLE on a server without it: NOOP every interval.
func (c *Client) idlePoll(ctx context.Context, interval time.Duration, onEvent func(codec.Response) bool) error {
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		r, err := c.run(ctx, &session.Command{Name: "NOOP", Want: idleWant})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		for _, d := range r.Data {
			if !onEvent(d) {
				return nil
			}
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// idleQueue carries events from the reader goroutine to Idle's.
type idleQueue struct {
	mu   sync.Mutex
	q    []codec.Response
	wake chan struct{}
}

func (q *idleQueue) push(r codec.Response) {
	c := codec.CloneResponse(r)
	q.mu.Lock()
	q.q = append(q.q, c)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *idleQueue) take() []codec.Response {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.q
	q.q = nil
	return l
}

// idleOnce runs one IDLE command; stop reports that Idle must return.
func (c *Client) idleOnce(ctx context.Context, restart time.Duration, onEvent func(codec.Response) bool) (stop bool, err error) {
	q := &idleQueue{wake: make(chan struct{}, 1)}
	p, err := c.s.Start(ctx, &session.Command{
		Name:   "IDLE",
		Want:   idleWant,
		OnData: q.push,
	})
	if err != nil {
		return true, err
	}
	// The DONE exchange must finish even when ctx has ended.
	bg := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	}
	deliver := func() bool {
		for _, r := range q.take() {
			if !onEvent(r) {
				return false
			}
		}
		return true
	}
	done := func() error {
		dctx, cancel := bg()
		defer cancel()
		if err := p.Continue(dctx, []byte("DONE")); err != nil {
			return err
		}
		_, err := p.Wait(dctx)
		return err
	}
	// Wait for the "+" that starts idling.
	select {
	case <-p.Continuations():
	case <-p.Done():
		_, err := p.Wait(ctx)
		if err == nil {
			err = errors.New("commands: IDLE ended before the server accepted it")
		}
		return true, err
	case <-ctx.Done():
		// The command is out: wait for its "+" so that DONE is legal.
		dctx, cancel := bg()
		defer cancel()
		select {
		case <-p.Continuations():
			if err := done(); err != nil {
				return true, err
			}
		case <-p.Done():
		case <-dctx.Done():
			return true, dctx.Err()
		}
		deliver()
		return true, ctx.Err()
	}
	timer := time.NewTimer(restart)
	defer timer.Stop()
	for {
		select {
		case <-q.wake:
			if !deliver() {
				if err := done(); err != nil {
					return true, err
				}
				return true, nil
			}
		case <-timer.C:
			if err := done(); err != nil {
				return true, err
			}
			return !deliver(), nil
		case <-ctx.Done():
			err := done()
			deliver()
			if err != nil {
				return true, err
			}
			return true, ctx.Err()
		case <-p.Done():
			_, err := p.Wait(ctx)
			deliver()
			if err == nil {
				err = errors.New("commands: the server ended IDLE")
			}
			return true, err
		}
	}
}
