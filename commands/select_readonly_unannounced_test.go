package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestSelectReadOnlyUnannouncedKeepsReadOnly: a SELECT (writing asked)
// that the server opens [READ-ONLY] is a *ReadOnlyError (session.ErrReadOnly)
// with the state. When its answer also holds a FETCH for a message above
// its EXISTS, the session's Wait gives the *session.UnannouncedError
// instead (read.go complete: unannounced comes before READ-ONLY), and
// Select, returning the state with it (ca83543: `big != nil || un != nil`
// returns before the READ-ONLY check), loses the read-only refusal: a
// caller that asked to write and checks errors.Is(err, ErrReadOnly) is
// not told. Defaults.
func TestSelectReadOnlyUnannouncedKeepsReadOnly(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Expect("SELECT")
		if err != nil {
			return err
		}
		if err := c.Lines("* 3 EXISTS", "* OK [UIDVALIDITY 5] x", `* 7 FETCH (FLAGS (\Seen))`, cmd.Tag+" OK [READ-ONLY] done"); err != nil {
			return err
		}
		return c.Serve()
	})
	st, err := c.Select(resCtx(t), "INBOX", nil)
	if st == nil || !st.ReadOnly {
		t.Fatalf("Select answered [READ-ONLY] with a FETCH of 7 of 3: state %+v, %v; want the state, read-only", st, err)
	}
	if !errors.Is(err, session.ErrReadOnly) {
		t.Errorf("SELECT (writing asked) answered [READ-ONLY] with a FETCH of message 7 of 3: %v; want an error matching session.ErrReadOnly too (the mailbox cannot be written)", err)
	}
}
