package commands_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
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
