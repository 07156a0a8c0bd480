//go:build linux

package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/ptytest"
)

// TestPromptSIGTERM: a copy waiting at the password prompt on a terminal
// gets SIGTERM (timeout(1), a supervisor, kill). docs/cli.md: "Ctrl-C or
// SIGTERM stops the command that runs (exit status 3) ... A second Ctrl-C
// or SIGTERM ends the process at once". The first SIGTERM does nothing:
// the prompt (term.ReadPassword on the tty) does not heed the command's
// context, so the process waits for a password for ever; the second
// SIGTERM kills it by the signal's default action with the terminal still
// in raw mode (no echo: what the user types next is invisible).
func TestPromptSIGTERM(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 1)
	_, aURL := urls(a)
	cmd := ptyCommand(t, nil, "copy", aURL, aURL, "INBOX", "--map", "INBOX=X", "--state-dir", t.TempDir(), cf[0], cf[1], "--quiet")
	term, err := ptytest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Wait(ptyGuard)
	if err := term.Expect("Password for", ptyGuard); err != nil {
		t.Fatal(err)
	}
	waitEchoOff(t, term)
	pid := cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	// A hang detector, not a timed assertion: the process that ignores
	// the SIGTERM waits for a password for ever; ptyGuard (a minute) only
	// fails that.
	var ws syscall.WaitStatus
	if !exitsWithin(pid, &ws, ptyGuard) {
		// The documented second signal: the process dies by it.
		syscall.Kill(pid, syscall.SIGTERM)
		time.Sleep(time.Second)
		echo, eerr := term.Echo()
		wp, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		t.Fatalf("%v after a SIGTERM at the password prompt the process still waits for a password (docs: SIGTERM stops the command, exit 3); a second SIGTERM killed it (exited %v, by signal %v) and left the terminal's echo %v (%v)",
			ptyGuard, wp == pid, ws.Signal(), echo, eerr)
	}
	echo, eerr := term.Echo()
	if ws.ExitStatus() != 3 || !echo || eerr != nil {
		t.Fatalf("after SIGTERM at the prompt: exit %d (want 3), echo %v (%v)", ws.ExitStatus(), echo, eerr)
	}
}

// TestPromptSIGINT: kill -INT at the password prompt (the
// terminal is raw there, so Ctrl-C is a byte, but a signal may come from
// elsewhere) stops the command as SIGTERM does: exit 3, the terminal's
// echo back on, "interrupted" on stderr.
func TestPromptSIGINT(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 1)
	_, aURL := urls(a)
	cmd := ptyCommand(t, nil, "copy", aURL, aURL, "INBOX", "--map", "INBOX=X", "--state-dir", t.TempDir(), cf[0], cf[1], "--quiet")
	term, err := ptytest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Wait(ptyGuard)
	if err := term.Expect("Password for", ptyGuard); err != nil {
		t.Fatal(err)
	}
	waitEchoOff(t, term)
	pid := cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGINT)
	if err := term.Expect("interrupted", ptyGuard); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("no \"interrupted\" %v after a SIGINT at the password prompt: %v", ptyGuard, err)
	}
	var ws syscall.WaitStatus
	if !exitsWithin(pid, &ws, ptyGuard) { // a hang detector, as in TestPromptSIGTERM
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("%v after a SIGINT at the password prompt, and \"interrupted\", the process has not exited", ptyGuard)
	}
	echo, eerr := term.Echo()
	if !ws.Exited() || ws.ExitStatus() != 3 || !echo || eerr != nil {
		t.Fatalf("after SIGINT at the prompt: %v (want exit 3), echo %v (%v)", ws, echo, eerr)
	}
}

// waitEchoOff waits until the terminal's echo is off, the prompt's raw
// mode (the case the signal tests are about: the signal must wake the
// read and restore the echo). It was a 200 ms pause after "Password
// for", which assumed the terminal raw by then; the prompt makes it raw
// (and arms the interrupt) before it draws the text, so this returns at
// once, and a prompt that drew first would be waited for, not raced.
// ptyGuard bounds a hang.
func waitEchoOff(t *testing.T, term *ptytest.Terminal) {
	t.Helper()
	off := func() bool { echo, err := term.Echo(); return err == nil && !echo }
	if !leakcheck.Until(ptyGuard, off) {
		echo, err := term.Echo()
		t.Fatalf("the terminal's echo still %v (%v) %v after the password prompt", echo, err, ptyGuard)
	}
}

// exitsWithin waits for the child pid to exit, polling, and reports
// whether it did within d (a hang detector's bound), its status in ws.
func exitsWithin(pid int, ws *syscall.WaitStatus, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if wp, _ := syscall.Wait4(pid, ws, syscall.WNOHANG, nil); wp == pid {
			return true
		}
	}
	return false
}
