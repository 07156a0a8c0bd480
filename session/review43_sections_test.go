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

// review43SectionsOpen opens a session (the defaults) whose server answers
// a FETCH with one message of parts body sections of size bytes each,
// every one under MaxStringLiteral, together past MaxLineLength.
func review43SectionsOpen(t *testing.T, parts, size int) (*session.Session, func(e *wire.Encoder)) {
	body := strings.Repeat("x", size)
	s := r42Open(t, nil, func(tag, cmd string) string {
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

// review43CheckSections checks that f holds the parts sections, each of
// size bytes of "x", and the FLAGS after them.
func review43CheckSections(t *testing.T, f *codec.Fetch, parts, size int) {
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

// TestReview43PSmallSectionsSumPastLineBound: with the default options, a
// FETCH answer of 20 body sections of 60,000 bytes each (every one under
// MaxStringLiteral, so kept inline with LiteralBytes) is a line whose bytes
// outside literals are a few hundred: docs/limits.md says MaxLineLength
// counts "literals not counted", yet the inline sections were counted, and
// the session aborted with wire.ErrLineTooLong once they passed 1 MiB
// together. The sections that would pass it are now collected (a copy,
// within MaxResultBytes), as a large one is; for a collecting Run and for
// a pulled command alike (where they stay in Section.Data).
func TestReview43PSmallSectionsSumPastLineBound(t *testing.T) {
	const parts, size = 20, 60000
	t.Run("Run", func(t *testing.T) {
		s, args := review43SectionsOpen(t, parts, size)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: args, Want: func(codec.Response) bool { return true }})
		if err != nil {
			t.Fatalf("a FETCH of %d sections of %d bytes (each under MaxStringLiteral, a few hundred bytes outside literals): %v; want it read (limits.md: MaxLineLength does not count literals)", parts, size, err)
		}
		if len(r.Data) != 1 {
			t.Fatalf("%d responses; want 1", len(r.Data))
		}
		review43CheckSections(t, r.Data[0].(*codec.Fetch), parts, size)
	})
	t.Run("Pull", func(t *testing.T) {
		s, args := review43SectionsOpen(t, parts, size)
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
				review43CheckSections(t, f, parts, size)
			}
		}
		if _, err := p.Wait(ctx); err != nil || fetches != 1 {
			t.Fatalf("Wait: %v, %d FETCH; want nil, 1", err, fetches)
		}
	})
}
