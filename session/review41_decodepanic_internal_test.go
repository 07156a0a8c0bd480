package session

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview41WDecoderPanicWhileMuHeldElsewhere: efd821f promises that a panic of
// the decoder's own code ends the session with ErrDecoderPanic instead of
// the process. 7e401af's guard re-panics whenever s.mu.TryLock fails, to
// avoid a self-deadlock when the reader goroutine itself holds mu; but mu
// is also held, briefly and often, by every other goroutine using the
// session (Start, Wait, State, Err, pull delivery...). A decoder panic
// that happens while any of them holds mu now kills the whole process.
// Here (as in TestReview41PDecoderPanicEndsSession, with a decoder hook
// planted to panic) another goroutine holds mu for a moment when the
// decoder panics: the child process dies instead of the NOOP getting
// ErrDecoderPanic.
func TestReview41WDecoderPanicWhileMuHeldElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("child process")
	}
	out, err := review41Child(t, "TestReview41WDecoderPanicWhileMuHeldElsewhere", func(t *testing.T) {
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
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s := newSession(conn, nil)
		defer s.Close()
		g, err := s.decodeNext()
		st, ok := g.(*codec.Status)
		if err != nil || !ok || st.Kind != codec.StatusPREAUTH || st.Code == nil || st.Code.Kind != codec.CodeCapability {
			t.Fatalf("greeting %#v, %v", g, err)
		}
		s.state = StateAuth
		s.setCaps(st.Code.Caps)
		s.dec = codec.NewDecoder(s.tok, &codec.DecoderOptions{SectionHandler: func(*codec.Fetch, *codec.Section, io.Reader) error {
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
		}})
		s.startGoroutines()
		_, err = s.Run(ctx, &Command{Name: "NOOP"})
		if !errors.Is(err, ErrDecoderPanic) {
			t.Fatalf("NOOP: %v; want ErrDecoderPanic", err)
		}
	})
	if err != nil {
		t.Fatalf("a decoder panic while another goroutine held the session's mutex ended the process (want ErrDecoderPanic): %v\n%s", err, out)
	}
}
