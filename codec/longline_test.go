package codec_test

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// numsLine is "* <name>" and n numbers from first, each with a space.
func numsLine(name string, first, n int) string {
	var b strings.Builder
	b.WriteString("* " + name)
	for i := 0; i < n; i++ {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(first + i))
	}
	b.WriteString("\r\n")
	return b.String()
}

// TestLongNumberResponses: with the defaults, SEARCH and SORT answers of
// 2,000,000 numbers (16 MB lines, sixteen times MaxLineLength, the answer
// of a mailbox of two million messages), a THREAD answer of 240,000
// messages (2 MB), an ESORT answer whose ALL is 1,000,000 ranges in sort
// order (16 MB) and a VANISHED (EARLIER) of 1,000,000 scattered UIDs (8
// MB) are decoded whole, and the stream goes on. Before
// Tokenizer.Drop each ended the stream with wire.ErrLineTooLong.
func TestLongNumberResponses(t *testing.T) {
	const n = 2000000
	var thread strings.Builder
	thread.WriteString("* THREAD ")
	for i := 0; i < 80000; i++ {
		// (a (b)(c)): a and two replies, three nodes.
		u := 1000000 + 3*i
		thread.WriteString("(" + strconv.Itoa(u) + " (" + strconv.Itoa(u+1) + ")(" + strconv.Itoa(u+2) + "))")
	}
	thread.WriteString("\r\n")
	var esort strings.Builder
	esort.WriteString(`* ESEARCH (TAG "A7") UID ALL `)
	for i := 0; i < n/2; i++ {
		// In sort order (descending), two by two: 2999999:2999998,...
		if i > 0 {
			esort.WriteByte(',')
		}
		u := 1000000 + n - 2*i
		esort.WriteString(strconv.Itoa(u) + ":" + strconv.Itoa(u-1))
	}
	esort.WriteString(" COUNT " + strconv.Itoa(n) + "\r\n")
	var vanished strings.Builder
	vanished.WriteString("* VANISHED (EARLIER) ")
	for i := 0; i < n/2; i++ {
		// Every other UID: scattered expunges, no ranges.
		if i > 0 {
			vanished.WriteByte(',')
		}
		vanished.WriteString(strconv.Itoa(1000000 + 2*i))
	}
	vanished.WriteString("\r\n")
	input := vanished.String() + "* 2 EXISTS\r\n" +
		numsLine("SEARCH", 1000000, n) + "* 3 EXISTS\r\n" +
		numsLine("SORT", 1000000, n) + "* 4 EXISTS\r\n" +
		thread.String() + "* 5 EXISTS\r\n" +
		esort.String() + "* 6 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(input), nil), nil)
	checkNums := func(what string, nums []uint32) {
		t.Helper()
		if len(nums) != n || nums[0] != 1000000 || nums[n-1] != 1000000+n-1 {
			t.Fatalf("%s: %d numbers", what, len(nums))
		}
	}
	exists := func(want uint32) {
		t.Helper()
		r, err := d.Next()
		if e, ok := r.(*codec.Exists); err != nil || !ok || e.Count != want {
			t.Fatalf("after the long line: %#v, %v", r, err)
		}
	}
	r, err := d.Next()
	v, ok := r.(*codec.Vanished)
	if err != nil || !ok {
		t.Fatalf("VANISHED: %T, %v", r, err)
	}
	if rs := v.UIDs.Ranges(); !v.Earlier || len(rs) != n/2 || rs[len(rs)-1].Start != 1000000+n-2 {
		t.Fatalf("VANISHED: %d ranges", len(rs))
	}
	exists(2)
	r, err = d.Next()
	if s, ok := r.(*codec.Search); err != nil || !ok {
		t.Fatalf("SEARCH: %T, %v", r, err)
	} else {
		checkNums("SEARCH", s.Nums)
	}
	exists(3)
	r, err = d.Next()
	if s, ok := r.(*codec.Sort); err != nil || !ok {
		t.Fatalf("SORT: %T, %v", r, err)
	} else {
		checkNums("SORT", s.Nums)
	}
	exists(4)
	r, err = d.Next()
	th, ok := r.(*codec.Thread)
	if err != nil || !ok {
		t.Fatalf("THREAD: %T, %v", r, err)
	}
	if len(th.Threads) != 80000 {
		t.Fatalf("THREAD: %d threads", len(th.Threads))
	}
	last := th.Threads[len(th.Threads)-1]
	if last.Num != 1000000+3*79999 || len(last.Children) != 2 || last.Children[1].Num != last.Num+2 {
		t.Fatalf("THREAD: last thread %+v", last)
	}
	exists(5)
	r, err = d.Next()
	es, ok := r.(*codec.ESearch)
	if err != nil || !ok {
		t.Fatalf("ESEARCH: %T, %v", r, err)
	}
	rs := es.All.Ranges()
	if string(es.Tag) != "A7" || !es.UID || es.Count != n || len(rs) != n/2 ||
		rs[0] != (wire.SeqRange{Start: 1000000 + n - 1, Stop: 1000000 + n}) || rs[len(rs)-1] != (wire.SeqRange{Start: 1000001, Stop: 1000002}) {
		t.Fatalf("ESEARCH: tag %q, UID %v, count %d, %d ranges", es.Tag, es.UID, es.Count, len(rs))
	}
	exists(6)
}

// TestTooManyNumbers: with the defaults, a SEARCH of one number more than
// DefaultMaxNumbers fails with ErrTooManyNumbers and the stream stays in
// step; so do a THREAD of one node more than an eighth of it and an
// ESEARCH whose ALL has one range too many. An
// endless SEARCH line from a hostile server fails the same way, and then
// with wire.ErrOutOfStep (its rest cannot be skipped), having held at most
// what MaxNumbers allows, none of it kept after.
func TestTooManyNumbers(t *testing.T) {
	t.Run("Search", func(t *testing.T) {
		input := "* SEARCH" + strings.Repeat(" 1", codec.DefaultMaxNumbers+1) + "\r\n* 3 EXISTS\r\n"
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(input), nil), nil)
		_, err := d.Next()
		var de *codec.DecodeError
		if !errors.Is(err, codec.ErrTooManyNumbers) || !errors.As(err, &de) || errors.Is(err, wire.ErrOutOfStep) {
			t.Fatalf("err %v, want a *DecodeError matching ErrTooManyNumbers", err)
		}
		if r, err := d.Next(); err != nil || r.(*codec.Exists).Count != 3 {
			t.Fatalf("next: %v, %v", r, err)
		}
	})
	t.Run("Thread", func(t *testing.T) {
		input := "* THREAD " + strings.Repeat("(1)", codec.DefaultMaxNumbers/8+1) + "\r\n* 3 EXISTS\r\n"
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(input), nil), nil)
		if _, err := d.Next(); !errors.Is(err, codec.ErrTooManyNumbers) {
			t.Fatalf("err %v, want ErrTooManyNumbers", err)
		}
		if r, err := d.Next(); err != nil || r.(*codec.Exists).Count != 3 {
			t.Fatalf("next: %v, %v", r, err)
		}
	})
	t.Run("ESearchAll", func(t *testing.T) {
		input := `* ESEARCH (TAG "A1") ALL 1` + strings.Repeat(",1", codec.DefaultMaxNumbers/2) + "\r\n* 3 EXISTS\r\n"
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(input), nil), nil)
		if _, err := d.Next(); !errors.Is(err, codec.ErrTooManyNumbers) {
			t.Fatalf("err %v, want ErrTooManyNumbers", err)
		}
		if r, err := d.Next(); err != nil || r.(*codec.Exists).Count != 3 {
			t.Fatalf("next: %v, %v", r, err)
		}
	})
	t.Run("Endless", func(t *testing.T) {
		h0 := heapLive()
		d := codec.NewDecoder(wire.NewTokenizer(io.MultiReader(strings.NewReader("* SEARCH"), repeating(" 12345")), nil), nil)
		var peak uint64
		_, err := d.Next()
		if !errors.Is(err, codec.ErrTooManyNumbers) || !errors.Is(err, wire.ErrOutOfStep) {
			t.Fatalf("err %v, want ErrTooManyNumbers and ErrOutOfStep", err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = ms.HeapAlloc
		if _, err := d.Next(); !errors.Is(err, wire.ErrOutOfStep) {
			t.Fatalf("next: %v, want ErrOutOfStep", err)
		}
		held := int64(heapLive()) - int64(h0)
		runtime.KeepAlive(d)
		// 16 MiB of numbers and the slice it grew from: the bound's
		// due, never the stream's length.
		if peak > h0+64<<20 {
			t.Errorf("heap went to %.1f MB over the start", float64(peak-h0)/1e6)
		}
		if held > 3<<20 {
			t.Errorf("the decoder holds %.1f MB after the failed response", float64(held)/1e6)
		}
	})
}

// repeating repeats its string without end.
type repeating string

func (e repeating) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], string(e))
	}
	return n, nil
}

// TestESearchLongAllKeepsItems: an ESEARCH whose ALL passes the line bound
// is read in pieces, reusing the buffer's room, so what the response
// borrowed from the line before ALL (its tag, its unknown items) must be
// copies; what follows ALL is read as usual (Tokenizer.Keep), within the
// line bound. FuzzDropLines found an item after ALL whose name was
// overwritten as the line was read on (testdata 80d9fd4c03b2e1b2). A
// first line of 1 MB grows the buffer to its largest, so that ALL is read
// in that buffer rather than a new one.
func TestESearchLongAllKeepsItems(t *testing.T) {
	var b strings.Builder
	b.WriteString("* OK " + strings.Repeat("x", 1000000) + "\r\n")
	b.WriteString(`* ESEARCH (TAG "A9") X-BEFORE (1 2 "three") UID ALL 1`)
	for i := 1; i < 200000; i++ {
		b.WriteString("," + strconv.Itoa(2*i+1)) // scattered: 1.4 MB
	}
	// After ALL, 600 KB of items: the buffer is refilled while they are
	// read.
	b.WriteString(" X-AFTER,1:2 (x y)" + strings.Repeat(" X-K 1", 100000) + " MIN 1\r\n")
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(b.String()), nil), nil)
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	r, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	es := r.(*codec.ESearch)
	got := []string{string(es.Tag)}
	for _, u := range es.Unknown[:2] {
		got = append(got, string(u.Tag)+"="+string(u.Value))
	}
	want := []string{"A9", `X-BEFORE=(1 2 "three")`, "X-AFTER,1:2=(x y)"}
	if !slices.Equal(got, want) || len(es.Unknown) != 100002 {
		t.Errorf("tag and unknown items %q (%d items), want %q", got, len(es.Unknown), want)
	}
	for _, u := range es.Unknown[2:] {
		if string(u.Tag) != "X-K" || string(u.Value) != "1" {
			t.Fatalf("item %q=%q, want X-K=1", u.Tag, u.Value)
		}
	}
	if n, _ := es.All.Len(); !es.UID || es.Min != 1 || n != 200000 {
		t.Errorf("UID %v, MIN %d, %d numbers", es.UID, es.Min, n)
	}
}
