package commands_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestReview44GFetchSectionsUnderResultBound: Client.Fetch (an iterator that
// "keeps nothing and has no bound") of ten small sections of 60,000 bytes
// in one 600 KB FETCH (under the 1 MiB line bound), on a session with
// MaxResultBytes of 256 KiB: since 542477c the sections past half the
// line's bound are collected within MaxResultBytes less what the line
// holds, so the last ones are left out and the iteration fails with a
// *session.ResultTooLargeError; before, they were kept inline and read.
func TestReview44GFetchSectionsUnderResultBound(t *testing.T) {
	const n, size = 10, 60000
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 7")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, size, strings.Repeat("x", size))
	}
	b.WriteString(")\r\n")
	resp := b.String()
	sc := fakeServer{on: handlers{"UID FETCH": func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.WriteString(resp + cmd.Tag + " OK done\r\n")
	}, "FETCH": func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.WriteString(resp + cmd.Tag + " OK done\r\n")
	}}}
	ctx, _, c := fakeSession(t, sc, &session.Options{MaxResultBytes: 256 << 10})
	var secs []commands.FetchSection
	for i := 1; i <= n; i++ {
		secs = append(secs, commands.FetchSection{Part: []int{i}})
	}
	got := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(7), &commands.FetchItems{Sections: secs}) {
		if err != nil {
			t.Fatalf("after %d sections read: %v; want all %d (a 600 KB FETCH, under MaxLineLength)", got, err, n)
		}
		for {
			sec, err := m.NextSection()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("NextSection: %v", err)
			}
			data, err := io.ReadAll(sec)
			if err != nil || len(data) != size {
				t.Fatalf("section %d: %d bytes, %v; want %d", got+1, len(data), err, size)
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("%d sections; want %d", got, n)
	}
}
