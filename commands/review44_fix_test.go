package commands_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestReview44RStatusUIDValidityZero: servers do send UIDVALIDITY 0
// (WinWebMail 4.4, SmarterMail 13, Apache James before JAMES-3074) and
// UIDNEXT 0 (node-imap #549). 0f0d470 made a STATUS answer holding either
// a *codec.DecodeError, so Status failed, losing MESSAGES and the rest. The
// 0 item is now taken as not sent: Has false, its value 0 (unknown), the
// rest of the answer kept, the session in step.
func TestReview44RStatusUIDValidityZero(t *testing.T) {
	for _, c := range []struct {
		line          string
		zero          commands.StatusItem
		uidNext, uidV uint32
	}{
		{"* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 0)", commands.StatusUIDValidity, 4, 0},
		{"* STATUS INBOX (MESSAGES 3 UIDNEXT 0 UIDVALIDITY 9)", commands.StatusUIDNext, 0, 9},
	} {
		t.Run(c.line, func(t *testing.T) {
			cl := hostileClient(t, func(hc *hostile.Conn) error {
				hc.PreAuth("IMAP4rev1")
				for {
					cmd, err := hc.ReadCommand()
					if err != nil {
						return err
					}
					if cmd.Name == "STATUS" {
						err = hc.Lines(c.line, cmd.Tag+" OK done")
					} else {
						err = hc.Answer(cmd)
					}
					if err != nil {
						return err
					}
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := cl.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusUIDValidity)
			if err != nil {
				t.Fatalf("Status: %v; want MESSAGES 3 (the 0 item unknown)", err)
			}
			if st.Messages != 3 || st.UIDNext != c.uidNext || st.UIDValidity != c.uidV {
				t.Errorf("Messages %d UIDNext %d UIDValidity %d; want 3 %d %d", st.Messages, st.UIDNext, st.UIDValidity, c.uidNext, c.uidV)
			}
			if st.Has(c.zero) || !st.Has(commands.StatusMessages) {
				t.Errorf("Items %#x; want MESSAGES, not the item sent as 0 (%#x)", st.Items, c.zero)
			}
			if err := cl.Noop(ctx); err != nil {
				t.Fatalf("NOOP after: %v", err)
			}
		})
	}
}

// TestReview44RListStatusUIDValidityZero: the same through LIST-STATUS:
// one mailbox whose STATUS holds UIDVALIDITY 0 failed the STATUS
// response, and with it the whole ListIter.
func TestReview44RListStatusUIDValidityZero(t *testing.T) {
	cl := hostileClient(t, func(hc *hostile.Conn) error {
		hc.PreAuth("IMAP4rev1 LIST-EXTENDED LIST-STATUS")
		for {
			cmd, err := hc.ReadCommand()
			if err != nil {
				return err
			}
			if cmd.Name == "LIST" {
				err = hc.Lines(`* LIST () "/" INBOX`, "* STATUS INBOX (MESSAGES 3 UIDVALIDITY 0)",
					`* LIST () "/" Sent`, "* STATUS Sent (MESSAGES 2 UIDVALIDITY 5)", cmd.Tag+" OK done")
			} else {
				err = hc.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := map[string]uint32{}
	uidv := map[string]uint32{}
	for m, err := range cl.ListIter(ctx, "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages | commands.StatusUIDValidity}) {
		if err != nil {
			t.Fatalf("ListIter: %v; want INBOX (MESSAGES 3) and Sent", err)
		}
		if m.Status != nil {
			got[m.Name] = m.Status.Messages
			uidv[m.Name] = m.Status.UIDValidity
		}
	}
	if got["INBOX"] != 3 || got["Sent"] != 2 || uidv["INBOX"] != 0 || uidv["Sent"] != 5 {
		t.Errorf("MESSAGES %v, UIDVALIDITY %v; want INBOX 3 (UIDVALIDITY unknown), Sent 2 (5)", got, uidv)
	}
}

// TestReview44RCopySeqUnmapped: a Copy of sequence numbers sent in parts
// whose second part is answered OK without a COPYUID. CopyResult.Unmapped,
// documented as source UIDs never in Src, was filled with that part's
// sequence numbers and then had Src (UIDs) removed from it: message 4
// collided with UID 4 of Src and vanished, so Unmapped was empty ("every
// part's COPYUID was kept") though message 4 (UID 9) was copied with no
// mapping, and Move's fallback or a caller's Remove(res.Src) could act on
// a wrong number. Messages 1, 2 and 4 have UIDs 3, 4 and 9; the server
// answers a COPY by sequence numbers or by UID alike, so the test holds
// whichever the client sends: Unmapped must be exactly UID 9.
func TestReview44RCopySeqUnmapped(t *testing.T) {
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

// TestReview44GFetchSectionsUnderResultBound: Client.Fetch (an iterator that
// "keeps nothing and has no bound") of ten small sections of 60,000 bytes
// in one 600 KB FETCH (under the 1 MiB line bound), on a session with
// MaxResultBytes of 256 KiB: since 542477c the sections past half the
// line's bound are collected within MaxResultBytes less what the line
// holds, so the last ones are left out and the iteration fails with a
// *session.ResultTooLargeError; before, they were kept inline and read.
func TestReview44GFetchSectionsUnderResultBound(t *testing.T) {
	const n, size = 10, 60000
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 7")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, size, strings.Repeat("x", size))
	}
	b.WriteString(")\r\n")
	resp := b.String()
	sc := fakeServer{on: handlers{"UID FETCH": func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.WriteString(resp + cmd.Tag + " OK done\r\n")
	}, "FETCH": func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.WriteString(resp + cmd.Tag + " OK done\r\n")
	}}}
	ctx, _, c := fakeSession(t, sc, &session.Options{MaxResultBytes: 256 << 10})
	var secs []commands.FetchSection
	for i := 1; i <= n; i++ {
		secs = append(secs, commands.FetchSection{Part: []int{i}})
	}
	got := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(7), &commands.FetchItems{Sections: secs}) {
		if err != nil {
			t.Fatalf("after %d sections read: %v; want all %d (a 600 KB FETCH, under MaxLineLength)", got, err, n)
		}
		for {
			sec, err := m.NextSection()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("NextSection: %v", err)
			}
			data, err := io.ReadAll(sec)
			if err != nil || len(data) != size {
				t.Fatalf("section %d: %d bytes, %v; want %d", got+1, len(data), err, size)
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("%d sections; want %d", got, n)
	}
}
