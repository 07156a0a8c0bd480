//go:build linux

package main

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU runs f on the calling goroutine, locked to its thread, and
// returns the CPU time that thread spent in it (CLOCK_THREAD_CPUTIME_ID):
// the work f did, not the time it waited for a core. The timing-ratio
// tests (x8 the input must not take x64 the time) measured wall time, and
// on a loaded machine (three test binaries under -race on 2 cores) one
// measurement of the pair could be stretched by the scheduler alone:
// TestCopyMapFallbackScales saw x33.8 where the code is linear
// (x4 to x14 otherwise), TestDecodeSectionsQuadratic x41.6. The
// wall time is the fallback when the clock cannot be read.
func threadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok := threadClock()
	start := time.Now()
	f()
	if t1, ok1 := threadClock(); ok && ok1 {
		return t1 - t0
	}
	return time.Since(start)
}

// threadClock reads the calling thread's CPU clock.
func threadClock() (time.Duration, bool) {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
