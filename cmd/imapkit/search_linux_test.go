//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestSearchImaplibQuotedEscapes: imapkit search takes criteria
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
func TestSearchImaplibQuotedEscapes(t *testing.T) {
	t.Parallel()
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

// TestSearchParenValueProtocolError: "each argument is one key
// or value; values with spaces, quotes or non-ASCII characters are quoted
// for you". A value holding a parenthesis but no space ("a)", a subject
// ending in a smiley ":-)") was sent as written (searchAtom let ( and )
// through, for grouping), which the encoder refused: the run exited 3, "a
// connection or protocol error", with "wire: encode Raw, argument 4:
// invalid raw syntax at byte 1", nothing said about the argument. A value
// the user gave as documented should be quoted (or the run refused as a
// usage error, exit 2); Client.Search finds the message.
func TestSearchParenValueProtocolError(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx := t.Context()
	if err := c.Create(ctx, "zzp", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendBytes(ctx, "zzp", []byte("Subject: thanks :-)\r\n\r\nx\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", append([]string{"search", tls, "zzp", "SUBJECT", ":-)"}, cf...)...)
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("imapkit search SUBJECT ':-)': exit %d, stdout %q, stderr %s; want UID 1", code, out, errs)
	}
	// More values that looked like syntax, and grouping, which still works
	// with parentheses as arguments of their own.
	for _, m := range []string{"Subject: (*)\r\n\r\nx\r\n", "Subject: a)\r\nX-Tag: b*\r\n\r\nx\r\n", "Subject: SEEN\r\n\r\nx\r\n"} {
		if _, err := c.AppendBytes(ctx, "zzp", []byte(m), &commands.AppendOptions{Flags: []string{`\Seen`}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"SUBJECT", "(*)"}, "2"},
		{[]string{"SUBJECT", "a)"}, "3"},
		{[]string{"HEADER", "X-Tag", "b*"}, "3"},
		{[]string{"SUBJECT", "SEEN"}, "4"},
		{[]string{"OR", "SUBJECT", ":-)", "SUBJECT", "(*)"}, "1\n2"},
		{[]string{"NOT", "(", "SEEN", ")"}, "1"},
		{[]string{"(", "SEEN", "SUBJECT", "a)", ")"}, "3"},
		{[]string{"UID", "2:*", "NOT", "SUBJECT", "SEEN"}, "2\n3"},
	} {
		code, out, errs := runCLI(t, "", append(append([]string{"search", tls, "zzp"}, tt.args...), cf...)...)
		if code != 0 || strings.TrimSpace(out) != tt.want {
			t.Errorf("imapkit search %q: exit %d, stdout %q, stderr %s; want %q", tt.args, code, out, errs, tt.want)
		}
	}
}
