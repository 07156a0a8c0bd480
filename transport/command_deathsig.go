//go:build linux || freebsd

package transport

import "syscall"

// setParentDeathSignal has the kernel send SIGKILL to the child when its
// parent dies: a CommandConn's child must not outlive the process that
// holds it (killed by a second Ctrl-C before Close could run). On Linux
// the signal comes when the creating thread ends: CommandConn.start keeps
// that thread until the child has been reaped.
func setParentDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}
