package commands_test

// Reproducers of the arithmetic-at-the-extremes audit: numbers near
// 2^32 (and 2^64) from a hostile server, and counters of long sessions.

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// x39Child runs body in a child process (this test binary, the one test)
// and returns its output, and whether it ended within limit. A body that
// spins without end (allocating) is thus killed without taking the test
// binary's memory with it.
func x39Child(t *testing.T, limit time.Duration, body func(t *testing.T)) (out string, ended bool) {
	t.Helper()
	if os.Getenv("IMAPKIT_X39_CHILD") == t.Name() {
		// A watchdog: the child reports its heap and leaves at the limit.
		go func() {
			time.Sleep(limit)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("X39-HUNG after %v, heap %d MiB\n", limit, ms.HeapAlloc>>20)
			os.Exit(3)
		}()
		defer fmt.Println("X39-ENDED") // also after a t.Fatal of body's
		body(t)
		return "", true
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "IMAPKIT_X39_CHILD="+t.Name())
	b, _ := cmd.CombinedOutput()
	out = string(b)
	if strings.Contains(out, "--- FAIL") {
		t.Fatalf("child failed:\n%s", out)
	}
	return out, strings.Contains(out, "X39-ENDED")
}

// A server without ESEARCH that announces 4294967295 messages (a hostile
// EXISTS): Search with no Set cuts the mailbox into parts of
// MaxNumbers (2^21) sequence numbers, start += chunk in uint32; the last
// part's start+chunk wraps to 1 and the loop never ends, appending parts
// without bound, deaf to the context. It must return (an answer or an
// error) promptly.
func TestReview39XSearchHugeExistsLoops(t *testing.T) {
	out, ended := x39Child(t, 8*time.Second, func(t *testing.T) {
		c, ctx, _ := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
			raw := string(cmd.Raw)
			switch {
			case strings.Contains(raw, " SELECT "):
				return "* 4294967295 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
			case strings.Contains(raw, " SEARCH"):
				return "* SEARCH\r\n" + cmd.Tag + " OK done\r\n"
			}
			return ""
		})
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		res, err := c.Search(ctx, &commands.Criteria{Flags: []string{`\Seen`}}, nil)
		t.Logf("Search: %v, %v", res, err)
	})
	if !ended {
		t.Fatalf("Search after EXISTS 4294967295 never returned (the part loop of searchCommands wraps):\n%s", out)
	}
}

// Fixed: such a number is unknown (0), not its low 32 bits (the codec
// keeps reading it: Zoho predicts a UIDNEXT past 2^32).
//
// The codec keeps a response code's number in 64 bits (for
// HIGHESTMODSEQ); Select cuts [UIDVALIDITY], [UIDNEXT] and [UNSEEN] to 32
// bits without a word: a server's UIDVALIDITY 4294967297 is reported as
// 1, UIDNEXT 4294967296 as 0 (unknown), where a STATUS answer with the
// same numbers is a decode error (codec num32) and docs/limits.md says
// a number past its grammar's range is an error.
func TestReview39XSelectCodePast32Bits(t *testing.T) {
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
		if strings.Contains(string(cmd.Raw), " SELECT ") {
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 4294967297] x\r\n* OK [UIDNEXT 4294967296] x\r\n* OK [UNSEEN 4294967298] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		}
		return ""
	})
	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Logf("Select: %v (an error: fine)", err)
		return
	}
	if st.UIDValidity != 0 || st.UIDNext != 0 || st.FirstUnseen != 0 {
		t.Fatalf("Select of [UIDVALIDITY 4294967297] [UIDNEXT 4294967296] [UNSEEN 4294967298]: no error, UIDValidity %d, UIDNext %d, FirstUnseen %d (cut to 32 bits)", st.UIDValidity, st.UIDNext, st.FirstUnseen)
	}
}

// checkDate refuses a date whose year lies outside 0-9999 in its own zone
// or in UTC; but AppendInternalDate writes the date in its own zone (UTC
// only for an offset of 100 hours or more), so "31-Dec-9999 23:00:00
// -0500", a valid INTERNALDATE that Dovecot takes (and holds for a
// message appended so; imapkit copy passes it on), is refused before
// sending: the message cannot be appended, and a copy fails at it at
// every run.
func TestReview39XAppendDateYearEdgeRefused(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", nil)
	for _, d := range []time.Time{
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600)),
		time.Date(0, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)),
	} {
		msg := "Subject: x\r\n\r\nx\r\n"
		_, err := c.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), &commands.AppendOptions{Date: d})
		if err != nil {
			t.Errorf("Append with date %s (an IMAP date: %q): %v", d, codec.AppendInternalDate(nil, d), err)
		}
	}
	t.Logf("sent: %d APPENDs", len(r38Appends(f)))
}

// The same check refuses a search date that IMAP writes: SINCE
// 31-Dec-9999 (a search date has no zone; it is written in t's own).
func TestReview39XSearchDateYearEdgeRefused(t *testing.T) {
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1", func(cmd r38Cmd) string {
		raw := string(cmd.Raw)
		switch {
		case strings.Contains(raw, " SELECT "):
			return "* 3 EXISTS\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, "SEARCH"):
			return "* SEARCH\r\n" + cmd.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600))
	if _, err := c.Search(ctx, &commands.Criteria{Since: d}, nil); err != nil {
		t.Errorf("Search SINCE %s (sent as SINCE %s): %v", d, d.Format("2-Jan-2006"), err)
	}
}

// TestReview39XAppendDateEdgeDovecot: the dates checkInternalDate lets
// through since the check counts the year as written, whose UTC year lies
// outside 0-9999, are taken by Dovecot as arguments (no BAD before the
// literal, so no message body read as commands): each APPEND succeeds and
// the body's command does not run.
func TestReview39XAppendDateEdgeDovecot(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	c := dvClient(t, "alice", nil)
	for i, d := range []time.Time{
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600)),
		time.Date(0, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(99*3600+59*60))),
	} {
		victim := fmt.Sprintf("%s/injected-%d", mb, i)
		if _, err := c.AppendBytes(ctx, mb, []byte("X1 CREATE "+victim+"\r\n"), &commands.AppendOptions{Date: d}); err != nil {
			t.Errorf("Append dated %q: %v", codec.AppendInternalDate(nil, d), err)
		}
		if l, err := c.List(ctx, victim, nil); err != nil || len(l) > 0 {
			t.Errorf("date %q: the body ran as a command (%v, %v)", codec.AppendInternalDate(nil, d), l, err)
		}
	}
}
