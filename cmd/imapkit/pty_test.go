//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/ptytest"
)

// The built imapkit binary, for the tests on a pseudo-terminal: built once
// per test binary, into binDir, which TestMain removes.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// imapkitBinary builds cmd/imapkit once and returns its path.
func imapkitBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "imapkit-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "imapkit")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{err, string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("building imapkit: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// ptyCommand is the binary with args, its environment without
// IMAPKIT_PASSWORD and IMAPKIT_URL unless given in env.
func ptyCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(imapkitBinary(t), args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "IMAPKIT_PASSWORD=") || strings.HasPrefix(kv, "IMAPKIT_URL=")
	})
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// TestPasswordPromptPTY: without $IMAPKIT_PASSWORD, the password is asked
// for on the terminal, with the prompt text, without echo, and accepted.
func TestPasswordPromptPTY(t *testing.T) {
	srv, cf := dovecot(t, 2)
	_, tls := urls(srv)
	for _, tc := range []struct {
		password string
		code     int
		want     string
	}{
		{"pass", 0, "uidvalidity"},
		{"wrong-9f3c", 1, "imapkit status: "},
	} {
		term, err := ptytest.Start(ptyCommand(t, nil, append([]string{"status", tls, "INBOX"}, cf...)...))
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := strings.Cut(srv.TLSAddr, ":")
		prompt := "Password for alice at localhost:" + port + ": "
		if err := term.Expect(prompt, 20*time.Second); err != nil {
			term.Wait(time.Second)
			t.Fatalf("no prompt %q: %v\n%s", prompt, err, term.Output())
		}
		term.Write([]byte(tc.password + "\r"))
		if err := term.Expect(tc.want, 20*time.Second); err != nil {
			t.Errorf("password %q: no %q: %v\n%s", tc.password, tc.want, err, term.Output())
		}
		err = term.Wait(20 * time.Second)
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("password %q: exit %d, want %d\n%s", tc.password, code, tc.code, term.Output())
		}
		if out := term.Output(); strings.Contains(out, tc.password) {
			t.Errorf("the password %q was echoed:\n%q", tc.password, out)
		}
	}
}

// TestShellPTY: the shell on a terminal, with line editing and history:
// the up arrow brings back an earlier command.
func TestShellPTY(t *testing.T) {
	srv, cf := dovecot(t, 2)
	_, tls := urls(srv)
	term, err := ptytest.Start(ptyCommand(t, []string{"IMAPKIT_PASSWORD=" + "pass"}, append([]string{"shell", tls}, cf...)...))
	if err != nil {
		t.Fatal(err)
	}
	step := func(typed, want string) {
		t.Helper()
		if typed != "" {
			term.Write([]byte(typed))
		}
		if err := term.Expect(want, 20*time.Second); err != nil {
			term.Wait(time.Second)
			t.Fatalf("after typing %q: no %q: %v\n%s", typed, want, err, term.Output())
		}
	}
	// waitCount waits until s has been written n times: the prompt after
	// a command comes only once its answer is complete.
	waitCount := func(s string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(term.Output(), s) < n {
			if time.Now().After(deadline) {
				term.Wait(time.Second)
				t.Fatalf("%q not written %d times:\n%s", s, n, term.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	step("", "imap> ")
	step("examine INBOX\r", "Examine completed")
	waitCount("imap INBOX (read-only)> ", 1)
	step("uid search all\r", "Search completed")
	waitCount("imap INBOX (read-only)> ", 2)
	// Up twice: "examine INBOX" again.
	step("\x1b[A\x1b[A\r", "")
	waitCount("Examine completed", 2)
	waitCount("[READ-ONLY]", 2)
	// Up once more, typed apart from the Enter: the recalled line runs.
	time.Sleep(200 * time.Millisecond) // the prompt is drawn before readline reads
	term.Write([]byte("\x1b[A"))
	time.Sleep(100 * time.Millisecond)
	term.Write([]byte("\r"))
	waitCount("Examine completed", 3)
	step("quit\r", "")
	if err := term.Wait(20 * time.Second); err != nil {
		t.Errorf("shell: %v\n%s", err, term.Output())
	}
}
