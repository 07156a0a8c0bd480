package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// r48COpenErr is a caller's own error.
type r48COpenErr struct{ msg string }

func (e *r48COpenErr) Error() string { return e.msg }

// TestReview48CNotSentOpenKeepsOtherSessionOut: the first Part.Open of a
// command (AppendMany's first message) fails with an error that wraps
// another session's cut command (a copy tool reading its message from a
// second session: ErrWriteCut, ErrAborted, that session's *StatusError)
// and the caller's own error. The command is not sent (ErrNotSent) and
// the session goes on; the error must not match ErrWriteCut (which says
// "this command was cut off, this session aborted": a caller would take
// "maybe sent, reconnect"), ErrAborted nor a *StatusError, but still
// matches the caller's own error, a context's error the Open wrapped,
// and gives the Open's error whole through *OpenError. With a context
// that can end (the Open runs on a goroutine of its own) and without.
// The NotSentError wrapped the Open's whole chain. Defaults.
func TestReview48CNotSentOpenKeepsOtherSessionOut(t *testing.T) {
	for _, cancelable := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelable=%v", cancelable), func(t *testing.T) {
			client, server := transport.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer server.Close()
				io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
				br := bufio.NewReader(server)
				for {
					l := readLine(br)
					if l == "" {
						return
					}
					tag, _, _ := strings.Cut(l, " ")
					io.WriteString(server, tag+" OK done\r\n")
				}
			}()
			t.Cleanup(func() { client.Close(); server.Close(); <-done })
			s := openDefaults(t, client, nil)
			ctx := context.WithoutCancel(context.Background())
			if cancelable {
				c, cancel := context.WithCancel(context.Background())
				defer cancel()
				ctx = c
			}
			// What another session's cut APPEND looks like to the
			// copy tool: its error chain, with a refusal and a
			// cancellation further in.
			other := fmt.Errorf("reading the source: %w (then %w, after %w)", session.ErrWriteCut,
				&session.StatusError{Command: "FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("gone")}}, context.Canceled)
			own := &r48COpenErr{"message 1 vanished"}
			openErr := fmt.Errorf("%w: %w", own, fmt.Errorf("%w; %w", other, session.ErrAborted))
			_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
				e.Atom("INBOX").SP().LiteralFunc(func() (io.Reader, int64, error) {
					return nil, 0, openErr
				}, false)
			}})
			if !errors.Is(err, session.ErrNotSent) {
				t.Fatalf("APPEND: %v; want not sent", err)
			}
			for _, e := range []error{session.ErrWriteCut, session.ErrAborted, session.ErrNo} {
				if errors.Is(err, e) {
					t.Errorf("the not-sent command's error matches %v (from the Open's chain): %v", e, err)
				}
			}
			var se *session.StatusError
			if errors.As(err, &se) {
				t.Errorf("the not-sent command's error holds a *StatusError (the Open's): %v", se)
			}
			var ab *session.AbortError
			if errors.As(err, &ab) {
				t.Errorf("the not-sent command's error holds an *AbortError: %v", ab)
			}
			var mine *r48COpenErr
			if !errors.As(err, &mine) || mine != own || !errors.Is(err, own) || !errors.Is(err, context.Canceled) {
				t.Errorf("the caller's own error or the context's is lost: %v", err)
			}
			var oe *session.OpenError
			if !errors.As(err, &oe) || oe.Err != openErr || !errors.Is(oe.Err, session.ErrWriteCut) {
				t.Errorf("the Open's error is not there whole: %v", err)
			}
			if !strings.Contains(err.Error(), openErr.Error()) {
				t.Errorf("the error's text lost the Open's: %v", err)
			}
			if _, err := s.Run(ctx20(t), &session.Command{Name: "NOOP"}); err != nil {
				t.Fatalf("NOOP after the command not sent: %v", err)
			}
		})
	}
}
