package main

import (
	"errors"
	"strings"
	"testing"
)

// TestReview46CSectionFieldNames: parseSection took any word of a
// HEADER.FIELDS list for a field name, so "HEADER.FIELDS (a:b)" passed the
// argument check and was refused by commands only after the connection
// and the login (exit 1, a runtime error). A field name is RFC 5322's
// ftext (printable US-ASCII but ':'), without the characters commands
// refuses: anything else is a usage error at once (exit 2, as the other
// bad --section values), before any connection.
func TestReview46CSectionFieldNames(t *testing.T) {
	for _, name := range []string{"a:b", "Subject:", ":", "x\x7fy", "caf\u00e9", "a\"b", "a\\b", "a%", "a*", "a{1}", "a[b]"} {
		spec := "HEADER.FIELDS (FROM " + name + ")"
		_, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v; want a usage error", spec, err)
		}
	}
	for _, spec := range []string{"HEADER.FIELDS (FROM X-Spam-Score List-Id)", "1.HEADER.FIELDS.NOT (Received DKIM-Signature X-a.b_c!#$&'+/=?^`|~)"} {
		if _, err := parseSection(spec); err != nil {
			t.Errorf("%q: %v; want it taken", spec, err)
		}
	}
	// The CLI: exit 2 before connecting (nothing listens on port 1), as
	// for another bad --section.
	t.Setenv("IMAPKIT_PASSWORD", "x")
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
	for _, sec := range []string{"HEADER.FIELDS (a:b)", "HEADER.FIELDS ((a))"} {
		for _, extra := range [][]string{nil, {"--to", t.TempDir()}} {
			args := append([]string{"fetch", "imap://alice@127.0.0.1:1", "INBOX", "1", "--section", sec, "--insecure-plaintext", "--timeout", "5s"}, extra...)
			code, _, errs := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(errs, "bad --section") {
				t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the bad --section", args, code, errs)
			}
		}
	}
}
