package commands_test

import (
	"sync"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestMoveFallbackSameUIDValidityRepeated: a server that repeats the
// selected mailbox's UIDVALIDITY, unchanged, in an untagged OK (here in
// the answer to the fallback's UID COPY; RFC 9051 section 2.3.1.1 does not
// forbid sending it again, and the same value says the UIDs still name the
// same messages) changes nothing: the session counts only a value that
// differs from the last one read for the mailbox (its SELECT's answer's),
// so Move's fallback runs to its UID EXPUNGE, no duplicate left.
func TestMoveFallbackSameUIDValidityRepeated(t *testing.T) {
	var mu sync.Mutex
	var expunges []string
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS", on: handlers{
		"SELECT":     answer("* 3 EXISTS", "* OK [UIDVALIDITY 5] ok"),
		"UID SEARCH": answer("* SEARCH 1 2 3"),
		"UID COPY": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines("* OK [UIDVALIDITY 5] UIDs valid", cmd.Tag+" OK [COPYUID 7 1:3 10:12] copied")
		},
		"UID STORE":   answer(),
		"UID EXPUNGE": record(&mu, &expunges, func(a string) string { return a }),
	}})
	_, err := c.Move(ctx, commands.UIDs(1, 2, 3), "Dst")
	if err != nil {
		t.Errorf("Move with the source's UIDVALIDITY repeated unchanged (5, as selected) = %v; want the fallback to run to the end", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(expunges) != 1 {
		t.Errorf("UID EXPUNGEs sent: %q; want one", expunges)
	}
}
