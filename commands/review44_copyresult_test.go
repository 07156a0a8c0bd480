package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview44LCopyResultUnmapped: a copy or move sent in parts
// (SetMaxSetLength) reports the UIDs it copied without a mapping: those of
// a part that answered OK without a usable COPYUID ([UIDNOTSTICKY], one
// the codec drops), and those of earlier parts whose COPYUID a later
// part's new UIDVALIDITY made stale. CopyResult kept them in an
// unexported field that only Move's fallback read: a caller (imapkit cp,
// a sync keeping a UID map) could not tell copied-but-unmapped messages
// from messages not copied at all. They are now CopyResult.Unmapped, never
// in Src, so never paired. A MOVE (the server has MOVE) reports them too:
// a part moved with no COPYUID, untagged or tagged.
func TestReview44LCopyResultUnmapped(t *testing.T) {
	for _, c := range []struct {
		name     string
		caps     string
		second   string // the second part's answer: the untagged lines, then the tagged OK
		move     bool
		src, dst string
		unmapped string
	}{
		{"COPY, second part UIDNOTSTICKY", "UIDPLUS", "OK [UIDNOTSTICKY] done", false, "1:2", "10:11", "4"},
		{"COPY, second part COPYUID dropped", "UIDPLUS", "OK [COPYUID 0 4 20] done", false, "1:2", "10:11", "4"},
		{"COPY, second part new UIDVALIDITY", "UIDPLUS", "OK [COPYUID 8 4 20] done", false, "4", "20", "1:2"},
		{"COPY, every part mapped", "UIDPLUS", "OK [COPYUID 7 4 12] done", false, "1:2,4", "10:12", ""},
		{"MOVE, second part without COPYUID", "MOVE UIDPLUS", "* 3 EXPUNGE|OK done", true, "1:2", "10:11", "4"},
		{"MOVE, second part COPYUID untagged", "MOVE UIDPLUS", "* OK [COPYUID 7 4 12] moved|* 3 EXPUNGE|OK done", true, "1:2,4", "10:12", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := hostileClient(t, func(hc *hostile.Conn) error {
				hc.PreAuth("IMAP4rev1 LITERAL+ " + c.caps)
				for {
					cmd, err := hc.ReadCommand()
					if err != nil {
						return err
					}
					switch {
					case (cmd.Name == "UID COPY" || cmd.Name == "UID MOVE") && strings.HasPrefix(cmd.Args, "1:2 "):
						if cmd.Name == "UID MOVE" {
							if err = hc.Lines("* OK [COPYUID 7 1:2 10:11] moved", "* 1 EXPUNGE", "* 1 EXPUNGE"); err != nil {
								return err
							}
						}
						if err == nil {
							text := "OK [COPYUID 7 1:2 10:11] done"
							if cmd.Name == "UID MOVE" {
								text = "OK done"
							}
							err = hc.Reply(cmd.Tag, text)
						}
					case cmd.Name == "UID COPY" || cmd.Name == "UID MOVE":
						lines := strings.Split(c.second, "|")
						for _, l := range lines[:len(lines)-1] {
							if err = hc.Line(l); err != nil {
								return err
							}
						}
						err = hc.Reply(cmd.Tag, lines[len(lines)-1])
					default:
						err = hc.Answer(cmd)
					}
					if err != nil {
						return err
					}
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := cl.Select(ctx, "INBOX", nil); err != nil {
				t.Fatal(err)
			}
			cl.SetMaxSetLength(3) // two parts: 1:2 and 4
			var res *commands.CopyResult
			var err error
			if c.move {
				res, err = cl.Move(ctx, commands.UIDs(1, 2, 4), "Dst")
			} else {
				res, err = cl.Copy(ctx, commands.UIDs(1, 2, 4), "Dst")
			}
			if err != nil || res == nil {
				t.Fatalf("%v, %v; want a result", res, err)
			}
			if res.Src.String() != c.src || res.Dst.String() != c.dst {
				t.Errorf("Src %s, Dst %s; want %s, %s", res.Src, res.Dst, c.src, c.dst)
			}
			if got := res.Unmapped.String(); got != c.unmapped {
				t.Errorf("Unmapped %q; want %q (copied, no mapping)", got, c.unmapped)
			}
			for src := range res.Pairs() {
				if res.Unmapped.Contains(src) {
					t.Errorf("Pairs yields %d, which Unmapped holds", src)
				}
			}
		})
	}
}
