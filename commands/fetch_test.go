package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

func TestFetchDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 12)
	st, err := c.Select(ctx, mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists != 12 || st.UIDValidity == 0 || st.UIDNext != 13 || st.ReadOnly {
		t.Fatalf("state %+v", st)
	}
	// Bodies byte for byte, streamed; every other message's body skipped.
	n := 0
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{
		UID: true, Flags: true, Size: true, Envelope: true,
		Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: 1000,
	}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		want := testserver.SampleMessage(int(m.SeqNum) - 1)
		if m.UID != m.SeqNum || m.Size != int64(len(want)) || m.Envelope == nil {
			t.Fatalf("message %d: uid %d size %d env %v", m.SeqNum, m.UID, m.Size, m.Envelope)
		}
		info := testserver.SampleInfo(int(m.SeqNum) - 1)
		if got, _ := m.Envelope.DecodedSubject(); got != info.Subject {
			t.Errorf("subject %q, want %q", got, info.Subject)
		}
		if m.SeqNum%2 == 0 {
			continue // skipped: must be drained
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: body differs (%d vs %d bytes)", m.SeqNum, len(got), len(want))
		}
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("after the last section: %v", err)
		}
		if _, err := s.Read(make([]byte, 1)); s.Size > commands.BufferedSectionMax && !errors.Is(err, commands.ErrSectionGone) {
			t.Fatalf("read of an old section: %v", err)
		}
	}
	if n != 12 {
		t.Fatalf("%d messages, want 12", n)
	}
	// UID set, partial and header fields; break out early, then run more.
	for m, err := range c.Fetch(ctx, commands.UIDs(3, 5), &commands.FetchItems{
		Sections: []commands.FetchSection{{Specifier: "HEADER.FIELDS", Fields: []string{"Message-ID"}}, {Count: 10}},
	}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.UID != 3 {
			t.Fatalf("first UID %d", m.UID)
		}
		s, _ := m.NextSection()
		h, _ := io.ReadAll(s)
		if !bytes.Contains(h, []byte(testserver.SampleInfo(2).MessageID)) {
			t.Fatalf("header %q", h)
		}
		s, _ = m.NextSection()
		p, _ := io.ReadAll(s)
		if !bytes.Equal(p, testserver.SampleMessage(2)[:10]) || s.Origin != 0 || !s.HasOrigin {
			t.Fatalf("partial %q origin %d", p, s.Origin)
		}
		break
	}
	ms, err := c.FetchAll(ctx, commands.UIDs(7), &commands.FetchItems{Flags: true})
	if err != nil || len(ms) != 1 || ms[0].UID != 7 || ms[0].Flags == nil {
		t.Fatalf("after break: %v %+v", err, ms)
	}
	// A bad set: the server's BAD comes as the iteration's error.
	var se *session.StatusError
	_, err = c.FetchAll(ctx, commands.SeqNums(99), &commands.FetchItems{Flags: true})
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("fetch 99: %v", err)
	}
	_ = codec.FetchUID
}

// TestFetchCancelDovecot ends the context while a section is held and
// while messages are queued: the iteration ends with the context's error,
// the rest of the answer is read and dropped, and the Client goes on.
func TestFetchCancelDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 20)
	if _, err := c.Examine(dvCtx(t), mb); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(dvCtx(t))
	defer cancel()
	n := 0
	var last error
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{{}}, BufferMax: -1}) {
		if err != nil {
			last = err
			break
		}
		n++
		s, _ := m.NextSection()
		s.Read(make([]byte, 10))
		cancel()
	}
	if n != 1 || !errors.Is(last, context.Canceled) {
		t.Fatalf("%d messages, %v", n, last)
	}
	// The connection is still in step.
	ms, err := c.FetchAll(dvCtx(t), commands.UIDs(20), &commands.FetchItems{Size: true})
	if err != nil || len(ms) != 1 || ms[0].Size != int64(len(testserver.SampleMessage(19))) {
		t.Fatalf("after cancel: %v %+v", err, ms)
	}
	// Breaking out of the loop (without cancel) also leaves it in step.
	for range c.Fetch(dvCtx(t), commands.SeqRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{{}}, BufferMax: -1}) {
		break
	}
	if err := c.Noop(dvCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// bigMessage returns a message of about size bytes.
func bigMessage(subject string, size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: " + subject + "\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %06d of the body of %s, long enough to count\r\n", i, subject)
	}
	return b.Bytes()
}

// TestFetchRunWhileHoldingDovecot runs other commands from inside the loop
// while a section is half read: a streamed one (over the 64 KiB string
// limit), one read in place from its FETCH response (over BufferMax) and
// a small one. Nothing deadlocks, and every body arrives whole.
func TestFetchRunWhileHoldingDovecot(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	msgs := [][]byte{testserver.SampleMessage(0), bigMessage("big", 300<<10), bigMessage("medium", 20<<10), testserver.SampleMessage(1)}
	c := dvClient(t, testserver.Alice, nil)
	ctx, cancel := context.WithTimeout(dvCtx(t), 30*time.Second) // a deadlock fails here
	defer cancel()
	for _, m := range msgs {
		if _, err := c.AppendBytes(ctx, mb, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	for _, set := range []commands.Set{commands.UIDRange(1, 0), commands.SeqRange(1, 0)} {
		n := 0
		var vanished int
		for m, err := range c.Fetch(ctx, set, &commands.FetchItems{UID: true, Flags: true,
			Sections: []commands.FetchSection{commands.WholeMessage}, OnVanished: func(codec.SeqSet, bool) { vanished++ }}) {
			if err != nil {
				t.Fatalf("%v: %v", set, err)
			}
			n++
			s, err := m.NextSection()
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 100)
			if _, err := io.ReadFull(s, head); err != nil {
				t.Fatal(err)
			}
			// Other commands while the section is held (by sequence
			// numbers the NOOP waits for the FETCH to end: its answer is
			// queued meanwhile).
			if err := c.Noop(ctx); err != nil {
				t.Fatal(err)
			}
			if set.UID {
				if _, err := c.Status(ctx, "INBOX", 0); err != nil {
					t.Fatal(err)
				}
				ms, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Size: true})
				if err != nil || len(ms) != 1 || ms[0].Size != int64(len(msgs[0])) {
					t.Fatalf("FETCH inside: %v %+v", err, ms)
				}
			}
			rest, err := io.ReadAll(s)
			if err != nil {
				t.Fatalf("message %d: %v", m.SeqNum, err)
			}
			if got := append(head, rest...); !bytes.Equal(got, msgs[m.SeqNum-1]) {
				t.Fatalf("message %d: body differs (%d vs %d bytes)", m.SeqNum, len(got), len(msgs[m.SeqNum-1]))
			}
			if m.UID != m.SeqNum || m.Flags == nil {
				t.Fatalf("message %d: uid %d flags %v", m.SeqNum, m.UID, m.Flags)
			}
			if _, err := m.NextSection(); err != io.EOF {
				t.Fatalf("after the last section: %v", err)
			}
			if _, err := s.Read(head); len(msgs[m.SeqNum-1]) > commands.BufferedSectionMax && !errors.Is(err, commands.ErrSectionGone) {
				t.Fatalf("message %d: read after NextSection: %v", m.SeqNum, err)
			}
		}
		if n != len(msgs) {
			t.Fatalf("%v: %d messages", set, n)
		}
	}
	// ListIter lets the loop run commands too.
	for mi, err := range c.ListIter(ctx, "*", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("NOOP inside LIST (%s): %v", mi.Name, err)
		}
	}
}

// TestFetchBorrowDovecot fetches with FetchItems.Borrow and runs other
// commands from inside the loop: the lent message's values (the decoder's
// own) stay as they were while the loop body is on it (the session gives
// the decoder new memory when the reader must go on), its section reads
// whole (a streamed one too), and Clone's copies hold the same values.
func TestFetchBorrowDovecot(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	msgs := [][]byte{testserver.SampleMessage(0), testserver.SampleMessage(1), bigMessage("big", 300<<10), testserver.SampleMessage(2)}
	c := dvClient(t, testserver.Alice, nil)
	ctx, cancel := context.WithTimeout(dvCtx(t), 30*time.Second)
	defer cancel()
	for _, m := range msgs {
		if _, err := c.AppendBytes(ctx, mb, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	var clones []*commands.Message
	var subjects []string
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Flags: true,
		Envelope: true, BodyStructure: true, Sections: []commands.FetchSection{commands.WholeMessage}, Borrow: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Envelope == nil || m.BodyStructure == nil || m.Flags == nil {
			t.Fatalf("message %d: %+v", m.SeqNum, m)
		}
		subject, typ := string(m.Envelope.Subject), string(m.BodyStructure.Type)
		if err := c.Noop(ctx); err != nil {
			t.Fatal(err)
		}
		ms, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Envelope: true, BodyStructure: true})
		if err != nil || len(ms) != 1 {
			t.Fatalf("FETCH inside: %v %+v", err, ms)
		}
		if string(m.Envelope.Subject) != subject || string(m.BodyStructure.Type) != typ {
			t.Fatalf("message %d: subject %q, type %q after other commands; were %q, %q",
				m.SeqNum, m.Envelope.Subject, m.BodyStructure.Type, subject, typ)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(s); err != nil || !bytes.Equal(got, msgs[m.SeqNum-1]) {
			t.Fatalf("message %d: body %d bytes, %v", m.SeqNum, len(got), err)
		}
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("after the last section: %v", err)
		}
		clones = append(clones, m.Clone())
		subjects = append(subjects, subject)
	}
	if len(clones) != len(msgs) {
		t.Fatalf("%d messages", len(clones))
	}
	for i, m := range clones {
		if m.UID != uint32(i+1) || string(m.Envelope.Subject) != subjects[i] || m.BodyStructure == nil {
			t.Fatalf("copy %d: UID %d subject %q, want %q", i, m.UID, m.Envelope.Subject, subjects[i])
		}
	}
	if got, _ := clones[0].Envelope.DecodedSubject(); got != testserver.SampleInfo(0).Subject {
		t.Fatalf("subject %q", got)
	}
}

// TestExpungeVanishedDuringUIDFetch: with QRESYNC on, Expunge(UID
// 2) run while a UID FETCH is in flight (from the Fetch loop's body, which
// the package allows). The server answers the UID EXPUNGE with a live
// "* VANISHED 2" before the FETCH's tagged OK (legal: RFC 9051 section
// 5.5). The session gave it to the oldest command that wants VANISHED, the
// UID FETCH (which takes only VANISHED (EARLIER)), and Expunge returned an
// empty Vanished though the server expunged UID 2 in answer to it.
func TestExpungeVanishedDuringUIDFetch(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ENABLE UIDPLUS CONDSTORE QRESYNC")
		en, err := c.Until("ENABLE")
		if err != nil {
			return err
		}
		if err := c.Lines("* ENABLED QRESYNC", en.Tag+" OK enabled"); err != nil {
			return err
		}
		fetch, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		if err := c.Lines("* 1 FETCH (UID 1 FLAGS ())"); err != nil {
			return err
		}
		exp, err := c.Expect("UID EXPUNGE")
		if err != nil {
			return err
		}
		if err := c.Lines("* VANISHED 2", fetch.Tag+" OK fetch done", exp.Tag+" OK expunge done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	enableQResyncSelect(t, ctx, c, "INBOX")
	var res *commands.ExpungeResult
	var eerr error
	n := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(1, 3), &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 1 {
			set := commands.UIDs(2)
			res, eerr = c.Expunge(ctx, &set)
		}
		_ = m
	}
	if eerr != nil {
		t.Fatal(eerr)
	}
	if !res.Vanished.Contains(2) {
		t.Fatalf("Expunge(UID 2).Vanished = %v; want 2 (the server's VANISHED answered the UID EXPUNGE)", res.Vanished)
	}
}

// TestUIDFetchStreamedBodyBeforeUID: two goroutines fetch BODY[]
// of UID 1 and UID 2 (sets apart: pipelined). The server puts each
// message's UID after its body (any order of FETCH items is legal, RFC
// 9051 section 7.5.2) and interleaves the answers. A body over the
// tokenizer's string limit is streamed, routed before the UID is read:
// the session gave it to the oldest UID FETCH in flight, and the rest of
// the response (with the UID) by UID to the other: the first Fetch
// yielded a second message, UID 0 with UID 2's body, and the second
// yielded UID 2 without its body. Such a body is now kept in the FETCH,
// which goes by its UID.
func TestUIDFetchStreamedBodyBeforeUID(t *testing.T) {
	// Both orders of the two commands: with UID 2's sent first, the
	// body of UID 1 meets a guess (the oldest in flight) that is wrong.
	t.Run("UID 1 first", func(t *testing.T) { testUIDFetchStreamedBodyBeforeUID(t, 0, 1) })
	t.Run("UID 2 first", func(t *testing.T) { testUIDFetchStreamedBodyBeforeUID(t, 1, 0) })
}

func testUIDFetchStreamedBodyBeforeUID(t *testing.T, order ...int) {
	body := strings.Repeat("x", 100<<10)
	first := make(chan struct{}) // the server has read the first UID FETCH
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		a, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		close(first)
		b, err := c.Expect("UID FETCH")
		if err != nil {
			return err
		}
		if strings.HasPrefix(a.Args, "2 ") {
			a, b = b, a
		}
		for _, uid := range []int{1, 2} {
			if err := c.WriteString(fmt.Sprintf("* %d FETCH (BODY[] {%d}\r\n%s UID %d)\r\n", uid, len(body), body, uid)); err != nil {
				return err
			}
		}
		if err := c.Lines(a.Tag+" OK done", b.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	got := make([][]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k, i := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m, err := range c.Fetch(ctx, commands.UIDs(uint32(i+1)), &commands.FetchItems{Sections: []commands.FetchSection{commands.WholeMessage}}) {
				if err != nil {
					errs[i] = err
					return
				}
				var n int64
				for {
					s, err := m.NextSection()
					if err != nil {
						break
					}
					k, _ := io.Copy(io.Discard, s)
					n += k
				}
				got[i] = append(got[i], fmt.Sprintf("UID %d with %d body bytes", m.UID, n))
			}
		}()
		if k == 0 {
			// This one goes first: the server has read it.
			select {
			case <-first:
			case <-time.After(hangBound):
				t.Fatalf("the server did not get the first UID FETCH within %v", hangBound)
			}
		}
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || fmt.Sprint(got) != fmt.Sprintf("[[UID 1 with %[1]d body bytes] [UID 2 with %[1]d body bytes]]", len(body)) {
		t.Fatalf("Fetch(UID 1) yielded %q (%v), Fetch(UID 2) yielded %q (%v); want each its own message, UID and body", got[0], errs[0], got[1], errs[1])
	}
}

// TestNewMailFetchLeavesFlagChange follows the documented QRESYNC
// recipe (Example_qresync, QResync.KnownUIDs): after the SELECT, fetch
// UIDRange(the UIDNext saved, 0) for the messages that arrived since.
// Another client flags UID 2 (a known message, not the last) between the
// SELECT and that FETCH. Dovecot reports the change as an unsolicited
// "* 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (n))" before the FETCH's
// tagged OK. The session routed it to the UID FETCH N:* because its set is
// dynamic, although message 2 is not the last (it cannot be the "*"
// answer): the Fetch yielded a "new message" with UID 2 and no envelope,
// and OnUnsolicited, where session.md says another client's flag changes
// go, never saw it.
func TestNewMailFetchLeavesFlagChange(t *testing.T) {
	var mu sync.Mutex
	var flagEvents []uint32
	c := dvClient(t, testserver.Alice, &session.Options{OnUnsolicited: func(r codec.Response) {
		if f, ok := r.(*codec.Fetch); ok {
			mu.Lock()
			flagEvents = append(flagEvents, f.UID)
			mu.Unlock()
		}
	}})
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	// First sync: remember UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT.
	st := enableQResyncSelect(t, ctx, c, mb)
	saved := *st
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	// A new message arrives meanwhile.
	msg := testserver.SampleMessage(7)
	if _, err := other.Append(ctx, mb, bytes.NewReader(msg), int64(len(msg)), nil); err != nil {
		t.Fatal(err)
	}
	var known codec.SeqSet
	known.AddRange(1, 6)
	st, err := c.Select(ctx, mb, &commands.SelectOptions{QResync: &commands.QResync{
		UIDValidity: saved.UIDValidity, ModSeq: saved.HighestModSeq, KnownUIDs: known}})
	if err != nil {
		t.Fatal(err)
	}
	// The worst moment: between the SELECT and the FETCH of new mail.
	if _, err := other.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{commands.FlagFlagged}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	var yielded []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(saved.UIDNext, 0), &commands.FetchItems{Flags: true, Envelope: true}) {
		if err != nil {
			t.Fatal(err)
		}
		yielded = append(yielded, m.UID)
	}
	hm, _ := c.HighestModSeq()
	waitEvents(&mu, func() bool { return len(flagEvents) > 0 })
	mu.Lock()
	defer mu.Unlock()
	t.Logf("UID FETCH %d:* yielded UIDs %v; OnUnsolicited FETCH UIDs %v; HighestModSeq now %d (SELECT's %d)", saved.UIDNext, yielded, flagEvents, hm, st.HighestModSeq)
	if slices.Contains(yielded, 2) || !slices.Contains(flagEvents, 2) {
		t.Fatalf("another client's flag change on UID 2 (not the last message, below UIDNEXT %d) went to the UID FETCH %d:* as a new message (yielded %v) and never to OnUnsolicited (%v)",
			saved.UIDNext, saved.UIDNext, yielded, flagEvents)
	}
}

// bodyUIDLastServer answers a UID FETCH of UID 5 with a body of size
// bytes before the UID (legal: RFC 9051 sets no order of FETCH items).
// With beside set, it first waits for the command named beside (sent by
// another goroutine while the UID FETCH is in flight) and answers it after
// the FETCH, with extra before its OK.
func bodyUIDLastServer(size int, beside, extra string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		f, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		var b *hostile.Command
		if beside != "" {
			if b, err = c.Expect(beside); err != nil {
				return err
			}
		}
		if err := c.WriteString(fmt.Sprintf("* 3 FETCH (BODY[] {%d}\r\n", size)); err != nil {
			return err
		}
		if _, err := c.Copy(io.LimitReader(zeros{}, int64(size))); err != nil {
			return err
		}
		if err := c.WriteString(" UID 5)\r\n" + f.Tag + " OK done\r\n"); err != nil {
			return err
		}
		if b != nil {
			if err := c.WriteString(extra + b.Tag + " OK done\r\n"); err != nil {
				return err
			}
		}
		return c.Serve()
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// fetchOneBig runs Fetch(UIDs(5), BODY[]) and, with beside, another
// command started on another goroutine once the UID FETCH is in flight;
// it returns the bytes the body yielded and the Fetch's error.
func fetchOneBig(t *testing.T, size int, beside string, extra string, other func(ctx context.Context, c *commands.Client) error) (int64, error) {
	c := hostileClientOpts(t, &session.Options{MaxResultBytes: 1 << 20}, bodyUIDLastServer(size, beside, extra))
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	if other != nil {
		go func() {
			// Once the UID FETCH is in flight (its caller waits in Next),
			// so the server reads it first (it fails otherwise); this was
			// a 200 ms wait, which a loaded machine could outlast.
			for deadline := time.Now().Add(hangBound); !parked("session.(*Pending).Next", "commands_test.fetchOneBig"); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					done <- fmt.Errorf("the UID FETCH's caller not in Next within %v", hangBound)
					return
				}
			}
			done <- other(ctx, c)
		}()
	}
	var n int64
	var ferr error
	for m, err := range c.Fetch(ctx, commands.UIDs(5), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			ferr = err
			break
		}
		for {
			s, err := m.NextSection()
			if err != nil {
				break
			}
			k, _ := io.Copy(io.Discard, s)
			n += k
		}
	}
	if other != nil {
		if err := <-done; err != nil {
			t.Errorf("other command: %v", err)
		}
	}
	return n, ferr
}

// TestFetchBodyUIDLastAlone: the control: one UID FETCH in
// flight, its 8 MiB body before its UID, MaxResultBytes 1 MiB: streamed.
func TestFetchBodyUIDLastAlone(t *testing.T) {
	n, err := fetchOneBig(t, 8<<20, "", "", nil)
	if err != nil || n != 8<<20 {
		t.Fatalf("Fetch: %d bytes, %v; want %d, no error", n, err, 8<<20)
	}
}

// TestFetchBodyBesideStoreSmall: control, a body under
// MaxResultBytes beside the UID STORE: kept in the FETCH, yielded whole.
func TestFetchBodyBesideStoreSmall(t *testing.T) {
	n, err := fetchOneBig(t, 512<<10, "UID STORE", "", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Store(ctx, commands.UIDs(7), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{Silent: true})
		return err
	})
	if err != nil || n != 512<<10 {
		t.Fatalf("%d bytes, %v", n, err)
	}
}

// TestBorrowKeptSectionDovecot: under Borrow, a body section that
// came whole with its FETCH response is read in place; Section.Read on
// it after the iteration has ended must fail with ErrSectionGone (its
// documentation: "once a section read in place is no longer current ...
// the iteration moved on, or it ended"). Instead it reads the decoder's
// recycled buffer: after another FETCH, 8667 bytes that are not the
// message's, with a nil error.
func TestBorrowKeptSectionDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	want := dvBody(t, c, 1, false)
	var kept *commands.Section
	for m, err := range c.Fetch(ctx, commands.UIDs(1), &commands.FetchItems{UID: true, Borrow: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		if kept, err = m.NextSection(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.FetchAll(ctx, commands.UIDRange(2, 6), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(kept)
	if err == nil && !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("the Section of UID 1 kept past the iteration read %d bytes, differing from UID 1's %d from byte %d (%q), with no error; want ErrSectionGone", len(got), len(want), i, got[i:min(len(got), i+30)])
	}
	if err != nil && !errors.Is(err, commands.ErrSectionGone) {
		t.Errorf("error %v; want ErrSectionGone", err)
	}
}

// TestPartialZeroLength: Partial(set, section, start, 0) sets
// Count 0, which FetchSection reads as "no partial": it sends
// BODY.PEEK[] (start dropped), the server sends the whole section, and
// Partial reads none of it and returns it empty. A zero length (partial
// needs an nz-number) should be refused, or answered empty without
// fetching a message that may be many megabytes.
func TestPartialZeroLength(t *testing.T) {
	c, srv, ctx := zzSelected(t, "")
	n := len(srv.sent())
	_, err := c.Partial(ctx, commands.UIDs(1), commands.TextSection, 100, 0)
	for _, cmd := range srv.since(n) {
		if strings.Contains(cmd, "FETCH") && !strings.Contains(cmd, "<") {
			t.Errorf("Partial(start 100, length 0): err %v; sent %q, the whole section", err, cmd)
		}
	}
}

// TestSectionReadHonoursContext: a Fetch loop given a context with a
// 2 s deadline reads a streamed body section (io.Copy, as everyone does)
// when the server stalls mid-body (a frozen network: no byte, no FIN).
// The read ignores the loop's context: it returns only when the session's
// own bound fires, the deadline plus StallTimeout (about 63 s with the
// defaults), where "Every method takes a context first; when it ends, the
// call returns its error" (docs/getting-started.md) and Next's read is
// interrupted at once. Defaults: no session option set.
func TestSectionReadHonoursContext(t *testing.T) {
	// Parallel: it waits out a 2 s context; it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	mb := relayBigMailbox(t, 1, 2<<20)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	if _, err := c.Examine(context.Background(), mb); err != nil {
		t.Fatal(err)
	}
	armed := false
	var seen int64 // bytes the server sent since armed
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			seen += int64(len(p))
			if !armed && bytes.Contains(p, []byte("BODY[]")) {
				armed = true
				seen = 0
			}
			if armed && seen > 256<<10 {
				armed = false
				return "freeze"
			}
			return ""
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{}}}) {
			if err != nil {
				done <- err
				return
			}
			s, err := m.NextSection()
			if err != nil {
				done <- err
				return
			}
			if _, err := io.Copy(io.Discard, s); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		t.Logf("returned after %v: %v", time.Since(start), err)
		if err == nil {
			t.Fatal("the fetch of a frozen body succeeded")
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("Fetch loop with a 2 s deadline still reading the frozen body's section after %v", time.Since(start))
	}
}

// TestPartialHonoursContext: Partial (a method that takes a context and
// returns bytes) of a 2 MiB section whose server freezes mid-body does not
// return when its 2 s context ends: it reads the streamed section, which
// only the session's own bound (deadline + StallTimeout, ~63 s) ends.
// FetchAll of the same message returns at the deadline.
func TestPartialHonoursContext(t *testing.T) {
	// Parallel: it waits out a 2 s context; it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	mb := relayBigMailbox(t, 1, 2<<20)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	if _, err := c.Examine(context.Background(), mb); err != nil {
		t.Fatal(err)
	}
	armed := false
	var seen int64 // bytes the server sent since armed
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			seen += int64(len(p))
			if !armed && bytes.Contains(p, []byte("BODY[")) {
				armed = true
				seen = 0
			}
			if armed && seen > 256<<10 {
				armed = false
				return "freeze"
			}
			return ""
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := c.Partial(ctx, commands.UIDs(1), commands.FetchSection{}, 0, 2<<20)
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("returned after %v: %v", time.Since(start), err)
		if err == nil {
			t.Fatal("Partial of a frozen body succeeded")
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("Partial with a 2 s context still blocked after %v", time.Since(start))
	}
}

// TestSectionReadHonoursCancel: the same with a server that is alive
// but slow (about 200 KiB/s) and a context cancelled, by another
// goroutine, once the loop has read the body's first bytes (it was 1 s
// of the wall clock): the session's stall bound never fires, so the
// loop read the whole 4 MiB body (about 20 s here; hours for a large
// attachment on a slow link) before it heard of the cancellation.
func TestSectionReadHonoursCancel(t *testing.T) {
	// Parallel: it waits on a slowed relay of its own and a 1 s cancel; its own mailbox;
	// it looks at nothing process-wide.
	t.Parallel()
	mb := relayBigMailbox(t, 1, 4<<20)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	if _, err := c.Examine(context.Background(), mb); err != nil {
		t.Fatal(err)
	}
	r.Update(func(h *faultrelay.Hooks) {
		h.Delay = 20 * time.Millisecond // a pause before each 4 KiB chunk
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reading := make(chan struct{}) // the body's first bytes are read
	done := make(chan error, 1)
	go func() {
		for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{}}}) {
			if err != nil {
				done <- err
				return
			}
			s, err := m.NextSection()
			if err != nil {
				done <- err
				return
			}
			if _, err := io.ReadFull(s, make([]byte, 1)); err != nil {
				done <- err
				return
			}
			close(reading)
			if _, err := io.Copy(io.Discard, s); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case <-reading:
	case err := <-done:
		t.Fatalf("Fetch ended before its body was read: %v", err)
	case <-time.After(hangBound):
		t.Fatalf("the body's first bytes did not come within %v", hangBound)
	}
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		t.Logf("returned %v after the cancel: %v", time.Since(cancelled), err)
	case <-time.After(7 * time.Second):
		t.Fatalf("Fetch loop still reading the body %v after its context was cancelled", time.Since(cancelled))
	}
}

// TestQueuedAppendNotOtherContextCanceled: two goroutines append on one Client
// (found by the soak). A's context is cancelled while its 20 MiB literal is
// blocked (the network frozen): the session is aborted, as documented. B,
// queued behind A with context.Background(), gets a *NotSentError wrapping
// A's *AbortError, which wraps context.Canceled: errors.Is(errB,
// context.Canceled) is true though B's context never ended. By
// docs/errors.md a context error is "Our own deadline"; a caller that
// treats context.Canceled as "the user gave up" (stops, does not retry)
// drops B's message that was never sent. B's error should not match a
// context error it does not own (the abort's cause could be kept as text,
// or under a type that does not unwrap to it).
func TestQueuedAppendNotOtherContextCanceled(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	r.Freeze()
	big := relayBigMsg(1, 20<<20)
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() {
		_, err := c.Append(ctxA, mb, bytes.NewReader(big), int64(len(big)), nil)
		errA <- err
	}()
	waitParked(t, "A blocked mid-literal", "commands.(*Client).Append", "internal/poll.(*FD).Write")
	small := []byte("Subject: x\r\n\r\nx\r\n")
	errB := make(chan error, 1)
	go func() {
		_, err := c.Append(context.Background(), mb, bytes.NewReader(small), int64(len(small)), nil)
		errB <- err
	}()
	waitParked(t, "B waiting for its turn to write", "commands.(*Client).Append", "session.(*writeLock).lockCtx")
	cancelA()
	ea, eb := <-errA, <-errB
	r.Thaw()
	t.Logf("A (cancelled mid-literal): %v", ea)
	t.Logf("B (context.Background, never written): %v", eb)
	if errors.Is(eb, context.Canceled) {
		t.Fatalf("B's error matches context.Canceled though B's context never ended (it is A's): %v", eb)
	}
	if !errors.Is(eb, session.ErrNotSent) {
		t.Fatalf("B: %v; want ErrNotSent", eb)
	}
}

// TestFetchSectionsUnderResultBound: Client.Fetch (an iterator that
// "keeps nothing and has no bound") of ten small sections of 60,000 bytes
// in one 600 KB FETCH (under the 1 MiB line bound), on a session with
// MaxResultBytes of 256 KiB: since 542477c the sections past half the
// line's bound are collected within MaxResultBytes less what the line
// holds, so the last ones are left out and the iteration fails with a
// *session.ResultTooLargeError; before, they were kept inline and read.
func TestFetchSectionsUnderResultBound(t *testing.T) {
	const n, size = 10, 60000
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 7")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, size, strings.Repeat("x", size))
	}
	b.WriteString(")\r\n")
	resp := b.String()
	sc := fakeServer{on: handlers{"UID FETCH": func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.WriteString(resp + cmd.Tag + " OK done\r\n")
	}, "FETCH": func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.WriteString(resp + cmd.Tag + " OK done\r\n")
	}}}
	ctx, _, c := fakeSession(t, sc, &session.Options{MaxResultBytes: 256 << 10})
	var secs []commands.FetchSection
	for i := 1; i <= n; i++ {
		secs = append(secs, commands.FetchSection{Part: []int{i}})
	}
	got := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(7), &commands.FetchItems{Sections: secs}) {
		if err != nil {
			t.Fatalf("after %d sections read: %v; want all %d (a 600 KB FETCH, under MaxLineLength)", got, err, n)
		}
		for {
			sec, err := m.NextSection()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("NextSection: %v", err)
			}
			data, err := io.ReadAll(sec)
			if err != nil || len(data) != size {
				t.Fatalf("section %d: %d bytes, %v; want %d", got+1, len(data), err, size)
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("%d sections; want %d", got, n)
	}
}

// TestFetchExpungeZeroRefused: "* 0 FETCH" and "* 0 EXPUNGE" name no message
// (RFC 3501 and 9051: nz-number). The codec refuses them (since f858ae2,
// codec's TestNumberZeroRefused) with a *codec.DecodeError and the stream in
// step; through the session and commands: the FETCH they came in fails
// with that error rather than return a message 0 (which a SeqSet reads as
// "*"), the EXPUNGE of 0 renumbers nothing (the count stays), and the
// next command runs. A guard, not a fix: this was already so.
func TestFetchExpungeZeroRefused(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", on: handlers{
		"FETCH": answer("* 0 FETCH (UID 9 FLAGS (\\Seen))", "* 1 FETCH (UID 5 FLAGS ())", "* 0 EXPUNGE"),
		"NOOP":  answer("* 2 FETCH (FLAGS ())"),
	}})
	n0, known := c.Session().Exists()
	msgs, err := c.FetchAll(ctx, commands.SeqNums(1), &commands.FetchItems{UID: true, Flags: true})
	var de *codec.DecodeError
	if !errors.As(err, &de) {
		t.Errorf("FetchAll: %d messages, %v; want a *codec.DecodeError", len(msgs), err)
	}
	for _, m := range msgs {
		if m.SeqNum == 0 || m.UID == 9 {
			t.Errorf("FetchAll returned message %d (UID %d)", m.SeqNum, m.UID)
		}
	}
	if n, k := c.Session().Exists(); n != n0 || k != known {
		t.Errorf("after * 0 EXPUNGE the count is %d (%v); want %d (%v)", n, k, n0, known)
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("the next command: %v", err)
	}
}

// TestFetchSectionAnswersAsked: NextSection hands on every section the
// server sent, asked for or not; a caller could not tell the one asked for
// from another without redoing Partial's unexported matching (the CLI
// has its own). Section.Answers tells it: the same kind (the RFC822 forms
// as their BODY equivalents), part, specifier and header field names (in
// any case and order), and origin.
func TestFetchSectionAnswersAsked(t *testing.T) {
	headerFields := commands.FetchSection{Specifier: "HEADER.FIELDS", Fields: []string{"From", "Subject"}}
	for _, tc := range []struct {
		asked commands.FetchSection
		sent  []string // sections as sent, each with a 1-byte body
		want  []bool   // Answers(asked) of each, in order
	}{
		{commands.WholeMessage, []string{"BODY[HEADER]", "BODY[1]", "BODY[]<5>", "BINARY[]", "BODY[]", "RFC822", "BODY[]<0>"}, []bool{false, false, false, false, true, true, true}},
		{commands.HeaderSection, []string{"BODY[]", "RFC822.HEADER", "BODY[header]", "BODY[1.HEADER]"}, []bool{false, true, true, false}},
		{headerFields, []string{"BODY[HEADER.FIELDS (TO)]", "BODY[HEADER.FIELDS (SUBJECT FROM)]", "BODY[HEADER.FIELDS.NOT (FROM SUBJECT)]"}, []bool{false, true, false}},
		// Field names compare in ASCII case only: U+017F (long s)
		// folds to "s" in Unicode, and "\u017fUBJECT" is no Subject.
		{headerFields, []string{"BODY[HEADER.FIELDS (from \u017fubject)]", "BODY[HEADER.FIELDS (from subject)]"}, []bool{false, true}},
		{commands.FetchSection{Part: []int{1, 2}, Binary: true, Offset: 10, Count: 5}, []string{"BINARY[1.2]<10>", "BODY[1.2]<10>", "BINARY[1.2]", "BINARY[1.3]<10>"}, []bool{true, false, false, false}},
	} {
		var items []string
		for _, s := range tc.sent {
			items = append(items, s+" {1}\r\nx")
		}
		c := resSelected(t, "IMAP4rev1", "FETCH", "* 1 FETCH ("+strings.Join(items, " ")+")")
		var got []bool
		for m, err := range c.Fetch(resCtx(t), commands.SeqNums(1), &commands.FetchItems{Sections: []commands.FetchSection{tc.asked}}) {
			if err != nil {
				t.Fatalf("%s: %v", tc.asked, err)
			}
			for {
				s, err := m.NextSection()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", tc.asked, err)
				}
				got = append(got, s.Answers(tc.asked))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("asked %s, sent %q: Answers = %v; want %v", tc.asked, tc.sent, got, tc.want)
		}
	}
}
