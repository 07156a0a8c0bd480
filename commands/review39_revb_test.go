package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReview39WRawNamesUnboundedBytes: rawNames (commands/rawnames.go) bounds the
// NUMBER of remembered names (4,096) but not their bytes. A name in a
// LIST line can be as long as a line (1 MiB by default), so a hostile
// server answering one ListIter (which "keeps nothing and has no bound")
// with lines whose names do not round-trip makes the Client keep about
// 2 bytes per name byte (the decoded key and the raw value) for the life
// of the Client: 4,096 such names is about 8 GiB. Here 48 names of
// 1 MB are kept after the loop has dropped every MailboxInfo (16 now).
func TestReview39WRawNamesUnboundedBytes(t *testing.T) {
	const n, size = 16, 1000 << 10 // 16 MB: under -race on a loaded machine 48 passed the fake client's 10 s
	pad := strings.Repeat("x", size)
	c, _, _ := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
		if !bytes.Contains(cmd.Raw, []byte(" LIST ")) {
			return ""
		}
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "* LIST () \"/\" \"R&D%d%s\"\r\n", i, pad)
		}
		b.WriteString(cmd.Tag + " OK done\r\n")
		return b.String()
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := 0
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // 16 MB under -race on a loaded machine
	defer cancel()
	for m, err := range c.ListIter(lctx, "*", nil) {
		if err != nil {
			t.Fatalf("ListIter: %v", err)
		}
		if len(m.Raw) > size {
			got++
		}
	}
	if got != n {
		t.Fatalf("listed %d long names, want %d", got, n)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(c)
	if kept > 8<<20 {
		t.Errorf("after a ListIter that kept nothing, the Client holds %d MiB more heap (%d names of %d KiB that do not round-trip, remembered by rawNames with no byte bound); 4,096 such names would be ~8 GiB", kept>>20, n, size>>10)
	}
	if err := c.Noop(lctx); err != nil {
		t.Fatal(err)
	}
}
