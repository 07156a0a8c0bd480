//go:build unix

package codec

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used (user and
// system): a timing test that runs alone in its binary measures its own
// work with it, not the time it waited for a core that other processes
// held.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return wallTime()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
