package commands

import "testing"

// TestListedSame: a STATUS or MYRIGHTS of a LIST-STATUS answer is the
// listed mailbox's when it names it exactly, INBOX alone in any case, or
// with INBOX in another case at its head followed by the mailbox's own
// delimiter; not "inbox.x" for "INBOX.x" when the delimiter is "/".
func TestListedSame(t *testing.T) {
	for _, c := range []struct {
		name, delim, other string
		want               bool
	}{
		{"INBOX.x", "/", "INBOX.x", true},
		{"INBOX.x", "/", "inbox.x", false},
		{"INBOX", "/", "inbox", true},
		{"inbox", "", "INBOX", true},
		{"INBOX/x", "/", "inbox/x", true},
		{"INBOX.x", ".", "Inbox.x", true},
		{"INBOX.x", ".", "inbox.y", false},
		{"INBOXx", "x", "inboxx", false},
		{"INBOX/", "/", "inbox/", false},
		{"INBOX/x", "", "inbox/x", false},
		{"Other", "/", "other", false},
	} {
		m := &MailboxInfo{Name: c.name, Delim: c.delim}
		if got := listedSame(m, c.other); got != c.want {
			t.Errorf("listedSame(%q delim %q, %q) = %v; want %v", c.name, c.delim, c.other, got, c.want)
		}
	}
}

// TestWithinAsked: the entries of a GETMETADATA answer that are asked for
// or within the asked DEPTH of one (RFC 5464 section 4.2.2).
func TestWithinAsked(t *testing.T) {
	asked := []string{"/private/comment", "/shared/vendor"}
	for _, c := range []struct {
		name  string
		depth int
		want  bool
	}{
		{"/private/comment", 0, true},
		{"/PRIVATE/Comment", 0, true},
		{"/private/comment/a", 0, false},
		{"/private/comment/a", 1, true},
		{"/private/comment/a/b", 1, false},
		{"/private/comment/a/b", -1, true},
		{"/private/commentary", 1, false},
		{"/private/comment/", 1, false},
		{"/shared/vendor/x", 1, true},
		{"/shared/other", -1, false},
		{"/private", -1, false},
	} {
		if got := withinAsked(c.name, asked, c.depth); got != c.want {
			t.Errorf("withinAsked(%q, depth %d) = %v; want %v", c.name, c.depth, got, c.want)
		}
	}
}
