package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestLongAnswersCyrus is TestLongAnswersDovecot on Cyrus: SORT, ESORT and
// THREAD answers for 10,000 messages (about 60 KB each), read by a session
// whose line bound is 32 KiB, standing for 150,000 messages under the
// default 1 MiB. The messages go in ten MULTIAPPENDs, to a Cyrus without
// its conversations database, which these answers do not use: with it,
// Cyrus's work per message was three times as much (8.8 s of CPU for the
// appends against 2.9 s), and the test took 58 to 63 s in make test.
func TestLongAnswersCyrus(t *testing.T) {
	// Parallel: it waits on a Cyrus of its own writing 10,000 messages;
	// it looks at nothing process-wide.
	t.Parallel()
	const n = 10000
	addr, c0 := cyAliceWith(t, testserver.CyrusOptions{NoConversations: true})
	// The MULTIAPPENDs of 10,000 messages (Cyrus writes each to disk) took
	// 50 to 70 s on a 2-core machine with other work on it (load average
	// 4 to 10): dvCtx's 60 s ran out in 3 runs of 4. A context of its
	// own, which only guards against a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	msgs := make([]commands.AppendMessage, n)
	for i := range msgs {
		m := fmt.Appendf(nil, "Subject: s%05d\r\nMessage-ID: <%d@imapkit>\r\n\r\nbody %d\r\n", longSubject(i, n), i, i)
		msgs[i] = commands.AppendMessage{R: bytes.NewReader(m), Size: int64(len(m))}
	}
	// In MULTIAPPENDs of 1,000: Cyrus says nothing while it commits a
	// MULTIAPPEND, and with one of 10,000 at load average 20 (-race, the
	// whole suite beside it) it said nothing for over the default 60 s
	// stall timeout after the last byte went (the session cut it: "no
	// byte from the server in 1m0s"). That bound is the library's
	// default on purpose; the set-up stays within it.
	for i := 0; i < n; i += 1000 {
		if _, err := c0.AppendMany(ctx, "INBOX", msgs[i:i+1000]); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := transport.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, conn, &auth.Options{Session: &session.Options{Tokenizer: &wire.TokenizerOptions{MaxLineLength: 32 << 10}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, "alice", "pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	checkLongAnswers(t, ctx, c, n)
}
