package leakcheck_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// plant is set in the throwaway test runs of TestLeakCheckFails: the leak
// TestPlanted leaves behind ("goroutine", "fd", "child" or "none").
var plant = os.Getenv("LEAKCHECK_PLANT")

func TestMain(m *testing.M) {
	if plant != "" {
		leakcheck.Wait = 300 * time.Millisecond
	}
	os.Exit(leakcheck.Main(m))
}

var kept *os.File

// TestPlanted leaks what LEAKCHECK_PLANT names; it runs only in the
// throwaway runs of TestLeakCheckFails.
func TestPlanted(t *testing.T) {
	switch plant {
	case "":
		t.Skip("only in the throwaway runs of TestLeakCheckFails")
	case "goroutine":
		go func() { select {} }()
	case "fd":
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		kept = f
	case "child":
		if err := exec.Command("sleep", "3").Start(); err != nil { // never waited for
			t.Fatal(err)
		}
	case "none":
		// A goroutine, a file and a child that all end: not leaks.
		done := make(chan struct{})
		go func() { <-done }()
		close(done)
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := exec.Command("true").Run(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLeakCheckFails runs this test binary again with a leak planted and
// checks that the run fails, naming the leak; and that a run without one
// passes.
func TestLeakCheckFails(t *testing.T) {
	if plant != "" {
		t.Skip("in a throwaway run")
	}
	cases := []struct{ plant, want string }{
		{"goroutine", "1 goroutines of the module, 0 file descriptors, 0 child processes"},
		{"none", ""},
	}
	if runtime.GOOS == "linux" {
		cases = append(cases,
			struct{ plant, want string }{"fd", "0 goroutines of the module, 1 file descriptors, 0 child processes"},
			struct{ plant, want string }{"child", "0 goroutines of the module, 0 file descriptors, 1 child processes"})
	}
	for _, c := range cases {
		t.Run(c.plant, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPlanted$", "-test.count=1")
			cmd.Env = append(os.Environ(), "LEAKCHECK_PLANT="+c.plant)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var ee *exec.ExitError
			if c.want == "" {
				if err != nil {
					t.Fatalf("a run without a leak failed: %v\n%s%s", err, out, stderr.Bytes())
				}
				return
			}
			if !errors.As(err, &ee) {
				t.Fatalf("a run with a planted %s: %v; want exit status 1\n%s%s", c.plant, err, out, stderr.Bytes())
			}
			if !strings.Contains(stderr.String(), "leakcheck: left after the tests: "+c.want) || !strings.Contains(string(out), "PASS") {
				t.Errorf("a run with a planted %s: want PASS from the tests and %q from leakcheck; got\n%s%s", c.plant, c.want, out, stderr.Bytes())
			}
			if c.plant == "goroutine" && !strings.Contains(stderr.String(), "leakcheck_test.TestPlanted") {
				t.Errorf("the report does not show the leaked goroutine's stack:\n%s", stderr.Bytes())
			}
		})
	}
}

// TestLeftWaitsForEnding: Checker.Left returns as soon as the matching
// goroutines started since Start have ended (here once released, well
// within Hang), and returns the stack of one that does not end, after its
// wait; goroutines that do not match are not waited for.
func TestLeftWaitsForEnding(t *testing.T) {
	c := leakcheck.Start()
	release := make(chan struct{})
	stay := make(chan struct{})
	defer close(stay)
	go leftEnding(release)
	go leftOther(stay)
	ended := make(chan []string)
	go func() { ended <- c.Left(leakcheck.Hang, "leakcheck_test.leftEnding") }()
	close(release)
	if left := <-ended; left != nil {
		t.Errorf("Left after the goroutine ended: %d left:\n%s", len(left), strings.Join(left, "\n\n"))
	}
	// Ends only at the test's end. Left is called once it runs: a
	// goroutine not yet run shows its go statement's wrapper
	// (TestLeftWaitsForEnding.gowrap2 under -race), not leftEnding, and
	// Left found nothing to wait for about one run in a thousand.
	started := make(chan struct{})
	go leftEndingStarted(started, stay)
	<-started
	left := c.Left(50*time.Millisecond, "leakcheck_test.leftEnding")
	if len(left) != 1 || !strings.Contains(left[0], "leakcheck_test.leftEnding") {
		t.Errorf("Left with a goroutine that does not end: %q; want its stack", left)
	}
}

func leftEnding(c chan struct{}) { <-c }

func leftEndingStarted(started, c chan struct{}) {
	close(started)
	leftEnding(c)
}

func leftOther(c chan struct{}) { <-c }
