//go:build !linux

package testserver

import (
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// process is a started server master process.
type process struct {
	cmd     *exec.Cmd
	pid     int
	pgid    int
	exited  chan struct{}
	waitErr error
}

// startProcess starts cmd. Outside Linux there is no parent-death signal
// and no process-group cleanup: only the master is tracked.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, pgid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// terminate asks the master to stop and kills it after grace.
func (p *process) terminate(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(interruptSignal())
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("server master (pid %d) did not stop within %v and was killed", p.pid, grace)
}

func killLeftovers(pgid int, markers []string, timeout time.Duration) error { return nil }

var errNoProcFS = errors.New("process listing is only implemented on Linux")

func processesAlive(pgid int, markers []string) ([]int, error) { return nil, errNoProcFS }

func describeProcesses(pids []int) string { return fmt.Sprint(pids) }
