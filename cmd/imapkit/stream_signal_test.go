//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/ptytest"
)

// TestStreamChildPromptsOnTTY: the --stream command asks something on
// the terminal before it speaks IMAP, as the documented
// `--stream 'ssh mail.example.com /usr/lib/dovecot/imap'` does for a
// password, a key's passphrase or an unknown host key. transport.Exec puts
// the child in a process group of its own (Setpgid), which is then a
// background group of the terminal: its read of /dev/tty stops it with
// SIGTTIN, the answer typed never reaches it, and the command fails after
// the greeting timeout (or hangs, stopped) instead of going on.
func TestStreamChildPromptsOnTTY(t *testing.T) {
	script := `printf 'Passphrase: ' >/dev/tty; IFS= read -r pw </dev/tty
printf '* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n'
while IFS= read -r l; do
  tag=${l%% *}
  case "$l" in
  *LOGOUT*) printf '* BYE bye\r\n%s OK done\r\n' "$tag"; exit 0;;
  *LIST*) printf '* LIST () "/" INBOX-%s\r\n%s OK done\r\n' "$pw" "$tag";;
  *) printf '%s OK done\r\n' "$tag";;
  esac
done`
	term, err := ptytest.Start(ptyCommand(t, nil, "list", "--timeout", "30s", "--stream", script))
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Expect("Passphrase: ", ptyGuard); err != nil {
		term.Wait(time.Second)
		t.Fatalf("no prompt: %v\n%q", err, term.Output())
	}
	// No pause: the answer waits in the terminal's input queue (canonical
	// mode) until the child reads it, whenever that is; the child stopped
	// by SIGTTIN never does.
	term.Write([]byte("open-sesame\r"))
	err = term.Wait(ptyGuard)
	if err != nil || !strings.Contains(term.Output(), "INBOX-open-sesame") {
		t.Errorf("the --stream child could not read its answer from the terminal: %v\n%q", err, term.Output())
	}
}

// TestSecondInterruptLeavesStreamChild: with --stream, a command whose
// server (the child) stalls is interrupted by Ctrl-C, and the user presses
// Ctrl-C again on seeing the error, as TestSecondInterruptExits expects
// users to: the second SIGINT kills imapkit at once (default action). The
// child runs in a process group of its own (transport.Exec's Setpgid), so
// the terminal's SIGINT never reaches it, and nothing of imapkit is left to
// kill it: it goes on running, reparented to init (ssh on a stalled
// network: until its TCP timeout), after imapkit has exited.
func TestSecondInterruptLeavesStreamChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := `echo $$ > '` + pidFile + `'
printf '* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n'
while IFS= read -r l; do
  tag=${l%% *}
  case "$l" in
  *SELECT*) exec sleep 120;;
  *) printf '%s OK done\r\n' "$tag";;
  esac
done`
	cmd := ptyCommand(t, nil, "select", "--stream", script, "INBOX")
	term, err := ptytest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	deadline := time.Now().Add(ptyGuard) // a bound on a hang
	for {
		b, _ := os.ReadFile(pidFile)
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			pid = n
			break
		}
		if time.Now().After(deadline) {
			term.Wait(time.Second)
			t.Fatalf("the child never started: %q", term.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	// The child is at SELECT, stalled (exec sleep).
	for !strings.Contains(procCmdline(pid), "sleep") {
		if time.Now().After(deadline) {
			t.Fatalf("the child never got SELECT: %q", term.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Ctrl-C on the terminal: SIGINT to its foreground process group.
	term.Write([]byte{3})
	if err := term.Expect("imapkit select:", ptyGuard); err != nil {
		t.Fatalf("no error after the first Ctrl-C: %q", term.Output())
	}
	term.Write([]byte{3})
	term.Wait(ptyGuard)
	// A zombie is dead: the process it was reparented to (init) reaps
	// it in its own time.
	if !procEndsWithin(pid, ptyGuard) {
		t.Fatalf("%v after imapkit exited on the second Ctrl-C, its --stream child %d (%s) is still running", ptyGuard, pid, procCmdline(pid))
	}
}

// TestSecondSignalNoTerminal: the same without a terminal (a
// session of its own: imapkit run from a script or a service), the two
// SIGINTs sent to imapkit alone. The child, in a process group of its own
// and sent nothing, must still not outlive imapkit killed by the second:
// the kernel kills it when its parent dies (transport.Exec's parent-death
// signal).
func TestSecondSignalNoTerminal(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := `echo $$ > '` + pidFile + `'
printf '* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n'
while IFS= read -r l; do
  tag=${l%% *}
  case "$l" in
  *SELECT*) exec sleep 120;;
  *) printf '%s OK done\r\n' "$tag";;
  esac
done`
	secondSigintEndsStreamChild(t, script, pidFile, "its --stream child")
}

// secondSigintEndsStreamChild runs imapkit select --stream stream without
// a controlling terminal, waits for the child that writes its pid to
// pidFile to stall at SELECT (a sleep), sends imapkit two SIGINTs and
// fails unless imapkit ends and the child (named what in messages) is
// gone after (within ptyGuard each: hang detectors).
func secondSigintEndsStreamChild(t *testing.T, stream, pidFile, what string) {
	t.Helper()
	cmd := ptyCommand(t, nil, "select", "--stream", stream, "INBOX")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	var pid int
	deadline := time.Now().Add(ptyGuard) // a bound on a hang
	for {
		b, _ := os.ReadFile(pidFile)
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			pid = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child never started: %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	for !strings.Contains(procCmdline(pid), "sleep") {
		if time.Now().After(deadline) {
			t.Fatalf("the child never got SELECT: %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	for !strings.Contains(stderr.String(), "imapkit select:") {
		if time.Now().After(deadline) {
			t.Fatalf("no error after the first SIGINT: %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(ptyGuard): // a hang detector, as procEndsWithin's
		t.Fatalf("imapkit outlived the second SIGINT by %v: %q", ptyGuard, stderr.String())
	}
	if !procEndsWithin(pid, ptyGuard) {
		t.Fatalf("%v after imapkit was killed by the second SIGINT, %s %d (%s) is still running", ptyGuard, what, pid, procCmdline(pid))
	}
}

// procEndsWithin waits for pid to end (procRunning false), polling, and
// reports whether it did within d. The bound is a hang detector's, not a
// timed assertion: a child left behind sleeps 120 s (exec sleep 120 at
// SELECT), twice ptyGuard, and only that fails.
func procEndsWithin(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); procRunning(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func procCmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.ReplaceAll(string(b), "\x00", " ")
}

// procRunning reports whether pid is a live process, not a zombie.
func procRunning(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z' && s[i+2] != 'X'
}

// TestStreamKeepsTerminalInterrupt: sharing imapkit's process
// group (TestStreamChildPromptsOnTTY), the --stream command would
// get the terminal's Ctrl-C too and die of it: `idle` then ended with
// "connection aborted" and status 3 instead of logging out and exiting 0,
// and `shell` lost its connection where Ctrl-C should stop one command.
// The command ignores SIGINT; imapkit's handling of it closes the
// connection.
func TestStreamKeepsTerminalInterrupt(t *testing.T) {
	// The server marks the IDLE under way and the stalling SELECT
	// received (files in mark): Ctrl-C comes after, not after a pause.
	// The SELECT's late answer waits for the test's release mark (made
	// once the interrupt is shown; 2 minutes at most, so a failed test
	// leaves no child behind): on the wall clock, a starved runner that
	// took longer than a fixed pause to handle Ctrl-C saw the late NO
	// first and failed.
	mark := t.TempDir()
	release := func() { os.WriteFile(filepath.Join(mark, "release"), nil, 0o600) }
	t.Cleanup(release)
	script := `printf '* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n'
while IFS= read -r l; do
  tag=${l%% *}
  case "$l" in
  *"SELECT INBOX"*) printf '%s OK done\r\n' "$tag";;
  *SELECT*) : > '` + mark + `/select'; i=0; while [ ! -e '` + mark + `/release' ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done; printf '%s NO late\r\n' "$tag";;
  *IDLE*) printf '+ idling\r\n'; : > '` + mark + `/idle'; IFS= read -r l; printf '%s OK done\r\n' "$tag";;
  *NOOP*) printf '%s OK noop answered\r\n' "$tag";;
  *LOGOUT*) printf '* BYE bye\r\n%s OK done\r\n' "$tag"; exit 0;;
  *) printf '%s OK done\r\n' "$tag";;
  esac
done`
	t.Run("idle", func(t *testing.T) {
		term, err := ptytest.Start(ptyCommand(t, nil, "idle", "--stream", script, "INBOX"))
		if err != nil {
			t.Fatal(err)
		}
		if err := term.Expect("interrupt to stop", ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("not idling: %v\n%q", err, term.Output())
		}
		waitMark(t, filepath.Join(mark, "idle"), term)
		term.Write([]byte{3})
		if err := term.Wait(ptyGuard); err != nil {
			t.Errorf("idle --stream, Ctrl-C: %v, want exit 0\n%q", err, term.Output())
		}
	})
	t.Run("shell", func(t *testing.T) {
		term, err := ptytest.Start(ptyCommand(t, nil, "shell", "--stream", script))
		if err != nil {
			t.Fatal(err)
		}
		if err := term.Expect("imap> ", ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("no prompt: %v\n%q", err, term.Output())
		}
		term.Write([]byte("SELECT Stalls\r"))
		waitMark(t, filepath.Join(mark, "select"), term) // the SELECT runs: readline does not read
		term.Write([]byte{3})
		if err := term.Expect("interrupted", ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("no interrupt: %v\n%q", err, term.Output())
		}
		release()
		term.Write([]byte("NOOP\r"))
		// The server answers the NOOP once it has sent the SELECT's
		// late answer (it reads one line at a time): the NOOP's answer
		// shown means the late one was read and dropped.
		if err := term.Expect("OK noop answered", ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("no answer to the NOOP after the interrupted SELECT: %v\n%q", err, term.Output())
		}
		term.Write([]byte("QUIT\r"))
		err = term.Wait(ptyGuard)
		if out := term.Output(); err != nil || strings.Contains(out, "connection aborted") {
			t.Errorf("shell --stream, Ctrl-C during a command, then NOOP and QUIT: %v\n%q", err, out)
		}
	})
}

// waitMark waits until the file path exists (a fake server's mark that it
// got a command), failing the test after ptyGuard: a hang detector, the
// ordering the test needs never came.
func waitMark(t *testing.T, path string, term *ptytest.Terminal) {
	t.Helper()
	for deadline := time.Now().Add(ptyGuard); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v: %q", filepath.Base(path), ptyGuard, term.Output())
		}
	}
}
