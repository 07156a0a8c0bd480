package session_test

import (
	"net"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/transport"
)

// TestReview41RStartTLSDialledHost: imaplib's IMAP4(host).starttls()
// verifies the certificate against host; transport.Dial + session.Open +
// StartTLS refused with transport.ErrNoServerName unless the caller
// repeated the host in Options.ServerName or the tls.Config. A connection
// from Dial now remembers the host it was dialled as, and StartTLS
// verifies against it (real Dovecot, dialled as "localhost", a config
// with the server's CA and no ServerName, no Options.ServerName).
func TestReview41RStartTLSDialledHost(t *testing.T) {
	srv := dvServer(t)
	_, port, err := net.SplitHostPort(srv.PlainAddr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := transport.Dial(dvCtx(t), net.JoinHostPort("localhost", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := transport.ServerName(conn); got != "localhost" {
		t.Fatalf("transport.ServerName = %q, want localhost", got)
	}
	s := dvOpen(t, conn, nil)
	cfg := srv.TLSConfig()
	cfg.ServerName = ""
	if err := s.StartTLS(dvCtx(t), cfg); err != nil {
		t.Fatalf("StartTLS on a connection dialled as localhost: %v", err)
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
}
