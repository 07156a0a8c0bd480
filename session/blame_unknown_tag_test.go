package session_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// noopAnswered runs a NOOP on a hostile server, with the library's
// defaults (nil Options), that answers it with the lines of answer(tag)
// (tag is the NOOP's), in one write. It returns the NOOP's error and the
// session's afterwards.
func noopAnswered(t *testing.T, answer func(tag string) string) (runErr, sessErr error) {
	t.Helper()
	ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
		if err := c.PreAuth("IMAP4rev1"); err != nil {
			return err
		}
		noop, err := c.Expect("NOOP")
		if err != nil {
			return err
		}
		if err := c.WriteString(answer(noop.Tag) + "\r\n"); err != nil {
			return err
		}
		return c.Serve()
	})
	_, runErr = s.Run(ctx, &session.Command{Name: "NOOP"})
	return runErr, s.Err()
}

// unknownTagReason is the Reason of the *ProtocolError err holds, or "".
func unknownTagReason(err error) string {
	var pe *session.ProtocolError
	if !errors.As(err, &pe) {
		return ""
	}
	return pe.Reason
}

// TestBlameUnknownTag: a tagged line that cannot be decoded, whose tag is
// whole (the atom and its space: "Z9 ") and matches no command in flight,
// is the server out of step, as the decodable "Z9 OK x" is: the session
// aborts with the same *ProtocolError ("tagged response for an unknown
// tag"). Before, blame took it for an untagged line (no command wants an
// "OK") and pinned it on the oldest command in flight: the NOOP, whose own
// answer was a clean OK, failed with "part of the answer could not be
// decoded", and the session went on. A whole tag that is a prefix of the
// NOOP's (its tag without the last digit) is no misread either: it is
// what the server sent, and aborts as the decodable line does. Found by
// review.
func TestBlameUnknownTag(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stray func(tag string) string // the unknown tag, from the NOOP's
	}{
		{"Other", func(string) string { return "Z9" }},
		{"PrefixOfInFlight", func(tag string) string { return tag[:len(tag)-1] }},
		// The NOOP's tag and a ']', an ASTRING-CHAR: a whole tag that
		// is not the NOOP's. Before stop 53 the decoder read a tag as
		// an atom, which stops at the ']': "A1] OK x" gave the NOOP's
		// own "A1", not whole, and ended the NOOP with the
		// *codec.DecodeError as its own answer.
		{"InFlightAndBracket", func(tag string) string { return tag + "]" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rest := range []string{"OK x", ""} {
				strays := make(chan string, 1) // from the server's goroutine
				runErr, sessErr := noopAnswered(t, func(tag string) string {
					strays <- tc.stray(tag)
					return tc.stray(tag) + " " + rest + "\r\n" + tag + " OK done"
				})
				var stray string
				select {
				case stray = <-strays:
				default: // the NOOP ended before the server answered it
					t.Fatalf("the server never answered the NOOP: %v, %v", runErr, sessErr)
				}
				line := stray + " " + rest
				var de *codec.DecodeError
				if errors.As(runErr, &de) {
					t.Fatalf("NOOP, answered OK after %q: %v; want no *codec.DecodeError: the line is not its", line, runErr)
				}
				want := "tagged response for an unknown tag " + strconv.Quote(stray)
				if got := unknownTagReason(sessErr); got != want || !errors.Is(sessErr, session.ErrAborted) {
					t.Fatalf("after %q the session's error is %v; want an abort with a *session.ProtocolError %q", line, sessErr, want)
				}
				if got := unknownTagReason(runErr); got != want || !errors.Is(runErr, session.ErrAborted) {
					t.Fatalf("NOOP's error after %q: %v; want the session's abort", line, runErr)
				}
			}
		})
	}
}

// TestBlameUnknownTagKept: the attributions TestBlameUnknownTag leaves as
// they were. A tag the decoder could not read whole ("A%1 OK x": the atom
// stops at the "%" and gives "A", which may be the start of a real tag
// such as "A1") is blamed as an untagged line is, on the oldest command in
// flight: the NOOP ends with the *codec.DecodeError and the session goes
// on. An undecodable line with the NOOP's own tag, whole ("A1 ") or not
// ("A1"), ends the NOOP with it, and the session goes on. Library
// defaults.
func TestBlameUnknownTagKept(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(tag string) string
	}{
		{"MisreadTag", func(tag string) string { return tag[:1] + "%" + tag[1:] + " OK x\r\n" + tag + " OK done" }},
		{"OwnTagWhole", func(tag string) string { return tag + " " }},
		{"OwnTagNoSpace", func(tag string) string { return tag }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runErr, sessErr := noopAnswered(t, tc.answer)
			var de *codec.DecodeError
			if !errors.As(runErr, &de) || errors.Is(runErr, session.ErrAborted) {
				t.Fatalf("NOOP: %v; want its *codec.DecodeError, no abort", runErr)
			}
			if sessErr != nil {
				t.Fatalf("the session ended: %v; want it to go on", sessErr)
			}
		})
	}
}
