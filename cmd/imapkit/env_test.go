package main

import (
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// testEnvs holds, by test name, the environment variables setEnv and
// unsetEnv gave the runs of each test.
var testEnvs struct {
	sync.Mutex
	m map[string]map[string]testVar
}

// testVar is a variable setEnv set (set) or unsetEnv took away.
type testVar struct {
	value string
	set   bool
}

// setEnv sets the environment variable key to value for the runs of tb and
// of its subtests: t.Setenv without touching the process's environment, so
// that the test may run in parallel.
func setEnv(tb testing.TB, key, value string) {
	tb.Helper()
	putEnv(tb, key, testVar{value, true})
}

// unsetEnv takes the environment variable key away from the runs of tb and
// of its subtests (os.Unsetenv's counterpart of setEnv).
func unsetEnv(tb testing.TB, key string) {
	tb.Helper()
	putEnv(tb, key, testVar{})
}

func putEnv(tb testing.TB, key string, v testVar) {
	name := tb.Name()
	testEnvs.Lock()
	defer testEnvs.Unlock()
	if testEnvs.m == nil {
		testEnvs.m = map[string]map[string]testVar{}
	}
	vars := testEnvs.m[name]
	if vars == nil {
		vars = map[string]testVar{}
		testEnvs.m[name] = vars
		tb.Cleanup(func() {
			testEnvs.Lock()
			delete(testEnvs.m, name)
			testEnvs.Unlock()
		})
	}
	vars[key] = v
}

// testVars returns what setEnv and unsetEnv said of each variable for tb
// and the tests it is a subtest of (a subtest's own word first).
func testVars(tb testing.TB) map[string]testVar {
	testEnvs.Lock()
	defer testEnvs.Unlock()
	vars := map[string]testVar{}
	for name := tb.Name(); ; {
		for k, v := range testEnvs.m[name] {
			if _, ok := vars[k]; !ok {
				vars[k] = v
			}
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return vars
		}
		name = name[:i]
	}
}

// testEnvList returns the variables setEnv set for tb (testVars) as
// NAME=VALUE, sorted, but for those named in drop.
func testEnvList(tb testing.TB, drop ...string) []string {
	var kv []string
	for k, v := range testVars(tb) {
		if v.set && !contains(drop, k) {
			kv = append(kv, k+"="+v.value)
		}
	}
	sort.Strings(kv)
	return kv
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testEnv is the environment and terminal of a run in tb: the process's
// environment with what setEnv and unsetEnv said for tb (and its parents)
// on top, and no terminal. The tests say everything a run reads with
// setEnv, which leaves the process's environment alone: tests that do may
// run in parallel. (A serial test's t.Setenv still reaches the run.)
// --stream's child gets the process's environment with tb's setEnv
// variables on top, as it got the process's environment that t.Setenv
// changed.
func testEnv(tb testing.TB) *sysEnv {
	return &sysEnv{
		lookupEnv: func(key string) (string, bool) {
			if v, ok := testVars(tb)[key]; ok {
				return v.value, v.set
			}
			return os.LookupEnv(key)
		},
		openTTY:     func() (*os.File, error) { return nil, errors.New("no terminal in tests") },
		streamEnv:   func() []string { return testEnvList(tb) },
		interrupted: testInterrupted(tb),
		testHook: func(step string) error {
			if h := testHookOf(tb); h != nil {
				return h(step)
			}
			return nil
		},
	}
}

// testRuns holds, by top-level test name, the interrupted context and the
// test hook that setInterrupted and setTestHook gave the runs of the test
// and of its subtests: what the package variables interrupted and
// testHook were, each test tree now has its own, so that tests that set
// them may run in parallel.
var testRuns struct {
	sync.Mutex
	interrupted map[string]context.Context
	hook        map[string]func(step string) error
}

// rootName is the name of the top-level test tb is or is a subtest of.
func rootName(tb testing.TB) string {
	name, _, _ := strings.Cut(tb.Name(), "/")
	return name
}

// setInterrupted makes ctx the interrupted context (main's, which Ctrl-C
// and SIGTERM cancel) of the runs that tb's test and its subtests start
// (testEnv) until restore is called; a test cancels ctx to interrupt a
// run as the user's Ctrl-C would.
func setInterrupted(tb testing.TB, ctx context.Context) (restore func()) {
	name := rootName(tb)
	testRuns.Lock()
	defer testRuns.Unlock()
	if testRuns.interrupted == nil {
		testRuns.interrupted = map[string]context.Context{}
	}
	old, had := testRuns.interrupted[name]
	testRuns.interrupted[name] = ctx
	return func() {
		testRuns.Lock()
		defer testRuns.Unlock()
		if had {
			testRuns.interrupted[name] = old
		} else {
			delete(testRuns.interrupted, name)
		}
	}
}

// testInterrupted is the interrupted context setInterrupted gave tb's
// test, else nil (context.Background()).
func testInterrupted(tb testing.TB) context.Context {
	testRuns.Lock()
	defer testRuns.Unlock()
	return testRuns.interrupted[rootName(tb)]
}

// setTestHook makes h the test hook (sysEnv.testHook: the steps of a
// journalled append, of an export) of the runs of tb's test and of its
// subtests, those running and those to come; nil takes it away. A test
// that sets one takes it away when it ends (t.Cleanup).
func setTestHook(tb testing.TB, h func(step string) error) {
	name := rootName(tb)
	testRuns.Lock()
	defer testRuns.Unlock()
	if h == nil {
		delete(testRuns.hook, name)
		return
	}
	if testRuns.hook == nil {
		testRuns.hook = map[string]func(step string) error{}
	}
	testRuns.hook[name] = h
}

// testHookOf is the hook setTestHook gave tb's test, or nil.
func testHookOf(tb testing.TB) func(step string) error {
	testRuns.Lock()
	defer testRuns.Unlock()
	return testRuns.hook[rootName(tb)]
}

// TestTestEnvIsolated: the runs of a test see what setEnv set for it and
// for its parents (unless unsetEnv took it away), not what it set for
// another test, and else the process's environment; no terminal;
// --stream's child gets the setEnv variables on top of the process's
// environment.
func TestTestEnvIsolated(t *testing.T) {
	setEnv(t, "IMAPKIT_URL", "imap://a@parent")
	setEnv(t, "IMAPKIT_PASSWORD", "")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "dst")
	t.Run("sub", func(t *testing.T) {
		setEnv(t, "IMAPKIT_URL", "imap://a@sub")
		unsetEnv(t, "IMAPKIT_DST_PASSWORD")
		e := testEnv(t)
		if v, _ := e.lookupEnv("IMAPKIT_URL"); v != "imap://a@sub" {
			t.Errorf("IMAPKIT_URL in the subtest: %q", v)
		}
		if v, ok := e.lookupEnv("IMAPKIT_PASSWORD"); !ok || v != "" {
			t.Errorf("IMAPKIT_PASSWORD in the subtest: %q, %v; want the parent's empty value", v, ok)
		}
		if v, ok := e.lookupEnv("IMAPKIT_DST_PASSWORD"); ok {
			t.Errorf("IMAPKIT_DST_PASSWORD in the subtest that unset it: %q", v)
		}
	})
	e := testEnv(t)
	if v := e.getenv("IMAPKIT_URL"); v != "imap://a@parent" {
		t.Errorf("IMAPKIT_URL after the subtest: %q", v)
	}
	if v, _ := e.lookupEnv("PATH"); v != os.Getenv("PATH") {
		t.Errorf("the test environment's PATH is %q, not the process's", v)
	}
	if e.hasTerminal() {
		t.Errorf("the test environment has a terminal")
	}
	name, args := e.streamCommand("/usr/bin/env", []string{"-u", "X", "/bin/sh"})
	want := []string{"IMAPKIT_DST_PASSWORD=dst", "IMAPKIT_PASSWORD=", "IMAPKIT_URL=imap://a@parent", "/usr/bin/env", "-u", "X", "/bin/sh"}
	if name != "/usr/bin/env" || strings.Join(args, " ") != strings.Join(want, " ") {
		t.Errorf("stream command: %s %q; want /usr/bin/env %q", name, args, want)
	}
	if name, args := osEnv.streamCommand("/usr/bin/env", []string{"-u", "X"}); name != "/usr/bin/env" || len(args) != 2 {
		t.Errorf("the process's stream command: %s %q; want it unchanged", name, args)
	}
}
