package transport_test

import (
	"testing"
	"time"
)

// returns runs f and fails the test if it has not returned within a
// minute. It is a hang detector, not a timing check: a loaded machine
// (2 cores, -race, test binaries in parallel) may take any time short of
// that; what the tests check is what ended the call (see the callers),
// and where a bound must hold, the tests make everything but that bound
// take far longer than the minute.
func returns(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return", what)
	}
}
