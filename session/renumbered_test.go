package session_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestRenumberedInFlight: Pending.RenumberedInFlight tells an EXPUNGE read
// during a command's answer (a FETCH by sequence numbers: RFC 9051
// section 5.5 forbids it) from one read after its tagged response (a
// NOOP's, while the FETCH's caller has not read its answer yet), which
// leaves the FETCH's numbers as they were when its responses came.
func TestRenumberedInFlight(t *testing.T) {
	s, err := session.Open(hangCtx(t), fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting+"* 3 EXISTS\r\n")
		for {
			line := readLine(r)
			tag, rest, _ := strings.Cut(line, " ")
			switch {
			case strings.HasPrefix(rest, "FETCH 1:3"):
				io.WriteString(w, "* 1 FETCH (FLAGS ())\r\n* 1 EXPUNGE\r\n* 1 FETCH (FLAGS ())\r\n"+tag+" OK done\r\n")
			case strings.HasPrefix(rest, "FETCH 1:2"):
				io.WriteString(w, "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n"+tag+" OK done\r\n")
			case rest == "NOOP":
				io.WriteString(w, "* 1 EXPUNGE\r\n"+tag+" OK done\r\n")
			case line == "":
				return
			default:
				io.WriteString(w, tag+" OK done\r\n")
			}
		}
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := hangCtx(t)
	fetch := func(set string) *session.Pending {
		p, err := s.Start(ctx, &session.Command{Name: "FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw(set).SP().Raw("(FLAGS)") }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := fetch("1:3"); !p.RenumberedInFlight() {
		t.Error("FETCH 1:3 answered with an EXPUNGE between its FETCH responses: RenumberedInFlight false")
	}
	p := fetch("1:2")
	if p.RenumberedInFlight() {
		t.Error("FETCH 1:2 answered with no EXPUNGE: RenumberedInFlight true")
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if p.RenumberedInFlight() {
		t.Error("FETCH 1:2, over before a NOOP's EXPUNGE: RenumberedInFlight true")
	}
}

// TestItemRenumberedAsRead: Item.Renumbered says whether an EXPUNGE came
// before the response in the command's answer, as the session read it,
// not whether one has been read by the time the caller takes the item: a
// pulled FETCH whose whole answer the session read and queued (the caller
// ran a NOOP first) hands out its first message unrenumbered, the one
// after the EXPUNGE renumbered. RenumberedAt is the count when the FETCH
// was put in flight.
func TestItemRenumberedAsRead(t *testing.T) {
	s, err := session.Open(hangCtx(t), fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting+"* 3 EXISTS\r\n")
		for {
			line := readLine(r)
			tag, rest, _ := strings.Cut(line, " ")
			switch {
			case strings.HasPrefix(rest, "FETCH"):
				io.WriteString(w, "* 1 FETCH (FLAGS ())\r\n* 1 EXPUNGE\r\n* 1 FETCH (FLAGS ())\r\n"+tag+" OK done\r\n")
			case line == "":
				return
			default:
				io.WriteString(w, tag+" OK done\r\n")
			}
		}
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := hangCtx(t)
	before := s.Renumbered()
	p, err := s.Start(ctx, &session.Command{Name: "FETCH", AnyState: true, Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:3").SP().Raw("(FLAGS)") }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if s.Renumbered() == before {
		t.Fatal("the FETCH's EXPUNGE not read by the time the NOOP after it was answered")
	}
	var got []bool
	for {
		it, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it.Renumbered)
	}
	if len(got) != 2 || got[0] || !got[1] {
		t.Errorf("Item.Renumbered of the FETCH's two responses (an EXPUNGE between them), handed out after the whole answer was read: %v; want [false true]", got)
	}
	if p.RenumberedAt() != before {
		t.Errorf("RenumberedAt %d; want %d, the count when the FETCH was put in flight", p.RenumberedAt(), before)
	}
}
