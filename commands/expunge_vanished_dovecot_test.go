package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestExpungeVanishedQResyncDovecot: on Dovecot, with QRESYNC enabled,
// EXPUNGE and UID EXPUNGE are answered with VANISHED (RFC 7162 section
// 3.2.10), which ExpungeResult.Vanished collects (the check "QRESYNC
// enabled" made as each response is read keeps them); without it, the
// answer is EXPUNGE responses, in SeqNums. Defaults.
func TestExpungeVanishedQResyncDovecot(t *testing.T) {
	// Waits on Dovecot, in mailboxes of its own (dvMailbox).
	t.Parallel()
	for _, qresync := range []bool{true, false} {
		for _, uid := range []bool{true, false} {
			c := dvClient(t, testserver.Alice, nil)
			mb := dvMailbox(t, testserver.Alice, 6)
			ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
			if qresync {
				if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Select(ctx, mb, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Store(ctx, commands.UIDs(2, 4, 5), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
				t.Fatal(err)
			}
			var set *commands.Set
			if uid {
				set = uidSet(4, 5)
			}
			res, err := c.Expunge(ctx, set)
			if err != nil {
				t.Fatal(err)
			}
			want := map[[2]bool]string{{true, true}: "4:5", {true, false}: "2,4:5"}[[2]bool{qresync, uid}]
			if got := res.Vanished.String(); got != want {
				t.Errorf("QRESYNC %v, UID %v: Vanished %q (SeqNums %v); want %q", qresync, uid, got, res.SeqNums, want)
			}
			if !qresync && len(res.SeqNums) == 0 {
				t.Errorf("QRESYNC off, UID %v: no EXPUNGE responses", uid)
			}
			if n, _ := c.Session().Exists(); n != map[bool]uint32{true: 4, false: 3}[uid] {
				t.Errorf("QRESYNC %v, UID %v: Exists %d after", qresync, uid, n)
			}
		}
	}
}
