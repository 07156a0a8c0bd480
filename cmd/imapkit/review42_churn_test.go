//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview42CDIdleNewEventsAfterDoneOutOfOrder (audit 42 C; fixed by
// 9d74fc2, which runs --new's FETCH between two Idle calls): "imapkit idle --new --json".
// IDLE reports "* 11 EXISTS"; the handler fetches the new message, which
// ends the IDLE (DONE). Another client expunged message 3 just before:
// the server reports "* 3 EXPUNGE" after DONE, before the IDLE's tagged
// OK (Dovecot syncs there), then answers the UID FETCH with the new
// message at its new number, "* 10 FETCH (UID 111 ...)". The EXPUNGE is
// queued for the IDLE's handler, busy in the FETCH, and printed after the
// "new" event: the stream says exists 11, new seq 10, expunge 3, so a
// consumer that follows the numbers puts UID 111 at 9. The server sent
// the EXPUNGE first; it must be printed first.
func TestReview42CDIdleNewEventsAfterDoneOutOfOrder(t *testing.T) {
	env := `ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg 111" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<111@x>")`
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		idles := 0
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "EXAMINE", "SELECT":
				err = c.Lines("* 10 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 111] x", cmd.Tag+" OK [READ-ONLY] done")
			case "IDLE":
				idles++
				lines := []string{"+ idling"}
				if idles == 1 {
					lines = append(lines, "* 11 EXISTS")
				}
				if err = c.Lines(lines...); err != nil {
					return err
				}
				if _, err = c.ReadLine(); err != nil { // DONE
					return err
				}
				if idles == 1 {
					err = c.Lines("* 3 EXPUNGE", cmd.Tag+" OK Idle completed")
				} else {
					err = c.Line(cmd.Tag + " OK Idle completed")
				}
			case "UID FETCH":
				err = c.Lines(fmt.Sprintf("* 10 FETCH (UID 111 %s)", env), cmd.Tag+" OK done")
			case "LOGOUT":
				c.Lines("* BYE bye", cmd.Tag+" OK done")
				return nil
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "idle", "imap://alice@"+src.Addr(), "INBOX", "--new", "--json", "--for", "1500ms")
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	ex := strings.Index(out, `"event":"expunge"`)
	nw := strings.Index(out, `"event":"new"`)
	if ex < 0 || nw < 0 {
		t.Fatalf("missing events: expunge at %d, new at %d", ex, nw)
	}
	if nw < ex {
		t.Errorf("idle --new printed the new message (seq 10) before the EXPUNGE 3 the server sent before it: events out of order")
	}
}
