package commands

// OnResultData sets a function called as a response reaches the OnData
// of a MOVE or an EXPUNGE (on the session's reader goroutine, before it
// is taken), until the test ends. The test must not be parallel.
func OnResultData(t interface{ Cleanup(func()) }, f func()) {
	testHookResultData = f
	t.Cleanup(func() { testHookResultData = nil })
}
