package session

import "testing"

// TestRedactCutSecretPastCut: a line cut in the middle of a secret shows
// none of it; a whole one is redacted.
func TestRedactCutSecretPastCut(t *testing.T) {
	var x secrets
	x.add([]byte("s3cret-password-long"))
	if got := string(x.redactCut([]byte("* OK echo s3cret-password-long and s3cret-pa"))); got != "* OK echo *** and " {
		t.Errorf("redactCut = %q", got)
	}
}
