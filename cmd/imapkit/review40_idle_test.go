package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview40CIdleNewDropsEvents: "imapkit idle --new" (docs/cli.md: "the
// mailbox's events as they come (EXISTS, EXPUNGE, FETCH flags, VANISHED,
// alerts)") fetches each new message on the same connection; the server
// reports what other clients did meanwhile with that FETCH's answer
// (Dovecot sends pending EXPUNGEs and flag changes at the end of a UID
// FETCH). Those responses go to the session's unsolicited stream, which
// the CLI never reads: the EXPUNGE and the flag change are never printed,
// and every sequence number printed after them (later EXPUNGE n, FETCH n,
// new: seq) is off for a consumer that follows the event stream.
func TestReview40CIdleNewDropsEvents(t *testing.T) {
	out := runIdleNew(t, func(uids []int) ([]int, []string) {
		// During the FETCH of 111: message 3 (UID 103) is expunged by
		// another client, and message 1 is flagged.
		uids = append(uids[:2:2], uids[3:]...)
		return uids, []string{"* 3 EXPUNGE", "* 1 FETCH (FLAGS (\\Flagged))"}
	})
	if !strings.Contains(out, "msg 111") {
		t.Fatalf("message 111 not reported")
	}
	if !strings.Contains(out, "EXPUNGE 3") {
		t.Errorf("idle --new: the EXPUNGE the server sent with the FETCH's answer was never printed")
	}
	if !strings.Contains(out, `FETCH 1 FLAGS (\Flagged)`) {
		t.Errorf("idle --new: the flag change the server sent with the FETCH's answer was never printed")
	}
}

// runIdleNew runs "imapkit idle --new" for 1.5 s against a scripted
// server whose mailbox holds UIDs 101 to 110; UID 111 arrives during the
// first IDLE (an EXISTS), and during the first FETCH after it churn
// changes the mailbox and returns the untagged lines it sends at the end
// of that FETCH's answer (to the session, not to Idle's handler, as
// Dovecot does). It returns the output; each new message prints as
// "msg UID".
func runIdleNew(t *testing.T, churn func(uids []int) ([]int, []string)) string {
	t.Helper()
	env := func(uid int) string {
		return fmt.Sprintf(`ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg %d" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<%d@x>")`, uid, uid)
	}
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		uids := []int{101, 102, 103, 104, 105, 106, 107, 108, 109, 110}
		idles, churned := 0, false
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			ok := cmd.Tag + " OK done"
			switch cmd.Name {
			case "EXAMINE", "SELECT":
				err = c.Lines("* 10 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 111] x", cmd.Tag+" OK [READ-ONLY] done")
			case "IDLE":
				idles++
				lines := []string{"+ idling"}
				if idles == 1 {
					uids = append(uids, 111)
					lines = append(lines, fmt.Sprintf("* %d EXISTS", len(uids)))
				}
				if err = c.Lines(lines...); err != nil {
					return err
				}
				if _, err = c.ReadLine(); err != nil { // DONE
					return err
				}
				err = c.Line(cmd.Tag + " OK IDLE terminated")
			case "UID FETCH", "FETCH":
				set, _, _ := strings.Cut(cmd.Args, " ")
				lo, hi, _ := strings.Cut(set, ":")
				var a, z int
				fmt.Sscan(lo, &a)
				z = a
				if hi == "*" {
					z = 1 << 30
				} else if hi != "" {
					fmt.Sscan(hi, &z)
				}
				var lines []string
				for i, u := range uids {
					in := u >= a && u <= z
					if cmd.Name == "FETCH" {
						in = i+1 >= a && i+1 <= z
					}
					if in || (cmd.Name == "UID FETCH" && hi == "*" && i == len(uids)-1) {
						lines = append(lines, fmt.Sprintf("* %d FETCH (UID %d %s)", i+1, u, env(u)))
					}
				}
				if !churned && idles > 0 {
					churned = true
					var more []string
					uids, more = churn(uids)
					lines = append(lines, more...)
				}
				err = c.Lines(append(lines, ok)...)
			case "LOGOUT":
				c.Lines("* BYE bye", ok)
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
	code, out, errs := runCLI(t, "", "idle", "imap://alice@"+src.Addr(), "INBOX", "--new", "--for", "1500ms")
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	return out
}
