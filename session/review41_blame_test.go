package session_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview41SBlameByName: an untagged response that cannot be decoded
// (here an ESEARCH with MIN 0, refused since f858ae2..74a55ee) was
// charged to the oldest command in flight: a NOOP pipelined ahead of a
// SEARCH failed with the decode error, and the SEARCH ended OK with no
// result and no error (a fix helper noticed it). It goes to the oldest
// command that takes responses of that name now: the SEARCH fails, the
// NOOP does not.
func TestReview41SBlameByName(t *testing.T) {
	ctx, s := r41Open(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ESEARCH")
		var tags []string
		for len(tags) < 2 {
			l, err := c.ReadLine()
			if err != nil {
				return err
			}
			tags = append(tags, strings.Fields(l)[0])
		}
		c.Line(`* ESEARCH (TAG "` + tags[1] + `") UID MIN 0`)
		c.Reply(tags[0], "OK noop")
		c.Reply(tags[1], "OK search")
		return c.Serve()
	})
	noop, err := s.Start(ctx, &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	search, err := s.Start(ctx, &session.Command{Name: "UID SEARCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("RETURN (MIN) ALL") }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noop.Wait(ctx); err != nil {
		t.Errorf("NOOP: %v; want OK (the bad ESEARCH is not its answer)", err)
	}
	r, err := search.Wait(ctx)
	var de *codec.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("SEARCH: result %v, error %v; want its answer's *codec.DecodeError", r, err)
	}
}
