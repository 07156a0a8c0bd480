package main

import (
	"errors"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// goroutinesLeft is lc.Check for the goroutines and file descriptors
// alone: the destination's Dovecot is a child process of the test binary.
// It waits up to 5 s for them to go (the Open's goroutine ends just after
// the Open returns).
func goroutinesLeft(lc *leakcheck.Checker) error {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := lc.Check(0)
		var le *leakcheck.LeakError
		if err == nil || errors.As(err, &le) && len(le.Goroutines)+len(le.FDs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}
