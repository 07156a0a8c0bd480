//go:build !linux

package main

import (
	"time"
)

// threadCPU: see threadcpu_linux_test.go; the wall time here.
func threadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
