package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestCatchTooLargeSaysQueued (finding 6): past MaxResultBytes a Catch drops what
// comes and Take returns a *ResultTooLargeError with Queued set, whose
// text blames "answer queued while its caller did not take it (another
// command waiting for its end?)" on a command named "unclaimed
// responses". Queued is documented as "the queue of a pulled command
// passed the bound": no pulled command, no command at all, is involved,
// and the advice points the wrong way. (9d74fc2, session/catch.go Take.)
func TestCatchTooLargeSaysQueued(t *testing.T) {
	s := scriptedOpen(t, &session.Options{MaxResultBytes: 2000}, func(tag, line string) string {
		return strings.Repeat("* 1 FETCH (FLAGS (\\Seen))\r\n", 20) + tag + " OK done\r\n"
	})
	ca := s.Catch()
	defer ca.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	_, err := ca.Take()
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("Take: %v; want a *ResultTooLargeError (20 responses of 256+ bytes over a bound of 2000)", err)
	}
	if tl.Queued || strings.Contains(err.Error(), "another command waiting") {
		t.Fatalf("Take's error: Queued %v, %q: no pulled command's queue was involved", tl.Queued, err)
	}
	if tl.Command != session.CatchCommand || tl.Dropped == 0 {
		t.Fatalf("Take's error: Command %q, Dropped %d; want %q and a count", tl.Command, tl.Dropped, session.CatchCommand)
	}
}

// TestCatchStopHandsOn (finding 1, at the session): Stop loses
// nothing a Catch holds. What an inner Catch did not hand on goes to the
// Catch that was running when it started; what the last one holds goes to
// OnUnsolicited, in order; what a Catch takes is kept for Responses as a
// response no command takes. Stop dropped it all: another client's flag
// change reached no one.
func TestCatchStopHandsOn(t *testing.T) {
	got := make(chan codec.Response, 10)
	s := scriptedOpen(t, &session.Options{OnUnsolicited: func(r codec.Response) { got <- r }}, func(tag, line string) string {
		return "* 2 FETCH (FLAGS (\\Flagged))\r\n* 3 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	outer := s.Catch()
	defer outer.Stop()
	inner := s.Catch()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if l := s.Responses("FETCH"); len(l) != 2 {
		t.Errorf("Responses(FETCH): %d responses; want the 2 the Catch took, kept as before Catch existed", len(l))
	}
	inner.Stop()
	l, err := outer.Take()
	if err != nil || len(l) != 2 || l[0].(*codec.Fetch).Seq != 2 || l[1].(*codec.Fetch).Seq != 3 {
		t.Fatalf("the outer Catch after the inner's Stop: %v, %v; want the two FETCHes, in order", l, err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	outer.Stop()
	var fetches []uint32 // the SELECT's EXISTS and OK [UIDVALIDITY] aside
	for len(fetches) < 2 {
		select {
		case r := <-got:
			if f, ok := r.(*codec.Fetch); ok {
				fetches = append(fetches, f.Seq)
			}
		case <-time.After(hangBound):
			t.Fatalf("OnUnsolicited got the FETCHes %v; want those of 2 and 3 the stopped Catch held", fetches)
		}
	}
	if fetches[0] != 2 || fetches[1] != 3 {
		t.Fatalf("OnUnsolicited got the FETCHes %v; want 2 and 3, in order", fetches)
	}
	select {
	case r := <-got:
		if _, ok := r.(*codec.Fetch); ok {
			t.Fatalf("OnUnsolicited got %v more", r)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

// TestCatchTakeMarkedSplitsAtStart (CI of stop 42, 1 run of 10 of
// TestIdlePollEventOrder): commands.Client.Idle's polling
// took its Catch with Take right after Start returned, meaning "what came
// before the NOOP"; a quick server's answer, and the FETCH it sent right
// after it, could be read by then, and that later FETCH went to onEvent
// before the NOOP's own data. Command.Catch marks the Catch as the
// command goes in flight, under the lock that routes responses:
// TakeMarked returns what came before, whatever was read since, and
// leaves what came after the answer for the next Take.
func TestCatchTakeMarkedSplitsAtStart(t *testing.T) {
	var checks atomic.Int32
	s := scriptedOpen(t, nil, func(tag, line string) string {
		switch {
		case strings.Contains(line, "NOOP"):
			return "* 3 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n* 3 FETCH (FLAGS ())\r\n"
		case strings.Contains(line, "CHECK") && checks.Add(1) == 1:
			return tag + " OK done\r\n* 2 FETCH (FLAGS (\\Flagged))\r\n"
		}
		return tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca := s.Catch()
	defer ca.Stop()
	// Two CHECKs: by the second one's answer, the FETCH sent after the
	// first one's is read (and caught: no command in flight).
	for range 2 {
		if _, err := s.Run(ctx, &session.Command{Name: "CHECK"}); err != nil {
			t.Fatal(err)
		}
	}
	all := func(codec.Response) bool { return true }
	p, err := s.Start(ctx, &session.Command{Name: "NOOP", Want: all, Catch: ca})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The FETCH after the NOOP's answer is read by the CHECK's answer:
	// the state a caller slower than the server meets.
	if _, err := s.Run(ctx, &session.Command{Name: "CHECK"}); err != nil {
		t.Fatal(err)
	}
	flags := func(rs []codec.Response) string {
		var b strings.Builder
		for _, x := range rs {
			if f, ok := x.(*codec.Fetch); ok {
				fmt.Fprintf(&b, "%d%v ", f.Seq, f.Flags)
			}
		}
		return b.String()
	}
	before, err := ca.TakeMarked()
	if err != nil {
		t.Fatal(err)
	}
	if got := flags(before); got != "2[\\Flagged] " {
		t.Errorf("TakeMarked: %q; want only what came before the NOOP went in flight, 2[\\Flagged]", got)
	}
	if got := flags(r.Data); got != "3[\\Seen] " {
		t.Errorf("the NOOP's data: %q; want 3[\\Seen]", got)
	}
	after, err := ca.Take()
	if err != nil {
		t.Fatal(err)
	}
	if got := flags(after); got != "3[] " {
		t.Errorf("Take after TakeMarked: %q; want what came after the NOOP's answer, 3[]", got)
	}
	if again, _ := ca.TakeMarked(); len(again) != 0 {
		t.Errorf("a second TakeMarked returned %d responses; want none (no command marked since)", len(again))
	}
}

// TestCatchTakeMarkedDropped: what the bound dropped before the
// mark is TakeMarked's error; what it dropped after is the next Take's.
func TestCatchTakeMarkedDropped(t *testing.T) {
	var noops atomic.Int32
	s := scriptedOpen(t, &session.Options{MaxResultBytes: 2000}, func(tag, line string) string {
		if strings.Contains(line, "NOOP") {
			if noops.Add(1) == 1 {
				return tag + " OK done\r\n" + strings.Repeat("* 1 FETCH (FLAGS (\\Seen))\r\n", 20)
			}
			return tag + " OK done\r\n" + strings.Repeat("* 2 FETCH (FLAGS (\\Seen))\r\n", 20)
		}
		return tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca := s.Catch()
	defer ca.Stop()
	run := func(cmd *session.Command) {
		t.Helper()
		if _, err := s.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	run(&session.Command{Name: "NOOP"})
	run(&session.Command{Name: "CHECK"}) // the 20 FETCHes are read: some dropped
	run(&session.Command{Name: "CHECK", Catch: ca})
	_, err := ca.TakeMarked()
	if err == nil {
		t.Fatal("TakeMarked: no error; want the *ResultTooLargeError of what was dropped before the mark")
	}
	// TakeMarked gave back the room of what it returned: the second
	// NOOP's FETCHes are held up to the bound again, and past it dropped,
	// reported by Take.
	run(&session.Command{Name: "NOOP"})
	run(&session.Command{Name: "CHECK"})
	items, err := ca.Take()
	if err == nil || len(items) == 0 {
		t.Fatalf("Take: %d responses, error %v; want some of the second 20 and an error for the rest", len(items), err)
	}
	for _, x := range items {
		if f, ok := x.(*codec.Fetch); !ok || f.Seq != 2 {
			t.Fatalf("Take returned %v; want only the FETCHes of 2 sent after the mark", x)
		}
	}
}

// TestCatchStopAfterReselect: a FETCH a Catch held, caught in
// the mailbox selected then, went at Stop to OnUnsolicited after the
// next mailbox's EXISTS (a SELECT or EXAMINE of it), renumbered by that
// mailbox's EXPUNGEs, where a handler took it for one of that mailbox's
// messages; or after a CLOSE or UNSELECT, with no mailbox selected. Stop
// now leaves out the FETCHes caught before the selected mailbox changed,
// and counts them in DroppedUnsolicited.
func TestCatchStopAfterReselect(t *testing.T) {
	for _, c := range []struct {
		name, cmd string
		args      func(*wire.Encoder)
		want      string // the stream after the first SELECT's EXISTS
	}{
		{"select", "SELECT", func(e *wire.Encoder) { e.SP().Mailbox("Other") }, "EXISTS 100|EXPUNGE 3"},
		{"examine", "EXAMINE", func(e *wire.Encoder) { e.SP().Mailbox("Other") }, "EXISTS 100|EXPUNGE 3"},
		{"unselect", "UNSELECT", nil, ""},
		{"close", "CLOSE", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &eventStream{ch: make(chan struct{})}
			var noops, checks atomic.Int32
			s := scriptedOpen(t, &session.Options{OnUnsolicited: st.on}, func(tag, line string) string {
				switch {
				case strings.HasPrefix(line, "CHECK") && checks.Add(1) == 1:
					return tag + " OK done\r\n* 5 FETCH (UID 50 FLAGS (\\Seen))\r\n"
				case strings.HasPrefix(line, "NOOP") && c.want != "" && noops.Add(1) == 1:
					return "* 3 EXPUNGE\r\n" + tag + " OK done\r\n"
				case strings.HasPrefix(line, "NOOP"):
					return "* 77 RECENT\r\n" + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run := func(name string, args func(*wire.Encoder)) {
				t.Helper()
				if _, err := s.Run(ctx, &session.Command{Name: name, Args: args}); err != nil {
					t.Fatal(err)
				}
			}
			ca := s.Catch()
			run("CHECK", nil) // the FETCH after its answer is caught
			// Read (and caught) once the next answer is: not left for
			// the SELECT, which takes FETCHes (QRESYNC).
			run("CHECK", nil)
			run(c.cmd, c.args)
			if c.want != "" {
				run("NOOP", nil) // the new mailbox's EXPUNGE goes to the stream at once
			}
			before, _ := s.DroppedUnsolicited()
			ca.Stop()
			after, _ := s.DroppedUnsolicited()
			run("NOOP", nil) // RECENT 77: the end of the stream
			want := "EXISTS 100|" + c.want + "|RECENT 77"
			if c.want == "" {
				want = "EXISTS 100|RECENT 77"
			}
			if got := st.stream(t); got != want {
				t.Errorf("the stream: %s\nwant        %s (the FETCH of the mailbox selected before left out)", got, want)
			}
			if after-before != 1 {
				t.Errorf("DroppedUnsolicited grew by %d at Stop; want 1 (the FETCH left out)", after-before)
			}
		})
	}
}

// eventStream records what OnUnsolicited gets, as short strings.
type eventStream struct {
	mu  sync.Mutex
	got []string
	ch  chan struct{}
}

func (st *eventStream) on(r codec.Response) {
	var s string
	switch r := r.(type) {
	case *codec.Exists:
		s = fmt.Sprintf("EXISTS %d", r.Count)
	case *codec.Expunge:
		s = fmt.Sprintf("EXPUNGE %d", r.Seq)
	case *codec.Recent:
		s = fmt.Sprintf("RECENT %d", r.Count)
	case *codec.Vanished:
		s = "VANISHED " + r.UIDs.String()
	case *codec.Fetch:
		s = fmt.Sprintf("FETCH %d", r.Seq)
		if r.Has&codec.FetchUID != 0 {
			s += fmt.Sprintf(" UID %d", r.UID)
		}
	default:
		s = codec.ResponseName(r)
	}
	st.mu.Lock()
	st.got = append(st.got, s)
	st.mu.Unlock()
	if s == "RECENT 77" {
		close(st.ch)
	}
}

// TestCatchStopRenumbersAfterExpunge: Catch.Stop handed the
// FETCHes it held to OnUnsolicited after the EXPUNGEs (and VANISHEDs)
// that the stream had had at once, when they came: a FETCH by sequence
// number caught before an EXPUNGE of a lower number reached the handler
// after that EXPUNGE with its old number, so a handler following flags
// by sequence number put them on the next message; a FETCH of the
// message expunged came after the EXPUNGE of its own message. Stop now
// renumbers a held FETCH by the EXPUNGEs the stream got after it was
// caught (and drops it when its message was expunged; a VANISHED drops
// it by its UID, and renumbers it by the UIDs below its own).
func TestCatchStopRenumbersAfterExpunge(t *testing.T) {
	for _, c := range []struct {
		name        string
		first, then string // the untagged responses after CHECK's answer, before NOOP's
		want        string // the stream, after the SELECT's EXISTS
	}{
		{"renumbered", "* 5 FETCH (FLAGS (\\Seen))", "* 3 EXPUNGE",
			"EXPUNGE 3|FETCH 4"},
		{"expunged", "* 5 FETCH (FLAGS (\\Seen))", "* 5 EXPUNGE",
			"EXPUNGE 5"},
		{"higher", "* 5 FETCH (FLAGS (\\Seen))", "* 9 EXPUNGE",
			"EXPUNGE 9|FETCH 5"},
		{"several", "* 5 FETCH (FLAGS (\\Seen))\r\n* 8 FETCH (FLAGS (\\Seen))", "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 6 EXPUNGE",
			"EXPUNGE 1|EXPUNGE 1|EXPUNGE 6|FETCH 3"},
		{"between", "* 5 FETCH (FLAGS (\\Seen))\r\n* 3 EXPUNGE\r\n* 5 FETCH (FLAGS ())", "* 2 EXPUNGE",
			"EXPUNGE 3|EXPUNGE 2|FETCH 3|FETCH 4"},
		{"vanished", "* 5 FETCH (UID 50 FLAGS (\\Seen))\r\n* 6 FETCH (UID 60 FLAGS (\\Seen))", "* VANISHED 20,50",
			"VANISHED 20,50|FETCH 4 UID 60"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &eventStream{ch: make(chan struct{})}
			var checks atomic.Int32
			s := scriptedOpen(t, &session.Options{OnUnsolicited: st.on}, func(tag, line string) string {
				switch {
				case strings.HasPrefix(line, "CHECK") && checks.Add(1) == 1:
					return tag + " OK done\r\n" + c.first + "\r\n"
				case strings.HasPrefix(line, "NOOP"):
					return c.then + "\r\n" + tag + " OK done\r\n"
				case strings.HasPrefix(line, "CHECK"):
					return "* 77 RECENT\r\n" + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run := func(name string) {
				t.Helper()
				if _, err := s.Run(ctx, &session.Command{Name: name}); err != nil {
					t.Fatal(err)
				}
			}
			ca := s.Catch()
			run("CHECK") // the FETCH after its answer is caught
			run("NOOP")  // the EXPUNGE goes to the stream at once
			ca.Stop()
			run("CHECK") // RECENT 77: the end of the stream
			select {
			case <-st.ch:
			case <-ctx.Done():
				t.Fatal("no RECENT 77 on the stream")
			}
			st.mu.Lock()
			got := strings.Join(st.got, "|")
			st.mu.Unlock()
			if want := "EXISTS 100|" + c.want + "|RECENT 77"; got != want {
				t.Errorf("the stream: %s\nwant        %s", got, want)
			}
		})
	}
}

// catchScripted opens a session whose first CHECK answers with first after its
// tagged answer, whose NOOPs answer with then before it, and whose later
// CHECKs with RECENT 77, the end of what st is to wait for.
func catchScripted(t *testing.T, st *eventStream, first, then string) (*session.Session, func(string)) {
	var checks atomic.Int32
	s := scriptedOpen(t, &session.Options{OnUnsolicited: st.on}, func(tag, line string) string {
		switch {
		case strings.HasPrefix(line, "CHECK") && checks.Add(1) == 1:
			return tag + " OK done\r\n" + first + "\r\n"
		case strings.HasPrefix(line, "NOOP"):
			return then + tag + " OK done\r\n"
		case strings.HasPrefix(line, "CHECK"):
			return "* 77 RECENT\r\n" + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	return s, func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.Run(ctx, &session.Command{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
}

// stream waits for RECENT 77 and returns what the stream got.
func (st *eventStream) stream(t *testing.T) string {
	t.Helper()
	select {
	case <-st.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no RECENT 77 on the stream")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return strings.Join(st.got, "|")
}

// TestCatchStopRenumbersOuter: a FETCH an inner Catch held goes
// to the outer one at its Stop, and the outer one's Stop renumbers it by
// what came since it was caught, before and after the inner Stop.
func TestCatchStopRenumbersOuter(t *testing.T) {
	st := &eventStream{ch: make(chan struct{})}
	s, run := catchScripted(t, st, "* 5 FETCH (FLAGS (\\Seen))", "* 3 EXPUNGE\r\n")
	outer := s.Catch()
	inner := s.Catch()
	run("CHECK") // FETCH 5, caught by inner
	run("NOOP")  // EXPUNGE 3
	inner.Stop() // FETCH 5 goes to outer
	run("NOOP")  // EXPUNGE 3 again
	outer.Stop()
	run("CHECK")
	if got, want := st.stream(t), "EXISTS 100|EXPUNGE 3|EXPUNGE 3|FETCH 3|RECENT 77"; got != want {
		t.Errorf("the stream: %s\nwant        %s", got, want)
	}
}

// TestCatchStopRenumberBound: past the EXPUNGEs a Catch
// remembers (1024), a FETCH held across more can not be renumbered: it is
// left out, and counted in DroppedUnsolicited; up to the bound, it is
// renumbered.
func TestCatchStopRenumberBound(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{1024, "FETCH 5"}, {1025, ""}} {
		t.Run(fmt.Sprint(c.n), func(t *testing.T) {
			st := &eventStream{ch: make(chan struct{})}
			s, run := catchScripted(t, st, "* 5 FETCH (FLAGS (\\Seen))", strings.Repeat("* 100 EXPUNGE\r\n", c.n))
			ca := s.Catch()
			run("CHECK")
			run("NOOP")
			ev0, _ := s.DroppedUnsolicited()
			ca.Stop()
			ev1, _ := s.DroppedUnsolicited()
			run("CHECK")
			got := st.stream(t)
			fetch := ""
			if i := strings.Index(got, "FETCH"); i >= 0 {
				fetch, _, _ = strings.Cut(got[i:], "|")
			}
			if fetch != c.want {
				t.Errorf("after %d EXPUNGEs, the FETCH on the stream: %q; want %q", c.n, fetch, c.want)
			}
			if dropped := ev1 - ev0; (c.want == "") != (dropped == 1) {
				t.Errorf("Stop counted %d dropped events", dropped)
			}
		})
	}
}

// TestCatchKeepsPrefix: past Options.MaxResultBytes a Catch keeps a
// prefix of what came, as a pulled command's queue (pullDeliver) and the
// typed client's collecting methods (commands/bound.go) do: a FETCH too
// large for the room left is dropped, and so is every later one, also a
// small one that would fit that room. Before, Take returned the small
// FETCH after the hole, with no sign of where the hole was.
func TestCatchKeepsPrefix(t *testing.T) {
	var noops atomic.Int32
	large := "* 4 FETCH (FLAGS (" + strings.TrimSpace(strings.Repeat(`\Seen `, 400)) + "))\r\n"
	s := scriptedOpen(t, &session.Options{MaxResultBytes: 2000}, func(tag, line string) string {
		if strings.Contains(line, "NOOP") && noops.Add(1) == 1 {
			return "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS (\\Seen))\r\n" + large +
				"* 5 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"
		}
		if strings.Contains(line, "NOOP") {
			return "* 6 FETCH (FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	ca := s.Catch()
	defer ca.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	items, err := ca.Take()
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) || tl.Dropped != 2 {
		t.Errorf("Take's error: %v; want a *ResultTooLargeError with Dropped 2 (the large FETCH and the one after it)", err)
	}
	if got := catchSeqs(items); got != "1 2" {
		t.Errorf("Take returned the FETCHes of %q; want %q, the prefix before the hole", got, "1 2")
	}
	// Take reported the hole: the Catch collects again.
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	items, err = ca.Take()
	if got := catchSeqs(items); err != nil || got != "6" {
		t.Errorf("the next Take: the FETCHes of %q, error %v; want %q and no error", got, err, "6")
	}
}

// catchSeqs lists the sequence numbers of the FETCHes in rs.
func catchSeqs(rs []codec.Response) string {
	var l []string
	for _, r := range rs {
		if f, ok := r.(*codec.Fetch); ok {
			l = append(l, fmt.Sprint(f.Seq))
		}
	}
	return strings.Join(l, " ")
}
