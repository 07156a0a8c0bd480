package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestSelectExistsCountsExpungeInAnswer: a SELECT answered "* 5 EXISTS",
// then "* 3 EXPUNGE" (another client's expunge, legal between any two
// responses but those of a FETCH, STORE or SEARCH: RFC 9051 section
// 7.5.1) before the tagged OK. The session follows it (Client.Exists is
// 4), but MailboxState.Exists kept the EXISTS alone: 5, a message that
// is not there (a Fetch of 5, or of Exists-1:Exists, names a message
// that does not exist). mailboxState should take the EXPUNGEs (and
// VANISHEDs not EARLIER) that follow the EXISTS from it, as
// Session.countLocked does.
func TestSelectExistsCountsExpungeInAnswer(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("SELECT")
		if err != nil {
			return err
		}
		if err := c.Lines("* 5 EXISTS", "* 3 EXPUNGE", "* OK [UIDVALIDITY 5] ok", cmd.Tag+" OK [READ-WRITE] done"); err != nil {
			return err
		}
		return c.Serve()
	})
	st, err := c.Select(resCtx(t), "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(); st.Exists != n {
		t.Errorf("Select: MailboxState.Exists = %d after \"* 5 EXISTS\" and \"* 3 EXPUNGE\"; the session counts %d", st.Exists, n)
	}
}

// TestSelectExistsFollowsSessionCount: MailboxState.Exists takes what the
// session's count takes of a SELECT's answer: a VANISHED (not EARLIER)
// after the EXISTS while QRESYNC is enabled (without it, a VANISHED a
// server must not send, neither), but not an EXPUNGE before it (the
// previous mailbox's, or one the count cannot hold), nor one of a message
// above the count.
func TestSelectExistsFollowsSessionCount(t *testing.T) {
	for _, qresync := range []bool{false, true} {
		for _, lines := range [][]string{
			{"* 5 EXISTS", "* VANISHED 7:8"},
			{"* 2 EXPUNGE", "* 5 EXISTS"},
			{"* 5 EXISTS", "* 9 EXPUNGE", "* 5 EXPUNGE"},
			{"* 5 EXISTS", "* VANISHED (EARLIER) 7:8"},
			{"* 2 EXISTS", "* VANISHED 1:5", "* 1 EXPUNGE"},
		} {
			c := hostileClient(t, func(c *hostile.Conn) error {
				c.PreAuth("IMAP4rev1 ENABLE QRESYNC")
				if qresync {
					cmd, err := c.Until("ENABLE")
					if err != nil {
						return err
					}
					if err := c.Lines("* ENABLED QRESYNC", cmd.Tag+" OK enabled"); err != nil {
						return err
					}
				}
				cmd, err := c.Until("SELECT")
				if err != nil {
					return err
				}
				if err := c.Lines(append(lines[:len(lines):len(lines)], cmd.Tag+" OK [READ-WRITE] done")...); err != nil {
					return err
				}
				return c.Serve()
			})
			if qresync {
				if _, err := c.Enable(resCtx(t), "QRESYNC"); err != nil {
					t.Fatal(err)
				}
			}
			st, err := c.Select(resCtx(t), "INBOX", nil)
			if err != nil {
				t.Fatal(err)
			}
			if n, known := c.Exists(); known && st.Exists != n {
				t.Errorf("QRESYNC %v, Select answered %q: MailboxState.Exists = %d; the session counts %d", qresync, lines, st.Exists, n)
			}
			if !qresync && (st.Exists != 5 && lines[1] == "* VANISHED 7:8" || !st.Vanished.IsEmpty()) {
				t.Errorf("QRESYNC off, Select answered %q: Exists %d, Vanished %q; want the VANISHED ignored", lines, st.Exists, st.Vanished.String())
			}
		}
	}
}

// TestSelectRecentBoundedByExists: a SELECT answered "* 10 RECENT" with
// "* 3 EXISTS" (a broken or hostile server: the recent messages are some
// of the mailbox's) gives MailboxState.Recent 3, not 10; and so does
// Client.Recent for a NOOP's "* 10 RECENT". Defaults.
func TestSelectRecentBoundedByExists(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("SELECT")
		if err != nil {
			return err
		}
		if err := c.Lines("* 10 RECENT", "* 3 EXISTS", "* OK [UIDVALIDITY 5] ok", cmd.Tag+" OK [READ-WRITE] done"); err != nil {
			return err
		}
		if cmd, err = c.Expect("NOOP"); err != nil {
			return err
		}
		if err := c.Lines("* 10 RECENT", cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	st, err := c.Select(resCtx(t), "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Recent != 3 || st.Exists != 3 {
		t.Errorf("Select: Recent %d, Exists %d; want 3, 3 (RECENT cut to EXISTS)", st.Recent, st.Exists)
	}
	rec, err := c.Recent(resCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 || rec[0] != 3 {
		t.Errorf("Recent after \"* 10 RECENT\" with 3 messages: %v; want [3]", rec)
	}
}
