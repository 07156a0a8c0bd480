package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sectionServer is a scripted server whose INBOX holds one message, UID
// 1, whose body FETCH it answers with item (BODY[HEADER] where BODY[]
// was asked for, say) holding body.
func sectionServer(t *testing.T, item, body string) string {
	return preauthServer(t, "IMAP4rev1", func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 1 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 2] x\r\n" + tag + " OK [READ-ONLY] done\r\n"
			case "UID SEARCH", "SEARCH":
				return "* SEARCH 1\r\n" + tag + " OK done\r\n"
			case "UID FETCH", "FETCH":
				if strings.Contains(strings.Join(f, " "), "BODYSTRUCTURE") {
					return `* 1 FETCH (UID 1 BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 14 2 NIL NIL NIL))` + "\r\n" + tag + " OK done\r\n"
				}
				if !strings.Contains(strings.Join(f, " "), "BODY") {
					return `* 1 FETCH (UID 1 FLAGS () INTERNALDATE "01-Feb-2024 10:00:00 +0000")` + "\r\n" + tag + " OK done\r\n"
				}
				return fmt.Sprintf("* 1 FETCH (UID 1 %s {%d}\r\n%s)\r\n", item, len(body), body) + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
}

// TestSectionNotAsked: fetch and export wrote whatever section the
// server sent as the one asked for: a broken server's BODY[HEADER] (or a
// partial BODY[]<5>) for BODY[] was exported as the whole message, or
// written to stdout or UID.eml, with exit 0, the rest of the message
// lost unsaid. Now it is an error, and nothing is written; the RFC822
// forms and an origin of 0 are taken for what they stand for. --text and
// --decode (BODY.PEEK[1]) too.
func TestSectionNotAsked(t *testing.T) {
	const head = "Subject: a\r\n\r\n"
	common := []string{"--insecure-plaintext", "--timeout", "20s"}
	for _, c := range []struct {
		item, section string // the server's item; --section
		ok            bool
	}{
		{"BODY[HEADER]", "", false},
		{"BODY[]<5>", "", false},
		{"BODY[1]", "", false},
		{"RFC822.TEXT", "", false},
		{"BODY[HEADER]", "TEXT", false},
		{"RFC822", "", true},
		{"BODY[]<0>", "", true},
		{"RFC822.HEADER", "HEADER", true},
		{"BODY[1.mime]", "1.MIME", true},
		{"BODY[1]", "1", true},
		{"BODY[HEADER]", "1", false},
		{"BODY[1]<7>", "1", false},
	} {
		addr := sectionServer(t, c.item, head)
		u := "imap://alice@" + addr
		code, out, errs := runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", c.section}, common...)...)
		if c.ok != (code == 0 && out == head) || !c.ok && (out != "" || !strings.Contains(errs, "not the section asked for")) {
			t.Errorf("%s for --section %q: fetch to stdout: exit %d, %q, stderr %q; want taken %v (an error naming it, nothing written, when not)", c.item, c.section, code, out, errs, c.ok)
		}
		dir := t.TempDir()
		code, _, errs = runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", c.section, "--to", dir}, common...)...)
		b, err := os.ReadFile(filepath.Join(dir, "1.eml"))
		if c.ok != (code == 0 && string(b) == head) || !c.ok && (err == nil || !strings.Contains(errs, "not the section asked for")) {
			t.Errorf("%s for --section %q: fetch --to: exit %d, 1.eml %q (%v), stderr %q; want taken %v (an error naming it, no file, when not)", c.item, c.section, code, b, err, errs, c.ok)
		}
		if c.section == "1" {
			// --text and --decode ask for BODY.PEEK[1], the text part.
			for _, flag := range [][]string{{"--text"}, {"--section", "1", "--decode"}} {
				code, out, errs := runCLI(t, "", append(append([]string{"fetch", u, "INBOX", "1"}, flag...), common...)...)
				if c.ok != (code == 0 && out != "") || !c.ok && (out != "" || !strings.Contains(errs, "not the section asked for")) {
					t.Errorf("%s for %v: exit %d, %q, stderr %q; want taken %v (an error naming it, nothing written, when not)", c.item, flag, code, out, errs, c.ok)
				}
			}
		}
		if c.section != "" {
			continue
		}
		mbox := filepath.Join(t.TempDir(), "m")
		code, _, errs = runCLI(t, "", append([]string{"export", u, "INBOX", "--to", mbox, "--quiet"}, common...)...)
		b, _ = os.ReadFile(mbox)
		if c.ok != (code == 0 && strings.Count(string(b), "From MAILER-DAEMON") == 1) || !c.ok && (strings.Contains(string(b), "Subject") || !strings.Contains(errs, "not the section asked for")) {
			t.Errorf("%s: export: exit %d, mbox %q, stderr %q; want taken %v (an error naming it, nothing written, when not)", c.item, code, b, errs, c.ok)
		}
	}
}
