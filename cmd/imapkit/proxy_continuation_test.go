package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
)

// Reproducers of the third review of the literal change (review 36c).

// TestProxyWithheldPlusHoldsAnswer: the server direction buffers
// a line when more of the server's output is already read (ShouldFlush
// false) and flushes at the end of a later line. The "+" that answers a
// {n+} literal sent upstream as {n} is withheld: read with
// Forward(io.Discard) and no endLine, so nothing flushes. Dovecot answers
// a pipelined "a0 NOOP" and the "+ OK" for the APPEND's literal in one
// write: a0's answer stays in the proxy's buffer until the server's next
// line (here the APPEND's completion, after the body). A LITERAL+ client
// that waits for a0 before it sends the body (a legal order: nothing in
// LITERAL+ ties the body to the answers) waits for ever; any client gets
// a0's answer late.
func TestProxyWithheldPlusHoldsAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a")
	for i := 0; i < 3; i++ {
		lc.send("a0 NOOP\r\na1 APPEND INBOX {5+}\r\n")
		lc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		l, err := lc.br.ReadString('\n')
		if err != nil {
			t.Fatalf("run %d: no answer to a0 within 3 s while the APPEND's body is pending (%v); trace:\n%s", i, err, out.String())
		}
		if !strings.HasPrefix(l, "a0 OK") {
			t.Fatalf("run %d: got %q", i, l)
		}
		lc.send("hello\r\n")
		if got := lc.tagged("a1"); !strings.HasPrefix(got, "a1 OK") {
			t.Fatalf("APPEND: %q", got)
		}
	}
}

// TestProxyLongSASLLineCyrus: the Dialog calls the client's
// line after a SASL challenge a SASL response (Raw), and the proxy relays
// it whole, unread ("[SASL data redacted]"). Cyrus 3.6 reads at most
// 21,847 bytes of a SASL response (a base64 buffer), fails the
// AUTHENTICATE, and reads the rest of the line as a command of its own:
// here a LOGIN, which it runs. The session is logged in while the trace
// shows no command but a failed AUTHENTICATE; any command hides so.
// (Dovecot closes the connection on such a line: failing closed.)
func TestProxyLongSASLLineCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+cy.Addr)
	lc := dialLines(t, addr)
	lc.send("a AUTHENTICATE PLAIN\r\n")
	if l := lc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("no challenge: %q", l)
	}
	lc.send(strings.Repeat("A", 21847) + "z3 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	lc.send("z4 NOOP\r\n")
	got := readUntil(lc, "z4 ", 10*time.Second)
	trace := out.String()
	for _, l := range got {
		if strings.Contains(l, "z3 OK") && !strings.Contains(trace, "C: z3 ") {
			t.Errorf("the server ran a LOGIN the proxy did not see: %.80q\ntrace:\n%s", l, trace)
		}
	}
	// The client may not see it, the proxy closing on the completion of a
	// command it did not see (Event.Stray); the server must not have run
	// it: the line goes nowhere past the proxy's bound (maxRawLine).
	if strings.Contains(trace, "S: z3 ") {
		t.Errorf("the server answered z3, a command hidden in a SASL response:\n%.2000s", trace)
	}
}

// TestProxyUntaggedAnswerAtLiteral: a server that answers a synchronizing
// literal's header ("a1 APPEND INBOX {6}") untagged, "* BYE" or "* NO",
// instead of "+" or the command's completion. The untagged line is
// relayed; no byte of the body reaches the server (from a client that
// waits for the "+", or one that sent the body at once); when the server
// then closes, so does the proxy. When the server keeps the connection
// open and silent and the client leaves: before, the client's end was
// not seen, its direction waiting for the server's word on the literal,
// and the connection, its goroutines and a --max-connections slot were
// held for as long as the server kept it open; now the client's end is
// read ahead (clientIn.watch) and the server's silence bounded from then
// (proxyOwedAnswerWait, 15 min, run 900 times faster: owedAnswerSpeed).
// A client that sent the body and its next command at once and then
// half-closed, as a script piping a batch does, still gets both answers
// after a "+". Defaults otherwise; serial: it counts goroutines
// (leakcheck).
func TestProxyUntaggedAnswerAtLiteral(t *testing.T) {
	owedAnswerSpeed(t, 900)
	lc := leakcheck.Start()
	for _, tc := range []struct {
		name   string
		answer string // the server's line after the header
		close  bool   // the server half-closes after it (else it reads until the proxy's end)
		eager  bool   // the client sends the body with the header
		leave  bool   // the client closes once it read the answer
		want   string // what the client reads after the greeting
		trace  string
	}{
		{"BYE then the close", "* BYE going", true, false, false, "* BYE going\r\n", ""},
		{"BYE then the close, the body sent", "* BYE going", true, true, false, "* BYE going\r\n", ""},
		{"NO then the close, the body sent", "* NO [ALERT] not now", true, true, false, "* NO [ALERT] not now\r\n", ""},
		{"BYE, the server silent, the client leaves", "* BYE going", false, false, true, "* BYE going\r\n", silentOwed},
		{"BYE, the server silent, the body sent, the client leaves", "* BYE going", false, true, true, "* BYE going\r\n", silentOwed},
		{"NO, the server silent, the body sent, the client leaves", "* NO [ALERT] not now", false, true, true, "* NO [ALERT] not now\r\n", silentOwed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startRecordingUpstream(t, func(c net.Conn, r *bufio.Reader) {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				io.WriteString(c, tc.answer+"\r\n")
				if tc.close {
					c.(*net.TCPConn).CloseWrite()
				}
				io.Copy(io.Discard, r)
			})
			addr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, br := dialProxyGreeted(t, addr) // its deadline: a hang detector only
			send := "a1 APPEND INBOX {6}\r\n"
			if tc.eager {
				send += "hello!\r\n"
			}
			io.WriteString(c, send)
			read := ""
			if tc.leave {
				l, err := br.ReadString('\n')
				read = l
				if err != nil {
					t.Fatalf("the client read %q (%v); trace:\n%s", read, err, out.String())
				}
				c.Close()
			} else {
				b, err := io.ReadAll(br)
				read = string(b)
				if err != nil {
					t.Errorf("the client's read: %v", err)
				}
			}
			if read != tc.want {
				t.Errorf("the client read %q; want %q", read, tc.want)
			}
			waitFor(t, out, "[1] * connection closed")
			if !strings.Contains(out.String(), tc.trace) {
				t.Errorf("the trace lacks %q:\n%s", tc.trace, out.String())
			}
			up.wait() // the proxy closed: the server read all it was sent
			if got, want := up.received(), "a1 APPEND INBOX {6}\r\n"; got != want {
				t.Errorf("the server read %q; want the header alone, %q", got, want)
			}
		})
	}
	t.Run("the body and the next command sent, a half-close, then a plus", func(t *testing.T) {
		up := hostileUpstream(t, func(c *hostile.Conn) error {
			c.Greet("IMAP4rev1")
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			c.Continue("go")
			if b, err := c.ReadLiteral(6); err != nil || string(b) != "hello!" {
				return fmt.Errorf("the body %q (%v)", b, err)
			}
			c.ReadLine()
			c.Reply(cmd.Tag, "OK APPEND done")
			if cmd, err = c.ReadCommand(); err != nil {
				return err
			}
			c.Reply(cmd.Tag, "OK "+cmd.Name+" done")
			return c.Stall()
		})
		addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
		c, br := dialProxyGreeted(t, addr)
		io.WriteString(c, "a1 APPEND INBOX {6}\r\nhello!\r\na2 NOOP\r\n")
		c.(*net.TCPConn).CloseWrite()
		b, err := io.ReadAll(br)
		if !strings.Contains(string(b), "a1 OK APPEND done\r\na2 OK NOOP done\r\n") {
			t.Errorf("the client read %q (%v); want both answers; trace:\n%s", b, err, out.String())
		}
		waitFor(t, out, "[1] * connection closed")
	})
	if err := goroutinesLeft(lc); err != nil {
		t.Errorf("left after the proxy's connections: %v", err)
	}
}

// silentOwed is the trace's word on a server silent, after the client's
// end, while a command awaits its answer.
const silentOwed = "the client ended its side, and the server sent nothing for 15m0s while a command awaited its answer: closing"

// TestClientInReadAheadReleased: what clientIn.watch read ahead while
// the client's direction waited for the server's word on a literal (a
// body sent without waiting, 64 KiB and more) is read back in order and
// whole, and once it has been read the connection no longer holds its
// array (nil): it held it, and watch's 4 KiB buffer, for the
// connection's life, an idle one's too.
func TestClientInReadAheadReleased(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	in := &clientIn{c: a}
	stop := in.watch(func() { t.Error("the client's end reported") }, func() bool { return false })
	body := []byte(strings.Repeat("0123456789abcdef", (maxClientReadAhead+4096)/16))
	sent := make(chan error, 1)
	go func() {
		_, err := b.Write(body[:maxClientReadAhead]) // returns once the watch read it all
		sent <- err
		b.Write(body[maxClientReadAhead:]) // read after the watch, by Read
	}()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	stop()
	got := make([]byte, len(body))
	if _, err := io.ReadFull(in, got); err != nil || string(got) != string(body) {
		t.Fatalf("read back %d bytes (%v), equal: %v", len(got), err, string(got) == string(body))
	}
	if in.ahead != nil {
		t.Errorf("after the read, clientIn holds what was read ahead: len %d, cap %d", len(in.ahead), cap(in.ahead))
	}
}

// TestClientInResetDropsReadAhead: at STARTTLS clientIn reads the new
// layer from then on, and what watch read ahead of the old one (bytes
// a client, or someone on the path, sent after the STARTTLS line in the
// clear) and the error that ended the watch are dropped, as the
// tokenizer's buffer is: read after the handshake, they would be taken
// for commands sent over TLS.
func TestClientInResetDropsReadAhead(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	in := &clientIn{c: a}
	stop := in.watch(func() {}, func() bool { return false })
	io.WriteString(b, "a3 LOGIN injected secret\r\n") // returns once the watch read it
	b.Close()                                         // the watch's error: EOF
	stop()
	if len(in.ahead) == 0 || in.err == nil {
		t.Fatalf("the watch read %q (%v); want the line and the end", in.ahead, in.err)
	}
	c, d := net.Pipe()
	defer c.Close()
	in.reset(c)
	go func() {
		io.WriteString(d, "a4 NOOP\r\n")
		d.Close()
	}()
	if got, err := io.ReadAll(in); string(got) != "a4 NOOP\r\n" || err != nil {
		t.Errorf("after reset, read %q (%v); want the new layer's \"a4 NOOP\\r\\n\" alone", got, err)
	}
}

// tcpPair returns the two ends of a loopback TCP connection, closed at
// the test's end.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("no connection accepted")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// localhostTLS returns the TLS settings of a server for "localhost" (a
// self-signed certificate) and of a client that trusts it.
func localhostTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	cert, der, err := selfSignedCert("localhost")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	return server, client
}

// tlsPairOverTCP returns the two ends of a TLS connection over loopback
// TCP, its handshake done: the server's (a self-signed certificate, over
// serverRaw(raw) when given) and the client's (over clientRaw(raw) when
// given). Both close at the test's end.
func tlsPairOverTCP(t *testing.T, serverRaw, clientRaw func(net.Conn) net.Conn) (server, client *tls.Conn) {
	t.Helper()
	serverCfg, clientCfg := localhostTLS(t)
	rawS, rawC := tcpPair(t)
	if serverRaw != nil {
		rawS = serverRaw(rawS)
	}
	if clientRaw != nil {
		rawC = clientRaw(rawC)
	}
	server = tls.Server(rawS, serverCfg)
	client = tls.Client(rawC, clientCfg)
	t.Cleanup(func() { server.Close(); client.Close() })
	errc := make(chan error, 1)
	go func() { errc <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return server, client
}

// readCounter is a connection whose reads are counted (read): a test
// waits until a layer above it has read so much.
type readCounter struct {
	net.Conn
	mu   sync.Mutex
	cond *sync.Cond
	read int
}

func newReadCounter(c net.Conn) *readCounter {
	r := &readCounter{Conn: c}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *readCounter) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.read += n
	r.cond.Broadcast()
	r.mu.Unlock()
	return n, err
}

// waitRead waits until n bytes in all were read.
func (r *readCounter) waitRead(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.read < n {
		r.cond.Wait()
	}
}

// splitWriter is a connection whose first write once armed goes in two
// parts: the first half, then, once release is closed, the rest.
type splitWriter struct {
	net.Conn
	half    chan int // the first half's length, once written
	release chan struct{}
	armed   atomic.Bool
}

func (w *splitWriter) Write(p []byte) (int, error) {
	if len(p) < 2 || !w.armed.CompareAndSwap(true, false) {
		return w.Conn.Write(p)
	}
	n, err := w.Conn.Write(p[:len(p)/2])
	if err != nil {
		return n, err
	}
	w.half <- n
	<-w.release
	m, err := w.Conn.Write(p[len(p)/2:])
	return n + m, err
}

// TestClientInWatchOverTLS: clientIn.watch on a client's connection over
// TLS (after STARTTLS, or --tls), where its reads are crypto/tls's. The
// client's end (close_notify and the TCP end) is seen, and what was read
// ahead is read back whole and in order, then the end; a watch stopped
// while half a TLS record was read (stop's read deadline cuts the record's
// read) leaves the connection readable: the record is read back whole
// once its rest comes, as crypto/tls keeps a record's bytes across a
// deadline. Defaults (maxClientReadAhead); the waits are bounded only
// against a hang (proxyHang).
func TestClientInWatchOverTLS(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("0123456789abcdef", 640)) // 10 KiB: a record
	t.Run("the client leaves", func(t *testing.T) {
		t.Parallel()
		server, client := tlsPairOverTCP(t, nil, nil)
		in := &clientIn{c: server}
		watchUntilClientLeaves(t, in, client, body)
		got, err := io.ReadAll(in)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("read back %d bytes (%v), equal to the %d sent: %v", len(got), err, len(body), bytes.Equal(got, body))
		}
	})
	t.Run("stopped inside a record", func(t *testing.T) {
		t.Parallel()
		var counter *readCounter
		split := &splitWriter{half: make(chan int, 1), release: make(chan struct{})}
		server, client := tlsPairOverTCP(t, func(c net.Conn) net.Conn {
			counter = newReadCounter(c)
			return counter
		}, func(c net.Conn) net.Conn {
			split.Conn = c
			return split
		})
		// The handshake's writes went whole: the split is the body's.
		split.armed.Store(true)
		in := &clientIn{c: server}
		stop := in.watch(func() { t.Error("the client's end reported") }, func() bool { return false })
		counter.mu.Lock()
		before := counter.read
		counter.mu.Unlock()
		sent := make(chan error, 1)
		go func() {
			_, err := client.Write(body)
			sent <- err
		}()
		half := <-split.half
		counter.waitRead(before + half) // the watch's TLS read holds half a record
		stop()
		close(split.release)
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(body))
		if _, err := io.ReadFull(in, got); err != nil || !bytes.Equal(got, body) {
			t.Errorf("read back %q... (%v); want the body whole", got[:min(32, len(got))], err)
		}
	})
}

// watchUntilClientLeaves runs in's watch while the client sends body and
// closes its connection, and waits until the watch has seen the client's
// end (bounded only against a hang: proxyHang); the watch is stopped when
// it returns, and what it read ahead is in's to read back.
func watchUntilClientLeaves(t *testing.T, in *clientIn, client net.Conn, body []byte) {
	t.Helper()
	ended := make(chan struct{})
	stop := in.watch(func() { close(ended) }, func() bool { return false })
	go func() {
		client.Write(body)
		client.Close()
	}()
	select {
	case <-ended:
	case <-time.After(proxyHang):
		stop()
		t.Fatalf("the client's end not seen in %v after %d bytes were sent; read ahead %d (%v)", proxyHang, len(body), len(in.ahead), in.err)
	}
	stop()
}
