package commands_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestCopyUIDNamesUIDsNotCopied: a UID COPY (or UID MOVE) of 1:2 answered
// [COPYUID 7 5:6 10:11], whose source set names UIDs the command never
// sent. Copy and Move return it as the mapping, with no error: DstOf(5)
// = 10, though 5 was never copied, and Unmapped empty, which says every
// message copied is in Src, so UIDs 1 and 2, copied (or moved out of the
// mailbox), read as not copied. It must be a typed error, or a result
// that maps nothing the command was not asked to copy.
func TestCopyUIDNamesUIDsNotCopied(t *testing.T) {
	for _, c0 := range []struct {
		name, caps, cmd string
		answer          func(c *hostile.Conn, cmd *hostile.Command) error
		move            bool
	}{
		{"UID COPY", "IMAP4rev1 UIDPLUS", "UID COPY", func(c *hostile.Conn, cmd *hostile.Command) error {
			return c.Reply(cmd.Tag, "OK [COPYUID 7 5:6 10:11] done")
		}, false},
		{"UID MOVE", "IMAP4rev1 UIDPLUS MOVE", "UID MOVE",
			answer("* OK [COPYUID 7 5:6 10:11] moved", "* 1 EXPUNGE", "* 1 EXPUNGE"), true},
	} {
		t.Run(c0.name, func(t *testing.T) {
			ctx, c := fakeClient(t, fakeServer{caps: c0.caps, on: handlers{c0.cmd: c0.answer}})
			var res *commands.CopyResult
			var err error
			if c0.move {
				res, err = c.Move(ctx, commands.UIDs(1, 2), "Archive")
			} else {
				res, err = c.Copy(ctx, commands.UIDs(1, 2), "Archive")
			}
			if err != nil || res == nil {
				return // refused, or no mapping claimed: right
			}
			if d, ok := res.DstOf(5); ok {
				t.Errorf("%s 1:2: result maps UID 5 (never sent) to %d; Src %s, Unmapped %q", c0.cmd, d, res.Src.String(), res.Unmapped.String())
			}
			if _, ok := res.DstOf(1); !ok && !res.Unmapped.Contains(1) {
				t.Errorf("%s 1:2: UID 1, copied, is neither mapped nor in Unmapped (Src %s)", c0.cmd, res.Src.String())
			}
		})
	}
}

// TestMoveFallbackCopyUIDOfOtherUIDs: Move on a server with UIDPLUS and no
// MOVE: UID SEARCH finds 1 and 2, UID COPY 1:2 is answered [COPYUID 7 5:6
// 10:11]. The fallback removes only what the COPYUID names of 1:2
// (copied): nothing, so no STORE and no UID EXPUNGE are sent, and Move
// returns the result with no error. The caller is told the move is done;
// messages 1 and 2 are still in the source (and copied: in both), and
// the result maps 5 and 6, never named. It must be an error (the
// *MoveIncompleteError the fallback has for a move not finished, or a
// typed error for the broken COPYUID).
func TestMoveFallbackCopyUIDOfOtherUIDs(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS",
		each: func(cmd *hostile.Command) {
			mu.Lock()
			sent = append(sent, cmd.Name)
			mu.Unlock()
		},
		on: handlers{
			"UID SEARCH": answer("* SEARCH 1 2"),
			"UID COPY": func(c *hostile.Conn, cmd *hostile.Command) error {
				return c.Reply(cmd.Tag, "OK [COPYUID 7 5:6 10:11] done")
			},
		}})
	res, err := c.Move(ctx, commands.UIDs(1, 2), "Archive")
	mu.Lock()
	defer mu.Unlock()
	removed := false
	for _, name := range sent {
		removed = removed || name == "UID EXPUNGE"
	}
	if err == nil && !removed {
		t.Errorf("Move 1:2 (fallback): no error, and no UID EXPUNGE sent (commands %q): the messages are left in the source; result Src %s", sent, res.Src.String())
	}
}

// TestStoreModifiedNamesUIDsNotAsked: a STORE (or UID STORE) 1:2
// UNCHANGEDSINCE 5 answered OK [MODIFIED 7]: message 7 was never part of
// the command. StoreResult.Modified holds it all the same, and a caller
// told "7 was not stored, it changed since" re-fetches it and applies its
// change again to message 7, which it never meant to touch.
func TestStoreModifiedNamesUIDsNotAsked(t *testing.T) {
	for _, c0 := range []struct {
		cmd string
		set commands.Set
	}{
		{"UID STORE", commands.UIDs(1, 2)},
		{"STORE", commands.SeqNums(1, 2)},
	} {
		t.Run(c0.cmd, func(t *testing.T) {
			ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 CONDSTORE", exists: 3, on: handlers{
				c0.cmd: func(c *hostile.Conn, cmd *hostile.Command) error {
					return c.Reply(cmd.Tag, "OK [MODIFIED 7] done")
				},
			}})
			res, err := c.Store(ctx, c0.set, commands.AddFlags, []string{commands.FlagSeen},
				&commands.StoreOptions{UnchangedSince: 5, Silent: true})
			if err != nil {
				return // refused: right
			}
			if res.Modified.Nums.Contains(7) {
				t.Errorf("%s 1:2: Modified = %s, holding 7, never asked", c0.cmd, res.Modified.Nums.String())
			}
		})
	}
}

// TestFetchVanishedEarlierOutsideSet: UID FETCH 5:6 (CHANGEDSINCE 5
// VANISHED) answered "* VANISHED (EARLIER) 1:100": RFC 7162 section 3.2.6
// has the server report only the expunged UIDs of the set. The session
// routes it to the command because it overlaps the set, and Fetch hands
// OnVanished the whole 1:100: a sync that drops the UIDs it is given from
// its cache forgets 1:4 and 7:100, which it never asked about and which
// are still on the server. OnVanished must get only UIDs of the set (or
// the Fetch end with a typed error).
func TestFetchVanishedEarlierOutsideSet(t *testing.T) {
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1 ENABLE CONDSTORE QRESYNC", exists: 3, on: handlers{
		"ENABLE":    answer("* ENABLED QRESYNC"),
		"UID FETCH": answer(`* VANISHED (EARLIER) 1:100`, `* 3 FETCH (UID 6 FLAGS () MODSEQ (9))`),
	}}.serve)
	ctx := dvCtx(t)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var vanished codec.SeqSet
	items := &commands.FetchItems{Flags: true, ChangedSince: 5, Vanished: true,
		OnVanished: func(uids codec.SeqSet, _ bool) { vanished.AddRanges(uids.Ranges()...) }}
	for _, err := range c.Fetch(ctx, commands.UIDRange(5, 6), items) {
		if err != nil {
			return // refused: right
		}
	}
	if vanished.Contains(1) || vanished.Contains(100) {
		t.Errorf("UID FETCH 5:6 VANISHED: OnVanished got %s, UIDs outside the set", vanished.String())
	}
}

// TestFetchSeqExpungeInsideAnswer: FETCH 1:3 (FLAGS) answered "* 1 FETCH",
// "* 1 EXPUNGE", "* 1 FETCH", "* 2 FETCH": an EXPUNGE in the middle of a
// FETCH by sequence numbers, which RFC 9051 section 5.5 forbids. Fetch
// yields two messages numbered 1 (the old 1 and the old 2) and the old 3
// as 2, with no error: a caller pairing the numbers with those it asked
// for (a SEARCH's, just before) gives message 1 the flags of message 2.
// The split Fetch checks for a renumbering (ErrRenumbered) at a part's
// first response and, when it had none, at its end; nothing checks after
// the first response, and a set sent whole is not checked at all. It must
// end with an error (wrapping ErrRenumbered) once an EXPUNGE was read.
func TestFetchSeqExpungeInsideAnswer(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 3, on: handlers{
		"FETCH": answer(`* 1 FETCH (FLAGS (\Seen))`, `* 1 EXPUNGE`, `* 1 FETCH (FLAGS (\Flagged))`, `* 2 FETCH (FLAGS ())`),
	}})
	seen := map[uint32]int{}
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 3), &commands.FetchItems{Flags: true}) {
		if err != nil {
			return // the renumbering reported: right
		}
		if seen[m.SeqNum]++; seen[m.SeqNum] > 1 {
			t.Errorf("FETCH 1:3: message %d yielded twice (flags %v now), no error: an EXPUNGE inside the answer renumbered it", m.SeqNum, m.Flags)
		}
	}
}

// TestAppendManyUIDOrder: MULTIAPPEND answered [APPENDUID 7 5,4]: the
// first message got UID 5, the second 4 (RFC 4315: in the order of the
// messages). The result keeps that order. (Holds.)
func TestAppendManyUIDOrder(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS MULTIAPPEND LITERAL+", on: handlers{
		"APPEND": func(c *hostile.Conn, cmd *hostile.Command) error {
			for n := cmd.Literal; n >= 0; {
				if _, err := c.ReadLiteral(n); err != nil {
					return err
				}
				rest, err := c.ReadLine()
				if err != nil {
					return err
				}
				n = hostile.ParseCommand("x X " + rest).Literal
			}
			return c.Reply(cmd.Tag, "OK [APPENDUID 7 5,4] done")
		},
	}})
	msgs := []commands.AppendMessage{
		{R: strings.NewReader("Subject: a\r\n\r\na\r\n"), Size: 17},
		{R: strings.NewReader("Subject: b\r\n\r\nb\r\n"), Size: 17},
	}
	res, err := c.AppendMany(ctx, "INBOX", msgs)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, r := range res.UIDs.Ranges() {
		for v := r.Start; v <= r.Stop; v++ {
			got = append(got, v)
		}
	}
	if len(got) != 2 || got[0] != 5 || got[1] != 4 {
		t.Errorf("APPENDUID 7 5,4: UIDs %v; want [5 4], the messages' order", got)
	}
}
