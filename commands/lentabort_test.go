package commands_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestFetchLentAbort: the session ends (Abort) while the loop body holds
// a lent message (Borrow) and more FETCH responses are buffered: the
// message it holds stays as it was, rather than being overwritten by the
// next response the reader decodes on its way out; and the owned message
// of the default, copied from the decoder's response, is not raced by it
// either (run under -race). Found by a concurrency audit in stop 32.
func TestFetchLentAbort(t *testing.T) {
	for _, borrow := range []bool{true, false} {
		t.Run(map[bool]string{true: "Borrow", false: "Owned"}[borrow], func(t *testing.T) { testFetchLentAbort(t, borrow) })
	}
}

func testFetchLentAbort(t *testing.T, borrow bool) {
	c, ctx, _ := selectedServer(t, "IMAP4rev1", 10, func(cmd string) string {
		if !strings.HasPrefix(cmd, "UID FETCH") {
			return ""
		}
		time.Sleep(50 * time.Millisecond) // the caller waits in Next
		var b strings.Builder
		for i := 1; i <= 10; i++ {
			fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen k%d) ENVELOPE (\"date%d\" \"subject number %d\" NIL NIL NIL NIL NIL NIL NIL \"<id%d@x>\"))\r\n", i, i, i, i, i, i)
		}
		return b.String()
	})
	s := c.Session()
	k := 0
	var end error
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 10), &commands.FetchItems{Flags: true, Envelope: true, Borrow: borrow}) {
		if err != nil {
			end = err
			break
		}
		k++
		if k == 1 {
			s.Abort(errors.New("the test aborts"))
			time.Sleep(100 * time.Millisecond) // the reader goes on meanwhile
			if m.UID != 1 || string(m.Envelope.Subject) != "subject number 1" || len(m.Flags) != 2 || m.Flags[1] != "k1" {
				t.Errorf("the message held changed under the loop body: UID %d, subject %q, flags %q", m.UID, m.Envelope.Subject, m.Flags)
			}
		}
	}
	if !errors.Is(end, session.ErrAborted) {
		t.Errorf("after %d messages: %v; want the abort", k, end)
	}
}
