//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestProxyLoginSecrets: one client connection through "imapkit
// proxy" that keeps trying LOGIN (each refused by the server, as a client
// with a wrong or rotating password does, or a brute-forcer) makes the
// proxy's per-connection secretSet grow by four copies of every password,
// never trimmed, and re-sorted at each: the proxy's heap grows with the
// number of LOGIN lines.
func TestProxyLoginSecrets(t *testing.T) {
	up, err := hostile.Listen(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			if cmd.Name == "LOGIN" {
				if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] Authentication failed."); err != nil {
					return err
				}
				continue
			}
			if err := c.Answer(cmd); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &proxyConfig{upstream: &target{host: "127.0.0.1", addr: up.Addr()}, out: io.Discard, dialTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- serveProxy(ctx, ln, cfg, false) }()
	defer func() { cancel(); <-served }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	pad := fmt.Sprintf("%0200d", 0)
	seq := 0
	// batch sends n LOGIN attempts, 100 at a time, and reads the answers.
	batch := func(n int) {
		for done := 0; done < n; done += 100 {
			for k := 0; k < 100; k++ {
				seq++
				fmt.Fprintf(w, "a%d LOGIN user \"pw-%d-%s\"\r\n", seq, seq, pad)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 100; k++ {
				l, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if k == 99 && l[0] != 'a' {
					t.Fatalf("unexpected %q", l)
				}
			}
		}
	}
	const N = 3000
	batch(500)
	h0 := heapInUse()
	t0 := time.Now()
	batch(N)
	h1, d1 := heapInUse(), time.Since(t0)
	t1 := time.Now()
	batch(3 * N)
	h4, d4 := heapInUse(), time.Since(t1)
	t.Logf("proxy heap growth after %d LOGINs: %d B (%.0f B/LOGIN); after %d: %d B (%.0f B/LOGIN); time for the first N %v, for the next 3N %v",
		N, h1-h0, float64(h1-h0)/N, 4*N, h4-h0, float64(h4-h0)/(4*N), d1, d4)
	if g1, g4 := h1-h0, h4-h0; g4 > 1<<20 && g4 > 3*g1 {
		t.Errorf("the proxy's memory grows with the number of LOGIN attempts on one connection: +%d B after %d, +%d B after %d", g1, N, g4, 4*N)
	}
}

func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
