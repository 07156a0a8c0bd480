//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// r45DScan writes mbox, scans it and compares each message's scanned size
// and NUL flag with what mboxReader gives (what the APPEND sends). It
// returns the messages and the first mismatch, or "".
func r45DScan(t *testing.T, mbox string) ([]*importMsg, string) {
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

// r45DLongFrom is a From line whose first 64 KiB (scanMbox's buffer) end
// just before its last bytes, "tail" and the line end.
func r45DLongFrom(tail string) string {
	from := "From a@example.com Sat Jan  3 01:05:34 1996 "
	return from + strings.Repeat("x", (64<<10)-len(from)) + tail + "\n"
}

// TestReview45DScanLongFromLine: a From line longer than scanMbox's 64 KiB
// buffer. The scan took its first chunk as the separator and started the
// message inside the line, counting the rest as a line's continuation,
// while mboxReader, opened at that start, takes it as a line's start: a
// ">From " there was unquoted by the reader and not by the scan, and the
// APPEND announced a byte more than it sent (import failed, exit 3, at
// every run). The whole From line, all its chunks, is the separator now:
// the message starts after it, where both start a line; the line's
// tail is no part of the message, and its date is not read.
func TestReview45DScanLongFromLine(t *testing.T) {
	body := "Subject: a\n\nbody\n"
	cases := []struct {
		name, mbox string
		want       []string // the messages as sent
	}{
		{"quoted From at the second chunk", r45DLongFrom(">From here") + body, []string{"Subject: a\r\n\r\nbody\r\n"}},
		{"line end alone in the second chunk", r45DLongFrom("") + ">From x\n" + body, []string{"From x\r\nSubject: a\r\n\r\nbody\r\n"}},
		{"CRLF across the chunks", r45DLongFrom("\r") + body, []string{"Subject: a\r\n\r\nbody\r\n"}},
		{"three chunks", r45DLongFrom(strings.Repeat("y", 64<<10)+">From z") + body, []string{"Subject: a\r\n\r\nbody\r\n"}},
		{"long one between two", "From b Sat Jan  3 01:05:34 1996\n" + body + "\n" + r45DLongFrom(">From q") + body + "\nFrom c Sat Jan  3 01:05:34 1996\n" + body,
			[]string{"Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n"}},
		{"no line end (the file's end): empty, a blank line", strings.TrimSuffix(r45DLongFrom(">From end"), "\n"), []string{"\r\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, bad := r45DScan(t, c.mbox)
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

// TestReview45DGuardScanReaderFuzz (moved from review C's
// TestReview45cGuardScanReaderFuzz, with long separators after the first
// and a ">From " after a long From line): random mboxes built of the
// awkward pieces (">From", ">>From", "From " inside and as separators, CR
// and LF at both readers' buffer ends, NUL, lines near 32 KiB and 64 KiB,
// no final line end); the scan's size and NUL must equal mboxReader's for
// every message. Deterministic (fixed seed).
func TestReview45DGuardScanReaderFuzz(t *testing.T) {
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
		if _, bad := r45DScan(t, b.String()); bad != "" {
			t.Fatalf("iteration %d: %s", iter, bad)
		}
	}
}

// TestReview45DImportLongFromLineDovecot: the mbox of
// TestReview45DScanLongFromLine's first case imported into real Dovecot:
// it failed (exit 3, the APPEND's literal a byte short) at every run.
func TestReview45DImportLongFromLineDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 1)
	_, url := urls(srv)
	path := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(path, []byte(r45DLongFrom(">From here")+"Subject: a\n\nbody\n"), 0o600); err != nil {
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

// r45DHook sets testFetchTempCreated for the test. The tests that set it
// must not be parallel.
func r45DHook(t *testing.T, f func(name string)) {
	testFetchTempCreated = f
	t.Cleanup(func() { testFetchTempCreated = nil })
}

// r45DCheckHeld fails the test unless f, handed out by createFetchTemp,
// is still the file of its name and held by its lock (a probe from
// another open file finds it busy), as writeFetched needs it.
func r45DCheckHeld(t *testing.T, f *os.File) {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if ni, err := os.Stat(f.Name()); err != nil || !os.SameFile(fi, ni) {
		t.Fatalf("the file createFetchTemp handed out is no longer %s (%v): removed by a sweep", f.Name(), err)
	}
	probe, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if busy, err := flockExclusive(probe); err != nil || !busy {
		t.Fatalf("createFetchTemp handed out %s without holding its lock (probe: busy %v, %v): any run's sweep removes it while it is written", f.Name(), busy, err)
	}
}

// TestReview45DFetchTempSweepHoldsLock: another run's removeFetchTemps
// takes the lock of a .part fetch --to has just created, before the
// writer takes it, and then removes the file. createFetchTemp ignored the
// busy lock, found the file still in place and wrote the message into it
// unlocked; the sweep then removed it (the rename to UID.eml failed), or
// any later run's did. A busy file is left to the sweep now, and another
// created. Deterministic: the sweep's steps run in the hook between the
// creation and the lock.
func TestReview45DFetchTempSweepHoldsLock(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2)")
	}
	dir := t.TempDir()
	var held []*os.File
	r45DHook(t, func(name string) {
		if len(held) > 0 {
			return
		}
		// The sweep between its lock and its removal: the lock held.
		g, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Error(err)
			return
		}
		if busy, err := flockExclusive(g); err != nil || busy {
			t.Errorf("sweep's lock: busy %v, %v", busy, err)
		}
		held = append(held, g)
	})
	f, err := createFetchTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r45DCheckHeld(t, f)
	// The sweep goes on: it removes the file it holds, not this one.
	for _, g := range held {
		os.Remove(g.Name())
		g.Close()
	}
	r45DCheckHeld(t, f)
}

// TestReview45DFetchTempSweptBeforeLock: the sweep locks and removes the
// new file before its writer locks it: another is created; and when every
// file created is swept so, createFetchTemp ends with an error after
// fetchTempTries files, where it handed out the third, removed (`|| try
// == 2`).
func TestReview45DFetchTempSweptBeforeLock(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2)")
	}
	dir := t.TempDir()
	swept := 0
	r45DHook(t, func(name string) {
		if swept < 2 {
			swept++
			removeFetchTemps(dir)
		}
	})
	f, err := createFetchTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	r45DCheckHeld(t, f)
	f.Close()
	os.Remove(f.Name())

	r45DHook(t, func(string) { removeFetchTemps(dir) })
	f, err = createFetchTemp(dir)
	if err == nil {
		defer f.Close()
		_, serr := os.Stat(f.Name())
		t.Fatalf("every file swept: createFetchTemp handed out %s (stat: %v), want an error", f.Name(), serr)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the directory", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern)); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// r45DCopyPastModSeqNothingCopied (real Dovecot, the one of
// TestCopyStoredModSeqPastBound, which runs it: one server start
// for both; it was TestReview45DCopyPastModSeqNothingCopied, with a
// Dovecot of its own): the warning for a stored HIGHESTMODSEQ past
// 2^63-1 said "the flags of the mail copied before are compared in full",
// also when no mail was copied before (or the source has no CONDSTORE:
// flagSyncOff). It says what follows from the plan now. url is alice's
// imaps:// URL, ca the CA file, box an empty mailbox of hers, copied to
// box+"Dst".
func r45DCopyPastModSeqNothingCopied(t *testing.T, url, ca, box string) {
	state := t.TempDir()
	args := []string{"copy", url, url, box, "--map", box + "=" + box + "Dst", "--ca-file", ca, "--dst-ca-file", ca, "--state-dir", state, "--timeout", "20s"}
	if r := copyReport(t, 0, args...)[box]; r.Copied != 0 {
		t.Fatalf("first run: %+v", r)
	}
	path := filepath.Join(state, mustOne(t, state))
	var st copyState
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	mb := st.Mailboxes[box]
	if mb == nil || mb.LastUID != 0 {
		t.Fatalf("state after the first run: %+v", mb)
	}
	mb.HighestModSeq = 1 << 63
	if err := saveJSON(path, &st); err != nil {
		t.Fatal(err)
	}
	_, errs := copyReportErr(t, 0, args...)
	if !strings.Contains(errs, "9223372036854775808") || !strings.Contains(errs, "taken as unknown; no mail was copied before") || strings.Contains(errs, "compared in full") {
		t.Errorf("stderr %q; want the warning naming the value, taken as unknown, with no mail copied before (no full comparison)", errs)
	}
}
