package main

import (
	"strconv"
	"strings"
	"testing"
)

// copyAnswerServer is a scripted server (PREAUTH, UIDPLUS, UIDs 1 to 5 in
// INBOX) whose UID COPY is answered OK with no COPYUID (Dovecot's "OK No
// messages found." for UIDs it does not have) and whose UID SEARCH finds
// the UIDs of the set asked that it has.
func copyAnswerServer(t *testing.T) string {
	return preauthServer(t, "IMAP4rev1 UIDPLUS", func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 5 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 6] x\r\n" + tag + " OK [READ-ONLY] done\r\n"
			case "UID COPY":
				return tag + " OK No messages found.\r\n"
			case "UID SEARCH":
				found := uidsInRange(f[len(f)-1], 5)
				return strings.TrimSpace("* SEARCH "+strings.Join(found, " ")) + "\r\n" + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
}

// uidsInRange returns, as text, the UIDs from 1 to n of set ("9", "4:9").
func uidsInRange(set string, n int) []string {
	var l []string
	lo, hi, ok := strings.Cut(set, ":")
	if !ok {
		hi = lo
	}
	a, _ := strconv.Atoi(lo)
	b, _ := strconv.Atoi(hi)
	for u := 1; u <= n; u++ {
		if u >= min(a, b) && u <= max(a, b) {
			l = append(l, strconv.Itoa(u))
		}
	}
	return l
}

// TestCpAbsentUIDNotCopied: cp of UIDs the mailbox does not have, which
// the server answers OK with no COPYUID (Dovecot's "OK No messages
// found."), says nothing was copied and exits 1, as fetch of a UID that
// does not exist and mv do; of a set only part of which is there, it
// lists those as copied with no destination UID. Before, it printed
// "copied INBOX UID 9 to Archive, destination UID unknown" and exited 0.
func TestCpAbsentUIDNotCopied(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	addr := copyAnswerServer(t)
	code, out, errs := runCLI(t, "", "cp", "imap://alice@"+addr, "INBOX", "9", "Archive", "--insecure-plaintext")
	if code != exitNo || out != "" || !strings.Contains(errs, "nothing copied: no message of UID 9 is in INBOX") {
		t.Errorf("cp of an absent UID: exit %d, stdout %q, stderr %q; want exit %d, nothing on stdout, nothing copied said", code, out, errs, exitNo)
	}
	code, out, errs = runCLI(t, "", "cp", "imap://alice@"+addr, "INBOX", "4:9", "Archive", "--insecure-plaintext")
	if code != 0 || !strings.Contains(out, "copied INBOX UID 4:5 to Archive, destination UID unknown") {
		t.Errorf("cp of UIDs 4:9, 4 and 5 there: exit %d, stdout %q, stderr %q; want 0 and UIDs 4:5 copied, destination UID unknown", code, out, errs)
	}
}

// TestCpDynamicSetNoCopyUID: cp of a UID set ending in "*" answered OK
// with no COPYUID copied what the set names in the mailbox, where "*" is
// its largest UID (RFC 9051 section 6.4.8: "5:*" in a mailbox whose
// largest UID is 3 is 3:5, so UID 3): the UIDs the server's UID SEARCH of
// the set finds were copied. Before, they were intersected with the set
// as given, which holds no UID below 5: "nothing copied", exit 1, for a
// message the server copied.
func TestCpDynamicSetNoCopyUID(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	addr := preauthServer(t, "IMAP4rev1 UIDPLUS", func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 4] x\r\n" + tag + " OK [READ-ONLY] done\r\n"
			case "UID COPY":
				return tag + " OK done\r\n" // UID 3 copied, no COPYUID
			case "UID SEARCH":
				return "* SEARCH 3\r\n" + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
	code, out, errs := runCLI(t, "", "cp", "imap://alice@"+addr, "INBOX", "5:*", "Archive", "--insecure-plaintext")
	if code != 0 || !strings.Contains(out, "copied INBOX UID 3 to Archive, destination UID unknown") {
		t.Errorf("cp of UIDs 5:* (UID 3 the largest): exit %d, stdout %q, stderr %q; want 0 and UID 3 copied, destination UID unknown", code, out, errs)
	}
}
