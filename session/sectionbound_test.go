package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// uidCommandsSession opens a session, with INBOX selected, on a scripted
// server that answers every command but those whose name begins with
// "UID " at once, holds n of these, then writes answer(their tags) (the
// answers to them all).
func uidCommandsSession(t *testing.T, n int, answer func(tags []string) string) *session.Session {
	t.Helper()
	return uidCommandsSessionStream(t, n, func(tags []string) io.Reader { return strings.NewReader(answer(tags)) })
}

// uidCommandsSessionStream is uidCommandsSession with the answers read
// from a reader as they are written: a body of many megabytes (xs) is
// never held whole by the test (under -race each fresh heap page costs
// shadow memory and page faults too).
func uidCommandsSessionStream(t *testing.T, n int, answer func(tags []string) io.Reader) *session.Session {
	t.Helper()
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r := bufio.NewReader(server)
		var tags []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			if !strings.HasPrefix(rest, "UID ") {
				io.WriteString(server, tag+" OK done\r\n")
				continue
			}
			if tags = append(tags, tag); len(tags) == n {
				io.Copy(server, answer(tags))
			}
		}
	}()
	s, err := session.Open(dvCtx(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	return s
}

// xs reads n bytes of "x", made from one 64 KiB piece.
func xs(n int) io.Reader {
	return io.LimitReader(hostile.Repeat(strings.Repeat("x", 64<<10), -1), int64(n))
}

// TestMisroutedBodyBeforeUID: two pulled UID FETCH commands in flight,
// of UID 1 and UID 2. The server answers the first (UID first), then
// sends a second FETCH of UID 1 with its UID after a body too large to
// keep in the FETCH (legal: a server may send several FETCH responses for
// one message). The first's answer has reached the top of its set, so the
// body goes to the one command that may still own it, the second, while
// the rest of the FETCH goes by its UID to the first: both end with an
// error matching ErrMisrouted, never a body yielded as another message's
// without a word (before, the second yielded a message of UID 0 with UID
// 1's body). When more than one command may own such a body it is kept in
// the FETCH instead (commands TestReview37bFetchPartsBodyBeforeUID).
func TestMisroutedBodyBeforeUID(t *testing.T) {
	const size = 100 << 10
	s := uidCommandsSession(t, 2, func(tags []string) string {
		return fmt.Sprintf("* 1 FETCH (UID 1 RFC822.SIZE 5)\r\n* 1 FETCH (BODY[] {%d}\r\n%s UID 1)\r\n%s OK done\r\n%s OK done\r\n",
			size, strings.Repeat("x", size), tags[0], tags[1])
	})
	ctx := dvCtx(t)
	var ps []*session.Pending
	for _, uid := range []uint32{1, 2} {
		var set codec.SeqSet
		set.AddNum(uid)
		p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Messages: &set, Pull: true,
			Args: func(e *wire.Encoder) { e.SP().Raw(fmt.Sprintf("%d BODY[]", uid)) }})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	var errs [2]error
	for i, p := range ps {
		for {
			_, err := p.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		_, errs[i] = p.Wait(ctx)
	}
	if !errors.Is(errs[0], session.ErrMisrouted) || !errors.Is(errs[1], session.ErrMisrouted) {
		t.Fatalf("first: %v; second: %v; want both to match ErrMisrouted", errs[0], errs[1])
	}
}

// TestCollectedSectionsBounded: a collecting Run of a FETCH whose three
// body sections of 30 MiB each fit MaxResultBytes (the default, 64 MiB)
// one by one but not together. Each was checked against the bound alone:
// all three were held (90 MiB, and a FETCH of many such sections held
// memory without bound) before the whole response was dropped. Now the
// third is left out (Section.Missing) and the FETCH kept with the other
// two; the command ends with a *ResultTooLargeError that counts it.
func TestCollectedSectionsBounded(t *testing.T) {
	const size = 30 << 20
	client, server := transport.Pipe()
	go lkServer(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi", func(line string) string {
		tag, rest, _ := strings.Cut(line, " ")
		if strings.HasPrefix(rest, "FETCH") {
			// The bodies streamed before the tagged OK lkServer writes:
			// made whole, the answer was 90 MiB held and 90 more copied.
			io.Copy(server, io.MultiReader(
				strings.NewReader(fmt.Sprintf("* 1 FETCH (BODY[1] {%d}\r\n", size)), xs(size),
				strings.NewReader(fmt.Sprintf(" BODY[2] {%d}\r\n", size)), xs(size),
				strings.NewReader(fmt.Sprintf(" BODY[3] {%d}\r\n", size)), xs(size),
				strings.NewReader(")\r\n")))
		}
		return tag + " OK done\r\n"
	})
	s, err := session.Open(dvCtx(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	res, err := s.Run(ctxBulk(t), &session.Command{Name: "FETCH", Args: dvRaw("1 (BODY[1] BODY[2] BODY[3])")})
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) || tl.Sections != 1 || tl.Dropped != 0 {
		t.Fatalf("Run: %v; want a ResultTooLargeError for one section left out, no response dropped", err)
	}
	var kept []string
	for _, d := range res.Data {
		if f, ok := d.(*codec.Fetch); ok {
			for _, sec := range f.Sections {
				kept = append(kept, fmt.Sprintf("%d bytes missing %v", len(sec.Data), sec.Missing))
			}
		}
	}
	if want := fmt.Sprintf("[%[1]d bytes missing false %[1]d bytes missing false 0 bytes missing true]", size); fmt.Sprint(kept) != want {
		t.Fatalf("sections %v; want %s", kept, want)
	}
}

// TestBodyBeforeUIDBesideBodiless: a pulled UID FETCH of a body, with a
// UID STORE and a UID FETCH of flags (Command.NoBodies) in flight beside
// it, and a server that puts the UID after the body. Neither of the
// others can own a body, so it streams to the first (an item with a Body),
// as it does when the UID FETCH is alone: counted as possible owners,
// they made it be kept in the FETCH (within MaxResultBytes; past it,
// failed).
func TestBodyBeforeUIDBesideBodiless(t *testing.T) {
	const size = 100 << 10
	s := uidCommandsSession(t, 3, func(tags []string) string {
		return fmt.Sprintf("* 3 FETCH (BODY[] {%d}\r\n%s UID 5)\r\n%s OK done\r\n%s OK done\r\n%s OK done\r\n",
			size, strings.Repeat("x", size), tags[0], tags[1], tags[2])
	})
	ctx := dvCtx(t)
	set := func(n uint32) *codec.SeqSet {
		var s codec.SeqSet
		s.AddNum(n)
		return &s
	}
	body, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Messages: set(5), Pull: true, Args: dvRaw("5 BODY[]")})
	if err != nil {
		t.Fatal(err)
	}
	var others []*session.Pending
	for _, c := range []*session.Command{
		{Name: "UID STORE", Messages: set(7), Args: dvRaw(`7 +FLAGS.SILENT (\Seen)`)},
		{Name: "UID FETCH", Messages: set(8), NoBodies: true, Args: dvRaw("8 (FLAGS)")},
	} {
		p, err := s.Start(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, p)
	}
	streamed := false
	for {
		it, err := body.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Body != nil {
			n, _ := io.Copy(io.Discard, it.Body)
			streamed = n == size
		}
	}
	if _, err := body.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range others {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !streamed {
		t.Fatal("the body was not streamed (kept in the FETCH: the UID STORE and the UID FETCH of flags were taken for its possible owners)")
	}
}

// TestUnownedBodyOverBoundNotQueued: two pulled UID FETCH commands in
// flight, and a body sent before its UID too large to keep in the FETCH
// (over MaxResultBytes, the default) while the UID would tell which
// command owns it. The body is left out and its command ends with a
// *ResultTooLargeError, whose Queued must be false: nothing waited in a
// pulled command's queue for its caller (the error said "answer queued
// while its caller did not take it", sending the reader after a slow
// loop that was not there).
func TestUnownedBodyOverBoundNotQueued(t *testing.T) {
	const size = 65 << 20
	s := uidCommandsSessionStream(t, 2, func(tags []string) io.Reader {
		return io.MultiReader(strings.NewReader(fmt.Sprintf("* 1 FETCH (BODY[] {%d}\r\n", size)), xs(size),
			strings.NewReader(fmt.Sprintf(" UID 1)\r\n%s OK done\r\n%s OK done\r\n", tags[0], tags[1])))
	})
	ctx := ctxBulk(t) // 65 MiB under -race: minutes on a loaded machine
	var ps []*session.Pending
	for _, uid := range []uint32{1, 2} {
		var set codec.SeqSet
		set.AddNum(uid)
		p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Messages: &set, Pull: true,
			Args: func(e *wire.Encoder) { e.SP().Raw(fmt.Sprintf("%d BODY[]", uid)) }})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for {
		it, err := ps[0].Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := it.Response.(*codec.Fetch); ok && (f.UID != 1 || len(f.Sections) != 1 || !f.Sections[0].Missing) {
			t.Fatalf("first command's FETCH: UID %d, %d sections; want UID 1 with its body left out", f.UID, len(f.Sections))
		}
	}
	_, err := ps[0].Wait(ctx)
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) || tl.Sections != 1 || tl.Queued || strings.Contains(err.Error(), "queued") {
		t.Fatalf("first: %v; want a ResultTooLargeError for one section left out, not queued", err)
	}
	if _, err := ps[1].Wait(ctx); err != nil {
		t.Fatalf("second: %v", err)
	}
}
