package session_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

func TestSmoke(t *testing.T) {
	srv := testserver.StartT(t, &testserver.Options{Seed: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(ctx, conn, &session.Options{Trace: tlog{t}, ServerName: srv.ServerName})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartTLS(ctx, srv.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(ctx, &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) { e.SP().AString("alice").SP().Password("pass") }})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("select: %d data", len(r.Data))
	r, err = s.Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Raw("(UID FLAGS ENVELOPE BODYSTRUCTURE)") }})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Data {
		f := d.(*codec.Fetch)
		t.Logf("uid %d subject %s", f.UID, f.Envelope.Subject)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
}

// tlog writes a trace to the test log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
