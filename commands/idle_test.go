package commands_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestMoveCopyUIDDuringIdlePoll: on a server with MOVE and
// without IDLE, Idle polls with NOOP (whose Want takes every untagged
// response). Move runs on another goroutine while that NOOP is in flight;
// the server sends the MOVE's COPYUID as an untagged OK (RFC 6851 section
// 4.3, as Dovecot does) before the NOOP's tagged OK. Both commands take an
// untagged OK only as a fallback (a Want beyond their rules), and the
// session gave it to the oldest, the NOOP: Move returned a nil
// *CopyResult and no error, and Idle's onEvent got the Move's COPYUID.
func TestMoveCopyUIDDuringIdlePoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := hostileClient(t, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1 MOVE UIDPLUS")
			noop, err := c.Until("NOOP")
			if err != nil {
				return err
			}
			move, err := c.Expect("UID MOVE")
			if err != nil {
				return err
			}
			if err := c.Lines("* OK [COPYUID 7 1 5] Moved UIDs.", "* 1 EXPUNGE",
				noop.Tag+" OK NOOP done", move.Tag+" OK Move completed"); err != nil {
				return err
			}
			return c.Serve()
		})
		ctx := resCtx(t)
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		ictx, cancel := context.WithCancel(ctx)
		defer cancel()
		var mu sync.Mutex
		var events []string
		idled := make(chan error, 1)
		go func() {
			idled <- c.Idle(ictx, &commands.IdleOptions{PollInterval: time.Hour}, func(r codec.Response) bool {
				mu.Lock()
				events = append(events, codec.ResponseName(r))
				mu.Unlock()
				return true
			})
		}()
		time.Sleep(50 * time.Millisecond) // the NOOP goes first
		cp, err := c.Move(ctx, commands.UIDs(1), "Archive")
		cancel()
		<-idled
		if err != nil {
			t.Fatal(err)
		}
		if cp == nil || cp.UIDValidity != 7 || !cp.Dst.Contains(5) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("Move(UID 1) = %+v; want COPYUID 7 1 5 (Idle's onEvent got %v)", cp, events)
		}
	})
}

// TestIdleNilHandler: Idle with a nil onEvent is an error
// before anything is sent (it panicked at the first event).
func TestIdleNilHandler(t *testing.T) {
	c, srv, ctx := zzClient(t, "IDLE", true)
	zzRefused(t, srv, "Idle(nil)", func() error { return c.Idle(ctx, nil, nil) })
}

// idleAcrossSelect runs Idle on mailbox X while another goroutine of
// the same Client runs change (a SELECT of another mailbox, an UNSELECT),
// then has a second connection append to X and to Y.
func idleAcrossSelect(t *testing.T, change func(ctx context.Context, c *commands.Client, y string) error) {
	ctx := dvCtx(t)
	idling := newLineSignal("S: + ")
	a := dvClient(t, testserver.Alice, &session.Options{Trace: idling})
	b := dvClient(t, testserver.Alice, nil)
	x := dvMailbox(t, testserver.Alice, 3)
	y := dvMailbox(t, testserver.Alice, 7)
	if _, err := a.Select(ctx, x, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	idled := make(chan error, 1)
	go func() {
		idled <- a.Idle(ictx, nil, func(r codec.Response) bool {
			mu.Lock()
			events = append(events, eventDesc(r))
			mu.Unlock()
			return true
		})
	}()
	idling.wait(t) // the IDLE is under way on x
	if err := change(ctx, a, y); err != nil {
		t.Fatal(err)
	}
	// Time for a faulty Idle to idle again, in y: only the failure's
	// message depends on it.
	time.Sleep(200 * time.Millisecond)
	// New mail in x (the mailbox Idle was called on) and in y.
	for _, mb := range []string{x, y} {
		if _, err := b.AppendBytes(ctx, mb, []byte(fmt.Sprintf("Subject: new in %s\r\n\r\nx\r\n", mb)), nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-idled:
		t.Logf("Idle returned: %v", err)
		if !errors.Is(err, session.ErrReselected) {
			t.Errorf("Idle after the mailbox it watched was closed or replaced: %v; want an error matching session.ErrReselected", err)
		}
		return
	case <-time.After(time.Minute): // a hang detector
	}
	mu.Lock()
	defer mu.Unlock()
	t.Errorf("Idle, called on %s, went on without a word after another goroutine changed the selection (session state now %v): its handler got %q "+
		"(events of another mailbox, whose sequence numbers it applies to %s, or none at all for the new mail of %s); "+
		"want Idle to end with an error matching session.ErrReselected", x, a.Session().State(), events, x, x)
}

// TestIdleAfterOtherSelect: Idle is documented to let the Client be used
// on other goroutines meanwhile (it ends the IDLE, lets their commands
// go, and starts IDLE again). When one of them is a SELECT of another
// mailbox, the next IDLE runs there: the handler, which cannot tell,
// gets the other mailbox's EXISTS, EXPUNGE and FETCH (sequence numbers
// of another mailbox), and never hears of the new mail in the mailbox it
// idles on. Move's fallback and the parts of a split command are bound
// to the selection (session.Command.Selection, ErrReselected) for this
// very reason; Idle's IDLEs are not.
func TestIdleAfterOtherSelect(t *testing.T) {
	idleAcrossSelect(t, func(ctx context.Context, c *commands.Client, y string) error {
		_, err := c.Select(ctx, y, nil)
		return err
	})
}

// TestIdleAfterUnselect: the same with UNSELECT: Idle goes on idling
// in state AUTH, where no mailbox event can come: a caller waiting for
// new mail waits for ever, with no error.
func TestIdleAfterUnselect(t *testing.T) {
	idleAcrossSelect(t, func(ctx context.Context, c *commands.Client, y string) error {
		return c.Unselect(ctx)
	})
}

// lineSignal is a session Trace that closes seen at the first line
// starting with prefix ("S: + ": the server's continuation, an IDLE under
// way): tests wait for the event rather than sleep and hope.
type lineSignal struct {
	prefix string
	once   sync.Once
	seen   chan struct{}
}

func newLineSignal(prefix string) *lineSignal {
	return &lineSignal{prefix: prefix, seen: make(chan struct{})}
}

func (l *lineSignal) Write(b []byte) (int, error) {
	if strings.HasPrefix(string(b), l.prefix) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(b), nil
}

// wait returns once the line came; it fails the test after hangBound.
func (l *lineSignal) wait(t *testing.T) {
	t.Helper()
	select {
	case <-l.seen:
	case <-time.After(hangBound):
		t.Fatalf("no %q line in the trace", l.prefix)
	}
}

// eventDesc describes an event for the failure messages.
func eventDesc(r codec.Response) string {
	switch r := r.(type) {
	case *codec.Exists:
		return fmt.Sprintf("EXISTS %d", r.Count)
	case *codec.Expunge:
		return fmt.Sprintf("EXPUNGE %d", r.Seq)
	case *codec.Vanished:
		return fmt.Sprintf("VANISHED earlier=%v %v", r.Earlier, r.UIDs.Ranges())
	case *codec.Fetch:
		return fmt.Sprintf("FETCH %d uid=%d flags=%q", r.Seq, r.UID, r.Flags)
	case *codec.Recent:
		return fmt.Sprintf("RECENT %d", r.Count)
	case *codec.Status:
		return fmt.Sprintf("%v %q", r.Kind, r.Text)
	}
	return fmt.Sprintf("%T", r)
}

// TestIdleInAuthThenSelect: Idle called in the authenticated
// state of a session that never selected a mailbox (Selections 0, which
// a Command.Selection of 0 does not check) ends the same way when another
// goroutine selects one, rather than idle on in that mailbox
// (session.Command.CheckSelection).
func TestIdleInAuthThenSelect(t *testing.T) {
	ctx := dvCtx(t)
	idling := newLineSignal("S: + ")
	a := dvClient(t, testserver.Alice, &session.Options{Trace: idling})
	x := dvMailbox(t, testserver.Alice, 3)
	if n := a.Session().Selections(); n != 0 {
		t.Fatalf("a fresh session's Selections = %d", n)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	idled := make(chan error, 1)
	go func() {
		idled <- a.Idle(ictx, nil, func(r codec.Response) bool { return true })
	}()
	idling.wait(t) // the IDLE is under way, in AUTH
	if _, err := a.Select(ctx, x, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-idled:
		if !errors.Is(err, session.ErrReselected) || !errors.Is(err, session.ErrNotSent) {
			t.Errorf("Idle in AUTH, then a SELECT: %v; want a *NotSentError matching session.ErrReselected", err)
		}
	case <-time.After(time.Minute): // a hang detector
		t.Errorf("Idle, called in AUTH, idled on in %s after another goroutine selected it (state %v)", x, a.Session().State())
	}
}

// TestIdlePollAfterSelect: on a server without IDLE, the NOOP
// that stands for it is bound to the selection too: after another
// goroutine's SELECT, Idle returns instead of polling the other mailbox.
// In a testing/synctest bubble: the 100 ms in which a few NOOPs go, at
// the 20 ms poll interval, and the 3 s guard are on the bubble's clock (on
// the real one, an Idle goroutine not run in 100 ms let the SELECT go
// first).
func TestIdlePollAfterSelect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := hostileClient(t, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1")
			return c.Serve()
		})
		ctx := resCtx(t)
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		ictx, cancel := context.WithCancel(ctx)
		defer cancel()
		idled := make(chan error, 1)
		go func() {
			idled <- c.Idle(ictx, &commands.IdleOptions{PollInterval: 20 * time.Millisecond}, func(r codec.Response) bool { return true })
		}()
		time.Sleep(100 * time.Millisecond) // a few NOOPs went
		if _, err := c.Select(ctx, "Other", nil); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-idled:
			if !errors.Is(err, session.ErrReselected) {
				t.Errorf("polled Idle, then a SELECT: %v; want an error matching session.ErrReselected", err)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("polled Idle went on polling another mailbox after another goroutine's SELECT")
		}
	})
}

// idleEventsAtDone runs Idle (Restart restart) on a scripted server that
// announces a message at the first IDLE (* 4 EXISTS) and, at the DONE
// that ends it, sends doneLines in one write; onEvent says stop when stop
// says so. It returns what onEvent got, as text.
func idleEventsAtDone(t *testing.T, restart time.Duration, doneLines func(tag string) []string, stop func(r codec.Response) bool) []string {
	t.Helper()
	idles := 0
	on := handlers{"IDLE": func(c *hostile.Conn, cmd *hostile.Command) error {
		idles++
		c.Continue("idling")
		if idles == 1 {
			c.Line("* 4 EXISTS")
		}
		if _, err := c.ReadLine(); err != nil { // DONE
			return err
		}
		if idles == 1 {
			return c.WriteString(strings.Join(doneLines(cmd.Tag), "\r\n") + "\r\n")
		}
		return c.Line(cmd.Tag + " OK IDLE terminated")
	}}
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 3, on: on})
	var mu sync.Mutex
	var got []string
	ictx, icancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer icancel()
	err := c.Idle(ictx, &commands.IdleOptions{Restart: restart}, func(r codec.Response) bool {
		mu.Lock()
		defer mu.Unlock()
		if e, ok := r.(*codec.Exists); ok {
			got = append(got, "EXISTS "+itoa(e.Count))
		}
		return !stop(r)
	})
	if err != nil && ictx.Err() == nil {
		t.Fatalf("Idle: %v", err)
	}
	// The session is still usable.
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after Idle: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// TestIdleRestartGapEvent: Idle re-issues IDLE (opts.Restart);
// an EXISTS the server sends with its answer to the DONE, right after the
// tagged OK, comes when no command is in flight, before the next IDLE
// went out, and must reach onEvent, in order. A guard: it passed before
// too (no one else reads on between Idle's two IDLEs, and the next one is
// in flight before the reader goes past the tagged OK); the gap Idle now
// catches (session.Catch) showed with another goroutine's command
// (TestIdleOtherCommandGapEvent).
func TestIdleRestartGapEvent(t *testing.T) {
	// Parallel: a scripted server of its own; it looks at nothing
	// process-wide. In a synctest bubble: the 200 ms restart and the 1.5 s
	// context are on the bubble's clock, which a loaded machine does not
	// move while Idle works.
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		got := idleEventsAtDone(t, 200*time.Millisecond, func(tag string) []string {
			return []string{"* 5 EXISTS", tag + " OK IDLE terminated", "* 6 EXISTS"}
		}, func(codec.Response) bool { return false })
		if want := "EXISTS 4,EXISTS 5,EXISTS 6"; strings.Join(got, ",") != want {
			t.Fatalf("onEvent got %q, want %s", got, want)
		}
	})
}

// TestIdleOtherCommandGapEvent: a command another goroutine runs
// while Idle watches ends the IDLE, goes, and Idle idles again after it
// (Idle's doc). An EXISTS the server sends right after that command's
// tagged answer comes when no command is in flight: it went to the
// session's unsolicited stream, never to onEvent (Idle's doc said so:
// "Untagged responses that come between two IDLEs go to the session"),
// and a caller that watches with Idle alone missed the new mail.
func TestIdleOtherCommandGapEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for i := 0; i < 5; i++ {
			ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 3, on: handlers{
				"IDLE": idleAnswer("* 3 RECENT"),
				"CHECK": func(c *hostile.Conn, cmd *hostile.Command) error {
					return c.WriteString(cmd.Tag + " OK done\r\n* 4 EXISTS\r\n")
				},
			}})
			got := make(chan uint32, 10)
			ictx, icancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- c.Idle(ictx, nil, func(r codec.Response) bool {
					switch r := r.(type) {
					case *codec.Recent:
						got <- 0
					case *codec.Exists:
						got <- r.Count
					}
					return true
				})
			}()
			<-got // the first IDLE is under way
			if err := c.Check(ctx); err != nil {
				t.Fatal(err)
			}
			var n uint32
			for n == 0 {
				select {
				case n = <-got:
				case <-time.After(2 * time.Second):
					n = 1
				}
			}
			icancel()
			<-done
			if n != 4 {
				t.Fatalf("run %d: onEvent never got the EXISTS sent right after the other goroutine's CHECK", i)
			}
		}
	})
}

// TestIdlePollEventOrder (second review of the round) (9f35f1d): Idle's polling takes what its
// Catch caught only once the NOOP answered, and hands it to onEvent
// before the NOOP's data. What the server sent right after the NOOP's
// tagged OK (read by then, caught) is newer than the NOOP's data, yet
// goes to onEvent first: "* 3 FETCH (FLAGS (\Seen))" in the NOOP's
// answer, "* 3 FETCH (FLAGS ())" just after it: onEvent sees the flags
// cleared, then set, and a tracker ends with \Seen, which the server
// removed.
func TestIdlePollEventOrder(t *testing.T) {
	bad := 0
	const runs = 10
	for i := 0; i < runs; i++ {
		noops := 0
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 5, on: handlers{
			"NOOP": func(hc *hostile.Conn, cmd *hostile.Command) error {
				if noops++; noops == 1 {
					return hc.WriteString("* 3 FETCH (FLAGS (\\Seen))\r\n" + cmd.Tag + " OK done\r\n* 3 FETCH (FLAGS ())\r\n")
				}
				return hc.Line(cmd.Tag + " OK done")
			},
		}})
		var got []string
		err := c.Idle(ctx, &commands.IdleOptions{PollInterval: 20 * time.Millisecond}, func(r codec.Response) bool {
			if f, ok := r.(*codec.Fetch); ok {
				got = append(got, fmt.Sprint(f.Flags))
			}
			return len(got) < 2
		})
		if err != nil {
			t.Fatalf("Idle: %v", err)
		}
		if len(got) != 2 || !strings.Contains(got[0], "Seen") {
			bad++
			t.Logf("run %d: onEvent got the flags %q; want [\\Seen] then [], the server's order", i, got)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d runs: the FETCH sent after the NOOP's answer went to onEvent before the NOOP's own", bad, runs)
	}
}

// TestIdleWithholdsOtherMailboxEvents (second review of the round) (6949e67): another goroutine SELECTs
// another mailbox while Idle idles; the server, right after the SELECT's
// answer, sends "* 1 FETCH (FLAGS (\Deleted))", about the new mailbox.
// Idle's next IDLE is refused (ErrReselected), and Idle, returning, hands
// onEvent what its Catch took since: that FETCH of the other mailbox,
// which onEvent cannot tell from one of the mailbox it watches. The doc
// says "the events up to the change having gone to onEvent".
func TestIdleWithholdsOtherMailboxEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 5, on: handlers{
			"SELECT": func(hc *hostile.Conn, cmd *hostile.Command) error {
				if strings.Contains(cmd.Args, "Other") {
					return hc.WriteString("* 3 EXISTS\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n* 1 FETCH (FLAGS (\\Deleted))\r\n")
				}
				return hc.Lines("* 5 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
			},
			"IDLE": idleAnswer(),
		}})
		var got []codec.Response
		done := make(chan error, 1)
		go func() {
			done <- c.Idle(ctx, nil, func(r codec.Response) bool { got = append(got, r); return true })
		}()
		time.Sleep(200 * time.Millisecond)
		if _, err := c.Select(ctx, "Other", nil); err != nil {
			t.Fatal(err)
		}
		err := <-done
		if !errors.Is(err, session.ErrReselected) {
			t.Fatalf("Idle: %v; want ErrReselected", err)
		}
		for _, r := range got {
			if f, ok := r.(*codec.Fetch); ok {
				t.Fatalf("onEvent got %v after Idle's mailbox was left: the FETCH is about the other mailbox, selected by another goroutine", f)
			}
		}
	})
}

// TestIdleCaughtKeptAtEnd (finding 1): Idle catches (its own session.Catch) what no
// command takes while another goroutine's command interrupts the IDLE. When
// Idle then returns before its next IDLE is in flight (its context ends
// while that IDLE waits for its turn), its deferred Catch.Stop throws away
// what was caught: a flag change the server sent during the other command
// reaches neither onEvent, nor OnUnsolicited, nor Responses. Before
// 9d74fc2 it went to the session's stream.
func TestIdleCaughtKeptAtEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var unsolicited responseLog
		ctx, _, c := fakeSession(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 3, on: handlers{
			"IDLE": idleAnswer("* 3 RECENT"),
			"CHECK": func(c *hostile.Conn, cmd *hostile.Command) error {
				// Another client's flag change, during the CHECK.
				c.Line("* 2 FETCH (FLAGS (\\Flagged))")
				<-release
				return c.Line(cmd.Tag + " OK done")
			},
		}}, &session.Options{OnUnsolicited: unsolicited.add})
		ictx, icancel := context.WithCancel(ctx)
		defer icancel()
		events := make(chan codec.Response, 10)
		done := make(chan error, 1)
		go func() {
			done <- c.Idle(ictx, nil, func(r codec.Response) bool {
				events <- r
				return true
			})
		}()
		<-events // * 3 RECENT: the first IDLE is under way
		checked := make(chan error, 1)
		go func() { checked <- c.Check(ctx) }()
		// The CHECK ends the IDLE and goes; the FETCH comes during it, and
		// Idle's next IDLE waits for the CHECK's end. Idle is then stopped.
		time.Sleep(300 * time.Millisecond)
		icancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Logf("Idle: %v", err)
		}
		close(release)
		if err := <-checked; err != nil {
			t.Fatal(err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		seen := false
		for len(events) > 0 {
			if _, ok := (<-events).(*codec.Fetch); ok {
				seen = true
			}
		}
		if unsolicited.hasFetch() || len(c.Response("FETCH")) > 0 {
			seen = true
		}
		if !seen {
			t.Fatal("the server's '* 2 FETCH (FLAGS (\\Flagged))' reached neither onEvent, nor OnUnsolicited, nor Responses: Idle's Catch took it and Stop dropped it")
		}
	})
}

// TestIdlePollCaughtKeptOnCancel (finding 2): without IDLE, Idle polls with NOOP and
// hands onEvent what its Catch took between two NOOPs, once the next NOOP
// is in flight and has answered. The Catch is emptied (Take) right after
// the NOOP starts; when the NOOP then fails to complete (Idle's context
// ends while it waits for the answer), idlePoll returns without handing
// them on: a flag change the server sent between the polls reaches
// neither onEvent nor the stream, and is gone from the caller's own Catch
// (IdleOptions.Catch) too. Caused by 9d74fc2 (before, it went to
// OnUnsolicited). In a testing/synctest bubble: the server's 50 ms, the
// poll interval and the test's 500 ms are on the bubble's clock (on the
// real one, a loaded machine could run the server's FETCH after the
// cancel, and nothing was there to keep).
func TestIdlePollCaughtKeptOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release) // before the server is closed (a Cleanup)
		noops := 0
		var unsolicited responseLog
		ctx, s, c := fakeSession(t, fakeServer{caps: "IMAP4rev1", exists: 3, on: handlers{
			"NOOP": func(c *hostile.Conn, cmd *hostile.Command) error {
				noops++
				if noops > 1 {
					<-release
					return c.Line(cmd.Tag + " OK done")
				}
				c.Line(cmd.Tag + " OK done")
				time.Sleep(50 * time.Millisecond)
				// Between two polls: another client's flag change.
				return c.Line("* 2 FETCH (FLAGS (\\Flagged))")
			},
		}}, &session.Options{OnUnsolicited: unsolicited.add})
		ca := s.Catch()
		defer ca.Stop()
		ictx, icancel := context.WithCancel(ctx)
		var events responseLog
		done := make(chan error, 1)
		go func() {
			done <- c.Idle(ictx, &commands.IdleOptions{PollInterval: 200 * time.Millisecond, Catch: ca}, func(r codec.Response) bool {
				events.add(r)
				return true
			})
		}()
		// The first NOOP at once, the FETCH 50 ms later, the second NOOP at
		// 200 ms, which the server does not answer; Idle is stopped at 500 ms.
		time.Sleep(500 * time.Millisecond)
		icancel()
		<-done
		if left, _ := ca.Take(); len(left) == 0 && !events.hasFetch() && !unsolicited.hasFetch() {
			t.Fatal("the '* 2 FETCH (FLAGS (\\Flagged))' sent between two polls reached neither onEvent, nor OnUnsolicited, nor stayed in the caller's Catch: idlePoll took it and returned without handing it on")
		}
	})
}

// TestIdlePollServerGone: Idle on a server without IDLE polls
// with NOOP every DefaultIdlePoll (a minute). A server that answers the
// NOOP and then hangs up (or says BYE) left Idle waiting for the next poll,
// a minute with the defaults, on a session that had already ended: IDLE
// proper returns the session's end at once. Found by
// FuzzConnectAuthCompress (then named FuzzReview46EConnect; corpus
// 9e243a61922c5ca7: "IDLE" mutated in the greeting). Default
// options: the poll interval is the point.
func TestIdlePollServerGone(t *testing.T) {
	for _, end := range []string{"", "* BYE shutting down\r\n"} {
		client, server := transport.Pipe()
		go func() {
			defer server.Close()
			io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
			r := bufio.NewReader(server)
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			io.WriteString(server, tag+" OK noop\r\n"+end)
		}()
		// A guard against a hang, not a timed assertion: with the fault
		// Idle waits for its next poll, a minute away.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := session.Open(ctx, client, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := commands.New(s)
		err = c.Idle(ctx, nil, func(codec.Response) bool { return true })
		if !errors.Is(err, session.ErrAborted) || ctx.Err() != nil {
			t.Errorf("end %q: Idle on a server that hung up after the NOOP: %v (context: %v); want the session's abort at once", end, err, ctx.Err())
		}
		s.Close()
		cancel()
	}
}

// countingIdleServer answers IDLE with "+" and an EXISTS, and DONE with OK;
// it counts the IDLEs and DONEs it took. A line other than DONE after
// IDLE makes it hang up (so a second IDLE sent while one is in flight
// fails the first). Each value on more makes it send one more EXISTS.
func countingIdleServer(t *testing.T, more <-chan struct{}) (*commands.Client, *atomic.Int32, *atomic.Int32) {
	client, server := transport.Pipe()
	var idles, dones atomic.Int32
	var mu sync.Mutex
	n := 1
	exists := func() string { // under mu
		l := "* " + itoa(uint32(n)) + " EXISTS\r\n"
		n++
		return l
	}
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			switch rest {
			case "IDLE":
				idles.Add(1)
				mu.Lock()
				io.WriteString(server, "+ idling\r\n"+exists())
				mu.Unlock()
				if l, _ := r.ReadString('\n'); strings.TrimSpace(l) != "DONE" {
					return
				}
				dones.Add(1)
				io.WriteString(server, tag+" OK idle done\r\n")
			case "LOGOUT":
				io.WriteString(server, "* BYE\r\n"+tag+" OK bye\r\n")
				return
			default:
				io.WriteString(server, tag+" OK\r\n")
			}
		}
	}()
	moreDone := make(chan struct{})
	go func() {
		defer close(moreDone)
		for {
			select {
			case <-more:
				mu.Lock()
				io.WriteString(server, exists())
				mu.Unlock()
			case <-srvDone:
				return
			}
		}
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); client.Close(); <-srvDone; <-moreDone })
	return commands.New(s), &idles, &dones
}

// TestIdleInOnEventRefused (found by review): Idle called from
// Idle's own onEvent waited for the first IDLE's restart
// (DefaultIdleRestart, 29 min) or its own context: an IDLE waiting for its
// turn does not end the one in flight (on purpose: two Idle loops would
// end each other's IDLE forever), and the first could not end while its
// onEvent waited. Now the second Idle returns ErrIdleActive at once,
// sending nothing (the server hangs up at any line but DONE), and the
// first goes on, delivering the next event. Defaults; the second Idle's
// context ends after 2 s, a bound for a failing run.
func TestIdleInOnEventRefused(t *testing.T) {
	more := make(chan struct{}, 1)
	c, idles, dones := countingIdleServer(t, more)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var innerErr error
	events := 0
	err := c.Idle(ctx, nil, func(codec.Response) bool {
		if events++; events > 1 {
			return false // the first Idle went on: its next event
		}
		ictx, icancel := context.WithTimeout(ctx, 2*time.Second)
		defer icancel()
		innerErr = c.Idle(ictx, nil, func(codec.Response) bool { return false })
		more <- struct{}{}
		return true
	})
	if !errors.Is(innerErr, commands.ErrIdleActive) {
		t.Errorf("Idle in onEvent: %v; want ErrIdleActive at once (IDLEs %d, DONEs %d)",
			innerErr, idles.Load(), dones.Load())
	}
	if err != nil || events != 2 || idles.Load() != 1 || dones.Load() != 1 {
		t.Errorf("outer Idle: %v, %d events, IDLEs %d, DONEs %d; want nil, 2, 1, 1",
			err, events, idles.Load(), dones.Load())
	}
}

// TestTwoIdlesRefused (found by review): the same with two
// goroutines (an OnUnsolicited handler that idles while the main
// goroutine does): the second Idle waited up to DefaultIdleRestart
// (29 min) before its IDLE went, and then raced the first's next IDLE.
// Now it returns ErrIdleActive at once, sending nothing; the first goes on
// delivering events, and once it has returned, Idle works again on the
// Client. Defaults; the second's context ends after 2 s, a bound for a
// failing run.
func TestTwoIdlesRefused(t *testing.T) {
	more := make(chan struct{}, 1)
	c, idles, dones := countingIdleServer(t, more)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := make(chan error, 1)
	got := make(chan struct{}, 4)
	go func() {
		first <- c.Idle(ctx, nil, func(codec.Response) bool {
			got <- struct{}{}
			return true
		})
	}()
	<-got
	ictx, icancel := context.WithTimeout(ctx, 2*time.Second)
	defer icancel()
	if err := c.Idle(ictx, nil, func(codec.Response) bool { return false }); !errors.Is(err, commands.ErrIdleActive) {
		t.Errorf("second Idle: %v; want ErrIdleActive at once (IDLEs %d, DONEs %d)", err, idles.Load(), dones.Load())
	}
	more <- struct{}{}
	select {
	case <-got:
	case <-time.After(5 * time.Second): // a bound for a failing run
		t.Error("the first Idle delivered no event after the second was refused")
	}
	fctx, fcancel := context.WithCancel(context.Background())
	cancel() // ends the first
	if err := <-first; !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("first Idle: %v", err)
	}
	if idles.Load() != 1 {
		t.Errorf("IDLEs %d; want 1 (the second sent nothing)", idles.Load())
	}
	defer fcancel()
	// The first over, Idle works again.
	if err := c.Idle(fctx, nil, func(codec.Response) bool { return false }); err != nil || idles.Load() != 2 {
		t.Errorf("Idle after the first returned: %v, IDLEs %d", err, idles.Load())
	}
}

// TestIdleInOnUnsolicited: Client.Idle called from inside an
// OnUnsolicited handler (the handler runs on a goroutine of its own that
// may run commands, session's doc) neither deadlocks nor waits for a
// timeout. An EXISTS that a NOOP brings starts the handler, which idles:
// the IDLE is sent, its events go to onEvent; a command the main
// goroutine runs meanwhile ends the IDLE (DONE), runs, and the IDLE is
// sent again; the handler's context ending ends Idle with ctx's error
// after DONE's answer. (The events that arrive while the handler is busy
// wait in the OnUnsolicited queue, within Options.MaxUnsolicited.) No
// re-entrancy rule is needed: this pins the behaviour. Defaults, but for
// OnUnsolicited.
func TestIdleInOnUnsolicited(t *testing.T) {
	client, server := transport.Pipe()
	idling := make(chan struct{}, 4) // one per IDLE the server took
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		n := uint32(1)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			switch rest {
			case "NOOP":
				io.WriteString(server, "* "+itoa(n)+" EXISTS\r\n"+tag+" OK noop\r\n")
				n++
			case "IDLE":
				io.WriteString(server, "+ idling\r\n* "+itoa(n)+" EXISTS\r\n")
				n++
				idling <- struct{}{}
				if l, _ := r.ReadString('\n'); strings.TrimSpace(l) != "DONE" {
					return
				}
				io.WriteString(server, tag+" OK idle done\r\n")
			case "LOGOUT":
				io.WriteString(server, "* BYE\r\n"+tag+" OK bye\r\n")
				return
			}
		}
	}()
	t.Cleanup(func() { client.Close(); <-srvDone })

	var c *commands.Client
	var once sync.Once
	hctx, hcancel := context.WithCancel(context.Background())
	defer hcancel()
	idleErr := make(chan error, 1)
	var mu sync.Mutex
	var events int
	s, err := session.Open(hangCtx(t), client, &session.Options{OnUnsolicited: func(codec.Response) {
		once.Do(func() {
			idleErr <- c.Idle(hctx, nil, func(codec.Response) bool {
				mu.Lock()
				events++
				mu.Unlock()
				return true
			})
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c = commands.New(s)
	ctx := hangCtx(t)
	if err := c.Noop(ctx); err != nil { // its EXISTS starts the handler
		t.Fatal(err)
	}
	<-idling
	// A command of the main goroutine while the handler idles: DONE, the
	// NOOP, IDLE again.
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP while the handler idles: %v", err)
	}
	<-idling
	hcancel()
	select {
	case err := <-idleErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Idle in the handler: %v; want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("Idle in the handler did not return once its context ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if events < 2 {
		t.Errorf("onEvent got %d events; want the EXISTS of both IDLEs", events)
	}
}
