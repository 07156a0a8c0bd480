//go:build linux

package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview42SAIdleNewGrowingExistsLoops (93d5f91; second review of the round): idle --new fetches again
// while the last empty FETCH's answer brings an EXISTS past its last
// message, and stops only when the same count comes twice. A server whose
// every answer to "UID FETCH n:*" says nothing new but brings an EXISTS one
// higher (hostile, or broken) keeps idle --new in a tight FETCH loop, never
// idling, for the whole run (--for): hundreds of FETCHes a second. The
// re-fetch should be bounded (a few at most per event), then go back to
// IDLE.
func TestReview42SAIdleNewGrowingExistsLoops(t *testing.T) {
	env := func(uid int) string {
		return fmt.Sprintf(`ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg %d" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<%d@x>")`, uid, uid)
	}
	var mu sync.Mutex
	fetches := 0
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		exists := 10
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
					exists++
					lines = append(lines, fmt.Sprintf("* %d EXISTS", exists))
				}
				if err = c.Lines(lines...); err != nil {
					break
				}
				if _, err = c.ReadLine(); err == nil { // DONE
					err = c.Line(cmd.Tag + " OK IDLE terminated")
				}
			case "UID FETCH":
				mu.Lock()
				fetches++
				mu.Unlock()
				// Nothing new (the last message, UID 110, as n:* past the
				// last UID answers), and a count one higher.
				exists++
				err = c.Lines(fmt.Sprintf("* 10 FETCH (UID 110 %s)", env(110)), fmt.Sprintf("* %d EXISTS", exists), cmd.Tag+" OK done")
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
	t.Setenv("IMAPKIT_PASSWORD", "secret")
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
	code, out, errs := runCLI(t, "", "idle", "imap://alice@"+src.Addr(), "INBOX", "--new", "--for", "2s")
	mu.Lock()
	n := fetches
	mu.Unlock()
	t.Logf("exit %d, %d UID FETCHes\nstdout (%d lines)\nstderr:\n%s", code, n, strings.Count(out, "\n"), errs)
	if n > 10 {
		t.Fatalf("idle --new sent %d UID FETCHes in 2 s for one EXISTS event: the re-fetch loop on a growing EXISTS has no bound", n)
	}
}
