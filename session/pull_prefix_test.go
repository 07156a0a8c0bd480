package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// envUIDFetch is a FETCH of message n (UID n) with an ENVELOPE of about
// 1,100 bytes: two pass a MaxResultBytes of 2048, and one leaves room
// for a small FETCH.
func envUIDFetch(n int) string {
	return fmt.Sprintf("* %d FETCH (UID %d ENVELOPE (NIL \"%s\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", n, n, strings.Repeat("s", 1100))
}

// TestPullQueueKeepsPrefix: past MaxResultBytes, the queue of a pulled
// command whose caller did not take its responses (it ran a NOOP) drops
// every response after the first it drops: a smaller one that fits the
// room left is not queued after the hole, and not handed to a caller that
// took the rest and waits either. The answer kept is a prefix, as the
// typed client's collecting methods keep past their own bound, so that
// their result does not hang on how far the reader got ahead (revQ56).
// MaxResultBytes is the subject, so small.
func TestPullQueueKeepsPrefix(t *testing.T) {
	for _, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiting=%v", waiting), func(t *testing.T) {
			took := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(took) }) }
			t.Cleanup(release) // a failed test does not leave the server waiting
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
				fetch := strings.Fields(readCommand(r, w))[0] // UID FETCH
				io.WriteString(w, "* 1 FETCH (UID 1 FLAGS ())\r\n")
				noop := strings.Fields(readCommand(r, w))[0] // NOOP, pipelined
				io.WriteString(w, envUIDFetch(2)+envUIDFetch(3))
				if waiting {
					// The NOOP ends; the caller takes 2 and waits
					// for the next (or not yet: either way).
					io.WriteString(w, noop+" OK noop\r\n")
					<-took
				}
				io.WriteString(w, "* 4 FETCH (UID 4 FLAGS ())\r\n"+fetch+" OK done\r\n")
				if !waiting {
					io.WriteString(w, noop+" OK noop\r\n")
				}
				io.Copy(io.Discard, r)
			})
			s := openDefaultsWith(t, conn, &session.Options{MaxResultBytes: 2048})
			p, err := s.Start(hangCtx(t), pullUIDFetch("(UID FLAGS ENVELOPE)"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Next(hangCtx(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
				t.Fatal(err)
			}
			var uids []uint32
			it, err := p.Next(hangCtx(t))
			if err == nil {
				uids = append(uids, it.Response.(*codec.Fetch).UID)
			}
			release()
			uids = append(uids, pullUIDs(t, p)...)
			_, err = p.Wait(hangCtx(t))
			var tl *session.ResultTooLargeError
			if fmt.Sprint(uids) != "[2]" || !errors.As(err, &tl) || !tl.Queued || tl.Dropped != 2 {
				t.Fatalf("after 1 and a NOOP: %v, %v; want [2] and Queued with 2 dropped (3, past the bound, and 4 after it)", uids, err)
			}
		})
	}
}
