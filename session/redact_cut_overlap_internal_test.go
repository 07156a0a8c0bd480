package session

import (
	"strings"
	"testing"
)

// TestRedactCutWholeSecretAtCut: a whole secret that ends at the cut, or
// just before it, is redacted whatever the partial start of a secret (its
// own, another's) that ends the line. redactCut cuts first, before the
// longest end of the line that starts a secret, then redacts what is left:
// a secret whose last bytes start itself ("abca", "abab") or another
// secret, ending at the cut, lost its end to the cut and was then no longer
// found, so all but its last bytes were printed in the clear.
func TestRedactCutWholeSecretAtCut(t *testing.T) {
	cases := []struct {
		secrets []string
		line    string
	}{
		{[]string{"hunter2-xh"}, "* OK echo hunter2-xh"},                        // ends with its own first byte
		{[]string{"abab-secret-abab"}, "* OK echo abab-secret-abab"},            // its own first four
		{[]string{"pass-word-q", "qZZ-other"}, "* OK echo pass-word-q"},         // another's first byte
		{[]string{"pass-word-q", "q tail-other"}, "* OK echo pass-word-q tail"}, // another's start over the cut
	}
	for _, c := range cases {
		var x secrets
		for _, s := range c.secrets {
			x.add([]byte(s))
		}
		got := string(x.redactCut([]byte(c.line)))
		for _, s := range c.secrets {
			if strings.Contains(got, s[:5]) {
				t.Errorf("secrets %q: redactCut(%q) = %q: shows the start of %q in the clear", c.secrets, c.line, got, s)
			}
		}
	}
}
