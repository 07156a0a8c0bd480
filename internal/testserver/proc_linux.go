//go:build linux

package testserver

import (
	"github.com/imapkit/imapkit/internal/procfs"

	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// process is a started server master process.
type process struct {
	cmd     *exec.Cmd
	pid     int
	pgid    int           // the master runs in its own process group
	exited  chan struct{} // closed when the master has exited and been reaped
	waitErr error         // cmd.Wait's result; valid once exited is closed
}

// startProcess starts cmd in a new process group. The child gets SIGTERM
// if the test process dies without calling Stop (e.g. go test -timeout
// panics), so no server outlives its test binary.
func startProcess(cmd *exec.Cmd) (*process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Linux delivers Pdeathsig when the *thread* that forked the
		// child exits, and the Go runtime may retire threads. Keep this
		// goroutine on its thread until the child has exited.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	p.pid = cmd.Process.Pid
	p.pgid = p.pid
	return p, nil
}

// terminate sends SIGTERM to the master's process group and waits up to
// grace for the master to exit; then it kills the group with SIGKILL.
func (p *process) terminate(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	// Signal the whole group: Dovecot's master alone takes about a second
	// to shut down its children, while a SIGTERM to every process of the
	// group ends them all within milliseconds.
	if err := syscall.Kill(-p.pgid, syscall.SIGTERM); err != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
	select {
	case <-p.exited:
		return fmt.Errorf("server master (pid %d) ignored SIGTERM for %v and was killed", p.pid, grace)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("server master (pid %d) did not exit even after SIGKILL", p.pid)
	}
}

// killLeftovers ends every process in process group pgid, or whose
// command line contains one of markers: it sends SIGTERM, waits up to
// timeout for them to exit and sends SIGKILL halfway through.
func killLeftovers(pgid int, markers []string, timeout time.Duration) error {
	start := time.Now()
	termed := map[int]bool{}
	killed := false
	for {
		pids := findProcesses(pgid, markers)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			if !termed[pid] {
				_ = syscall.Kill(pid, syscall.SIGTERM)
				termed[pid] = true
			}
		}
		elapsed := time.Since(start)
		if elapsed > timeout {
			return fmt.Errorf("server processes survive: %s", describeProcesses(pids))
		}
		if !killed && elapsed > timeout/2 {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			killed = true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// findProcesses lists live (non-zombie) processes in process group pgid or
// whose command line contains one of markers, other than this process.
func findProcesses(pgid int, markers []string) []int {
	var pids []int
	for _, p := range procfs.List() {
		if p.State == "Z" || p.State == "X" {
			continue
		}
		if p.PGRP == pgid {
			pids = append(pids, p.PID)
			continue
		}
		cmdline := procfs.Cmdline(p.PID)
		for _, m := range markers {
			if m != "" && bytes.Contains(cmdline, []byte(m)) {
				pids = append(pids, p.PID)
				break
			}
		}
	}
	return pids
}

func describeProcesses(pids []int) string {
	var parts []string
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		parts = append(parts, fmt.Sprintf("%d %q", pid, strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))))
	}
	return strings.Join(parts, ", ")
}

var errNoProcFS = errors.New("no /proc")

// processesAlive reports the processes of a server instance that are still
// running (used by tests).
func processesAlive(pgid int, markers []string) ([]int, error) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return nil, errNoProcFS
	}
	return findProcesses(pgid, markers), nil
}
