//go:build linux

package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// hangingAddr returns the address of a listening socket whose accept
// queue is full: on Linux it silently drops new SYNs, so that a TCP
// connect to it hangs; ok is false when that cannot be arranged. The
// socket is closed when t ends.
func hangingAddr(t *testing.T) (addr string, ok bool) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)

	// Fill the accept queue (never accepted) until a connect hangs.
	full := false
	for i := 0; i < 8 && !full; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			full = true
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr, full
}

// TestDialTimeout makes a TCP connect hang: on Linux, a listening socket
// whose accept queue is full silently drops new SYNs. Dial must give up
// when its context expires.
func TestDialTimeout(t *testing.T) {
	checkGoroutines(t)
	addr, ok := hangingAddr(t)
	if !ok {
		t.Skip("could not make a TCP connect hang on this system")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	// What ended the connect is checked, not how long it took: the
	// context (its error wrapped), not the package's default bound (a
	// *TimeoutError, 30 s later) nor the kernel's SYN retries (minutes:
	// returns's minute detects that hang).
	var conn net.Conn
	var err error
	returns(t, "Dial against a full accept queue", func() { conn, err = transport.Dial(ctx, addr, nil) })
	if err == nil {
		conn.Close()
		t.Fatal("Dial succeeded against a full accept queue")
	}
	hasPrefix(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if te := (*transport.TimeoutError)(nil); errors.As(err, &te) {
		t.Errorf("error %v is the default bound's, not the context's", err)
	}

	// Cancellation works the same way.
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	if _, err := transport.Dial(ctx2, addr, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled dial: %v does not wrap context.Canceled", err)
	}
}
