package commands_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
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
	// The server sends the ten FETCH responses at once when the caller
	// waits in Next (the first is then lent to it), and its tagged OK
	// only once the loop body has aborted the session (never: the
	// connection is gone by then), so the FETCH cannot end before the
	// abort. Both were a 50 ms wait before the answer: on a loaded
	// machine the caller could come to Next after the answer (no lent
	// message: the fault not reached) and the owned run read all ten and
	// the OK before the abort (no abort to see).
	aborted := make(chan struct{})
	var notInNext atomic.Bool
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 10, on: handlers{
		"UID FETCH": func(hc *hostile.Conn, cmd *hostile.Command) error {
			for deadline := time.Now().Add(hangBound); !parked("session.(*Pending).Next", "commands_test.testFetchLentAbort"); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					notInNext.Store(true)
					break
				}
			}
			var b strings.Builder
			for i := 1; i <= 10; i++ {
				fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen k%d) ENVELOPE (\"date%d\" \"subject number %d\" NIL NIL NIL NIL NIL NIL NIL \"<id%d@x>\"))\r\n", i, i, i, i, i, i)
			}
			if err := hc.WriteString(b.String()); err != nil {
				return err
			}
			<-aborted
			return hc.Line(cmd.Tag + " OK done")
		},
	}})
	release := sync.OnceFunc(func() { close(aborted) })
	t.Cleanup(release) // the handler returns if the test ends first
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
			release()
			// The reader goes on, and out: once the session is done it
			// has decoded all it ever will while the body holds m.
			select {
			case <-s.Done():
			case <-time.After(hangBound):
				t.Fatalf("the session not done %v after Abort", hangBound)
			}
			if m.UID != 1 || string(m.Envelope.Subject) != "subject number 1" || len(m.Flags) != 2 || m.Flags[1] != "k1" {
				t.Errorf("the message held changed under the loop body: UID %d, subject %q, flags %q", m.UID, m.Envelope.Subject, m.Flags)
			}
		}
	}
	if notInNext.Load() {
		t.Fatalf("the caller not waiting in Next %v after the UID FETCH reached the server", hangBound)
	}
	if !errors.Is(end, session.ErrAborted) {
		t.Errorf("after %d messages: %v; want the abort", k, end)
	}
}
