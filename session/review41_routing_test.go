package session_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview41RVanishedEarlierOverlapsProduct: a VANISHED (EARLIER) response is
// routed (routeLocked) by p.set.Overlaps(v.UIDs) for every UID command in
// flight. codec.SeqSet.Overlaps is O(r+q) for canonical sets but falls to
// a nested loop, O(r*q), when either set is not canonical, and a set
// parsed from the server is kept in the order sent: a server that lists
// the expunged UIDs in descending order (q ranges) makes the routing cost
// r*q for a command of r ranges. A UID FETCH ... (CHANGEDSINCE m
// VANISHED) of 1,300 ranges (what fits commands' default 8,000-byte set
// of single UIDs) and a 4 MB answer of 500,000 ranges cost seconds where
// the same answer costs ~0.1 s for a one-range command; the decoder's
// default bound allows 1,048,576 ranges per response, and a raw command
// may carry any number of ranges. The routing should cost O(r+q) (sort
// a copy of the server's set, or compact it once when decoded).
func TestReview41RVanishedEarlierOverlapsProduct(t *testing.T) {
	run := func(r, q int) time.Duration {
		var v strings.Builder
		v.WriteString("* VANISHED (EARLIER) ")
		for i := q; i > 0; i-- {
			if i != q {
				v.WriteByte(',')
			}
			v.WriteString(strconv.Itoa(2*i + 1000000))
		}
		line := v.String()
		ctx, s := r41Open(t, 120*time.Second, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1 CONDSTORE QRESYNC")
			cmd, err := c.Until("UID FETCH")
			if err != nil {
				return err
			}
			c.Line(line)
			c.Reply(cmd.Tag, "OK")
			return c.Serve()
		})
		if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
			t.Fatal(err)
		}
		var set codec.SeqSet
		for i := 0; i < r; i++ {
			set.AddNum(uint32(2*i + 1))
		}
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Messages: &set, Args: func(e *wire.Encoder) {
			e.SP().Raw(set.String()).SP().Raw("(FLAGS) (CHANGEDSINCE 1 VANISHED)")
		}})
		d := time.Since(start)
		if err != nil {
			t.Fatalf("UID FETCH: %v", err)
		}
		t.Logf("command of %4d ranges, VANISHED (EARLIER) of %d descending ranges (%d bytes): %v", r, q, len(line), d)
		return d
	}
	const q = 500000
	one := run(1, q)
	many := run(1300, q)
	ratio := float64(many) / float64(one)
	t.Logf("the same answer costs x%.1f for a command of 1,300 ranges", ratio)
	if ratio > 5 {
		t.Errorf("routing a VANISHED (EARLIER) costs O(r*q): %v for a command of 1,300 ranges against %v for one range (x%.1f), the answer being the same 4 MB", many, one, ratio)
	}
}
