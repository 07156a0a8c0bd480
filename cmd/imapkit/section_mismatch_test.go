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
	return sectionServerItems(t, fmt.Sprintf("%s {%d}\r\n%s", item, len(body), body))
}

// sectionServerItems is sectionServer answering the body FETCH with one
// response for UID 1 for each of items, what follows "UID 1 " in it.
func sectionServerItems(t *testing.T, items ...string) string {
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
				var b strings.Builder
				for _, it := range items {
					fmt.Fprintf(&b, "* 1 FETCH (UID 1 %s)\r\n", it)
				}
				return b.String() + tag + " OK done\r\n"
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

// TestSectionNotAskedBeside: the section asked for is taken wherever it
// is in the answer, a section beside it that was not asked for skipped
// (stderr names it): only the first section of a response was checked,
// so a server answering BODY.PEEK[1] with BODY[1.MIME] before BODY[1]
// (Yandex's order) failed fetch --section 1, --decode, --text and --to
// with exit 3, and a NIL first section made --text and --decode report
// the part missing. An answer that never holds the section asked for is
// an error; a second copy of the message, the section asked for again or
// another, is skipped with a warning that says which, alike in fetch to
// stdout, fetch --to and export.
func TestSectionNotAskedBeside(t *testing.T) {
	const head, other = "Subject: a\r\n\r\n", "Subject: b\r\n\r\n"
	lit := func(item, body string) string { return fmt.Sprintf("%s {%d}\r\n%s", item, len(body), body) }
	common := []string{"--insecure-plaintext", "--timeout", "20s"}
	const (
		none  = iota // no warning
		skip         // a section not asked for, skipped
		again        // the section asked for, again
	)
	for _, c := range []struct {
		name, section string
		items         []string // the responses for UID 1
		ok            bool
		warn          int
		named         string // the section a skip warning names
	}{
		{"MIME before", "1", []string{lit("BODY[1.MIME]", "abc") + " " + lit("BODY[1]", head)}, true, skip, "BODY[1.MIME]"},
		{"NIL MIME before", "1", []string{"BODY[1.MIME] NIL " + lit("BODY[1]", head)}, true, skip, "BODY[1.MIME]"},
		{"HEADER after", "1", []string{lit("BODY[1]", head) + " " + lit("BODY[HEADER]", "abc")}, true, skip, "BODY[HEADER]"},
		{"part again", "1", []string{lit("BODY[1]", head) + " " + lit("BODY[1]", other)}, true, again, ""},
		{"never", "1", []string{lit("BODY[HEADER]", head) + " " + lit("BODY[1.MIME]", "abc")}, false, none, ""},
		{"header before", "", []string{lit("BODY[HEADER]", "abc") + " " + lit("BODY[]", head)}, true, skip, "BODY[HEADER]"},
		{"header in a second response", "", []string{lit("BODY[]", head), lit("BODY[HEADER]", other)}, true, skip, "BODY[HEADER]"},
		{"header in a first response", "", []string{lit("BODY[HEADER]", other), lit("BODY[]", head)}, true, skip, "BODY[HEADER]"},
		{"body again in a second response", "", []string{lit("BODY[]", head), lit("BODY[]", other)}, true, again, ""},
		{"header alone", "", []string{lit("BODY[HEADER]", head)}, false, none, ""},
	} {
		addr := sectionServerItems(t, c.items...)
		u := "imap://alice@" + addr
		check := func(how string, code int, got string, errs string) {
			t.Helper()
			if !c.ok {
				if code == 0 || strings.Contains(got, "Subject") || !strings.Contains(errs, "not the section asked for") {
					t.Errorf("%s: %s: exit %d, wrote %q, stderr %q; want an error naming the section sent, nothing written", c.name, how, code, got, errs)
				}
				return
			}
			okWarn := true
			switch c.warn {
			case skip:
				okWarn = strings.Contains(errs, "sent "+c.named+" for ") && strings.Contains(errs, "not the section asked for: skipped") &&
					!strings.Contains(errs, "more than once") && !strings.Contains(errs, "twice")
			case again:
				okWarn = (strings.Contains(errs, "more than once") || strings.Contains(errs, "twice")) && !strings.Contains(errs, "skipped")
			}
			if code != 0 || got != head || !okWarn || strings.Count(errs, "\n") > 1 {
				t.Errorf("%s: %s: exit %d, wrote %q, stderr %q; want 0, %q, and one warning saying %s", c.name, how, code, got, errs, head,
					map[int]string{none: "nothing", skip: c.named + " was skipped", again: "the section came again"}[c.warn])
			}
		}
		code, out, errs := runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", c.section}, common...)...)
		check("fetch to stdout", code, out, errs)
		dir := t.TempDir()
		code, _, errs = runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", c.section, "--to", dir}, common...)...)
		b, _ := os.ReadFile(filepath.Join(dir, "1.eml"))
		check("fetch --to", code, string(b), errs)
		if c.section == "1" {
			// --text and --decode ask for BODY.PEEK[1], the text part.
			for _, flag := range [][]string{{"--text"}, {"--section", "1", "--decode"}} {
				code, out, errs := runCLI(t, "", append(append([]string{"fetch", u, "INBOX", "1"}, flag...), common...)...)
				check(fmt.Sprintf("fetch %v", flag), code, strings.ReplaceAll(strings.ReplaceAll(out, "\r\n", "\n"), "\n", "\r\n"), errs)
			}
			continue
		}
		mbox := filepath.Join(t.TempDir(), "m")
		code, _, errs = runCLI(t, "", append([]string{"export", u, "INBOX", "--to", mbox, "--quiet"}, common...)...)
		b, _ = os.ReadFile(mbox)
		got := string(b)
		if strings.Count(got, "From MAILER-DAEMON") == 1 && strings.Contains(got, "Subject: a") && !strings.Contains(got, "Subject: b") {
			got = head
		}
		check("export", code, got, errs)
	}
}
