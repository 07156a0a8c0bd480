package session

import "testing"

// TestMailboxNameParentAndInboxCase: the name comparisons of
// nameGoneLocked and listDelim. A leading INBOX is compared in any case
// alone or followed by the delimiter given, never another one ("inbox.x"
// and "INBOX.x" are two top-level mailboxes on a "/" server); with no
// delimiter known (0), no name is a parent and only INBOX alone folds.
func TestMailboxNameParentAndInboxCase(t *testing.T) {
	for _, tc := range []struct {
		parent, name  string
		d             byte
		same, isChild bool
	}{
		{"INBOX", "inbox", '/', true, false},
		{"inbox", "INBOX", 0, true, false},
		{"inbox/Sent", "INBOX/Sent", '/', true, false},
		{"inbox/Sent", "INBOX/Sent", 0, false, false},
		{"inbox.Sent", "INBOX.Sent", '/', false, false},
		{"Inbox/Sent", "INBOX/Sent/2024", '/', false, true},
		{"inbox", "INBOX/Sent", '/', false, true},
		{"P", "P/A", '/', false, true},
		{"P", "P.A", '/', false, false},
		{"P", "P/A", 0, false, false},
		{"P/", "P/A", '/', false, false},
		{"Arch", "Archive", '/', false, false},
		{"INBOXES", "inboxes", '/', false, false},
		{"p", "P/A", '/', false, false},
	} {
		same := len(tc.parent) == len(tc.name) && hasMailboxPrefix(tc.name, tc.parent, tc.d)
		child := isParentOf(tc.parent, tc.name, tc.d)
		if same != tc.same || child != tc.isChild {
			t.Errorf("%q and %q, delimiter %q: same %v, parent %v; want %v, %v", tc.parent, tc.name, tc.d, same, child, tc.same, tc.isChild)
		}
	}
}
