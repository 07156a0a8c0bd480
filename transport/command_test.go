//go:build unix

package transport_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/transport"
)

func needProgram(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s not available: %v", name, err)
		}
	}
}

// assertReaped checks that the child no longer exists, not even as a
// zombie: kill(pid, 0) succeeds on zombies.
func assertReaped(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("child %d still exists after Close (kill -0: %v)", pid, err)
	}
}

func TestCommandEcho(t *testing.T) {
	needProgram(t, "cat")
	checkGoroutines(t)
	c, err := transport.Exec(context.Background(), "cat")
	if err != nil {
		t.Fatal(err)
	}
	var _ net.Conn = c
	pid := c.Pid()
	if c.RemoteAddr().String() != "cat["+strconv.Itoa(pid)+"]" || c.RemoteAddr().Network() != "command" {
		t.Errorf("RemoteAddr = %v", c.RemoteAddr())
	}

	// A deadline against a hang (leakcheck.Hang), not a timing: cat
	// echoes at once, however loaded the machine.
	c.SetDeadline(time.Now().Add(leakcheck.Hang))
	if _, err := io.WriteString(c, "a1 NOOP\r\na2 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for _, want := range []string{"a1 NOOP\r\n", "a2 NOOP\r\n"} {
		line, err := r.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("read %q, %v; want %q", line, err, want)
		}
	}
	// The grace period is set to an hour (the default is 2 s) so that
	// a Close that waited for it rather than for the child's exit
	// would not return within returns's minute: what ended Close is
	// checked, not how long it took. cat exits on the end of its input;
	// ExitErr nil says it was not killed.
	c.SetGracePeriod(time.Hour)
	var cerr error
	returns(t, "Close of a well-behaved child", func() { cerr = c.Close() })
	if cerr != nil {
		t.Fatal(cerr)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Close")
	}
	if err := c.ExitErr(); err != nil {
		t.Errorf("cat exited with %v", err)
	}
	assertReaped(t, pid)

	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

func TestCommandReadDeadline(t *testing.T) {
	needProgram(t, "cat")
	checkGoroutines(t)
	c, err := transport.Exec(context.Background(), "cat")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	// cat writes nothing: only the deadline can end the Read (the
	// minute of returns is a hang detector, not a timing check).
	returns(t, "Read past its deadline", func() { _, err = c.Read(make([]byte, 1)) })
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want deadline exceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error timeout", err)
	}

	// The connection is still usable after a timeout (the deadline
	// against a hang).
	c.SetReadDeadline(time.Now().Add(leakcheck.Hang))
	io.WriteString(c, "x")
	buf := make([]byte, 1)
	if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 'x' {
		t.Errorf("Read after timeout = %q, %v", buf, err)
	}

	// Close unblocks a pending Read. Close comes once the Read waits
	// in the network poller ("IO wait" in its goroutine's stack), an
	// event, not after a 20 ms pause: a Read that had not started yet
	// would have said net.ErrClosed too, and tested nothing.
	c.SetReadDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	if !leakcheck.Until(leakcheck.Hang, readWaiting) {
		t.Fatalf("the Read never waited for the child's output (%v)", leakcheck.Hang)
	}
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Read after Close = %v", err)
		}
	case <-time.After(leakcheck.Hang):
		t.Fatalf("the blocked Read did not return within %v of Close", leakcheck.Hang)
	}
}

// readWaiting reports whether a goroutine waits in CommandConn.Read for
// the child's output, in the network poller.
func readWaiting() bool {
	for _, g := range leakcheck.Stacks() {
		if strings.Contains(g, "[IO wait") && strings.Contains(g, "transport.(*CommandConn).Read(") {
			return true
		}
	}
	return false
}

// TestCommandKill runs a child that ignores both the end of its input and
// SIGTERM; Close must SIGKILL it (and its process group) after the grace
// period and reap it.
func TestCommandKill(t *testing.T) {
	needProgram(t, "sh", "sleep")
	checkGoroutines(t)
	c, err := transport.Exec(context.Background(), "sh", "-c", `trap "" TERM; sleep 60; echo done`)
	if err != nil {
		t.Fatal(err)
	}
	pid := c.Pid()
	c.SetGracePeriod(200 * time.Millisecond)
	// sh installs the trap, then starts sleep: once sleep runs, TERM is
	// ignored. Wait for it (a fixed pause was too short on a busy machine).
	waitGroupMember(t, pid, "(sleep)")

	// What ended the child is checked, not how long Close took: SIGKILL
	// (below), where a Close that waited for the child instead would
	// see it exit by itself (status 0) after its minute of sleep, which
	// returns's minute also detects. That Close gave the grace period
	// first is a lower bound, which no slow machine can break.
	t.Cleanup(func() {
		if t.Failed() {
			syscall.Kill(-pid, syscall.SIGKILL) // not left behind for a minute
		}
	})
	start := time.Now()
	returns(t, "Close of a child that ignores SIGTERM", func() { err = c.Close() })
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("Close took %v, less than the grace period (200ms)", d)
	}
	assertReaped(t, pid)
	var exitErr *exec.ExitError
	if err := c.ExitErr(); !errors.As(err, &exitErr) {
		t.Fatalf("ExitErr = %v", err)
	} else if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child not killed by SIGKILL: %v", err)
	}
	// The grandchild (sleep) was in the same process group and is gone
	// too; it may linger as a zombie if nothing reaps orphans here. The
	// kill is delivered at once but takes effect when the kernel runs it:
	// wait for that, up to leakcheck.Hang.
	var live []string
	leakcheck.Until(leakcheck.Hang, func() bool { live = liveGroupMembers(pid); return len(live) == 0 })
	if len(live) > 0 {
		t.Errorf("process group %d still has live members %v after the kill: %v", pid, leakcheck.Hang, live)
	}
}

// waitGroupMember waits, up to leakcheck.Hang (a bound against a hang; it
// was 10 s), until a live process of process group pgid has comm in its
// /proc stat line ("(sleep)"). Where /proc is missing it returns at once.
func waitGroupMember(t *testing.T, pgid int, comm string) {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return
	}
	if !leakcheck.Until(leakcheck.Hang, func() bool {
		for _, m := range liveGroupMembers(pgid) {
			if strings.Contains(m, comm) {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no %s in process group %d after %v", comm, pgid, leakcheck.Hang)
	}
}

// liveGroupMembers lists the non-zombie processes of process group pgid
// (Linux only; elsewhere it returns nil).
func liveGroupMembers(pgid int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var live []string
	for _, e := range entries {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) || f[0] == "Z" || f[0] == "X" {
			continue
		}
		live = append(live, s[:i+1]+" "+f[0])
	}
	return live
}

func TestCommandStderrAndExit(t *testing.T) {
	needProgram(t, "sh")
	checkGoroutines(t)
	c, err := transport.Exec(context.Background(), "sh", "-c", "echo oops >&2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(leakcheck.Hang)) // against a hang
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("Read = %d, %v; want io.EOF", n, err)
	}
	select {
	case <-c.Done():
	case <-time.After(leakcheck.Hang):
		t.Fatalf("Done not closed %v after the child exited", leakcheck.Hang)
	}
	var exitErr *exec.ExitError
	if err := c.ExitErr(); !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Errorf("ExitErr = %v, want exit status 3", err)
	} else {
		hasPrefix(t, err)
	}
	if _, err := io.WriteString(c, "a LOGOUT\r\n"); err == nil {
		t.Error("Write to an exited child succeeded")
	}
	// An hour's grace period (the default is 2 s): a Close that waited
	// for it, the child long gone, would not return within returns's
	// minute.
	c.SetGracePeriod(time.Hour)
	returns(t, "Close of an exited child", func() { c.Close() })
	if got := string(c.Stderr()); got != "oops\n" {
		t.Errorf("Stderr = %q, want %q", got, "oops\n")
	}
}

func TestCommandStderrBounded(t *testing.T) {
	needProgram(t, "sh")
	checkGoroutines(t)
	// 10000 bytes of noise, then a marker, on standard error.
	script := `i=0; while [ $i -lt 100 ]; do printf '%099d\n' $i >&2; i=$((i+1)); done; echo END >&2`
	c, err := transport.Exec(context.Background(), "sh", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	c.Close()
	got := c.Stderr()
	if len(got) != 4096 || !strings.HasSuffix(string(got), "\nEND\n") {
		t.Errorf("Stderr: %d bytes ending %q; want the last 4096 ending with END", len(got), got[max(0, len(got)-20):])
	}
}

func TestCommandErrors(t *testing.T) {
	checkGoroutines(t)
	_, err := transport.Exec(context.Background(), "/nonexistent/imapd")
	hasPrefix(t, err)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing program: %v does not wrap fs.ErrNotExist", err)
	}
	_, err = transport.Exec(context.Background(), "no-such-imapd-program")
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing program in PATH: %v does not wrap exec.ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = transport.Exec(ctx, "cat")
	hasPrefix(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}
