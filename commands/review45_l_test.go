package commands_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// appendAnswer reads an APPEND's literals (one or, MULTIAPPEND, several,
// each announced at the end of the line before it; the client uses
// LITERAL+) and answers "OK "+code.
func appendAnswer(code string) func(hc *hostile.Conn, cmd *hostile.Command) error {
	return func(hc *hostile.Conn, cmd *hostile.Command) error {
		n := cmd.Literal
		for n >= 0 {
			if _, err := hc.ReadLiteral(n); err != nil {
				return err
			}
			line, err := hc.ReadLine()
			if err != nil {
				return err
			}
			n = hostile.ParseCommand("x X " + line).Literal
		}
		return hc.Reply(cmd.Tag, "OK "+code+" done")
	}
}

// TestReview45LAppendUIDCount: the APPENDUID of an APPEND of one message
// names one UID. Append (and Replace, AppendCatenate: appendResult) took
// the first UID of whatever set came, so "[APPENDUID 7 12:14]" (or
// "12,12") reported UID 12 as the message's, broken or hostile input
// taken as a fact. AppendMany returned any set, of any count, as the
// UIDs of its messages "in order". Such a code now counts as none, as a
// code the codec drops: Append returns UIDValidity 0 and UID 0, AppendMany
// an empty result; the right count is kept.
func TestReview45LAppendUIDCount(t *testing.T) {
	for _, c := range []struct {
		code    string
		uid     uint32 // the single Append's; 0: none
		manyOK  bool   // AppendMany of two messages keeps it
		manySet string // its UIDs in order
	}{
		{"[APPENDUID 7 12]", 12, false, ""},
		{"[APPENDUID 7 12:14]", 0, false, ""},
		{"[APPENDUID 7 12:13]", 0, true, "12,13"},
		{"[APPENDUID 7 12,12]", 0, false, ""},
		{"[APPENDUID 7 13,12]", 0, true, "13,12"},
		{"[APPENDUID 7 12:13,13]", 0, false, ""},
		{"[APPENDUID 7 12,14,16]", 0, false, ""},
	} {
		ctx, c2 := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+ MULTIAPPEND", on: handlers{
			"APPEND": appendAnswer(c.code),
		}})
		ar, err := c2.Append(ctx, "Dst", strings.NewReader("x\r\n"), 3, nil)
		if err != nil {
			t.Fatalf("%s: Append: %v", c.code, err)
		}
		wantV := uint32(0)
		if c.uid != 0 {
			wantV = 7
		}
		if ar.UID != c.uid || ar.UIDValidity != wantV {
			t.Errorf("Append with %s: UIDValidity %d, UID %d; want %d, %d", c.code, ar.UIDValidity, ar.UID, wantV, c.uid)
		}
		mr, err := c2.AppendMany(ctx, "Dst", []commands.AppendMessage{
			{R: strings.NewReader("x\r\n"), Size: 3},
			{R: strings.NewReader("y\r\n"), Size: 3},
		})
		if err != nil {
			t.Fatalf("%s: AppendMany: %v", c.code, err)
		}
		if c.manyOK {
			var got []string
			for u := range mr.UIDs.All {
				got = append(got, strconv.FormatUint(uint64(u), 10))
			}
			if mr.UIDValidity != 7 || strings.Join(got, ",") != c.manySet {
				t.Errorf("AppendMany with %s: %d %v; want 7 %s", c.code, mr.UIDValidity, mr.UIDs, c.manySet)
			}
		} else if mr.UIDValidity != 0 || !mr.UIDs.IsEmpty() {
			t.Errorf("AppendMany of two with %s: %d %v; want none", c.code, mr.UIDValidity, mr.UIDs)
		}
	}
}

// TestReview45LFetchZero: "* 0 FETCH" and "* 0 EXPUNGE" name no message
// (RFC 3501 and 9051: nz-number). The codec refuses them (since f858ae2,
// TestReview41ANumberZero) with a *codec.DecodeError and the stream in
// step; through the session and commands: the FETCH they came in fails
// with that error rather than return a message 0 (which a SeqSet reads as
// "*"), the EXPUNGE of 0 renumbers nothing (the count stays), and the
// next command runs. A guard, not a fix: this was already so.
func TestReview45LFetchZero(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", on: handlers{
		"FETCH": answer("* 0 FETCH (UID 9 FLAGS (\\Seen))", "* 1 FETCH (UID 5 FLAGS ())", "* 0 EXPUNGE"),
		"NOOP":  answer("* 2 FETCH (FLAGS ())"),
	}})
	n0, known := c.Session().Exists()
	msgs, err := c.FetchAll(ctx, commands.SeqNums(1), &commands.FetchItems{UID: true, Flags: true})
	var de *codec.DecodeError
	if !errors.As(err, &de) {
		t.Errorf("FetchAll: %d messages, %v; want a *codec.DecodeError", len(msgs), err)
	}
	for _, m := range msgs {
		if m.SeqNum == 0 || m.UID == 9 {
			t.Errorf("FetchAll returned message %d (UID %d)", m.SeqNum, m.UID)
		}
	}
	if n, k := c.Session().Exists(); n != n0 || k != known {
		t.Errorf("after * 0 EXPUNGE the count is %d (%v); want %d (%v)", n, k, n0, known)
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("the next command: %v", err)
	}
}
