package commands_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestReview42SBIdlePollTakesLaterFirst (second review of the round) (9f35f1d): Idle's polling takes what its
// Catch caught only once the NOOP answered, and hands it to onEvent
// before the NOOP's data. What the server sent right after the NOOP's
// tagged OK (read by then, caught) is newer than the NOOP's data, yet
// goes to onEvent first: "* 3 FETCH (FLAGS (\Seen))" in the NOOP's
// answer, "* 3 FETCH (FLAGS ())" just after it: onEvent sees the flags
// cleared, then set, and a tracker ends with \Seen, which the server
// removed.
func TestReview42SBIdlePollTakesLaterFirst(t *testing.T) {
	bad := 0
	const runs = 10
	for i := 0; i < runs; i++ {
		noops := 0
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 5, on: handlers{
			"NOOP": func(hc *hostile.Conn, cmd *hostile.Command) error {
				if noops++; noops == 1 {
					return hc.WriteString("* 3 FETCH (FLAGS (\\Seen))\r\n" + cmd.Tag + " OK done\r\n* 3 FETCH (FLAGS ())\r\n")
				}
				return hc.Line(cmd.Tag + " OK done")
			},
		}})
		var got []string
		err := c.Idle(ctx, &commands.IdleOptions{PollInterval: 20 * time.Millisecond}, func(r codec.Response) bool {
			if f, ok := r.(*codec.Fetch); ok {
				got = append(got, fmt.Sprint(f.Flags))
			}
			return len(got) < 2
		})
		if err != nil {
			t.Fatalf("Idle: %v", err)
		}
		if len(got) != 2 || !strings.Contains(got[0], "Seen") {
			bad++
			t.Logf("run %d: onEvent got the flags %q; want [\\Seen] then [], the server's order", i, got)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d runs: the FETCH sent after the NOOP's answer went to onEvent before the NOOP's own", bad, runs)
	}
}

// TestReview42SCIdleHandsOtherMailboxEvents (second review of the round) (6949e67): another goroutine SELECTs
// another mailbox while Idle idles; the server, right after the SELECT's
// answer, sends "* 1 FETCH (FLAGS (\Deleted))", about the new mailbox.
// Idle's next IDLE is refused (ErrReselected), and Idle, returning, hands
// onEvent what its Catch took since: that FETCH of the other mailbox,
// which onEvent cannot tell from one of the mailbox it watches. The doc
// says "the events up to the change having gone to onEvent".
func TestReview42SCIdleHandsOtherMailboxEvents(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 IDLE", exists: 5, on: handlers{
		"SELECT": func(hc *hostile.Conn, cmd *hostile.Command) error {
			if strings.Contains(cmd.Args, "Other") {
				return hc.WriteString("* 3 EXISTS\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n* 1 FETCH (FLAGS (\\Deleted))\r\n")
			}
			return hc.Lines("* 5 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		},
		"IDLE": idleAnswer(),
	}})
	var got []codec.Response
	done := make(chan error, 1)
	go func() {
		done <- c.Idle(ctx, nil, func(r codec.Response) bool { got = append(got, r); return true })
	}()
	time.Sleep(200 * time.Millisecond)
	if _, err := c.Select(ctx, "Other", nil); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if !errors.Is(err, session.ErrReselected) {
		t.Fatalf("Idle: %v; want ErrReselected", err)
	}
	for _, r := range got {
		if f, ok := r.(*codec.Fetch); ok {
			t.Fatalf("onEvent got %v after Idle's mailbox was left: the FETCH is about the other mailbox, selected by another goroutine", f)
		}
	}
}
