package commands_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestReview41RDstOfNoCopy: CopyResult.DstOf is documented O(r), but it
// calls Valid, whose count of distinct UIDs (SeqSet.Len) sorted a copy of
// any set not in canonical form: a COPYUID as servers send it, one UID
// after the other (1001,1002,1003: adjacent ranges are not canonical) or
// in descending order, made every DstOf allocate a copy of both sets and
// sort it, O(r log r). Sets in ascending or descending order are counted
// as they come now; DstOf does not allocate, and its answers are the same.
func TestReview41RDstOfNoCopy(t *testing.T) {
	const n = 2000
	list := func(from, step int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(from + i*step))
		}
		return b.String()
	}
	parse := func(s string) codec.SeqSet {
		set, err := codec.ParseSeqSet([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	for _, c := range []struct {
		name     string
		src, dst string
		dstOf    func(src uint32) uint32
	}{
		{"ascending", list(1001, 1), list(5001, 1), func(src uint32) uint32 { return src + 4000 }},
		{"descending", list(1000+n, -1), list(5001, 1), func(src uint32) uint32 { return 5001 + (1000 + n - src) }},
	} {
		r := &commands.CopyResult{UIDValidity: 7, Src: parse(c.src), Dst: parse(c.dst)}
		if !r.Valid() {
			t.Fatalf("%s: Valid = false", c.name)
		}
		for _, src := range []uint32{1001, 1500, 1000 + n} {
			if got, ok := r.DstOf(src); !ok || got != c.dstOf(src) {
				t.Errorf("%s: DstOf(%d) = %d, %v; want %d", c.name, src, got, ok, c.dstOf(src))
			}
		}
		if a := testing.AllocsPerRun(20, func() { r.DstOf(1500) }); a != 0 {
			t.Errorf("%s: DstOf allocates %v times a call; want 0 (a sorted copy of the sets each call)", c.name, a)
		}
	}
	// Sets that are not valid stay so: a UID twice, in any order (and
	// 5,1,3: three UIDs for four destinations).
	for _, src := range []string{"1,2,3,2", "3,2,1,1", "1:3,2", "5,1,3"} {
		r := &commands.CopyResult{Src: parse(src), Dst: parse("10:13")}
		if r.Valid() {
			t.Errorf("Src %s, Dst 10:13: Valid = true; want false", src)
		}
	}
	if r := (&commands.CopyResult{Src: parse("5,1,3"), Dst: parse("12,10,11")}); !r.Valid() {
		t.Error("Src 5,1,3, Dst 12,10,11: Valid = false; want true")
	} else if got, ok := r.DstOf(3); !ok || got != 11 {
		t.Errorf("Src 5,1,3, Dst 12,10,11: DstOf(3) = %d, %v; want 11", got, ok)
	}
}
