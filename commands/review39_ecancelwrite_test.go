package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview39ESplitStoreDeadlineMidWrite: a Store of a set long enough to go as
// many pipelined UID STORE commands (over 1 MB of sets), to a server that
// stops reading, with a deadline: the deadline cuts the write of a later
// part, which ends the session. Store's caller's own context ended, and
// docs/errors.md ("In code") says: "unless the context ended in the
// middle of writing the command: then err is an *AbortError wrapping the
// context's error". Since 33fedc3 only the part whose write was cut gets
// an error matching the context's (ownCancelError); the split run returns
// the first part's error (the session's *AbortError, whose
// cancelledWriteError does not unwrap), and Store's error no longer
// matches context.DeadlineExceeded, though it was Store's own deadline.
func TestReview39ESplitStoreDeadlineMidWrite(t *testing.T) {
	client, server := transport.Pipe()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] fake\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(rest, "SELECT ") {
				io.WriteString(server, "* 1 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n"+tag+" OK [READ-WRITE] done\r\n")
				break
			}
			io.WriteString(server, tag+" OK done\r\n")
		}
		<-release // reads nothing more
	}()
	t.Cleanup(func() {
		close(release)
		<-done
	})
	octx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := commands.Open(octx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	if _, err := c.Select(octx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	uids := make([]uint32, 0, 300000)
	for u := uint32(1); len(uids) < cap(uids); u += 2 {
		uids = append(uids, u)
	}
	ctx, cancel2 := context.WithTimeout(octx, 500*time.Millisecond)
	defer cancel2()
	_, err = c.Store(ctx, commands.UIDs(uids...), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{Silent: true})
	msg := ""
	if err != nil {
		msg = err.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
	}
	t.Logf("Store: %T %s; session: %v", err, msg, c.Session().Err() != nil)
	if ctx.Err() == nil || !errors.Is(err, session.ErrAborted) {
		t.Skipf("the deadline did not cut a write: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Store's own deadline cut its write and aborted the session, but its error does not match context.DeadlineExceeded (docs/errors.md: \"an *AbortError wrapping the context's error\"): %s", msg)
	}
}
