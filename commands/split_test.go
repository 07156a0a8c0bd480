package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestSplitLongSets replays commands whose sets are longer than the
// client's limit: each goes as several commands, and the answers are
// joined (split/split).
func TestSplitLongSets(t *testing.T) {
	c, ctx := scripted(t, "split/split")
	c.SetMaxSetLength(5)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for m, err := range c.Fetch(ctx, commands.UIDs(1, 3, 5, 7, 9), &commands.FetchItems{Flags: true}) {
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, m.UID)
	}
	if !slices.Equal(uids, []uint32{1, 3, 9}) {
		t.Fatalf("UID FETCH in two parts: %v", uids)
	}
	all, err := c.FetchAll(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Flags: true})
	if err != nil || len(all) != 1 {
		t.Fatalf("FETCH 1:* (whole): %v %d", err, len(all))
	}
	st, err := c.Store(ctx, commands.UIDs(1, 3, 5, 7, 9), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{UnchangedSince: 7})
	if err != nil || len(st.Messages) != 2 || st.Modified.String() != "UID 3,7" {
		t.Fatalf("UID STORE in two parts: %v %+v", err, st)
	}
	cp, err := c.Copy(ctx, commands.UIDs(1, 3, 5, 7, 9), "Archive")
	if err != nil || cp.UIDValidity != 4 || cp.Src.String() != "1,3,9" || cp.Dst.String() != "20:22" {
		t.Fatalf("UID COPY in two parts: %v %+v", err, cp)
	}
	mv, err := c.Move(ctx, commands.SeqNums(2, 4, 6, 8, 10), "Trash")
	if err != nil || mv.UIDValidity != 6 || mv.Src.String() != "3,9,11,15,19" || mv.Dst.String() != "30:34" {
		t.Fatalf("MOVE of sequence numbers in parts: %v %+v", err, mv)
	}
	ex, err := c.Expunge(ctx, &commands.Set{UID: true, Nums: commands.UIDs(1, 5, 7, 13).Nums})
	if err != nil || !slices.Equal(ex.SeqNums, []uint32{1, 3}) {
		t.Fatalf("UID EXPUNGE in two parts: %v %+v", err, ex)
	}
}

// TestSplitFailures replays split commands that fail part-way
// (split/errors).
func TestSplitFailures(t *testing.T) {
	c, ctx := scripted(t, "split/errors")
	c.SetMaxSetLength(5)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	set := commands.UIDs(1, 3, 5, 7, 9)
	var split *commands.SplitError
	_, err := c.Store(ctx, set, commands.AddFlags, []string{`\Seen`}, nil)
	if !errors.Is(err, session.ErrNo) || errors.As(err, &split) {
		t.Fatalf("both parts refused: %v", err)
	}
	st, err := c.Store(ctx, set, commands.AddFlags, []string{`\Seen`}, nil)
	if !errors.As(err, &split) || !errors.Is(err, session.ErrNo) || split.Sent != 1 || split.Parts != 2 ||
		split.Done.String() != "UID 1,3,5" || st == nil || len(st.Messages) != 1 {
		t.Fatalf("second part refused: %v %+v", err, st)
	}
	// Pipelined: the second part succeeds after the first was refused.
	st, err = c.Store(ctx, set, commands.AddFlags, []string{`\Seen`}, nil)
	if !errors.As(err, &split) || split.Sent != 1 || split.Done.String() != "UID 7,9" || st == nil || len(st.Messages) != 1 {
		t.Fatalf("first of two pipelined parts refused: %v %+v", err, st)
	}
	// A long set of sequence numbers is turned into UIDs first (UID
	// SEARCH, in parts): an EXPUNGE during the first part stops it,
	// nothing copied.
	cp0, err := c.Copy(ctx, commands.SeqNums(1, 3, 5, 7, 9), "Archive")
	if !errors.Is(err, commands.ErrRenumbered) || errors.As(err, &split) || cp0 != nil {
		t.Fatalf("COPY by sequence numbers with an EXPUNGE: %v %+v", err, cp0)
	}
	fetch := func(set commands.Set, it *commands.FetchItems) (got int, err error) {
		for m, e := range c.Fetch(ctx, set, it) {
			if e != nil {
				return got, e
			}
			if m != nil {
				got++
			}
		}
		return got, nil
	}
	got, err := fetch(commands.SeqNums(1, 3, 5, 7, 9), &commands.FetchItems{Flags: true, Raw: "RFC822.SIZE"})
	if !errors.Is(err, commands.ErrRenumbered) || got != 1 {
		t.Fatalf("FETCH by sequence numbers with an EXPUNGE: %v, %d messages", err, got)
	}
	got, err = fetch(commands.SeqNums(1, 3, 5, 7), &commands.FetchItems{Flags: true})
	if !errors.Is(err, commands.ErrRenumbered) || got != 3 {
		t.Fatalf("FETCH by sequence numbers sent ahead, an EXPUNGE before the second part's answer: %v, %d messages", err, got)
	}
	got, err = fetch(commands.SeqNums(1, 3, 5, 7), &commands.FetchItems{Flags: true})
	if !errors.Is(err, commands.ErrRenumbered) || !errors.Is(err, session.ErrBad) || got != 3 {
		t.Fatalf("FETCH by sequence numbers sent ahead, the second part refused after an EXPUNGE: %v, %d messages", err, got)
	}
	cp, err := c.Move(ctx, set, "Nope")
	if !errors.As(err, &split) || split.Command != "UID COPY" || split.Done.String() != "UID 1,3,5" ||
		cp == nil || cp.Dst.String() != "20:22" {
		t.Fatalf("fallback move whose COPY stopped: %v %+v", err, cp)
	}
}

// TestSplitQResync replays SELECT (QRESYNC) with known UIDs and match
// data past the client's limit (split/qresync).
func TestSplitQResync(t *testing.T) {
	c, ctx := scripted(t, "split/qresync")
	c.SetMaxSetLength(5)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	q := &commands.QResync{UIDValidity: 7, ModSeq: 10, KnownUIDs: commands.UIDs(1, 3, 5).Nums,
		SeqMatchSeqs: commands.SeqNums(2).Nums, SeqMatchUIDs: commands.UIDs(3).Nums}
	if _, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: q}); err != nil {
		t.Fatal(err)
	}
	q.KnownUIDs = commands.UIDs(1, 3, 5, 7, 9).Nums
	st, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: q})
	// Sent as 1:9, answered VANISHED (EARLIER) 2,7: 2, never known, is
	// left out (RFC 7162 section 3.2.5.1; TestSelectQResyncVanishedOutsideKnown).
	if err != nil || st.Vanished.String() != "7" {
		t.Fatalf("known UIDs as one range: %v %+v", err, st)
	}
	q.KnownUIDs = commands.UIDs(1, 3, 5).Nums
	q.SeqMatchSeqs, q.SeqMatchUIDs = commands.SeqRange(1, 3).Nums, commands.UIDs(1, 3, 5).Nums
	if _, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: q}); err != nil {
		t.Fatal(err)
	}
}

// TestSplitSearch replays Search and SearchIter with a Set criterion
// past the client's limit (split/search).
func TestSplitSearch(t *testing.T) {
	c, ctx := scripted(t, "split/search")
	c.SetMaxSetLength(5)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	set := commands.UIDs(1, 3, 5, 7, 9)
	cr := &commands.Criteria{Set: &set, NotFlags: []string{`\Seen`}}
	res, err := c.Search(ctx, cr, &commands.SearchOptions{UID: true})
	if err != nil || res.All.String() != "3,5,9" || res.Count != 3 || res.Min != 3 || res.Max != 9 {
		t.Fatalf("SEARCH in two parts: %v %+v", err, res)
	}
	all := &commands.SearchReturn{Min: true, Max: true, All: true, Count: true}
	res, err = c.Search(ctx, cr, &commands.SearchOptions{UID: true, Return: all})
	if err != nil || res.All.String() != "3,5" || res.Count != 2 || !res.HasMin || res.Min != 3 || res.Max != 5 || !res.FromESearch {
		t.Fatalf("ESEARCH in two parts (the second empty): %v %+v", err, res)
	}
	var got []uint32
	for n, err := range c.SearchIter(ctx, cr, &commands.SearchOptions{UID: true}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if !slices.Equal(got, []uint32{3, 5, 7, 9}) {
		t.Fatalf("SearchIter in two parts: %v", got)
	}
	if _, err := c.Search(ctx, cr, &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Save: true}}); err != nil {
		t.Fatalf("RETURN (SAVE), whole: %v", err)
	}
}

// fillBigMailbox appends n messages of 200 KiB (over MaxStringLiteral:
// streamed) to name, a fresh empty mailbox, and expunges UID 2.
func fillBigMailbox(t *testing.T, c *commands.Client, ctx context.Context, name string, n int) {
	for i := 0; i < n; i++ {
		msg := []byte(fmt.Sprintf("Subject: m%d\r\n\r\n%s\r\n", i+1, bytes.Repeat([]byte("y"), 200<<10+i)))
		if _, err := c.Append(ctx, name, bytes.NewReader(msg), int64(len(msg)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func fetchBodySizes(t *testing.T, ctx context.Context, c *commands.Client, set commands.Set) ([]string, error) {
	var got []string
	for m, err := range c.Fetch(ctx, set, &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			return got, err
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
		got = append(got, fmt.Sprintf("%d:%d", m.UID, n))
	}
	return got, nil
}

// splitFetchRun fetches streamed bodies from mailbox, a fresh empty one
// (its UIDs start at 1): a UID set split into one-UID commands with a UID
// missing, then 1:*, 100:* (no message) and sequence numbers 2:*, whole.
func splitFetchRun(t *testing.T, c *commands.Client, mailbox string) {
	ctx := dvCtx(t)
	fillBigMailbox(t, c, ctx, mailbox, 5)
	c.SetMaxSetLength(1)
	got, err := fetchBodySizes(t, ctx, c, commands.UIDs(1, 2, 3, 4, 5, 6))
	t.Logf("split Fetch: %v %v", got, err)
	if err != nil || len(got) != 4 {
		t.Errorf("split Fetch: %v, %v; want UIDs 1,3,4,5", got, err)
	}
	c.SetMaxSetLength(0)
	got, err = fetchBodySizes(t, ctx, c, commands.UIDRange(1, 0))
	t.Logf("1:*: %v %v", got, err)
	if err != nil || len(got) != 4 {
		t.Errorf("Fetch 1:*: %v, %v; want 4 messages", got, err)
	}
	got, err = fetchBodySizes(t, ctx, c, commands.UIDRange(100, 0))
	t.Logf("100:*: %v %v", got, err)
	if err != nil {
		t.Errorf("Fetch 100:*: %v, %v", got, err)
	}
	got, err = fetchBodySizes(t, ctx, c, commands.SeqRange(2, 0))
	t.Logf("seq 2:*: %v %v", got, err)
	if err != nil || len(got) != 3 {
		t.Errorf("Fetch seq 2:*: %v, %v; want 3 messages", got, err)
	}
}

// TestSplitFetchStreamedBodiesDovecot: splitFetchRun against Dovecot. The
// server is the test binary's, shared by every run of the test (-count=2):
// each run fills a mailbox of its own (dvMailbox's fresh name).
func TestSplitFetchStreamedBodiesDovecot(t *testing.T) {
	splitFetchRun(t, dvClient(t, "alice", nil), dvMailbox(t, "alice", 0))
}

// TestSplitFetchStreamedBodiesCyrus: splitFetchRun against Cyrus (a server
// of the test's own).
func TestSplitFetchStreamedBodiesCyrus(t *testing.T) {
	_, c := cyAlice(t)
	if err := c.Create(dvCtx(t), "big", nil); err != nil {
		t.Fatal(err)
	}
	splitFetchRun(t, c, "big")
}

// TestSplitStoreDeadlineMidWrite: a Store of a set long enough to go as
// many pipelined UID STORE commands (over 1 MB of sets), to a server that
// stops reading, with a deadline: the deadline cuts the write of a later
// part, which ends the session. Store's caller's own context ended, and
// docs/errors.md ("In code") says: "unless the context ended in the
// middle of writing the command: then err is an *AbortError wrapping the
// context's error". Since 33fedc3 only the part whose write was cut gets
// an error matching the context's (ownCancelError); the split run returns
// the first part's error (the session's *AbortError, whose
// cancelledWriteError does not unwrap), and Store's error no longer
// matches context.DeadlineExceeded, though it was Store's own deadline.
func TestSplitStoreDeadlineMidWrite(t *testing.T) {
	client, server := transport.Pipe()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] fake\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(rest, "SELECT ") {
				io.WriteString(server, "* 1 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n"+tag+" OK [READ-WRITE] done\r\n")
				break
			}
			io.WriteString(server, tag+" OK done\r\n")
		}
		<-release // reads nothing more
	}()
	t.Cleanup(func() {
		close(release)
		<-done
	})
	octx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := commands.Open(octx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	if _, err := c.Select(octx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	uids := make([]uint32, 0, 300000)
	for u := uint32(1); len(uids) < cap(uids); u += 2 {
		uids = append(uids, u)
	}
	ctx, cancel2 := context.WithTimeout(octx, 500*time.Millisecond)
	defer cancel2()
	_, err = c.Store(ctx, commands.UIDs(uids...), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{Silent: true})
	msg := ""
	if err != nil {
		msg = err.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
	}
	t.Logf("Store: %T %s; session: %v", err, msg, c.Session().Err() != nil)
	if ctx.Err() == nil || !errors.Is(err, session.ErrAborted) {
		t.Skipf("the deadline did not cut a write: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Store's own deadline cut its write and aborted the session, but its error does not match context.DeadlineExceeded (docs/errors.md: \"an *AbortError wrapping the context's error\"): %s", msg)
	}
}

// TestSplitFetchPartsReadAhead: the parts of a Fetch of sequence numbers
// answered before an EXPUNGE are yielded whole, however far the session
// had read on (here: a NOOP in the loop body makes it read every part in
// flight, then the NOOP's EXPUNGE), and the parts not started yet are not
// sent (split/readahead). Checked by the count of now, the second part
// ended the loop with ErrRenumbered though its answer came before the
// EXPUNGE; checked as read, with no guard for the parts never started,
// the loop indexed an empty queue (a panic the stress run of
// TestFetchSeqPartsBehindSelect found).
func TestSplitFetchPartsReadAhead(t *testing.T) {
	c, ctx := scripted(t, "split/readahead")
	c.SetMaxSetLength(5)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var got []uint32
	var end error
	for m, err := range c.Fetch(ctx, commands.SeqNums(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27), &commands.FetchItems{Flags: true}) {
		if err != nil {
			end = err
			break
		}
		got = append(got, m.SeqNum)
		if len(got) == 1 {
			if err := c.Noop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []uint32{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21}
	if !slices.Equal(got, want) || !errors.Is(end, commands.ErrRenumbered) {
		t.Fatalf("Fetch in 7 parts, a NOOP's EXPUNGE read after the first 5 parts' answers: yielded %v, ended with %v; want %v, then ErrRenumbered", got, end, want)
	}
}
