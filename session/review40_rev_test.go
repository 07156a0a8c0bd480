package session_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview40RTaggedCodeSecret: the tagged answer to LOGIN is now kept for
// Responses (keepCode), but keepAs redacts only the Text: a server that
// echoes the password in the code's arguments (or as the code's name) has it
// kept raw, while Result.Status (cloneStatus) redacts Code.Name and Code.Raw.
func TestReview40RTaggedCodeSecret(t *testing.T) {
	hsRun(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LOGIN")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "NO [X-ECHO "+hsPassword+"] wrong password"); err != nil {
			return err
		}
		return c.Serve()
	}, 0, 0, func(c *hsCase, conn net.Conn) {
		s := c.open(conn, hsOpts())
		if s == nil {
			return
		}
		res, err := c.run(loginCommand("alice", hsPassword))
		if !errors.Is(err, session.ErrNo) {
			c.t.Fatalf("LOGIN: %v; want a NO", err)
		}
		if res != nil && res.Status != nil && res.Status.Code != nil && strings.Contains(string(res.Status.Code.Raw), hsPassword) {
			c.t.Errorf("Result.Status holds the password (control)")
		}
		for _, r := range s.Responses("X-ECHO") {
			st, _ := r.(*codec.Status)
			if st != nil && st.Code != nil && strings.Contains(string(st.Code.Raw), hsPassword) {
				c.t.Errorf("Responses(\"X-ECHO\") holds the tagged LOGIN answer with the password unredacted in Code.Raw: %q", st.Code.Raw)
			}
		}
		c.s.Close()
	})
}

// TestReview40RWantFallbackUnannounced: a FETCH no command's set holds now goes
// to a FETCH command whose own Want takes it (targetLocked's fallback)
// instead of the unsolicited stream. countLocked then charges that command
// for a message above the count: a Want'd FETCH 1:5 whose own answers are
// all in order ends with an *UnannouncedError because of another message's
// stray FETCH, which without Want (or before the fallback) was only counted
// by Session.Unannounced.
func TestReview40RWantFallbackUnannounced(t *testing.T) {
	run := func(want bool) error {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			readCommand(r, w) // SELECT
			io.WriteString(w, "* 20 EXISTS\r\nA1 OK selected\r\n")
			tag := strings.Fields(readCommand(r, w))[0]
			io.WriteString(w, "* 1 FETCH (FLAGS ())\r\n* 25 FETCH (FLAGS (\\Seen))\r\n"+tag+" OK done\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		ctx := ctx20(t)
		if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
			t.Fatal(err)
		}
		cmd := &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:5").SP().Raw("(FLAGS)") }}
		if want {
			cmd.Want = func(r codec.Response) bool { _, c := r.(*codec.Continuation); return !c }
		}
		_, err := s.Run(ctx, cmd)
		return err
	}
	if err := run(false); err != nil {
		t.Fatalf("FETCH 1:5 without Want: %v", err)
	}
	if err := run(true); err != nil {
		t.Errorf("FETCH 1:5 with a Want of everything: %v; want nil, as without Want (the stray FETCH is not its answer)", err)
	}
}
