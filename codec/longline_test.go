package codec_test

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

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

// TestLongNumbersLineBuffered (CI of stop 43, TestLongAnswersDovecot
// under -race): a THREAD, SEARCH, SORT or VANISHED answer longer than
// MaxLineLength is read without keeping its bytes (Drop), bounded by
// MaxNumbers instead; the decoder gives its bytes up lazily, when the
// buffer runs low. When the whole line was already buffered (a slow reader
// behind a fast server), nothing was given up, and the line's end, checked
// since ba0a006 where every line ends, failed with ErrLineTooLong: the
// session aborted on an answer its docs say it reads. Here the line is
// longer than the bound and shorter than the tokenizer's first buffer, so
// it is buffered whole by the first read.
func TestLongNumbersLineBuffered(t *testing.T) {
	var thread, search, vanished strings.Builder
	thread.WriteString("* THREAD ")
	search.WriteString("* SEARCH")
	vanished.WriteString("* VANISHED (EARLIER) ")
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&thread, "(%d)", i)
		fmt.Fprintf(&search, " %d", i)
		if i > 1 {
			vanished.WriteString(",")
		}
		fmt.Fprintf(&vanished, "%d", 2*i)
	}
	for _, line := range []string{thread.String(), search.String(), vanished.String()} {
		name := line[2 : strings.IndexByte(line[2:], ' ')+2]
		t.Run(name, func(t *testing.T) {
			if len(line) <= 4096 || len(line) > 16<<10 {
				t.Fatalf("line of %d bytes: want between the bound (4096) and the first buffer", len(line))
			}
			tk := wire.NewTokenizer(strings.NewReader(line+"\r\n* 3 EXISTS\r\nA1 OK "+strings.Repeat("x", 100)+"\r\n"), &wire.TokenizerOptions{MaxLineLength: 4096})
			d := codec.NewDecoder(tk, nil)
			r, err := d.Next()
			if err != nil {
				t.Fatalf("a %s answer of %d bytes, the bound 4096, buffered whole: %v; want it read (bounded by MaxNumbers)", name, len(line), err)
			}
			switch r := r.(type) {
			case *codec.Thread:
				if len(r.Threads) != 2000 {
					t.Fatalf("%d threads; want 2000", len(r.Threads))
				}
			case *codec.Search:
				if len(r.Nums) != 2000 {
					t.Fatalf("%d numbers; want 2000", len(r.Nums))
				}
			}
			if r, err := d.Next(); err != nil {
				t.Fatalf("the next line: %v", err)
			} else if e, ok := r.(*codec.Exists); !ok || e.Count != 3 {
				t.Fatalf("the next line: %#v; want EXISTS 3", r)
			}
		})
	}
}

// TestLongAnswerEarlyError: docs/limits.md (MaxNumbers row) says
// a SEARCH, SORT or THREAD answer that fails has "the rest of the line
// skipped within MaxLineLength (what was read before the error not
// counted, however the line was buffered)". That held only when the
// error came after dropAt (min(64 KiB, MaxLineLength/2) into the
// response): one that came earlier (a small MaxNumbers, a 0 near the
// start) had the whole line counted by SkipLine, ErrOutOfStep, the
// connection lost, while the same line failing later was skipped in step.
// Lines of 5,000 bytes under a 4096-byte bound, the error at ~1,500 or
// ~2,500 bytes; SEARCH, SORT and THREAD; whole and one byte a read. A
// line whose rest after the error passes the bound still puts the stream
// out of step.
func TestLongAnswerEarlyError(t *testing.T) {
	line := func(name string, zeroAt int) string {
		var b strings.Builder
		b.WriteString("* " + name)
		for i := 1; b.Len() < 5000; i++ {
			num := fmt.Sprint(1000 + i)
			if zeroAt > 0 && b.Len() >= zeroAt {
				num, zeroAt = "0", 0
			}
			if name == "THREAD" {
				fmt.Fprintf(&b, " (%s)", num)
			} else {
				b.WriteString(" " + num)
			}
		}
		return b.String()
	}
	type tc struct {
		name string
		line string
		max  int
	}
	var cases []tc
	for _, name := range []string{"SEARCH", "SORT", "THREAD"} {
		// MaxNumbers past which the error comes at ~2,500 and ~1,500
		// bytes: a number of SEARCH and SORT takes 5 bytes; a THREAD
		// node 7, and THREAD allows MaxNumbers/8 nodes.
		late, early := 500, 300
		if name == "THREAD" {
			late, early = 2500/7*8, 1500/7*8
		}
		cases = append(cases,
			tc{name + " past MaxNumbers late (2,500 bytes)", line(name, 0), late},
			tc{name + " past MaxNumbers early (1,500 bytes)", line(name, 0), early},
			tc{name + " a 0 late (2,500 bytes)", line(name, 2500), 0},
			tc{name + " a 0 early (1,500 bytes)", line(name, 1500), 0})
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.line + "\r\n* 3 EXISTS\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, &wire.TokenizerOptions{MaxLineLength: 4096}), &codec.DecoderOptions{MaxNumbers: c.max})
			_, err := d.Next()
			if _, ok := errors.AsType[*codec.DecodeError](err); !ok || errors.Is(err, wire.ErrOutOfStep) {
				t.Errorf("%s (line %d bytes, one byte a read: %v): %v; want a *DecodeError, the stream in step", c.name, len(c.line), oneByte, err)
				continue
			}
			if resp, err := d.Next(); err != nil {
				t.Errorf("%s: the next response: %v", c.name, err)
			} else if e, ok := resp.(*codec.Exists); !ok || e.Count != 3 {
				t.Errorf("%s: the next response: %#v; want EXISTS 3", c.name, resp)
			}
		}
	}
	// The bound still holds for what follows the error: a 0 at the start
	// of a line of 9,000 bytes leaves more than 4,096 to skip.
	for _, name := range []string{"SEARCH", "THREAD"} {
		long := line(name, 10) + strings.Repeat(" 1", 2000)
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(long+"\r\n* 3 EXISTS\r\n"), &wire.TokenizerOptions{MaxLineLength: 4096}), nil)
		if _, err := d.Next(); !errors.Is(err, wire.ErrOutOfStep) {
			t.Errorf("%s: a 0 at the start of %d bytes: %v; want the stream out of step (the rest passes MaxLineLength)", name, len(long), err)
		}
	}
}

// TestLongAnswerErrorBuffered: a SEARCH, SORT or THREAD answer
// past MaxLineLength is read without keeping its bytes, and one that
// fails (past MaxNumbers, docs/limits.md: "the rest of the line is skipped
// within MaxLineLength"; or a number 0) is skipped and the stream stays
// in step. The decoder gave its bytes up only when the buffer ran low
// (dropLong): a line already buffered whole (a slow reader behind a fast
// server) gave up nothing, and the SkipLine after the error counted the
// whole line against the bound: ErrOutOfStep, the connection lost, where
// the same bytes read piece by piece were skipped in step.
func TestLongAnswerErrorBuffered(t *testing.T) {
	var search, thread strings.Builder
	search.WriteString("* SEARCH")
	thread.WriteString("* THREAD ")
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&search, " %d", i)
		fmt.Fprintf(&thread, "(%d)", i)
	}
	cases := []struct {
		name string
		line string
		opts *codec.DecoderOptions
		want error
	}{
		{"SEARCH past MaxNumbers", search.String(), &codec.DecoderOptions{MaxNumbers: 1500}, codec.ErrTooManyNumbers},
		{"SORT past MaxNumbers", "* SORT" + search.String()[len("* SEARCH"):], &codec.DecoderOptions{MaxNumbers: 1500}, codec.ErrTooManyNumbers},
		{"THREAD past MaxNumbers", thread.String(), &codec.DecoderOptions{MaxNumbers: 8 * 1500}, codec.ErrTooManyNumbers},
		{"SEARCH with a 0", search.String() + " 0 5", nil, nil},
		{"THREAD with a 0", thread.String() + "(0)(5)", nil, nil},
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			if len(c.line) <= 4096 || len(c.line) > 16<<10 {
				t.Fatalf("%s: a line of %d bytes: want it past the bound (4096), within the first buffer", c.name, len(c.line))
			}
			var r io.Reader = strings.NewReader(c.line + "\r\n* 3 EXISTS\r\nA1 OK " + strings.Repeat("x", 100) + "\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, &wire.TokenizerOptions{MaxLineLength: 4096}), c.opts)
			_, err := d.Next()
			if err == nil || errors.Is(err, wire.ErrOutOfStep) || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s (one byte a read: %v): %v; want a *DecodeError (%v), the stream in step", c.name, oneByte, err, c.want)
				continue
			}
			if resp, err := d.Next(); err != nil {
				t.Errorf("%s (one byte a read: %v): the next response: %v", c.name, oneByte, err)
			} else if e, ok := resp.(*codec.Exists); !ok || e.Count != 3 {
				t.Errorf("%s: the next response: %#v; want EXISTS 3", c.name, resp)
			}
		}
	}
}
