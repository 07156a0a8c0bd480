package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview43LCopyAppendUIDCodesRefused: a COPYUID or APPENDUID whose
// uid-set holds "*" (RFC 4315 forbids it) or whose UIDVALIDITY is 0
// (an nz-number) was reported by Client.Copy, Move, Append and
// AppendMany as the server's answer: a CopyResult with UIDValidity 0
// (what "none given" is) or with "*" in Src or Dst; a later part's bogus
// COPYUID replaced the valid mapping of the parts before it (joinCopyUID
// takes a new UIDVALIDITY for a reset), and an APPEND's UID was taken
// from "12:*". The codec now drops such a code, as any code it cannot
// parse (the status's text keeps it): Copy returns the mapping of the
// parts whose COPYUID was valid, Append no UID.
func TestReview43LCopyAppendUIDCodesRefused(t *testing.T) {
	for _, bad := range []string{"[COPYUID 0 4 20]", "[COPYUID 7 4:* 20]", "[COPYUID 7 4 20:*]"} {
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+", on: handlers{
			"UID COPY": copyUIDParts(bad),
			"APPEND": func(hc *hostile.Conn, cmd *hostile.Command) error {
				if _, err := hc.ReadLiteral(cmd.Literal); err != nil {
					return err
				}
				if _, err := hc.ReadLine(); err != nil {
					return err
				}
				return hc.Reply(cmd.Tag, "OK [APPENDUID 7 12:*] done")
			},
		}})
		c.SetMaxSetLength(3) // two parts: 1:2 and 4
		res, err := c.Copy(ctx, commands.UIDs(1, 2, 4), "Dst")
		if err != nil {
			t.Fatalf("%s: Copy: %v", bad, err)
		}
		if res == nil || res.UIDValidity != 7 || res.Src.String() != "1:2" || res.Dst.String() != "10:11" || !res.Valid() {
			t.Errorf("%s: Copy returned %+v; want the first part's valid mapping 7 1:2 10:11 only", bad, res)
		}
		if res != nil {
			for src, dst := range res.Pairs() {
				if src == 4 || dst == 0 || dst == 20 {
					t.Errorf("%s: Copy paired %d with %d", bad, src, dst)
				}
			}
		}
		ar, err := c.Append(ctx, "Dst", strings.NewReader("x\r\n"), 3, nil)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if ar.UID != 0 || ar.UIDValidity != 0 {
			t.Errorf("Append with [APPENDUID 7 12:*]: UIDValidity %d, UID %d; want none (0, 0)", ar.UIDValidity, ar.UID)
		}
	}
}
