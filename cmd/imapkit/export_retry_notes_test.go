//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// retryServer serves fiveBodies; while broken holds, UID 2 is answered
// with another section only (not exported, kept to try again), and once
// gone holds it is left out of the answers and not found by a UID SEARCH
// (expunged between two runs).
func retryServer(t *testing.T, broken, gone *atomic.Bool) string {
	t.Helper()
	answer := func(body bool, uids []int) (string, string) {
		var b strings.Builder
		for _, u := range uids {
			switch {
			case !body:
			case u == 2 && gone.Load():
			case u == 2 && broken.Load():
				b.WriteString("* 2 FETCH (UID 2 BODY[HEADER] {3}\r\nabc)\r\n")
			default:
				b.WriteString(fullBody(fiveBodies, u))
			}
		}
		return b.String(), "OK done"
	}
	return serveScenario(t, goneSearchServer(fiveBodies, answer, gone))
}

// goneSearchServer is bodyStatusServer whose UID 2 a UID SEARCH does not
// find once gone holds.
func goneSearchServer(bodies []string, answer func(bool, []int) (string, string), gone *atomic.Bool) hostile.Scenario {
	return func(c *hostile.Conn) error {
		m := map[int]bool{}
		if gone.Load() {
			m[2] = true
		}
		return bodyStatusServer(bodies, answer, m)(c)
	}
}

// TestExportRetryGoneBetweenRuns: a UID kept to try again that the
// mailbox no longer has at the next run is dropped with a note saying
// so, not called "expunged during the export" (it went between runs).
func TestExportRetryGoneBetweenRuns(t *testing.T) {
	var broken, gone atomic.Bool
	broken.Store(true)
	url := retryServer(t, &broken, &gone)
	to := filepath.Join(t.TempDir(), "x.mbox")
	args := []string{"export", url, "INBOX", "--to", to, "--quiet"}
	if code, out, errs := runCLI(t, "", args...); code != exitConnFail || !strings.Contains(errs, "UID 2 not exported") {
		t.Fatalf("first run: exit %d %q %q; want UID 2 not exported", code, out, errs)
	}
	gone.Store(true)
	code, out, errs := runCLI(t, "", args...)
	if code != 0 || !strings.Contains(errs, "UID 2, kept from an earlier run to try again, is no longer in INBOX: dropped") || strings.Contains(errs, "during the export") {
		t.Errorf("second run, UID 2 expunged since: exit %d %q %q; want 0 and UID 2 dropped as gone since the earlier run", code, out, errs)
	}
	if st, err := loadState(statePath(to)); err != nil || st == nil || len(st.Retry) != 0 {
		t.Errorf("state: %+v (%v); want nothing left to try again", st, err)
	}
}

// TestExportProgressTotalRetryInMaildir: the progress total of a Maildir
// export leaves out the UIDs kept to try again that are in the Maildir
// already (written by a run that stopped before it recorded them), as it
// leaves out the new ones there: they are not fetched. Before, they were
// counted, and the progress never reached its total.
func TestExportProgressTotalRetryInMaildir(t *testing.T) {
	var broken, gone atomic.Bool
	broken.Store(true)
	url := retryServer(t, &broken, &gone)
	to := filepath.Join(t.TempDir(), "md")
	args := []string{"export", url, "INBOX", "--to", to, "--format", "maildir"}
	if code, out, errs := runCLI(t, "", args...); code != exitConnFail || !strings.Contains(errs, "UID 2 not exported") {
		t.Fatalf("first run: exit %d %q %q; want UID 2 not exported", code, out, errs)
	}
	// UID 2 as a run that stopped after writing it left it.
	name := filepath.Join(to, "cur", "1704103200.U2.V9.imapkit:2,")
	if err := os.WriteFile(name, []byte(fiveBodies[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	broken.Store(false)
	code, out, errs := runCLI(t, "", args...)
	if code != 0 || !strings.Contains(errs, "export INBOX: 0/0 messages") {
		t.Errorf("second run: exit %d %q %q; want 0 and a progress total of 0 (UID 2 is in the Maildir)", code, out, errs)
	}
}

// TestExportRetryAboveLastUIDOnce: a state whose retry list holds a UID
// above its last UID (a state edited by hand, or written by another
// tool) exports that message once, with the new ones, in UID order.
// Before, it was exported twice: once as a UID to try again, then again
// as a new one above the last UID.
func TestExportRetryAboveLastUIDOnce(t *testing.T) {
	t.Parallel() // waits on Dovecot, which is its own
	srv, cf := dovecot(t, 0)
	plain, _ := urls(srv)
	msg := func(s string) []byte {
		return []byte("From: a@example.com\r\nSubject: " + s + "\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody " + s + "\r\n")
	}
	if err := srv.SeedMailbox("alice", "Kept", [][]byte{msg("m1"), msg("m2")}); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "x.mbox")
	args := append([]string{"export", plain, "Kept", "--to", to, "--quiet"}, cf...)
	if out, _ := cli(t, "", exitOK, args...); !strings.Contains(out, "exported 2 messages") {
		t.Fatalf("first run: %q; want 2 exported", out)
	}
	if err := srv.SeedMailbox("alice", "Kept", [][]byte{msg("m3"), msg("m4"), msg("m5")}); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(statePath(to))
	if err != nil || st == nil || st.LastUID != 2 {
		t.Fatalf("state of the first run: %+v, %v; want last UID 2", st, err)
	}
	st.Retry = []uint32{0, 4} // UID 0 (no message), and one above the last UID
	if err := st.save(statePath(to)); err != nil {
		t.Fatal(err)
	}
	out, errs := cli(t, "", exitOK, args...)
	if got := exportedSubjects(t, to, "mbox"); got != "m1×1 m2×1 m3×1 m4×1 m5×1" || !strings.Contains(out, "exported 3 messages") {
		t.Errorf("second run, UIDs 0 and 4 kept to try again, 4 above the last UID 2: %q %q, mbox %q; want 3 exported, each message once", out, errs, got)
	}
	if b, _ := os.ReadFile(to); strings.Index(string(b), "Subject: m3") > strings.Index(string(b), "Subject: m4") {
		t.Errorf("mbox: m4 before m3; want UID order")
	}
	if st, err := loadState(statePath(to)); err != nil || st == nil || st.LastUID != 5 || len(st.Retry) != 0 || st.Messages != 5 {
		t.Errorf("state after: %+v, %v; want last UID 5, 5 messages, nothing to try again", st, err)
	}
}
