//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestReview44CCopyBinaryRefusedSkipUnsendable (real Cyrus 3.6): a source
// message with a NUL in a header is recorded as "binary" and sent alone
// as literal8, and Cyrus refuses it even so ("NO Message contains NUL
// characters", no response code). --skip-unsendable did not skip it: the
// mailbox stopped at UID 2 at every run (exit 1), and u3 was never
// copied. Now it is skipped with a warning naming it, recorded in the
// state as skipped, counted ("1 skipped"), and the rest is copied, once
// over two runs.
func TestReview44CCopyBinaryRefusedSkipUnsendable(t *testing.T) {
	t.Parallel()
	nulHdr := "From: a@example.com\r\nSubject: u\x002\r\nMessage-ID: <u2@r43>\r\n\r\nhi\r\n"
	bodies := []string{r43Body(1, false), nulHdr, r43Body(3, false)}
	dstURL, ac := cyrusAlice(t)
	srcAddr := r43Source(t, bodies)
	state := t.TempDir()
	for run := 1; run <= 2; run++ {
		code, out, errs := r43NCopyTo(t, srcAddr, dstURL, state, "--skip-unsendable")
		got := strings.Join(r43Subjects(mailOf(t, ac, "INBOX")), " ")
		if code != 0 || got != "u1 u3" {
			t.Errorf("run %d: exit %d, the destination holds %q; want 0 and u1 u3 (once each)", run, code, got)
		}
		if run == 1 && (!strings.Contains(errs, "warning: UID 2") || !strings.Contains(out, "1 skipped")) {
			t.Errorf("run 1: stderr %q, stdout %q; want a warning naming UID 2 and \"1 skipped\"", errs, out)
		}
		if box := r43Box(t, state); box == nil || len(box.Skipped) != 1 || box.Skipped[0] != 2 || box.Pending != nil {
			t.Errorf("run %d: state %+v; want UID 2 recorded as skipped, nothing pending", run, box)
		}
	}
}

// TestReview44CCopyBinaryRefusalKinds: which refusals of a message
// holding a NUL, sent alone as literal8, --skip-unsendable skips. The
// scripted destination (BINARY) answers every APPEND it reads whole with
// refusal: Cyrus 3.6's answer to a NUL in a header ("NO Message contains
// NUL characters", recorded from the real server by
// TestReview44CCopyBinaryRefusedSkipUnsendable) is skipped, and so is a
// [PARSE]; Cyrus's uncoded "NO Over quota" and a [OVERQUOTA] are about the
// mailbox, not the message: the mailbox stops at it, nothing skipped.
func TestReview44CCopyBinaryRefusalKinds(t *testing.T) {
	for _, c := range []struct {
		refusal string
		skip    bool
	}{
		{"NO Message contains NUL characters", true},
		{"NO [PARSE] cannot parse the message", true},
		{"NO Over quota", false},
		{"NO [OVERQUOTA] Quota exceeded", false},
	} {
		fake := r43NNewDst("IMAP4rev1 LITERAL+ BINARY", 0, false)
		fake.refuse = c.refusal
		addr := fake.start(t)
		state := t.TempDir()
		srcAddr := r43Source(t, []string{r43Body(1, true)})
		code, out, errs := r43Copy(t, srcAddr, &fake.r42FakeDst, addr, state, "--skip-unsendable")
		box := r43Box(t, state)
		if c.skip {
			if code != 0 || !strings.Contains(errs, "warning: UID 1") || !strings.Contains(out, "1 skipped") || box == nil || len(box.Skipped) != 1 {
				t.Errorf("%q: exit %d, stdout %q, stderr %q, state %+v; want 0, UID 1 skipped with a warning and recorded", c.refusal, code, out, errs, box)
			}
			continue
		}
		if code != exitNo || !strings.Contains(errs, "UID 1: not appended") || box == nil || len(box.Skipped) != 0 {
			t.Errorf("%q: exit %d, stderr %q, state %+v; want 1, the error naming UID 1, nothing skipped", c.refusal, code, errs, box)
		}
	}
}
