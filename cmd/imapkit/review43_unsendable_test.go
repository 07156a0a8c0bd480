//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// r43Body is a small source message; nul puts a NUL byte in its body.
func r43Body(i int, nul bool) string {
	body := "hi"
	if nul {
		body = "h\x00i"
	}
	return fmt.Sprintf("From: a@example.com\r\nSubject: u%d\r\nMessage-ID: <u%d@r43>\r\n\r\n%s\r\n", i, i, body)
}

// r43Source starts a scripted source holding bodies in INBOX and returns
// its address.
func r43Source(t *testing.T, bodies []string) string {
	t.Helper()
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src.Addr()
}

// r43Copy runs copy from the scripted source at srcAddr to a scripted
// destination fake (r42FakeDst) at addr with state in state.
func r43Copy(t *testing.T, srcAddr string, fake *r42FakeDst, addr, state string, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"copy", "imap://alice@" + srcAddr, "imap://alice@" + addr, "INBOX", "--insecure-plaintext", "--dst-insecure-plaintext",
		"--state-dir", state, "--timeout", "20s", "--quiet"}, extra...)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "x")
	code, out, errs := runCLI(t, "", args...)
	t.Logf("copy %q: exit %d\nstdout: %s\nstderr: %s", extra, code, out, errs)
	return code, out, errs
}

func r43IDs(fake *r42FakeDst) string {
	fake.mu.Lock()
	defer fake.mu.Unlock()
	return strings.Join(fake.boxes["INBOX"].ids, " ")
}

// r43Box is the state of copy's INBOX in the state directory state.
func r43Box(t *testing.T, state string) *copyBox {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "copy-*.json"))
	if len(files) != 1 {
		t.Fatalf("state files %q", files)
	}
	var st copyState
	if _, err := loadJSON(files[0], &st); err != nil {
		t.Fatal(err)
	}
	return st.Mailboxes["INBOX"]
}

// TestReview43MCopyNULSkipUnsendable: a source message holding a NUL
// copied to a destination without BINARY stopped its mailbox at every
// run (its MULTIAPPEND group abandoned, nothing of it copied), with no way
// forward but deleting the message, and an error that named neither it nor
// a way out. Without an option it still fails, naming its UID and
// --skip-unsendable; with the option it is skipped with a warning,
// recorded in the state, counted in the summary, and the rest is copied
// (once: a third run copies nothing).
func TestReview43MCopyNULSkipUnsendable(t *testing.T) {
	bodies := []string{r43Body(1, false), r43Body(2, true), r43Body(3, false)}
	fake := &r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND"}
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := r43Source(t, bodies)
	code, _, errs := r43Copy(t, srcAddr, fake, addr, state)
	if code == 0 || !strings.Contains(errs, "UID 2") || !strings.Contains(errs, "--skip-unsendable") {
		t.Errorf("without the option: exit %d, stderr %q; want a failure naming UID 2 and --skip-unsendable", code, errs)
	}
	for run := 1; run <= 2; run++ {
		code, out, errs := r43Copy(t, srcAddr, fake, addr, state, "--skip-unsendable")
		if code != 0 {
			t.Errorf("run %d with --skip-unsendable: exit %d, want 0", run, code)
		}
		if got := r43IDs(fake); got != "<u1@r43> <u3@r43>" {
			t.Fatalf("run %d with --skip-unsendable: the destination got %q, want u1 and u3 once each", run, got)
		}
		if run == 1 && (!strings.Contains(errs, "UID 2") || !strings.Contains(out, "1 skipped")) {
			t.Errorf("run 1 with --skip-unsendable: stderr %q, stdout %q: want a warning naming UID 2, and \"1 skipped\"", errs, out)
		}
		if box := r43Box(t, state); box == nil || len(box.Skipped) != 1 || box.Skipped[0] != 2 || box.Pending != nil {
			t.Errorf("run %d: state %+v, want UID 2 recorded as skipped, nothing pending", run, box)
		}
	}
}

// TestReview43MCopyNULBinaryDestination: to a destination with BINARY, a
// source message holding a NUL goes as literal8 (APPEND ~{n}): it was
// refused like one to a destination without BINARY, at every run.
func TestReview43MCopyNULBinaryDestination(t *testing.T) {
	bodies := []string{r43Body(1, false), r43Body(2, true), r43Body(3, false)}
	fake := &r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND BINARY"}
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := r43Source(t, bodies)
	code, _, _ := r43Copy(t, srcAddr, fake, addr, state)
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if got := r43IDs(fake); got != "<u1@r43> <u2@r43> <u3@r43>" {
		t.Fatalf("the destination got %q, want u1 u2 u3 once each", got)
	}
	code, _, _ = r43Copy(t, srcAddr, fake, addr, state)
	if got := r43IDs(fake); code != 0 || got != "<u1@r43> <u2@r43> <u3@r43>" {
		t.Fatalf("second run: exit %d, the destination got %q, want u1 u2 u3 once each", code, got)
	}
}

// TestReview43MCopyAppendLimitSkipUnsendable: a message over the
// destination's APPENDLIMIT stopped its mailbox at every run. With
// --skip-unsendable it is skipped, recorded, and the rest copied; without,
// the error's hint names the option.
func TestReview43MCopyAppendLimitSkipUnsendable(t *testing.T) {
	big := "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@r43>\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n"
	bodies := []string{r43Body(1, false), big, r43Body(3, false)}
	fake := &r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=300"}
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := r43Source(t, bodies)
	code, _, errs := r43Copy(t, srcAddr, fake, addr, state)
	if code != exitNo || !strings.Contains(errs, "UID 2") || !strings.Contains(errs, "--skip-unsendable") {
		t.Errorf("without the option: exit %d, stderr %q; want 1, naming UID 2 and --skip-unsendable", code, errs)
	}
	code, out, errs := r43Copy(t, srcAddr, fake, addr, state, "--skip-unsendable")
	if code != 0 || r43IDs(fake) != "<u1@r43> <u3@r43>" || !strings.Contains(errs, "UID 2") || !strings.Contains(out, "1 skipped") {
		t.Errorf("with --skip-unsendable: exit %d, destination %q, stderr %q, stdout %q; want 0, u1 and u3, a warning naming UID 2, \"1 skipped\"", code, r43IDs(fake), errs, out)
	}
	if box := r43Box(t, state); box == nil || len(box.Skipped) != 1 || box.Skipped[0] != 2 {
		t.Errorf("state %+v, want UID 2 recorded as skipped", box)
	}
}
