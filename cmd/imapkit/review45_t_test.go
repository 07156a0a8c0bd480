package main

import "time"

// clientWriteSpeed makes the proxy's bound on each write to the client
// and to the server (--timeout) run k times faster for the connections
// opened until the test ends (testClientWriteSpeed). The test must not be
// parallel.
func clientWriteSpeed(t interface{ Cleanup(func()) }, k time.Duration) {
	testClientWriteSpeed = k
	t.Cleanup(func() { testClientWriteSpeed = 0 })
}
