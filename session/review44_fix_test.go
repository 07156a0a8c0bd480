package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// answering is a server that answers every command line with a tagged OK.
func g44Answering(r *bufio.Reader, w io.Writer) {
	io.WriteString(w, lmGreeting)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(w, tag+" OK done\r\n")
	}
}

// TestReview44GStallBatchUnflushed: 9a9712e starts the read side's stall timer
// when a command is marked sent (markSent), before its bytes are written,
// let alone flushed. In a batch (StartBatch) the first command is left
// in the write buffer for the next one to flush (last=false), so the next
// command's Args runs while the first one's timer counts the server's
// "silence": the server never got a byte. With the defaults (60 s, run
// 200 times faster by StallSpeed) a batch whose second Args takes four
// stall timeouts is aborted with "no byte from the server" against a
// server that answers everything it receives: the very case the commit
// fixed for a command alone.
func TestReview44GStallBatchUnflushed(t *testing.T) {
	session.StallSpeed(t, 200) // 60 s as 300 ms
	const stall = session.DefaultStallTimeout / 200
	conn := fake(t, g44Answering)
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	slow := func(e *wire.Encoder) { time.Sleep(4 * stall) }
	t.Run("batch", func(t *testing.T) {
		ps, err := s.StartBatch(ctx20(t), []*session.Command{{Name: "NOOP"}, {Name: "NOOP", Args: slow}})
		if err != nil {
			t.Fatalf("StartBatch (NOOP, NOOP whose Args takes four stall timeouts) to a server that answers: %v", err)
		}
		for i, p := range ps {
			if _, err := p.Wait(ctx20(t)); err != nil {
				t.Fatalf("command %d of the batch: %v", i+1, err)
			}
		}
	})
	// The same with two goroutines: the first command's writer leaves its
	// bytes for the second, which waits for the write lock (shouldFlush),
	// and whose Args then takes four stall timeouts.
	t.Run("goroutines", func(t *testing.T) {
		s, err := session.Open(ctx20(t), fake(t, g44Answering), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		inArgs, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx20(t), &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) {
				close(inArgs)
				<-release
			}})
			first <- err
		}()
		<-inArgs
		second := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx20(t), &session.Command{Name: "NOOP", Args: slow})
			second <- err
		}()
		time.Sleep(stall / 4) // the second waits for the write lock
		close(release)
		if err := <-first; err != nil {
			t.Errorf("first NOOP (its bytes left for the next writer) to a server that answers: %v", err)
		}
		if err := <-second; err != nil {
			t.Errorf("second NOOP (Args of four stall timeouts): %v", err)
		}
	})
}

// TestReview44GStallWaitingForContinuation: the stall timeout counts
// from when a command's bytes reach the connection; a command with a
// synchronizing literal has its bytes up to the literal flushed before it
// waits for the "+", which the server owes from then on: a server that
// never sends it is cut by the stall timeout (with the defaults, run 200
// times faster), not left waiting for the command's context.
func TestReview44GStallWaitingForContinuation(t *testing.T) {
	session.StallSpeed(t, 200)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting) // no LITERAL+: the literal waits for "+"
		io.Copy(io.Discard, r)        // never a "+"
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Run(ctx20(t), &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Mailbox("INBOX").SP().Literal([]byte("Subject: x\r\n\r\nbody\r\n"))
	}})
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall {
		t.Fatalf("APPEND waiting for a \"+\" the server never sends: %v; want a stall *TimeoutError", err)
	}
}

// TestReview44GSmallSectionsMissingUnderResultBound: 542477c keeps a small
// section inline only while the line keeps half of MaxLineLength free;
// past that it is collected within MaxResultBytes less what the line
// holds already (held). A command that streams (OnData: "not bounded",
// limits.md) or a pulled one ("a small one stays in Section.Data") with
// a MaxResultBytes under half the line's bound now gets the later
// sections of a FETCH as Missing, where before they were kept inline
// (the whole FETCH, 10 sections of 60,000 bytes, is 600 KB: under the
// 1 MiB line bound).
func TestReview44GSmallSectionsMissingUnderResultBound(t *testing.T) {
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
			s := r42Open(t, &session.Options{MaxResultBytes: 256 << 10}, func(tag, cmd string) string {
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

// TestReview44GSmallSectionsLineHeldBounded: the small sections collected
// within the line's bound (not MaxResultBytes) count against that bound
// together with the line: a FETCH of 40 sections of 60,000 bytes (2.4 MB,
// past the 1 MiB line bound) on a session with MaxResultBytes of 256 KiB
// keeps at most MaxLineLength of them, the rest left out (Missing) with a
// *ResultTooLargeError, as before 542477c; not all 2.4 MB (each section,
// collected, leaves the line's room as it was).
func TestReview44GSmallSectionsLineHeldBounded(t *testing.T) {
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
	s := r42Open(t, &session.Options{MaxResultBytes: 256 << 10}, func(tag, cmd string) string {
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

// TestReview44GCatchStopAfterReselect: a FETCH a Catch held, caught in
// the mailbox selected then, went at Stop to OnUnsolicited after the
// next mailbox's EXISTS (a SELECT or EXAMINE of it), renumbered by that
// mailbox's EXPUNGEs, where a handler took it for one of that mailbox's
// messages; or after a CLOSE or UNSELECT, with no mailbox selected. Stop
// now leaves out the FETCHes caught before the selected mailbox changed,
// and counts them in DroppedUnsolicited.
func TestReview44GCatchStopAfterReselect(t *testing.T) {
	for _, c := range []struct {
		name, cmd string
		args      func(*wire.Encoder)
		want      string // the stream after the first SELECT's EXISTS
	}{
		{"select", "SELECT", func(e *wire.Encoder) { e.SP().Mailbox("Other") }, "EXISTS 100|EXPUNGE 3"},
		{"examine", "EXAMINE", func(e *wire.Encoder) { e.SP().Mailbox("Other") }, "EXISTS 100|EXPUNGE 3"},
		{"unselect", "UNSELECT", nil, ""},
		{"close", "CLOSE", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &r44Stream{ch: make(chan struct{})}
			var noops, checks atomic.Int32
			s := r42Open(t, &session.Options{OnUnsolicited: st.on}, func(tag, line string) string {
				switch {
				case strings.HasPrefix(line, "CHECK") && checks.Add(1) == 1:
					return tag + " OK done\r\n* 5 FETCH (UID 50 FLAGS (\\Seen))\r\n"
				case strings.HasPrefix(line, "NOOP") && c.want != "" && noops.Add(1) == 1:
					return "* 3 EXPUNGE\r\n" + tag + " OK done\r\n"
				case strings.HasPrefix(line, "NOOP"):
					return "* 77 RECENT\r\n" + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run := func(name string, args func(*wire.Encoder)) {
				t.Helper()
				if _, err := s.Run(ctx, &session.Command{Name: name, Args: args}); err != nil {
					t.Fatal(err)
				}
			}
			ca := s.Catch()
			run("CHECK", nil) // the FETCH after its answer is caught
			// Read (and caught) once the next answer is: not left for
			// the SELECT, which takes FETCHes (QRESYNC).
			run("CHECK", nil)
			run(c.cmd, c.args)
			if c.want != "" {
				run("NOOP", nil) // the new mailbox's EXPUNGE goes to the stream at once
			}
			before, _ := s.DroppedUnsolicited()
			ca.Stop()
			after, _ := s.DroppedUnsolicited()
			run("NOOP", nil) // RECENT 77: the end of the stream
			want := "EXISTS 100|" + c.want + "|RECENT 77"
			if c.want == "" {
				want = "EXISTS 100|RECENT 77"
			}
			if got := st.stream(t); got != want {
				t.Errorf("the stream: %s\nwant        %s (the FETCH of the mailbox selected before left out)", got, want)
			}
			if after-before != 1 {
				t.Errorf("DroppedUnsolicited grew by %d at Stop; want 1 (the FETCH left out)", after-before)
			}
		})
	}
}
