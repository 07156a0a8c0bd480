//go:build !linux

package transport_test

import "testing"

// hangingAddr would return an address a TCP connect hangs on; only the
// Linux test knows how to make one.
func hangingAddr(t *testing.T) (addr string, ok bool) { return "", false }
