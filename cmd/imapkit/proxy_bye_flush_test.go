package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// bufferedUpstream is pipeProxySession's option that puts a buffer of
// unbounded size between the fake server's writes and the proxy's reads,
// as a kernel's receive buffer is: the server's writes (and its close)
// complete at once, whether or not the proxy reads them. Without it an
// in-memory server's write waits for the proxy's read (net.Pipe).
func bufferedUpstream(serve func(c net.Conn)) func(*proxyConfig) {
	return func(cfg *proxyConfig) {
		cfg.hooks.dial = func(ctx context.Context, addr string) (net.Conn, error) {
			aw, br := net.Pipe() // proxy to server
			sw, sr := net.Pipe() // server to the buffer
			qw, pr := net.Pipe() // the buffer to the proxy
			chunks := make(chan []byte, 1<<12)
			go func() { // the buffer takes all the server writes
				defer close(chunks)
				for {
					b := make([]byte, 4<<10)
					n, err := sr.Read(b)
					if n > 0 {
						chunks <- b[:n]
					}
					if err != nil {
						return
					}
				}
			}()
			go func() { // and gives it to the proxy as it reads
				failed := false
				for b := range chunks {
					if !failed && writeAll(qw, b) != nil {
						failed = true
						sr.Close() // the server's next write fails
					}
				}
				qw.Close()
			}()
			serverEnd := &halfConn{r: br, w: sw}
			go func() {
				defer serverEnd.Close()
				serve(serverEnd)
			}()
			return &halfConn{r: pr, w: aw}, nil
		}
	}
}

func writeAll(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}

// slowConn is a client's connection that, once slow is set, reads at
// most n bytes at a time, one read each pause (on the bubble's clock): a
// client that reads slowly but reads, below any TLS layer.
type slowConn struct {
	net.Conn
	n     int
	pause time.Duration
	slow  atomic.Bool
}

func (c *slowConn) Read(p []byte) (int, error) {
	if c.slow.Load() {
		time.Sleep(c.pause) // the client's pace, on the bubble's clock
		p = p[:min(len(p), c.n)]
	}
	return c.Conn.Read(p)
}

// TestProxyByeSlowClientGetsAll: a server says "* BYE", sends 40 KiB more
// (lines of 1 KiB) and closes at once; the client reads them slowly (256
// bytes each 5 s at its connection: far slower than the --timeout per 32
// KiB write, but never 30 s without reading), in the clear and over TLS
// (--tls). The client must get every byte the server sent, then the
// connection's end. Before, two faults lost them: a write to the client
// had to be whole within the --timeout (not make progress within it, as
// the docs say): the proxy's flush of 32 KiB timed out, the rest was
// dropped, and the trace said the client "reads nothing"; and the
// server's 30 s after its BYE ran while the proxy was writing to the
// client: the server's bytes and its close, already in the proxy's
// socket, were dropped at the BYE's bound. Over TLS the bound must be
// below the TLS layer: a tls.Conn's write that timed out fails for good.
// In a synctest bubble, with the proxy's defaults.
func TestProxyByeSlowClientGetsAll(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := "in the clear"
		if useTLS {
			name = "over TLS"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { byeSlowClientGetsAll(t, useTLS) })
		})
	}
}

func byeSlowClientGetsAll(t *testing.T, useTLS bool) {
	var sent strings.Builder
	sent.WriteString("* BYE going\r\n")
	for i := 0; sent.Len() < 40<<10; i++ {
		sent.WriteString(fmt.Sprintf("* OK [ALERT] %04d %s\r\n", i, strings.Repeat("x", 1000)))
	}
	opts := []func(*proxyConfig){bufferedUpstream(func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return
		}
		io.WriteString(c, sent.String())
	})}
	var clientTLS *tls.Config
	if useTLS {
		var serverTLS *tls.Config
		serverTLS, clientTLS = localhostTLS(t)
		opts = append(opts, func(cfg *proxyConfig) {
			cfg.implicitTLS = true
			cfg.downTLS = serverTLS
		})
	}
	raw, trace, done := pipeProxySession(t, nil, opts...)
	sc := &slowConn{Conn: raw, n: 256, pause: 5 * time.Second}
	var client net.Conn = sc
	if useTLS {
		client = tls.Client(sc, clientTLS)
	}
	br := bufio.NewReader(client)
	if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
		t.Fatalf("greeting %q (%v)", l, err)
	}
	io.WriteString(client, "a1 NOOP\r\n")
	sc.slow.Store(true)
	got, err := io.ReadAll(br)
	if err != nil || string(got) != sent.String() {
		t.Errorf("the client read %d bytes (%v); want the %d the server sent, then the end", len(got), err, sent.Len())
	}
	<-done
	if s := trace.String(); strings.Contains(s, "made no progress") || strings.Contains(s, "did not close") {
		t.Errorf("the trace blames a side that did not stall:\n%s", s)
	}
}

// TestProxyByeBoundNotResetByServer: a server that says "* BYE" and then
// goes on sending (a line every 10 s, never closing) to a client that
// reads at once gets the --timeout of the proxy's waiting on it in all,
// not a new one at each line: its activity does not reset the bound
// (else a server trickling after its BYE would hold the connection for
// as long as it liked). The client gets each line the proxy read, then
// the end, and the trace says why. This bound alone does not hold a
// server that trickles to a client reading slowly (the proxy, writing,
// hardly waits on the server: TestProxyByeTrickleToSlowClientBounded),
// nor one that sends flat out (TestProxyByeServerBytesBounded): byeWait's
// other two bounds do. In a synctest bubble, with the proxy's defaults;
// the bubble's clock measures the bound.
func TestProxyByeBoundNotResetByServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		served := make(chan struct{})
		client, trace, done := pipeProxySession(t, nil, bufferedUpstream(func(c net.Conn) {
			defer close(served)
			io.WriteString(c, "* OK ready\r\n")
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				return
			}
			io.WriteString(c, "* BYE going\r\n")
			for i := 0; i < 1000; i++ { // bounded: a hang detector of its own
				time.Sleep(10 * time.Second)
				if _, err := fmt.Fprintf(c, "* OK tick %d\r\n", i); err != nil {
					return
				}
			}
		}))
		br := bufio.NewReader(client)
		if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
			t.Fatalf("greeting %q (%v)", l, err)
		}
		io.WriteString(client, "a1 NOOP\r\n")
		if l, err := br.ReadString('\n'); err != nil || l != "* BYE going\r\n" {
			t.Fatalf("read %q (%v); want the server's BYE", l, err)
		}
		bye := time.Now()
		rest, err := io.ReadAll(br)
		ended := time.Now()
		if err != nil || !strings.HasPrefix(string(rest), "* OK tick 0\r\n") || !strings.HasSuffix(string(rest), "\r\n") {
			t.Errorf("after the BYE the client read %q (%v); want whole tick lines, then the end", rest, err)
		}
		if took, bound := ended.Sub(bye), 30*time.Second; took > bound {
			t.Errorf("the session ended %v after the server's BYE; want the --timeout (%v) at most; trace:\n%s", took, bound, trace.String())
		}
		<-done
		<-served // its next write after the proxy's close fails
		const why = "* server side: the server said BYE and did not close the connection within 30s (--timeout): closing"
		if s := trace.String(); !strings.Contains(s, why) {
			t.Errorf("the trace lacks %q:\n%s", why, s)
		}
	})
}

// TestProxyByeTrickleToSlowClientBounded: a server says "* BYE", then
// sends a line every 10 s and does not close; the client reads a byte
// every 25 s (never 30 s without reading: not a stall). The proxy hardly
// waits on the server (its lines are in the proxy's socket before it
// reads), so the --timeout of that waiting is never spent: the
// connection must still end within proxyByeCloseTimeouts of the
// --timeout from the BYE (32 minutes), and the trace say why. Before, it
// went on for as long as the server sent (and the client read what was
// buffered): hours. In a synctest bubble, with the proxy's defaults; the
// bubble's clock measures the bound.
func TestProxyByeTrickleToSlowClientBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sent syncBuffer // what the server sent
		served := make(chan struct{})
		client, trace, done := pipeProxySession(t, nil, bufferedUpstream(func(c net.Conn) {
			defer close(served)
			io.WriteString(c, "* OK ready\r\n")
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				return
			}
			io.WriteString(io.MultiWriter(c, &sent), "* BYE going\r\n")
			for i := 0; i < 1000; i++ { // bounded: a hang detector of its own
				time.Sleep(10 * time.Second)
				if _, err := fmt.Fprintf(io.MultiWriter(c, &sent), "* OK tick %d\r\n", i); err != nil {
					return
				}
			}
		}))
		sc := &slowConn{Conn: client, n: 1, pause: 25 * time.Second}
		br := bufio.NewReader(sc)
		if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
			t.Fatalf("greeting %q (%v)", l, err)
		}
		io.WriteString(client, "a1 NOOP\r\n")
		bye := time.Now() // the server says BYE at once (no time passes)
		sc.slow.Store(true)
		got, err := io.ReadAll(br)
		ended := time.Now()
		// The client sees the end at its next read: a pause after it.
		if bound := proxyByeCloseTimeouts * 30 * time.Second; ended.Sub(bye) > bound+sc.pause {
			t.Errorf("the session ended %v after the server's BYE; want %v at most (and the client's pause)", ended.Sub(bye), bound)
		}
		if err != nil || !strings.HasPrefix(string(got), "* BYE going\r\n") || !strings.HasPrefix(sent.String(), string(got)) {
			t.Errorf("the client read %q (%v); want the BYE, then what the server sent after it in order", got, err)
		}
		<-done
		<-served // its next write after the proxy's close fails
		const why = "* server side: the server said BYE and the connection did not end within 32m0s (64 times --timeout) after it: closing"
		if s := trace.String(); !strings.Contains(s, why) || strings.Contains(s, "made no progress") {
			t.Errorf("the trace lacks %q (or blames the client):\n%s", why, s)
		}
	})
}

// TestProxyByeServerBytesBounded: a server says "* BYE", then sends 1 MiB
// of lines at once and does not close; the client reads at once. The
// proxy must read no more than proxyByeMore bytes after the BYE (a
// compliant server sends at most the tagged answer to a LOGOUT), relay
// what it read, and close, the trace saying why. Before, it read and
// relayed all the server sent, as each read hardly waited: the --timeout
// of the proxy's waiting on the server was spent only once the server
// paused. In a synctest bubble, with the proxy's defaults.
func TestProxyByeServerBytesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var flood strings.Builder
		for i := 0; flood.Len() < 1<<20; i++ {
			fmt.Fprintf(&flood, "* OK [ALERT] %06d %s\r\n", i, strings.Repeat("x", 100))
		}
		client, trace, done := pipeProxySession(t, nil, bufferedUpstream(func(c net.Conn) {
			io.WriteString(c, "* OK ready\r\n")
			br := bufio.NewReader(c)
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			io.WriteString(c, "* BYE going\r\n"+flood.String())
			io.Copy(io.Discard, br) // open until the proxy closes
		}))
		br := bufio.NewReader(client)
		if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
			t.Fatalf("greeting %q (%v)", l, err)
		}
		io.WriteString(client, "a1 NOOP\r\n")
		got, err := io.ReadAll(br)
		if err != nil || !strings.HasPrefix("* BYE going\r\n"+flood.String(), string(got)) {
			t.Errorf("the client read %d bytes (%v); want a prefix of what the server sent", len(got), err)
		}
		// What was read after the BYE, and what the tokenizer's buffer
		// (32 KiB) held at it.
		if most := proxyByeMore + 64<<10; len(got) > most {
			t.Errorf("the client got %d bytes of the server's after its BYE; want %d at most", len(got), most)
		}
		<-done
		const why = "* server side: the server said BYE and sent more than 65536 bytes after it: closing"
		if s := trace.String(); !strings.Contains(s, why) {
			t.Errorf("the trace lacks %q:\n%s", why, s)
		}
	})
}

// TestProxyByeThenCompressBoundSaid: a server says "* BYE", then accepts
// a COMPRESS and stays silent, open. The proxy's relay after COMPRESS
// reads the server under the BYE's time (byeWait) as before it, and the
// trace must say so. Before, the BYE's read deadline was left on the
// connection and the relay's read failed at it as a plain "i/o
// timeout". In a synctest bubble, with the proxy's defaults.
func TestProxyByeThenCompressBoundSaid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, trace, done := pipeProxySession(t, nil, bufferedUpstream(func(c net.Conn) {
			io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n")
			br := bufio.NewReader(c)
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			io.WriteString(c, "* BYE going\r\n")
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			io.WriteString(c, "a2 OK DEFLATE active\r\n")
			io.Copy(io.Discard, br) // open until the proxy closes
		}))
		br := bufio.NewReader(client)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("greeting: %v", err)
		}
		io.WriteString(client, "a1 NOOP\r\n")
		if l, err := br.ReadString('\n'); err != nil || l != "* BYE going\r\n" {
			t.Fatalf("read %q (%v); want the server's BYE", l, err)
		}
		io.WriteString(client, "a2 COMPRESS DEFLATE\r\n")
		if l, err := br.ReadString('\n'); err != nil || l != "a2 OK DEFLATE active\r\n" {
			t.Fatalf("read %q (%v); want the COMPRESS's OK", l, err)
		}
		io.ReadAll(br)
		<-done
		const why = "* server side: the server said BYE and did not close the connection within 30s (--timeout): closing"
		if s := trace.String(); !strings.Contains(s, why) {
			t.Errorf("the trace lacks %q:\n%s", why, s)
		}
	})
}
