package auth

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestSCRAMServerFinalWithOKSucceeds: a SCRAM-SHA-256 server (RFC 7677's
// example, SASL-IR) sends its server-final-message, with the right
// signature, and the tagged OK in one write, not waiting for the
// client's empty response. The exchange is sound: the signature is
// right. authenticate's loop selects on p.Done() and p.Continuations()
// with both ready: when it takes Done, Wait returns the OK (the session's
// new lateChallenge only serves Command.OnContinue, which auth does not
// use), the "+ v=..." is never handed to the mechanism, and
// scramClient.complete fails with ErrServerNotVerified and closes the
// session: a proven server refused, at random. Run several times.
func TestSCRAMServerFinalWithOKSucceeds(t *testing.T) {
	for i := range 30 {
		st, err, _ := scramFinalWithOK(t, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
		if err != nil || st != session.StateAuth {
			t.Fatalf("run %d: right server-final-message sent with the OK: Authenticate: %v, state %v; want success in AUTH", i, err, st)
		}
	}
}

// TestSCRAMWrongServerFinalWithOKAborts: as
// TestSCRAMServerFinalWithOKSucceeds with a wrong server signature: the
// mechanism refuses it whichever of the "+" and the OK the loop takes
// first, and the session, which the OK took to AUTH, is aborted
// (ErrCancelAccepted), not left logged in to the unproven server.
func TestSCRAMWrongServerFinalWithOKAborts(t *testing.T) {
	for i := range 30 {
		_, err, serr := scramFinalWithOK(t, "AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
		if !errors.Is(err, ErrCancelAccepted) || !errors.Is(serr, session.ErrCancelAccepted) {
			t.Fatalf("run %d: wrong server-final-message sent with the OK: Authenticate: %v, session: %v; want ErrCancelAccepted, the session aborted", i, err, serr)
		}
	}
}

// fakeServer plays a server on the server end of a pipe: it greets with
// IMAP4rev1 and caps, reads the client's first command and runs serve
// with the connection, its reader and the command's tag; then it reads
// and discards what the client sends until the pipe closes. It returns
// the client end and a channel closed when the server is done.
func fakeServer(caps string, serve func(w io.Writer, r *bufio.Reader, tag string)) (net.Conn, <-chan struct{}) {
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 "+caps+"] hi\r\n")
		l, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(l, " ")
		serve(server, r, tag)
		io.Copy(io.Discard, r)
	}()
	return client, done
}

// openRemote opens a Client with the defaults on conn, labelled as a
// remote server (remoteConn).
func openRemote(t *testing.T, ctx context.Context, conn net.Conn) *Client {
	t.Helper()
	c, err := Open(ctx, &remoteConn{conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// b64 is s in base64.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// scramServer is a fakeServer of SCRAM-SHA-256 (SASL-IR) that answers the
// client-first-message of RFC 7677's example (rfc7677Client) with its
// server-first-message, then runs serve.
func scramServer(serve func(w io.Writer, r *bufio.Reader, tag string)) (net.Conn, <-chan struct{}) {
	return fakeServer("SASL-IR AUTH=SCRAM-SHA-256", func(w io.Writer, r *bufio.Reader, tag string) {
		io.WriteString(w, "+ "+b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")+"\r\n")
		serve(w, r, tag)
	})
}

// rfc7677Client is the SCRAM-SHA-256 client of RFC 7677's example (user
// "user", password "pencil", its nonce).
func rfc7677Client() *scramClient {
	m := NewSCRAMSHA256("", "user", "pencil").(*scramClient)
	m.nonce = "rOprNGfwEbeRWgbNEkqO"
	return m
}

// scramFinalWithOK runs SCRAM-SHA-256 with the RFC 7677 example against a
// server that sends the server-final-message v=sig in the same write as
// its tagged OK, and returns the session's state after it, Authenticate's
// error and the session's error.
func scramFinalWithOK(t *testing.T, sig string) (session.State, error, error) {
	t.Helper()
	client, done := scramServer(func(w io.Writer, r *bufio.Reader, tag string) {
		r.ReadString('\n') // client-final-message
		io.WriteString(w, "+ "+b64("v="+sig)+"\r\n"+tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openRemote(t, ctx, client)
	err := c.Authenticate(ctx, rfc7677Client())
	st, serr := c.Session().State(), c.Session().Err()
	c.Session().Close()
	client.Close()
	<-done
	return st, err, serr
}
