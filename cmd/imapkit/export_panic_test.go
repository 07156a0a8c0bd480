//go:build linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportPanicCutsMboxBack: an export to an mbox that panics after
// writing messages it has not recorded yet (a bug; planted here through
// the test hook after the second message written) leaves the mbox as its
// state records it: the messages since the last commit are cut off, not
// flushed to the file as if exported. The next run exports every message
// once. Before, the panic skipped the cut-back (the deferred close
// flushed what was buffered, a part of a message when the panic came
// while one was written), and a user who never ran export again kept it.
func TestExportPanicCutsMboxBack(t *testing.T) {
	url := bodyStatusURL(t, fiveBodies, wholeAnswer(fiveBodies), nil)
	to := filepath.Join(t.TempDir(), "x.mbox")
	args := []string{"export", url, "INBOX", "--to", to, "--quiet"}
	n := 0
	setTestHook(t, func(step string) error {
		if step == "exported" {
			if n++; n == 2 {
				panic("planted export panic")
			}
		}
		return nil
	})
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		runCLI(t, "", args...)
	}()
	if recovered != "planted export panic" {
		t.Fatalf("the export's panic: %v; want the planted one", recovered)
	}
	st, err := loadState(statePath(to))
	if err != nil || st == nil {
		t.Fatalf("state after the panic: %v", err)
	}
	if b, err := os.ReadFile(to); err != nil || int64(len(b)) != st.Size {
		t.Errorf("after the panic the mbox holds %d bytes (%v): %q; want the %d its state records", len(b), err, b, st.Size)
	}
	setTestHook(t, nil)
	code, out, errs := runCLI(t, "", args...)
	if code != 0 || !strings.Contains(out, "exported 5 messages") {
		t.Errorf("next run: exit %d %q %q; want 0, 5 exported", code, out, errs)
	}
	if got := exportedSubjects(t, to, "mbox"); got != "m1×1 m2×1 m3×1 m4×1 m5×1" {
		t.Errorf("after the next run: %q; want each message once", got)
	}
}

// TestExportCloseErrorReported: an export whose mbox or Maildir fails to
// close after a run that exported everything (planted through the test
// hook: a network file system's write-back error comes at the close)
// fails with that error, exit 3, instead of exit 0 with the error
// dropped.
func TestExportCloseErrorReported(t *testing.T) {
	url := bodyStatusURL(t, fiveBodies, wholeAnswer(fiveBodies), nil)
	setTestHook(t, func(step string) error {
		if step == "closed" {
			return errors.New("planted close failure")
		}
		return nil
	})
	for _, format := range []string{"mbox", "maildir"} {
		to := filepath.Join(t.TempDir(), "x")
		code, out, errs := runCLI(t, "", "export", url, "INBOX", "--to", to, "--format", format, "--quiet")
		if code != exitConnFail || !strings.Contains(errs, "planted close failure") {
			t.Errorf("%s export whose close fails: exit %d %q %q; want exit %d and the close's error", format, code, out, errs, exitConnFail)
		}
	}
}
