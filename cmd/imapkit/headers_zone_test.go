//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeadersJSONZoneOffset: a message whose Date header carries a
// zone offset past 23 hours ("+9900": any sender can write it; the date
// parser takes it) makes "headers --json" fail with exit 3 on the first
// such message (encoding/json refuses a time.Time whose offset RFC 3339
// cannot write), and the messages after it are never listed. docs/cli.md
// (headers row: "--json: an object per message"; JSON section) promises an
// object per message; the plain table lists the same mailbox fine.
func TestHeadersJSONZoneOffset(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := t.TempDir()
	for i, date := range []string{"Mon, 1 Jan 2024 10:00:00 +0000", "Mon, 1 Jan 2024 10:00:00 +9900", "Mon, 1 Jan 2024 11:00:00 +0000"} {
		f := filepath.Join(dir, "m.eml")
		msg := "From: a@example.org\r\nDate: " + date + "\r\nSubject: m" + string(rune('1'+i)) + "\r\n\r\nbody\r\n"
		if err := os.WriteFile(f, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		cli(t, "", 0, with("append", tls, "INBOX", f)...)
	}
	out, _ := cli(t, "", 0, with("headers", tls, "INBOX")...)
	if strings.Count(out, "\n") != 4 {
		t.Fatalf("headers (table): %q; want a heading and 3 lines", out)
	}
	code, out, errs := runCLI(t, "", with("headers", tls, "INBOX", "--json")...)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h jsonHeader
		if l != "" && json.Unmarshal([]byte(l), &h) == nil {
			n++
		}
	}
	if code != 0 || n != 3 {
		t.Errorf("headers --json: exit %d, %d objects (want 0 and 3)\nstdout: %s\nstderr: %s", code, n, out, errs)
	}
}

// TestHeadersJSONZoneYearEdge: 0ec6ebb writes a Date whose zone is
// 24h or more in UTC (headers.go:98-103), but the same instant in UTC can
// fall outside the years JSON can write (0-9999): "Sat, 1 Jan 0000 00:00:00
// +9900" (which the date parser takes, and which any sender chooses) is
// 27 Dec of year -1 in UTC, and headers --json still stops the whole
// listing with exit 3 at that message.
func TestHeadersJSONZoneYearEdge(t *testing.T) {
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
