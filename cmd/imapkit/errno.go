//go:build !plan9

package main

import "syscall"

// The error numbers of package syscall the CLI matches errors against:
// Plan 9's package syscall has none (errno_plan9.go).

// temporaryAcceptErrors are the errors of Accept that pass
// (temporaryAccept): no file descriptor or buffer memory left for the
// moment, or a connection aborted by its client before it was accepted.
var temporaryAcceptErrors = []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED}

// errReadOnlyFS is the error of a write to a file system mounted
// read-only (unwritable).
var errReadOnlyFS error = syscall.EROFS

// errNotDir is the error of a path through a file that is not a directory
// (makeDir: a regular file where a directory should be).
var errNotDir error = syscall.ENOTDIR

// errLoop is the error of an open of a path whose symbolic links loop
// (openLockFile, openMboxFile).
var errLoop error = syscall.ELOOP
