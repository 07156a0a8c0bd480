package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// scanMboxBytes writes raw to a file in dir and scans it from offset.
func scanMboxBytes(t testing.TB, dir string, raw []byte, offset int64) ([]*importMsg, error) {
	t.Helper()
	f, err := os.CreateTemp(dir, "*.mbox")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); os.Remove(f.Name()) })
	if _, err := f.Write(raw); err != nil {
		t.Fatal(err)
	}
	return scanMbox(f, offset)
}

// checkMboxScan is the property of FuzzMboxScan on one mbox:
// scanMbox on any bytes gives an error or messages whose measured size and
// NUL mark are those of the bytes open gives (what the APPEND sends: a
// wrong size is a literal that ends early or a command that hangs), whose
// ends ascend and the last of which ends the file, whose flags are
// distinct, and a resumed scan (from a message's end, as the import state
// resumes) gives the same messages after it.
func checkMboxScan(t *testing.T, dir string, raw []byte) {
	msgs, err := scanMboxBytes(t, dir, raw, 0)
	if err != nil {
		return
	}
	if len(raw) > 0 && len(msgs) == 0 {
		t.Fatalf("%q: no message and no error", raw)
	}
	var prev int64
	for i, m := range msgs {
		back, err := io.ReadAll(m.open())
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.size != int64(len(back)) {
			t.Fatalf("%q: message %d measured %d bytes, open gives %d: %q", raw, i, m.size, len(back), back)
		}
		if !m.looked || m.nul != (bytes.IndexByte(back, 0) >= 0) {
			t.Fatalf("%q: message %d: nul %v looked %v; bytes %q", raw, i, m.nul, m.looked, back)
		}
		if m.end <= prev || m.end > int64(len(raw)) {
			t.Fatalf("%q: message %d ends at %d (previous %d)", raw, i, m.end, prev)
		}
		prev = m.end
		seen := map[string]bool{}
		for _, f := range m.flags {
			if seen[f] {
				t.Fatalf("%q: message %d: flags %q repeat %s", raw, i, m.flags, f)
			}
			seen[f] = true
		}
	}
	if len(msgs) > 0 && prev != int64(len(raw)) {
		t.Fatalf("%q: the last message ends at %d of %d", raw, prev, len(raw))
	}
	if len(msgs) < 2 {
		return
	}
	rest, err := scanMboxBytes(t, dir, raw, msgs[0].end)
	if err != nil {
		t.Fatalf("%q: resumed at %d: %v", raw, msgs[0].end, err)
	}
	if len(rest) != len(msgs)-1 {
		t.Fatalf("%q: resumed at %d: %d messages, want %d", raw, msgs[0].end, len(rest), len(msgs)-1)
	}
	for i, m := range rest {
		w := msgs[i+1]
		if m.size != w.size || m.end != w.end || !m.date.Equal(w.date) || !slices.Equal(m.flags, w.flags) {
			t.Fatalf("%q: resumed message %d differs: %+v vs %+v", raw, i, *m, *w)
		}
	}
}

// TestMboxStatusRepeated: a header with its Status and X-Status
// lines more than once gives each flag once (each line added its flags
// again: a hostile mbox of a million "Status: R" lines made an APPEND
// flag list of a million \Seen).
func TestMboxStatusRepeated(t *testing.T) {
	raw := []byte("From a Sat Jan  3 01:05:34 1996\nStatus: R\nStatus: RO\nX-Status: A\nX-Status: AF\n\nbody\n")
	msgs, err := scanMboxBytes(t, t.TempDir(), raw, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if want := []string{`\Seen`, `\Answered`, `\Flagged`}; !slices.Equal(msgs[0].flags, want) {
		t.Fatalf("flags %q; want %q", msgs[0].flags, want)
	}
	checkMboxScan(t, t.TempDir(), raw)
}

// TestMaildirBadKeyword: a Maildir's dovecot-keywords is a file
// like any other: a keyword there that is no flag atom ("foo bar", a
// name with a backslash such as \Recent) made every APPEND of a message
// with its letter fail before it was sent (commands refuses such a flag),
// the message's group with it, at every run. Such keywords are left out,
// and a letter given twice ("2,SS") gives its flag once.
func TestMaildirBadKeyword(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dovecot-keywords"), []byte("0 foo bar\n1 \\Recent\n2 ok\n3 a(b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cur", "1.x:2,abcdSSc"), []byte("Subject: x\r\n\r\nx\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msgs, err := scanMaildir(dir, nil)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if want := []string{"ok", `\Seen`}; !slices.Equal(msgs[0].flags, want) {
		t.Fatalf("flags %q; want %q", msgs[0].flags, want)
	}
}
