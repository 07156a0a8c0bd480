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

	"github.com/imapkit/imapkit/session"
)

// TestPullBodyReadErrorTyped: a streamed body whose connection fails
// under the caller's read returns the session's typed error, the one
// Next and Wait return after it: an *AbortError (ErrAborted) when the
// server leaves mid-literal, ErrClosed when another goroutine closes the
// session (and a stall *TimeoutError when the server stalls there:
// bodyReadStalls, run by TestDefectDefaultTimeouts beside its other
// waits for the defaults). It returned the raw connection error
// (io.ErrUnexpectedEOF, a *net.OpError), which matched neither. Found by
// the session audit in stop 32.
func TestPullBodyReadErrorTyped(t *testing.T) {
	const size = 1 << 20
	for _, c := range []struct {
		name  string
		after func(w io.Writer, r *bufio.Reader) // once half the body is sent
		close bool                               // another goroutine closes the session
		check func(err error) bool
	}{
		{name: "ServerLeaves", after: func(io.Writer, *bufio.Reader) {}, check: func(err error) bool {
			return errors.Is(err, session.ErrAborted) && errors.Is(err, io.ErrUnexpectedEOF)
		}},
		{name: "Closed", after: func(_ io.Writer, r *bufio.Reader) { io.Copy(io.Discard, r) }, close: true, check: func(err error) bool {
			return errors.Is(err, session.ErrClosed)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
				readCommand(r, w)
				fmt.Fprintf(w, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", size)
				w.Write([]byte(strings.Repeat("y", size/2)))
				c.after(w, r)
			})
			s := openDefaults(t, conn, nil)
			defer s.Close()
			ctx := hangCtx(t)
			p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
			if err != nil {
				t.Fatal(err)
			}
			it, err := p.Next(ctx)
			if err != nil || it.Body == nil {
				t.Fatalf("%+v %v", it, err)
			}
			if c.close {
				go func() {
					time.Sleep(50 * time.Millisecond)
					s.Close()
				}()
			}
			n, err := io.Copy(io.Discard, it.Body)
			if !c.check(err) {
				t.Errorf("read %d bytes of the body: %v (%T)", n, err, err)
			}
			_, werr := p.Wait(ctx)
			if !c.check(werr) {
				t.Errorf("Wait: %v", werr)
			}
			if err != nil && werr != nil && err.Error() != werr.Error() {
				t.Errorf("the body's read and Wait disagree: %v, %v", err, werr)
			}
		})
	}
}

// bodyReadStalls checks, with the defaults (stallBubble), that a server
// stalling in the middle of a streamed body ends the caller's read of it
// with the session's stall *TimeoutError after DefaultStallTimeout, and
// Wait with the same error (TestPullBodyReadErrorTyped).
func bodyReadStalls(t *testing.T) {
	const size = 1 << 20
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readLine(r)
		fmt.Fprintf(w, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", size)
		w.Write([]byte(strings.Repeat("y", size/2)))
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("first item %+v, %v", it, err)
		}
		start := time.Now()
		n, err := io.Copy(io.Discard, it.Body)
		var te *session.TimeoutError
		if !errors.As(err, &te) || te.What != session.TimeoutStall || !errors.Is(err, session.ErrAborted) {
			t.Fatalf("read %d bytes of the body: %v (%T); want an abort with a stall *TimeoutError", n, err, err)
		}
		if d := time.Since(start); d < session.DefaultStallTimeout-time.Second || d > session.DefaultStallTimeout+10*time.Second {
			t.Fatalf("the read took %v; want about %v", d, session.DefaultStallTimeout)
		}
		if _, werr := p.Wait(ctx); werr == nil || werr.Error() != err.Error() {
			t.Fatalf("Wait: %v; want the body's %v", werr, err)
		}
	})
}
