package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
)

// TestSCRAMWrongSignatureThenOKNotTrusted: the SCRAM-SHA-256 server's
// final message carries a wrong signature (it does not know the
// password: a man in the middle, a phishing server), the client cancels
// with "*", and the server answers the "*" with OK (RFC 4422 section
// 3.5: it MUST fail an aborted exchange). Authenticate returns a
// *CanceledError wrapping ErrServerNotVerified, but the session stays
// open in state AUTH, logged in to the unproven server, and goes on
// taking commands: the caller's next SELECT or APPEND goes to it. A
// server that says OK with no signature at all gets its session closed
// (scramClient.complete, auth/client.go Authenticate); the same server
// one step later does not (auth/exchange.go cancel, case r != nil).
// On a pipe labelled as a remote server (SCRAM sends no password, so it
// runs there), defaults but for the tag prefix the transcript spells.
func TestSCRAMWrongSignatureThenOKNotTrusted(t *testing.T) {
	b := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	conn, wait := transcript.Start(t, `
		S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] hi
		C: A1 AUTHENTICATE SCRAM-SHA-256 `+b("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")+`
		S: + `+b("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")+`
		C: `+b("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")+`
		S: + `+b("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")+`
		C: *
		S: A1 OK [CAPABILITY IMAP4rev1 MOVE] welcome, whoever you are
	`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Open(ctx, &remoteConn{conn}, &Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	err = c.Authenticate(ctx, rfc7677Client())
	if !errors.Is(err, ErrServerNotVerified) {
		t.Fatalf("Authenticate: %v; want ErrServerNotVerified", err)
	}
	if st := c.Session().State(); st == session.StateAuth && c.Session().Err() == nil {
		t.Errorf("Authenticate returned %v, yet the session is open in state %v with the unproven server", err, st)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// remoteConn labels a pipe as a remote server (RFC 5737 address).
type remoteConn struct{ net.Conn }

func (*remoteConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 143} }
