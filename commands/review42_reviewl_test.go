package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// r42lQueuedBehindExpunge runs do on a Client whose server answers another
// goroutine's NOOP, queued first, with "* 1 EXPUNGE" after do's command
// was called (and had to wait its turn: it works on sequence numbers). It
// returns the command lines the server got after the NOOP and do's error.
func r42lQueuedBehindExpunge(t *testing.T, caps string, do func(ctx context.Context, c *commands.Client) error) ([]string, error) {
	sort2 := func(hc *hostile.Conn, cmd *hostile.Command) error { return hc.Lines("* SORT 2", cmd.Tag+" OK done") }
	var mu sync.Mutex
	var after []string
	noopSeen := false
	ctx, c := fakeClient(t, fakeServer{caps: caps, each: func(cmd *hostile.Command) {
		mu.Lock()
		if noopSeen {
			after = append(after, cmd.Name+" "+cmd.Args)
		}
		mu.Unlock()
	}, on: handlers{
		"SELECT": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines("* 5 EXISTS", "* OK [UIDVALIDITY 7] x", cmd.Tag+" OK [READ-WRITE] done")
		},
		"NOOP": func(hc *hostile.Conn, cmd *hostile.Command) error {
			mu.Lock()
			noopSeen = true
			mu.Unlock()
			hc.Sleep(300 * time.Millisecond) // the other command is queued meanwhile
			return hc.Lines("* 1 EXPUNGE", cmd.Tag+" OK done")
		},
		"SORT":     sort2,
		"UID SORT": sort2,
	}})
	noop := make(chan error, 1)
	go func() { noop <- c.Noop(ctx) }()
	time.Sleep(100 * time.Millisecond) // the NOOP is in flight
	err := do(ctx, c)
	if err := <-noop; err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), after...), err
}

// TestReview42LCReplaceSeqNotChecked (finding 3): 1b52cb3 checks "every command on sequence
// numbers" for an EXPUNGE read between the call and its turn, but
// Replace (RFC 8508 REPLACE, which expunges the message it names) is
// started without Command.CheckRenumbered: Replace(SeqNums(3)) waiting
// behind a NOOP whose answer brings "* 1 EXPUNGE" is sent as "REPLACE 3",
// and replaces (removes) the message that was number 4 at the call.
// Store, Copy, Move, Fetch and Search are refused (ErrRenumbered) in the
// same place.
func TestReview42LCReplaceSeqNotChecked(t *testing.T) {
	msg := "Subject: new\r\n\r\nbody\r\n"
	after, err := r42lQueuedBehindExpunge(t, "IMAP4rev1 REPLACE UIDPLUS", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Replace(ctx, commands.SeqNums(3), "INBOX", strings.NewReader(msg), int64(len(msg)), nil)
		return err
	})
	for _, l := range after {
		if strings.HasPrefix(l, "REPLACE 3") {
			t.Fatalf("sent %q after the NOOP's '* 1 EXPUNGE' (Replace: %v): it replaces the message that was number 4 at the call; want ErrRenumbered, nothing sent", l, err)
		}
	}
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Fatalf("Replace: %v (sent %q); want ErrRenumbered", err, after)
	}
}

// TestReview42LDSortSeqSetNotChecked (finding 4): Sort with a Criteria.Set of sequence
// numbers, queued behind a NOOP that brings "* 1 EXPUNGE", is sent as
// "SORT ... 3" and sorts the message that was number 4 at the call;
// Search with the same criteria is refused (ErrRenumbered) since 1b52cb3,
// whose message promises the check for every command on sequence
// numbers. sortCommand (commands/sort.go) sets no CheckRenumbered.
func TestReview42LDSortSeqSetNotChecked(t *testing.T) {
	set := commands.SeqNums(3)
	after, err := r42lQueuedBehindExpunge(t, "IMAP4rev1 SORT", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, &commands.Criteria{Set: &set}, nil)
		return err
	})
	for _, l := range after {
		if strings.HasPrefix(l, "SORT") {
			t.Fatalf("sent %q after the NOOP's '* 1 EXPUNGE' (Sort: %v); want ErrRenumbered, nothing sent, as Search", l, err)
		}
	}
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Fatalf("Sort: %v (sent %q); want ErrRenumbered", err, after)
	}
}

// TestReview42LAIdleCatchDropsAtEnd (finding 1): Idle catches (its own session.Catch) what no
// command takes while another goroutine's command interrupts the IDLE. When
// Idle then returns before its next IDLE is in flight (its context ends
// while that IDLE waits for its turn), its deferred Catch.Stop throws away
// what was caught: a flag change the server sent during the other command
// reaches neither onEvent, nor OnUnsolicited, nor Responses. Before
// 9d74fc2 it went to the session's stream.
func TestReview42LAIdleCatchDropsAtEnd(t *testing.T) {
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
}

// TestReview42LBIdlePollCaughtLostOnCancel (finding 2): without IDLE, Idle polls with NOOP and
// hands onEvent what its Catch took between two NOOPs, once the next NOOP
// is in flight and has answered. The Catch is emptied (Take) right after
// the NOOP starts; when the NOOP then fails to complete (Idle's context
// ends while it waits for the answer), idlePoll returns without handing
// them on: a flag change the server sent between the polls reaches
// neither onEvent nor the stream, and is gone from the caller's own Catch
// (IdleOptions.Catch) too. Caused by 9d74fc2 (before, it went to
// OnUnsolicited).
func TestReview42LBIdlePollCaughtLostOnCancel(t *testing.T) {
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
}

// TestReview42LEStoreRefusedByHigherExpunge (finding 5): since 1b52cb3 every command on
// sequence numbers is refused (ErrRenumbered, not sent) when the session
// read any EXPUNGE between the call and its turn. An EXPUNGE of a message
// numbered above every number of the set renumbers none of them: here
// "* 10 EXPUNGE" comes with another goroutine's NOOP, and Store(3) — whose
// 3 still names the same message — is refused where it was sent, and
// right, before. The counter (session.Renumbered) cannot tell; the check
// needs the lowest number expunged since the mark (VANISHED aside).
func TestReview42LEStoreRefusedByHigherExpunge(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 10, on: handlers{
		"NOOP": func(hc *hostile.Conn, cmd *hostile.Command) error {
			hc.Sleep(300 * time.Millisecond) // the Store is queued meanwhile
			return hc.Lines("* 10 EXPUNGE", cmd.Tag+" OK done")
		},
	}})
	noop := make(chan error, 1)
	go func() { noop <- c.Noop(ctx) }()
	time.Sleep(100 * time.Millisecond) // the NOOP is in flight
	_, err := c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
	if err := <-noop; err != nil {
		t.Fatal(err)
	}
	if errors.Is(err, commands.ErrRenumbered) {
		t.Fatalf("Store(3) refused after '* 10 EXPUNGE', which leaves 1..9 as they were: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestReview42LEHigherExpungeSeveralWaiting (finding 5): several commands
// wait, each with its own mark, while a NOOP brings "* 10 EXPUNGE" and
// "* 8 EXPUNGE": Store(3) is sent (3 names the same message), Store(9)
// and Store(2:*) are refused (8 renumbered 9; "*" is the last, which
// changed): each command's check is its own.
func TestReview42LEHigherExpungeSeveralWaiting(t *testing.T) {
	var mu sync.Mutex
	var stores []string
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 20, on: handlers{
		"NOOP": func(hc *hostile.Conn, cmd *hostile.Command) error {
			hc.Sleep(300 * time.Millisecond) // the Stores are queued meanwhile
			return hc.Lines("* 10 EXPUNGE", "* 8 EXPUNGE", cmd.Tag+" OK done")
		},
		"STORE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			mu.Lock()
			stores = append(stores, cmd.Args)
			mu.Unlock()
			return hc.Line(cmd.Tag + " OK done")
		},
	}})
	noop := make(chan error, 1)
	go func() { noop <- c.Noop(ctx) }()
	time.Sleep(100 * time.Millisecond) // the NOOP is in flight
	sets := []commands.Set{commands.SeqNums(3), commands.SeqNums(9), commands.SeqRange(2, 0)}
	errs := make([]error, len(sets))
	var wg sync.WaitGroup
	for i, set := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Store(ctx, set, commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
		}()
	}
	wg.Wait()
	if err := <-noop; err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil {
		t.Errorf("Store(3) after '* 10 EXPUNGE' and '* 8 EXPUNGE': %v; want it sent", errs[0])
	}
	for i := 1; i < len(sets); i++ {
		if !errors.Is(errs[i], commands.ErrRenumbered) {
			t.Errorf("Store(%s) after '* 8 EXPUNGE': %v; want ErrRenumbered", sets[i], errs[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stores) != 1 || !strings.HasPrefix(stores[0], "3 ") {
		t.Errorf("STOREs sent: %q; want only the one of 3", stores)
	}
}
