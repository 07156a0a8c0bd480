package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// DefaultIdleRestart is how long one IDLE command lasts before Idle ends
// it with DONE and starts another: below the 30 minutes after which RFC
// 9051 section 6.3.13 lets a server drop an idle client.
const DefaultIdleRestart = 29 * time.Minute

// idleDoneTimeout bounds the end of an IDLE: the wait for its "+" once ctx
// has ended, the writing of DONE and the reading of the answer after it.
const idleDoneTimeout = 30 * time.Second

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
	// Catch, when not nil, is the caller's session.Catch, which Idle
	// takes what comes between its commands from instead of one of its
	// own: a caller that runs commands of its own between calls of Idle
	// (on the same goroutine) and started the Catch before the first
	// hands onEvent, in order, what came between them too, the first
	// time Idle takes from it. nil: Idle catches for its own run.
	Catch *session.Catch
}

// ErrIdleEnded is what Idle returns when the server ended the IDLE on its
// own (a tagged OK without DONE), neither ctx nor onEvent having asked. An
// IDLE the server ends while Idle is ending it to restart (its timer, or a
// command waiting) is restarted as if DONE had ended it.
var ErrIdleEnded = errors.New("commands: the server ended IDLE")

// ErrIdleActive is what Idle returns, at once and sending nothing, when
// another Idle runs on the same Client (on another goroutine, or the
// caller is that Idle's onEvent). A second IDLE cannot start while the
// first is in flight (IDLE runs alone), and an IDLE waiting for its turn
// does not end the one in flight as other commands do: two Idle loops
// would end each other's IDLE in turn, forever. Let through, the
// second would wait for the first's restart (DefaultIdleRestart, 29
// minutes) or its context, and then race the first's next IDLE. One Idle
// per Client hands every event to its onEvent; end it (its context, or
// onEvent returning false) to idle otherwise. The same holds across
// Clients of one session (commands.New twice), which this check does not
// see: their Idles wait for one another's restart (docs/session.md).
var ErrIdleActive = errors.New("commands: another Idle runs on this Client")

// Idle sends IDLE (RFC 2177, RFC 9051) and hands every untagged response
// the server sends meanwhile (EXISTS, EXPUNGE, FETCH flag changes,
// VANISHED, alerts, ...) to onEvent, in order, on the calling goroutine.
// It re-issues IDLE every opts.Restart. It ends, after sending DONE and
// reading the server's answer, when ctx ends (returning ctx's error) or
// when onEvent returns false (returning nil). What the server sends until
// it answers DONE still goes to onEvent after it returned false (its
// answers then ignored), so that no flag change is lost; but for EXISTS,
// EXPUNGE, RECENT and VANISHED, which the session delivers to its own
// stream anyway (session.Options.OnUnsolicited, Responses). When ctx ends,
// everything until that answer goes to onEvent, so Idle returns when the
// answer to DONE comes (a round trip after ctx ends), not at once:
// returning at once would leave the IDLE's later responses to nobody (an
// abandoned command's are thrown away: a flag change lost, as
// TestIdleStopKeepsLaterEvents found for a stop); a server that never
// answers is cut 30 s after DONE (below). A caller that ends one
// Idle to run a command of its own and then idles again (imapkit idle
// --new) cancels a context of its own. A server that ends the IDLE itself
// makes it return ErrIdleEnded.
//
// A command started on another goroutine, or in onEvent (to fetch the
// message an EXISTS announced, say), ends the IDLE in flight: Idle sends
// DONE, the waiting commands go, and Idle sends IDLE again once they have
// started and the session is free. So a Client can idle on one goroutine
// and be used on others, at the cost of a round trip per interruption.
// Another Idle is not such a command: a second Idle on the same Client,
// on another goroutine or in onEvent, returns ErrIdleActive at once,
// sending nothing, and the first goes on.
// Untagged responses that come between two IDLEs, which no command takes
// (an EXISTS a server sends right after its answer to DONE), go to
// onEvent too, in order, before what the next IDLE brings (a
// session.Catch, opts.Catch or one of Idle's own, takes them);
// EXISTS, EXPUNGE, RECENT and VANISHED go to the session's stream
// (session.Options.OnUnsolicited, Responses) as well, as always. When
// Idle returns between two IDLEs (ctx ended while the next one waited
// for its turn), what its own Catch took since the last goes to onEvent
// before it returns, unless onEvent had said stop (then it goes to the
// session's stream, session.Catch.Stop); what opts.Catch took stays
// there, for its caller.
//
// Idle watches the mailbox selected when it is called (or, called in the
// authenticated state, none: the server's alerts, NOTIFY's events). Once
// one of those commands changed the selection (a SELECT or EXAMINE,
// successful or not, a CLOSE, an UNSELECT: session.Session.Selections),
// Idle does not idle again, in a mailbox its caller did not ask for or in
// none: it returns a *session.NotSentError matching session.ErrReselected
// (the events up to the change having gone to onEvent). Select the
// mailbox to watch and call Idle again.
//
// onEvent gets copies it may keep, with the session's secrets hidden in
// them (session.Session.Redacted: a server that echoes the password in a
// NO's text or a response it makes up). While it runs, the session reads
// a bounded number of events ahead and then waits, holding the server back:
// a slow onEvent never makes memory grow, and no event is lost. While
// onEvent runs a command, the session must read on to that command's
// answer: the events before it are queued, up to
// session.Options.MaxResultBytes, past which they are dropped and Idle
// returns a *session.ResultTooLargeError. A server that
// does not let IDLE end (no "+" to send DONE after, or no answer to DONE,
// within 30 s) makes Idle return a *session.TimeoutError and aborts the
// session (session.Session.Abort), since nothing else could run on it;
// one that never sends IDLE's "+" at all is cut by the session's stall
// timeout (session.Options.StallTimeout), as a silent server is.
// So does a panic in onEvent, which then goes on to Idle's caller.
//
// A server without IDLE is polled instead: Idle sends NOOP at once and
// then every opts.PollInterval (DefaultIdlePoll), and hands the untagged
// responses each NOOP brings to onEvent, in order, as IDLE would; events
// arrive up to one interval late. It ends in the same ways (when ctx ends
// during a NOOP, the NOOP's answer is read and dropped in the background).
// With opts.NoPoll it returns ErrUnsupported instead.
func (c *Client) Idle(ctx context.Context, opts *IdleOptions, onEvent func(codec.Response) bool) error {
	if onEvent == nil {
		// It panicked at the first event, the IDLE under way.
		return errors.New("commands: Idle needs an onEvent function")
	}
	if !c.idling.CompareAndSwap(false, true) {
		return ErrIdleActive
	}
	defer c.idling.Store(false)
	// A server may echo the password in what it sends during IDLE (a
	// NO's text, a response it makes up): onEvent gets it hidden
	// (session.Session.Redacted), as the session's stream has it. The
	// IDLE's own responses came as sent.
	user := onEvent
	onEvent = func(r codec.Response) bool { return user(c.s.Redacted(r)) }
	var o IdleOptions
	if opts != nil {
		o = *opts
	}
	// Every IDLE (and every NOOP that stands for one) is bound to the
	// mailbox selected now: one started after another goroutine's SELECT,
	// CLOSE or UNSELECT would idle in another mailbox, or in no mailbox,
	// and hand onEvent events it cannot tell from this one's (or none at
	// all) without a word. It is not sent, and Idle returns its
	// *session.NotSentError (session.ErrReselected).
	sel := c.selection(ctx) // the ctx's (MailboxState.Bind), or now
	if o.Catch != nil {
		return c.idle(ctx, &o, sel, o.Catch, onEvent)
	}
	ca := c.s.Catch()
	// Stop never loses what ca holds: it goes to an older Catch, or to
	// the session's stream (session.Catch.Stop).
	defer ca.Stop()
	said := false // onEvent said stop
	err := c.idle(ctx, &o, sel, ca, func(r codec.Response) bool {
		if !onEvent(r) {
			said = true
			return false
		}
		return true
	})
	if !said && c.s.Selections() == sel {
		// Idle returned between two commands (its context ended while
		// the next IDLE or NOOP waited for its turn, or could not be
		// sent): what came since the last one, newer than anything
		// onEvent had, goes to it first, in order.
		// After a false, the rest goes to onEvent too (taken from ca:
		// nothing else would see it), but for what the session's
		// stream had, as in idlePoll and idleOnce. Not when another
		// goroutine selected another mailbox meanwhile (the next IDLE
		// was refused: ErrReselected): what ca holds may be of that
		// mailbox, and goes to the session's stream with Stop (the
		// second review of 6949e67).
		// Its *session.ResultTooLargeError (what came past
		// MaxResultBytes was dropped) is returned with the end's
		// error, which would otherwise hide the loss.
		caught, terr := ca.Take()
		stop := false
		for _, r := range caught {
			if stop && session.AlwaysEvent(r) {
				continue
			}
			if !onEvent(r) {
				stop = true
			}
		}
		if terr != nil && (err == nil || ctx.Err() != nil && errors.Is(err, ctx.Err())) {
			err = errors.Join(err, terr)
		}
	}
	return err
}

// idle is Idle once its Catch ca is known.
func (c *Client) idle(ctx context.Context, opts *IdleOptions, sel uint32, ca *session.Catch, onEvent func(codec.Response) bool) error {
	o := *opts
	if !c.hasCap("IDLE") {
		if o.NoPoll {
			return fmt.Errorf("%w: IDLE", ErrUnsupported)
		}
		interval := DefaultIdlePoll
		if o.PollInterval > 0 {
			interval = o.PollInterval
		}
		return c.idlePoll(ctx, interval, sel, ca, onEvent)
	}
	restart := DefaultIdleRestart
	if o.Restart > 0 {
		restart = o.Restart
	}
	for {
		stop, err := c.idleOnce(ctx, restart, sel, ca, onEvent)
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
// What ca caught between two NOOPs goes to onEvent before the next NOOP's
// data, as Idle's between two IDLEs.
func (c *Client) idlePoll(ctx context.Context, interval time.Duration, sel uint32, ca *session.Catch, onEvent func(codec.Response) bool) error {
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		p, err := c.s.Start(ctx, c.bound(ctx, &session.Command{Name: "NOOP", Want: idleWant, Selection: sel, CheckSelection: true, Catch: ca}))
		var caught []codec.Response
		var cerr error
		if err == nil {
			// What came before the NOOP went in flight (ca was marked
			// then, under the lock that routes responses); what came
			// during it went to the NOOP (it takes every untagged
			// response ca would); what came after its answer stays in
			// ca for the next round. Taken with Take, even right after
			// Start, ca could hold what came after the answer too (the
			// server is quick), handed on before the NOOP's data: out
			// of order (the second review of 9f35f1d; CI, 1 run of 10).
			caught, cerr = ca.TakeMarked()
		}
		var r *session.Result
		if err == nil {
			r, err = p.Wait(ctx)
		}
		var data []codec.Response
		if err == nil {
			data = r.Data
		}
		// What was taken goes to onEvent even when the NOOP failed:
		// taken and dropped, it would reach no one. What ca holds when
		// the NOOP could not start stays there: Idle hands it to onEvent
		// (its own Catch) or its caller takes it (opts.Catch).
		stop := false
		for _, d := range append(caught, data...) {
			// The rest of the NOOP's data after a false goes to
			// onEvent too (the NOOP took it: nothing else would see
			// it), but for what the session gives its stream anyway.
			if stop && session.AlwaysEvent(d) {
				continue
			}
			if !onEvent(d) {
				stop = true
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if cerr != nil {
			return cerr
		}
		if stop {
			return nil
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-c.s.Done():
			// The session ended between two polls (the server hung
			// up, or said BYE): the next NOOP fails at once with the
			// session's error, as IDLE itself would. Before, Idle
			// waited for the next poll on a dead session, a minute
			// with the defaults (TestIdlePollServerGone).
		}
	}
}

// idleOnce runs one IDLE command, bound to the selection sel (Idle); stop
// reports that Idle must return.
//
// IDLE is a pulled command (session.Command.Pull): its events are read on
// this goroutine, in Next, and handed to onEvent as copies. While onEvent
// runs, the session's reader queues a bounded number of copies and then
// waits (and the server's writes in turn), so a slow onEvent and a
// flooding server cannot make memory grow. DONE is sent, once the server's
// "+" has come, on a goroutine of its own: at restart, when ctx ends, or
// when onEvent returns false. Next goes on to the tagged answer, so that
// nothing the server sends before it is lost: it is delivered, or dropped
// once onEvent has said stop.
func (c *Client) idleOnce(ctx context.Context, restart time.Duration, sel uint32, ca *session.Catch, onEvent func(codec.Response) bool) (stop bool, err error) {
	p, err := c.s.Start(ctx, &session.Command{Name: "IDLE", Want: idleWant, Pull: true, Selection: sel, CheckSelection: true, Catch: ca})
	if err != nil {
		return true, err
	}
	// What came since the last one ended (or before Idle, into the
	// caller's Catch), before this IDLE went in flight, goes to onEvent
	// before what this one brings; what came after its answer (an IDLE
	// refused at once) stays in ca for the next round (as in idlePoll).
	caught, cerr := ca.TakeMarked()
	// The reads are not tied to ctx: its end sends DONE, and the reads go
	// on to the server's answer. They end idleDoneTimeout after DONE is
	// sent (or after the wait for "+" before it gave up) at the latest:
	// giveUp aborts the session. Reads with a context that cannot end
	// also keep an idle session smaller: Next registers nothing on it, and
	// no context is made for them (0.5 KiB of heap less per idle session).
	st := &idleState{p: p, s: c.s, ctx: ctx, plus: make(chan struct{}), quit: make(chan struct{})}
	defer st.close()
	st.wg.Add(1)
	go st.awaitPlus()
	restartTimer := time.AfterFunc(restart, st.restart)
	defer restartTimer.Stop()
	// A command started on another goroutine waits for this IDLE: it is
	// ended, and the next one starts after that command.
	stopYield := p.AfterBlocking(st.restart)
	defer stopYield()
	stopAfter := context.AfterFunc(ctx, st.done)
	defer stopAfter()
	// A panic in onEvent leaves an IDLE nobody ends, which every later
	// command would wait behind for ever (IDLE has no command bound):
	// the session is aborted, and the panic goes on to Idle's caller.
	returned := false
	defer func() {
		if !returned {
			c.s.Abort(errIdlePanic)
		}
	}()
	deliver := true
	for _, r := range caught {
		if !deliver && session.AlwaysEvent(r) {
			continue // as below
		}
		if !onEvent(r) && deliver {
			deliver = false
			st.done()
		}
	}
	if cerr != nil && deliver {
		deliver = false
		st.done()
	}
	for {
		it, err := p.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := st.gaveUp(); e != nil {
				return true, e
			}
			return true, err
		}
		// After onEvent said stop, what the server sends before it
		// answers DONE still goes to onEvent (its answer then unheard):
		// the IDLE took it, nothing else would see it
		// (TestIdleStopKeepsLaterEvents).
		if !deliver && session.AlwaysEvent(it.Response) {
			continue // the session's stream has it
		}
		if !onEvent(codec.CloneResponse(it.Response)) && deliver {
			deliver = false
			st.done()
		}
	}
	returned = true
	_, err = p.Wait(context.Background())
	if e := st.gaveUp(); e != nil && err != nil {
		err = e
	}
	st.close()
	st.mu.Lock()
	sent, derr, again := st.sent, st.err, st.restarted
	st.mu.Unlock()
	switch {
	case err != nil:
		return true, err
	case cerr != nil:
		return true, cerr
	case derr != nil:
		return true, derr
	case ctx.Err() != nil:
		return true, ctx.Err()
	case !deliver:
		// onEvent said stop: whoever ended the IDLE, it has.
		return true, nil
	case !sent && !again:
		return true, ErrIdleEnded
	}
	// Ended for the restart (the timer, or a command waiting), by DONE or
	// by the server first: idle again.
	return !again, nil
}

// idleState is what one IDLE's goroutines share (one allocation for an
// idle session, not one per variable).
type idleState struct {
	p   *session.Pending
	s   *session.Session
	ctx context.Context

	plus      chan struct{} // closed once the server's "+" has come
	quit      chan struct{} // closed by close: the goroutines stop waiting
	wg        sync.WaitGroup
	mu        sync.Mutex
	started   bool        // done's goroutine was started
	closed    bool        // no goroutine may start any more
	sent      bool        // DONE was sent
	err       error       // of sending DONE
	restarted bool        // DONE was sent for the restart
	readTimer *time.Timer // ends the reads idleDoneTimeout after DONE
	gaveUpErr error       // why the reads were ended (giveUp)
}

// The values of session.TimeoutError.What for the timeouts of an IDLE's
// end (Client.Idle gives up and aborts the session after 30 s).
const (
	// TimeoutIdleContinuation: no "+" came, so DONE could not be sent.
	TimeoutIdleContinuation = "IDLE continuation"
	// TimeoutIdleDone: no tagged answer to DONE came.
	TimeoutIdleDone = "IDLE DONE"
)

// errIdlePanic aborts the session when Idle's handler panicked.
var errIdlePanic = errors.New("commands: Idle's handler panicked: the IDLE could not be ended, session aborted")

var (
	errIdleNoContinuation = &session.TimeoutError{What: TimeoutIdleContinuation, After: idleDoneTimeout}
	errIdleNoAnswer       = &session.TimeoutError{What: TimeoutIdleDone, After: idleDoneTimeout}
)

// giveUp ends the reads for err, the timeout of an IDLE the server did
// not let end, by aborting the session: with that IDLE in flight nothing
// else could run. An IDLE already over is left alone.
func (st *idleState) giveUp(err error) {
	select {
	case <-st.p.Done():
		return
	default:
	}
	st.mu.Lock()
	if st.gaveUpErr == nil {
		st.gaveUpErr = err
	}
	st.mu.Unlock()
	st.s.Abort(err)
}

// gaveUp is the error giveUp was called with, or nil.
func (st *idleState) gaveUp() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.gaveUpErr
}

// restart sends DONE for the restart.
func (st *idleState) restart() {
	st.mu.Lock()
	st.restarted = true
	st.mu.Unlock()
	st.done()
}

// done sends DONE, once, on a goroutine of its own, as soon as the server's
// "+" has come (DONE is legal only after it).
func (st *idleState) done() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.started || st.closed {
		return
	}
	st.started = true
	st.wg.Add(1)
	go st.sendDone()
}

func (st *idleState) sendDone() {
	defer st.wg.Done()
	wait := time.NewTimer(idleDoneTimeout)
	defer wait.Stop()
	select {
	case <-st.plus:
	case <-st.p.Done():
		return
	case <-st.quit:
		return
	case <-wait.C:
		st.giveUp(errIdleNoContinuation) // no "+" to send DONE after
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(st.ctx), idleDoneTimeout)
	defer cancel()
	err := st.p.Continue(dctx, []byte("DONE"))
	st.mu.Lock()
	defer st.mu.Unlock()
	if errors.Is(err, session.ErrCommandEnded) {
		// The server ended the IDLE first: no DONE went, none is due.
		return
	}
	st.sent, st.err = true, err
	st.readTimer = time.AfterFunc(idleDoneTimeout, func() { st.giveUp(errIdleNoAnswer) })
}

// awaitPlus takes the server's "+" as soon as it comes, as the session
// wants a continuation request taken (a second one, which some servers
// send, then finds room), and closes plus.
func (st *idleState) awaitPlus() {
	defer st.wg.Done()
	select {
	case <-st.p.Continuations():
		close(st.plus)
	case <-st.p.Done():
	case <-st.quit:
	}
}

// close ends the reads, lets no goroutine start, waits for those of
// awaitPlus and done, and stops the timer done set. A second call finds
// nothing to wait for.
func (st *idleState) close() {
	st.mu.Lock()
	if !st.closed {
		st.closed = true
		close(st.quit)
	}
	st.mu.Unlock()
	st.wg.Wait()
	st.mu.Lock()
	if st.readTimer != nil {
		st.readTimer.Stop()
	}
	st.mu.Unlock()
}
