package commands_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestStoreSilentSeqExpungeInsideAnswer: a STORE .SILENT by sequence
// numbers returns no numbers, so an EXPUNGE read during its answer (which
// RFC 9051 section 5.5 forbids, but which renumbers nothing Store
// returns) is no error: the store was done. One whose answer holds a
// FETCH all the same (a server sends some anyway) is still failed with
// ErrRenumbered: that FETCH's number may name another message. Defaults.
func TestStoreSilentSeqExpungeInsideAnswer(t *testing.T) {
	ctx, c := fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 3, on: handlers{
		"STORE": answer(`* 3 EXPUNGE`),
	}})
	silent := &commands.StoreOptions{Silent: true}
	if _, err := c.Store(ctx, commands.SeqRange(1, 2), commands.AddFlags, []string{commands.FlagSeen}, silent); err != nil {
		t.Errorf("STORE 1:2 +FLAGS.SILENT with an EXPUNGE inside its answer: %v; want no error (no numbers returned)", err)
	}
	ctx, c = fakeClient(t, fakeServer{caps: "IMAP4rev1", exists: 3, on: handlers{
		"STORE": answer(`* 3 EXPUNGE`, `* 2 FETCH (FLAGS (\Seen \Flagged))`),
	}})
	res, err := c.Store(ctx, commands.SeqRange(1, 2), commands.AddFlags, []string{commands.FlagSeen}, silent)
	if !errors.Is(err, commands.ErrRenumbered) || res == nil || len(res.Messages) != 1 {
		t.Errorf("STORE .SILENT answered an EXPUNGE, then a FETCH: %v, %+v; want ErrRenumbered with the result", err, res)
	}
}

// TestStoreSeqExpungeInsideCutAnswer: a STORE by sequence numbers whose
// answer passes the session's MaxResultBytes (the default, 64 MiB: about
// 200,000 FETCH responses) with an EXPUNGE inside it took the cut answer
// as done and skipped the check of the EXPUNGE: Messages numbered after it
// named other messages, with no error. It now returns its result with an
// error wrapping ErrRenumbered (and the *session.ResultTooLargeError), the
// responses left out counted in Dropped. Defaults.
func TestStoreSeqExpungeInsideCutAnswer(t *testing.T) {
	const n = 205000
	c, _, _ := selectedServerStream(t, nil, "IMAP4rev1", n+10, func(cmd string) io.Reader {
		if !strings.HasPrefix(cmd, "STORE ") {
			return strings.NewReader("")
		}
		return hostile.Generate(n+1, func(i int64) string {
			switch {
			case i == 100:
				return "* 1 EXPUNGE"
			case i > 100:
				i-- // the numbers after the EXPUNGE: one less
			}
			return "* " + strconv.Itoa(int(i+1)) + " FETCH (FLAGS (\\Seen))"
		})
	})
	// Its own deadline (TestStoreLargeAnswer's): it only keeps a hang
	// from lasting.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := c.Store(ctx, commands.SeqRange(1, n), commands.AddFlags, []string{commands.FlagSeen}, nil)
	var big *session.ResultTooLargeError
	if !errors.Is(err, commands.ErrRenumbered) || !errors.As(err, &big) {
		t.Fatalf("STORE 1:%d with an EXPUNGE inside its cut answer: %v; want ErrRenumbered and the ResultTooLargeError", n, err)
	}
	if res == nil || res.Dropped == 0 || len(res.Messages)+res.Dropped != n {
		t.Fatalf("result %v; want it kept, the responses left out counted", res != nil)
	}
}
