package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestMoveUntaggedCopyUID replays MOVE answered with COPYUID in an
// untagged OK (RFC 6851 section 4.3), bare and before the expunges: it is
// the MOVE's result.
func TestMoveUntaggedCopyUID(t *testing.T) {
	c, ctx := scripted(t, "move/copyuid_untagged")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mv, err := c.Move(ctx, commands.UIDs(5, 6), "Archive")
	if err != nil || mv == nil || mv.UIDValidity != 9 || mv.Src.String() != "5:6" || mv.Dst.String() != "3:4" {
		t.Fatalf("UID MOVE: %v %+v", err, mv)
	}
	mv, err = c.Move(ctx, commands.SeqNums(1), "Archive")
	if err != nil || mv == nil || mv.Src.String() != "1" || mv.Dst.String() != "5" {
		t.Fatalf("MOVE: %v %+v", err, mv)
	}
	mv, err = c.Move(ctx, commands.SeqNums(1), "Archive")
	if err != nil || mv != nil {
		t.Fatalf("MOVE without COPYUID: %v %+v", err, mv)
	}
}

// TestCopyUIDPairs: a long set moved in parts, each part's COPYUID naming
// its source UIDs in descending order: Pairs and DstOf pair each source
// UID with the destination UID the server gave it, across the parts.
// Joining the parts' sets sorted each on its own and paired them wrongly
// (1 -> 105 became 1 -> 100). Found by the Move/Copy audit in stop 32.
func TestCopyUIDPairs(t *testing.T) {
	want := map[uint32]uint32{}
	next := uint32(100)
	c, ctx, sent := selectedServer(t, "IMAP4rev1 MOVE UIDPLUS", 20, func(cmd string) string {
		set, ok := strings.CutPrefix(cmd, "UID MOVE ")
		if !ok {
			return ""
		}
		set, _, _ = strings.Cut(set, " ")
		var src []string
		var uids []uint32
		for _, f := range strings.Split(set, ",") {
			n, _ := strconv.Atoi(f)
			uids = append(uids, uint32(n))
		}
		slices.Reverse(uids)
		first := next
		for _, u := range uids {
			want[u] = next
			src = append(src, strconv.Itoa(int(u)))
			next++
		}
		return fmt.Sprintf("* OK [COPYUID 7 %s %d:%d] moved\r\n", strings.Join(src, ","), first, next-1)
	})
	c.SetMaxSetLength(8)
	mv, err := c.Move(ctx, commands.UIDs(1, 3, 5, 7, 9, 11), "Archive")
	if err != nil || !mv.Valid() {
		t.Fatalf("UID MOVE: %v %+v", err, mv)
	}
	parts := 0
	for _, l := range sent() {
		if strings.HasPrefix(l, "UID MOVE ") {
			parts++
		}
	}
	if len(want) != 6 || next != 106 || parts < 2 {
		t.Fatalf("the server moved %d messages in %d commands; want 6 in parts", len(want), parts)
	}
	got := map[uint32]uint32{}
	for src, dst := range mv.Pairs() {
		got[src] = dst
	}
	if !maps.Equal(got, want) {
		t.Errorf("Pairs: %v; want %v", got, want)
	}
	for src, dst := range want {
		if d, ok := mv.DstOf(src); !ok || d != dst {
			t.Errorf("DstOf(%d) = %d, %v; want %d", src, d, ok, dst)
		}
	}
	if _, ok := mv.DstOf(2); ok {
		t.Error("DstOf of a UID not moved found one")
	}
}

// TestCopyResultValid: Pairs and DstOf pair only sets a server could
// mean: the same number of UIDs, none twice, no "*"; a wider destination
// range, or one short, pairs nothing.
func TestCopyResultValid(t *testing.T) {
	set := func(s string) codec.SeqSet {
		t.Helper()
		v, err := codec.ParseSeqSet([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		src, dst string
		pairs    string // "src>dst ..." or "" when not Valid
	}{
		{"3,1,2", "10:12", "3>10 1>11 2>12"},
		{"1:3", "12,10,11", "1>12 2>10 3>11"},
		{"4:5,1", "7,8:9", "4>7 5>8 1>9"},
		{"1:3", "10:11", ""},
		{"1:3", "10:13", ""},
		{"1:3,2", "10:13", ""},
		{"1:3", "10,11,10", ""},
		{"1:*", "10:12", ""},
		{"4294967294:4294967295", "1:2", "4294967294>1 4294967295>2"},
	} {
		r := &commands.CopyResult{UIDValidity: 1, Src: set(c.src), Dst: set(c.dst)}
		var got []string
		for s, d := range r.Pairs() {
			got = append(got, fmt.Sprintf("%d>%d", s, d))
			if dd, ok := r.DstOf(s); !ok || dd != d {
				t.Errorf("%s %s: DstOf(%d) = %d, %v; want %d", c.src, c.dst, s, dd, ok, d)
			}
		}
		if g := strings.Join(got, " "); g != c.pairs || r.Valid() != (c.pairs != "") {
			t.Errorf("%s %s: Pairs %q, Valid %v; want %q", c.src, c.dst, g, r.Valid(), c.pairs)
		}
		if c.pairs == "" {
			if _, ok := r.DstOf(1); ok {
				t.Errorf("%s %s: DstOf found a pair", c.src, c.dst)
			}
		}
	}
	var none *commands.CopyResult
	if none.Valid() {
		t.Error("a nil CopyResult is Valid")
	}
	for range none.Pairs() {
		t.Error("a nil CopyResult yields pairs")
	}
}

// TestMoveSeqSplitStaleAfterNoop: Move of a set of sequence numbers too
// long for one command first turns them into UIDs (UID SEARCH of the set,
// in parts), "as the fallback does", so that each part's MOVE cannot
// renumber the rest. The UID SEARCH parts carry sequence numbers, but
// the session did not treat UID SEARCH as a command that uses them, and
// the check between parts was made before the part was queued: a NOOP
// another goroutine ran on the Client reported an EXPUNGE made by another
// mail client, the later parts were resolved with the new numbers, and
// Move moved UID 4, never named, out of the mailbox and returned no
// error. A UID SEARCH of sequence numbers has SEARCH's pipelining rules
// now, and its parts the session's check.
func TestMoveSeqSplitStaleAfterNoop(t *testing.T) {
	mbox := dvMailbox(t, "alice", 8)
	dest := dvMailbox(t, "alice", 0)
	ctx := dvCtx(t)
	a, zc := delayClient(t, "alice", "UID SEARCH")
	zc.rtrigger, zc.rgot = []byte("OK Search completed"), make(chan struct{})
	a.SetMaxSetLength(1)
	if _, err := a.Select(ctx, mbox, nil); err != nil {
		t.Fatal(err)
	}
	dvExpungeElsewhere(t, mbox, 2)

	zc.on.Store(true)
	noop := make(chan error, 1)
	go func() {
		// The answer to the first UID SEARCH part is here, not yet read
		// by the session: a keep-alive NOOP goes out now, as one would
		// on a link with a round trip of a few ms.
		<-zc.rgot
		noop <- a.Noop(ctx)
	}()
	cp, err := a.Move(ctx, commands.SeqNums(1, 3), dest)
	if nerr := <-noop; nerr != nil {
		t.Fatal(nerr)
	}
	zc.on.Store(false)
	left := dvUIDsIn(t, mbox)
	t.Logf("Move: err=%v cp=%+v; UIDs left in the source: %v", err, cp, left)
	// Seq 1,3 were UIDs 1,3 at the call: UID 4 must stay (whatever else
	// Move did or refused).
	if !slices.Contains(left, 4) {
		t.Errorf("UID 4 was moved out of the source though the caller named seq 1,3 (UIDs 1,3 at the call); err = %v", err)
	}
}

// TestMoveFallbackDeletedReported: Move's fallback (a server without
// MOVE; Dovecot with MOVE hidden) stores \Deleted on the copied messages,
// then its UID EXPUNGE fails (here the server answers BAD). The
// *MoveIncompleteError says "messages copied but not removed from the
// source" and its doc "the messages are in both mailboxes", but not that
// the source messages are left flagged \Deleted: the next EXPUNGE or
// CLOSE by any client (or "imapkit expunge URL MAILBOX") removes them,
// and a caller that retries Move copies them twice. The error says which
// now (MoveIncompleteError.Deleted).
func TestMoveFallbackDeletedReported(t *testing.T) {
	mbox := dvMailbox(t, "alice", 5)
	dest := dvMailbox(t, "alice", 0)
	ctx := dvCtx(t)
	a, _ := delayClientWith(t, "alice", "\x00", func(zc *delayConn) {
		zc.noMove = true
		zc.beforeWrite = map[string]func([]byte) []byte{
			// The server refuses the UID EXPUNGE (as one would for lack of
			// the expunge right, or a broken connection after the STORE).
			"UID EXPUNGE": func(p []byte) []byte { return bytes.Replace(p, []byte("UID EXPUNGE "), []byte("UID EXPUNGE x"), 1) },
		}
	})
	if a.Session().HasCap("MOVE") {
		t.Fatal("MOVE not hidden")
	}
	if _, err := a.Select(ctx, mbox, nil); err != nil {
		t.Fatal(err)
	}
	_, err := a.Move(ctx, commands.UIDs(2), dest)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("Move: %v; want a *MoveIncompleteError", err)
	}
	flagged := dvFlagged(t, mbox, `\Deleted`)
	t.Logf("Move: %v; source UIDs flagged \\Deleted now: %v", err, flagged)
	if slices.Contains(flagged, 2) && (!strings.Contains(err.Error(), `\Deleted`) || !mi.Deleted.Nums.Contains(2)) {
		t.Errorf("UID 2 is left flagged \\Deleted in the source, and the error does not say so: %q, Deleted %v", err, mi.Deleted)
	}
}

// TestMoveFallbackDeletedUnanswered: Move's fallback (UIDPLUS, no
// MOVE) of UIDs 1 and 3 with a set limit that sends one UID per command:
// the two UID STORE +FLAGS.SILENT (\Deleted) parts are pipelined, the
// first answered OK, then the connection is lost with the second sent
// and unanswered. A *SplitError took split.Done alone, so UID 3, whose
// STORE reached the server, was not named in MoveIncompleteError.Deleted
// (the next EXPUNGE by any client may remove it). Every UID is named now
// when an answer was not had.
func TestMoveFallbackDeletedUnanswered(t *testing.T) {
	c := hostileClientOpts(t, nil, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		var stores []*hostile.Command
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "UID SEARCH":
				n := cmd.Args[strings.LastIndexByte(cmd.Args, ' ')+1:]
				if err := c.Lines("* SEARCH "+n, cmd.Tag+" OK done"); err != nil {
					return err
				}
			case "UID COPY":
				n, _, _ := strings.Cut(cmd.Args, " ")
				if err := c.Line(cmd.Tag + " OK [COPYUID 7 " + n + " 1" + n + "] done"); err != nil {
					return err
				}
			case "UID STORE":
				if stores = append(stores, cmd); len(stores) == 2 {
					if err := c.Line(stores[0].Tag + " OK done"); err != nil {
						return err
					}
					return c.Close()
				}
			default:
				if err := c.Answer(cmd); err != nil {
					return err
				}
			}
		}
	})
	c.SetMaxSetLength(1)
	ctx := resCtx(t)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Move(ctx, commands.UIDs(1, 3), "dest")
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("Move: %v; want a *MoveIncompleteError", err)
	}
	if !mi.Deleted.Nums.Contains(1) || !mi.Deleted.Nums.Contains(3) {
		t.Fatalf("Deleted = %v (error %q); want 1 and 3: the STORE of UID 3 was sent, its answer never had", mi.Deleted, err)
	}
}

// TestMoveIncompleteKeepsCopySplitError: Move's fallback whose UID COPY
// went in two pipelined parts, the first copied (COPYUID) and the second
// lost with the connection (BYE), then whose STORE was not sent (the
// session had ended). Move's doc: "a *MoveIncompleteError when they fail,
// which keeps the copy's *SplitError when it stopped part-way". The
// SplitError is the only place that says that UID 5 may have been copied
// too (Unknown): MoveIncompleteError.Unknown is false (the STORE was not
// sent) and Copy names UIDs 1,3 only. partlyDone (replace.go) rebuilds
// the chain from the STORE's *NotSentError alone, dropping the copy's
// *SplitError that incomplete() wrapped beside it.
func TestMoveIncompleteKeepsCopySplitError(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 UIDPLUS", func(cmd rawCmd) string {
		raw := string(cmd.Raw)
		switch {
		case strings.Contains(raw, " SELECT "):
			return "* 5 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, "UID SEARCH"):
			i := strings.LastIndex(raw, "UID ")
			set := strings.TrimSpace(raw[i+4:])
			return "* SEARCH " + strings.ReplaceAll(set, ",", " ") + "\r\n" + cmd.Tag + " OK done\r\n"
		case strings.Contains(raw, "UID COPY 1,3 "):
			return cmd.Tag + " OK [COPYUID 7 1,3 11:12] done\r\n"
		case strings.Contains(raw, "UID COPY"):
			return "* BYE going away\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "src", nil); err != nil {
		t.Fatal(err)
	}
	c.SetMaxSetLength(3) // "1,3" fits, "1,3,5" does not
	_, err := c.Move(ctx, commands.UIDs(1, 3, 5), "dst")
	t.Logf("Move: %v", err)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Skipf("not a MoveIncompleteError: %v", err)
	}
	if errors.Is(err, session.ErrNotSent) {
		t.Fatalf("matches ErrNotSent: %v", err)
	}
	var split *commands.SplitError
	if !errors.As(err, &split) {
		t.Fatalf("the *MoveIncompleteError (Unknown=%v, Copy.Src=%v) does not keep the copy's *SplitError (errors.As fails), though Move's doc says it does: the caller cannot learn that UID 5 may have been copied too (SplitError.Unknown); in the chain of mi.Err: %v", mi.Unknown, mi.Copy.Src, errors.As(mi.Err, &split))
	}
	if !split.Unknown {
		t.Fatalf("SplitError.Unknown is false: %+v", split)
	}
}

// TestMoveFallbackExpungeAnswerLost: Move's fallback (a server without
// MOVE: the relay hides it from Dovecot) sends UID EXPUNGE, the server
// expunges, and the connection dies before the answer comes (the server
// killed, or the link lost, at that moment). Move returns a
// *MoveIncompleteError that says "messages copied but not removed from
// the source ... left flagged \Deleted in the source: UID 1:5", whose doc
// says "the messages are in both mailboxes"; but they are in the
// destination only. A caller that trusts it and rolls the move back by
// expunging the copies loses the mail. An answer that never came is
// unknown, and should be said so (as session's doc has it: any error of a
// command that was started means it may have run).
func TestMoveFallbackExpungeAnswerLost(t *testing.T) {
	src := dvMailbox(t, testserver.Alice, 5)
	dst := dvMailbox(t, testserver.Alice, 0)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	r.Update(func(h *faultrelay.Hooks) {
		h.Rewrite = append(h.Rewrite, [2]string{" MOVE", " XMOV"})
	})
	c := relayClient(t, r)
	if c.Session().HasCap("MOVE") || !c.Session().HasCap("UIDPLUS") {
		t.Fatal("the relay did not hide MOVE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			if bytes.Contains(p, []byte(" EXPUNGE")) { // the UID EXPUNGE's answer
				return "cut"
			}
			return ""
		}
	})
	_, err := c.Move(ctx, commands.UIDRange(1, 0), dst)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("Move: %v; want a *MoveIncompleteError", err)
	}
	time.Sleep(300 * time.Millisecond)
	c2 := dvClient(t, testserver.Alice, nil)
	sst, err2 := c2.Status(ctx, src, commands.StatusMessages)
	dst2, err3 := c2.Status(ctx, dst, commands.StatusMessages)
	if err2 != nil || err3 != nil {
		t.Fatal(err2, err3)
	}
	t.Logf("source %d, destination %d messages; Move said: %v", sst.Messages, dst2.Messages, err)
	if sst.Messages == 0 && strings.Contains(err.Error(), "not removed from the source") && !strings.Contains(err.Error(), "may") {
		t.Fatalf("the move was done (source empty, destination %d), but the error says %q: an unknown outcome reported as not done", dst2.Messages, err)
	}
}

// TestMoveSplitExpungePartlyDone: Move's fallback whose long UID EXPUNGE
// went in two parts, the first done (the server expunged UID 1, OK), the
// second refused (NO [INUSE]): the MoveIncompleteError says "messages
// copied but not removed from the source", Unknown false, and lists UID 1
// as "left flagged \Deleted in the source", while UID 1 is gone from the
// source. By its doc ("the messages are in both mailboxes, unless
// Unknown"), a caller that rolls the move back by expunging the copies
// (UID 101 in Archive) loses message 1 for good: the mistake 750e28c and
// 060e93a fixed for a lost answer, left for a part that succeeded.
func TestMoveSplitExpungePartlyDone(t *testing.T) {
	answer := func(c rawCmd) string {
		switch {
		case bytes.Contains(c.Raw, []byte(" SELECT ")):
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n" + c.Tag + " OK [READ-WRITE] ok\r\n"
		case bytes.Contains(c.Raw, []byte(" UID SEARCH ")):
			return "* SEARCH 1 3\r\n" + c.Tag + " OK done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID COPY 1 ")):
			return c.Tag + " OK [COPYUID 9 1 101] done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID COPY 3 ")):
			return c.Tag + " OK [COPYUID 9 3 103] done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID EXPUNGE 1")):
			return "* 1 EXPUNGE\r\n" + c.Tag + " OK expunged\r\n"
		case bytes.Contains(c.Raw, []byte(" UID EXPUNGE 3")):
			return c.Tag + " NO [INUSE] try again\r\n"
		}
		return c.Tag + " OK done\r\n"
	}
	c, ctx, _ := rawClient(t, "IMAP4rev1 UIDPLUS", answer)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	c.SetMaxSetLength(1) // parts "1" and "3"
	_, err := c.Move(ctx, commands.UIDs(1, 3), "Archive")
	t.Logf("Move: %v", err)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("want a *MoveIncompleteError, got %v", err)
	}
	if !mi.Unknown && mi.Deleted.Nums.Contains(1) {
		t.Errorf("UID 1 was expunged (its UID EXPUNGE part said OK), yet the error says it is left in the source: Unknown=%v Expunged=%v Deleted=%v: %q", mi.Unknown, mi.Expunged, mi.Deleted.Nums.String(), mi.Error())
	}
	if !mi.Unknown && strings.Contains(mi.Error(), "not removed from the source") {
		t.Errorf("the error says the messages were not removed from the source, yet UID 1 was: %q", mi.Error())
	}
}

// holdAndSelect freezes the relay at the first server chunk holding
// marker, then has c select other (on another goroutine) and waits until
// the SELECT is queued in the session or went out, then thaws. It returns a channel with
// the Select's error.
func holdAndSelect(t *testing.T, r *faultrelay.Relay, c *commands.Client, marker, other string) <-chan error {
	held := make(chan struct{})
	done := false
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			if !done && bytes.Contains(p, []byte(marker)) {
				done = true
				close(held)
				return "freeze"
			}
			return ""
		}
	})
	selErr := make(chan error, 1)
	go func() {
		select {
		case <-held:
		case <-time.After(20 * time.Second):
			selErr <- errors.New("marker never seen")
			return
		}
		sent, _ := r.Sent()
		before := bytes.Count(sent, []byte(" SELECT "))
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := c.Select(ctx, other, nil)
			selErr <- err
		}()
		// The SELECT waits in the session's queue (or went out) before
		// the relay thaws (a hang detector: hangBound).
		for deadline := time.Now().Add(hangBound); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			sent, _ := r.Sent()
			if bytes.Count(sent, []byte(" SELECT ")) > before || parked("commands.(*Client).Select", "session.(*Session).start(") {
				break
			}
		}
		r.Thaw()
	}()
	return selErr
}

// TestMoveFallbackIncompleteNotErrNotSent: Move's fallback (the relay hides
// MOVE from Dovecot: UID COPY, STORE +FLAGS \Deleted, UID EXPUNGE) whose
// UID EXPUNGE is not sent (another goroutine selected another mailbox
// after the STORE; in the soak the connection died between the two)
// returns a *MoveIncompleteError that matches session.ErrNotSent: by
// docs/errors.md "safe to retry, whatever the command". But the messages
// were copied: a caller retrying on ErrNotSent copies them twice.
func TestMoveFallbackIncompleteNotErrNotSent(t *testing.T) {
	// Parallel: it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	src := dvMailbox(t, testserver.Alice, 3)
	dst := dvMailbox(t, testserver.Alice, 0)
	other := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	r.Update(func(h *faultrelay.Hooks) {
		h.Rewrite = append(h.Rewrite, [2]string{" MOVE", " XMOV"})
	})
	c := relayClient(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	selErr := holdAndSelect(t, r, c, "Store completed", other)
	_, err := c.Move(ctx, commands.UIDRange(1, 3), dst)
	t.Logf("Move: %v; Select: %v", err, <-selErr)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Skipf("the interleaving did not happen: %v", err)
	}
	c2 := dvClient(t, testserver.Alice, nil)
	st, err2 := c2.Status(ctx, dst, commands.StatusMessages)
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Logf("destination holds %d messages; Unknown=%v", st.Messages, mi.Unknown)
	if errors.Is(err, session.ErrNotSent) && st.Messages > 0 {
		t.Fatalf("Move returned an error matching session.ErrNotSent (\"safe to retry, whatever the command\"), but it copied %d messages to the destination (and flagged them \\Deleted in the source): a retry copies them twice", st.Messages)
	}
}

// TestSplitPartDoneNotErrNotSent: a command on a set of sequence
// numbers too long for one command goes in parts, one after the other; a
// SELECT of another mailbox between two parts stops the rest. The
// *SplitError says the first part was done (Done), yet it matched
// session.ErrNotSent (it wraps the next part's *NotSentError): a caller
// retrying on ErrNotSent repeats the first part. It was a Copy; a Copy of
// sequence numbers too long for one command now goes by UID (its parts
// pipelined, no SELECT can come between them), so a Store (its parts
// still of sequence numbers, one after the other) stands for it: the
// SplitError is the same for every split command.
func TestSplitPartDoneNotErrNotSent(t *testing.T) {
	// Parallel: it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	src := dvMailbox(t, testserver.Alice, 6)
	other := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	c.SetMaxSetLength(3) // "1,3" fits; sequence numbers 1,3,5 go as parts
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	selErr := holdAndSelect(t, r, c, "Store completed", other)
	_, err := c.Store(ctx, commands.SeqNums(1, 3, 5), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
	t.Logf("Store: %v; Select: %v", err, <-selErr)
	var se *commands.SplitError
	if !errors.As(err, &se) {
		t.Skipf("the interleaving did not happen: %v", err)
	}
	c2 := dvClient(t, testserver.Alice, nil)
	if _, err := c2.Examine(ctx, src); err != nil {
		t.Fatal(err)
	}
	ms, err2 := c2.FetchAll(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Flags: true})
	if err2 != nil {
		t.Fatal(err2)
	}
	flagged := 0
	for _, m := range ms {
		if slices.Contains(m.Flags, `\Flagged`) {
			flagged++
		}
	}
	t.Logf("source holds %d messages flagged; Done %v", flagged, se.Done)
	if errors.Is(err, session.ErrNotSent) && flagged > 0 {
		t.Fatalf("Store returned an error matching session.ErrNotSent (\"safe to retry, whatever the command\"), but it flagged %d messages (Done %v): a retry repeats the first part", flagged, se.Done)
	}
}

// TestMoveSplitExpungeRefusedThenLost: 750e28c's MoveIncompleteError.Unknown
// says whether the failing command's answer was had. Move's fallback sends a
// long UID EXPUNGE in pipelined parts (splitRun.run); the first part's
// error is the one returned, and when it is a refusal (NO) answerLost
// says "known" although a later part was sent and its answer was lost
// (here the caller's context ended while it waited for it): that part ran
// (the server expunged its message and said OK, too late), yet the error
// says "messages copied but not removed from the source", Unknown false.
// That is the mistake 750e28c fixed for one command: a caller that rolls
// the move back by expunging the copies loses the messages of the part
// that ran. Same in removeMoved's STORE (refused first part, later part
// lost: Deleted misses its UIDs, Unknown false).
func TestMoveSplitExpungeRefusedThenLost(t *testing.T) {
	// In a testing/synctest bubble: the 0.7 s context and the server's
	// 1.5 s answer are on the bubble's clock, which moves only when every
	// goroutine waits, so the second part is sent, and its answer lost,
	// however loaded the machine. On the wall clock a machine slower
	// than 0.7 s to reach the second part ended the Move before it (the
	// test skipped, or failed without a *MoveIncompleteError).
	synctest.Test(t, testMoveSplitExpungeRefusedThenLost)
}

func testMoveSplitExpungeRefusedThenLost(t *testing.T) {
	answer := func(c rawCmd) string {
		switch {
		case bytes.Contains(c.Raw, []byte(" SELECT ")):
			return "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n" + c.Tag + " OK [READ-WRITE] ok\r\n"
		case bytes.Contains(c.Raw, []byte(" UID SEARCH ")):
			return "* SEARCH 1 3\r\n" + c.Tag + " OK done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID COPY 1 ")):
			return c.Tag + " OK [COPYUID 9 1 101] done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID COPY 3 ")):
			return c.Tag + " OK [COPYUID 9 3 103] done\r\n"
		case bytes.Contains(c.Raw, []byte(" UID EXPUNGE 1")):
			return c.Tag + " NO [INUSE] try again\r\n"
		case bytes.Contains(c.Raw, []byte(" UID EXPUNGE 3")):
			// Runs: the message is expunged, and the answer comes
			// after the caller has gone.
			time.Sleep(1500 * time.Millisecond)
			return "* 2 EXPUNGE\r\n" + c.Tag + " OK expunged\r\n"
		}
		return c.Tag + " OK done\r\n"
	}
	c, ctx, f := rawClient(t, "IMAP4rev1 UIDPLUS", answer)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	// Parts of one UID each: "1" and "3".
	c.SetMaxSetLength(1)
	mctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	_, err := c.Move(mctx, commands.UIDs(1, 3), "Archive")
	time.Sleep(1200 * time.Millisecond) // the server's OK for UID EXPUNGE 3 comes
	var raws []string
	for _, cmd := range f.commands() {
		raws = append(raws, string(cmd.Raw))
	}
	t.Logf("server read: %q", raws)
	t.Logf("Move: %v", err)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("want a *MoveIncompleteError, got %v", err)
	}
	sent3 := false
	for _, r := range raws {
		if bytes.Contains([]byte(r), []byte(" UID EXPUNGE 3")) {
			sent3 = true
		}
	}
	if !sent3 {
		t.Skip("the second part was not sent: nothing to check")
	}
	if !mi.Unknown {
		t.Fatalf("UID EXPUNGE 3 was sent and its answer lost (it ran: the server expunged UID 3), yet MoveIncompleteError.Unknown is false (%q): the caller is told the messages are in both mailboxes", mi.Error())
	}
}

// TestCopyResultDstOfNoCopy: CopyResult.DstOf is documented O(r), but it
// calls Valid, whose count of distinct UIDs (SeqSet.Len) sorted a copy of
// any set not in canonical form: a COPYUID as servers send it, one UID
// after the other (1001,1002,1003: adjacent ranges are not canonical) or
// in descending order, made every DstOf allocate a copy of both sets and
// sort it, O(r log r). Sets in ascending or descending order are counted
// as they come now; DstOf does not allocate, and its answers are the same.
func TestCopyResultDstOfNoCopy(t *testing.T) {
	const n = 2000
	list := func(from, step int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(from + i*step))
		}
		return b.String()
	}
	parse := func(s string) codec.SeqSet {
		set, err := codec.ParseSeqSet([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	for _, c := range []struct {
		name     string
		src, dst string
		dstOf    func(src uint32) uint32
	}{
		{"ascending", list(1001, 1), list(5001, 1), func(src uint32) uint32 { return src + 4000 }},
		{"descending", list(1000+n, -1), list(5001, 1), func(src uint32) uint32 { return 5001 + (1000 + n - src) }},
	} {
		r := &commands.CopyResult{UIDValidity: 7, Src: parse(c.src), Dst: parse(c.dst)}
		if !r.Valid() {
			t.Fatalf("%s: Valid = false", c.name)
		}
		for _, src := range []uint32{1001, 1500, 1000 + n} {
			if got, ok := r.DstOf(src); !ok || got != c.dstOf(src) {
				t.Errorf("%s: DstOf(%d) = %d, %v; want %d", c.name, src, got, ok, c.dstOf(src))
			}
		}
		if a := testing.AllocsPerRun(20, func() { r.DstOf(1500) }); a != 0 {
			t.Errorf("%s: DstOf allocates %v times a call; want 0 (a sorted copy of the sets each call)", c.name, a)
		}
	}
	// Sets that are not valid stay so: a UID twice, in any order (and
	// 5,1,3: three UIDs for four destinations).
	for _, src := range []string{"1,2,3,2", "3,2,1,1", "1:3,2", "5,1,3"} {
		r := &commands.CopyResult{Src: parse(src), Dst: parse("10:13")}
		if r.Valid() {
			t.Errorf("Src %s, Dst 10:13: Valid = true; want false", src)
		}
	}
	if r := (&commands.CopyResult{Src: parse("5,1,3"), Dst: parse("12,10,11")}); !r.Valid() {
		t.Error("Src 5,1,3, Dst 12,10,11: Valid = false; want true")
	} else if got, ok := r.DstOf(3); !ok || got != 11 {
		t.Errorf("Src 5,1,3, Dst 12,10,11: DstOf(3) = %d, %v; want 11", got, ok)
	}
}

// TestMoveFallbackSplitBadCopyUID: Move on a server without
// MOVE (the UIDPLUS fallback), the set in two parts (SetMaxSetLength),
// the first part's COPYUID valid, the second's one the codec drops
// ([COPYUID 0 4 20], "*" in a set) or none at all ([UIDNOTSTICKY], RFC
// 4315 section 3). Both UID COPYs succeeded: every message was copied.
// The fallback removed only what the joined COPYUID names, so message 4
// was copied and left in the source, and Move returned nil. Every UID of
// a part that answered OK without a usable COPYUID must be removed.
func TestMoveFallbackSplitBadCopyUID(t *testing.T) {
	for _, bad := range []string{"[COPYUID 0 4 20]", "[COPYUID 7 4:* 20]", "[COPYUID 7 4 20:*]", "[UIDNOTSTICKY]"} {
		var mu sync.Mutex
		var stores []string
		ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+", on: handlers{
			"UID SEARCH": func(hc *hostile.Conn, cmd *hostile.Command) error {
				return hc.Lines("* SEARCH 1 2 4", cmd.Tag+" OK done")
			},
			"UID COPY":  copyUIDParts(bad),
			"UID STORE": record(&mu, &stores, func(args string) string { return args }),
		}})
		c.SetMaxSetLength(3) // two parts: 1:2 and 4
		res, err := c.Move(ctx, commands.UIDs(1, 2, 4), "Dst")
		mu.Lock()
		st := strings.Join(stores, " | ")
		mu.Unlock()
		removed4 := false
		for _, s := range stores {
			f := strings.Fields(s)
			if len(f) > 0 && (f[0] == "1:2,4" || f[0] == "1,2,4" || f[0] == "4" || strings.Contains(f[0], ",4") || f[0] == "1:4") {
				removed4 = true
			}
		}
		if err == nil && !removed4 {
			t.Errorf("%s: Move returned %+v, nil; the STOREs sent: %q: message 4 was copied (its UID COPY said OK) but not removed, and Move reports success", bad, res, st)
		}
		if err == nil {
			if _, ok := res.DstOf(4); ok {
				t.Errorf("%s: the result %+v maps UID 4, for which the server sent no usable COPYUID", bad, res)
			}
			if d, ok := res.DstOf(2); !ok || d != 11 {
				t.Errorf("%s: DstOf(2) = %d, %v; want 11 (the first part's COPYUID)", bad, d, ok)
			}
		}
	}
}

// TestMoveFallbackSplitPartsKept: the same fallback in three
// parts, the third refused (a *SplitError): the second part, copied
// without a COPYUID, is removed with the first; the third is not. A part
// whose COPYUID names only some of its UIDs (the server copied the
// others not, expunged meanwhile) has only those removed.
func TestMoveFallbackSplitPartsKept(t *testing.T) {
	var mu sync.Mutex
	var stores, expunges []string
	first := func(args string) string { return strings.Fields(args)[0] }
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+", on: handlers{
		"UID SEARCH": func(hc *hostile.Conn, cmd *hostile.Command) error {
			return hc.Lines("* SEARCH 1 2 4 6 8 9 11", cmd.Tag+" OK done")
		},
		"UID COPY": func(hc *hostile.Conn, cmd *hostile.Command) error {
			switch {
			case strings.HasPrefix(cmd.Args, "1:2,4 "):
				// 2 was expunged: only 1 and 4 copied.
				return hc.Reply(cmd.Tag, "OK [COPYUID 7 1,4 10:11] done")
			case strings.HasPrefix(cmd.Args, "6,8:9 "):
				return hc.Reply(cmd.Tag, "OK [UIDNOTSTICKY] done")
			}
			return hc.Reply(cmd.Tag, "NO [OVERQUOTA] full")
		},
		"UID STORE":   record(&mu, &stores, first),
		"UID EXPUNGE": record(&mu, &expunges, func(args string) string { return args }),
	}})
	c.SetMaxSetLength(5) // parts 1:2,4 and 6,8:9 and 11
	res, err := c.Move(ctx, commands.UIDs(1, 2, 4, 6, 8, 9, 11), "Dst")
	var split *commands.SplitError
	if !errors.As(err, &split) {
		t.Fatalf("Move: %+v, %v; want a *SplitError (the third part refused)", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The STORE and UID EXPUNGE are split too (the same limit).
	st, ex := strings.Join(stores, ","), strings.Join(expunges, ",")
	if want := "1,4,6,8:9"; st != want || ex != want {
		t.Errorf("STOREs %q, UID EXPUNGEs %q; want %q for both: 1 and 4 (the first part's COPYUID, 2 not copied) and the second part's 6,8:9 (OK without COPYUID), not 11 (refused)", st, ex, want)
	}
	if _, ok := res.DstOf(8); ok {
		t.Errorf("the result %+v maps UID 8, which had no COPYUID", res)
	}
}

// TestCopyAppendUIDCodesRefused: a COPYUID or APPENDUID whose
// uid-set holds "*" (RFC 4315 forbids it) or whose UIDVALIDITY is 0
// (an nz-number) was reported by Client.Copy, Move, Append and
// AppendMany as the server's answer: a CopyResult with UIDValidity 0
// (what "none given" is) or with "*" in Src or Dst; a later part's bogus
// COPYUID replaced the valid mapping of the parts before it (joinCopyUID
// takes a new UIDVALIDITY for a reset), and an APPEND's UID was taken
// from "12:*". The codec now drops such a code, as any code it cannot
// parse (the status's text keeps it): Copy returns the mapping of the
// parts whose COPYUID was valid, Append no UID.
func TestCopyAppendUIDCodesRefused(t *testing.T) {
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

// TestCopyResultUnmapped: a copy or move sent in parts
// (SetMaxSetLength) reports the UIDs it copied without a mapping: those of
// a part that answered OK without a usable COPYUID ([UIDNOTSTICKY], one
// the codec drops), and those of earlier parts whose COPYUID a later
// part's new UIDVALIDITY made stale. CopyResult kept them in an
// unexported field that only Move's fallback read: a caller (imapkit cp,
// a sync keeping a UID map) could not tell copied-but-unmapped messages
// from messages not copied at all. They are now CopyResult.Unmapped, never
// in Src, so never paired. A MOVE (the server has MOVE) reports them too:
// a part moved with no COPYUID, untagged or tagged.
func TestCopyResultUnmapped(t *testing.T) {
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
			first := []string{"OK [COPYUID 7 1:2 10:11] done"}
			if c.move {
				first = []string{"* OK [COPYUID 7 1:2 10:11] moved", "* 1 EXPUNGE", "* 1 EXPUNGE", "OK done"}
			}
			// Two parts: 1:2 and 4.
			res, err := copyInParts(t, c.caps, c.move, commands.UIDs(1, 2, 4), map[string][]string{
				"1:2": first,
				"4":   strings.Split(c.second, "|"),
			})
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

// TestCopySeqUnmapped: a Copy of sequence numbers sent in parts
// whose second part is answered OK without a COPYUID. CopyResult.Unmapped,
// documented as source UIDs never in Src, was filled with that part's
// sequence numbers and then had Src (UIDs) removed from it: message 4
// collided with UID 4 of Src and vanished, so Unmapped was empty ("every
// part's COPYUID was kept") though message 4 (UID 9) was copied with no
// mapping, and Move's fallback or a caller's Remove(res.Src) could act on
// a wrong number. Messages 1, 2 and 4 have UIDs 3, 4 and 9; the server
// answers a COPY by sequence numbers or by UID alike, so the test holds
// whichever the client sends: Unmapped must be exactly UID 9.
func TestCopySeqUnmapped(t *testing.T) {
	uidOf := map[string]string{"1": "3", "2": "4", "4": "9"}
	cl := hostileClient(t, func(hc *hostile.Conn) error {
		hc.PreAuth("IMAP4rev1 LITERAL+ UIDPLUS")
		for {
			cmd, err := hc.ReadCommand()
			if err != nil {
				return err
			}
			switch {
			case cmd.Name == "UID SEARCH":
				// The UIDs of the sequence numbers asked for.
				var uids []string
				for _, f := range strings.FieldsFunc(cmd.Args, func(r rune) bool { return r == ' ' || r == ',' || r == ':' }) {
					if u, ok := uidOf[f]; ok {
						uids = append(uids, u)
					}
				}
				err = hc.Lines("* SEARCH "+strings.Join(uids, " "), cmd.Tag+" OK done")
			case cmd.Name == "COPY" && strings.HasPrefix(cmd.Args, "1:2 "),
				cmd.Name == "UID COPY" && strings.HasPrefix(cmd.Args, "3:4 "):
				err = hc.Reply(cmd.Tag, "OK [COPYUID 7 3:4 10:11] done")
			case cmd.Name == "COPY" || cmd.Name == "UID COPY":
				err = hc.Reply(cmd.Tag, "OK done") // message 4 (UID 9), no COPYUID
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
	cl.SetMaxSetLength(3) // two parts: 1:2 and 4 (UIDs 3:4 and 9)
	res, err := cl.Copy(ctx, commands.SeqNums(1, 2, 4), "Dst")
	if err != nil || res == nil {
		t.Fatalf("%v, %v; want a result", res, err)
	}
	if res.Src.String() != "3:4" || res.Dst.String() != "10:11" {
		t.Fatalf("Src %s Dst %s; want 3:4 10:11", res.Src, res.Dst)
	}
	if res.Unmapped.String() != "9" {
		t.Errorf("Unmapped %q; want \"9\", the UID of message 4, copied without a mapping", res.Unmapped)
	}
	if err := cl.Noop(ctx); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
}

// TestMoveRefusedAfterMovingSome: a UID MOVE answered NO after it moved
// some messages (their COPYUID and EXPUNGEs first: RFC 6851 section 3.3
// lets a move fail part-way) returns a *PartlyMovedError with the
// mapping of those moved (and how many the EXPUNGEs said left), matching
// the NO and not session.ErrNotSent. Before, Move returned the NO alone,
// as if nothing had moved.
func TestMoveRefusedAfterMovingSome(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS MOVE", exists: 5, on: handlers{
		"UID MOVE": func(c *hostile.Conn, cmd *hostile.Command) error {
			return c.Lines("* OK [COPYUID 7 1:2 100:101] moved", "* 1 EXPUNGE", "* 1 EXPUNGE", cmd.Tag+" NO [OVERQUOTA] quota exceeded")
		},
	}})
	res, err := c.Move(ctx, commands.UIDRange(1, 4), "Archive")
	var pme *commands.PartlyMovedError
	if !errors.As(err, &pme) || pme.Removed != 2 || !errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrNotSent) {
		t.Fatalf("UID MOVE 1:4 refused after moving 1:2: %v; want a *PartlyMovedError (2 removed) matching session.ErrNo", err)
	}
	if res == nil || pme.Copy != res || res.Src.String() != "1:2" || res.Dst.String() != "100:101" {
		t.Errorf("UID MOVE 1:4 refused after moving 1:2: result %+v; want 1:2 mapped to 100:101", res)
	}
}

// TestMoveInPartsSomeMovedNothingUnmapped: a UID MOVE sent in two parts
// (SetMaxSetLength) with no COPYUID in either answer, the first part
// moving its messages (EXPUNGEs, OK), the second moving nothing (OK
// alone: its UID was not there). Move returns a result with no mapping
// whose Unmapped holds the first part's UIDs only, with a server with
// UIDPLUS or without. Before, it returned nil, which CopyResult's doc
// reads as every message of the set moved with no mapping: imapkit mv
// listed UID 4 as moved.
func TestMoveInPartsSomeMovedNothingUnmapped(t *testing.T) {
	for _, caps := range []string{"MOVE", "MOVE UIDPLUS"} {
		t.Run(caps, func(t *testing.T) {
			res, err := copyInParts(t, caps, true, commands.UIDs(1, 2, 4), map[string][]string{
				"1:2": {"* 1 EXPUNGE", "* 1 EXPUNGE", "OK done"},
				"4":   {"OK No messages found."},
			})
			if err != nil || res == nil || !res.Src.IsEmpty() || res.Unmapped.String() != "1:2" {
				t.Errorf("UID MOVE 1:2 (EXPUNGEs, OK) then UID MOVE 4 (OK alone): %+v, %v; want a result with no mapping, Unmapped 1:2", res, err)
			}
		})
	}
}

// TestMoveInPartsSomeMovedNothingThenRefused: a UID MOVE in three parts
// with no COPYUID, the first moving its messages (EXPUNGEs, OK), the
// second moving nothing (OK alone), the third refused (NO). Move returns
// the *SplitError with a result whose Unmapped holds the first part's
// UIDs only, as it does when every part is answered OK. Before, nil with
// the *SplitError, whose Done (1:2,40) CopyResult's doc reads as moved:
// UID 40 was not.
func TestMoveInPartsSomeMovedNothingThenRefused(t *testing.T) {
	res, err := copyInParts(t, "MOVE", true, commands.UIDs(1, 2, 40, 600), map[string][]string{
		"1:2": {"* 1 EXPUNGE", "* 1 EXPUNGE", "OK done"},
		"40":  {"OK No messages found."},
		"600": {"NO [OVERQUOTA] no room"},
	})
	var split *commands.SplitError
	if !errors.As(err, &split) || res == nil || !res.Src.IsEmpty() || res.Unmapped.String() != "1:2" {
		t.Errorf("UID MOVE 1:2 (EXPUNGEs, OK), UID MOVE 40 (OK alone), UID MOVE 600 (NO): %+v, %v; want a result with no mapping, Unmapped 1:2, and a *SplitError", res, err)
	}
}

// copyInParts copies (or, with move, moves) set from INBOX in parts of
// at most 3 bytes (SetMaxSetLength) on a server of caps, which answers
// the UID COPY or UID MOVE of a part with answers[part]: its untagged
// lines, then its tagged status (the last, without the tag).
func copyInParts(t *testing.T, caps string, move bool, set commands.Set, answers map[string][]string) (*commands.CopyResult, error) {
	t.Helper()
	part := func(hc *hostile.Conn, cmd *hostile.Command) error {
		p, _, _ := strings.Cut(cmd.Args, " ")
		a, ok := answers[p]
		if !ok {
			return hc.Answer(cmd)
		}
		lines := slices.Clone(a)
		lines[len(lines)-1] = cmd.Tag + " " + lines[len(lines)-1]
		return hc.Lines(lines...)
	}
	ctx, cl := fakeClient(t, fakeServer{caps: "IMAP4rev1 LITERAL+ " + caps, on: handlers{"UID COPY": part, "UID MOVE": part}})
	cl.SetMaxSetLength(3)
	if move {
		return cl.Move(ctx, set, "Dst")
	}
	return cl.Copy(ctx, set, "Dst")
}

// TestMoveNothingThereEmptyResult: a UID MOVE answered OK with neither a
// COPYUID nor an EXPUNGE or VANISHED moved nothing (its UIDs were not
// there: Dovecot's "OK No messages found."): Move returns an empty
// result, as for an empty set, with nothing in Unmapped. Before, it
// returned nil, which its doc reads as every message moved with no
// mapping, and a caller took UID 9 for moved.
func TestMoveNothingThereEmptyResult(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS MOVE", exists: 5, on: handlers{
		"UID MOVE": func(c *hostile.Conn, cmd *hostile.Command) error {
			return c.Lines(cmd.Tag + " OK No messages found.")
		},
	}})
	res, err := c.Move(ctx, commands.UIDs(9), "Archive")
	if err != nil || res == nil || !res.Src.IsEmpty() || !res.Unmapped.IsEmpty() {
		t.Errorf("UID MOVE 9 answered OK with nothing: %+v, %v; want an empty result", res, err)
	}
}

// TestMoveRefusedWithOthersExpungeNotPartly: a UID MOVE refused (NO) by a
// server with UIDPLUS, during which another client's EXPUNGE came (no
// COPYUID: nothing of it moved), is the NO alone, not a
// *PartlyMovedError: such a server names what a MOVE moved in its
// COPYUID.
func TestMoveRefusedWithOthersExpungeNotPartly(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS MOVE", exists: 5, on: handlers{
		"UID MOVE": func(c *hostile.Conn, cmd *hostile.Command) error {
			return c.Lines("* 5 EXPUNGE", cmd.Tag+" NO [OVERQUOTA] quota exceeded")
		},
	}})
	res, err := c.Move(ctx, commands.UIDRange(1, 2), "Archive")
	var pme *commands.PartlyMovedError
	if errors.As(err, &pme) || res != nil || !errors.Is(err, session.ErrNo) {
		t.Errorf("UID MOVE 1:2 refused, another's EXPUNGE beside: %+v, %v; want the NO alone", res, err)
	}
}

// TestMoveExpungeNotTakenByPollBeside: a server with MOVE and no UIDPLUS
// tells what a MOVE moved only by its EXPUNGEs. An Idle poll's NOOP (its
// Want takes every response) in flight before the UID MOVE, answered after
// it, must not take the MOVE's EXPUNGE: the session gives a Want's command
// only what no other command in flight takes by its rules, and commands
// that take EXPUNGE by their rules are never in flight together
// (session's untoldKinds). Taken, the MOVE answered OK with no EXPUNGE
// would read as "nothing moved" (the empty result) though UID 5 moved;
// kept, the result is nil: moved, with no COPYUID to map it.
// Move's doc said such a stolen EXPUNGE could happen: it cannot. Defaults.
func TestMoveExpungeNotTakenByPollBeside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		noopRead := make(chan struct{})
		c := hostileClient(t, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1 MOVE")
			noop, err := c.Until("NOOP")
			if err != nil {
				return err
			}
			close(noopRead)
			move, err := c.Expect("UID MOVE")
			if err != nil {
				return err
			}
			if err := c.Lines("* 3 EXPUNGE", noop.Tag+" OK NOOP done", move.Tag+" OK Move completed"); err != nil {
				return err
			}
			return c.Serve()
		})
		ctx := resCtx(t)
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		ictx, cancel := context.WithCancel(ctx)
		defer cancel()
		idled := make(chan error, 1)
		var events atomic.Int32
		go func() {
			idled <- c.Idle(ictx, &commands.IdleOptions{PollInterval: time.Hour}, func(codec.Response) bool {
				events.Add(1)
				return true
			})
		}()
		<-noopRead
		res, err := c.Move(ctx, commands.UIDs(5), "Archive")
		cancel()
		<-idled
		if err != nil || res != nil {
			t.Errorf("UID MOVE 5 (no UIDPLUS) answered \"* 3 EXPUNGE\" and OK, beside an Idle poll's NOOP (%d events): %+v, %v; want nil, nil (moved, no COPYUID), not the empty result",
				events.Load(), res, err)
		}
	})
}

// TestMoveCopyUIDFloodAgainstManyRanges: UID MOVE of every other UID from
// 2 to 2000 (1,000 ranges, one command line within the default set
// length) answered by a flood of untagged "* OK [COPYUID 7 2000 5]" (RFC
// 6851 sends one; a MOVE takes them without end, kept within
// MaxResultBytes). Each COPYUID's source set is checked against the
// ranges the part sent (withinSet: it was the source minus the sent set,
// codec.SeqSet.Remove, whose walk went through the sent ranges up to the
// source's: the sent ranges times the COPYUIDs (a million of them against
// 4,000 ranges, 8*10^9 steps; now a search in them for each range of
// the source). What the Move compares
// (workhook.RangesCompared) is bounded by a search a COPYUID plus a few
// steps a range sent. Defaults.
func TestMoveCopyUIDFloodAgainstManyRanges(t *testing.T) {
	const ranges, lines = 1000, 5000
	c, ctx := copyUIDFlood(t, lines)
	set := commands.Set{UID: true}
	for i := 1; i <= ranges; i++ {
		set.Nums.AddNum(uint32(2 * i))
	}
	compared := moveCompared(ctx, t, c, set, "")
	t.Logf("%d COPYUIDs against a UID MOVE of %d ranges: %d range comparisons", lines, ranges, compared)
	if limit := int64(lines*8*(bits.Len(ranges)+1) + 4*ranges); compared > limit {
		t.Errorf("%d untagged COPYUID 2000 against a UID MOVE of %d ranges: %d range comparisons; want at most %d", lines, ranges, compared, limit)
	}
}

// TestMoveCopyUIDFloodAgainstUnsortedSet: as
// TestMoveCopyUIDFloodAgainstManyRanges, with the caller's set of 1,000
// ranges in no order (a set built with Append, or parsed in the order a
// user wrote it), sent whole as one part. Each COPYUID's check against
// the part's set (withinSet, then by codec.SeqSet.Remove) sorted a copy
// of the set again, as Remove does for a set that is not canonical: the part's
// ranges sorted, and 8 bytes a range allocated, for each COPYUID of the
// flood. The Move allocates, a COPYUID, less than a copy of the set.
// Counts the bytes the whole process allocates (runtime.MemStats): serial.
func TestMoveCopyUIDFloodAgainstUnsortedSet(t *testing.T) {
	const ranges, lines = 1000, 5000
	c, ctx := copyUIDFlood(t, lines)
	set := commands.Set{UID: true}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(ranges) {
		set.Nums.Append(wire.SeqRange{Start: uint32(2*i + 2), Stop: uint32(2*i + 2)})
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	res, err := c.Move(ctx, set, "Trash")
	runtime.ReadMemStats(&ms)
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || !res.Src.Contains(2000) {
		t.Fatalf("Move: %+v; want the COPYUID of 2000 kept", res)
	}
	perLine := (ms.TotalAlloc - before) / lines
	t.Logf("%d COPYUIDs against a UID MOVE of %d unsorted ranges: %d bytes allocated a COPYUID", lines, ranges, perLine)
	if limit := uint64(8 * ranges); perLine >= limit {
		t.Errorf("%d untagged COPYUID 2000 against a UID MOVE of %d unsorted ranges: %d bytes allocated a COPYUID; want less than %d (a copy of the set's ranges)", lines, ranges, perLine, limit)
	}
}

// TestMoveCopyUIDFloodAgainstAppendedSet: as
// TestMoveCopyUIDFloodAgainstManyRanges, the caller's set of 1,000
// ranges built with Append (as joining the COPYUIDs of earlier commands
// does), in ascending order and in no order, sent whole as one part.
// Each COPYUID's check against the part's set (withinSet) takes the set
// canonical: the Move makes it so once (codec.SeqSet.Canonical: no copy
// for the set in order, known canonical as Append built it; one sorted
// copy for the other, its sort counted), not once a COPYUID, where the
// 5,000 COPYUIDs sorted the set in no order 5,000 times (about 5*10^7
// comparisons). What the Move compares (workhook.RangesCompared, the
// sorts and checks of order included) is bounded as for a set built by
// AddNum, plus one sort.
func TestMoveCopyUIDFloodAgainstAppendedSet(t *testing.T) {
	const ranges, lines = 1000, 5000
	for _, order := range []string{"ascending", "no order"} {
		c, ctx := copyUIDFlood(t, lines)
		set := commands.Set{UID: true}
		perm := rand.New(rand.NewPCG(1, 2)).Perm(ranges)
		if order == "ascending" {
			slices.Sort(perm)
		}
		for _, i := range perm {
			set.Nums.Append(wire.SeqRange{Start: uint32(2*i + 2), Stop: uint32(2*i + 2)})
		}
		compared := moveCompared(ctx, t, c, set, order+": ")
		t.Logf("%d COPYUIDs against a UID MOVE of %d ranges appended in %s: %d range comparisons", lines, ranges, order, compared)
		sort := ranges * (bits.Len(ranges) + 1) * 2
		if limit := int64(lines*8*(bits.Len(ranges)+1) + 4*ranges + sort); compared > limit {
			t.Errorf("%d untagged COPYUID 2000 against a UID MOVE of %d ranges appended in %s: %d range comparisons; want at most %d", lines, ranges, order, compared, limit)
		}
	}
}

// moveCompared moves set to Trash over c (a copyUIDFlood's) and returns
// the range comparisons the Move reported to workhook.RangesCompared,
// failing t (its messages after what) unless the COPYUID of 2000 is kept.
func moveCompared(ctx context.Context, t *testing.T, c *commands.Client, set commands.Set, what string) int64 {
	t.Helper()
	var n atomic.Int64
	restore := workhook.RangesCompared.Set(t, func(_, _, k int) { n.Add(int64(k)) })
	res, err := c.Move(ctx, set, "Trash")
	restore()
	if err != nil {
		t.Fatal(what, err)
	}
	if res == nil || !res.Src.Contains(2000) {
		t.Fatalf("%sMove: %+v; want the COPYUID of 2000 kept", what, res)
	}
	return n.Load()
}

// copyUIDFlood returns a Client with INBOX selected on a server that
// answers its UID MOVE with lines untagged "* OK [COPYUID 7 2000 5]"
// before the OK, and the context (a minute) for its commands.
func copyUIDFlood(t *testing.T, lines int) (*commands.Client, context.Context) {
	t.Helper()
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 MOVE UIDPLUS")
		cmd, err := c.Until("UID MOVE")
		if err != nil {
			return err
		}
		c.Copy(hostile.Repeat("* OK [COPYUID 7 2000 5] moved\r\n", int64(lines)))
		c.Reply(cmd.Tag, "OK done")
		return c.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

// TestMoveCancelledResultUnchangedAfterReturn: a UID MOVE cancelled while
// its untagged COPYUIDs (RFC 6851 section 4.3) are read returns a
// *PartlyMovedError whose Copy maps what moved so far. The session may
// be delivering one more COPYUID to the MOVE (its OnData) as the caller
// gives up: join then appended it to the result Move had returned, on the
// reader goroutine, while the caller read it (a data race; what the
// caller got changed after it returned). The Copy a caller gets is the
// same once the session has read the whole answer (a NOOP after it).
// Many rounds: the window is one response's delivery (without the fix, 1
// to 7 of the 200 rounds changed, plain or under -race, which also
// reports the race).
func TestMoveCancelledResultUnchangedAfterReturn(t *testing.T) {
	const rounds, before, after = 200, 64, 400
	changed, partly := 0, 0
	for round := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		c := hostileClient(t, moveCopyUIDs(before+after, func(k int) {
			if k == before {
				cancel() // the caller gives up amid the COPYUIDs
			}
		}))
		bg, stop := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.Select(bg, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		_, err := c.Move(ctx, commands.Set{UID: true, Nums: codec.SeqSetOf(wire.SeqRange{Start: 1, Stop: 100000})}, "Trash")
		var pm *commands.PartlyMovedError
		if errors.As(err, &pm) && pm.Copy != nil {
			partly++
			got := pm.Copy.Src.String()
			if err := c.Noop(bg); err != nil { // the MOVE's answer read whole
				t.Fatal(err)
			}
			if now := pm.Copy.Src.String(); now != got {
				changed++
				if changed == 1 {
					t.Errorf("round %d: a cancelled Move's Copy.Src was %s when it returned, %s after the rest of its answer was read; want it unchanged", round, got, now)
				}
			}
		}
		stop()
		cancel()
	}
	t.Logf("%d rounds, %d with a partly moved result, %d of them changed after Move returned", rounds, partly, changed)
	if partly == 0 {
		t.Errorf("no round returned a *PartlyMovedError with a Copy: the test checked nothing")
	}
}

// TestMoveCancelledMidDeliveryResultUnchanged is
// TestMoveCancelledResultUnchangedAfterReturn's interleaving forced: the
// caller's context ends while the session is handing the MOVE's second
// untagged COPYUID to its OnData, held there (in a testing/synctest
// bubble) until every other goroutine is durably blocked: a Move that
// returns without waiting for that delivery has returned by then. The
// session lets no OnData of a command run once its Wait has returned, so
// Move returns after the delivery, and its *PartlyMovedError's Copy maps
// the two COPYUIDs read before it returned, and still does once the rest
// of the answer was read.
func TestMoveCancelledMidDeliveryResultUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := hostileClient(t, moveCopyUIDs(3, func(int) {}))
		bg, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		if _, err := c.Select(bg, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		calls := 0
		commands.OnResultData(t, func() {
			if calls++; calls != 2 {
				return
			}
			cancel()        // the caller gives up as the second COPYUID is handed on
			synctest.Wait() // a Move that does not wait for the delivery has returned
		})
		_, err := c.Move(ctx, commands.Set{UID: true, Nums: codec.SeqSetOf(wire.SeqRange{Start: 1, Stop: 3})}, "Trash")
		var pm *commands.PartlyMovedError
		if !errors.As(err, &pm) || pm.Copy == nil {
			t.Fatalf("Move cancelled after one COPYUID: %v; want a *PartlyMovedError with a Copy", err)
		}
		got := pm.Copy.Src.String()
		if err := c.Noop(bg); err != nil { // the MOVE's answer read whole
			t.Fatal(err)
		}
		if now := pm.Copy.Src.String(); now != got || got != "1:2" {
			t.Errorf("a cancelled Move's Copy.Src was %s when it returned, %s after the rest of its answer was read; want 1:2 both times", got, now)
		}
	})
}

// moveCopyUIDs is a server with MOVE and UIDPLUS that answers a UID MOVE
// with n untagged COPYUIDs, k to 100000+k, calling atLine(k) before the
// k-th (from 1), then OK.
func moveCopyUIDs(n int, atLine func(k int)) hostile.Scenario {
	return func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 MOVE UIDPLUS")
		cmd, err := c.Until("UID MOVE")
		if err != nil {
			return err
		}
		for k := 1; k <= n; k++ {
			atLine(k)
			if err := c.Linef("* OK [COPYUID 7 %d %d] moved", k, 100000+k); err != nil {
				return err
			}
		}
		c.Reply(cmd.Tag, "OK done")
		return c.Serve()
	}
}
