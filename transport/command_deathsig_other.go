//go:build unix && !linux && !freebsd

package transport

import "syscall"

// setParentDeathSignal does nothing: this system has no parent-death
// signal. A child whose parent died sees end of file on its standard
// input.
func setParentDeathSignal(a *syscall.SysProcAttr) {}
