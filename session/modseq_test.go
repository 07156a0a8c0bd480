package session_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestHighestModSeqCodes: HighestModSeq follows the OK codes of the
// selected mailbox: the SELECT's, a later command's tagged OK, an
// untagged OK; not a NO's or BAD's code, nor one before a SELECT; it is
// gone after CLOSE.
func TestHighestModSeqCodes(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			switch {
			case strings.HasPrefix(rest, "SELECT"):
				io.WriteString(w, "* 3 EXISTS\r\n* OK [HIGHESTMODSEQ 5] x\r\n"+tag+" OK [READ-WRITE] done\r\n")
			case rest == "NOOP":
				io.WriteString(w, "* NO [HIGHESTMODSEQ 99] not so\r\n* BAD [HIGHESTMODSEQ 98] nor so\r\n"+tag+" OK done\r\n")
			case strings.HasPrefix(rest, "FETCH"):
				io.WriteString(w, tag+" OK [HIGHESTMODSEQ 7] done\r\n")
			case rest == "CHECK":
				io.WriteString(w, "* OK [HIGHESTMODSEQ 8] x\r\n"+tag+" NO [HIGHESTMODSEQ 97] refused\r\n")
			default:
				io.WriteString(w, tag+" OK done\r\n")
			}
		}
	})
	s := openDefaults(t, conn, nil)
	defer s.Close()
	ctx := hangCtx(t)
	run := func(name string, args func(*wire.Encoder)) {
		t.Helper()
		s.Run(ctx, &session.Command{Name: name, Args: args})
	}
	want := func(step string, n uint64, ok bool) {
		t.Helper()
		if got, gok := s.HighestModSeq(); got != n || gok != ok {
			t.Fatalf("%s: HighestModSeq %d, %v; want %d, %v", step, got, gok, n, ok)
		}
	}
	want("before SELECT", 0, false)
	run("SELECT", func(e *wire.Encoder) { e.SP().Mailbox("INBOX") })
	want("after SELECT", 5, true)
	run("NOOP", nil)
	want("after an untagged NO and BAD", 5, true)
	run("FETCH", func(e *wire.Encoder) { e.SP().Raw("1:* (FLAGS) (CHANGEDSINCE 5)") })
	want("after a tagged OK", 7, true)
	run("CHECK", nil)
	want("after an untagged OK and a tagged NO", 8, true)
	run("CLOSE", nil)
	want("after CLOSE", 0, false)
}

// TestHighestModSeqClosedBoundaryOnce: the first [CLOSED] of a SELECT's
// answer is the boundary between the mailbox closed and the one selected
// (RFC 7162 section 3.2.11): the HIGHESTMODSEQ before it (3) was the
// closed mailbox's. Another [CLOSED] of the answer, and one in a NOOP's
// answer, are a hostile server's: they change nothing (5 stays), and go
// to no command: the SELECT's result holds one [CLOSED], the boundary,
// which the layer above resets at (commands' selectReader).
func TestHighestModSeqClosedBoundaryOnce(t *testing.T) {
	s := lmOpen(t, &session.Options{}, func(tag, line string) string {
		switch _, rest, _ := strings.Cut(line, " "); {
		case strings.HasPrefix(rest, "SELECT"):
			return "* OK [HIGHESTMODSEQ 3] A's\r\n* OK [CLOSED] A closed\r\n* 3 EXISTS\r\n* OK [HIGHESTMODSEQ 5] x\r\n* OK [CLOSED] again\r\n" + tag + " OK [READ-WRITE] done\r\n"
		case rest == "NOOP":
			return "* OK [CLOSED] stray\r\n" + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	ctx := hangCtx(t)
	res, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("B") }})
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	for _, r := range res.Data {
		if st, ok := r.(*codec.Status); ok && st.Code != nil && st.Code.Kind == codec.CodeClosed {
			closed++
		}
	}
	if got, ok := s.HighestModSeq(); got != 5 || !ok || closed != 1 {
		t.Fatalf("SELECT answered [CLOSED], HIGHESTMODSEQ 5, [CLOSED]: HighestModSeq %d, %v, %d [CLOSED] in its result; want 5, true and 1, the boundary", got, ok, closed)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.HighestModSeq(); got != 5 || !ok {
		t.Fatalf("a [CLOSED] in a NOOP's answer: HighestModSeq %d, %v; want 5, true", got, ok)
	}
}
