//go:build linux

package transport_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/transport"
)

// execHolderEnv names the file where TestExecHolderHelper, run as a
// helper process, writes its child's pid.
const execHolderEnv = "IMAPKIT_EXEC_HOLDER_PIDFILE"

// TestExecHolderHelper is the helper process of
// TestExecChildDiesWithHolder: it starts a child with Exec, writes the
// child's pid and waits to be killed. Run directly it does nothing.
func TestExecHolderHelper(t *testing.T) {
	pidFile := os.Getenv(execHolderEnv)
	if pidFile == "" {
		t.Skip("helper process only")
	}
	c, err := transport.Exec(context.Background(), "sh", "-c", "exec sleep 120")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(c.Pid())), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute)
	c.Close()
}

// TestExecChildDiesWithHolder: the process holding a CommandConn dies
// without closing it (SIGKILL here; a second Ctrl-C for the CLI, whose
// default action gives Close no chance to run). Its child, in a process
// group of its own, received no signal and went on running, reparented to
// init. On Linux the kernel must kill it (parent-death signal).
func TestExecChildDiesWithHolder(t *testing.T) {
	needProgram(t, "sh", "sleep")
	pidFile := filepath.Join(t.TempDir(), "pid")
	holder := exec.Command(os.Args[0], "-test.run=^TestExecHolderHelper$", "-test.count=1")
	holder.Env = append(os.Environ(), execHolderEnv+"="+pidFile)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(pidFile)
		if n, err := strconv.Atoi(string(b)); err == nil && n > 0 {
			pid = n
			break
		}
		if time.Now().After(deadline) {
			holder.Process.Kill()
			holder.Wait()
			t.Fatal("the helper never started its child")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	holder.Process.Kill()
	holder.Wait()
	// The parent-death signal takes effect when the kernel runs the
	// child: wait for that, up to leakcheck.Hang (the child's sleep, 120 s,
	// outlasts it: one the kernel did not kill still fails).
	if !leakcheck.Until(leakcheck.Hang, func() bool { return !processAlive(pid) }) {
		t.Fatalf("%v after the process holding it was killed, the child %d is still running", leakcheck.Hang, pid)
	}
}

// TestExecThreadExitKeepsChild: Exec called from a goroutine locked
// to its OS thread, which then returns without unlocking it, so that the
// Go runtime ends the thread. Linux sends the parent-death signal when the
// thread that started the child ends: the child must live on until Close.
func TestExecThreadExitKeepsChild(t *testing.T) {
	needProgram(t, "sh", "cat")
	type result struct {
		c   *transport.CommandConn
		err error
		tid int // the thread that called Exec, which ends
	}
	ch := make(chan result, 1)
	var onEndingThread func()
	onEndingThread = func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if syscall.Gettid() == syscall.Getpid() {
			// The main thread, which the runtime does not end but
			// parks: keep it, so that the next goroutine gets another.
			defer runtime.UnlockOSThread()
			done := make(chan struct{})
			go func() { defer close(done); onEndingThread() }()
			<-done
			return
		}
		c, err := transport.Exec(context.Background(), "sh", "-c", "exec cat")
		ch <- result{c, err, syscall.Gettid()}
	}
	go onEndingThread()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	// Until the thread is gone (its /proc/self/task entry removed: the
	// kernel has sent the parent-death signal by then, if any), a minute
	// at most against a hang. A 500 ms pause stood in for that: on a
	// loaded machine the thread could end after the checks below, and
	// the test pass with the fault.
	task := "/proc/self/task/" + strconv.Itoa(r.tid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(task); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the thread that called Exec (%s) has not ended after a minute", task)
		}
	}
	select {
	case <-r.c.Done():
		t.Fatalf("the child died when the thread that called Exec ended: %v", r.c.ExitErr())
	default:
	}
	r.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	if _, err := r.c.Read(b); err != nil || string(b) != "ping\n" {
		t.Fatalf("Read = %q, %v", b, err)
	}
}

// processAlive reports whether pid is a live process (not a zombie).
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z' && s[i+2] != 'X'
}

// TestExecSameProcessGroup: Exec's child leads a process group of its
// own, which a terminal takes for a background job (its read of the
// terminal stops it: the CLI's `--stream 'ssh host imapd'` could not ask
// for a password). ExecOptions.SameProcessGroup leaves it in ours, and
// Close still kills it (the child alone: the group is ours).
func TestExecSameProcessGroup(t *testing.T) {
	needProgram(t, "sh", "sleep")
	for _, same := range []bool{false, true} {
		c, err := transport.ExecWithOptions(context.Background(), &transport.ExecOptions{SameProcessGroup: same}, "sh", "-c", "exec sleep 60")
		if err != nil {
			t.Fatal(err)
		}
		pid := c.Pid()
		want := pid
		if same {
			want = syscall.Getpgrp()
		}
		if got, err := syscall.Getpgid(pid); err != nil || got != want {
			t.Errorf("SameProcessGroup %v: the child's process group is %d (%v), want %d", same, got, err, want)
		}
		c.SetGracePeriod(0)
		c.Close()
		select {
		case <-c.Done():
		default:
			t.Fatalf("SameProcessGroup %v: Close returned before the child was reaped", same)
		}
		if err := c.ExitErr(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("SameProcessGroup %v: ExitErr = %v, want the kill", same, err)
		}
	}
}
