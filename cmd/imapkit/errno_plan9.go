//go:build plan9

package main

import "errors"

// Plan 9's package syscall has no error numbers (errno.go): these match
// nothing there.

// temporaryAcceptErrors is empty: an error of Accept ends the proxy.
var temporaryAcceptErrors []error

// errReadOnlyFS is no error any call returns: a read-only file system's
// error is a permission error or a string there.
var errReadOnlyFS = errors.New("read-only file system")

// errNotDir is no error any call returns: a string there.
var errNotDir = errors.New("not a directory")

// errLoop is no error any call returns: Plan 9 has no symbolic links.
var errLoop = errors.New("too many levels of symbolic links")
