package commands_test

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestStartTLSRefusedUnderCompress: COMPRESS=DEFLATE, then
// UNAUTHENTICATE (back to NONAUTH, where STARTTLS is valid), then
// STARTTLS: the handshake would run on the raw connection under the
// deflate stream, which stays on (RFC 4978 has no way to turn it off),
// the session writing TLS records that the server inflates as garbage.
// StartTLS refuses, sending nothing: ErrCompressActive. Defaults.
func TestStartTLSRefusedUnderCompress(t *testing.T) {
	starttls := make(chan string, 1)
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		if err := c.PreAuth("IMAP4rev1 COMPRESS=DEFLATE UNAUTHENTICATE STARTTLS"); err != nil {
			return err
		}
		cmd, err := c.Expect("COMPRESS")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK DEFLATE active"); err != nil {
			return err
		}
		if err := c.Deflate(); err != nil {
			return err
		}
		return serveWatching(c, "STARTTLS", func(cmd *hostile.Command) error {
			starttls <- cmd.Line
			return c.Reply(cmd.Tag, "NO not under COMPRESS")
		})
	})
	c, ctx := openRemote(t, conn, srv)
	if err := c.Compress(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Session().State(); st != session.StateNonAuth {
		t.Fatalf("after UNAUTHENTICATE: state %v", st)
	}
	err := c.StartTLS(ctx, &tls.Config{ServerName: "imap.example"})
	if !errors.Is(err, session.ErrCompressActive) {
		t.Errorf("StartTLS under COMPRESS: %v; want ErrCompressActive", err)
	}
	select {
	case line := <-starttls:
		t.Errorf("the server got %q; want nothing sent", line)
	default:
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("NOOP after the refused StartTLS: %v; want the session going on", err)
	}
}
