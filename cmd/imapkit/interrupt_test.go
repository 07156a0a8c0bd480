//go:build linux

package main

// Reading stdin under the command's context: an interrupt ends a read of
// stdin (append's message, a set given as "-", raw's literal).

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// TestAppendStdinInterrupt: `imapkit append URL MAILBOX` reading the
// message from standard input (a terminal, a slow pipe) is interrupted by
// SIGINT while it spools stdin into its temporary file. The first SIGINT
// should end the command (exit 3, after its LOGOUT) and the temporary file
// should be removed. Instead the spooling io.Copy ignores the interrupt:
// the process keeps reading stdin, and the second SIGINT (whose default
// action main restored) kills it, leaving $TMPDIR/imapkit-append-* with
// the partial message behind.
func TestAppendStdinInterrupt(t *testing.T) {
	srv, got := recordingServer(t)
	tmp := t.TempDir()
	cmd := ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw", "TMPDIR=" + tmp},
		"append", "imap://alice@"+srv.Addr(), "INBOX")
	stdin, stderr, done := startLoggedIn(t, cmd, got)
	half := "Subject: secret draft\r\n\r\nhalf a message"
	stdin.Write([]byte(half))
	waitSpooled(t, cmd, tmp, int64(len(half)))
	cmd.Process.Signal(syscall.SIGINT)
	exited := false
	select {
	case <-done:
		exited = true
	case <-time.After(interruptBound):
		t.Errorf("%v after SIGINT while spooling stdin, append still runs (stderr %q)", interruptBound, stderr.String())
		cmd.Process.Signal(syscall.SIGINT) // the user's second Ctrl-C
		select {
		case <-done:
		case <-time.After(interruptBound):
			cmd.Process.Kill()
			<-done
		}
	}
	if exited {
		if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("after the first SIGINT: exit %d, stderr %q; want exit 3, \"interrupted\"", code, stderr.String())
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "imapkit-append-*"))
	for _, f := range left {
		b, _ := os.ReadFile(f)
		t.Errorf("temporary file left behind (exited on first SIGINT: %v): %s holding %q", exited, f, b)
	}
}

// interruptBound is how long a command may take to end after its
// interrupt before a test says it ignored it: a hang detector, generous
// for a loaded machine (the command logs out first, under -race).
const interruptBound = time.Minute

// waitSpooled returns once cmd has a file of dir open (unlinked or not)
// holding n bytes: append has spooled that much of stdin. It fails the
// test after interruptBound.
func waitSpooled(t *testing.T, cmd *exec.Cmd, dir string, n int64) {
	t.Helper()
	fds := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
	deadline := time.Now().Add(interruptBound)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(fds)
		for _, e := range ents {
			fd := filepath.Join(fds, e.Name())
			if l, err := os.Readlink(fd); err != nil || !strings.HasPrefix(l, dir+"/") {
				continue
			}
			if fi, err := os.Stat(fd); err == nil && fi.Size() == n {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("append did not spool the %d bytes of stdin into %s", n, dir)
}

// startLoggedIn starts cmd, an imapkit command against the recording
// server whose lines got returns, with a stdin pipe and stderr captured,
// and returns once the command has logged in (within 20 s): the pipe
// (closed with the test), stderr, and a channel that gets cmd.Wait's
// result.
func startLoggedIn(t *testing.T, cmd *exec.Cmd, got func() []string) (io.WriteCloser, *syncBuffer, chan error) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute) // a bound on a hang
	for {
		l := got()
		if len(l) > 0 && strings.HasPrefix(l[0], "LOGIN") {
			return stdin, stderr, done
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no LOGIN; got %q stderr %q", l, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReadSetInterrupt: a set given as "-" is read from stdin
// (a pipe that stays open: the writer is slow, or waits itself); the
// command's context ending (Ctrl-C) ends the read at once with an error,
// through the same helper as append's spooling.
func TestReadSetInterrupt(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.Write([]byte("1:5\n7,"))
	ctx, cancel := context.WithCancel(context.Background())
	// The interrupt comes once readSet waits for the pipe, its bytes
	// read (not 200 ms after it started: a check of the context before
	// the read passed, when the goroutine ran late). Not an *os.File:
	// stdinUntil takes any non-regular stdin the same way.
	waiting := &readWaiting{r: r, after: len("1:5\n7,"), entered: make(chan struct{})}
	o := &output{stdin: waiting}
	done := make(chan error, 1)
	go func() {
		_, err := o.readSet(ctx, "-", false)
		done <- err
	}()
	select {
	case <-waiting.entered:
	case <-time.After(interruptBound):
		t.Fatalf("readSet did not read the pipe past its %d bytes within %v", waiting.after, interruptBound)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Errorf("readSet after the interrupt: %v, want an \"interrupted\" error", err)
		}
	case <-time.After(interruptBound):
		t.Fatalf("%v after the interrupt readSet still reads stdin", interruptBound)
	}
	// Not interrupted, the same reader reads to the end.
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	go func() { w2.Write([]byte("1:5\n7\n")); w2.Close() }()
	s, err := (&output{stdin: r2}).readSet(context.Background(), "-", false)
	if err != nil || s.Nums.String() != "1:5,7" {
		t.Errorf("readSet of a pipe: %v, %v", s.Nums, err)
	}
}

// readWaiting is a reader whose entered is closed when a Read starts
// after after bytes were read: the reader waits for more.
type readWaiting struct {
	r       io.Reader
	after   int
	read    atomic.Int64
	entered chan struct{}
	once    sync.Once
}

func (w *readWaiting) Read(p []byte) (int, error) {
	if w.read.Load() >= int64(w.after) {
		w.once.Do(func() { close(w.entered) })
	}
	n, err := w.r.Read(p)
	w.read.Add(int64(n))
	return n, err
}

// TestRawLiteralInterrupt: raw reads a literal's lines from
// stdin ("APPEND INBOX {20}"); the first SIGINT while it waits for them
// ends the command (exit 3, not a usage error) through the same helper.
func TestRawLiteralInterrupt(t *testing.T) {
	srv, got := recordingServer(t)
	cmd := ptyCommand(t, []string{"IMAPKIT_PASSWORD=pw"}, "raw", "imap://alice@"+srv.Addr(), "APPEND INBOX {20}")
	stdin, stderr, done := startLoggedIn(t, cmd, got)
	stdin.Write([]byte("Subject: x\n"))
	// The SIGINT comes once raw has taken that line from the pipe: it
	// reads the literal's lines then, and waits for the rest. It was a
	// 300 ms pause, after which a loaded machine could still be
	// logging in.
	if !leakcheck.Until(time.Minute, func() bool { return pipeUnread(t, cmd.Process.Pid) == 0 }) {
		cmd.Process.Kill()
		t.Fatalf("raw never read the literal's first line from stdin (stderr %q)", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
		if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("after the first SIGINT: exit %d, stderr %q; want exit 3, \"interrupted\"", code, stderr.String())
		}
	case <-time.After(interruptBound):
		cmd.Process.Kill()
		<-done
		t.Errorf("%v after SIGINT while reading the literal, raw still runs (stderr %q)", interruptBound, stderr.String())
	}
}

// pipeUnread is the number of bytes in the child pid's stdin (a pipe)
// that it has not read yet: FIONREAD on the pipe, opened anew through
// /proc (cmd.StdinPipe's writer hides its *os.File).
func pipeUnread(t *testing.T, pid int) int {
	t.Helper()
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/fd/0", pid), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("the child's stdin: %v", err)
	}
	defer unix.Close(fd)
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
	if err != nil {
		t.Fatalf("FIONREAD on the child's stdin: %v", err)
	}
	return n
}
