package main

import (
	"os/exec"
	"testing"
)

// TestStreamExecRedirectThenAssignment: a --stream command that starts
// with a redirection and then an environment assignment ("2>/dev/null
// FOO=bar cmd", valid sh: the assignment is in the command's environment)
// is taken as simple by execSimple (its first word, the redirection, holds
// no '='), and "exec " is put in front of it: exec then takes the
// assignment for the program to run ("exec: FOO=bar: not found"). The
// command ran as written before f1decab; it must run the same now.
func TestStreamExecRedirectThenAssignment(t *testing.T) {
	for _, command := range []string{
		"2>/dev/null ZZVAR=hello printenv ZZVAR",
		"</dev/null ZZVAR=hello printenv ZZVAR",
	} {
		plain, perr := exec.Command("/bin/sh", "-c", command).CombinedOutput()
		name, args := streamArgs(command, false)
		got, gerr := exec.Command(name, args...).CombinedOutput()
		if string(plain) != string(got) || (perr == nil) != (gerr == nil) {
			t.Errorf("--stream %q: sh -c gives %q (%v); streamArgs %q gives %q (%v)", command, plain, perr, args[len(args)-1], got, gerr)
		}
	}
}
