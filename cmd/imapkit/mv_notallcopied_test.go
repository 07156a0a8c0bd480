package main

import (
	"strings"
	"testing"
)

// moveRaceServer is a scripted server with UIDPLUS and no MOVE: Move's
// fallback runs. Its UID SEARCH finds UIDs 1:3, and its UID COPY answers
// [COPYUID 7 1,3 10:11], as Dovecot does when another client expunged
// UID 2 between the two: 1 and 3 are copied, then flagged and expunged
// (moved), and 2 is no more.
func moveRaceServer(t *testing.T) string {
	return preauthServer(t, "IMAP4rev1 UIDPLUS ESEARCH", func() scriptAnswer {
		return func(tag, cmd string, _ []string) string {
			switch cmd {
			case "SELECT":
				return "* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 4] x\r\n" + tag + " OK [READ-WRITE] done\r\n"
			case "UID SEARCH":
				return "* ESEARCH (TAG \"" + tag + "\") UID ALL 1:3\r\n" + tag + " OK done\r\n"
			case "UID COPY":
				return "* 2 EXPUNGE\r\n" + tag + " OK [COPYUID 7 1,3 10:11] done\r\n"
			case "UID EXPUNGE":
				return "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n" + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
}

// TestMvOtherClientExpungedOne: "imapkit mv INBOX 1:3 Archive" where
// another client expunged UID 2 between the fallback's UID SEARCH and its
// UID COPY. Every message still there was moved (1 and 3 are in Archive
// only), but Move now returns a *MoveIncompleteError (ErrNotAllCopied),
// and the CLI
//   - exits 3, "connection, TLS, protocol or local I/O error": the class
//     scripts retry, though nothing failed on the connection;
//   - prints "copied (the move did not finish) INBOX UID 1,3 to Archive":
//     the messages read as still in INBOX too, so a user rolling back (or
//     cleaning up duplicates) by expunging the copies in Archive loses
//     them: they were removed from INBOX.
func TestMvOtherClientExpungedOne(t *testing.T) {
	addr := moveRaceServer(t)
	code, out, errs := runCLI(t, "", "mv", "imap://alice@"+addr, "INBOX", "1:3", "Archive", "--insecure-plaintext", "--timeout", "20s")
	t.Logf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	if code == exitConnFail {
		t.Errorf("mv: exit %d (a connection error, which scripts retry); the move of every message still there succeeded", code)
	}
	if code != exitNo {
		t.Errorf("mv: exit %d; want %d (done, not all as asked)", code, exitNo)
	}
	if strings.Contains(out, "copied (the move did not finish) INBOX UID 1,3") || !strings.Contains(out, "moved INBOX UID 1,3 to Archive") {
		t.Errorf("mv: stdout %q; UIDs 1 and 3 were removed from INBOX (moved), not only copied", out)
	}
	if !strings.Contains(out, "left in INBOX UID 2 ") {
		t.Errorf("mv: stdout %q; want a line saying UID 2 was left in INBOX", out)
	}
	code, out, errs = runCLI(t, "", "mv", "imap://alice@"+addr, "INBOX", "1:3", "Archive", "--insecure-plaintext", "--timeout", "20s", "--json")
	if code != exitNo || !strings.Contains(out, `"removed":"1,3"`) || !strings.Contains(out, `"left":"2"`) {
		t.Errorf("mv --json: exit %d, stdout %q, stderr %q; want exit %d, \"removed\":\"1,3\" and \"left\":\"2\"", code, out, errs, exitNo)
	}
}

// TestCpCopyUIDNotSentExitsOne: "imapkit cp INBOX 5 Archive" answered
// [COPYUID 7 1,3 10:11], naming UIDs not sent: the server copied the
// message, it said, with no mapping kept (*commands.CopyUIDError). That is
// a copy done amiss, exit 1, not 3 (a connection error, which scripts
// retry: a retry copies the message twice).
func TestCpCopyUIDNotSentExitsOne(t *testing.T) {
	addr := moveRaceServer(t)
	code, out, errs := runCLI(t, "", "cp", "imap://alice@"+addr, "INBOX", "5", "Archive", "--insecure-plaintext", "--timeout", "20s")
	if code != exitNo || !strings.Contains(errs, "not among those sent") {
		t.Errorf("cp: exit %d, stdout %q, stderr %q; want exit %d and the COPYUID's error", code, out, errs, exitNo)
	}
}
