package commands

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/wire"
)

// TestOwnedCopySize: what FetchAll counts for a message (the size
// allocMessage records, and valuesHeap) is at least what its copy holds,
// less the allocator's rounding, and not far more: for messages of the
// corpus and for FETCH responses of many flags (a slice of 16 bytes a
// flag for two bytes on the wire), unknown items, BINARY.SIZE and
// PREVIEW.
func TestOwnedCopySize(t *testing.T) {
	many := func(s string, n int) string { return strings.TrimSpace(strings.Repeat(s, n)) }
	lines := []string{
		"* 1 FETCH (UID 1 FLAGS (\\Seen))",
		"* 2 FETCH (UID 2 FLAGS (" + many("a ", 500) + "))",
		"* 3 FETCH (UID 3 FLAGS (" + many("kw ", 50000) + "))",
		"* 4 FETCH (UID 4 X-UNKNOWN " + many("(1 2) ", 100) + " BINARY.SIZE[1] 30 BINARY.SIZE[2.1] 40)",
		"* 5 FETCH (UID 5 EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9) PREVIEW \"" + strings.Repeat("p", 300) + "\")",
	}
	stream := string(corpus.FetchMetadata(3))
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(strings.Join(lines, "\r\n")+"\r\n"+stream), nil), nil)
	for i := 0; ; i++ {
		r, err := d.Next()
		if err != nil {
			break
		}
		f := r.(*codec.Fetch).Clone() // the decoder reuses its memory
		m := newMessage(f)
		est := int64(m.size) + valuesHeap(m, f, f.Has)
		transient := int64(0) // cutStrings's buffer, garbage once cut
		for _, b := range f.Flags {
			transient += int64(len(b))
		}
		transient += int64(len(f.EmailID) + len(f.ThreadID) + len(f.Preview))
		if transient <= 256 {
			transient = 0
		}
		held := int64(-1)
		var ms runtime.MemStats
		for range 3 {
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			newMessage(f)
			runtime.ReadMemStats(&ms)
			if n := int64(ms.TotalAlloc-before) - transient; held < 0 || n < held {
				held = n
			}
		}
		what := fmt.Sprintf("response %d (%d flags)", i+1, len(f.Flags))
		if est < held-held/8-64 || est > 2*held+256 {
			t.Errorf("%s: counted %d, the copy holds %d", what, est, held)
		}
	}
}
