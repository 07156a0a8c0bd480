package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestCopyMailboxIDAbortNotGarbage (found by review, stop 52): mailboxID
// takes a *codec.DecodeError for a MAILBOXID the server garbled ("", nil:
// Cyrus 3.6), which ends that STATUS alone. A response whose rest cannot
// be skipped (a line past the tokenizer's bound: out of step) aborts the
// session with the decoder's DecodeError as its cause (docs/errors.md),
// so the STATUS's error, and every later command's, matches both
// session.ErrAborted and a DecodeError: mailboxID took a dead session for
// a server without MAILBOXID, and oneMailbox, for a mailbox holding our
// copies, told ensure there was no merge (the copy failed later, at
// another step, with the cause hidden). It must return the error. The
// library's default bounds (the line's, 1 MiB).
func TestCopyMailboxIDAbortNotGarbage(t *testing.T) {
	long := "* STATUS Foo (MAILBOXID (" + strings.Repeat("a", wire.DefaultMaxLineLength+1) + "))\r\n"
	mailboxIDAnswered(t, long, func(ctx context.Context, s *session.Session, m *nameMapper) {
		id, err := m.mailboxID(ctx, "Foo")
		if !errors.Is(s.Err(), session.ErrAborted) {
			t.Fatalf("the session did not abort (id %q, err %v, session %v)", id, err, s.Err())
		}
		var de *codec.DecodeError
		if !errors.As(s.Err(), &de) {
			t.Fatalf("the session's error %v holds no DecodeError: the case is not made", s.Err())
		}
		if err == nil {
			t.Errorf("mailboxID = %q, nil after the session aborted with %v: an abort taken for an undecodable MAILBOXID", id, s.Err())
		}
		if _, err := m.oneMailbox(ctx, "Foo", "foo", false, false); err == nil {
			t.Errorf("oneMailbox on the aborted session: no error")
		}
	})
}
