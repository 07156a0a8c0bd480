package transport_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// TestDefaultBounds: with the defaults (a context without a deadline, no
// Timeout or Deadline in the Dialer), a TCP connect that hangs and a TLS
// handshake with a server that never answers the ClientHello (StartTLS,
// DialTLS) end after DefaultDialTimeout and DefaultHandshakeTimeout with a
// *TimeoutError, the connection closed and no goroutine left.
//
// Dial and StartTLS run on a synctest bubble's clock, where what hangs
// waits on channels only: the connect in the Dialer's Control hook (called
// before connect(2)) until its context ends, the handshake on a Pipe whose
// other end is silent. The bubble's clock then jumps to the bound, and the
// call must end exactly at it. DialTLS's handshake reads a real TCP
// socket, which no bubble's clock can wait on: it waits for the real
// default (30 s), so -short skips it; its time is checked from below only
// (a minute is returns's hang detector).
func TestDefaultBounds(t *testing.T) {
	checkGoroutines(t)
	t.Run("Dial", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			hang := &net.Dialer{ControlContext: func(ctx context.Context, _, _ string, _ syscall.RawConn) error {
				<-ctx.Done()
				return ctx.Err()
			}}
			start := time.Now()
			conn, err := transport.Dial(context.Background(), "127.0.0.1:143", &transport.Options{Dialer: hang})
			if err == nil {
				conn.Close()
			}
			checkDefaultBound(t, "dial", transport.DefaultDialTimeout, time.Since(start), true, err)
		})
	})
	p := getPKI(t)
	t.Run("StartTLS", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			conn, server := transport.Pipe()
			defer server.Close()
			start := time.Now()
			_, err := transport.StartTLS(context.Background(), conn, "localhost", p.clientConfig())
			checkDefaultBound(t, "tls handshake", transport.DefaultHandshakeTimeout, time.Since(start), true, err)
			if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("conn not closed after the failed StartTLS: %v", err)
			}
		})
	})
	t.Run("DialTLS", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for the default handshake bound (30 s) on the real clock")
		}
		srv := startServer(t, silentHandler)
		start := time.Now()
		var err error
		returns(t, "DialTLS to a silent server", func() {
			_, err = transport.DialTLS(context.Background(), srv.addr(), p.clientConfig(), nil)
		})
		checkDefaultBound(t, "tls handshake", transport.DefaultHandshakeTimeout, time.Since(start), false, err)
	})
}

// checkDefaultBound checks that err is the *TimeoutError of op's default
// bound after, which took d: exactly after on a bubble's clock (exact),
// at least after on the real one.
func checkDefaultBound(t *testing.T, op string, after, d time.Duration, exact bool, err error) {
	t.Helper()
	var te *transport.TimeoutError
	var ne net.Error
	switch {
	case !errors.As(err, &te) || te.Op != op || te.After != after:
		t.Errorf("got %v; want a *TimeoutError of %s after %v", err, op, after)
	case !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout():
		t.Errorf("%v: does not wrap context.DeadlineExceeded or is no net.Error timeout", err)
	case !strings.HasPrefix(err.Error(), "transport: "+op+" with "):
		t.Errorf("%v: want the prefix transport: %s with", err, op)
	case exact && d != after, d < after:
		t.Errorf("ended after %v; want its default bound, %v", d, after)
	}
}
