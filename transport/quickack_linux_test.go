//go:build linux

package transport_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"reflect"
	"testing"

	"github.com/imapkit/imapkit/transport"
)

// nagleServer answers each line it reads with a response of 3,000 bytes
// written in two pieces (2,000 then 1,000) with Nagle's algorithm on, as
// Cyrus writes its responses: the second piece waits for the ACK of the
// first.
func nagleServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.(*net.TCPConn).SetNoDelay(false)
				r := bufio.NewReader(c)
				first, second := make([]byte, 2000), make([]byte, 1000)
				second[len(second)-1] = '\n'
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					c.Write(first)
					c.Write(second)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line and reads the 3,000-byte answer.
func roundTrip(tb testing.TB, c net.Conn, buf []byte) {
	if _, err := io.WriteString(c, "x\n"); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		tb.Fatal(err)
	}
}

// TestDialQuickAck: by default Dial's connection wraps the *net.TCPConn
// (its methods promoted, NetConn returning it) and works; with
// DelayedAcks it is the *net.TCPConn itself.
func TestDialQuickAck(t *testing.T) {
	addr := nagleServer(t)
	ctx := context.Background()
	c, err := transport.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*net.TCPConn); ok {
		t.Fatal("the default connection is a bare *net.TCPConn")
	}
	nc, ok := c.(interface{ NetConn() net.Conn })
	if !ok {
		t.Fatal("no NetConn")
	}
	if _, ok := nc.NetConn().(*net.TCPConn); !ok {
		t.Fatalf("NetConn is %T", nc.NetConn())
	}
	if _, ok := c.(interface{ CloseWrite() error }); !ok {
		t.Fatal("CloseWrite is not promoted")
	}
	buf := make([]byte, 3000)
	for range 3 {
		roundTrip(t, c, buf)
	}
	d, err := transport.Dial(ctx, addr, &transport.Options{DelayedAcks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// With DelayedAcks it wraps the *net.TCPConn too (for ServerName,
	// since 31d4032), but not in the quick-ACK wrapper.
	if reflect.TypeOf(d) == reflect.TypeOf(c) {
		t.Fatalf("with DelayedAcks the connection is the quick-ACK one (%T)", d)
	}
	if nd, ok := d.(interface{ NetConn() net.Conn }); !ok {
		t.Fatalf("with DelayedAcks the connection (%T) has no NetConn", d)
	} else if _, ok := nd.NetConn().(*net.TCPConn); !ok {
		t.Fatalf("with DelayedAcks NetConn is %T", nd.NetConn())
	}
	roundTrip(t, d, buf)
}

// BenchmarkSplitResponse measures a request and a response that the
// server writes in two pieces with Nagle's algorithm on, over loopback:
// about 40 ms with delayed ACKs (the second piece waits for the ACK of
// the first), well under a millisecond with TCP_QUICKACK (the default).
func BenchmarkSplitResponse(b *testing.B) {
	addr := nagleServer(b)
	for _, c := range []struct {
		name string
		opts *transport.Options
	}{{"QuickAck", nil}, {"DelayedAcks", &transport.Options{DelayedAcks: true}}} {
		b.Run(c.name, func(b *testing.B) {
			conn, err := transport.Dial(context.Background(), addr, c.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			buf := make([]byte, 3000)
			for range 3 { // past the kernel's quickack start
				roundTrip(b, conn, buf)
			}
			b.ResetTimer()
			for b.Loop() {
				roundTrip(b, conn, buf)
			}
		})
	}
}
