package main

import (
	"os"
	"syscall"
)

// descriptorRoom returns how many more file descriptors the test binary
// may open (the soft RLIMIT_NOFILE, which Go raises to the hard one at
// start, less those open), and whether it could tell.
func descriptorRoom() (int, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	if lim.Cur > 1<<30 {
		return 1 << 30, true
	}
	return int(lim.Cur) - len(open), true
}
