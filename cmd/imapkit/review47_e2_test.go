package main

import (
	"os/exec"
	"testing"
)

// TestReview47EShellQuote: the --map advice of copy's errors is pasted
// into a shell. It showed the name as it is: "My Work" was two words, a
// quote opened a string. shellQuote's word, given to bash, must come back
// as the name exactly.
func TestReview47EShellQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Work=OTHER", "Work=OTHER"},
		{"Sent/2024=OTHER", "Sent/2024=OTHER"},
		{"My Work=OTHER", "'My Work=OTHER'"},
		{"it's=OTHER", `'it'\''s=OTHER'`},
		{"$HOME;rm=NAME", "'$HOME;rm=NAME'"},
		{"Entwürfe=NAME", "'Entwürfe=NAME'"},
		{"a\u200fb=OTHER", `$'a\u200fb=OTHER'`},
		{"a\x01'\\b=OTHER", `$'a\x01\'\\b=OTHER'`},
		{"", "''"},
	} {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to read the words back")
	}
	for _, in := range []string{"My Work", "it's \"x\"", "a\u200fb\u202e", "a\x01'\\b", "ü ' \\ $x `y`", "\x7f\x85"} {
		out, err := exec.Command(bash, "-c", "printf %s "+shellQuote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("bash read %s back as %q (%v); want %q", shellQuote(in), out, err, in)
		}
	}
}
