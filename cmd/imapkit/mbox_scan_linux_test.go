//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"

	"github.com/imapkit/imapkit/internal/testserver"
)

// mboxReadChars is this process's rchar (/proc/self/io): the bytes read
// by read(2) and the like, files and sockets alike.
func mboxReadChars(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no rchar in /proc/self/io")
	return 0
}

// BenchmarkImportMbox imports a generated mbox (40 messages of
// 1 MiB, LF line ends, some ">From " lines) into a real Dovecot, a new
// mailbox each time; rchar-MB/op is what the process read (the mbox's
// passes, and Dovecot's answers).
func BenchmarkImportMbox(b *testing.B) {
	srv := testserver.StartT(b, &testserver.Options{Seed: 4501})
	ca := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	setEnv(b, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(b, "IMAPKIT_URL", "")
	_, tp, _ := strings.Cut(srv.TLSAddr, ":")
	url := "imaps://alice@localhost:" + tp

	path := filepath.Join(b.TempDir(), "big.mbox")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	line := strings.Repeat("abcdefghij", 7) + "\n"
	for i := 0; i < 40; i++ {
		fmt.Fprintf(w, "From a@example.com Sat Jan  3 01:05:34 1996\nFrom: a@example.com\nSubject: m%d\nMessage-ID: <m%d@r45>\n\n", i, i)
		for n := 0; n < 1<<20; n += len(line) {
			if n%(64*len(line)) == 0 {
				io.WriteString(w, ">From the quoted line\n")
			}
			io.WriteString(w, line)
		}
		io.WriteString(w, "\n")
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var stderr bytes.Buffer
	var read int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		os.Remove(importStatePath(path))
		stderr.Reset()
		r0 := mboxReadChars(b)
		b.StartTimer()
		code := run(testEnv(b), []string{"import", url, path, "--to", fmt.Sprintf("B%d", i), "--ca-file", ca, "--timeout", "60s", "--quiet"}, strings.NewReader(""), io.Discard, &stderr)
		b.StopTimer()
		read += mboxReadChars(b) - r0
		if code != 0 {
			b.Fatalf("import: exit %d: %s", code, stderr.String())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(read)/float64(b.N)/(1<<20), "rchar-MB/op")
}

// TestMboxScanSizes: scanMbox gives each mbox message's size as
// it will be sent, and whether it holds a NUL, without reading it again
// (import read each message three times: to measure it, to look for a
// NUL, to send it); they must be what mboxReader gives, byte for byte, on
// the awkward lines: ">From " quoted (also past mboxReader's buffer), CRLF
// and bare LF ends, a CR at a chunk's end, lines longer than either
// buffer, a NUL, an empty message, no final line end.
func TestMboxScanSizes(t *testing.T) {
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

// scanMboxFile writes mbox, scans it and compares each message's scanned size
// and NUL flag with what mboxReader gives (what the APPEND sends). It
// returns the messages and the first mismatch, or "".
func scanMboxFile(t *testing.T, mbox string) ([]*importMsg, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(path, []byte(mbox), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	msgs, err := scanMbox(f, 0)
	if err != nil {
		t.Fatalf("scanMbox: %v", err)
	}
	for i, m := range msgs {
		if m.blank {
			continue
		}
		data, err := io.ReadAll(m.open())
		if err != nil {
			t.Fatal(err)
		}
		nul := bytes.IndexByte(data, 0) >= 0
		if m.size != int64(len(data)) || m.nul != nul {
			return msgs, fmt.Sprintf("message %d: scanned size %d, NUL %v; mboxReader gives %d bytes, NUL %v", i, m.size, m.nul, len(data), nul)
		}
	}
	return msgs, ""
}

// longFromLine is a From line whose first 64 KiB (scanMbox's buffer) end
// just before its last bytes, "tail" and the line end.
func longFromLine(tail string) string {
	from := "From a@example.com Sat Jan  3 01:05:34 1996 "
	return from + strings.Repeat("x", (64<<10)-len(from)) + tail + "\n"
}

// TestScanLongFromLine: a From line longer than scanMbox's 64 KiB
// buffer. The scan took its first chunk as the separator and started the
// message inside the line, counting the rest as a line's continuation,
// while mboxReader, opened at that start, takes it as a line's start: a
// ">From " there was unquoted by the reader and not by the scan, and the
// APPEND announced a byte more than it sent (import failed, exit 3, at
// every run). The whole From line, all its chunks, is the separator now:
// the message starts after it, where both start a line; the line's
// tail is no part of the message, and its date is not read.
func TestScanLongFromLine(t *testing.T) {
	body := "Subject: a\n\nbody\n"
	cases := []struct {
		name, mbox string
		want       []string // the messages as sent
	}{
		{"quoted From at the second chunk", longFromLine(">From here") + body, []string{"Subject: a\r\n\r\nbody\r\n"}},
		{"line end alone in the second chunk", longFromLine("") + ">From x\n" + body, []string{"From x\r\nSubject: a\r\n\r\nbody\r\n"}},
		{"CRLF across the chunks", longFromLine("\r") + body, []string{"Subject: a\r\n\r\nbody\r\n"}},
		{"three chunks", longFromLine(strings.Repeat("y", 64<<10)+">From z") + body, []string{"Subject: a\r\n\r\nbody\r\n"}},
		{"long one between two", "From b Sat Jan  3 01:05:34 1996\n" + body + "\n" + longFromLine(">From q") + body + "\nFrom c Sat Jan  3 01:05:34 1996\n" + body,
			[]string{"Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n"}},
		{"no line end (the file's end): empty, a blank line", strings.TrimSuffix(longFromLine(">From end"), "\n"), []string{"\r\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, bad := scanMboxFile(t, c.mbox)
			if bad != "" {
				t.Fatal(bad)
			}
			if len(msgs) != len(c.want) {
				t.Fatalf("%d messages, want %d", len(msgs), len(c.want))
			}
			undated := 0
			for i, m := range msgs {
				data, err := io.ReadAll(m.open())
				if err != nil {
					t.Fatal(err)
				}
				if string(data) != c.want[i] {
					t.Errorf("message %d: %.120q, want %q", i, data, c.want[i])
				}
				if m.badFrom != "" {
					undated++
					if !strings.HasPrefix(m.badFrom, "From a@example.com") || !m.date.IsZero() {
						t.Errorf("message %d: date %v, badFrom %.40q", i, m.date, m.badFrom)
					}
				}
			}
			// The long line's date alone is not read.
			if undated != 1 {
				t.Errorf("%d messages without a date, want 1 (the long From line's)", undated)
			}
		})
	}
}

// TestGuardScanReaderFuzz (review 45 C's test, 4b8d918, with long
// separators after the first and a ">From " after a long From line): random mboxes built of the
// awkward pieces (">From", ">>From", "From " inside and as separators, CR
// and LF at both readers' buffer ends, NUL, lines near 32 KiB and 64 KiB,
// no final line end); the scan's size and NUL must equal mboxReader's for
// every message. Deterministic (fixed seed).
func TestGuardScanReaderFuzz(t *testing.T) {
	rng := rand.New(rand.NewSource(45))
	pieces := []string{">From x", ">>From y", "From z", ">", "From ", "\r", "\n", "\r\n", "\x00", "a", "\n\n", "\nFrom a@b Sat Jan  3 01:05:34 1996\n"}
	lens := []int{0, 1, 32<<10 - 2, 32<<10 - 1, 32 << 10, 32<<10 + 1, 64<<10 - 2, 64<<10 - 1, 64 << 10, 64<<10 + 1}
	for iter := 0; iter < 60; iter++ {
		var b strings.Builder
		const from = "From a@example.com Sat Jan  3 01:05:34 1996"
		b.WriteString(from)
		if rng.Intn(3) == 0 {
			// Also to scanMbox's buffer's end exactly: what follows
			// starts its second chunk.
			if rng.Intn(2) == 0 {
				b.WriteString(strings.Repeat("y", 64<<10-len(from)-rng.Intn(2)))
				b.WriteString(pieces[rng.Intn(3)])
			} else {
				b.WriteString(strings.Repeat("y", lens[rng.Intn(len(lens))]))
			}
		}
		b.WriteString("\n")
		for n := rng.Intn(12); n > 0; n-- {
			switch rng.Intn(4) {
			case 0:
				b.WriteString(pieces[rng.Intn(len(pieces))])
			case 1:
				b.WriteString(strings.Repeat("q", lens[rng.Intn(len(lens))]))
			case 2:
				b.WriteString("\n\nFrom b@c ")
				b.WriteString(strings.Repeat("s", lens[rng.Intn(len(lens))]))
				if rng.Intn(2) == 0 {
					b.WriteString(strings.Repeat("s", 64<<10-len("From b@c ")))
				}
				b.WriteString(pieces[rng.Intn(len(pieces))])
			default:
				b.WriteString(pieces[rng.Intn(len(pieces))])
				b.WriteString(strings.Repeat(">", rng.Intn(3)))
			}
		}
		if _, bad := scanMboxFile(t, b.String()); bad != "" {
			t.Fatalf("iteration %d: %s", iter, bad)
		}
	}
}

// TestImportLongFromLineDovecot: the mbox of
// TestScanLongFromLine's first case imported into real Dovecot:
// it failed (exit 3, the APPEND's literal a byte short) at every run.
func TestImportLongFromLineDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 1)
	_, url := urls(srv)
	path := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(path, []byte(longFromLine(">From here")+"Subject: a\n\nbody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", append([]string{"import", url, path, "--to", "Long"}, cf...)...)
	if code != 0 {
		t.Fatalf("import: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Status(ctx, "Long", commands.StatusMessages|commands.StatusSize)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(len("Subject: a\r\n\r\nbody\r\n")); st.Messages != 1 || st.Items&commands.StatusSize != 0 && st.Size != want {
		t.Errorf("Long: %d messages of %d bytes; want 1 of %d", st.Messages, st.Size, want)
	}
}
