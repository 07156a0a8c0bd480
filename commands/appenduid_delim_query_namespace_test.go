package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestDelimiterQueryOfAnotherNamespaceTakesNoName: the delimiter query
// LIST "" "" answers for the reference "", the personal namespace (RFC
// 3501 section 6.3.8; here "/", as UW-IMAP's), while the selected mailbox
// is in another namespace with another delimiter (RFC 2342: "#news.",
// delimiter "."), whose names may hold "/" as an ordinary character:
// "#news.a/b". RENAME of "#news.a" (not its parent in a "." namespace)
// is taken, by the root's "/", as a RENAME of its parent: the name is
// taken as gone, and the stale APPENDUID 9 1 (the mailbox's UIDVALIDITY
// is 1) is kept unchecked instead of dropped. Defaults.
func TestDelimiterQueryOfAnotherNamespaceTakesNoName(t *testing.T) {
	fs := appendUIDServer()
	fs.on["LIST"] = func(hc *hostile.Conn, cmd *hostile.Command) error {
		if cmd.Args != `"" ""` {
			return hc.Reply(cmd.Tag, "BAD only the delimiter query here")
		}
		return hc.Lines(`* LIST (\Noselect) "/" ""`, cmd.Tag+" OK done")
	}
	ar := appendAfterParentRename(t, fs, "#news.a/b", "#news.a/b", "#news.a", func(c *commands.Client) error {
		_, err := c.List(dvCtx(t), "", nil)
		return err
	})
	if *ar != (commands.AppendResult{}) {
		t.Errorf("#news.a/b selected (a \".\" namespace), LIST \"\" \"\" answered the personal root's \"/\", RENAME #news.a, APPEND answered APPENDUID 9 1: result %+v; want the stale APPENDUID dropped (#news.a is no parent)", ar)
	}
}
