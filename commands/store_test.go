package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestStoreSeqSplitStaleAfterNoop: Store of a set of sequence numbers
// too long for one command goes in parts, and "a change of the numbers
// between two parts (an EXPUNGE) ends the work with an error wrapping
// ErrRenumbered" (SetMaxSetLength). The check was made before the next
// part was queued, not when it was sent: a NOOP another goroutine runs on
// the same Client (an Idle poll, a keep-alive) started between two parts,
// reported the EXPUNGE another mail client made, and the next part went
// out with the old numbers: STORE 5 +FLAGS (\Deleted) hit UID 6, which
// the caller never named. The session checks it now when the part's turn
// comes (session.Command.CheckRenumbered).
func TestStoreSeqSplitStaleAfterNoop(t *testing.T) {
	mbox := dvMailbox(t, "alice", 8)
	ctx := dvCtx(t)
	a, zc := delayClient(t, "alice", "STORE 1 ")
	a.SetMaxSetLength(1) // each number a part of its own
	if _, err := a.Select(ctx, mbox, nil); err != nil {
		t.Fatal(err)
	}
	// Another client expunges UID 2; a has not been told yet: for it seq
	// n is still UID n.
	dvExpungeElsewhere(t, mbox, 2)

	zc.on.Store(true)
	noop := make(chan error, 1)
	go func() {
		<-zc.wrote // the first part is on its way: a keep-alive NOOP queues
		noop <- a.Noop(ctx)
	}()
	_, err := a.Store(ctx, commands.SeqNums(1, 3, 5), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true})
	if nerr := <-noop; nerr != nil {
		t.Fatal(nerr)
	}
	zc.on.Store(false)
	got := dvFlagged(t, mbox, `\Deleted`)
	t.Logf("Store: err=%v; UIDs now flagged \\Deleted: %v", err, got)
	// Seq 1,3,5 were UIDs 1,3,5 when Store was called. Acceptable: those
	// (or a prefix of them with ErrRenumbered). Never an even UID.
	for _, u := range got {
		if u%2 == 0 {
			t.Errorf("UID %d was flagged \\Deleted though the caller named seq 1,3,5 (UIDs 1,3,5 at the call); err = %v", u, err)
		}
	}
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Logf("no ErrRenumbered")
	}
}

// TestStoreZeroOpRefused: StoreOp's constants start at 1
// (AddFlags = iota + 1), so the zero StoreOp, or any value past
// ReplaceFlags, is no operation; Store sends it as FLAGS, which REPLACES
// every flag of the messages: Store(set, 0, [\Seen]) wipes \Flagged,
// \Answered, $Junk... of every message in the set without an error.
func TestStoreZeroOpRefused(t *testing.T) {
	c, srv, ctx := zzSelected(t, "UIDPLUS")
	for _, op := range []commands.StoreOp{0, 4, 200} {
		zzRefused(t, srv, "Store(op "+strconv.Itoa(int(op))+")", func() error {
			_, err := c.Store(ctx, commands.UIDs(1), op, []string{commands.FlagSeen}, nil)
			return err
		})
	}
}

// TestStoreSeqQueuedBehindExpunge: a Store by sequence number is
// sent after an EXPUNGE that the session read while the Store waited for
// its turn, and acts on another message.
//
// A Fetch loop by sequence numbers (FETCH 1:*); at its first message
// another goroutine starts a NOOP, which waits for the FETCH to end (it
// may cause EXPUNGE, RFC 9051 5.5). Then the loop body calls
// Store(SeqNums(3), +\Flagged): at that call the session has read no
// EXPUNGE (Exists 5, Renumbered unchanged), so 3 names message 3. The
// Store waits for the FETCH too (overlapping sets), and the NOOP, which
// came first, goes first: the server answers it with "* 1 EXPUNGE"
// (another client expunged message 1), and the session then sends
// "STORE 3": the message that was number 4 when Store was called is
// flagged, Store returns nil. With \Deleted and an EXPUNGE after, the
// wrong message is lost. A command split in parts checks this
// (splitRun.command: Command.CheckRenumbered, "a part that waited behind
// another goroutine's NOOP went out after the NOOP's EXPUNGE"); a single
// command on sequence numbers does not: it should be refused
// (ErrRenumbered) or sent before the NOOP.
func TestStoreSeqQueuedBehindExpunge(t *testing.T) {
	var mu sync.Mutex
	var order []string
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1", each: func(cmd *hostile.Command) {
		mu.Lock()
		order = append(order, cmd.Name+" "+cmd.Args)
		mu.Unlock()
	}, on: handlers{
		"SELECT": answer("* 5 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 6] x"),
		"FETCH": func(hc *hostile.Conn, cmd *hostile.Command) (err error) {
			for i := 1; i <= 5 && err == nil; i++ {
				body := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i)
				err = hc.WriteString(fmt.Sprintf("* %d FETCH (UID %d FLAGS () BODY[] {%d}\r\n%s)\r\n", i, i, len(body), body))
				if err == nil {
					err = hc.Sleep(150 * time.Millisecond)
				}
			}
			if err == nil {
				err = hc.Line(cmd.Tag + " OK done")
			}
			return err
		},
		// Another client expunged message 1.
		"NOOP":  answer("* 1 EXPUNGE"),
		"STORE": answer(),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	noop := make(chan error, 1)
	var storeErr error
	var countAtCall uint32
	var renumberedBefore bool
	first := true
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Flags: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		if !first {
			continue
		}
		first = false
		_ = m
		mark := c.Session().Renumbered()
		go func() { noop <- c.Noop(ctx) }()
		// The NOOP waits for the FETCH in the session's queue (or, the
		// FETCH over meanwhile, has run: then the EXPUNGE was read before
		// the call, and the test says there is no case).
		waitUntil(t, "the NOOP queued", func() bool {
			return len(noop) > 0 || parked("commands.(*Client).Noop", "session.(*Session).start(")
		})
		countAtCall, _ = c.Exists()
		renumberedBefore = c.Session().Renumbered() != mark
		_, storeErr = c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, nil)
	}
	if err := <-noop; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("commands: %q; Store: %v; count at the call %d", order, storeErr, countAtCall)
	if renumberedBefore {
		t.Fatal("the EXPUNGE was read before the Store call: no case")
	}
	noopAt, storeAt := -1, -1
	for i, l := range order {
		switch {
		case strings.HasPrefix(l, "NOOP"):
			noopAt = i
		case strings.HasPrefix(l, "STORE 3 "):
			storeAt = i
		}
	}
	if storeErr == nil && storeAt > noopAt && noopAt >= 0 {
		t.Errorf("Store(SeqNums(3)), called when message 3 was message 3 (count %d, no EXPUNGE read), was sent as %q after the NOOP whose answer expunged message 1: it flagged the message that was number 4", countAtCall, order[storeAt])
	}
}

// TestStoreSeqAfterReadExpungeSent: the check of
// TestStoreSeqQueuedBehindExpunge takes the count at the
// call. An EXPUNGE the session read before the call (numbers worked out
// after it are current) does not refuse a Store, Copy, Fetch or Search by
// sequence numbers.
func TestStoreSeqAfterReadExpungeSent(t *testing.T) {
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1", on: handlers{
		"SELECT": answer("* 5 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 6] x"),
		"NOOP":   answer("* 1 EXPUNGE"),
		"FETCH":  answer("* 3 FETCH (UID 4 FLAGS ())"),
		"SEARCH": answer("* SEARCH 3"),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil { // reads "* 1 EXPUNGE"
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, nil); err != nil {
		t.Fatalf("Store after an EXPUNGE read before the call: %v", err)
	}
	if _, err := c.Copy(ctx, commands.SeqNums(3), "Archive"); err != nil {
		t.Fatalf("Copy after an EXPUNGE read before the call: %v", err)
	}
	for _, err := range c.Fetch(ctx, commands.SeqNums(3), &commands.FetchItems{UID: true, Flags: true}) {
		if err != nil {
			t.Fatalf("Fetch after an EXPUNGE read before the call: %v", err)
		}
	}
	set := commands.SeqNums(3)
	if _, err := c.Search(ctx, &commands.Criteria{Set: &set}, nil); err != nil {
		t.Fatalf("Search after an EXPUNGE read before the call: %v", err)
	}
}

// queuedBehindExpunge runs do on a Client whose server answers another
// goroutine's NOOP, queued first, with "* 1 EXPUNGE" after do's command
// was called (and had to wait its turn: it works on sequence numbers). It
// returns the command lines the server got after the NOOP and do's error.
func queuedBehindExpunge(t *testing.T, caps string, do func(ctx context.Context, c *commands.Client) error) ([]string, error) {
	sort2 := func(hc *hostile.Conn, cmd *hostile.Command) error { return hc.Lines("* SORT 2", cmd.Tag+" OK done") }
	var mu sync.Mutex
	var after []string
	noopSeen := false
	held := newHeldAnswer()
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
			return held.Handler("* 1 EXPUNGE")(hc, cmd)
		},
		"SORT":     sort2,
		"UID SORT": sort2,
	}})
	defer held.Release()
	noop := make(chan error, 1)
	go func() { noop <- c.Noop(ctx) }()
	held.In(t) // the NOOP is in flight
	done := make(chan error, 1)
	go func() { done <- do(ctx, c) }()
	// do's command is queued (or, wrongly, sent or refused already)
	// before the NOOP's answer brings the EXPUNGE.
	waitUntil(t, "do's command queued", func() bool {
		return len(done) > 0 || parked("session.(*Session).start(")
	})
	held.Release()
	err := <-done
	if err := <-noop; err != nil {
		t.Fatal(err)
	}
	// A command sent by do without waiting for its answer reaches the
	// server before this NOOP does (left out of what is returned).
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), after[:len(after)-1]...), err
}

// TestStoreSentAfterHigherExpunge (finding 5): since 1b52cb3 every command on
// sequence numbers is refused (ErrRenumbered, not sent) when the session
// read any EXPUNGE between the call and its turn. An EXPUNGE of a message
// numbered above every number of the set renumbers none of them: here
// "* 10 EXPUNGE" comes with another goroutine's NOOP, and Store(3) — whose
// 3 still names the same message — is refused where it was sent, and
// right, before. The counter (session.Renumbered) cannot tell; the check
// needs the lowest number expunged since the mark (VANISHED aside).
func TestStoreSentAfterHigherExpunge(t *testing.T) {
	held := newHeldAnswer()
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 10, on: handlers{
		"NOOP": held.Handler("* 10 EXPUNGE"),
	}})
	defer held.Release()
	noop := make(chan error, 1)
	go func() { noop <- c.Noop(ctx) }()
	held.In(t) // the NOOP is in flight
	stored := make(chan error, 1)
	go func() {
		_, err := c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
		stored <- err
	}()
	waitQueued(t, 1, "commands.(*Client).Store") // before the EXPUNGE comes
	held.Release()
	err := <-stored
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

// TestHigherExpungeSeveralWaiting (finding 5): several commands
// wait, each with its own mark, while a NOOP brings "* 10 EXPUNGE" and
// "* 8 EXPUNGE": Store(3) is sent (3 names the same message), Store(9)
// and Store(2:*) are refused (8 renumbered 9; "*" is the last, which
// changed): each command's check is its own.
func TestHigherExpungeSeveralWaiting(t *testing.T) {
	var mu sync.Mutex
	var stores []string
	held := newHeldAnswer()
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 20, on: handlers{
		"NOOP": held.Handler("* 10 EXPUNGE", "* 8 EXPUNGE"),
		"STORE": func(hc *hostile.Conn, cmd *hostile.Command) error {
			mu.Lock()
			stores = append(stores, cmd.Args)
			mu.Unlock()
			return hc.Line(cmd.Tag + " OK done")
		},
	}})
	defer held.Release()
	noop := make(chan error, 1)
	go func() { noop <- c.Noop(ctx) }()
	held.In(t) // the NOOP is in flight
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
	waitQueued(t, len(sets), "commands.(*Client).Store") // before the EXPUNGEs come
	held.Release()
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

// TestModSeqPast63BitsNotSent: RFC 7162 makes a mod-sequence a positive
// 63-bit number. A server's [HIGHESTMODSEQ 18446744073709551615] was taken
// (MailboxState.HighestModSeq), and what the client was given it sent back:
// SELECT (QRESYNC (1 18446744073709551615)), FETCH (CHANGEDSINCE ...),
// STORE (UNCHANGEDSINCE ...) and SEARCH MODSEQ carried any 64-bit value,
// a command the grammar has no room for. The codec now refuses such a
// HIGHESTMODSEQ (the code is text: no HighestModSeq), and the commands
// refuse to send one past 2^63-1 (ErrModSeq, nothing sent); 2^63-1 goes.
func TestModSeqPast63BitsNotSent(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1 ENABLE CONDSTORE QRESYNC UIDPLUS", each: func(cmd *hostile.Command) {
		mu.Lock()
		sent = append(sent, cmd.Name+" "+cmd.Args)
		mu.Unlock()
	}, on: handlers{
		"ENABLE": answer("* ENABLED QRESYNC"),
		"SELECT": answer("* 3 EXISTS", "* OK [UIDVALIDITY 1] x", "* OK [HIGHESTMODSEQ 18446744073709551615] x"),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := enableQResyncSelect(t, ctx, c, "INBOX")
	if st.HighestModSeq != 0 {
		t.Errorf("Select: HighestModSeq %d from [HIGHESTMODSEQ 18446744073709551615]; want 0 (none readable)", st.HighestModSeq)
	}
	if v, ok := c.Session().HighestModSeq(); ok {
		t.Errorf("Session.HighestModSeq: %d, true; want none", v)
	}
	const past = 1 << 63
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, commands.ErrModSeq) {
			t.Errorf("%s of 2^63: %v; want an error wrapping ErrModSeq", what, err)
		}
	}
	_, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 1, ModSeq: past}})
	check("Select QResync.ModSeq", err)
	for _, err = range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: past}) {
		break
	}
	check("Fetch ChangedSince", err)
	_, err = c.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{UnchangedSince: past})
	check("Store UnchangedSince", err)
	_, err = c.Search(ctx, &commands.Criteria{ModSeq: past}, nil)
	check("Search ModSeq", err)
	_, err = c.Search(ctx, &commands.Criteria{Not: []commands.Criteria{{ModSeq: past}}}, nil)
	check("Search Not ModSeq", err)
	// The largest mod-sequence goes.
	err = nil
	for _, err = range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: past - 1}) {
	}
	if err != nil {
		t.Fatalf("Fetch ChangedSince 2^63-1: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var odd []string
	for _, s := range sent {
		if strings.Contains(s, "922337203685477580") && !strings.Contains(s, "CHANGEDSINCE 9223372036854775807") ||
			strings.Contains(s, "18446744073709551615") {
			odd = append(odd, s)
		}
	}
	if len(odd) > 0 {
		t.Errorf("sent %q; want no mod-sequence past 2^63-1", odd)
	}
	if last := sent[len(sent)-1]; !strings.Contains(last, "CHANGEDSINCE 9223372036854775807") {
		t.Errorf("the last command: %q; want the FETCH with CHANGEDSINCE 2^63-1", last)
	}
}
