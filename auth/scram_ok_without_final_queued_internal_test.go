package auth

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/session"
)

// completeGated is gatedMech that forwards complete() (the SCRAM check
// Authenticate makes after the OK) and, before it runs it, lets every
// other goroutine of the bubble run (synctest.Wait): the interleaving
// where a command queued behind the AUTHENTICATE is scheduled before
// Authenticate reaches complete().
type completeGated struct {
	gatedMech
	inner *scramClient
}

func (m *completeGated) complete() error {
	synctest.Wait()
	return m.inner.complete()
}

// TestSCRAMOKWithoutServerFinalHoldsQueued: an impostor server (no
// ServerKey) sends its server-first-message and then, not waiting for
// the client-final-message, its tagged OK, with no server-final-message
// at all. The client's answer to server-first (the client-final) is not
// a verdict on a finished exchange: the SCRAM client has proven nothing
// of the server (complete() refuses it). A NOOP another goroutine queued
// behind the AUTHENTICATE must not be written to that server. Today
// Continue's held branch takes the client-final as the verdict (no newer
// "+" queued) and releases the hold: the NOOP goes out before
// Authenticate's complete() closes the session. Forced: the mechanism
// answers server-first once the reader has read the OK; complete() runs
// after the other goroutines had their turn. Library defaults.
func TestSCRAMOKWithoutServerFinalHoldsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, ready := make(chan struct{}), make(chan struct{})
		after := make(chan []string, 1)
		client, _ := scramServer(func(w io.Writer, r *bufio.Reader, tag string) {
			<-entered // the client took the server-first-message
			io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
			close(ready)
			var lines []string
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					break
				}
				l = strings.TrimRight(l, "\r\n")
				lines = append(lines, l)
				if t, cmd, _ := strings.Cut(l, " "); cmd == "NOOP" {
					io.WriteString(w, t+" OK done\r\n")
				}
			}
			after <- lines
		})
		ctx := context.Background()
		c := openRemote(t, ctx, client)
		defer c.Session().Close()
		inner := rfc7677Client()
		noop := make(chan error, 1)
		go func() {
			<-entered // the AUTHENTICATE is in flight: the NOOP queues behind it
			_, err := c.Session().Run(ctx, &session.Command{Name: "NOOP"})
			noop <- err
		}()
		m := &completeGated{gatedMech: gatedMech{Mechanism: inner, entered: entered, ready: ready}, inner: inner}
		err := c.Authenticate(ctx, m)
		if err == nil {
			t.Errorf("OK with no server-final-message: Authenticate returned nil (state %v)", c.Session().State())
		}
		nerr := <-noop
		c.Session().Close()
		lines := <-after
		for _, l := range lines {
			if strings.Contains(l, "NOOP") {
				t.Errorf("the NOOP queued behind the AUTHENTICATE was written to a server SCRAM never verified (Authenticate: %v; NOOP: %v); lines after the OK: %q", err, nerr, lines)
			}
		}
		t.Logf("Authenticate: %v; NOOP: %v; lines after the OK: %q", err, nerr, lines)
	})
}
