package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

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
// the FETCH instead (commands TestFetchPartsBodyBeforeUID).
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

// openSectionsSession opens a session (the defaults) whose server answers
// a FETCH with one message of parts body sections of size bytes each,
// every one under MaxStringLiteral, together past MaxLineLength.
func openSectionsSession(t *testing.T, parts, size int) (*session.Session, func(e *wire.Encoder)) {
	body := strings.Repeat("x", size)
	s := scriptedOpen(t, nil, func(tag, cmd string) string {
		if strings.Contains(cmd, "FETCH") {
			var b strings.Builder
			b.WriteString("* 1 FETCH (UID 7")
			for i := 1; i <= parts; i++ {
				fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, size, body)
			}
			b.WriteString(" FLAGS (\\Seen))\r\n")
			return b.String() + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	var secs []string
	for i := 1; i <= parts; i++ {
		secs = append(secs, fmt.Sprintf("BODY.PEEK[%d]", i))
	}
	return s, func(e *wire.Encoder) { e.SP().Raw("7 (" + strings.Join(secs, " ") + ")") }
}

// checkSections checks that f holds the parts sections, each of
// size bytes of "x", and the FLAGS after them.
func checkSections(t *testing.T, f *codec.Fetch, parts, size int) {
	t.Helper()
	if len(f.Sections) != parts {
		t.Fatalf("%d sections; want %d", len(f.Sections), parts)
	}
	for i, sec := range f.Sections {
		if len(sec.Data) != size || strings.Trim(string(sec.Data), "x") != "" || sec.Missing {
			t.Fatalf("section %d: %d bytes (missing %v); want %d bytes of x", i+1, len(sec.Data), sec.Missing, size)
		}
	}
	if len(f.Flags) != 1 {
		t.Fatalf("flags %q; want [\\Seen] (read after the sections)", f.Flags)
	}
}

// TestSmallSectionsSumPastLineBound: with the default options, a
// FETCH answer of 20 body sections of 60,000 bytes each (every one under
// MaxStringLiteral, so kept inline with LiteralBytes) is a line whose bytes
// outside literals are a few hundred: docs/limits.md says MaxLineLength
// counts "literals not counted", yet the inline sections were counted, and
// the session aborted with wire.ErrLineTooLong once they passed 1 MiB
// together. The sections that would pass it are now collected (a copy,
// within MaxResultBytes), as a large one is; for a collecting Run and for
// a pulled command alike (where they stay in Section.Data).
func TestSmallSectionsSumPastLineBound(t *testing.T) {
	const parts, size = 20, 60000
	t.Run("Run", func(t *testing.T) {
		s, args := openSectionsSession(t, parts, size)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: args, Want: func(codec.Response) bool { return true }})
		if err != nil {
			t.Fatalf("a FETCH of %d sections of %d bytes (each under MaxStringLiteral, a few hundred bytes outside literals): %v; want it read (limits.md: MaxLineLength does not count literals)", parts, size, err)
		}
		if len(r.Data) != 1 {
			t.Fatalf("%d responses; want 1", len(r.Data))
		}
		checkSections(t, r.Data[0].(*codec.Fetch), parts, size)
	})
	t.Run("Pull", func(t *testing.T) {
		s, args := openSectionsSession(t, parts, size)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Args: args, Pull: true})
		if err != nil {
			t.Fatal(err)
		}
		var fetches int
		for {
			it, err := p.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("pulled FETCH of %d sections of %d bytes: %v; want it read", parts, size, err)
			}
			if it.Body != nil {
				t.Fatalf("section %v streamed as a Body; want it in Section.Data (it is under MaxStringLiteral)", it.Section.Part)
			}
			if f, ok := it.Response.(*codec.Fetch); ok {
				fetches++
				checkSections(t, f, parts, size)
			}
		}
		if _, err := p.Wait(ctx); err != nil || fetches != 1 {
			t.Fatalf("Wait: %v, %d FETCH; want nil, 1", err, fetches)
		}
	})
}

// TestSmallSectionsMissingUnderResultBound: 542477c keeps a small
// section inline only while the line keeps half of MaxLineLength free;
// past that it is collected within MaxResultBytes less what the line
// holds already (held). A command that streams (OnData: "not bounded",
// limits.md) or a pulled one ("a small one stays in Section.Data") with
// a MaxResultBytes under half the line's bound now gets the later
// sections of a FETCH as Missing, where before they were kept inline
// (the whole FETCH, 10 sections of 60,000 bytes, is 600 KB: under the
// 1 MiB line bound).
func TestSmallSectionsMissingUnderResultBound(t *testing.T) {
	const n, size = 10, 60000
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 7")
	var secs []string
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, size, strings.Repeat("x", size))
		secs = append(secs, fmt.Sprintf("BODY.PEEK[%d]", i))
	}
	b.WriteString(" FLAGS (\\Seen))\r\n")
	resp := b.String()
	args := func(e *wire.Encoder) { e.SP().Raw("7 (" + strings.Join(secs, " ") + ")") }
	check := func(t *testing.T, f *codec.Fetch) {
		t.Helper()
		if f == nil || len(f.Sections) != n {
			t.Fatalf("FETCH %v; want one with %d sections", f != nil, n)
		}
		for i, sec := range f.Sections {
			if sec.Missing || len(sec.Data) != size {
				t.Errorf("section %d: %d bytes, Missing %v; want %d bytes (a 600 KB FETCH, under MaxLineLength, kept whole before 542477c)", i+1, len(sec.Data), sec.Missing, size)
			}
		}
	}
	for _, mode := range []string{"ondata", "pull"} {
		t.Run(mode, func(t *testing.T) {
			s := scriptedOpen(t, &session.Options{MaxResultBytes: 256 << 10}, func(tag, cmd string) string {
				if strings.Contains(cmd, "FETCH") {
					return resp + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var f *codec.Fetch
			if mode == "ondata" {
				_, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: args, OnData: func(r codec.Response) {
					if g, ok := r.(*codec.Fetch); ok {
						f = g.Clone()
					}
				}})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Args: args, Pull: true})
				if err != nil {
					t.Fatal(err)
				}
				for {
					it, err := p.Next(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if g, ok := it.Response.(*codec.Fetch); ok {
						f = g.Clone()
					}
				}
				if _, err := p.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			check(t, f)
		})
	}
}

// TestSmallSectionsLineHeldBounded: the small sections collected
// within the line's bound (not MaxResultBytes) count against that bound
// together with the line: a FETCH of 40 sections of 60,000 bytes (2.4 MB,
// past the 1 MiB line bound) on a session with MaxResultBytes of 256 KiB
// keeps at most MaxLineLength of them, the rest left out (Missing) with a
// *ResultTooLargeError, as before 542477c; not all 2.4 MB (each section,
// collected, leaves the line's room as it was).
func TestSmallSectionsLineHeldBounded(t *testing.T) {
	const n, size = 40, 60000
	var b strings.Builder
	b.WriteString("* 1 FETCH (UID 7")
	var secs []string
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, size, strings.Repeat("x", size))
		secs = append(secs, fmt.Sprintf("BODY.PEEK[%d]", i))
	}
	b.WriteString(" FLAGS (\\Seen))\r\n")
	resp := b.String()
	s := scriptedOpen(t, &session.Options{MaxResultBytes: 256 << 10}, func(tag, cmd string) string {
		if strings.Contains(cmd, "FETCH") {
			return resp + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var f *codec.Fetch
	_, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("7 (" + strings.Join(secs, " ") + ")") }, OnData: func(r codec.Response) {
		if g, ok := r.(*codec.Fetch); ok {
			f = g.Clone()
		}
	}})
	if !errors.Is(err, session.ErrResultTooLarge) {
		t.Errorf("Run: %v; want a *ResultTooLargeError (sections left out)", err)
	}
	if f == nil || len(f.Sections) != n {
		t.Fatalf("FETCH %v; want one with %d sections", f != nil, n)
	}
	kept, missing := 0, 0
	for _, sec := range f.Sections {
		kept += len(sec.Data)
		if sec.Missing {
			missing++
		}
	}
	if kept > wire.DefaultMaxLineLength || missing == 0 {
		t.Errorf("%d bytes of sections kept, %d left out; want at most MaxLineLength (%d) kept, the rest left out", kept, missing, wire.DefaultMaxLineLength)
	}
	if len(f.Flags) != 1 {
		t.Errorf("flags %q; want [\\Seen] (read after the sections)", f.Flags)
	}
}

// TestSmallSectionsLeaveRoom: with the default options, a FETCH
// answer of small body sections (each under MaxStringLiteral) whose inline
// bytes came just under MaxLineLength: the last one was kept inline as
// long as it fit the line's room (LineRoom), leaving none for the rest of
// the line, and the FLAGS after it ended the session with
// wire.ErrLineTooLong, where docs/limits.md says the bodies of one FETCH
// never end it. 17 sections of 60,000 bytes, then one that fills the room
// exactly, or leaves 5 bytes of it, then " FLAGS (\Seen))". For a
// collecting Run and for a pulled command.
func TestSmallSectionsLeaveRoom(t *testing.T) {
	for _, left := range []int{0, 5} {
		for _, pull := range []bool{false, true} {
			t.Run(fmt.Sprintf("left=%d/pull=%v", left, pull), func(t *testing.T) {
				var b strings.Builder
				b.WriteString("* 1 FETCH (UID 7")
				sizes := make([]int, 0, 18)
				for i := 1; i <= 17; i++ {
					fmt.Fprintf(&b, " BODY[%d] {%d}\r\n%s", i, 60000, strings.Repeat("x", 60000))
					sizes = append(sizes, 60000)
				}
				hdr := func(n int) string { return fmt.Sprintf(" BODY[18] {%d}\r\n", n) }
				// The line's buffer holds everything from "* 1 FETCH" on
				// but the CRLF after each literal's header... the headers
				// and inline bodies; the last body fills it to the bound
				// but left bytes.
				n := wire.DefaultMaxLineLength - b.Len() - len(hdr(50000)) - left
				b.WriteString(hdr(n) + strings.Repeat("x", n))
				sizes = append(sizes, n)
				b.WriteString(" FLAGS (\\Seen))\r\n")
				resp := b.String()
				s := scriptedOpen(t, nil, func(tag, cmd string) string {
					if strings.Contains(cmd, "FETCH") {
						return resp + tag + " OK done\r\n"
					}
					return tag + " OK done\r\n"
				})
				var secs []string
				for i := 1; i <= len(sizes); i++ {
					secs = append(secs, fmt.Sprintf("BODY.PEEK[%d]", i))
				}
				args := func(e *wire.Encoder) { e.SP().Raw("7 (" + strings.Join(secs, " ") + ")") }
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var f *codec.Fetch
				if !pull {
					r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: args, Want: func(codec.Response) bool { return true }})
					if err != nil {
						t.Fatalf("a FETCH of small sections filling the line's room but %d bytes: %v; want it read (limits.md: the bodies of one FETCH never end the session)", left, err)
					}
					if len(r.Data) != 1 {
						t.Fatalf("%d responses; want 1", len(r.Data))
					}
					f = r.Data[0].(*codec.Fetch)
				} else {
					p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Args: args, Pull: true})
					if err != nil {
						t.Fatal(err)
					}
					for {
						it, err := p.Next(ctx)
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Fatalf("pulled FETCH of small sections filling the line's room but %d bytes: %v; want it read", left, err)
						}
						if it.Body != nil {
							t.Fatalf("section %v streamed as a Body; want it in Section.Data (it is under MaxStringLiteral)", it.Section.Part)
						}
						if g, ok := it.Response.(*codec.Fetch); ok {
							if f != nil {
								t.Fatal("two FETCH responses; want 1")
							}
							f = g.Clone()
						}
					}
					if _, err := p.Wait(ctx); err != nil || f == nil {
						t.Fatalf("Wait: %v, FETCH %v; want nil, one FETCH", err, f != nil)
					}
				}
				if len(f.Sections) != len(sizes) {
					t.Fatalf("%d sections; want %d", len(f.Sections), len(sizes))
				}
				for i, sec := range f.Sections {
					if len(sec.Data) != sizes[i] || strings.Trim(string(sec.Data), "x") != "" || sec.Missing {
						t.Fatalf("section %d: %d bytes (missing %v); want %d bytes of x", i+1, len(sec.Data), sec.Missing, sizes[i])
					}
				}
				if len(f.Flags) != 1 {
					t.Fatalf("flags %q; want [\\Seen] (read after the sections)", f.Flags)
				}
			})
		}
	}
}
