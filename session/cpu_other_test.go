//go:build !unix

package session_test

import "testing"

// bnCPU returns the CPU time the test process has used; getrusage is
// Unix's, so elsewhere the benchmarks that measure it are skipped.
func bnCPU(tb testing.TB) int64 {
	tb.Skip("no getrusage on this system")
	return 0
}
