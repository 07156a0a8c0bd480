//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || illumos

package main

import (
	"errors"
	"os"
	"syscall"
)

// stateLocking says that lockState locks: flock(2) is there.
const stateLocking = true

// openNonblock is the open flag that has the open of a named pipe return
// at once, not wait for a writer (readStateFile).
const openNonblock = syscall.O_NONBLOCK

// openNoFollow is the open flag that has an open of a symbolic link fail
// rather than follow it (openLockFile: no link at a lock's path is
// followed).
const openNoFollow = syscall.O_NOFOLLOW

// clearNonblock puts f's descriptor, opened with openNonblock, back to
// blocking (openLockFile, once it knows f is a regular file).
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}

// flockExclusive takes an exclusive flock on f without waiting; busy when
// another open file holds it.
func flockExclusive(f *os.File) (busy bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

// funlock releases the flock on f's open file, however many descriptors
// (a child's, before its exec) share it.
func funlock(f *os.File) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// linkCount returns how many names (hard links) the file of fi has.
func linkCount(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
