// Package leakcheck fails a package's tests when they leave something
// running: goroutines of the module's packages, open file descriptors, or
// child processes (those of transport.Exec, say). It is imported by
// tests only, from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
//
// or, when TestMain has work of its own to do after the tests (stopping a
// server the tests shared):
//
//	lc := leakcheck.Start()
//	code := m.Run()
//	... stop the server ...
//	os.Exit(lc.Finish(code))
//
// or, with a single change at the end of an existing TestMain, against
// what existed when the test binary started (this package's init):
//
//	os.Exit(leakcheck.Finish(code))
//
// Start records what exists before the tests; Finish, once they are done,
// waits up to Wait for what they started to end and, if something is left,
// prints it to standard error and turns a passing exit code into 1.
//
// What counts:
//
//   - a goroutine whose stack (its "created by" line included) has a frame
//     of a package of this module (github.com/imapkit/imapkit/...; the
//     tests' own _test packages included) and that did not exist at Start;
//     the goroutine running Finish is not counted;
//   - on Linux, a file descriptor of /proc/self/fd that was not open at
//     Start, or is open on something else now; the descriptors the Go
//     runtime opens once for good (the network poller's epoll and eventfd
//     or pipe) are not counted;
//   - on Linux, a process whose parent is this one (found by scanning
//     /proc/<pid>/stat), running or a zombie nobody waited for.
//
// Finish does nothing while fuzzing (go test -fuzz): the fuzzing engine's
// workers are child processes of the coordinator, and a worker's TestMain
// never returns normally.
package leakcheck

import (
	"github.com/imapkit/imapkit/internal/procfs"

	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Module is the import path prefix whose frames mark a goroutine as the
// module's.
const Module = "github.com/imapkit/imapkit/"

// self marks the frames of this package, which never count.
const self = Module + "internal/leakcheck."

// Hang is how long a check waits, at most, for what a test started to end:
// a bound on a hang, not a measure of anything. A goroutine past its last
// deferred call, a descriptor about to be closed or a child about to be
// reaped ends well within it on a loaded machine, and the check returns as
// soon as it has; one that never ends still fails the check, after Hang.
const Hang = time.Minute

// Wait is how long Finish waits for what the tests started to end: Hang.
var Wait = Hang

// A Checker remembers what existed when it was made.
type Checker struct {
	goroutines map[string]bool   // ids
	fds        map[string]string // fd -> target
}

// atInit is what existed when the test binary started.
var atInit = Start()

// Finish is atInit.Finish: it checks for what was left since the test
// binary started, for the end of a TestMain that did not call Start.
func Finish(code int) int { return atInit.Finish(code) }

// Main runs the tests of m and checks for leaks after them; it returns the
// exit code for os.Exit.
func Main(m *testing.M) int {
	c := Start()
	return c.Finish(m.Run())
}

// Start records the goroutines and file descriptors that exist now.
func Start() *Checker {
	c := &Checker{goroutines: map[string]bool{}, fds: fds()}
	for id := range goroutines() {
		c.goroutines[id] = true
	}
	return c
}

// Finish checks for leaks (unless fuzzing) and returns the exit code: code,
// or 1 when code is 0 and something was left, which it reports on
// standard error.
func (c *Checker) Finish(code int) int {
	if fuzzing() {
		return code
	}
	if err := c.Check(Wait); err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// fuzzing reports whether the test binary runs as a fuzzing coordinator or
// worker.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil {
			if v := f.Value.String(); v != "" && v != "false" {
				return true
			}
		}
	}
	return false
}

// A LeakError lists what was left.
type LeakError struct {
	Goroutines []string // stacks
	FDs        []string // "fd -> target"
	Children   []string // "pid state cmdline"
}

// Error lists the counts, then each file descriptor, child process and
// goroutine stack left.
func (e *LeakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "left after the tests: %d goroutines of the module, %d file descriptors, %d child processes",
		len(e.Goroutines), len(e.FDs), len(e.Children))
	for _, fd := range e.FDs {
		fmt.Fprintf(&b, "\n  fd %s", fd)
	}
	for _, p := range e.Children {
		fmt.Fprintf(&b, "\n  child %s", p)
	}
	for _, g := range e.Goroutines {
		fmt.Fprintf(&b, "\n\n%s", g)
	}
	return b.String()
}

// Check waits up to wait for the goroutines, file descriptors and child
// processes that did not exist at Start to go, and returns a *LeakError
// listing those left, or nil.
func (c *Checker) Check(wait time.Duration) error {
	var e *LeakError
	if Until(wait, func() bool {
		e = c.leaks()
		return len(e.Goroutines)+len(e.FDs)+len(e.Children) == 0
	}) {
		return nil
	}
	return e
}

// Left waits up to wait for the goroutines that did not exist at Start and
// whose stacks contain match to end, and returns the stacks of those left
// (none: nil). Others (a parallel test's) are not waited for. A goroutine
// that has not run yet shows its go statement's wrapper (f.gowrap1 under
// -race, or for a call with arguments), not the function it calls: match
// finds it once it runs, or by its "created by" line.
func (c *Checker) Left(wait time.Duration, match string) []string {
	var left []string
	Until(wait, func() bool {
		left = nil
		for id, stack := range goroutines() {
			if !c.goroutines[id] && strings.Contains(stack, match) {
				left = append(left, stack)
			}
		}
		return len(left) == 0
	})
	sort.Strings(left)
	return left
}

// Until calls done until it returns true or wait has passed, and returns
// done's last answer: the leak checks' wait for what ends (wait is Hang for
// them), returning as soon as it has. It calls done at least once; the
// first few times again at once (yielding the processor: a goroutine past
// its last deferred call is usually gone after that), then after a pause
// that doubles from 1 ms to 20 ms.
func Until(wait time.Duration, done func() bool) bool {
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for i := 0; ; i++ {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		if i < 10 {
			runtime.Gosched()
			continue
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// Stacks returns the stacks of all goroutines but the caller's.
func Stacks() []string {
	buf := allStacks()
	gs := strings.Split(string(buf), "\n\n")
	return gs[1:] // the calling goroutine comes first
}

// allStacks is runtime.Stack of all goroutines, whatever its size.
func allStacks() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func (c *Checker) leaks() *LeakError {
	e := &LeakError{}
	for id, stack := range goroutines() {
		if !c.goroutines[id] {
			e.Goroutines = append(e.Goroutines, stack)
		}
	}
	sort.Strings(e.Goroutines)
	for fd, target := range fds() {
		if old, ok := c.fds[fd]; ok && old == target {
			continue
		}
		if runtimeFD(target) {
			continue
		}
		e.FDs = append(e.FDs, fd+" -> "+target)
	}
	sort.Strings(e.FDs)
	e.Children = children()
	return e
}

// goroutines returns the stacks of the goroutines with a frame of the
// module, by id, leaving out the calling goroutine.
func goroutines() map[string]string {
	buf := allStacks()
	out := map[string]string{}
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the calling goroutine comes first
		}
		header, _, _ := bytes.Cut(g, []byte("\n"))
		id, ok := bytes.CutPrefix(header, []byte("goroutine "))
		if !ok {
			continue
		}
		id, _, _ = bytes.Cut(id, []byte(" "))
		if moduleFrame(g) {
			out[string(id)] = string(g)
		}
	}
	return out
}

// moduleFrame reports whether a goroutine's stack has a frame (or a
// "created by" line) of the module other than this package's.
func moduleFrame(stack []byte) bool {
	for _, line := range bytes.Split(stack, []byte("\n")) {
		line = bytes.TrimPrefix(line, []byte("created by "))
		if bytes.HasPrefix(line, []byte(Module)) && !bytes.HasPrefix(line, []byte(self)) {
			return true
		}
	}
	return false
}

// fds returns the open file descriptors and what they are open on (nil
// where /proc/self/fd does not exist).
func fds() map[string]string {
	dir := "/proc/self/fd"
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	names, _ := f.Readdirnames(-1)
	own := strconv.Itoa(int(f.Fd()))
	f.Close()
	out := map[string]string{}
	for _, n := range names {
		if n == own {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, n))
		if err != nil {
			continue // closed meanwhile
		}
		out[n] = target
	}
	return out
}

// runtimeFD reports the descriptors the Go runtime opens once and keeps:
// the network poller's.
func runtimeFD(target string) bool {
	switch target {
	case "anon_inode:[eventpoll]", "anon_inode:[eventfd]", "anon_inode:[pidfd]":
		return true
	}
	return false
}

// children returns the processes whose parent is this one, as "pid state
// cmdline" (nil where /proc does not exist).
func children() []string {
	me := os.Getpid()
	var out []string
	for _, p := range procfs.List() {
		if p.PPID == me {
			out = append(out, fmt.Sprintf("%d %s %s", p.PID, p.State, procfs.Cmdline(p.PID)))
		}
	}
	sort.Strings(out)
	return out
}
