//go:build linux

package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// wholeMessages returns the bytes of every message of mailbox, by UID.
func wholeMessages(t *testing.T, c *commands.Client, mailbox string) map[uint32][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Examine(ctx, mailbox)
	if err != nil {
		t.Fatalf("EXAMINE %s: %v", mailbox, err)
	}
	out := map[uint32][]byte{}
	if st.Exists == 0 {
		return out
	}
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(s)
		out[m.UID] = b
	}
	return out
}

// TestCopyCreateRefusedGoesOn: copy Cyrus -> Dovecot of an
// account whose Cyrus folders include "a.b" (a valid name on Cyrus with
// unixhierarchysep; Dovecot's Maildir++ refuses '.'). docs/cli.md:280-284
// says a failed mailbox is reported and "the others go on", the run
// ending with "N of M mailboxes failed". The CREATE refusal instead ends
// the whole run: "b" (listed after "a.b") is never copied.
func TestCopyCreateRefusedGoesOn(t *testing.T) {
	t.Parallel()
	d, cf := dovecot(t, 0)
	_, dURL := urls(d)
	cyURL, cy := cyrusAlice(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, mb := range []string{"a.b", "b"} {
		if err := cy.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := cy.AppendBytes(ctx, mb, []byte("Subject: "+mb+"\r\n\r\nhi\r\n"), nil); err != nil {
			t.Fatal(err)
		}
	}
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	code, out, errs := runCLI(t, "", "copy", cyURL, dURL, "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "15s", "--quiet")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if code != 1 {
		t.Errorf("exit %d, want 1 (one mailbox refused)", code)
	}
	dc := client(t, d.TLSAddr, d, testserver.Alice, testserver.Password)
	ls, err := dc.List(ctx, "b", nil)
	if err != nil || len(ls) != 1 {
		t.Fatalf("mailbox b was not copied after a.b's CREATE was refused (LIST b: %v %d): the run stopped at the first refused CREATE", err, len(ls))
	}
	if got := wholeMessages(t, dc, "b"); len(got) != 1 {
		t.Errorf("b on Dovecot has %d messages, want 1", len(got))
	}
	if !strings.Contains(errs, "1 of") {
		t.Errorf("no \"N of M mailboxes failed\" summary: %q", errs)
	}
}
