//go:build plan9

package codec_test

import "errors"

// errConnReset is a connection reset's read error (readerror_test.go):
// its text, Plan 9's package syscall having no ECONNRESET.
var errConnReset = errors.New("connection reset by peer")
