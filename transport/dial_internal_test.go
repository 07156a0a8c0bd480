package transport

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestDialServerName: a connection from Dial tells the host it
// was dialled as (an IPv6 literal without brackets or zone), with and
// without DelayedAcks, and NetConn gives the *net.TCPConn; other
// connections tell none.
func TestDialServerName(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		ln, err := net.Listen(network, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network])
		if err != nil {
			if network == "tcp6" {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		addrs := map[string]string{"tcp4": "localhost:" + port, "tcp6": "[::1]:" + port}
		want := map[string]string{"tcp4": "localhost", "tcp6": "::1"}[network]
		if network == "tcp4" {
			// "localhost" may resolve to ::1 first: the listener is
			// 127.0.0.1 only.
			addrs[network] = "127.0.0.1:" + port
			want = "127.0.0.1"
		}
		for _, delayed := range []bool{false, true} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			conn, err := Dial(ctx, addrs[network], &Options{DelayedAcks: delayed})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if got := ServerName(conn); got != want {
				t.Errorf("%s DelayedAcks=%v: ServerName = %q, want %q", addrs[network], delayed, got, want)
			}
			nc, ok := conn.(interface{ NetConn() net.Conn })
			if !ok {
				t.Errorf("DelayedAcks=%v: no NetConn", delayed)
			} else if _, ok := nc.NetConn().(*net.TCPConn); !ok {
				t.Errorf("DelayedAcks=%v: NetConn is %T", delayed, nc.NetConn())
			}
			conn.Close()
		}
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := ServerName(a); got != "" {
		t.Errorf("ServerName of a pipe = %q", got)
	}
}
