package main

import (
	"os/exec"
	"strings"
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

// TestReview47ESrcChangedHintInbox: for a source INBOX whose UIDVALIDITY
// changed, the advice said first to empty the destination INBOX, which
// during a migration receives new mail: it now offers another mailbox
// (--map INBOX=OTHER) first. And the name in --map is shell-quoted.
func TestReview47ESrcChangedHintInbox(t *testing.T) {
	h := srcChangedHint("INBOX", "INBOX", "/s/copy-x.json")
	m, e := strings.Index(h, "--map INBOX=OTHER"), strings.Index(h, "empty it")
	if m < 0 || e < 0 || m > e {
		t.Errorf("INBOX advice: %s\nwant --map INBOX=OTHER offered before emptying it", h)
	}
	if !strings.Contains(h, `remove .mailboxes["INBOX"] from /s/copy-x.json`) {
		t.Errorf("INBOX advice: %s\nwant the entry's JSON path", h)
	}
	h = srcChangedHint("My Work", "My Work", "/s/copy-x.json")
	if !strings.Contains(h, "--map 'My Work=OTHER'") || !strings.Contains(h, "delete it") {
		t.Errorf("advice: %s\nwant --map 'My Work=OTHER' and delete it", h)
	}
}
