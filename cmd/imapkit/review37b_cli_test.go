//go:build linux

package main

// A second review of stop 37's fixes: each test failed on them.

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// cutSource is a read-only source with one mailbox, INBOX, holding bodies
// (UIDs from 1). While cut is set, the body of UID cutUID is sent half
// way and the connection dropped (a source that fails mid-message: a
// network error, a server restart), and cut is cleared.
func cutSource(bodies []string, cutUID int, cut *atomic.Bool) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 NAMESPACE"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			ok := cmd.Tag + " OK done"
			switch cmd.Name {
			case "LOGIN":
				err = c.Line(ok)
			case "NAMESPACE":
				err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
			case "LIST":
				err = c.Lines(`* LIST () "/" INBOX`, ok)
			case "EXAMINE", "SELECT":
				err = c.Lines(fmt.Sprintf("* %d EXISTS", len(bodies)), "* OK [UIDVALIDITY 7] x", fmt.Sprintf("* OK [UIDNEXT %d] x", len(bodies)+1), cmd.Tag+" OK [READ-ONLY] done")
			case "UID SEARCH":
				var l []string
				for i := range bodies {
					l = append(l, fmt.Sprint(i+1))
				}
				err = c.Lines("* SEARCH "+strings.Join(l, " "), ok)
			case "UID FETCH":
				// The sets copy sends are of whole batches here: answer
				// every message.
				for i, b := range bodies {
					if err != nil {
						break
					}
					if !strings.Contains(cmd.Args, "BODY") {
						err = c.Linef(`* %d FETCH (UID %d FLAGS () INTERNALDATE "01-Feb-2024 10:00:00 +0000" RFC822.SIZE %d)`, i+1, i+1, len(b))
						continue
					}
					if err = c.Linef("* %d FETCH (UID %d BODY[] {%d}", i+1, i+1, len(b)); err != nil {
						break
					}
					if i+1 == cutUID && cut.CompareAndSwap(true, false) {
						c.WriteString(b[:len(b)/2])
						return c.Close()
					}
					_, err = c.Copy(strings.NewReader(b + ")\r\n"))
				}
				if err == nil {
					err = c.Line(ok)
				}
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
	}
}

// TestReview37bCopyAbandonedMultiappend: the source fails in the middle of
// the second message of a MULTIAPPEND group. The APPEND is abandoned
// mid-way and the destination connection closed (nothing of the group
// lands, as for the vanished message of 362cfcd), but only a vanishedError
// or a NO/BAD was a notAppendedError: the group stayed pending, a mail
// delivered to the destination before the next run moved its UIDNEXT, and
// the next run took the group for landed: its three messages were never
// copied, and the run exited 0. A message that cannot be read whole once
// its APPEND began now drops the pending record (srcReader).
func TestReview37bCopyAbandonedMultiappend(t *testing.T) {
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\n" + strings.Repeat("second message line\r\n", 2000),
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	var cut atomic.Bool
	cut.Store(true)
	src, err := hostile.Listen(cutSource(bodies, 2, &cut))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	t.Setenv("IMAPKIT_DST_PASSWORD", testserver.Password)
	t.Setenv("IMAPKIT_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	args := []string{"copy", "imap://alice@" + src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("first run: exit %d %q %q", code, out, errs)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if n := len(mailOf(t, bc, "INBOX")); n != 0 {
		t.Fatalf("after the first run the destination holds %d messages; the scenario wants the group abandoned (0)", n)
	}
	// Ordinary mail reaches the destination's INBOX meanwhile.
	if _, err := bc.AppendBytes(t.Context(), "INBOX", []byte("From: x@example.com\r\nSubject: delivered\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "", args...)
	got := mailOf(t, bc, "INBOX")
	if len(got) != 4 {
		t.Fatalf("second run: exit %d %q %q; the destination holds %d messages; want the source's 3 and the delivered one", code, out, errs, len(got))
	}
}
