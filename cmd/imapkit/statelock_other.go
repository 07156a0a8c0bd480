//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || illumos)

package main

import "os"

// stateLocking says that lockState does nothing here: there is no
// flock(2) in package syscall on this system.
const stateLocking = false

// openNonblock is 0 here: readStateFile's check before the open refuses
// a named pipe.
const openNonblock = 0

// openNoFollow is 0 here: lockState opens no lock file (stateLocking).
const openNoFollow = 0

// clearNonblock does nothing: openNonblock is 0 here.
func clearNonblock(*os.File) error { return nil }

// flockExclusive is never called where stateLocking is false.
func flockExclusive(*os.File) (busy bool, err error) { return false, nil }

// funlock does nothing: nothing is locked here (closeLocked, which
// mboxSink's close and abandon and openMbox's errors use, calls it on
// every system).
func funlock(*os.File) {}

// linkCount returns 1: the names of a file are not counted here.
func linkCount(os.FileInfo) uint64 { return 1 }
