//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// zzEmptyServer answers every body FETCH with the given section value.
func zzEmptyServer(t *testing.T, value string) string {
	t.Helper()
	addr := jsonServer(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 UIDPLUS"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch {
			case strings.Contains(cmd.Name, "FETCH") && strings.Contains(strings.ToUpper(cmd.Args), "BODYSTRUCTURE"):
				err = c.Lines(`* 1 FETCH (UID 7 BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))`, cmd.Tag+" OK done")
			case strings.Contains(cmd.Name, "FETCH"):
				sec := "BODY[]"
				up := strings.ToUpper(cmd.Args)
				switch {
				case strings.Contains(up, "[TEXT]"):
					sec = "BODY[TEXT]"
				case strings.Contains(up, "[1]"):
					sec = "BODY[1]"
				}
				err = c.Lines("* 1 FETCH (UID 7 "+sec+" "+value+")", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	return "imap://alice@" + addr
}

// TestReview38RevcFetchEmptySection: a section that is legitimately empty
// ("" or {0}, not NIL) is found: exit 0.
func TestReview38RevcFetchEmptySection(t *testing.T) {
	for _, v := range []string{`""`, "{0}\r\n"} {
		u := zzEmptyServer(t, v)
		for _, args := range [][]string{
			{"fetch", u, "INBOX", "7", "--section", "TEXT"},
			{"fetch", u, "INBOX", "1", "--seq", "--section", "TEXT"},
			{"fetch", u, "INBOX", "7", "--text"},
			{"fetch", u, "INBOX", "7", "--section", "1", "--decode"},
		} {
			code, out, errs := runCLI(t, "", args...)
			if code != 0 {
				t.Errorf("%q %v: exit %d stdout %q stderr %q", v, args[3:], code, out, errs)
			}
		}
	}
}

// TestReview38RevcDovecotEmptyParts: Dovecot's answers for empty sections and
// parts (a message with no body; a multipart whose text part is empty).
func TestReview38RevcDovecotEmptyParts(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := t.TempDir()
	msgs := []string{
		"From: a@example.org\r\nSubject: nobody\r\n\r\n",
		"From: a@example.org\r\nSubject: mp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--XX--\r\n",
	}
	for i, m := range msgs {
		f := dir + "/m" + string(rune('0'+i)) + ".eml"
		if err := writeFileZZ(f, m); err != nil {
			t.Fatal(err)
		}
		cli(t, "", 0, with("append", tls, "INBOX", f)...)
	}
	for _, args := range [][]string{
		{"fetch", tls, "INBOX", "1", "--section", "TEXT"},
		{"fetch", tls, "INBOX", "1", "--text"},
		{"fetch", tls, "INBOX", "1", "--section", "1"},
		{"fetch", tls, "INBOX", "1", "--section", "1", "--decode"},
		{"fetch", tls, "INBOX", "2", "--section", "1"},
		{"fetch", tls, "INBOX", "2", "--text"},
		{"fetch", tls, "INBOX", "2", "--section", "2", "--decode"},
		{"fetch", tls, "INBOX", "2", "--section", "2.MIME"},
		{"fetch", tls, "INBOX", "2", "--seq", "--section", "1"},
		{"fetch", tls, "INBOX", "2", "--section", "HEADER.FIELDS (X-NONE)"},
		{"fetch", tls, "INBOX", "2", "--section", "3"},
	} {
		code, out, errs := runCLI(t, "", with(args...)...)
		t.Logf("%v: exit %d stdout %q stderr %q", args[3:], code, out, errs)
		if code != 0 && args[len(args)-1] != "3" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args[3:], code, out, errs)
		}
	}
}

func writeFileZZ(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }

// TestReview38RevcHeadersJSONZoneYearEdge: 0ec6ebb writes a Date whose zone is
// 24h or more in UTC (headers.go:98-103), but the same instant in UTC can
// fall outside the years JSON can write (0-9999): "Sat, 1 Jan 0000 00:00:00
// +9900" (which the date parser takes, and which any sender chooses) is
// 27 Dec of year -1 in UTC, and headers --json still stops the whole
// listing with exit 3 at that message.
func TestReview38RevcHeadersJSONZoneYearEdge(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := t.TempDir()
	for i, date := range []string{"Mon, 1 Jan 2024 10:00:00 +0000", "Sat, 1 Jan 0000 00:00:00 +9900", "Fri, 31 Dec 9999 23:00:00 -9900", "Mon, 1 Jan 2024 11:00:00 +0000"} {
		f := filepath.Join(dir, "m.eml")
		msg := "From: a@example.org\r\nDate: " + date + "\r\nSubject: m" + string(rune('1'+i)) + "\r\n\r\nbody\r\n"
		if err := os.WriteFile(f, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		cli(t, "", 0, with("append", tls, "INBOX", f)...)
	}
	code, out, errs := runCLI(t, "", with("headers", tls, "INBOX", "--json")...)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h jsonHeader
		if l != "" && json.Unmarshal([]byte(l), &h) == nil {
			n++
		}
	}
	if code != 0 || n != 4 {
		t.Errorf("headers --json: exit %d, %d objects (want 0 and 4)\nstdout: %s\nstderr: %s", code, n, out, errs)
	}
}
