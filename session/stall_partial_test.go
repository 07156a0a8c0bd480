package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestStallPartialLine: a server that answers a command with part of a
// line and then goes silent is cut by the stall timeout within the window
// docs/limits.md gives (between 1 and 1 1/16 stall timeouts after the last
// byte: 60-64 s with the defaults), whether what it sent is a valid start
// (a partial atom, quoted string, literal header, a CR without its LF) or
// already malformed (a lone " " where a response starts, a stray byte
// after a complete FETCH), tagged or not; and the error is the stall's, a
// *TimeoutError matching os.ErrDeadlineExceeded, not a decode error. Found
// by review: a lone " " was cut only after two stall timeouts plus the
// slack (123.75 s): the decoder reported the syntax error without the
// timeout it met skipping the rest of the line, and the session, taking
// it for one bad response, read again with a new deadline. "every 119 s":
// the trick repeated (a malformed line ended, the next begun, a byte
// every 119 s) held the session until CommandTimeout (15 min); now the
// first stall ends it. With the defaults, in testing/synctest bubbles.
func TestStallPartialLine(t *testing.T) {
	for name, parts := range map[string][]string{
		"lone space":             {" "},
		"lone paren":             {")"},
		"partial atom":           {"* 1 EX"},
		"partial quoted":         {`* OK [BADCHARSET ("ab`},
		"partial literal header": {"* 1 FETCH (BODY[] {12"},
		"partial literal body":   {"* 1 FETCH (BODY[] {12}\r\nabc"},
		"CR without LF":          {"* OK hi\r"},
		"tagged partial":         {"%T O"},
		"tagged malformed":       {"%T OK [UIDNEXT x"},
		"stray byte after FETCH": {"* 1 FETCH (UID 1) x"},
		"every 119 s":            {" ", "\r\n ", "\r\n ", "\r\n ", "\r\n ", "\r\n ", "\r\n ", "\r\n ", "\r\n "},
	} {
		t.Run(name, func(t *testing.T) {
			stallBubbleLast(t, func(r *bufio.Reader, w io.Writer, last chan<- time.Time) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
				line, _ := r.ReadString('\n') // the NOOP: the stall timeout is armed
				tag, _, _ := strings.Cut(line, " ")
				var at time.Time
				for i, p := range parts {
					// The first part a second after the arming, so
					// that the slack shows (TestStallReadWithinSlack);
					// the next ones 119 s apart.
					if i == 0 {
						time.Sleep(time.Second)
					} else {
						time.Sleep(119 * time.Second)
					}
					if _, err := io.WriteString(w, strings.ReplaceAll(p, "%T", tag)); err != nil {
						break // the session ended it
					}
					at = time.Now()
				}
				last <- at
				io.Copy(io.Discard, r)
			}, func(t *testing.T, s *session.Session, ctx context.Context, last <-chan time.Time) {
				_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
				end := time.Now()
				s.Close() // the server's next write fails: it sends no more
				d := end.Sub(<-last)
				var te *session.TimeoutError
				if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutStall || !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("got %v; want an abort with a stall *TimeoutError", err)
				}
				if lo, hi := session.DefaultStallTimeout, session.DefaultStallTimeout+session.DefaultStallTimeout/16; d < lo || d > hi {
					t.Errorf("stall detected %v after the last byte; docs/limits.md: between %v and %v", d, lo, hi)
				}
			})
		})
	}
}

// TestStallAfterMalformedIsNotDecodeError (found by review): a server that
// sends a lone " " and goes silent is cut by the stall timeout (stop 51);
// the session's error is the stall's *TimeoutError. docs/errors.md: a *codec.DecodeError is "a
// response that could not be decoded ... the session goes on", and callers
// branch on it (cmd/imapkit copy_names.go mailboxID takes a DecodeError for
// "the server gave garbage, no MAILBOXID" and returns "", nil). The first form
// of the fix made the stall's TimeoutError.Err the decoder's DecodeError, so
// errors.As(err, **codec.DecodeError) is true for an aborted session: a
// dead connection is taken for one bad response. A plain stall (no byte)
// does not match it; nor does this one: the TimeoutError's Err is the
// read's failure.
func TestStallAfterMalformedIsNotDecodeError(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r.ReadString('\n')
		io.WriteString(w, " ")
		io.Copy(io.Discard, r)
	}, func(t *testing.T, s *session.Session, ctx context.Context) {
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		var te *session.TimeoutError
		if !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("got %v after %v; want a stall *TimeoutError", err, time.Since(start))
		}
		var de *codec.DecodeError
		if errors.As(err, &de) {
			t.Errorf("the stall's error matches *codec.DecodeError (%v; TimeoutError.Err = %v): callers take a dead session for one undecodable response", err, te.Err)
		}
		if errors.As(s.Err(), &de) {
			t.Errorf("the session's error matches *codec.DecodeError: %v", s.Err())
		}
	})
}
