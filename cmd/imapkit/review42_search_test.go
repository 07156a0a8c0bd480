//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview42DCSearchImaplibQuotedEscapes: imapkit search takes criteria
// "as imaplib takes them" and, for that, strips the double quotes around
// an argument written as an IMAP quoted string ('"Ann Lee"'). But it did
// not undo the quoted string's escapes: '"a\\b"' (imaplib's quoting of
// the subject a\b) searched for a\\b, two backslashes, and '"say \"hi\""'
// (an inner quote: not stripped at all) searched for the 14 bytes with
// the quotes and backslashes. Both found nothing and exited 0: a silent
// wrong result where imaplib, given the same argument, finds the message.
// Minimal failing inputs of the random imaplib differential (seed 1):
// the subjects `\` and `"`. An argument that starts with " but is no
// complete quoted string is a usage error (exit 2), nothing sent.
func TestReview42DCSearchImaplibQuotedEscapes(t *testing.T) {
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx := t.Context()
	if err := c.Create(ctx, "zzq", nil); err != nil {
		t.Fatal(err)
	}
	subjects := []string{`C:\temp`, `say "hi"`}
	for _, s := range subjects {
		if _, err := c.AppendBytes(ctx, "zzq", fmt.Appendf(nil, "Subject: %s\r\n\r\nx\r\n", s), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range subjects {
		// imaplib's quoting (what imaplib users write, and what imaplib
		// sends as it is): backslash and quote escaped, in quotes.
		arg := `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
		out, errs := cli(t, "", 0, append([]string{"search", tls, "zzq", "SUBJECT", arg}, cf...)...)
		if strings.TrimSpace(out) != fmt.Sprint(i+1) {
			t.Errorf("imapkit search SUBJECT %s (the subject %q quoted as for imaplib, which finds UID %d): got %q %s", arg, s, i+1, out, errs)
		}
	}
	// Unquoted, the same values are quoted for you, as before.
	for i, s := range subjects {
		out, errs := cli(t, "", 0, append([]string{"search", tls, "zzq", "SUBJECT", s}, cf...)...)
		if strings.TrimSpace(out) != fmt.Sprint(i+1) {
			t.Errorf("imapkit search SUBJECT %s: got %q %s, want UID %d", s, out, errs, i+1)
		}
	}
	for _, arg := range []string{`"open`, `"a"b"`, `"a\b"`, `"`, `"end\"`} {
		code, out, errs := runCLI(t, "", append([]string{"search", tls, "zzq", "SUBJECT", arg}, cf...)...)
		if code != exitUsage || out != "" || !strings.Contains(errs, "no complete quoted string") {
			t.Errorf("imapkit search SUBJECT %s (malformed quoted string): exit %d, stdout %q, stderr %s; want exit %d", arg, code, out, errs, exitUsage)
		}
	}
}
