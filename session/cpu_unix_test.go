//go:build unix

package session_test

import (
	"syscall"
	"testing"
)

// bnCPU returns the CPU time (user and system) the test process has used:
// Dovecot runs in processes of its own, so over a run it is the client's.
func bnCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
