package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// runCLI runs the program with args and stdin and returns its exit code and
// output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(testEnv(t), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// runUntilShown runs the program as runCLI does, for a command that runs
// until interrupted (idle without --for), and interrupts it (as Ctrl-C
// would: setInterrupted) once shown holds of its stdout: the end of the
// run is an event, the output a test waits for, not a --for of wall time
// that a loaded machine could let pass before the server's events were
// printed. A run that ends by itself first returns as it ended. A minute
// bounds each wait against a hang: shown never holding fails the test,
// with the output so far.
func runUntilShown(t *testing.T, stdin string, shown func(stdout string) bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runUntil(t, stdin, shown, nil, args...)
}

// runUntilEvent is runUntilShown for an event of the test's own (a
// scripted server's: the client idling again once it has fetched what
// the script announced), told by closing ev.
func runUntilEvent(t *testing.T, stdin string, ev <-chan struct{}, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runUntil(t, stdin, nil, ev, args...)
}

// runUntil interrupts the run once shown holds of its stdout (shown not
// nil) or ev is closed (ev not nil): runUntilShown, runUntilEvent.
func runUntil(t *testing.T, stdin string, shown func(stdout string) bool, ev <-chan struct{}, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer setInterrupted(t, ctx)()
	out, errOut := &wakeBuffer{wrote: make(chan struct{}, 1)}, &syncBuffer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = run(testEnv(t), args, strings.NewReader(stdin), out, errOut)
	}()
	hang := time.After(time.Minute)
	for shown == nil || !shown(out.String()) {
		select {
		case <-done:
			return code, out.String(), errOut.String()
		case <-hang:
			cancel()
			<-done
			t.Fatalf("imapkit %s: what the test waits for not seen after a minute:\nstdout: %s\nstderr: %s", strings.Join(args, " "), out.String(), errOut.String())
		case <-out.wrote:
			continue
		case <-ev: // nil: never
		}
		break
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("imapkit %s did not return within a minute of its interrupt", strings.Join(args, " "))
	}
	return code, out.String(), errOut.String()
}

// wakeBuffer is a syncBuffer that tells of each write on wrote (a
// channel of one, which a write that finds it full leaves as it is).
type wakeBuffer struct {
	syncBuffer
	wrote chan struct{}
}

func (b *wakeBuffer) Write(p []byte) (int, error) {
	n, err := b.syncBuffer.Write(p)
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// shownAll is a runUntilShown condition: stdout holds every string of want.
func shownAll(want ...string) func(string) bool {
	return func(out string) bool {
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args             []string
		code             int
		stdout, stderr   string // substrings expected
		noStdout, noErrs bool
	}{
		{args: nil, code: 2, stderr: "usage: imapkit <command>", noStdout: true},
		{args: []string{"help"}, code: 0, stdout: "decode", noErrs: true},
		{args: []string{"-h"}, code: 0, stdout: "usage: imapkit", noErrs: true},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, noStdout: true},
		{args: []string{"help", "frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, noStdout: true},
		{args: []string{"help", "decode"}, code: 0, stdout: "usage: imapkit decode", noErrs: true},
		{args: []string{"help", "demo"}, code: 0, stdout: "usage: imapkit demo", noErrs: true},
		{args: []string{"demo", "-h"}, code: 0, stderr: "-messages"},
		{args: []string{"demo", "-nope"}, code: 2, stderr: "flag provided but not defined"},
		{args: []string{"decode", "-h"}, code: 0, stderr: "-max-body"},
		{args: []string{"decode", "-nope"}, code: 2, stderr: "flag provided but not defined"},
		{args: []string{"decode", "-max-body", "-1"}, code: 2, stderr: "must not be negative"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, "", tt.args...)
		if code != tt.code {
			t.Errorf("imapkit %q: exit %d; want %d (stderr %q)", tt.args, code, tt.code, stderr)
		}
		if !strings.Contains(stdout, tt.stdout) || (tt.noStdout && stdout != "") {
			t.Errorf("imapkit %q: stdout %q; want it to hold %q", tt.args, stdout, tt.stdout)
		}
		if !strings.Contains(stderr, tt.stderr) || (tt.noErrs && stderr != "") {
			t.Errorf("imapkit %q: stderr %q; want it to hold %q", tt.args, stderr, tt.stderr)
		}
	}
}

// TestCommandTable: every command has a name, a summary, shows in the
// usage text, and "imapkit help NAME" prints its usage and exits 0.
func TestCommandTable(t *testing.T) {
	var out bytes.Buffer
	usage(&out)
	seen := map[string]bool{}
	for _, c := range cmdTable {
		if c.name == "" || c.summary == "" || c.run == nil {
			t.Errorf("incomplete command %+v", c)
		}
		if seen[c.name] {
			t.Errorf("command %q listed twice", c.name)
		}
		seen[c.name] = true
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("usage does not list %q:\n%s", c.name, out.String())
		}
		if code, stdout, stderr := runCLI(t, "", "help", c.name); code != 0 || !strings.Contains(stdout, "usage: imapkit "+c.name) || stderr != "" {
			t.Errorf("imapkit help %s: exit %d, stdout %q, stderr %q; want 0 and its usage on stdout", c.name, code, stdout, stderr)
		}
	}
}
