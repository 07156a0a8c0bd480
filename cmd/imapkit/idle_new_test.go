package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestIdleNewDropsEvents: "imapkit idle --new" (docs/cli.md: "the
// mailbox's events as they come (EXISTS, EXPUNGE, FETCH flags, VANISHED,
// alerts)") fetches each new message on the same connection; the server
// reports what other clients did meanwhile with that FETCH's answer
// (Dovecot sends pending EXPUNGEs and flag changes at the end of a UID
// FETCH). Those responses go to the session's unsolicited stream, which
// the CLI never reads: the EXPUNGE and the flag change are never printed,
// and every sequence number printed after them (later EXPUNGE n, FETCH n,
// new: seq) is off for a consumer that follows the event stream.
func TestIdleNewDropsEvents(t *testing.T) {
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

// runIdleNew runs "imapkit idle --new" against a scripted server whose
// mailbox holds UIDs 101 to 110; UID 111 arrives during the first IDLE
// (an EXISTS), and during the first FETCH after it churn changes the
// mailbox and returns the untagged lines it sends at the end of that
// FETCH's answer (to the session, not to Idle's handler, as Dovecot
// does). The run is interrupted once the client idles again (its second
// IDLE: it goes back to IDLE only when its fetches found nothing more),
// an event, not a --for of wall time. It returns the output; each new
// message prints as "msg UID".
func runIdleNew(t *testing.T, churn func(uids []int) ([]int, []string)) string {
	t.Helper()
	env := func(uid int) string {
		return fmt.Sprintf(`ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg %d" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<%d@x>")`, uid, uid)
	}
	settled := make(chan struct{}) // the second IDLE came
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
				if idles == 2 {
					close(settled)
				}
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
	code, out, errs := runUntilEvent(t, "", settled, "idle", "imap://alice@"+src.Addr(), "INBOX", "--new")
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	return out
}

// idleNewServer is a scripted server for imapkit idle: at the first
// IDLE a message arrives (* 11 EXISTS); at the DONE that ends it, the
// server sends doneLines (which may announce more messages, before or
// after the tagged OK) around the tagged OK. Later IDLEs wait for DONE;
// the second ends the run (interrupted: runUntilEvent), the client idling
// again once its fetches found nothing more.
// fetched, when not nil, gives the lines the server adds to its answer to
// the nth UID FETCH (from 1), before the tagged OK. It runs imapkit idle
// with args on it and returns what it printed.
func idleNewServer(t *testing.T, done func(tag string, uids *[]int) []string, fetched func(n int, uids *[]int) []string, args ...string) string {
	t.Helper()
	env := func(uid int) string {
		return fmt.Sprintf(`ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg %d" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<%d@x>")`, uid, uid)
	}
	var mu sync.Mutex
	settled := make(chan struct{}) // the second IDLE came
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		uids := []int{101, 102, 103, 104, 105, 106, 107, 108, 109, 110}
		idles, fetches := 0, 0
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			mu.Lock()
			switch cmd.Name {
			case "EXAMINE", "SELECT":
				err = c.Lines("* 10 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 111] x", cmd.Tag+" OK [READ-ONLY] done")
			case "IDLE":
				idles++
				if idles == 2 {
					close(settled)
				}
				lines := []string{"+ idling"}
				if idles == 1 {
					uids = append(uids, 111)
					lines = append(lines, fmt.Sprintf("* %d EXISTS", len(uids)))
				}
				if err = c.Lines(lines...); err != nil {
					break
				}
				mu.Unlock()
				_, err = c.ReadLine() // DONE
				mu.Lock()
				if err != nil {
					break
				}
				if idles == 1 {
					// One write: what comes with the DONE's answer.
					err = c.WriteString(strings.Join(done(cmd.Tag, &uids), "\r\n") + "\r\n")
				} else {
					err = c.Line(cmd.Tag + " OK IDLE terminated")
				}
			case "UID FETCH":
				fetches++
				set, _, _ := strings.Cut(cmd.Args, " ")
				lo, _, _ := strings.Cut(set, ":")
				var a int
				fmt.Sscan(lo, &a)
				var lines []string
				for i, u := range uids {
					if u >= a || i == len(uids)-1 {
						lines = append(lines, fmt.Sprintf("* %d FETCH (UID %d %s)", i+1, u, env(u)))
					}
				}
				if fetched != nil {
					lines = append(lines, fetched(fetches, &uids)...)
				}
				err = c.Lines(append(lines, cmd.Tag+" OK done")...)
			case "LOGOUT":
				c.Lines("* BYE bye", cmd.Tag+" OK done")
				mu.Unlock()
				return nil
			default:
				err = c.Answer(cmd)
			}
			mu.Unlock()
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
	code, out, errs := runUntilEvent(t, "", settled, append([]string{"idle", "imap://alice@" + src.Addr(), "INBOX"}, args...)...)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	return out
}

// wantOrder checks that want appear in out, each line once, in order.
func wantOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	at := -1
	for _, w := range want {
		found := -1
		n := 0
		for i, l := range lines {
			if strings.Contains(l, w) {
				if found < 0 {
					found = i
				}
				n++
			}
		}
		switch {
		case found < 0:
			t.Errorf("%q never printed", w)
		case n > 1:
			t.Errorf("%q printed %d times", w, n)
		case found < at:
			t.Errorf("%q printed out of order (line %d, after line %d)", w, found+1, at+1)
		}
		at = max(at, found)
	}
}

// TestIdleBetweenIdles: imapkit idle --new ends the IDLE to
// fetch a new message; what the server sends with its answer to DONE
// (Dovecot sends the EXISTS of mail that arrived meanwhile right before
// the tagged OK; a server may send it right after) must be printed, in
// the order the server sent it: before the messages the fetch that
// follows reports. The EXISTS after the tagged OK came when no command
// was in flight and went to the session's unsolicited stream, which the
// CLI does not read (never printed); the one before it was printed after
// the fetch's output.
func TestIdleBetweenIdles(t *testing.T) {
	out := idleNewServer(t, func(tag string, uids *[]int) []string {
		*uids = append(*uids, 112)
		l := []string{"* 12 EXISTS", tag + " OK IDLE terminated"}
		*uids = append(*uids, 113)
		return append(l, "* 13 EXISTS")
	}, nil, "--new")
	wantOrder(t, out, "EXISTS 11", "EXISTS 12", "EXISTS 13", "msg 111", "msg 112", "msg 113")
}
