package main

// The proxy's test settings (proxyHooks) are a run's, not package
// variables: a test sets them for the runs of its test tree, and tests
// that set them may run in parallel.

import (
	"sync"
	"testing"
	"time"
)

// proxyTestHooks holds, by top-level test name, the proxy's test
// settings of the runs that the test and its subtests start (startProxy)
// or build (a proxyConfig given proxyHooksIf(t)).
var proxyTestHooks struct {
	sync.Mutex
	m map[string]*proxyHooks
}

// proxyHooksOf returns the proxy's test settings of tb's test tree, made
// on first use and dropped when tb ends. They must be set before the run
// that uses them starts (startProxy), which reads them unlocked.
func proxyHooksOf(tb testing.TB) *proxyHooks {
	name := rootName(tb)
	proxyTestHooks.Lock()
	defer proxyTestHooks.Unlock()
	if h := proxyTestHooks.m[name]; h != nil {
		return h
	}
	if proxyTestHooks.m == nil {
		proxyTestHooks.m = map[string]*proxyHooks{}
	}
	h := &proxyHooks{}
	proxyTestHooks.m[name] = h
	tb.Cleanup(func() {
		proxyTestHooks.Lock()
		defer proxyTestHooks.Unlock()
		delete(proxyTestHooks.m, name)
	})
	return h
}

// proxyHooksIf returns the proxy's test settings of tb's test tree, nil
// when it set none.
func proxyHooksIf(tb testing.TB) *proxyHooks {
	proxyTestHooks.Lock()
	defer proxyTestHooks.Unlock()
	return proxyTestHooks.m[rootName(tb)]
}

// clientWriteSpeed makes the proxy's bound on each write to the client
// and to the server (--timeout) run k times faster for the runs of tb's
// test tree started after it (proxyHooks.writeSpeed).
func clientWriteSpeed(tb testing.TB, k time.Duration) {
	proxyHooksOf(tb).writeSpeed = k
}

// owedAnswerSpeed makes proxyOwedAnswerWait run k times faster for the
// runs of tb's test tree started after it (proxyHooks.owedAnswerSpeed).
func owedAnswerSpeed(tb testing.TB, k time.Duration) {
	proxyHooksOf(tb).owedAnswerSpeed = k
}
