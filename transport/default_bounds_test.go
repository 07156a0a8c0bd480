package transport_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// TestDefaultBounds: with the defaults (a context without a deadline, nil
// Options), a TCP connect that hangs, a server that accepts and never
// answers the ClientHello, and the same after STARTTLS, end after
// DefaultDialTimeout and DefaultHandshakeTimeout with a *TimeoutError,
// the connection closed and no goroutine left. The three wait for the
// real defaults (30 s), side by side.
func TestDefaultBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the default bounds (30 s)")
	}
	checkGoroutines(t)
	p := getPKI(t)
	srv := startServer(t, silentHandler)

	check := func(op string, after time.Duration, start time.Time, err error) error {
		var te *transport.TimeoutError
		var ne net.Error
		switch d := time.Since(start); {
		case !errors.As(err, &te) || te.Op != op || te.After != after:
			return errors.New("got " + errString(err) + "; want a *TimeoutError of " + op)
		case !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout():
			return errors.New(errString(err) + ": does not wrap context.DeadlineExceeded or is no net.Error timeout")
		case !strings.HasPrefix(err.Error(), "transport: "+op+" with "):
			return errors.New(err.Error() + ": want the prefix transport: " + op + " with")
		case d < after || d > after+10*time.Second:
			return errors.New("took " + d.String() + "; want about " + after.String())
		}
		return nil
	}
	runs := map[string]func() error{
		"DialTLS": func() error {
			start := time.Now()
			_, err := transport.DialTLS(context.Background(), srv.addr(), p.clientConfig(), nil)
			return check("tls handshake", transport.DefaultHandshakeTimeout, start, err)
		},
		"StartTLS": func() error {
			conn, err := transport.Dial(context.Background(), srv.addr(), nil)
			if err != nil {
				return err
			}
			start := time.Now()
			_, err = transport.StartTLS(context.Background(), conn, "localhost", p.clientConfig())
			if err := check("tls handshake", transport.DefaultHandshakeTimeout, start, err); err != nil {
				return err
			}
			if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				return errors.New("conn not closed after the failed StartTLS: " + errString(err))
			}
			return nil
		},
	}
	if addr, ok := hangingAddr(t); ok {
		runs["Dial"] = func() error {
			start := time.Now()
			conn, err := transport.Dial(context.Background(), addr, nil)
			if err == nil {
				conn.Close()
			}
			return check("dial", transport.DefaultDialTimeout, start, err)
		}
	}
	errs := make(map[string]chan error)
	for name, run := range runs {
		ch := make(chan error, 1)
		errs[name] = ch
		go func() { ch <- run() }()
	}
	for name, ch := range errs {
		if err := <-ch; err != nil {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Logf("%s: ended by its default bound", name)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
