package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchFlagsUpdateNotSentTwice: a server may send, amid a body
// FETCH's answer, a FETCH of the same message with its flags alone (RFC
// 3501 7.4.2: another client's change; without the UID too), before the
// body and after it. That is no body sent twice: fetch (stdout, by UID
// and --seq, and --to) and export take the message once, with no warning.
func TestFetchFlagsUpdateNotSentTwice(t *testing.T) {
	const body = "Subject: a\r\n\r\nbody\r\n"
	addr := preauthServer(t, "IMAP4rev1", func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 1 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 2] x\r\n" + tag + " OK [READ-ONLY] done\r\n"
			case "UID SEARCH", "SEARCH":
				return "* SEARCH 1\r\n" + tag + " OK done\r\n"
			case "UID FETCH", "FETCH":
				if !strings.Contains(strings.Join(f, " "), "BODY") {
					return `* 1 FETCH (UID 1 FLAGS () INTERNALDATE "01-Feb-2024 10:00:00 +0000")` + "\r\n" + tag + " OK done\r\n"
				}
				return fmt.Sprintf("* 1 FETCH (FLAGS (\\Seen))\r\n* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 1 FETCH (UID 1 BODY[] {%d}\r\n%s)\r\n* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n* 1 FETCH (FLAGS (\\Seen \\Flagged) UID 1)\r\n", len(body), body) + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
	u := "imap://alice@" + addr
	common := []string{"--insecure-plaintext", "--timeout", "20s"}
	for _, seq := range [][]string{nil, {"--seq"}} {
		code, out, errs := runCLI(t, "", append(append([]string{"fetch", u, "INBOX", "1"}, seq...), common...)...)
		if code != 0 || out != body || errs != "" {
			t.Errorf("fetch 1 %v: exit %d, %q, stderr %q; want the body, no warning", seq, code, out, errs)
		}
		dir := t.TempDir()
		code, out, errs = runCLI(t, "", append(append([]string{"fetch", u, "INBOX", "1", "--to", dir}, seq...), common...)...)
		b, _ := os.ReadFile(filepath.Join(dir, "1.eml"))
		if code != 0 || string(b) != body || errs != "" || !strings.Contains(out, "fetched 1 messages") {
			t.Errorf("fetch 1 %v --to: exit %d, 1.eml %q, stdout %q, stderr %q; want the body, no warning", seq, code, b, out, errs)
		}
	}
	mbox := filepath.Join(t.TempDir(), "m")
	code, out, errs := runCLI(t, "", append([]string{"export", u, "INBOX", "--to", mbox, "--quiet"}, common...)...)
	b, _ := os.ReadFile(mbox)
	if code != 0 || strings.Count(string(b), "From MAILER-DAEMON") != 1 || errs != "" {
		t.Errorf("export: exit %d, %q, stderr %q, mbox %q; want the message once, no warning", code, out, errs, b)
	}
}
