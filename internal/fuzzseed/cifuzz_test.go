package fuzzseed_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ciFuzz runs .ci/fuzz with args and GO=true standing in for go: only the
// script's selection of targets is looked at, nothing is fuzzed.
func ciFuzz(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command("bash", append([]string{"../../.ci/fuzz"}, args...)...)
	cmd.Env = append(os.Environ(), "GO=true", "FUZZNICE=0", "FUZZTIME=1x")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCIFuzzTrailingSlash: `.ci/fuzz ./session/` (as a shell completes a
// directory) ran no target at all and exited 0 with an empty summary: the
// filter compared "${p#./}" ("session/") with the dir ("session"). The
// trailing slash is stripped now. Found by review.
func TestCIFuzzTrailingSlash(t *testing.T) {
	out, err := ciFuzz(t, "./session/", "FuzzSession")
	if err != nil || !strings.Contains(out, "== ./session FuzzSession") {
		t.Errorf(".ci/fuzz ./session/ FuzzSession ran no target (exit %v):\n%s", err, out)
	}
}

// TestCIFuzzNoMatch: a package or a name that matches no target, or a
// selection of none, is an error (exit 2, nothing run), not a clean
// campaign of nothing. Found by review.
func TestCIFuzzNoMatch(t *testing.T) {
	for _, args := range [][]string{
		{"./sessio"},
		{"FuzzNoSuchTarget"},
		{"./session", "FuzzNoSuchTarget"},
		{"./wire", "FuzzSession"},
	} {
		out, err := ciFuzz(t, args...)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || strings.Contains(out, "== ./") {
			t.Errorf(".ci/fuzz %s: exit %v; want exit 2 with nothing run:\n%s", strings.Join(args, " "), err, out)
		}
	}
}
