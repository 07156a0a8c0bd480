//go:build !plan9

package codec_test

import "syscall"

// errConnReset is a connection reset's read error (readerror_test.go):
// ECONNRESET, which Plan 9's package syscall lacks (errno_plan9_test.go).
var errConnReset error = syscall.ECONNRESET
