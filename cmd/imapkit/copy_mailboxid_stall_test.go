package main

import (
	"bufio"
	"context"
	"io"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestCopyMailboxIDStallNotGarbage (found by review): mailboxID takes a *codec.DecodeError for
// a MAILBOXID the server garbled ("", nil: Cyrus 3.6). A destination that
// answers the STATUS with a lone " " and goes silent is cut by the stall
// timeout: the session is dead, and mailboxID must return that error, not
// "" and nil (oneMailbox then goes on as if the server had no MAILBOXID).
// The first form of the stall fix (stop 51) made the stall's
// *session.TimeoutError wrap the decoder's DecodeError, which errors.As
// found.
func TestCopyMailboxIDStallNotGarbage(t *testing.T) {
	mailboxIDAnswered(t, " ", func(ctx context.Context, s *session.Session, m *nameMapper) {
		id, err := m.mailboxID(ctx, "Foo")
		if s.Err() == nil {
			t.Fatalf("the session did not end (id %q, err %v)", id, err)
		}
		if err == nil {
			t.Errorf("mailboxID = %q, nil after the session aborted with %v: a stall taken for an undecodable MAILBOXID", id, s.Err())
		}
	})
}

// mailboxIDAnswered runs check, in a synctest bubble with the library's
// defaults, on a nameMapper whose destination session (PREAUTH, OBJECTID)
// is answered answer to its first command (the STATUS of mailboxID), then
// nothing: the server reads on until the test ends.
func mailboxIDAnswered(t *testing.T, answer string, check func(ctx context.Context, s *session.Session, m *nameMapper)) {
	synctest.Test(t, func(t *testing.T) {
		client, server := transport.Pipe()
		played := make(chan struct{})
		defer func() { server.Close(); <-played }()
		go func() {
			defer close(played)
			r := bufio.NewReader(server)
			io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 OBJECTID] hi\r\n")
			r.ReadString('\n') // the STATUS
			io.WriteString(server, answer)
			io.Copy(io.Discard, r)
		}()
		ctx := context.Background()
		s, err := session.Open(ctx, client, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check(ctx, s, &nameMapper{dst: commands.New(s)})
	})
}
