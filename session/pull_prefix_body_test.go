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

// bodyUIDFetch is a FETCH of message n (UID n) with a BODY[] of size
// bytes, streamed to a pulled command's caller (past MaxStringLiteral).
func bodyUIDFetch(n, size int) string {
	return fmt.Sprintf("* %d FETCH (UID %d BODY[] {%d}\r\n%s FLAGS ())\r\n", n, n, size, strings.Repeat("b", size))
}

// TestPullQueuePrefixSkipsLaterBodies: past MaxResultBytes, once a busy
// caller's queue has dropped a response (3, a FETCH without a body too
// large for the room left), what comes after it, a later FETCH with a
// body section small enough for the room left included, is skipped: the
// caller gets the items of 2 whole, nothing of 3 or 4, and the end with a
// Queued ResultTooLargeError; the session goes on. With waiting, the
// caller has taken the rest and waits when 4 comes. (A body left out for
// room alone fails when read and drops nothing after it:
// TestPullKeptBodiesBounded.) MaxResultBytes is the subject.
func TestPullQueuePrefixSkipsLaterBodies(t *testing.T) {
	for _, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiting=%v", waiting), func(t *testing.T) {
			took := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(took) }) }
			t.Cleanup(release)
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
				fetch := strings.Fields(readCommand(r, w))[0]
				io.WriteString(w, "* 1 FETCH (UID 1 FLAGS ())\r\n")
				noop := strings.Fields(readCommand(r, w))[0]
				io.WriteString(w, bodyUIDFetch(2, 100_000)+fmt.Sprintf("* 3 FETCH (UID 3 ENVELOPE (NIL \"%s\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", strings.Repeat("s", 150_000)))
				if waiting {
					io.WriteString(w, noop+" OK noop\r\n")
					<-took
				}
				io.WriteString(w, bodyUIDFetch(4, 70_000)+fetch+" OK done\r\n")
				if !waiting {
					io.WriteString(w, noop+" OK noop\r\n")
				}
				if after := strings.Fields(readCommand(r, w)); len(after) > 0 {
					io.WriteString(w, after[0]+" OK after\r\n")
				}
				io.Copy(io.Discard, r)
			})
			s := openDefaultsWith(t, conn, &session.Options{MaxResultBytes: 200_000})
			p, err := s.Start(hangCtx(t), pullUIDFetch("(UID BODY[] FLAGS ENVELOPE)"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Next(hangCtx(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := 0; ; i++ {
				if i == 2 { // 2's section and 2 taken: the caller waits for 4
					release()
				}
				it, err := p.Next(hangCtx(t))
				if err != nil {
					got = append(got, fmt.Sprintf("end %v", err))
					break
				}
				f := it.Response.(*codec.Fetch)
				if it.Body != nil {
					n, rerr := io.Copy(io.Discard, it.Body)
					got = append(got, fmt.Sprintf("%d section %d %v", f.UID, n, errors.Is(rerr, session.ErrResultTooLarge)))
				} else {
					got = append(got, fmt.Sprintf("%d", f.UID))
				}
			}
			release()
			if want := `["2 section 100000 false" "2" "end EOF"]`; fmt.Sprintf("%q", got) != want {
				t.Fatalf("items %q; want %s", got, want)
			}
			_, err = p.Wait(hangCtx(t))
			var tl *session.ResultTooLargeError
			if !errors.As(err, &tl) || !tl.Queued || tl.Dropped != 2 {
				t.Fatalf("Wait: %v; want a Queued ResultTooLargeError, 3 and 4 dropped", err)
			}
			if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
				t.Fatalf("the session did not go on: %v", err)
			}
		})
	}
}
