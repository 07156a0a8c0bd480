package main

import (
	"bytes"
	"strings"
	"testing"
)

// runCLI runs the program with args and stdin and returns its exit code and
// output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(testEnv(t), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
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
