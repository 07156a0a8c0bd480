package codec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview43SLongNumbersLineBuffered (CI of stop 43, TestLongAnswersDovecot
// under -race): a THREAD, SEARCH, SORT or VANISHED answer longer than
// MaxLineLength is read without keeping its bytes (Drop), bounded by
// MaxNumbers instead; the decoder gives its bytes up lazily, when the
// buffer runs low. When the whole line was already buffered (a slow reader
// behind a fast server), nothing was given up, and the line's end, checked
// since ba0a006 where every line ends, failed with ErrLineTooLong: the
// session aborted on an answer its docs say it reads. Here the line is
// longer than the bound and shorter than the tokenizer's first buffer, so
// it is buffered whole by the first read.
func TestReview43SLongNumbersLineBuffered(t *testing.T) {
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
