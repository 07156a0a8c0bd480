package commands_test

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// errHookCtx is a context that tells, once, that the session checked it
// (Err) as a command's start began: for Recent, once its check of the
// selection is over and its NOOP is being started.
type errHookCtx struct {
	context.Context
	once sync.Once
	hit  chan struct{}
}

func (c *errHookCtx) Err() error {
	c.once.Do(func() { close(c.hit) })
	return c.Context.Err()
}

// TestReview46GBoundRecentNoopBound: Recent under a bound context checked
// the selection once and then ran the session's Recent, whose NOOP was
// unbound. A SELECT another goroutine queued before the check (behind a
// command that runs alone: it has not started, so the count had not
// moved) ran first; the NOOP then went to the other mailbox and Recent
// returned that mailbox's RECENT count (7) with no error, where
// MailboxState.Bind promises session.ErrReselected. Found by review
// (stop 46, reviewer B). The order is made, not slept for: the SELECT is
// known to wait (AfterBlocking of the command holding it back), and
// Recent to be past its check (its context's Err, as its NOOP starts),
// before the server lets the holding command end. Recent's NOOP is bound
// now: it is not sent (the server reads no NOOP), and the check of the
// counts after it (TestReview46GBoundRecentKeptChecked) is not what
// refuses.
func TestReview46GBoundRecentNoopBound(t *testing.T) {
	release := make(chan struct{})
	var noops atomic.Int32 // NOOPs the server read
	sc := fakeServer{caps: "IMAP4rev1", each: func(cmd *hostile.Command) {
		if cmd.Name == "NOOP" {
			noops.Add(1)
		}
	}, on: handlers{
		"SELECT": func(c *hostile.Conn, cmd *hostile.Command) error {
			if cmd.Args == "B" {
				return c.Lines("* 2 EXISTS", "* 7 RECENT", cmd.Tag+" OK [READ-WRITE] done")
			}
			return c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		},
		// XHOLD, unknown to the session, runs alone: every other
		// command waits for its end.
		"XHOLD": func(c *hostile.Conn, cmd *hostile.Command) error {
			<-release
			return c.Line(cmd.Tag + " OK held")
		},
	}}
	c := hostileClient(t, sc.serve)
	ctx := dvCtx(t)
	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	inA := st.Bind(ctx)
	hold, err := c.Session().Start(ctx, &session.Command{Name: "XHOLD"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
		hold.Wait(ctx)
	}()
	waiting := make(chan struct{})
	hold.AfterBlocking(func() { close(waiting) })
	selErr := make(chan error, 1)
	go func() {
		_, err := c.Select(ctx, "B", nil) // queued behind XHOLD
		selErr <- err
	}()
	select {
	case <-waiting:
	case <-ctx.Done():
		t.Fatal("SELECT B never waited for XHOLD")
	}
	hctx := &errHookCtx{Context: inA, hit: make(chan struct{})}
	type recent struct {
		n   []uint32
		err error
	}
	rec := make(chan recent, 1)
	go func() {
		n, err := c.Recent(hctx) // its NOOP queued behind SELECT B
		rec <- recent{n, err}
	}()
	select {
	case <-hctx.hit:
	case <-ctx.Done():
		t.Fatal("Recent never started its NOOP")
	}
	close(release)
	if _, err := hold.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-selErr; err != nil {
		t.Fatal(err)
	}
	r := <-rec
	wantReselected(t, "Recent", r.err)
	if slices.Contains(r.n, 7) {
		t.Errorf("Recent bound to INBOX returned %v: B's counts", r.n)
	}
	if n := noops.Load(); n != 0 {
		t.Errorf("Recent bound to INBOX sent %d NOOP to B; want none (its NOOP is bound)", n)
	}
}

// doneGateCtx is a context whose Done, called by session.Pending.Wait
// (once the command was sent: the session's own calls while sending go
// through), waits for gate.
type doneGateCtx struct {
	context.Context
	gate chan struct{}
}

func (c *doneGateCtx) Done() <-chan struct{} {
	pc, _, _, ok := runtime.Caller(1)
	if f := runtime.FuncForPC(pc); ok && f != nil && strings.HasSuffix(f.Name(), "session.(*Pending).Wait") {
		<-c.gate
	}
	return c.Context.Done()
}

// TestReview46GBoundRecentKeptChecked: Recent under a bound context runs
// its NOOP in the bound mailbox, and then takes the RECENT counts kept.
// A SELECT another goroutine started as soon as the NOOP ended (it waited
// for it) may have brought the other mailbox's RECENT (7) before Recent
// takes them: they are checked after the taking, and Recent returns
// session.ErrReselected rather than B's count. Found by review (stop 46,
// reviewer B: the kept counts are read unchecked). Ordered, not slept
// for: Recent's wait for its NOOP is held (its context's Done, called by
// Pending.Wait) until SELECT B is over.
func TestReview46GBoundRecentKeptChecked(t *testing.T) {
	gotNoop := make(chan struct{})
	sc := fakeServer{caps: "IMAP4rev1", on: handlers{
		"SELECT": func(c *hostile.Conn, cmd *hostile.Command) error {
			if cmd.Args == "B" {
				return c.Lines("* 2 EXISTS", "* 7 RECENT", cmd.Tag+" OK [READ-WRITE] done")
			}
			return c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		},
		"NOOP": func(c *hostile.Conn, cmd *hostile.Command) error {
			close(gotNoop)
			return c.Line(cmd.Tag + " OK done")
		},
	}}
	c := hostileClient(t, sc.serve)
	ctx := dvCtx(t)
	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	gctx := &doneGateCtx{Context: st.Bind(ctx), gate: make(chan struct{})}
	defer func() {
		select {
		case <-gctx.gate:
		default:
			close(gctx.gate)
		}
	}()
	type recent struct {
		n   []uint32
		err error
	}
	rec := make(chan recent, 1)
	go func() {
		n, err := c.Recent(gctx)
		rec <- recent{n, err}
	}()
	select {
	case <-gotNoop:
	case <-ctx.Done():
		t.Fatal("Recent's NOOP never reached the server")
	}
	if _, err := c.Select(ctx, "B", nil); err != nil { // once the NOOP is over
		t.Fatal(err)
	}
	close(gctx.gate)
	r := <-rec
	wantReselected(t, "Recent", r.err)
	if slices.Contains(r.n, 7) {
		t.Errorf("Recent bound to INBOX returned %v: B's counts", r.n)
	}
}
