//go:build !unix

package transport

import (
	"os"
	"os/exec"
)

// setProcessGroup does nothing on this platform.
func setProcessGroup(cmd *exec.Cmd, own bool) {}

// killProcessGroup kills the child only: this platform has no process
// groups in the Unix sense.
func killProcessGroup(p *os.Process) {
	_ = p.Kill()
}

// killDescendants does nothing where the child has no process group of its
// own.
func killDescendants(p *os.Process) {}
