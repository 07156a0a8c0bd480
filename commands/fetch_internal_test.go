package commands

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestFetchEmptyLabelsAfterSection: an empty X-GM-LABELS list
// that comes after a streamed body section (the FETCH then reaches Fetch
// in pieces, the Extra made by the first) was copied as nil, an absent
// list, where the codec has an empty one: setExtra took the labels'
// room, which only a new Extra has, as nil. FuzzFetchCopy found it
// (testdata/fuzz/FuzzFetchCopy/27889cdf255174fc). With and without
// Borrow, the labels must be empty and not nil.
func TestFetchEmptyLabelsAfterSection(t *testing.T) {
	stream := []byte("* 1 FETCH (SAVEDATE \"01-Jan-2024 00:00:00 +0000\" BODY[] {3}\r\nabc X-GM-LABELS ())\r\n")
	// A string limit of 2 bytes streams the 3-byte section, as a large
	// body is streamed under the defaults (cheaper than a 1 MiB body).
	opts := &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 2}}
	c := fetchServer(t, stream, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, borrow := range []bool{false, true} {
		n := 0
		for m, err := range c.Fetch(ctx, SeqRange(1, 0), &FetchItems{UID: true, Borrow: borrow}) {
			if err != nil {
				t.Fatalf("borrow %v: %v", borrow, err)
			}
			for {
				sec, err := m.NextSection()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, sec)
			}
			n++
			if m.Extra == nil || m.Extra.GmailLabels == nil || len(m.Extra.GmailLabels) != 0 {
				t.Fatalf("borrow %v: Extra %+v; want empty, not nil, labels", borrow, m.Extra)
			}
		}
		if n != 1 {
			t.Fatalf("borrow %v: %d messages", borrow, n)
		}
	}
}
