//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReview45CMboxScanSizes: scanMbox gives each mbox message's size as
// it will be sent, and whether it holds a NUL, without reading it again
// (import read each message three times: to measure it, to look for a
// NUL, to send it); they must be what mboxReader gives, byte for byte, on
// the awkward lines: ">From " quoted (also past mboxReader's buffer), CRLF
// and bare LF ends, a CR at a chunk's end, lines longer than either
// buffer, a NUL, an empty message, no final line end.
func TestReview45CMboxScanSizes(t *testing.T) {
	long := strings.Repeat("x", 70<<10)
	gt := strings.Repeat(">", mboxReadBuf+3)
	cr := strings.Repeat("y", mboxReadBuf-1) + "\r\n" // the CR at the end of the first chunk
	msgs := []string{
		"Subject: a\n\nhello\n>From me\n>>From you\nFrom here\n",
		"Subject: b\r\n\r\nwith CRLF\r\nand\rbare CR\r\n\r\n",
		"Subject: c\n\n" + long + "\n>" + long + "\n" + gt + "From x\n" + cr + ">From " + long + "\n",
		"Subject: d\n\nN\x00L\n",
		"",
		"Subject: e\n\n\n\nlast, no line end",
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("From a@example.com Sat Jan  3 01:05:34 1996\n" + m)
		if !strings.HasSuffix(m, "no line end") {
			b.WriteString("\n")
		}
	}
	path := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := scanMbox(f, 0)
	if err != nil || len(got) != len(msgs) {
		t.Fatalf("scanMbox: %d messages, %v; want %d", len(got), err, len(msgs))
	}
	for i, m := range got {
		data, err := io.ReadAll(m.open())
		if err != nil {
			t.Fatal(err)
		}
		if m.blank {
			if i != 4 || string(data) != "\r\n" || m.size != 2 || m.nul {
				t.Errorf("message %d: blank, %q, size %d, nul %v; want only the empty message 4, as a blank line", i, data, m.size, m.nul)
			}
			continue
		}
		wantNUL := bytes.IndexByte(data, 0) >= 0
		if m.size != int64(len(data)) || !m.looked || m.nul != wantNUL {
			t.Errorf("message %d: scanned size %d, NUL %v (looked %v); mboxReader gives %d bytes, NUL %v", i, m.size, m.nul, m.looked, len(data), wantNUL)
		}
	}
}

// TestReview45CFetchToStalePartsRemoved: fetch --to streams each message
// into DIR/.imapkit-fetch-*.part (.fetch-*.part then) and renames it when whole; a run killed
// (SIGKILL) left its .part behind, and no later run removed it: they
// piled up in DIR for ever (the .eml files were right: a partial file is
// never named so). The next run removes a .part whose writer is gone (no
// process holds its lock), leaves one a running fetch holds (its lock
// held here, as a concurrent run's), and writes the messages whole,
// replacing an .eml of an earlier run.
func TestReview45CFetchToStalePartsRemoved(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2) here: stale .part files are left")
	}
	bodies := []string{r43Body(1, false), r43Body(2, false)}
	addr := r43Source(t, bodies)
	dir := t.TempDir()
	stale := filepath.Join(dir, ".imapkit-fetch-00000000000004d2.part")
	if err := os.WriteFile(stale, []byte("From: half a mess"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, ".imapkit-fetch-000000000000162e.part")
	lf, err := os.Create(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if busy, err := flockExclusive(lf); busy || err != nil {
		t.Fatalf("locking the live .part: busy %v, %v", busy, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1.eml"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	code, out, errs := runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1:2", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("fetch --to: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale .part of a killed run is still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the .part a running fetch holds was removed: %v", err)
	}
	for i, want := range bodies {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i+1)))
		if err != nil || string(got) != want {
			t.Errorf("%d.eml: %q, %v; want %q", i+1, got, err, want)
		}
	}
	parts, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern))
	if len(parts) != 1 {
		t.Errorf(".part files left: %q; want only the live one", parts)
	}
}
