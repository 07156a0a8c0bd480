package main

import (
	"errors"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// goroutinesLeft is lc.Check for the goroutines and file descriptors
// alone: the destination's Dovecot is a child process of the test binary.
// It waits up to leakcheck.Hang for them to go (the Open's goroutine ends
// just after the Open returns).
func goroutinesLeft(lc *leakcheck.Checker) error {
	var err error
	if leakcheck.Until(leakcheck.Hang, func() bool {
		err = lc.Check(0)
		var le *leakcheck.LeakError
		return err == nil || errors.As(err, &le) && len(le.Goroutines)+len(le.FDs) == 0
	}) {
		return nil
	}
	return err
}
