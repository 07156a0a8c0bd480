package commands

import "testing"

// TestInterned: interned knows the common flags, mailbox attributes and
// section specifiers, exactly (case and all), and returns them without
// allocating; it knows nothing else.
func TestInterned(t *testing.T) {
	for _, s := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `\Recent`, `\*`,
		`$Forwarded`, `$MDNSent`, `$Junk`, `$NotJunk`, `$Phishing`, `NonJunk`, `Junk`,
		`\HasChildren`, `\HasNoChildren`, `\Noselect`, `\NonExistent`, `\Noinferiors`, `\Marked`, `\Unmarked`,
		`\Subscribed`, "HEADER", "TEXT", "MIME", "HEADER.FIELDS", "HEADER.FIELDS.NOT", `\Remote`, `\All`,
		`\Archive`, `\Drafts`, `\Junk`, `\Sent`, `\Trash`, `\Important`} {
		b := []byte(s)
		var got string
		var ok bool
		if n := testing.AllocsPerRun(10, func() { got, ok = interned(b) }); n != 0 || !ok || got != s {
			t.Errorf("interned(%q) = %q, %v with %v allocations", s, got, ok, n)
		}
		if got := flagString(b); got != s {
			t.Errorf("flagString(%q) = %q", s, got)
		}
	}
	for _, s := range []string{"", `\seen`, `\Seen `, "$Label1", "header", `\`} {
		if got, ok := interned([]byte(s)); ok {
			t.Errorf("interned(%q) = %q, true", s, got)
		}
		if got := flagString([]byte(s)); got != s {
			t.Errorf("flagString(%q) = %q", s, got)
		}
	}
}
