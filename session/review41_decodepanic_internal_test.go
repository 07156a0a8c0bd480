package session

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
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
		ctx, s := r41PlantedSession(t, func(s *Session) func(*codec.Fetch, *codec.Section, io.Reader) error {
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
