package session_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

func rawCommand(name, args string) *session.Command {
	return &session.Command{Name: name, Args: func(e *wire.Encoder) {
		if args != "" {
			e.SP().Raw(args)
		}
	}}
}

// TestTranscriptExists: the count the session follows, FETCH responses
// above it delivered and reported, and Renumbered's counter
// (testdata/exists.txt).
func TestTranscriptExists(t *testing.T) {
	conn, wait := script(t, "exists")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	want := func(step string, n uint32, known bool, unannounced uint64) {
		t.Helper()
		gn, gk := s.Exists()
		if gn != n || gk != known {
			t.Fatalf("%s: Exists() = %d, %v; want %d, %v", step, gn, gk, n, known)
		}
		if u := s.Unannounced(); u != unannounced {
			t.Fatalf("%s: Unannounced() = %d; want %d", step, u, unannounced)
		}
	}
	run := func(c *session.Command) (*session.Result, error) {
		t.Helper()
		r, err := s.Run(ctx, c)
		if err != nil && !errors.Is(err, session.ErrUnannounced) {
			t.Fatal(err)
		}
		return r, err
	}
	renumbered := func(step string, n uint32) {
		t.Helper()
		if got := s.Renumbered(); got != n {
			t.Fatalf("%s: Renumbered() = %d; want %d", step, got, n)
		}
	}
	want("PREAUTH", 0, false, 0)
	run(rawCommand("ENABLE", "QRESYNC"))
	run(rawCommand("NOOP", ""))
	want("EXISTS in AUTH", 0, false, 0)
	run(sel("INBOX"))
	want("SELECT", 3, true, 0)
	renumbered("SELECT", 1)
	if got := s.Selections(); got != 1 {
		t.Fatalf("Selections() after SELECT = %d; want 1", got)
	}
	// A command meant for another selection is not sent (the script
	// would see it).
	stale := rawCommand("NOOP", "")
	stale.Selection = 7
	if _, err := s.Run(ctx, stale); !errors.Is(err, session.ErrReselected) || !errors.Is(err, session.ErrNotSent) {
		t.Fatalf("a command of another selection: %v; want ErrReselected, not sent", err)
	}

	r, err := run(rawCommand("FETCH", "1:* (FLAGS)"))
	var ue *session.UnannouncedError
	if !errors.As(err, &ue) || ue.Command != "FETCH" || ue.Count != 2 || ue.Seq != 5 || ue.Exists != 3 {
		t.Fatalf("FETCH above EXISTS: err %#v; want UnannouncedError{FETCH, 2, 5, 3}", err)
	}
	if errors.Is(err, session.ErrAborted) || errors.Is(err, session.ErrProtocol) {
		t.Fatalf("%v: the session is not aborted", err)
	}
	var seqs []uint32
	for _, d := range r.Data {
		seqs = append(seqs, d.(*codec.Fetch).Seq)
	}
	if len(seqs) != 5 || seqs[2] != 5 || seqs[4] != 6 || r.Status.Kind != codec.StatusOK {
		t.Fatalf("FETCH delivered %v (%v); want all five, 5 and 6 included, and the OK", seqs, r.Status)
	}
	want("FETCH", 3, true, 2)

	run(rawCommand("NOOP", ""))
	want("EXISTS 4", 4, true, 2)
	renumbered("EXISTS", 1)
	run(rawCommand("NOOP", ""))
	want("EXPUNGE", 3, true, 2)
	renumbered("EXPUNGE", 2)
	if _, err := run(rawCommand("UID FETCH", "1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")); err != nil {
		t.Fatalf("UID FETCH within the count: %v", err)
	}
	want("VANISHED", 1, true, 2)
	renumbered("VANISHED and VANISHED (EARLIER)", 3)
	if got := s.Selections(); got != 1 {
		t.Fatalf("Selections() after expunges = %d; want 1 (they renumber, they do not reselect)", got)
	}
	if _, err := run(rawCommand("NOOP", "")); err != nil {
		t.Fatalf("NOOP with an unsolicited FETCH above the count: %v", err)
	}
	want("unsolicited FETCH 2", 1, true, 3)

	cmd := rawCommand("FETCH", "1:9 (FLAGS)")
	cmd.Pull = true
	p, err := s.Start(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	seqs = nil
	for {
		it, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, it.Response.(*codec.Fetch).Seq)
	}
	if _, err := p.Wait(ctx); !errors.As(err, &ue) || ue.Count != 1 || ue.Seq != 9 || ue.Exists != 1 {
		t.Fatalf("pulled FETCH: %v; want UnannouncedError{1, 9, 1}", err)
	}
	if len(seqs) != 2 || seqs[1] != 9 {
		t.Fatalf("pulled FETCH handed out %v; want [1 9]", seqs)
	}
	want("pulled FETCH", 1, true, 4)

	r, err = s.Run(ctx, rawCommand("UID FETCH", "1:* (FLAGS)"))
	if err != nil || len(r.Data) != 2 {
		t.Fatalf("UID FETCH naming a message announced later: %v (%d responses); want both and no error", err, len(r.Data))
	}
	want("UID FETCH above the count", 1, true, 5)
	run(rawCommand("NOOP", ""))
	want("the late EXISTS", 2, true, 5)
	renumbered("FETCH, NOOP", 3)

	if _, err := s.Run(ctx, rawCommand("EXAMINE", "Other")); err != nil {
		t.Fatal(err)
	}
	want("EXAMINE without EXISTS", 0, false, 5)
	renumbered("EXAMINE", 4)
	if _, err := run(rawCommand("FETCH", "50 (FLAGS)")); err != nil {
		t.Fatalf("FETCH with the count unknown: %v", err)
	}
	run(rawCommand("NOOP", ""))
	want("EXISTS after EXAMINE", 60, true, 5)
	run(rawCommand("CLOSE", ""))
	want("CLOSE", 0, false, 5)
	renumbered("CLOSE", 5)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestDovecotExists: with a real server, the count follows APPEND (from
// this session and from another), EXPUNGE, and with QRESYNC enabled
// VANISHED; a FETCH of the whole mailbox stays within it, and nothing is
// unannounced.
func TestDovecotExists(t *testing.T) {
	dvParallel(t)
	for _, qresync := range []bool{false, true} {
		name := "EXPUNGE"
		if qresync {
			name = "VANISHED"
		}
		t.Run(name, func(t *testing.T) {
			mbox := dvNewMailbox(t, testserver.Alice, [][]byte{dvMessage("one", 300), dvMessage("two", 300), dvMessage("three", 300)})
			other := dvNewMailbox(t, testserver.Alice, [][]byte{dvMessage("other", 300)})
			s := dvDialUser(t, testserver.Alice, nil)
			s2 := dvDialUser(t, testserver.Alice, nil)
			want := func(step string, n uint32, known bool) {
				t.Helper()
				if gn, gk := s.Exists(); gn != n || gk != known {
					t.Fatalf("%s: Exists() = %d, %v; want %d, %v", step, gn, gk, n, known)
				}
			}
			if qresync {
				dvRun(t, s, &session.Command{Name: "ENABLE", Args: dvRaw("QRESYNC")})
			}
			want("before SELECT", 0, false)
			dvRun(t, s, dvMailboxCmd("SELECT", mbox))
			want("SELECT", 3, true)

			dvRun(t, s, appendCmd(mbox, dvMessage("four", 300)))
			dvRun(t, s, &session.Command{Name: "NOOP"})
			want("APPEND from the session", 4, true)
			dvRun(t, s2, appendCmd(mbox, dvMessage("five", 300)))
			dvRun(t, s2, appendCmd(mbox, dvMessage("six", 300)))
			dvRun(t, s, &session.Command{Name: "NOOP"})
			want("APPEND from another session", 6, true)

			dvRun(t, s, &session.Command{Name: "STORE", Args: dvRaw(`1,3 +FLAGS.SILENT (\Deleted)`)})
			dvRun(t, s, &session.Command{Name: "EXPUNGE"})
			want("EXPUNGE", 4, true)

			dvRun(t, s2, dvMailboxCmd("SELECT", mbox))
			dvRun(t, s2, &session.Command{Name: "STORE", Args: dvRaw(`2 +FLAGS.SILENT (\Deleted)`)})
			dvRun(t, s2, &session.Command{Name: "EXPUNGE"})
			// The other session's change comes with FETCH FLAGS for the
			// messages left: none may be above the count.
			dvRun(t, s2, &session.Command{Name: "STORE", Args: dvRaw(`1:* +FLAGS (\Flagged)`)})
			dvRun(t, s, &session.Command{Name: "NOOP"})
			want("EXPUNGE by another session", 3, true)

			r := dvRun(t, s, &session.Command{Name: "FETCH", Args: dvRaw("1:* (UID FLAGS)")})
			nfetch := 0
			for _, d := range r.Data {
				if _, ok := d.(*codec.Fetch); ok {
					nfetch++
				}
			}
			if nfetch != 3 {
				t.Fatalf("FETCH 1:*: %d responses; want 3 (%s)", nfetch, dvDescribe(r.Data))
			}
			if u := s.Unannounced(); u != 0 {
				t.Fatalf("Unannounced() = %d with Dovecot", u)
			}

			dvRun(t, s, dvMailboxCmd("EXAMINE", other))
			want("EXAMINE", 1, true)
			dvRun(t, s, &session.Command{Name: "CLOSE"})
			want("CLOSE", 0, false)
		})
	}
}

// BenchmarkFetchMetadataPullSelected: BenchmarkFetchMetadataPull with a
// mailbox selected and its count known, so that every FETCH response is
// checked against it (compare the two for the check's cost).
func BenchmarkFetchMetadataPullSelected(b *testing.B) {
	const n = 10000
	s := pipeFetchServer(b, n)
	ctx := context.Background()
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		b.Fatal(err)
	}
	if c, ok := s.Exists(); !ok || c != n {
		b.Fatalf("Exists() = %d, %v", c, ok)
	}
	cmd := rawCommand("FETCH", "1:* (UID FLAGS)")
	cmd.Pull = true
	b.SetBytes(int64(len(corpus.FetchMetadata(n))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pullAll(b, s, ctx, cmd, n)
	}
	b.StopTimer()
	if u := s.Unannounced(); u != 0 {
		b.Fatalf("Unannounced() = %d", u)
	}
}

// TestHostileUnannouncedFlood: a server that announces 3 messages and
// answers FETCH 1:* with 100,000. With the library's defaults, a pulled
// FETCH hands every response out (nothing is lost), ends with an
// *UnannouncedError that counts them, the heap stays bounded (hsRun) and
// the session goes on.
//
// Its hang detector is 60 s, as TestHostileUntaggedFlood's, not hsBound:
// pulling 100,000 responses under -race takes 1.2 to 3.7 s on a 2-core
// machine at load 9 to 12, and more than 5 s with GOMAXPROCS=1 (5.07 s
// and "did not end within 5s" in 4 of 9 runs with GOMAXPROCS=1, also once in a run
// that handed out all 100,000); what bounds the case is its heap, which
// no load changes.
func TestHostileUnannouncedFlood(t *testing.T) {
	const n = 100000
	hsRun(t, func(c *hostile.Conn) error {
		cmd, err := hsSelected(c, "FETCH")
		if err != nil {
			return err
		}
		if _, err := c.Copy(hostile.Generate(n, func(i int64) string {
			return fmt.Sprintf("* %d FETCH (UID %d FLAGS ())", i+1, i+1)
		})); err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK FETCH completed"); err != nil {
			return err
		}
		return c.Serve()
	}, 60*time.Second, 0, func(c *hsCase, conn net.Conn) {
		if !c.selectInbox(conn) {
			return
		}
		ctx := context.Background()
		cmd := hsFetch("1:* (UID FLAGS)")
		cmd.Pull = true
		p, err := c.s.Start(ctx, cmd)
		if err != nil {
			c.t.Errorf("FETCH: %v", err)
			return
		}
		got := 0
		for {
			it, err := p.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				c.t.Errorf("Next: %v", err)
				return
			}
			if f, ok := it.Response.(*codec.Fetch); !ok || f.Seq != uint32(got+1) {
				c.t.Errorf("item %d: %#v", got, it.Response)
				return
			}
			got++
		}
		r, err := p.Wait(ctx)
		c.note("FETCH", r, err)
		var ue *session.UnannouncedError
		if !errors.As(err, &ue) || ue.Count != n-3 || ue.Seq != 4 || ue.Exists != 3 || r == nil || r.Status.Kind != codec.StatusOK {
			c.t.Errorf("FETCH of %d with 3 announced: %v (%+v); want an UnannouncedError{%d, 4, 3} and the OK", n, err, r, n-3)
		}
		if got != n {
			c.t.Errorf("FETCH handed out %d responses; want %d", got, n)
		}
		if u := c.s.Unannounced(); u != n-3 {
			c.t.Errorf("Unannounced() = %d; want %d", u, n-3)
		}
		if _, err := c.run(rawCommand("NOOP", "")); err != nil {
			c.t.Errorf("NOOP after the flood: %v", err)
		}
		c.outcome = fmt.Sprintf("FETCH: %d handed out, then %T; NOOP OK", got, ue)
	})
}

// TestCheckSelectionZero: a Command.Selection of 0 (no mailbox
// selected yet) checks nothing, as before; with CheckSelection it is
// checked like any other count, so that a command meant for the
// authenticated state of a session that never selected a mailbox
// (commands.Client.Idle called there) is not sent once one was.
func TestCheckSelectionZero(t *testing.T) {
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		return c.Serve()
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.Selections(); n != 0 {
		t.Fatalf("Selections before any SELECT = %d", n)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP", CheckSelection: true}); err != nil {
		t.Fatalf("NOOP bound to no selection yet, none made: %v", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("unbound NOOP: %v", err)
	}
	_, err = s.Run(ctx, &session.Command{Name: "NOOP", CheckSelection: true})
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Fatalf("NOOP bound to no selection, after a SELECT: %v; want a *NotSentError wrapping ErrReselected", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP", Selection: s.Selections(), CheckSelection: true}); err != nil {
		t.Fatalf("NOOP bound to the current selection: %v", err)
	}
}

// TestSelectionOfSelect: Pending.Selection of a SELECT is the
// count of the mailbox that SELECT selected, even once another
// goroutine's SELECT, queued behind it, has started (and made the
// session's count another) before the first one's caller looks: the
// session's count read after Wait would be the second mailbox's, and a
// command bound to it would go to that mailbox. A command bound to the
// first SELECT's count is not sent (ErrReselected).
func TestSelectionOfSelect(t *testing.T) {
	answerA := make(chan struct{}) // the test lets the server answer SELECT A
	gotB := make(chan struct{})    // the server has read SELECT B
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Expect("SELECT")
		if err != nil {
			return err
		}
		<-answerA
		if err := c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done"); err != nil {
			return err
		}
		if cmd, err = c.Expect("SELECT"); err != nil {
			return err
		}
		close(gotB)
		if err := c.Lines("* 5 EXISTS", cmd.Tag+" OK [READ-WRITE] done"); err != nil {
			return err
		}
		return c.Serve()
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sel := func(name string) *session.Command {
		return &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom(name) }}
	}
	pa, err := s.Start(ctx, sel("A"))
	if err != nil {
		t.Fatal(err)
	}
	countA := s.Selections() // A is in flight and runs alone: nothing else started
	bDone := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, sel("B"))
		bDone <- err
	}()
	close(answerA)
	select {
	case <-gotB:
	case <-ctx.Done():
		t.Fatal("SELECT B never reached the server")
	}
	if _, err := pa.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	if got := pa.Selection(); got != countA || got == 0 {
		t.Fatalf("SELECT A's Selection = %d, want %d (its own count; the session's is now %d)", got, countA, s.Selections())
	}
	if s.Selections() == countA {
		t.Fatalf("SELECT B did not change the count (%d)", countA)
	}
	_, err = s.Run(ctx, &session.Command{Name: "NOOP", Selection: pa.Selection()})
	var ns *session.NotSentError
	if !errors.Is(err, session.ErrReselected) || !errors.As(err, &ns) {
		t.Fatalf("NOOP bound to SELECT A's selection, B selected: %v; want a *NotSentError wrapping ErrReselected", err)
	}
	pn, err := s.Start(ctx, &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	if pn.Selection() != 0 {
		t.Fatalf("NOOP's Selection = %d, want 0", pn.Selection())
	}
	if _, err := pn.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestVanishedWithoutQResyncLeavesCount: a server must not send VANISHED
// unless QRESYNC is enabled (RFC 7162 section 3.2.10); one that does
// (hostile, or confused) has its VANISHED delivered to the unsolicited
// stream and Renumbered changed, but the count stays what the EXISTS
// said: a VANISHED naming 3 UIDs does not take 3 messages away.
// Defaults.
func TestVanishedWithoutQResyncLeavesCount(t *testing.T) {
	conn, wait := transcript.Start(t, `
		S: * PREAUTH [CAPABILITY IMAP4rev1 QRESYNC] hi
		C: A1 SELECT INBOX
		S: * 5 EXISTS
		S: * OK [UIDVALIDITY 7] ok
		S: A1 OK [READ-WRITE] done
		C: A2 NOOP
		S: * VANISHED 1:3
		S: A2 OK done
	`)
	got := make(chan codec.Response, 8)
	s := transcript.Open(t, conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		if _, ok := r.(*codec.Vanished); ok {
			got <- r
		}
	}})
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	before := s.Renumbered()
	if _, err := s.Run(ctx, rawCommand("NOOP", "")); err != nil {
		t.Fatal(err)
	}
	if n, known := s.Exists(); n != 5 || !known {
		t.Errorf("Exists() after a VANISHED without QRESYNC = %d, %v; want 5, true", n, known)
	}
	if s.Renumbered() == before {
		t.Errorf("Renumbered() unchanged by a VANISHED: sequence numbers may have moved")
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("the VANISHED was not delivered to OnUnsolicited")
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestSelectOKAfterCallerGaveUpSelects: the early-OK rules of an
// AUTHENTICATE (an OK after the client cancelled aborts the session; one
// that came with a challenge not judged holds the commands behind) are
// not a SELECT's: a SELECT has no challenge for the client to judge, and
// its caller's giving up (its context ended after it was sent) changes
// nothing of what the server did. Its OK, read after, selects the mailbox,
// and the next command runs in it.
func TestSelectOKAfterCallerGaveUpSelects(t *testing.T) {
	got, gaveUp := make(chan struct{}), make(chan struct{})
	ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
		if err := c.PreAuth("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("SELECT")
		if err != nil {
			return err
		}
		close(got)
		<-gaveUp
		if err := c.Answer(cmd); err != nil {
			return err
		}
		return c.Serve()
	})
	sctx, cancel := context.WithCancel(ctx)
	p, err := s.Start(sctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("B") }})
	if err != nil {
		t.Fatal(err)
	}
	<-got
	cancel()
	if _, err := p.Wait(sctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after the caller gave up: %v; want context.Canceled", err)
	}
	close(gaveUp)
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after the SELECT's OK: %v", err)
	}
	if name, ro := s.Mailbox(); name != "B" || ro || s.State() != session.StateSelected {
		t.Fatalf("after the SELECT's OK read with its caller gone: state %v, mailbox %q (read-only %v); want SELECTED in B", s.State(), name, ro)
	}
}

// TestSelectedDelimiter: SelectedDelimiter gives the selected mailbox and
// its hierarchy delimiter once a LIST read during this selection named
// it or a parent of it (testdata/selected_delimiter.txt); nothing before
// a selection, before such a LIST, from another mailbox's LIST (one of a
// name only beginning the selected one's, with no delimiter), after a new
// selection, or after CLOSE. A LIST of the selected mailbox with a NIL
// delimiter (a flat hierarchy) makes it known that it has none: ok, with
// delimiter 0, so that a caller about to rename does not ask again; not
// once a delimiter was learnt, which such a LIST leaves as it was.
func TestSelectedDelimiter(t *testing.T) {
	conn, wait := script(t, "selected_delimiter")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	run := func(cmd *session.Command) {
		t.Helper()
		if _, err := s.Run(ctx, cmd); err != nil {
			t.Fatalf("%s: %v", cmd.Name, err)
		}
	}
	list := func(name string) *session.Command {
		return &session.Command{Name: "LIST", Args: func(e *wire.Encoder) { e.SP().String("").SP().Mailbox(name) }}
	}
	want := func(step, mailbox string, delim byte, ok bool) {
		t.Helper()
		if m, d, k := s.SelectedDelimiter(); m != mailbox || d != delim || k != ok {
			t.Errorf("%s: SelectedDelimiter %q %q %v; want %q %q %v", step, m, d, k, mailbox, delim, ok)
		}
	}
	want("before any selection", "", 0, false)
	run(list("Work"))
	want("a parent listed before the SELECT", "", 0, false)
	run(sel("Work/Inbox"))
	want("after SELECT, never listed since", "Work/Inbox", 0, false)
	run(list("Other"))
	want("after another mailbox's LIST", "Work/Inbox", 0, false)
	run(list("Work"))
	want("after its parent's LIST", "Work/Inbox", '/', true)
	run(list("Work/Inbox"))
	want("after its own LIST with a NIL delimiter, its parent's having given one", "Work/Inbox", '/', true)
	run(sel("Flat"))
	want("after a new SELECT", "Flat", 0, false)
	run(list("Flat"))
	want("after its own LIST with a NIL delimiter", "Flat", 0, true)
	run(sel("INBOX"))
	want("after SELECT INBOX", "INBOX", 0, false)
	run(list("inbox"))
	want("after a LIST of inbox", "INBOX", '.', true)
	run(&session.Command{Name: "CLOSE"})
	want("after CLOSE", "", 0, false)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
