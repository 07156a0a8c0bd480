package session_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestStartTLSNoServerName: StartTLS with no server name to verify the
// certificate against (the default Options, a nil config) is refused
// before STARTTLS is sent, with transport.ErrNoServerName, and the session
// goes on. STARTTLS was sent, the server switched to TLS, and the session
// was lost with an untyped error. Found by the fault audit of 2026-12-04.
func TestStartTLSNoServerName(t *testing.T) {
	got := make(chan string, 10)
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			got <- cmd.Name
			if err := c.Answer(cmd); err != nil {
				return err
			}
		}
	})
	t.Cleanup(func() { srv.Close() })
	ctx := hangCtx(t)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.StartTLS(ctx, nil); !errors.Is(err, transport.ErrNoServerName) {
		t.Fatalf("StartTLS without a server name: %v; want transport.ErrNoServerName", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
	if name := <-got; name != "NOOP" {
		t.Fatalf("the server got %s first", name)
	}
}

// startTLSStalls checks, with the defaults and a context with a long
// deadline, that a server going silent after STARTTLS's OK has the
// handshake cut by the stall timeout with a *session.TimeoutError, in
// StartTLS's result and the session's end (it was the raw i/o timeout,
// matching neither ErrTimeout nor *TimeoutError). Run by
// TestDefectDefaultTimeouts in a synctest bubble, cliCfg the client's
// config of testserver.TLSConfigs.
func startTLSStalls(cliCfg *tls.Config) error {
	conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.Until("STARTTLS")
		if err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS")
		return c.Stall()
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	err = s.StartTLS(ctx, cliCfg)
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall || !errors.Is(err, session.ErrTimeout) {
		return fmt.Errorf("StartTLS: %v; want a stall *session.TimeoutError", err)
	}
	if d := time.Since(start); d < session.DefaultStallTimeout || d > session.DefaultStallTimeout+10*time.Second {
		return fmt.Errorf("the handshake was cut after %v; want about %v", d, session.DefaultStallTimeout)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); !errors.As(err, &te) || !errors.Is(err, session.ErrAborted) {
		return fmt.Errorf("NOOP after: %v; want the session aborted with the *session.TimeoutError", err)
	}
	return nil
}
