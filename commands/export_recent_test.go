package commands

// OnRecentTaken sets a function Client.Recent calls once the session
// returned the RECENT data, until the test ends. The test must not be
// parallel.
func OnRecentTaken(t interface{ Cleanup(func()) }, f func()) {
	testHookRecentTaken = f
	t.Cleanup(func() { testHookRecentTaken = nil })
}
