package session

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/wire"
)

// TestDecoderPanicWhileMuHeldElsewhere: efd821f promises that a panic of
// the decoder's own code ends the session with ErrDecoderPanic instead of
// the process. 7e401af's guard re-panics whenever s.mu.TryLock fails, to
// avoid a self-deadlock when the reader goroutine itself holds mu; but mu
// is also held, briefly and often, by every other goroutine using the
// session (Start, Wait, State, Err, pull delivery...). A decoder panic
// that happens while any of them holds mu now kills the whole process.
// Here (as in TestDecoderPanicEndsSession, with a decoder hook
// planted to panic) another goroutine holds mu for a moment when the
// decoder panics: the child process dies instead of the NOOP getting
// ErrDecoderPanic.
func TestDecoderPanicWhileMuHeldElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("child process")
	}
	out, err := runBodyInChild(t, "TestDecoderPanicWhileMuHeldElsewhere", func(t *testing.T) {
		ctx, s := plantedSectionSession(t, func(s *Session) func(*codec.Fetch, *codec.Section, io.Reader) error {
			return func(*codec.Fetch, *codec.Section, io.Reader) error {
				// Another goroutine of the program is inside the session
				// (any call that takes mu) at the moment of the bug.
				held := make(chan struct{})
				go func() {
					s.mu.Lock()
					close(held)
					time.Sleep(200 * time.Millisecond)
					s.mu.Unlock()
				}()
				<-held
				panic("planted decoder bug")
			}
		})
		_, err := s.Run(ctx, &Command{Name: "NOOP"})
		if !errors.Is(err, ErrDecoderPanic) {
			t.Fatalf("NOOP: %v; want ErrDecoderPanic", err)
		}
	})
	if err != nil {
		t.Fatalf("a decoder panic while another goroutine held the session's mutex ended the process (want ErrDecoderPanic): %v\n%s", err, out)
	}
}

// TestRoutingSetCanonical: the set a command's FETCH and
// VANISHED responses are routed by is kept canonical, whatever the order
// the caller wrote it in, so that routing each response costs O(log r)
// (Contains, Overlaps) or O(1) (Dynamic, uidsDone), not O(r): a raw UID
// FETCH of UIDs in descending order kept them so, and every FETCH the
// server sent walked all its ranges. The caller's Messages is copied, not
// reordered.
func TestRoutingSetCanonical(t *testing.T) {
	want := []wire.SeqRange{{Start: 1, Stop: 1}, {Start: 5, Stop: 7}, {Start: 9, Stop: 9}}
	raw := &Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("9,7,5:6,1 (FLAGS)") }}
	ts := commandSet(raw, "UID FETCH", "UID FETCH", true)
	if !ts.known || !slices.Equal(ts.set.Ranges(), want) {
		t.Errorf("raw UID FETCH 9,7,5:6,1: routing set %v (known %v); want %v", ts.set.Ranges(), ts.known, want)
	}
	msgs, err := codec.ParseSeqSet([]byte("9,7,5:6,1"))
	if err != nil {
		t.Fatal(err)
	}
	orig := slices.Clone(msgs.Ranges())
	ts = commandSet(&Command{Name: "UID FETCH", Messages: &msgs}, "UID FETCH", "UID FETCH", true)
	if !slices.Equal(ts.set.Ranges(), want) {
		t.Errorf("Messages 9,7,5:6,1: routing set %v; want %v", ts.set.Ranges(), want)
	}
	if !slices.Equal(msgs.Ranges(), orig) {
		t.Errorf("the caller's Messages became %v; want it untouched, %v", msgs.Ranges(), orig)
	}
	p := &Pending{info: commandInfo{target: TargetMessages}, cmd: raw, tag: "A1", name: "UID FETCH", wname: "UID FETCH"}
	wc, err := encodeCommand(wire.NewEncoder(nil), "A1", "UID FETCH", raw.Args)
	if err != nil {
		t.Fatal(err)
	}
	p.noteTarget(wc)
	if !p.hasSet || !slices.Equal(p.set.Ranges(), want) {
		t.Errorf("noteTarget of a raw UID FETCH 9,7,5:6,1: routing set %v (has %v); want %v", p.set.Ranges(), p.hasSet, want)
	}
	p.lastUID = 8
	if p.uidsDone() {
		t.Error("uidsDone with UID 8 answered of 1,5:7,9: want false")
	}
	p.lastUID = 9
	if !p.uidsDone() {
		t.Error("uidsDone with UID 9 answered of 1,5:7,9: want true")
	}
}

// TestDecoderPanicEndsSession: a panic in the decoder's own code
// (here planted: the decoder's section hook panics, as a bug of wire,
// codec or this package would) used to unwind the session's reader
// goroutine and end the user's whole process: audit 41 found one a server
// could trigger at will (codec's msgSlab, TestBodyStructureManyParts).
// It now ends the session with an *AbortError matching ErrDecoderPanic,
// and the command waiting gets it.
func TestDecoderPanicEndsSession(t *testing.T) {
	ctx, s := plantedSectionSession(t, func(*Session) func(*codec.Fetch, *codec.Section, io.Reader) error {
		return func(*codec.Fetch, *codec.Section, io.Reader) error { panic("planted decoder bug") }
	})
	_, err := s.Run(ctx, &Command{Name: "NOOP"})
	if !errors.Is(err, ErrDecoderPanic) || !errors.Is(err, ErrAborted) {
		t.Fatalf("NOOP: %v; want an error matching ErrDecoderPanic and ErrAborted", err)
	}
	if !strings.Contains(err.Error(), "planted decoder bug") {
		t.Errorf("the error does not name the panic: %v", err)
	}
	if !errors.Is(s.Err(), ErrDecoderPanic) {
		t.Errorf("session error %v; want ErrDecoderPanic", s.Err())
	}
}

// plantedSectionSession does Open's steps against a server that answers NOOP
// with a 5,000-byte FETCH body, with the decoder's section hook made by
// section (given the session) planted before the reader goroutine
// starts: a stand-in for a bug in the decoder's own code. The session,
// its server and the 20 s context end with the test.
func plantedSectionSession(t *testing.T, section func(*Session) func(*codec.Fetch, *codec.Section, io.Reader) error) (context.Context, *Session) {
	t.Helper()
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("NOOP")
		if err != nil {
			return err
		}
		c.Line("* 1 FETCH (UID 7 BODY[] {5000}\r\n" + strings.Repeat("x", 5000) + ")")
		c.Reply(cmd.Tag, "OK")
		return c.Serve()
	})
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	s := newSession(conn, nil)
	t.Cleanup(func() { s.Close() })
	g, err := s.decodeNext()
	st, ok := g.(*codec.Status)
	if err != nil || !ok || st.Kind != codec.StatusPREAUTH || st.Code == nil || st.Code.Kind != codec.CodeCapability {
		t.Fatalf("greeting %#v, %v", g, err)
	}
	s.state = StateAuth
	s.setCaps(st.Code.Caps)
	s.dec = codec.NewDecoder(s.tok, &codec.DecoderOptions{SectionHandler: section(s)})
	s.startGoroutines()
	return ctx, s
}

// TestSectionsPanicNotCaught: a panic of the user's Sections
// handler, called from within the decoder, is not the decoder's: the
// guard of TestDecoderPanicEndsSession lets it go on (run in a
// child process, as a panic on the reader goroutine ends the program).
func TestSectionsPanicNotCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("child process")
	}
	out, err := runBodyInChild(t, "TestSectionsPanicNotCaught", func(t *testing.T) {
		conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1")
			cmd, err := c.Until("FETCH")
			if err != nil {
				return err
			}
			c.Line("* 1 FETCH (UID 7 BODY[] {5000}\r\n" + strings.Repeat("x", 5000) + ")")
			c.Reply(cmd.Tag, "OK")
			return c.Serve()
		})
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, err := Open(ctx, conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.Run(ctx, &Command{Name: "FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("1").SP().Raw("(BODY[])") }, Sections: func(*codec.Fetch, *codec.Section, io.Reader) error {
			panic("the user's handler panics")
		}})
	})
	if err == nil || !strings.Contains(out, "panic: the user's handler panics") || strings.Contains(out, "a bug in imapkit") {
		t.Fatalf("want the handler's own panic to end the child; err %v, output:\n%s", err, out)
	}
}

// runBodyInChild runs the test name again in a child process, where body
// runs, and returns the child's output.
func runBodyInChild(t *testing.T, name string, body func(t *testing.T)) (string, error) {
	if os.Getenv("IMAPKIT_BODY_CHILD") == "1" {
		body(t)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "IMAPKIT_BODY_CHILD=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
