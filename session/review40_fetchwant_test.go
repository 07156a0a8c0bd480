package session_test

import (
	"fmt"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview40CFetchWantTakesUnclaimedFetch: a UID FETCH whose own Want
// takes every response (imapkit idle --new's, the shell's, Do's) gets the
// flag changes another client made that come with its answer (FLAGS alone,
// or a UID its set does not hold), in order with its answer, when no other
// command's set holds them; without Want they stay unsolicited, and a
// command's own answers still go by set to the command pipelined beside it.
// They went to the unsolicited stream, which imapkit idle never read: the
// flag change was never printed.
func TestReview40CFetchWantTakesUnclaimedFetch(t *testing.T) {
	fetch := func(set string, want bool) *session.Command {
		c := &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw(set).SP().Raw("(UID FLAGS)") }}
		if want {
			c.Want = func(r codec.Response) bool {
				_, cont := r.(*codec.Continuation)
				return !cont
			}
		}
		return c
	}
	show := func(r codec.Response) string {
		if f, ok := r.(*codec.Fetch); ok {
			return fmt.Sprintf("%d/%d", f.Seq, f.UID)
		}
		return codec.ResponseName(r)
	}
	answer := func(t1, t2 string) string {
		return "* 1 FETCH (UID 1 FLAGS ())\r\n* 7 FETCH (FLAGS (\\Seen))\r\n* 10 FETCH (UID 10 FLAGS ())\r\n" +
			"* 8 FETCH (UID 30 FLAGS (\\Seen))\r\n* 3 EXPUNGE\r\n" + t1 + " OK done\r\n" + t2 + " OK done\r\n"
	}
	got := pairAnswers(t, "IMAP4rev1", answer, []*session.Command{fetch("1:5", false), fetch("10:15", true)}, show)
	if want := "1/1 | 7/0+10/10+8/30+EXPUNGE"; got != want {
		t.Errorf("UID FETCH without Want, UID FETCH with a Want of everything: got %s; want %s", got, want)
	}
	got = pairAnswers(t, "IMAP4rev1", answer, []*session.Command{fetch("1:5", false), fetch("10:15", false)}, show)
	if want := "1/1 | 10/10"; got != want {
		t.Errorf("two UID FETCH without Want: got %s; want %s (the flag changes unsolicited)", got, want)
	}
}
