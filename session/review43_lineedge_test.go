package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview43LLineAtBoundSession: with the default options, a response
// line of exactly wire.DefaultMaxLineLength bytes (CRLF not counted, as
// docs/limits.md and the tokenizer count it) is read; one byte longer
// aborts the session with wire.ErrLineTooLong. Before, the tokenizer's
// buffer, grown by doubling to exactly 1 MiB, could not take the line's
// CRLF, and the session aborted on a line within the documented bound.
func TestReview43LLineAtBoundSession(t *testing.T) {
	max := wire.DefaultMaxLineLength
	line := func(prefix string, n int, suffix string) string {
		return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix + "\r\n"
	}
	for _, c := range []struct {
		name           string
		prefix, suffix string
	}{
		{"text", "* OK [ALERT] ", ""},
		{"flags", "* 1 FETCH (FLAGS (", "))"},
		{"quoted", "* LIST () \"/\" \"", "\""},
	} {
		for _, n := range []int{max, max + 1} {
			s := r42Open(t, nil, func(tag, cmd string) string {
				if strings.HasPrefix(cmd, "NOOP") {
					return line(c.prefix, n, c.suffix) + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			r, err := s.Run(ctx, &session.Command{Name: "NOOP", Want: func(codec.Response) bool { return true }})
			cancel()
			if n == max {
				if err != nil {
					t.Errorf("%s: a line of %d bytes (the bound): %v; want it read", c.name, n, err)
				} else if len(r.Data) != 1 {
					t.Errorf("%s: a line of %d bytes: %d responses; want 1", c.name, n, len(r.Data))
				}
				continue
			}
			if !errors.Is(err, session.ErrAborted) || !errors.Is(err, wire.ErrLineTooLong) {
				t.Errorf("%s: a line of %d bytes (one past the bound): %v; want an abort matching wire.ErrLineTooLong", c.name, n, err)
			}
		}
	}
}
