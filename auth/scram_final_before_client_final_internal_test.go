package auth

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/session"
)

// gatedMech runs the wrapped mechanism, but before it answers its first
// challenge waits until the reader has taken everything the server sent
// (synctest.Wait, in a bubble): the interleaving where the server's next
// challenge and its tagged OK are read while the mechanism computes its
// answer to the challenge before.
type gatedMech struct {
	Mechanism
	n       int
	entered chan struct{}
	ready   chan struct{}
}

func (m *gatedMech) Next(ch []byte) ([]byte, error) {
	m.n++
	if m.n == 1 {
		close(m.entered)
		<-m.ready
		synctest.Wait()
	}
	return m.Mechanism.Next(ch)
}

// TestSCRAMServerFinalBeforeClientFinalNotTrusted: an impostor server
// (it knows no ServerKey) sends the server-first-message, and then at
// once, not waiting for the client-final-message, a server-final-message
// with a wrong signature and its tagged OK. The client answers the
// server-first while the OK is read: its Continue, a response to the
// older challenge, must not be taken as the verdict on the one that came
// with the OK (the second challenge before the response is a protocol
// violation: the session aborts as it reads it). Authenticate must fail
// and the session end, not report
// success on a session logged in to a server never proven. Forced: the
// server sends the second challenge and the OK once the mechanism has
// taken the first, and the mechanism answers once the reader has read
// them. Library defaults, synctest bubble.
func TestSCRAMServerFinalBeforeClientFinalNotTrusted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, ready := make(chan struct{}), make(chan struct{})
		client, _ := scramServer(func(w io.Writer, r *bufio.Reader, tag string) {
			<-entered // the client took the server-first-message
			io.WriteString(w, "+ "+b64("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")+"\r\n"+tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
			close(ready)
		})
		ctx := context.Background()
		c := openRemote(t, ctx, client)
		defer c.Session().Close()
		inner := rfc7677Client()
		err := c.Authenticate(ctx, &gatedMech{Mechanism: inner, entered: entered, ready: ready})
		serr := c.Session().Err()
		if err == nil || !errors.Is(serr, session.ErrAborted) {
			t.Errorf("server-final with a wrong signature and the OK, sent before the client-final: Authenticate: %v; session: %v (state %v); want an error, the session aborted", err, serr, c.Session().State())
		}
	})
}
