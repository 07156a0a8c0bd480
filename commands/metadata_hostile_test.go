package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestGetMetadataLongEntriesOnlyFromItsCode: GETMETADATA answered with
// the entry and a tagged OK whose METADATA code is not LONGENTRIES
// ("[METADATA MAXSIZE 1024]", SETMETADATA's refusal code; "[METADATA
// TOOMANY]"). GetMetadata took the code's number, whatever its kind, as
// the size of the longest entry MAXSIZE left out: 1024 for an answer
// that left out nothing. Only [METADATA LONGENTRIES n] says so; the
// tagged OK's LONGENTRIES is still taken, in any case.
func TestGetMetadataLongEntriesOnlyFromItsCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		want uint64
	}{
		{"[METADATA MAXSIZE 1024]", 0},
		{"[METADATA TOOMANY]", 0},
		{"[METADATA LONGENTRIES 2048]", 2048},
		{"[metadata longentries 77]", 77},
	} {
		c := hostileClient(t, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1 METADATA")
			cmd, err := c.Until("GETMETADATA")
			if err != nil {
				return err
			}
			c.Lines(`* METADATA INBOX (/private/comment "y")`, cmd.Tag+" OK "+tc.code+" done")
			return c.Serve()
		})
		got, long, err := c.GetMetadata(resCtx(t), "INBOX", []string{"/private/comment"}, &commands.MetadataOptions{MaxSize: 4096})
		if err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if len(got) != 1 || string(got[0].Value) != "y" || long != tc.want {
			t.Errorf("GetMetadata answered OK %s = %+v, longEntries %d; want the entry \"y\", longEntries %d", tc.code, got, long, tc.want)
		}
	}
}
