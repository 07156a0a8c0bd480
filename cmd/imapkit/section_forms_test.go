package main

import (
	"strings"
	"testing"
)

// TestSectionAnswerForms: the forms a server may name the section asked
// for in (its own letter case, as Mail.ru's lower case; quoted field
// names; the RFC822 forms; Yandex's origin of 0) are taken by
// sectionMismatch, and a neighbour of the section asked for (.NOT for
// HEADER.FIELDS, the part without its MIME, another part, a part's
// child, BINARY for BODY) is refused; a section beside the one asked for
// is skipped, and the one asked for taken.
func TestSectionAnswerForms(t *testing.T) {
	const head = "Subject: a\r\n\r\n"
	common := []string{"--insecure-plaintext", "--timeout", "20s"}
	for _, c := range []struct {
		item, section string
		ok            bool
	}{
		{"body[header.fields (from)]", "HEADER.FIELDS (From)", true},
		{`BODY[HEADER.FIELDS ("FROM" "X")]`, "header.fields (from)", true},
		{"BODY[HEADER.FIELDS.NOT (X-A)]", "header.fields.not (x-a)", true},
		{"BODY[HEADER.FIELDS (X-A)]", "header.fields.not (x-a)", false},
		{"BODY[1.2.HEADER]", "1.2.header", true},
		{"BODY[2.TEXT]", "2.text", true},
		{"BODY[2.1]", "2.1", true},
		{"BODY[2]<0>", "2", true},
		{"rfc822", "", true},
		{"rfc822.header", "header", true},
		{"rfc822.text", "text", true},
		{"BODY[1.2.MIME]", "1.2.mime", true},
		{"BODY[1.2]", "1.2.mime", false},
		{"BODY[10]", "1", false},
		{"BODY[1.1]", "1", false},
		{"BINARY[]", "", false},
		// Another section beside (Yandex's BODY[2.MIME] before
		// BODY[2]): skipped, the one asked for taken.
		{"BODY[2.MIME] {3}\r\nabc BODY[2]<0>", "2", true},
		{"BODY[2.MIME] NIL BODY[2]", "2", true},
		{"BODY[2.MIME] {3}\r\nabc BODY[2.1]", "2", false},
	} {
		addr := sectionServer(t, c.item, head)
		u := "imap://alice@" + addr
		code, out, errs := runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", c.section}, common...)...)
		if c.ok != (code == 0 && out == head) || !c.ok && !strings.Contains(errs, "not the section") {
			t.Errorf("%s for --section %q: exit %d, stdout %q, stderr %q; want taken %v (an error naming it when not)", c.item, c.section, code, out, errs, c.ok)
		}
	}
}
