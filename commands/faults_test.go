package commands_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

func TestUTF8Accept(t *testing.T) {
	c, ctx := scripted(t, "utf8/accept")
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, "Grüße", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.AppendBytes(ctx, "Grüße", []byte("Subject: é\r\n\r\nhi"), &commands.AppendOptions{Flags: []string{`\Seen`}})
	if err != nil || res.UID != 1 || res.UIDValidity != 7 {
		t.Fatalf("APPEND: %v %+v", err, res)
	}
	if _, err := c.Select(ctx, "Grüße", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Search(ctx, &commands.Criteria{Subject: []string{"é"}}, &commands.SearchOptions{Charset: "ISO-8859-1"}); err == nil {
		t.Fatal("SEARCH with a CHARSET after UTF8=ACCEPT: no error")
	}
	sr, err := c.Search(ctx, &commands.Criteria{Subject: []string{"é"}}, nil)
	if err != nil || sr.All.String() != "1" {
		t.Fatalf("SEARCH: %v %+v", err, sr)
	}
	l, err := c.List(ctx, "G*", nil)
	if err != nil || len(l) != 1 || l[0].Name != "Grüße" {
		t.Fatalf("LIST: %v %+v", err, l)
	}
}

func TestProxyAuth(t *testing.T) {
	c, ctx := scripted(t, "misc/proxyauth")
	if err := c.Login(ctx, "admin", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := c.ProxyAuth(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	ns, err := c.Namespace(ctx)
	if err != nil || len(ns.Other) != 1 || ns.Other[0].Prefix != "Other Users/" || ns.Shared != nil {
		t.Fatalf("NAMESPACE: %v %+v", err, ns)
	}
}

func TestMoveFallback(t *testing.T) {
	c, ctx := scripted(t, "move/fallback")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	cp, err := c.Move(ctx, commands.SeqRange(2, 3), "Archive")
	if err != nil || cp.Dst.String() != "100:101" {
		t.Fatalf("Move: %v %+v", err, cp)
	}
	_, err = c.Move(ctx, commands.UIDs(14), "Nope")
	if !errors.Is(err, session.ErrNo) {
		t.Fatalf("Move with a refused COPY: %v", err)
	}
	var mi *commands.MoveIncompleteError
	cp, err = c.Move(ctx, commands.UIDs(15), "Archive")
	if !errors.As(err, &mi) || mi.Copy == nil || cp.Dst.String() != "102" || !errors.Is(err, session.ErrNo) {
		t.Fatalf("Move with a refused STORE: %v", err)
	}
	// 15:*: the UIDs there are asked for, and of those copied only what
	// the COPYUID names is removed; 16, not named, is left in the
	// source, and the move is not reported done.
	cp, err = c.Move(ctx, commands.UIDRange(15, 0), "Archive")
	if !errors.As(err, &mi) || !errors.Is(err, commands.ErrNotAllCopied) || mi.Left.Nums.String() != "16" ||
		mi.Removed.Nums.String() != "15" || !mi.Deleted.IsEmpty() || cp.Src.String() != "15" || cp.Dst.String() != "103" {
		t.Fatalf("Move of 15:*: %v %+v", err, cp)
	}
	// Nothing there: nothing sent after the search, an empty result.
	cp, err = c.Move(ctx, commands.UIDRange(40, 0), "Archive")
	if err != nil || cp == nil || !cp.Src.IsEmpty() {
		t.Fatalf("Move of nothing: %v %+v", err, cp)
	}
}

// TestMoveRefused runs in a testing/synctest bubble, where the
// script's QUIET is exact: on the wall clock a line sent early could be
// missed (the player kept off the CPU past the QUIET's deadline, which
// fails the pipe's Read with the line waiting), and the test pass with
// the fault.
func TestMoveRefused(t *testing.T) { synctest.Test(t, testMoveRefused) }

func testMoveRefused(t *testing.T) {
	c, ctx := scripted(t, "move/refuse")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(ctx, commands.UIDs(1), "Archive"); !errors.Is(err, commands.ErrMoveUnsupported) {
		t.Fatalf("Move without MOVE and UIDPLUS: %v", err)
	}
}

// TestFetchFaults replays the same answers twice: with the default
// string limit every body comes whole with its FETCH response; with a
// limit of 2 bytes the literal bodies are streamed, and the attributes
// sent after a streamed body come once it is done.
func TestFetchFaults(t *testing.T) {
	t.Run("inline", func(t *testing.T) { testFetchFaults(t, nil, false) })
	t.Run("streamed", func(t *testing.T) {
		testFetchFaults(t, &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 2}}, true)
	})
}

func testFetchFaults(t *testing.T, opts *session.Options, streamed bool) {
	c, ctx := scriptedOpts(t, "fetch/faults", opts)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 4), &commands.FetchItems{Sections: []commands.FetchSection{{}}, BufferMax: -1}) {
		if err != nil {
			t.Fatal(err)
		}
		uidBefore := m.UID
		s, err := m.NextSection()
		if err != nil {
			t.Fatalf("message %d: %v", m.SeqNum, err)
		}
		if m.SeqNum == 4 {
			// Skipped: drained when the loop moves on.
			got = append(got, "skipped")
			continue
		}
		b, _ := io.ReadAll(s)
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("message %d: second section: %v", m.SeqNum, err)
		}
		got = append(got, string(b))
		switch m.SeqNum {
		case 1:
			if !s.Nil || m.UID != 1 {
				t.Errorf("NIL body: %+v uid %d", s, m.UID)
			}
		case 3:
			// UID and FLAGS came after the body: known at once for a
			// body that comes whole, after it for a streamed one.
			want := uint32(3)
			if streamed {
				want = 0
			}
			if uidBefore != want || m.UID != 3 || !slices.Equal(m.Flags, []string{`\Seen`}) {
				t.Errorf("late attributes: before %d, after %d %v", uidBefore, m.UID, m.Flags)
			}
		}
	}
	if !slices.Equal(got, []string{"", "abc", "xyz", "skipped"}) {
		t.Fatalf("bodies %q", got)
	}
	_, err := c.FetchAll(ctx, commands.SeqNums(1), &commands.FetchItems{Flags: true})
	var se *session.StatusError
	if !errors.As(err, &se) || se.Status.Code.Kind != codec.CodeServerBug {
		t.Fatalf("FETCH NO: %v", err)
	}
	n := 0
	var last error
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{{}}}) {
		if err != nil {
			last = err
			break
		}
		n++
		s, _ := m.NextSection()
		if b, _ := io.ReadAll(s); !bytes.Equal(b, []byte("hello")) {
			t.Errorf("body %q", b)
		}
	}
	if n != 1 || !errors.Is(last, session.ErrBye) {
		t.Fatalf("BYE in the middle: %d messages, %v", n, last)
	}
}

func TestIdleFaults(t *testing.T) {
	c, ctx := scripted(t, "idle/refused")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Idle(ctx, nil, func(codec.Response) bool { return true }); !errors.Is(err, session.ErrNo) {
		t.Fatalf("refused IDLE: %v", err)
	}
	var events []string
	err := c.Idle(ctx, nil, func(r codec.Response) bool {
		events = append(events, codec.ResponseName(r))
		return codec.ResponseName(r) != "OK"
	})
	if err != nil || !slices.Equal(events, []string{"EXISTS", "EXPUNGE", "FETCH", "OK"}) {
		t.Fatalf("IDLE: %v %v", err, events)
	}
	err = c.Idle(ctx, nil, func(codec.Response) bool { return true })
	if !errors.Is(err, session.ErrBye) && !errors.Is(err, session.ErrAborted) {
		t.Fatalf("IDLE ended by BYE: %v", err)
	}
}

// TestFetchSlowBody: a Fetch loop whose body takes longer in all than the
// session's CommandTimeout runs to its end when the server answers at
// once: the bound counts only the time the loop waits for the server
// (see session.Options.CommandTimeout). With the defaults
// (DefaultCommandTimeout, 15 minutes), in a testing/synctest bubble: the
// loop's sleeps and the bound run on the bubble's clock, exact however
// loaded the machine (it ran a 200 ms bound on the wall clock, where a
// loaded machine could hold the script's answer past it).
func TestFetchSlowBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const bound = session.DefaultCommandTimeout
		c, ctx := scripted(t, "fetch/slow-body")
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatal(err)
		}
		start, n := time.Now(), 0
		for m, err := range c.Fetch(context.Background(), commands.SeqRange(1, 4), &commands.FetchItems{Sections: []commands.FetchSection{{}}, BufferMax: -1}) {
			if err != nil {
				t.Fatalf("message %d, after %v: %v", n+1, time.Since(start), err)
			}
			if sec, err := m.NextSection(); err != nil {
				t.Fatal(err)
			} else if _, err := io.Copy(io.Discard, sec); err != nil {
				t.Fatal(err)
			}
			n++
			time.Sleep(bound / 2)
		}
		if d := time.Since(start); n != 4 || d != 2*bound {
			t.Fatalf("%d messages in %v; want 4 in %v", n, d, 2*bound)
		}
	})
}

// TestMoveFallbackSplitIncomplete replays move/fallback_split: the
// removal after a copy that stopped part-way fails; the error is a
// *MoveIncompleteError that still says what was copied (*SplitError).
func TestMoveFallbackSplitIncomplete(t *testing.T) {
	c, ctx := scripted(t, "move/fallback_split")
	c.SetMaxSetLength(5)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Move(ctx, commands.UIDs(1, 3, 5, 7, 9), "Nope")
	var mi *commands.MoveIncompleteError
	var split *commands.SplitError
	if !errors.As(err, &mi) || !errors.As(err, &split) || split.Done.String() != "UID 1,3,5" || !errors.Is(err, session.ErrNo) {
		t.Fatalf("removal refused after a partial copy: %v", err)
	}
}
