package session_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview44FSmallSectionsLeaveRoom: with the default options, a FETCH
// answer of small body sections (each under MaxStringLiteral) whose inline
// bytes came just under MaxLineLength: the last one was kept inline as
// long as it fit the line's room (LineRoom), leaving none for the rest of
// the line, and the FLAGS after it ended the session with
// wire.ErrLineTooLong, where docs/limits.md says the bodies of one FETCH
// never end it. 17 sections of 60,000 bytes, then one that fills the room
// exactly, or leaves 5 bytes of it, then " FLAGS (\Seen))". For a
// collecting Run and for a pulled command.
func TestReview44FSmallSectionsLeaveRoom(t *testing.T) {
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
				s := r42Open(t, nil, func(tag, cmd string) string {
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
