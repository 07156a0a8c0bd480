//go:build linux

package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestIdleNewExpungeAndArrivalDuringFetch: idle --new now loops
// its UID FETCH while the session's message count moved during it
// (mail.go runIdle: "if now == before break"). But the count is no
// measure of arrivals: a message expunged and another delivered while
// the FETCH of a new message runs leave it unchanged. Their EXPUNGE and
// EXISTS come with the FETCH's answer, to the session, not to Idle's
// handler; the loop stops, and the delivered message (UID 112) is never
// reported. The fix's own case (an arrival during the FETCH) with an
// expunge beside it. Comparing UIDNEXT, or looping until a UID FETCH
// finds nothing new, would catch it.
func TestIdleNewExpungeAndArrivalDuringFetch(t *testing.T) {
	out := runIdleNew(t, func(uids []int) ([]int, []string) {
		// During the FETCH of 111: message 3 is expunged, and message
		// UID 112 is delivered.
		uids = append(append(uids[:2:2], uids[3:]...), 112)
		return uids, []string{"* 3 EXPUNGE", fmt.Sprintf("* %d EXISTS", len(uids))}
	})
	if !strings.Contains(out, "msg 111") {
		t.Fatalf("message 111 not reported")
	}
	if !strings.Contains(out, "msg 112") {
		t.Errorf("idle --new: message UID 112, delivered (with an EXPUNGE beside it) while the FETCH of 111 ran, was never reported")
	}
}

// TestIdleNewExistsDuringEmptyFetchLost: idle --new fetches after an
// EXISTS "again until a FETCH finds nothing new" (runIdle, kept by
// 9d74fc2). A message that arrives while the last, empty UID FETCH runs
// is announced by an EXISTS sent with that FETCH's answer (Dovecot reports
// mailbox changes at the end of each command: the FETCH's set was taken
// before the message came). fetchNew prints that EXISTS as an event, but
// it ends the loop because nothing new was found, and the next IDLE
// starts: the EXISTS never reaches Idle's handler, so the new message is
// never fetched nor reported as new (until some other mail arrives). An
// EXISTS met during a fetch should count as "fetch again".
func TestIdleNewExistsDuringEmptyFetchLost(t *testing.T) {
	out := idleNewServer(t, func(tag string, _ *[]int) []string {
		return []string{tag + " OK IDLE terminated"}
	}, func(n int, uids *[]int) []string {
		if n != 2 {
			return nil
		}
		// Mail came while this FETCH ran: announced at its end, as
		// Dovecot does.
		*uids = append(*uids, 112)
		return []string{fmt.Sprintf("* %d EXISTS", len(*uids))}
	}, "--new")
	if !strings.Contains(out, "EXISTS 12") {
		t.Fatalf("EXISTS 12 not printed: the script did not run as meant")
	}
	if !strings.Contains(out, "msg 112") {
		t.Errorf("the message announced by the EXISTS that came with the last (empty) UID FETCH was never fetched: no \"new\" line for UID 112 before the client idled again")
	}
}

// TestIdleNewMissesExistsBetweenIdles: "imapkit idle --new", the
// notifier, keeps its own count of the messages it has reported (known)
// and learns of new ones only from the EXISTS responses that reach its
// IDLE handler. The FETCH it runs for a new message ends the IDLE; an
// EXISTS the server sends with that FETCH's answer (Dovecot reports mail
// that arrived meanwhile at the end of any command) goes to the session,
// not to the handler, and the server does not send it again: the second
// message of a burst is never reported, until yet another arrives (known
// drifts below the session's own count, Client.Exists).
func TestIdleNewMissesExistsBetweenIdles(t *testing.T) {
	out := runIdleNew(t, func(uids []int) ([]int, []string) {
		// UID 112 arrived while the FETCH of 111 ran: reported at its
		// end, as Dovecot does.
		uids = append(uids, 112)
		return uids, []string{fmt.Sprintf("* %d EXISTS", len(uids))}
	})
	if !strings.Contains(out, "msg 111") {
		t.Fatalf("message 111 not reported")
	}
	if !strings.Contains(out, "msg 112") {
		t.Errorf("idle --new: message 112, announced by the server (* 12 EXISTS) at the end of the FETCH for message 111, was never reported")
	}
}

// TestIdleNewEventsAfterDoneOutOfOrder (audit 42 C; fixed by
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
func TestIdleNewEventsAfterDoneOutOfOrder(t *testing.T) {
	env := `ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg 111" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<111@x>")`
	// The run ends (interrupted) at the second IDLE: the client idles
	// again once it has fetched the new message.
	settled := make(chan struct{})
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
				if idles == 2 {
					close(settled)
				}
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
	code, out, errs := runUntilEvent(t, "", settled, "idle", "imap://alice@"+src.Addr(), "INBOX", "--new", "--json")
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

// TestIdleNewGrowingExistsLoops (93d5f91; second review of the round): idle --new fetches again
// while the last empty FETCH's answer brings an EXISTS past its last
// message, and stops only when the same count comes twice. A server whose
// every answer to "UID FETCH n:*" says nothing new but brings an EXISTS one
// higher (hostile, or broken) keeps idle --new in a tight FETCH loop, never
// idling, for the whole run (--for): hundreds of FETCHes a second. The
// re-fetch should be bounded (a few at most per event), then go back to
// IDLE.
func TestIdleNewGrowingExistsLoops(t *testing.T) {
	env := func(uid int) string {
		return fmt.Sprintf(`ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg %d" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<%d@x>")`, uid, uid)
	}
	var mu sync.Mutex
	fetches := 0
	// The run ends (interrupted) at the second IDLE, the re-fetches
	// over, or at the 11th UID FETCH (the fault: they never end): an
	// event either way, not 2 s of wall time.
	settled := make(chan struct{})
	var settle sync.Once
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
				if idles == 2 {
					settle.Do(func() { close(settled) })
				}
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
				if fetches > 10 {
					settle.Do(func() { close(settled) })
				}
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
	setEnv(t, "IMAPKIT_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runUntilEvent(t, "", settled, "idle", "imap://alice@"+src.Addr(), "INBOX", "--new")
	mu.Lock()
	n := fetches
	mu.Unlock()
	t.Logf("exit %d, %d UID FETCHes\nstdout (%d lines)\nstderr:\n%s", code, n, strings.Count(out, "\n"), errs)
	if n > 10 {
		t.Fatalf("idle --new sent %d UID FETCHes for one EXISTS event before idling again: the re-fetch loop on a growing EXISTS has no bound", n)
	}
}
