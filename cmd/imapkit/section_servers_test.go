//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// nestedMessage is a multipart message with a text part, an attached
// message (itself multipart/alternative) and a base64 attachment: every
// kind of section a real server names in its answer.
const nestedMessage = "From: a@example.com\r\nTo: b@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n" +
	"--XX\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n" +
	"--XX\r\nContent-Type: message/rfc822\r\n\r\n" +
	"From: c@example.com\r\nSubject: inner\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"YY\"\r\n\r\n" +
	"--YY\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--YY\r\nContent-Type: text/html\r\n\r\n<p>inner</p>\r\n--YY--\r\n" +
	"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--XX--\r\n"

// TestSectionsRealServers: the sections Dovecot and Cyrus name in their
// answers (their own letter case, MIME parts, an attached message's
// HEADER, TEXT and parts, HEADER.FIELDS and .NOT, a part past the last)
// are taken by fetch (stdout and --to), --decode, --text and export:
// sectionMismatch must refuse no real server's answer.
func TestSectionsRealServers(t *testing.T) {
	// Waits on a Dovecot and a Cyrus of its own and on the runs.
	t.Parallel()
	sections := []string{"", "header", "text", "1", "1.mime", "2", "2.mime", "2.header", "2.text", "2.1", "2.1.mime", "2.2",
		"3", "3.MIME", "header.fields (subject from)", "HEADER.FIELDS.NOT (subject)", "2.header.fields (subject)",
		"2.HEADER.FIELDS.NOT (from)", "2.1.1", "4", "1.1", "1.header", "1.text"}
	run := func(t *testing.T, u string, flags []string) {
		for _, s := range sections {
			code, out, errs := runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", s}, flags...)...)
			if code == exitConnFail || strings.Contains(errs, "not the section") {
				t.Errorf("fetch --section %q: exit %d, stdout %q, stderr %q", s, code, out, errs)
			}
			dir := t.TempDir()
			code, out, errs = runCLI(t, "", append([]string{"fetch", u, "INBOX", "1", "--section", s, "--to", dir}, flags...)...)
			if code == exitConnFail || strings.Contains(errs, "not the section") {
				t.Errorf("fetch --section %q --to: exit %d, stdout %q, stderr %q", s, code, out, errs)
			}
		}
		for _, f := range [][]string{{"--text"}, {"--section", "3", "--decode"}, {"--section", "2.1", "--decode"}, {"--section", "1", "--decode"}} {
			code, out, errs := runCLI(t, "", append(append([]string{"fetch", u, "INBOX", "1"}, f...), flags...)...)
			if code != 0 || out == "" {
				t.Errorf("fetch %v: exit %d, stdout %q, stderr %q", f, code, out, errs)
			}
		}
		mbox := filepath.Join(t.TempDir(), "m")
		code, out, errs := runCLI(t, "", append([]string{"export", u, "INBOX", "--to", mbox, "--quiet"}, flags...)...)
		b, _ := os.ReadFile(mbox)
		if code != 0 || !strings.Contains(string(b), "aGVsbG8=") {
			t.Errorf("export: exit %d, %q %q, mbox %q", code, out, errs, b)
		}
	}
	appendTo := func(t *testing.T, c *commands.Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := c.Append(ctx, "INBOX", strings.NewReader(nestedMessage), int64(len(nestedMessage)), nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("dovecot", func(t *testing.T) {
		srv := testserver.StartT(t, &testserver.Options{Seed: 0})
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
		setEnv(t, "IMAPKIT_URL", "")
		appendTo(t, client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password))
		_, tls := urls(srv)
		run(t, tls, []string{"--ca-file", ca, "--timeout", "20s"})
	})
	t.Run("cyrus", func(t *testing.T) {
		u, c := cyrusAlice(t)
		setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
		setEnv(t, "IMAPKIT_URL", "")
		appendTo(t, c)
		run(t, u, []string{"--insecure-plaintext", "--timeout", "20s"})
	})
}
