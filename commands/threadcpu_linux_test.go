//go:build linux

package commands_test

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// onThreadCPU runs f on a goroutine held to its own thread and returns
// f's error and the CPU time (user and system) that thread used while f
// ran, ok true; without waiting for f past limit of that CPU time, read
// every 20 ms from /proc (the thread's schedstat): then it returns
// over true and f is left to run on. Unlike a reading of the wall clock,
// a thread's CPU time does not grow when a loaded machine gives it less
// of a core.
func onThreadCPU(limit time.Duration, f func() error) (cpu time.Duration, over, ok bool, err error) {
	type result struct {
		cpu time.Duration
		err error
	}
	tidc, done := make(chan int, 1), make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tidc <- unix.Gettid()
		start := rusageThread()
		err := f()
		done <- result{rusageThread() - start, err}
	}()
	stat := fmt.Sprintf("/proc/self/task/%d/schedstat", <-tidc)
	start, sok := schedstat(stat)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			return r.cpu, false, r.cpu >= 0, r.err
		case <-tick.C:
			if now, nok := schedstat(stat); sok && nok && now-start > limit {
				return now - start, true, true, nil
			}
		}
	}
}

// rusageThread returns the calling thread's CPU time, -1 if unknown.
func rusageThread() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return -1 << 62
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// schedstat returns the CPU time of a thread from its schedstat file
// (the first field, in nanoseconds).
func schedstat(path string) (time.Duration, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var ns int64
	if _, err := fmt.Sscan(string(b), &ns); err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}
