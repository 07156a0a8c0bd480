package commands_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
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
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
			switch {
			case strings.HasPrefix(rest, "SELECT"):
				server.Write([]byte("* 10 EXISTS\r\n" + tag + " OK [READ-WRITE] done\r\n"))
			case strings.HasPrefix(rest, "UID FETCH"):
				time.Sleep(50 * time.Millisecond) // the caller waits in Next
				var b strings.Builder
				for i := 1; i <= 10; i++ {
					fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen k%d) ENVELOPE (\"date%d\" \"subject number %d\" NIL NIL NIL NIL NIL NIL NIL \"<id%d@x>\"))\r\n", i, i, i, i, i, i)
				}
				server.Write([]byte(b.String()))
				time.Sleep(300 * time.Millisecond)
				server.Write([]byte(tag + " OK done\r\n"))
			default:
				server.Write([]byte(tag + " OK done\r\n"))
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); <-done }()
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
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
