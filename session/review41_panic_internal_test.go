package session

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/wire"
)

// TestReview41PDecoderPanicEndsSession: a panic in the decoder's own code
// (here planted: the decoder's section hook panics, as a bug of wire,
// codec or this package would) used to unwind the session's reader
// goroutine and end the user's whole process: audit 41 found one a server
// could trigger at will (codec's msgSlab, TestReview41NBodyStructureManyParts).
// It now ends the session with an *AbortError matching ErrDecoderPanic,
// and the command waiting gets it.
func TestReview41PDecoderPanicEndsSession(t *testing.T) {
	ctx, s := r41PlantedSession(t, func(*Session) func(*codec.Fetch, *codec.Section, io.Reader) error {
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

// r41PlantedSession does Open's steps against a server that answers NOOP
// with a 5,000-byte FETCH body, with the decoder's section hook made by
// section (given the session) planted before the reader goroutine
// starts: a stand-in for a bug in the decoder's own code. The session,
// its server and the 20 s context end with the test.
func r41PlantedSession(t *testing.T, section func(*Session) func(*codec.Fetch, *codec.Section, io.Reader) error) (context.Context, *Session) {
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

// TestReview41PSectionsPanicNotCaught: a panic of the user's Sections
// handler, called from within the decoder, is not the decoder's: the
// guard of TestReview41PDecoderPanicEndsSession lets it go on (run in a
// child process, as a panic on the reader goroutine ends the program).
func TestReview41PSectionsPanicNotCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("child process")
	}
	out, err := review41Child(t, "TestReview41PSectionsPanicNotCaught", func(t *testing.T) {
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

// review41Child runs the test name again in a child process, where body
// runs, and returns the child's output.
func review41Child(t *testing.T, name string, body func(t *testing.T)) (string, error) {
	if os.Getenv("IMAPKIT_R41_CHILD") == "1" {
		body(t)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "IMAPKIT_R41_CHILD=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
