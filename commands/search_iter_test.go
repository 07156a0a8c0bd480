package commands_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestSearchIterDovecot runs SearchIter and SortIter against Dovecot: the
// same numbers as Search and Sort, plain SEARCH and ESEARCH's ALL alike; a
// loop that breaks early leaves the session in step; a refused SEARCH ends
// the iteration with the typed error.
func TestSearchIterDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 20)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqNums(2, 3, 4, 9, 15), commands.AddFlags, []string{`\Flagged`}, nil); err != nil {
		t.Fatal(err)
	}
	collect := func(seq func(func(uint32, error) bool)) []uint32 {
		t.Helper()
		var out []uint32
		for n, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	flagged := &commands.Criteria{Flags: []string{`\Flagged`}}
	for _, opts := range []*commands.SearchOptions{nil, {UID: true}, {Return: &commands.SearchReturn{Count: true}}, {UID: true, Return: &commands.SearchReturn{}}} {
		got := collect(c.SearchIter(ctx, flagged, opts))
		res, err := c.Search(ctx, flagged, opts)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := res.All.Nums()
		if opts != nil && opts.Return != nil && res.All.IsEmpty() {
			// Search asked only for what opts.Return says (COUNT, or
			// nothing): the set comes from a plain SEARCH.
			r2, _ := c.Search(ctx, flagged, &commands.SearchOptions{UID: opts.UID})
			want, _ = r2.All.Nums()
		}
		if !slices.Equal(got, []uint32{2, 3, 4, 9, 15}) || !slices.Equal(got, want) {
			t.Fatalf("SearchIter %+v: %v, Search %v", opts, got, want)
		}
	}
	// Break after two: the rest is dropped and the next command works.
	var first []uint32
	for n, err := range c.SearchIter(ctx, nil, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if first = append(first, n); len(first) == 2 {
			break
		}
	}
	if !slices.Equal(first, []uint32{1, 2}) {
		t.Fatalf("first two: %v", first)
	}
	if res, err := c.Search(ctx, nil, nil); err != nil || res.Count != 20 {
		t.Fatalf("SEARCH after a broken loop: %v %+v", err, res)
	}
	// SortIter gives Sort's order.
	keys := []commands.SortKey{{Key: "SIZE", Reverse: true}, {Key: "ARRIVAL"}}
	sorted := collect(c.SortIter(ctx, keys, nil, &commands.SearchOptions{UID: true}))
	nums, err := c.Sort(ctx, keys, nil, &commands.SearchOptions{UID: true})
	if err != nil || len(sorted) != 20 || !slices.Equal(sorted, nums) {
		t.Fatalf("SortIter %v, Sort %v %v", sorted, nums, err)
	}
	for i := 1; i < len(sorted); i++ {
		if len(testserver.SampleMessage(int(sorted[i-1])-1)) < len(testserver.SampleMessage(int(sorted[i])-1)) {
			t.Fatalf("SortIter REVERSE SIZE: %v not descending", sorted)
		}
	}
	// A refused SEARCH: the typed error, yielded once.
	n := 0
	for _, err := range c.SearchIter(ctx, &commands.Criteria{Subject: []string{"x"}}, &commands.SearchOptions{Charset: "X-NO-SUCH-CHARSET"}) {
		n++
		var se *session.StatusError
		if !errors.As(err, &se) || !errors.Is(err, session.ErrNo) {
			t.Fatalf("SEARCH CHARSET X-NO-SUCH-CHARSET: %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("%d values after a refused SEARCH", n)
	}
}

// bigSearchServer answers every SEARCH, UID SEARCH and SORT with one
// response line of the numbers nums gives, over transport.Pipe, and
// returns a Client for it whose tokenizer takes lines of 16 MiB.
func bigSearchServer(tb testing.TB, line func(cmd string) []byte) *commands.Client {
	tb.Helper()
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 SORT] ready\r\n"))
		r := bufio.NewReaderSize(server, 64<<10)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			if strings.HasPrefix(rest, "SELECT") {
				server.Write([]byte("* 1000000 EXISTS\r\n" + tag + " OK [READ-WRITE] done\r\n"))
				continue
			}
			server.Write(line(rest))
			server.Write([]byte(tag + " OK done\r\n"))
		}
	}()
	ctx := context.Background()
	s, err := session.Open(ctx, client, &session.Options{Tokenizer: &wire.TokenizerOptions{MaxLineLength: 16 << 20}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		tb.Fatal(err)
	}
	return c
}

// numsLine returns "* NAME a b c ...\r\n" for n numbers from 1 by step.
func numsLine(name string, n, step int) []byte {
	b := append(make([]byte, 0, 8*n), "* "+name...)
	for i := 0; i < n; i++ {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(1+i*step), 10)
	}
	return append(b, "\r\n"...)
}

// allocated returns the fewest bytes f allocated in three runs (after a
// first run that lets the decoder grow).
func allocated(f func()) uint64 {
	f()
	best := ^uint64(0)
	for i := 0; i < 3; i++ {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		f()
		runtime.ReadMemStats(&m1)
		best = min(best, m1.TotalAlloc-m0.TotalAlloc)
	}
	return best
}

// TestSearchResultMemory checks that a 200,000-number SEARCH answer is not
// copied: SearchIter and SortIter yield from the decoder's response, and
// Search of consecutive numbers keeps one range. A copy of the numbers
// alone would be 800 KB.
func TestSearchResultMemory(t *testing.T) {
	const n = 200000
	odd := numsLine("SEARCH", n, 2)
	consecutive := numsLine("SEARCH", n, 1)
	sortLine := numsLine("SORT", n, 3)
	c := bigSearchServer(t, func(cmd string) []byte {
		switch {
		case strings.HasPrefix(cmd, "SORT"):
			return sortLine
		case strings.Contains(cmd, "ODD"):
			return odd
		}
		return consecutive
	})
	ctx := context.Background()
	const bound = 64 << 10
	iterOdd := func() {
		i := 0
		for v, err := range c.SearchIter(ctx, &commands.Criteria{Raw: "ODD"}, nil) {
			if err != nil || v != uint32(1+2*i) {
				t.Fatalf("number %d: %d %v", i, v, err)
			}
			i++
		}
		if i != n {
			t.Fatalf("%d numbers", i)
		}
	}
	if b := allocated(iterOdd); b > bound {
		t.Errorf("SearchIter of %d numbers allocated %d bytes", n, b)
	}
	search := func() {
		res, err := c.Search(ctx, nil, nil)
		if err != nil || res.All.String() != "1:200000" || res.Count != n {
			t.Fatalf("Search: %v %+v", err, res)
		}
	}
	if b := allocated(search); b > bound {
		t.Errorf("Search of %d consecutive numbers allocated %d bytes", n, b)
	}
	sortIter := func() {
		i := 0
		for v, err := range c.SortIter(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, nil, nil) {
			if err != nil || v != uint32(1+3*i) {
				t.Fatalf("number %d: %d %v", i, v, err)
			}
			i++
		}
		if i != n {
			t.Fatalf("%d numbers", i)
		}
	}
	if b := allocated(sortIter); b > bound {
		t.Errorf("SortIter of %d numbers allocated %d bytes", n, b)
	}
}

// TestIterCancelStopsAtOnce: SearchIter and SortIter yield many numbers
// from one response; when the loop's context ends, the next step ends the
// iteration with the context's error, as Fetch does between messages,
// rather than yielding the rest of the response first.
func TestIterCancelStopsAtOnce(t *testing.T) {
	c, ctx, _ := selectedServer(t, "IMAP4rev1 SORT", 5, func(cmd string) string {
		if strings.Contains(cmd, "SORT") {
			return "* SORT 5 4 3 2 1\r\n"
		}
		return "* SEARCH 1 2 3 4 5\r\n"
	})
	for name, it := range map[string]func(context.Context) iter.Seq2[uint32, error]{
		"SearchIter": func(ctx context.Context) iter.Seq2[uint32, error] { return c.SearchIter(ctx, nil, nil) },
		"SortIter": func(ctx context.Context) iter.Seq2[uint32, error] {
			return c.SortIter(ctx, []commands.SortKey{{Key: "ARRIVAL", Reverse: true}}, nil, nil)
		},
	} {
		ictx, cancel := context.WithCancel(ctx)
		var got []string
		for n, err := range it(ictx) {
			got = append(got, fmt.Sprint(n, err))
			cancel()
		}
		cancel()
		if len(got) != 2 || !strings.HasSuffix(got[1], context.Canceled.Error()) {
			t.Errorf("%s, cancelled after the first number: %q; want the first, then %v", name, got, context.Canceled)
		}
		if err := c.Noop(ctx); err != nil {
			t.Fatalf("%s: NOOP after: %v", name, err)
		}
	}
}

// TestSearchLargeMailboxNoESearch: with the defaults, a server without
// ESEARCH. In a mailbox of 200,000 messages, a plain SEARCH answer for
// all of them is one line of 1.4 MB, past the session's line bound (1
// MiB), which ended the session; stop 28 searched in parts of 87,381
// messages. The decoder now reads such a line without keeping its bytes,
// so one SEARCH does. A mailbox of more messages than one answer may
// number (codec.DefaultMaxNumbers) is still searched in parts of that
// many, and the answers joined.
func TestSearchLargeMailboxNoESearch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, step uint32 // messages; every step-th matches
		want    []string
	}{
		{"OneLine", 200000, 1, []string{"SELECT INBOX", "UID SEARCH UNDELETED", "UID SEARCH ALL"}},
		{"Parts", 2*codec.DefaultMaxNumbers + 5, 100000, []string{"SELECT INBOX",
			"UID SEARCH 1:2097152 UNDELETED", "UID SEARCH 2097153:4194304 UNDELETED", "UID SEARCH 4194305:* UNDELETED",
			"UID SEARCH 1:2097152", "UID SEARCH 2097153:4194304", "UID SEARCH 4194305:*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, step := tc.n, tc.step
			c, ctx, sent := selectedServer(t, "IMAP4rev1", int(n), func(cmd string) string {
				if !strings.HasPrefix(cmd, "UID SEARCH ") {
					return ""
				}
				// The UIDs of the matching messages in the part (UID = 3 x seq).
				set, err := codec.ParseSeqSet([]byte(strings.Fields(cmd)[2]))
				if err != nil {
					set = commands.SeqRange(1, n).Nums // no set: every message
				}
				b := []byte("* SEARCH")
				for _, rg := range set.Ranges() {
					stop := rg.Stop
					if stop == 0 {
						stop = n
					}
					for i := (rg.Start + step - 1) / step * step; i <= stop; i += step {
						b = strconv.AppendUint(append(b, ' '), uint64(3*i), 10)
					}
				}
				return string(append(b, "\r\n"...))
			})
			m := n / step
			res, err := c.Search(ctx, &commands.Criteria{NotFlags: []string{`\Deleted`}}, &commands.SearchOptions{UID: true})
			if err != nil {
				t.Fatalf("Search of %d messages: %v", n, err)
			}
			if res.Count != m || res.Min != 3*step || res.Max != 3*m*step || len(res.All.Ranges()) != int(m) {
				t.Fatalf("Search of %d messages: %d numbers, min %d, max %d", n, res.Count, res.Min, res.Max)
			}
			k := uint32(0)
			for v, err := range c.SearchIter(ctx, nil, &commands.SearchOptions{UID: true}) {
				if err != nil || v != 3*(k+1)*step {
					t.Fatalf("SearchIter number %d: %d %v", k, v, err)
				}
				k++
			}
			if k != m {
				t.Fatalf("SearchIter: %d numbers", k)
			}
			if got := sent(); !slices.Equal(got, tc.want) {
				t.Fatalf("sent %q\nwant %q", got, tc.want)
			}
		})
	}
}
