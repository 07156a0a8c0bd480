package commands_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestLongAnswers: with the defaults, a mailbox of 200,000 messages whose
// SORT, THREAD and ESORT answers are lines of 1.4 to 2.6 MB, past the
// session's line bound (1 MiB): each ended the session with
// wire.ErrLineTooLong. The decoder now reads such lines without keeping
// their bytes; the numbers come back whole, in the server's order, and
// the session goes on (a NOOP after them).
func TestLongAnswers(t *testing.T) {
	const n = 200000
	// The sort order: a permutation of 1..n that forms no ranges.
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32((i*7919)%n + 1)
	}
	c, ctx, _ := selectedServer(t, "IMAP4rev1 SORT ESORT ESEARCH THREAD=REFERENCES", n, func(cmd string) string {
		var b strings.Builder
		switch {
		case strings.HasPrefix(cmd, "SORT (DATE) UTF-8 ALL"):
			b.WriteString("* SORT")
			for _, v := range order {
				b.WriteString(" " + strconv.Itoa(int(v)))
			}
		case strings.HasPrefix(cmd, "SORT RETURN (ALL)"):
			b.WriteString("* ESEARCH ALL ")
			for i, v := range order {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Itoa(int(v)))
			}
		case strings.HasPrefix(cmd, "THREAD REFERENCES"):
			// A thread per pair: (a b)(c d)...
			b.WriteString("* THREAD ")
			for i := 0; i < n; i += 2 {
				b.WriteString("(" + strconv.Itoa(int(order[i])) + " " + strconv.Itoa(int(order[i+1])) + ")")
			}
		default:
			return ""
		}
		b.WriteString("\r\n")
		return b.String()
	})
	got, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, nil, nil)
	if err != nil || !slices.Equal(got, order) {
		t.Fatalf("Sort: %d numbers, %v", len(got), err)
	}
	k := 0
	for v, err := range c.SortIter(ctx, []commands.SortKey{{Key: "DATE"}}, nil, nil) {
		if err != nil || v != order[k] {
			t.Fatalf("SortIter number %d: %d, %v", k, v, err)
		}
		k++
	}
	if k != n {
		t.Fatalf("SortIter: %d numbers", k)
	}
	es, err := c.ESort(ctx, []commands.SortKey{{Key: "DATE"}}, nil, nil)
	if err != nil {
		t.Fatalf("ESort: %v", err)
	}
	if l, _ := es.All.Len(); l != n {
		t.Fatalf("ESort: %d numbers", l)
	}
	threads, err := c.Thread(ctx, "REFERENCES", nil, nil)
	if err != nil || len(threads) != n/2 {
		t.Fatalf("Thread: %d threads, %v", len(threads), err)
	}
	if last := threads[n/2-1]; last.Num != order[n-2] || len(last.Children) != 1 || last.Children[0].Num != order[n-1] {
		t.Fatalf("Thread: last thread %+v", last)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the long answers: %v", err)
	}
}

// TestMaxNumbersOption: session.Options.MaxNumbers reaches the decoder
// and Search's parts. With 1,000: a mailbox of 2,500 messages without
// ESEARCH is searched in three parts; a SORT answer of 1,500 numbers fails
// with codec.ErrTooManyNumbers, and the session goes on.
func TestMaxNumbersOption(t *testing.T) {
	const n = 2500
	nums := func(name string, first, last int) string {
		var b strings.Builder
		b.WriteString("* " + name)
		for i := first; i <= last; i++ {
			b.WriteString(" " + strconv.Itoa(i))
		}
		return b.String() + "\r\n"
	}
	c, ctx, sent := selectedServerWith(t, &session.Options{MaxNumbers: 1000}, "IMAP4rev1 SORT", n, func(cmd string) string {
		switch {
		case strings.HasPrefix(cmd, "SEARCH 1:1000"):
			return nums("SEARCH", 1, 1000)
		case strings.HasPrefix(cmd, "SEARCH 1001:2000"):
			return nums("SEARCH", 1001, 2000)
		case strings.HasPrefix(cmd, "SEARCH 2001:*"):
			return nums("SEARCH", 2001, n)
		case strings.HasPrefix(cmd, "SORT"):
			return nums("SORT", 1, 1500)
		}
		return ""
	})
	res, err := c.Search(ctx, nil, nil)
	if err != nil || res.Count != n {
		t.Fatalf("Search: %v, %v", res, err)
	}
	if _, err := c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, nil, nil); !errors.Is(err, codec.ErrTooManyNumbers) {
		t.Fatalf("Sort of 1,500 numbers: %v, want ErrTooManyNumbers", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	want := []string{"SELECT INBOX", "SEARCH 1:1000", "SEARCH 1001:2000", "SEARCH 2001:*", "SORT (ARRIVAL) UTF-8 ALL", "NOOP"}
	if got := sent(); !slices.Equal(got, want) {
		t.Fatalf("sent %q\nwant %q", got, want)
	}
}

// TestSortLongSet: a Criteria.Set too long for the command line (20,000
// UIDs, 114 KB) cannot be sent in parts to SORT (the orders would not
// join): Sort and ESort send the SORT without it and restrict the answer
// to it. Before, the set went whole, and Dovecot answered BAD (Cyrus
// closes the connection). A set of the other kind than the answer's
// numbers still goes whole: it cannot be checked against them.
func TestSortLongSet(t *testing.T) {
	const n = 40000
	c, ctx, sent := selectedServer(t, "IMAP4rev1 SORT ESORT", n, func(cmd string) string {
		if !strings.HasPrefix(cmd, "UID SORT (REVERSE ARRIVAL) UTF-8 ") {
			return ""
		}
		var b strings.Builder
		b.WriteString("* SORT")
		for u := n; u >= 1; u-- {
			b.WriteString(" " + strconv.Itoa(u))
		}
		return b.String() + "\r\n"
	})
	var odd, absent commands.Set
	odd.UID, absent.UID = true, true
	for u := uint32(1); u < n; u += 2 {
		odd.Nums.AddNum(u)
		absent.Nums.AddNum(n + u)
	}
	keys := []commands.SortKey{{Key: "ARRIVAL", Reverse: true}}
	uid := &commands.SearchOptions{UID: true}
	got, err := c.Sort(ctx, keys, &commands.Criteria{Set: &odd, NotFlags: []string{`\Deleted`}}, uid)
	if err != nil || len(got) != n/2 || got[0] != n-1 || got[n/2-1] != 1 {
		t.Fatalf("Sort within 20,000 UIDs: %d UIDs, %v", len(got), err)
	}
	all := &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Min: true, Max: true, Count: true, All: true}}
	es, err := c.ESort(ctx, keys, &commands.Criteria{Set: &odd}, all)
	if err != nil || !es.HasMin || es.Min != n-1 || !es.HasMax || es.Max != 1 || es.Count != n/2 || !es.All.Equal(odd.Nums) {
		t.Fatalf("ESort within 20,000 UIDs: %+v, %v", es, err)
	}
	es, err = c.ESort(ctx, keys, &commands.Criteria{Set: &absent}, all)
	if err != nil || es.HasMin || es.HasMax || !es.HasCount || es.Count != 0 || !es.All.IsEmpty() {
		t.Fatalf("ESort within 20,000 absent UIDs: %+v, %v", es, err)
	}
	seqs := commands.Set{Nums: odd.Nums} // sequence numbers: sent whole
	if _, err := c.Sort(ctx, keys, &commands.Criteria{Set: &seqs}, uid); err != nil {
		t.Fatal(err)
	}
	got2 := sent()
	want := []string{"SELECT INBOX", "UID SORT (REVERSE ARRIVAL) UTF-8 UNDELETED", "UID SORT (REVERSE ARRIVAL) UTF-8 ALL", "UID SORT (REVERSE ARRIVAL) UTF-8 ALL"}
	if len(got2) != 5 || !slices.Equal(got2[:4], want) || !strings.HasPrefix(got2[4], "UID SORT (REVERSE ARRIVAL) UTF-8 1,3,5,") {
		t.Fatalf("sent %.200q", got2)
	}
}

// TestStoreLargeAnswer: with the defaults, a STORE without .SILENT of
// more messages than the session collects for one command (its
// MaxResultBytes, 64 MiB: about 200,000 FETCH responses) returned a
// *session.ResultTooLargeError though the server stored the flags, and a
// set split in parts stopped at the first such part. Store now succeeds,
// and counts the responses it left out (StoreResult.Dropped); every part
// is sent. 205,000 messages: the bound keeps 190,650 of them (300,000
// until stop 44, 240,000 until stop 48: more decoding under -race for the
// same bound crossed).
func TestStoreLargeAnswer(t *testing.T) {
	const n = 205000
	// Each answer is made a line at a time as it is written (10 MB each,
	// built whole and copied, cost more under -race than reading them).
	var written atomic.Int64
	c, _, sent := selectedServerStream(t, nil, "IMAP4rev1", n+10000, func(cmd string) io.Reader {
		uid := strings.HasPrefix(cmd, "UID STORE ")
		if !uid && !strings.HasPrefix(cmd, "STORE ") {
			return strings.NewReader("")
		}
		arg, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(cmd, "UID "), "STORE "), " ")
		if arg == "1:*" {
			arg = "1:" + strconv.Itoa(n)
		}
		set, err := codec.ParseSeqSet([]byte(arg))
		if err != nil {
			return strings.NewReader("* BAD " + err.Error() + "\r\n")
		}
		nums := slices.Collect(set.All)
		return progressReader{n: &written, r: hostile.Generate(int64(len(nums)), func(i int64) string {
			v := strconv.Itoa(int(nums[i]))
			if uid {
				return "* " + v + " FETCH (UID " + v + " FLAGS (\\Seen))"
			}
			return "* " + v + " FETCH (FLAGS (\\Seen))"
		})}
	})
	// Its own context, not selectedServer's 20 s for the whole test: the
	// three STOREs of over 300,000 answers each took 11 s with -race on an
	// idle machine, and passed 20 s under load ("UIDs in parts: context
	// deadline exceeded"), then 2 minutes at a load of 16. It only keeps a
	// hang from lasting: it ends once the server's answers have not moved
	// for a minute.
	ctx := progressCtx(t, time.Minute, written.Load)
	check := func(name string, set commands.Set, want int) (kept int) {
		t.Helper()
		res, err := c.Store(ctx, set, commands.AddFlags, []string{`\Seen`}, nil)
		if err != nil {
			t.Fatalf("%s: %v (hang detector: %v)", name, err, context.Cause(ctx))
		}
		t.Logf("%s: %d messages kept, %d dropped", name, len(res.Messages), res.Dropped)
		if res.Dropped == 0 || len(res.Messages)+res.Dropped != want {
			t.Fatalf("%s: %d messages and %d dropped; want %d in all, some dropped", name, len(res.Messages), res.Dropped, want)
		}
		for i, m := range res.Messages[:100] {
			if m.SeqNum != uint32(i+1) || set.UID && m.UID != m.SeqNum || !slices.Equal(m.Flags, []string{`\Seen`}) {
				t.Fatalf("%s: message %d: %d %v", name, i, m.SeqNum, m.Flags)
			}
		}
		return len(res.Messages)
	}
	whole := check("1:*", commands.SeqRange(1, 0), n)
	// 1:205000 and 5,000 scattered numbers after it: parts of 8,000
	// bytes, the first with 205,000 messages.
	var set codec.SeqSet
	set.AddRange(1, n)
	for i := uint32(0); i < 5000; i++ {
		set.AddNum(n + 2 + 2*i)
	}
	before := len(sent())
	// The parts' messages are bounded together: the first part filled
	// the bound, so the others keep none.
	if kept := check("a set in parts", commands.Set{Nums: set}, n+5000); kept > whole {
		t.Fatalf("a set in parts: %d messages kept; the bound of one command kept %d", kept, whole)
	}
	if parts := len(sent()) - before; parts < 3 {
		t.Fatalf("%d STORE commands; want the set in several parts", parts)
	}
	// The same as UIDs: the parts pipelined.
	before = len(sent())
	if kept := check("UIDs in parts", commands.Set{UID: true, Nums: set}, n+5000); kept > whole {
		t.Fatalf("UIDs in parts: %d messages kept; the bound of one command kept %d", kept, whole)
	}
	if parts := len(sent()) - before; parts < 3 {
		t.Fatalf("%d UID STORE commands; want the set in several parts", parts)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// progressCtx returns a context that ends when progress has not moved
// for quiet, or with the test: a hang detector for a test whose fake
// server writes much (tens of MB, seconds to minutes of the client's
// work under -race). A bound on the test's whole time was tripped by a
// loaded machine (TestStoreLargeAnswer's 2 minutes at a load of 16: "UIDs
// in parts: ... context deadline exceeded"), where a slow run still
// moves; a client that stops reading does not, and ends within 2*quiet.
// The context's cause says how far it came.
func progressCtx(t *testing.T, quiet time.Duration, progress func() int64) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() {
		cancel(nil)
		<-stopped
	})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(quiet)
		defer tick.Stop()
		last := progress()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n := progress()
			if n == last {
				cancel(fmt.Errorf("no progress for %v: stuck at %d", quiet, n))
				return
			}
			last = n
		}
	}()
	return ctx
}

// progressReader counts into n the bytes read from r (a fake server's
// answer, as it writes it): progressCtx's progress.
type progressReader struct {
	r io.Reader
	n *atomic.Int64
}

func (p progressReader) Read(b []byte) (int, error) {
	k, err := p.r.Read(b)
	p.n.Add(int64(k))
	return k, err
}
