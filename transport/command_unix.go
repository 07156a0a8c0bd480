//go:build unix

package transport

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup makes the child the leader of a new process group when
// own is true, so that killProcessGroup reaches its descendants too (else
// it stays in ours), and has it killed when the current process dies
// where the system can (setParentDeathSignal).
func setProcessGroup(cmd *exec.Cmd, own bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: own}
	setParentDeathSignal(cmd.SysProcAttr)
}

// killProcessGroup sends SIGKILL to the child's process group and to the
// child itself. The child must not have been reaped yet.
func killProcessGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}

// killDescendants kills what is left of the child's process group once the
// child has exited by itself, during Close: descendants it started (a
// wrapper script's ssh) that would outlive Close. The group's id is the
// child's pid, which the kernel does not give out again while the group
// has a member; with none left the kill finds no group (unless the pid
// was given out again in the moment since the child was reaped, which
// takes the kernel's pid space wrapping around).
func killDescendants(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}
