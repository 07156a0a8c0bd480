//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestReview43RCopyNULNoBinaryCopiesBefore: a message holding a NUL byte
// (UID 2), copied to a destination with MULTIAPPEND and without BINARY,
// without --skip-unsendable, is met in the middle of its group's APPEND,
// which aborts the group: before, the mailbox failed naming UID 2 and
// u1, which came before it in the group, was never copied, at any run.
// Now u1 is copied (once over the two runs), and each run fails naming
// UID 2 and the option (exit 1 since TestReview45CCopyNULNoBinaryExit1: a
// refusal, no more a lost connection).
func TestReview43RCopyNULNoBinaryCopiesBefore(t *testing.T) {
	bodies := []string{r43Body(1, false), r43Body(2, true), r43Body(3, false)}
	fake := r43NNewDst("IMAP4rev1 MULTIAPPEND", 0, false)
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := r43Source(t, bodies)
	for run := 1; run <= 2; run++ {
		code, _, errs := r43Copy(t, srcAddr, &fake.r42FakeDst, addr, state)
		if got := r43NIDs(fake); code != exitNo || got != "<u1@r43>" || !strings.Contains(errs, "UID 2: not appended") || !strings.Contains(errs, "NUL") || !strings.Contains(errs, "--skip-unsendable") {
			t.Errorf("run %d: exit %d, destination %q, stderr %q; want 1, u1 copied once, and the error naming UID 2, its NUL and the option", run, code, got, errs)
		}
	}
}
