//go:build linux

package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/ptytest"
)

// imapkitMainEnv, set to 1 in its environment, makes this test binary be
// the imapkit command: TestMain runs the real main() (its signal handling
// included) instead of the tests. The tests that need the command as a
// process of its own (on a pseudo-terminal, under prlimit) run this test
// binary again so (imapkitBinary, imapkitEnv): building a second binary
// with go build -race cost each test binary a link of the whole command
// (18 to 25 s on a loaded 2-core machine, charged to the first such test).
// Like that build, this binary is built with -race when the tests are.
const imapkitMainEnv = "IMAPKIT_TEST_RUN_MAIN"

// imapkitEnv is the environment entry that makes imapkitBinary imapkit.
const imapkitEnv = imapkitMainEnv + "=1"

// selfPath is this test binary's path, absolute (TestMain).
var selfPath string

// ptyGuard bounds each wait on the terminal against a hang only (no test
// here times anything). It was 20 s, which a loaded machine (load
// average 12-20, -race, helpers' test runs beside it) ran out of once
// while TestShellHistoryOldFilePTY's shell logged in to Dovecot.
const ptyGuard = time.Minute

func TestMain(m *testing.M) {
	if os.Getenv(imapkitMainEnv) == "1" {
		main() // exits
		os.Exit(0)
	}
	selfPath = os.Args[0]
	if p, err := os.Executable(); err == nil {
		selfPath = p
	}
	os.Exit(m.Run())
}

// imapkitBinary returns the path of a binary that runs imapkit when
// imapkitEnv is in its environment: this test binary.
func imapkitBinary(t *testing.T) string {
	t.Helper()
	if selfPath == "" {
		t.Fatal("imapkitBinary: no path for this test binary (TestMain did not run)")
	}
	return selfPath
}

// ptyCommand is the binary with args, its environment (the process's with
// t's, setEnv) without IMAPKIT_PASSWORD and IMAPKIT_URL unless given in
// env.
func ptyCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(imapkitBinary(t), args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "IMAPKIT_PASSWORD=") || strings.HasPrefix(kv, "IMAPKIT_URL=")
	})
	cmd.Env = append(cmd.Env, testEnvList(t, "IMAPKIT_PASSWORD", "IMAPKIT_URL")...)
	cmd.Env = append(cmd.Env, imapkitEnv)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// TestPasswordPromptPTY: without $IMAPKIT_PASSWORD, the password is asked
// for on the terminal, with the prompt text, without echo, and accepted.
func TestPasswordPromptPTY(t *testing.T) {
	t.Parallel()
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
		if err := term.Expect(prompt, ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("no prompt %q: %v\n%s", prompt, err, term.Output())
		}
		// Echo is off once the prompt shows: what is typed as soon as
		// it appears is not echoed.
		if echo, err := term.Echo(); err != nil || echo {
			t.Errorf("the prompt is shown while the terminal echoes (%v)", err)
		}
		term.Write([]byte(tc.password + "\r"))
		if err := term.Expect(tc.want, ptyGuard); err != nil {
			t.Errorf("password %q: no %q: %v\n%s", tc.password, tc.want, err, term.Output())
		}
		err = term.Wait(ptyGuard)
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
	t.Parallel()
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
		if err := term.Expect(want, ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("after typing %q: no %q: %v\n%s", typed, want, err, term.Output())
		}
	}
	// waitCount waits until s has been written n times: the prompt after
	// a command comes only once its answer is complete.
	waitCount := func(s string, n int) {
		t.Helper()
		deadline := time.Now().Add(ptyGuard)
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
	// readline draws the prompt before it puts the terminal in raw mode
	// to read: keys typed in between would be taken in cooked mode.
	readlineReads(t, term)
	recalled := strings.Count(term.Output(), "examine INBOX")
	term.Write([]byte("\x1b[A"))
	waitCount("examine INBOX", recalled+1) // readline draws the recalled line
	term.Write([]byte("\r"))
	waitCount("Examine completed", 3)
	step("quit\r", "")
	if err := term.Wait(ptyGuard); err != nil {
		t.Errorf("shell: %v\n%s", err, term.Output())
	}
}

// readlineReads waits until the terminal is in raw mode (no echo): the
// shell's readline is reading keys.
func readlineReads(t *testing.T, term *ptytest.Terminal) {
	t.Helper()
	deadline := time.Now().Add(ptyGuard)
	for {
		echo, err := term.Echo()
		if err != nil {
			t.Fatal(err)
		}
		if !echo {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never left cooked mode:\n%s", term.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShellCtrlCPTY: on a terminal, Ctrl-C stops IDLE, and stops a
// command the server does not answer, and the shell goes on: the next
// command runs on the same session (the stopped one's late answer is read
// and dropped). The server is scripted: it holds back its answer to the
// first NOOP until the next command arrives.
func TestShellCtrlCPTY(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	heldNOOP := make(chan struct{}) // closed when the server holds a NOOP
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 IDLE] ready\r\n"))
		r := bufio.NewReader(c)
		var held []byte // the tag of the NOOP not answered yet
		idleTag := ""
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "DONE" {
				c.Write([]byte(idleTag + " OK IDLE ended\r\n"))
				continue
			}
			tag, cmd, _ := strings.Cut(line, " ")
			switch {
			case strings.EqualFold(cmd, "IDLE"):
				idleTag = tag
				c.Write([]byte("+ idling\r\n"))
			case strings.EqualFold(cmd, "NOOP") && held == nil:
				held = []byte(tag) // no answer yet
				close(heldNOOP)
			default:
				if held != nil {
					c.Write([]byte(string(held) + " OK late NOOP answer\r\n"))
					held = []byte{}
				}
				c.Write([]byte(tag + " OK " + cmd + " answered\r\n"))
			}
		}
	}()
	term, err := ptytest.Start(ptyCommand(t, nil, "shell", "imap://127.0.0.1:"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	expect := func(what string) {
		t.Helper()
		if err := term.Expect(what, ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatalf("no %q: %v\n%s", what, err, term.Output())
		}
	}
	expect("imap> ")
	term.Write([]byte("idle\r"))
	expect("stops> ")
	readlineReads(t, term) // Ctrl-C is then a key, not a signal
	term.Write([]byte("\x03"))
	expect("imap> ")
	term.Write([]byte("noop\r"))
	select { // the NOOP is out, unanswered
	case <-heldNOOP:
	case <-time.After(ptyGuard):
		term.Wait(time.Second)
		t.Fatalf("the server got no NOOP:\n%s", term.Output())
	}
	term.Write([]byte("\x03"))
	expect("interrupted")
	expect("imap> ")
	term.Write([]byte("check\r"))
	expect("CHECK answered")
	expect("imap> ")
	term.Write([]byte("quit\r"))
	if err := term.Wait(ptyGuard); err != nil {
		t.Errorf("shell: %v\n%s", err, term.Output())
	}
	if out := term.Output(); strings.Contains(out, "late NOOP answer") {
		t.Errorf("the stopped NOOP's answer was printed:\n%s", out)
	}
}

// TestShellHistoryPTY: shell --history FILE creates FILE readable by its
// owner only (whatever the umask), and keeps out of it the lines that
// carry a credential: a LOGIN or AUTHENTICATE typed as in any IMAP client
// (the shell refuses them, but the line holds the password). Other
// commands are kept.
func TestShellHistoryPTY(t *testing.T) {
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		c.Serve()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	hist := filepath.Join(t.TempDir(), "history")
	term, err := ptytest.Start(ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw"}, "shell", "imap://alice@"+srv.Addr(), "--history", hist))
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Expect("imap> ", ptyGuard); err != nil {
		t.Fatalf("no prompt: %v\n%s", err, term.Output())
	}
	for _, step := range []struct {
		line, want string
		n          int
	}{
		{"login alice Secr3tPW", "not sent from here", 1},
		{"a1 LOGIN alice Secr3tPW", "A1 completed", 1}, // sent as a command named A1
		{"authenticate plain AGFsaWNlAFNlY3IzdFBX", "not sent from here", 2},
		{"noop", "NOOP completed", 1},
	} {
		readlineReads(t, term)
		term.Write([]byte(step.line + "\r"))
		deadline := time.Now().Add(ptyGuard)
		for strings.Count(term.Output(), step.want) < step.n {
			if time.Now().After(deadline) {
				t.Fatalf("after %q: no %q:\n%s", step.line, step.want, term.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	readlineReads(t, term)
	term.Write([]byte("quit\r"))
	if err := term.Wait(ptyGuard); err != nil {
		t.Errorf("shell: %v\n%s", err, term.Output())
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Secr3tPW") || strings.Contains(string(b), "AGFsaWNl") {
		t.Errorf("the history file holds a credential: %q", b)
	}
	if !strings.Contains(string(b), "noop") {
		t.Errorf("the history file lacks the NOOP typed: %q", b)
	}
	fi, err := os.Stat(hist)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("the history file is readable by others: mode %v", fi.Mode().Perm())
	}
}

// TestSecondInterruptExits: a second Ctrl-C (SIGINT) ends the process at
// once, while the first one's LOGOUT waits on a stalled server.
func TestSecondInterruptExits(t *testing.T) {
	srv, selected := stallAtSelect(t)
	cmd := ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw"}, "select", "imap://alice@"+srv.Addr(), "INBOX")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-selected:
	case err := <-done:
		t.Fatalf("select ended before SELECT was stalled: %v, stderr %q", err, stderr.String())
	case <-time.After(ptyGuard):
		cmd.Process.Kill()
		t.Fatalf("the server never got SELECT; stderr %q", stderr.String())
	}
	cmd.Process.Signal(os.Interrupt)
	// The command reports the interrupt before it logs out.
	deadline := time.Now().Add(ptyGuard) // a bound on a hang
	for !strings.Contains(stderr.String(), "imapkit select:") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no error after the first Ctrl-C; stderr %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// At once: the LOGOUT may be going out; main's goroutine may not yet
	// have given SIGINT its default action back, conn.close has.
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("after two Ctrl-Cs: %v", err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Errorf("the second Ctrl-C did not end the process: %v (it logged out first); stderr %q", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("the process outlived the second Ctrl-C by 10s; stderr %q", stderr.String())
	}
}

// TestShellSIGTERMAtPromptPTY: a SIGTERM while the interactive shell waits
// at its prompt (readline reading keys, no command running) ends the shell
// as an interrupt ends any command: it logs out and exits with status 3.
// The line typed so far is not run. (Before, nothing watched the SIGTERM
// while readline waited for a key: the process lived on.)
func TestShellSIGTERMAtPromptPTY(t *testing.T) {
	srv, got := recordingServer(t)
	cmd := ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw"}, "shell", "imap://alice@"+srv.Addr())
	term, err := ptytest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Expect("imap> ", ptyGuard); err != nil {
		term.Wait(time.Second)
		t.Fatal(err)
	}
	readlineReads(t, term)
	term.Write([]byte("noop")) // no Enter
	if err := term.Expect("noop", ptyGuard); err != nil {
		term.Wait(time.Second)
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = term.Wait(10 * time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitConnFail {
		t.Errorf("after SIGTERM at the shell's prompt: %v, want exit status %d\n%q", err, exitConnFail, term.Output())
	}
	if !strings.Contains(term.Output(), "imapkit shell: terminated") {
		t.Errorf("no error line for the SIGTERM:\n%q", term.Output())
	}
	l := got()
	if len(l) == 0 || !strings.HasPrefix(l[len(l)-1], "LOGOUT") {
		t.Errorf("the shell did not log out; the server got %q", l)
	}
	for _, c := range l {
		if strings.HasPrefix(c, "NOOP") {
			t.Errorf("the line being typed at the SIGTERM was run; the server got %q", l)
		}
	}
}

// TestShellSIGTERMStalledLogoutPTY: at the interactive shell's prompt, a
// SIGTERM ends the shell, whose LOGOUT waits on a stalled server: it is
// cut after logoutAfterInterrupt (exit status 3), or a second SIGTERM,
// sent as soon as the LOGOUT is out, ends the process at once (killed by
// it: no handler of the shell's or main's is left to catch it).
//
// With --timeout 10m, nothing but the interrupt's bound can end the
// stalled LOGOUT within the wait for the process (a hang bound of 30 s,
// against logoutAfterInterrupt's 1 s): the test no longer times the exit
// on the wall clock (it failed past 4 s, which a loaded machine could
// reach between the LOGOUT and the process's end).
func TestShellSIGTERMStalledLogoutPTY(t *testing.T) {
	for _, second := range []bool{false, true} {
		atLogout := make(chan struct{})
		var once sync.Once
		srv, err := hostile.Listen(func(c *hostile.Conn) error {
			if err := c.Greet("IMAP4rev1"); err != nil {
				return err
			}
			if _, err := c.Until("LOGOUT"); err != nil {
				return nil
			}
			once.Do(func() { close(atLogout) })
			c.Stall()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		cmd := ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw"}, "shell", "imap://alice@"+srv.Addr(), "--timeout", "10m")
		term, err := ptytest.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if err := term.Expect("imap> ", ptyGuard); err != nil {
			term.Wait(time.Second)
			t.Fatal(err)
		}
		readlineReads(t, term)
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-atLogout:
		case <-time.After(10 * time.Second):
			term.Wait(time.Second)
			t.Fatalf("the SIGTERM at the prompt did not end the shell (no LOGOUT):\n%q", term.Output())
		}
		if second {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		// A hang bound: --timeout's 10 minutes would end it later.
		err = term.Wait(30 * time.Second)
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("second SIGTERM %v: %v\n%q", second, err, term.Output())
		}
		ws, ok := ee.Sys().(syscall.WaitStatus)
		switch {
		case !ok:
			t.Errorf("second SIGTERM %v: %v", second, err)
		case second && (!ws.Signaled() || ws.Signal() != syscall.SIGTERM):
			t.Errorf("the second SIGTERM did not end the process: %v\n%q", err, term.Output())
		case !second && ee.ExitCode() != exitConnFail:
			t.Errorf("after SIGTERM: %v, want exit status %d\n%q", err, exitConnFail, term.Output())
		}
	}
}

// TestShellHistoryOldFilePTY: a history file written by an older version,
// readable by others and holding credential lines, is made readable by its
// owner only, and its credential lines are dropped from it, not only left
// out of the history loaded; its other lines are kept, and the new
// commands are added.
func TestShellHistoryOldFilePTY(t *testing.T) {
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		c.Serve()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hist := filepath.Join(t.TempDir(), "history")
	old := "select INBOX\nlogin alice Secr3tPW\na1 LOGIN alice Secr3tPW\nauthenticate plain AGFsaWNlAFNlY3IzdFBX\nuid search all\n"
	if err := os.WriteFile(hist, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(hist, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	term, err := ptytest.Start(ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw"}, "shell", "imap://alice@"+srv.Addr(), "--history", hist))
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Expect("imap> ", ptyGuard); err != nil {
		term.Wait(time.Second)
		t.Fatalf("no prompt: %v\n%s", err, term.Output())
	}
	readlineReads(t, term)
	term.Write([]byte("noop\r"))
	if err := term.Expect("NOOP completed", ptyGuard); err != nil {
		term.Wait(time.Second)
		t.Fatalf("no NOOP answer: %v\n%s", err, term.Output())
	}
	readlineReads(t, term)
	term.Write([]byte("quit\r"))
	if err := term.Wait(ptyGuard); err != nil {
		t.Errorf("shell: %v\n%s", err, term.Output())
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Secr3tPW") || strings.Contains(string(b), "AGFsaWNl") {
		t.Errorf("the history file still holds the old credential lines: %q", b)
	}
	if want := "select INBOX\nuid search all\nnoop\nquit\n"; string(b) != want {
		t.Errorf("the history file holds %q, want %q", b, want)
	}
	fi, err := os.Stat(hist)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the history file has mode %v, want 0600", fi.Mode().Perm())
	}
}
