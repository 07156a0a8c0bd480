//go:build linux

package main

import (
	"strings"
	"testing"
)

// r45CLastIsLogout reports whether the destination's last command was a
// LOGOUT (its last session ended cleanly).
func r45CLastIsLogout(f *r43NDst) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log) > 0 && strings.Contains(f.log[len(f.log)-1], " LOGOUT")
}

// TestReview45CCopyNULNoBinaryExit1: a source message holding a NUL byte
// (UID 2), copied without --skip-unsendable to a destination without
// BINARY (with MULTIAPPEND, and with LITERAL+ too), stops its mailbox
// naming UID 2 and the option with exit 1 (the destination can never
// take it: a refusal, as import's errNeedsBinary), not 3 (a lost
// connection, which scripts retry for ever); u1, before it, is copied
// once over two runs, and each run ends with a LOGOUT. The second run
// starts at UID 2 (its group's first): it failed so too, its session
// aborted, with no logout.
func TestReview45CCopyNULNoBinaryExit1(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 MULTIAPPEND", "IMAP4rev1 LITERAL+ MULTIAPPEND", "IMAP4rev1"} {
		t.Run(caps, func(t *testing.T) {
			bodies := []string{r43Body(1, false), r43Body(2, true), r43Body(3, false)}
			fake := r43NNewDst(caps, 0, false)
			addr := fake.start(t)
			state := t.TempDir()
			srcAddr := r43Source(t, bodies)
			for run := 1; run <= 2; run++ {
				code, _, errs := r43Copy(t, srcAddr, &fake.r42FakeDst, addr, state)
				if got := r43NIDs(fake); code != exitNo || got != "<u1@r43>" || !strings.Contains(errs, "UID 2: not appended") || !strings.Contains(errs, "NUL") || !strings.Contains(errs, "--skip-unsendable") {
					t.Errorf("run %d: exit %d, destination %q, stderr %q; want 1, u1 copied once, and the error naming UID 2, its NUL and the option", run, code, got, errs)
				}
				if !r45CLastIsLogout(fake) {
					t.Errorf("run %d: the destination's last command was not a LOGOUT", run)
				}
			}
		})
	}
}
