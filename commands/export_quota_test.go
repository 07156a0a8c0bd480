package commands

// OnQuotaRootCompares sets a function given, for each QUOTA response a
// quota command matches to its roots, the number of roots it compared
// the response's root with (1 for a lookup in a set), until the test
// ends. The test must not be parallel.
func OnQuotaRootCompares(t interface{ Cleanup(func()) }, f func(n int)) {
	testHookRootCompares = f
	t.Cleanup(func() { testHookRootCompares = nil })
}

// OnQuotaResourceCompares sets a function given, for each resource of a
// QUOTA response merged into its root's Quota, the number of resources
// kept it compared the name with (1 for a lookup in the index), until
// the test ends. The test must not be parallel.
func OnQuotaResourceCompares(t interface{ Cleanup(func()) }, f func(n int)) {
	testHookResourceCompares = f
	t.Cleanup(func() { testHookResourceCompares = nil })
}
