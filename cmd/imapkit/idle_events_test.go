package main

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestIdleEventsKeepKindAndText: idle shows an untagged NO or BAD as what
// it is, not as OK (a server's "* NO [ALERT] mailbox over quota" came out
// as "OK [ALERT] mailbox over quota", and --json dropped the kind), and a
// response it has no event for with its name and text ("other XFOO 12
// (some data)"), not the Go type that decoded it ("other *codec.Unknown",
// the response's text lost).
func TestIdleEventsKeepKindAndText(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	addr := jsonServer(t, answering("IMAP4rev1 IDLE", func(c *hostile.Conn, cmd *hostile.Command) (bool, error) {
		if cmd.Name != "IDLE" {
			return false, nil
		}
		err := c.Lines("+ idling",
			"* NO [ALERT] mailbox over quota",
			"* BAD internal error",
			"* OK still here",
			`* XFOO 12 (some "data")`,
			"* 3 XBAR baz",
			`* FLAGS (\Seen \Answered)`)
		if err == nil {
			c.ReadLine()
			err = c.Reply(cmd.Tag, "OK done")
		}
		return true, err
	}))
	// Interrupted once the last event is printed (or after the hang
	// bound of idleUntil): no window on the wall clock.
	args := []string{"idle", "imap://alice@" + addr, "INBOX", "--for", "60s"}
	lines := []string{"NO [ALERT] mailbox over quota\n", "BAD internal error\n", "OK still here\n", `other XFOO 12 (some "data")` + "\n", "other 3 XBAR baz\n", "other FLAGS\n"}
	out := idleUntil(t, args, func() {}, "FLAGS\n")
	for _, want := range lines {
		if !strings.Contains(out, want) {
			t.Errorf("idle: %q; want %q", out, want)
		}
	}
	if strings.Contains(out, "OK [ALERT]") || strings.Contains(out, "codec.") {
		t.Errorf("idle: %q shows a NO as OK, or a Go type", out)
	}
	out = idleUntil(t, append(args, "--json"), func() {}, `FLAGS"}`)
	type ev struct {
		Event, Kind, Text string
	}
	got := decodeLines[ev](t, "idle --json", out)
	want := []ev{
		{"status", "NO", "[ALERT] mailbox over quota"},
		{"status", "BAD", "internal error"},
		{"status", "OK", "still here"},
		{"other", "", `XFOO 12 (some "data")`},
		{"other", "", "3 XBAR baz"},
		{"other", "", "FLAGS"},
	}
	if len(got) != len(want) {
		t.Fatalf("idle --json: %q; want %d events", out, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("idle --json event %d: %+v; want %+v", i, got[i], want[i])
		}
	}
}

// TestIdleHidesEchoedPassword: a hostile server that echoes the password
// the user logged in with, during IDLE, in an untagged NO, OK or BAD
// (text or response code) or in a response idle has no event for: idle
// prints none of it, in text or --json, where the session's errors and
// its kept responses hide it already. Before, the IDLE's own responses
// reached idle's events unredacted ("NO [ALERT] you typed S3cret-pw").
func TestIdleHidesEchoedPassword(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	const pw = "S3cret-pw"
	addr := jsonServer(t, answering("IMAP4rev1 IDLE", func(c *hostile.Conn, cmd *hostile.Command) (bool, error) {
		if cmd.Name != "IDLE" {
			return false, nil
		}
		err := c.Lines("+ idling",
			"* NO [ALERT] you typed "+pw,
			"* OK [X-"+pw+" "+pw+"] hi",
			"* XECHO "+pw)
		if err == nil {
			c.ReadLine()
			err = c.Reply(cmd.Tag, "OK done")
		}
		return true, err
	}))
	setEnv(t, "IMAPKIT_PASSWORD", pw)
	args := []string{"idle", "imap://alice@" + addr, "INBOX"}
	for _, extra := range [][]string{nil, {"--json"}} {
		// Interrupted once the last event (XECHO) is shown.
		code, out, errs := runUntilShown(t, "", shownAll("XECHO"), append(args, extra...)...)
		if code != 0 {
			t.Fatalf("idle %q: exit %d: %s", extra, code, errs)
		}
		if strings.Contains(out+errs, pw) || strings.Contains(out+errs, "S3cret") {
			t.Errorf("idle %q printed the password:\n%s%s", extra, out, errs)
		}
		if !strings.Contains(out, "you typed") || !strings.Contains(out, "XECHO") {
			t.Errorf("idle %q: %q; want the events, the password hidden", extra, out)
		}
	}
}
