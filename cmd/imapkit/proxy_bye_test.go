package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// proxyCloseServer is an upstream on loopback TCP for the proxy: it
// sends a greeting, then answers each line it reads with answers[i] (%T
// the line's tag), and stays until the proxy closes. It is waited for at
// the test's end.
func proxyCloseServer(t *testing.T, answers ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		// A bound against a hang, not a timed assertion.
		c.SetDeadline(time.Now().Add(byeHangGuard))
		if _, err := io.WriteString(c, "* OK ready\r\n"); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for _, a := range answers {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			if _, err := io.WriteString(c, strings.ReplaceAll(a, "%T", tag)); err != nil {
				return
			}
		}
		io.Copy(io.Discard, r)
	}()
	return ln.Addr().String()
}

// TestProxyCloseDelivers: when the proxy closes the relay on a
// server's line (here a completion of a tag the proxy never relayed, in
// the same packet as a normal answer), the client receives every byte
// relayed before it, the proxy's "* BYE" that says why, then EOF. Before,
// the normal answer was still in the proxy's buffer (more of the server's
// bytes were buffered, so it was not flushed) and closing the client's
// connection dropped it: the client read the greeting, then nothing.
// Over real loopback TCP, with the proxy's default options, and over TLS
// (--tls --self-signed: a client connection over TLS needs them).
func TestProxyCloseDelivers(t *testing.T) {
	t.Parallel()
	t.Run("tcp", func(t *testing.T) { proxyCloseDelivers(t, false) })
	t.Run("tls", func(t *testing.T) { proxyCloseDelivers(t, true) })
}

func proxyCloseDelivers(t *testing.T, useTLS bool) {
	up := proxyCloseServer(t, "%T OK done\r\nzz9 OK forged\r\n")
	args := []string{"--upstream", "imap://" + up, "--once"}
	certOut := filepath.Join(t.TempDir(), "proxy.pem")
	if useTLS {
		args = append(args, "--tls", "--self-signed", "--cert-out", certOut)
	}
	addr, out, _ := startProxy(t, args...)
	var c net.Conn
	var err error
	if useTLS {
		pool := x509.NewCertPool()
		pemBytes, rerr := os.ReadFile(certOut)
		if rerr != nil || !pool.AppendCertsFromPEM(pemBytes) {
			t.Fatalf("--cert-out: %v", rerr)
		}
		c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(byeHangGuard))
	if g, err := r.ReadString('\n'); err != nil || g != "* OK ready\r\n" {
		t.Fatalf("greeting %q, %v", g, err)
	}
	if _, err := io.WriteString(c, "a1 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	got := string(rest)
	want := "a1 OK done\r\n" + byeOutOfStep
	if err != nil || got != want {
		t.Fatalf("after the greeting the client read %q, %v; want %q then EOF\ntrace:\n%s", got, err, want, out.String())
	}
}

// byeHangGuard bounds the connections of this file's tests against a
// hang only: none of them times anything. It was 5 s, which a loaded
// machine (load average 20, -race) ran out of while the proxy read
// clientSideBye's 1.1 MB refused line behind a 20,000-line flood: the
// fake upstream's deadline ended it and serve ended before the fault.
const byeHangGuard = time.Minute

// byeOutOfStep is the proxy's BYE on a server out of step.
const byeOutOfStep = "* BYE imapkit proxy: the server's answers are out of step with the client's commands; closing\r\n"

// TestProxyCloseNoReset: the proxy closes on a server's line while
// the client's bytes it has not read wait in its socket (a {n+} literal
// of 1 MiB, held while the proxy waits for the server's go-ahead for it).
// Closing a TCP socket with unread input sends a reset, which on the
// client's side may destroy what was still in flight to it; the client
// must read the answer relayed before, the BYE, then EOF, not a reset.
func TestProxyCloseNoReset(t *testing.T) {
	t.Parallel()
	up := proxyCloseServer(t, "%T OK done\r\n", "* 1 EXISTS\r\nzz9 OK forged\r\n")
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up, "--once")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(byeHangGuard))
	for _, l := range []string{"* OK ready\r\n", "a1 OK done\r\n"} {
		if l == "a1 OK done\r\n" {
			if _, err := io.WriteString(c, "a1 NOOP\r\n"); err != nil {
				t.Fatal(err)
			}
		}
		if g, err := r.ReadString('\n'); err != nil || g != l {
			t.Fatalf("read %q, %v; want %q", g, err, l)
		}
	}
	const n = 1 << 20
	sent := make(chan error, 1)
	go func() {
		c.SetWriteDeadline(time.Now().Add(byeHangGuard))
		_, err := c.Write(append([]byte("a2 APPEND INBOX {1048576+}\r\n"), bytes.Repeat([]byte("x"), n)...))
		sent <- err
	}()
	rest, err := io.ReadAll(r)
	got := string(rest)
	want := "* 1 EXISTS\r\n" + byeOutOfStep
	if err != nil || got != want {
		t.Fatalf("the client read %q, %v (reset: %v); want %q then EOF\ntrace:\n%s", got, err, isReset(err), want, out.String())
	}
	c.Close()
	<-sent // ends: written, or failed on the closed connection
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

// TestProxyTraceByeNotDelivered (found by review): the proxy closes
// on a server line out of step while the client reads nothing.
// closeClient's flush of what was relayed (and of the BYE behind it)
// fails on the --timeout bound, but the trace printed "P: * BYE ..." as
// if the client had it
// (clientOut.finish reports wrote = true when the BYE went into the
// buffer, whatever the Flush after it returned), and the stall was not
// reported at all: serve printed "a write to the client made no progress"
// before closeClient only. The trace said the client was told, when it
// received nothing. (--timeout is sped up 100 times: 300 ms, as the
// stall is what is tested; the bound itself is the default's.)
func TestProxyTraceByeNotDelivered(t *testing.T) {
	t.Parallel()
	clientWriteSpeed(t, 100)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(byeHangGuard))
		io.WriteString(c, "* OK ready\r\n")
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(c, tag+" OK done\r\nzz9 OK forged\r\n")
		io.Copy(io.Discard, r)
	}()
	buf := &syncBuffer{}
	cfg := &proxyConfig{
		upstream:    &target{host: "127.0.0.1", addr: ln.Addr().String()},
		out:         buf,
		dialTimeout: 30 * time.Second,
		hooks:       proxyHooksIf(t),
	}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: buf}}
	client, proxyEnd := net.Pipe() // no buffer: a client that does not read blocks the proxy's writes
	defer client.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		ps.serve(context.Background(), proxyEnd)
	}()
	client.SetDeadline(time.Now().Add(byeHangGuard))
	r := bufio.NewReader(client)
	if g, err := r.ReadString('\n'); err != nil || g != "* OK ready\r\n" {
		t.Fatalf("greeting %q, %v", g, err)
	}
	if _, err := io.WriteString(client, "a1 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	// The client reads nothing more.
	select {
	case <-served:
	case <-time.After(byeHangGuard):
		t.Fatal("serve did not end")
	}
	<-upDone
	trace := buf.String()
	if strings.Contains(trace, "P: * BYE") {
		t.Errorf("the trace prints the proxy's BYE as sent, though the client received nothing (the flush failed):\n%s", trace)
	}
	if !strings.Contains(trace, "made no progress") {
		t.Errorf("the trace does not say the client read nothing (the flush in closeClient timed out):\n%s", trace)
	}
}

// TestProxyStrayUntokenizedRelayed (found by review): a completion
// of a tag the proxy never relayed closes the relay, with the proxy's BYE (stop 47), but only
// when the line tokenizes. "zz9 OK{x" (no SP after OK, then a "{" that
// opens no literal) fails to tokenize after "zz9 OK": Dialog.Server sets
// Event.Stray for it all the same, but serverToClient's wire.ErrSyntax
// path relayed the line unchanged (ForwardLongLine) and went on, never
// looking at ev.Stray: the forged completion reached the client and the
// session continued, out of step.
func TestProxyStrayUntokenizedRelayed(t *testing.T) {
	got, trace := proxyRunChunks(t, []string{
		"* OK ready\r\n",
		"%T OK done\r\nzz9 OK{x\r\n",
		"%T OK selected\r\n",
	}, []string{"a1 NOOP\r\n", "a2 NOOP\r\n"}, []int{2, 1})
	for _, l := range got {
		if strings.HasPrefix(l, "zz9 ") {
			t.Fatalf("a completion of a tag the proxy never relayed reached the client: %q (want the BYE, then the end)\ntrace:\n%s", got, trace)
		}
	}
	if len(got) < 3 || got[2] != byeOutOfStep {
		t.Fatalf("the client read %q; want the BYE after a1's OK\ntrace:\n%s", got, trace)
	}
}

// clientSideBye runs serve between a client on net.Pipe and an
// upstream that answers the client's a1 with its completion and then
// sends flood at once (20,000 untagged lines are more than the proxy's
// buffers to the client hold: net.Pipe holds nothing); once the client
// read the completion, it sends a refused command with a token over 1 MiB, on
// which the proxy closes with a BYE of its own, and the function returns
// when the proxy's client direction reported that fault (the BYE is due).
// With a flood, the server's direction is then still relaying.
func clientSideBye(t *testing.T, flood string) (client net.Conn, r *bufio.Reader, trace *syncBuffer, served <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(byeHangGuard))
		io.WriteString(c, "* OK ready\r\n")
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(c, tag+" OK done\r\n"+flood)
		io.Copy(io.Discard, r)
	}()
	buf := &syncBuffer{}
	cfg := &proxyConfig{
		upstream:    &target{host: "127.0.0.1", addr: ln.Addr().String()},
		out:         buf,
		dialTimeout: 30 * time.Second,
		hooks:       proxyHooksIf(t),
	}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: buf}}
	client, proxyEnd := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ps.serve(context.Background(), proxyEnd)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
		<-upDone
	})
	client.SetDeadline(time.Now().Add(byeHangGuard)) // against a hang
	r = bufio.NewReader(client)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(client, "a1 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	go io.WriteString(client, "a2 SEARCH "+strings.Repeat("1 ", 35000)+"TEXT \""+strings.Repeat("x", 1100000)+"\"\r\n")
	for !strings.Contains(buf.String(), "* client side: a refused command with a token") {
		select {
		case <-done:
			t.Fatalf("serve ended before the fault:\n%.2000s", buf.String())
		case <-time.After(5 * time.Millisecond): // polls for a condition: no timed assertion
		}
	}
	return client, r, buf, done
}

// TestProxyNothingAfterClientSideBye (found by review): the proxy
// closes on a client's fault (a refused command with a token over 1 MiB)
// with a BYE of its own, while the server's direction still relays lines
// it has read (or reads until closeAll closes the upstream, which comes
// after the BYE). Before, those lines reached the client after the BYE:
// nothing may follow it.
func TestProxyNothingAfterClientSideBye(t *testing.T) {
	client, r, _, served := clientSideBye(t, strings.Repeat("* 1 EXISTS\r\n", 20000))
	var got []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, l)
	}
	client.Close()
	<-served
	bye := -1
	for i, l := range got {
		if strings.HasPrefix(l, "* BYE ") {
			bye = i
			break
		}
	}
	if bye < 0 {
		t.Fatalf("no BYE among the %d lines the client read", len(got))
	}
	if bye != len(got)-1 {
		t.Errorf("%d lines after the proxy's BYE (%q), the first %q", len(got)-1-bye, got[bye], got[bye+1])
	}
}

// TestProxyClientSideByeNotSent (found by review): as
// TestProxyTraceByeNotDelivered, for the BYE the client's direction
// sends (ps.bye): it was printed before it was written, and printed all
// the same when the client read nothing (here: the BYE's flush stalls on
// the --timeout bound), or when the server's direction had ended and it
// was not written at all. It is printed once the client has it.
// (--timeout is sped up 100 times: 300 ms, as the stall is what is
// tested; no flood, lest the server's direction stall before the fault.)
func TestProxyClientSideByeNotSent(t *testing.T) {
	t.Parallel()
	clientWriteSpeed(t, 100)
	_, _, trace, served := clientSideBye(t, "")
	// The client reads nothing more.
	select {
	case <-served:
	case <-time.After(byeHangGuard):
		t.Fatal("serve did not end")
	}
	if s := trace.String(); strings.Contains(s, "P: * BYE") {
		t.Errorf("the trace prints the proxy's BYE as sent, though the client read nothing:\n%.3000s", s)
	}
	if s := trace.String(); !strings.Contains(s, "made no progress") {
		t.Errorf("the trace does not say the client read nothing:\n%.3000s", s)
	}
}

// clientSideByeFlood is clientSideBye with n copies of
// floodLine after a1's OK: it returns every line the client read and the
// trace, after serve ended.
func clientSideByeFlood(t *testing.T, floodLine string, n int) (got []string, trace string) {
	t.Helper()
	client, r, buf, served := clientSideBye(t, strings.Repeat(floodLine, n))
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, l)
	}
	client.Close()
	<-served
	return got, buf.String()
}

// TestProxyTraceUntokenizedAfterByeSaysRelayed: after the proxy's own BYE (found by review)
// (clientOut.ended, stop 47), the server's direction's next line fails to
// reach the client (errRelayClosed), and serverErr keeps that error out of
// the trace. For a line that does not tokenize, the server direction
// (serverRelay.untokenized, proxy_server.go) prints the line as "[not
// tokenized: relayed unchanged]" whatever ForwardLongLine returned
// (ps.out.line(p.end()) right after ForwardLongLine), so the trace shows one line more relayed
// than the client received, after the BYE, with nothing saying it was not.
func TestProxyTraceUntokenizedAfterByeSaysRelayed(t *testing.T) {
	const flood = "* 1 FETCH (FLAGS (\"x))\r\n" // does not tokenize: relayed by ForwardLongLine
	got, trace := clientSideByeFlood(t, flood, 20000)
	relayed := 0
	bye := false
	for _, l := range got {
		switch {
		case l == flood:
			if bye {
				t.Fatalf("a server line after the proxy's BYE reached the client")
			}
			relayed++
		case strings.HasPrefix(l, "* BYE "):
			bye = true
		}
	}
	if !bye {
		t.Fatalf("no BYE among the %d lines the client read", len(got))
	}
	printed := strings.Count(trace, "[not tokenized: relayed unchanged]")
	if printed != relayed {
		i := strings.LastIndex(trace, "relayed unchanged]")
		t.Errorf("the trace prints %d lines as relayed unchanged; the client received %d; the trace's end:\n%s", printed, relayed, trace[max(0, i-300):])
	}
}

// TestProxyTraceLongLineAfterByeSaysRelayed: as
// TestProxyTraceUntokenizedAfterByeSaysRelayed, for serverToClient's branch
// of a line with a token over the line bound (long): when ForwardLongLine
// fails with errRelayClosed (the proxy's BYE went first), the line's head
// is printed all the same (ps.out.line(p.end()) before serverErr), and
// serverErr now prints nothing after it: the trace shows a server line
// after the proxy's BYE, as if relayed, that the client never received.
func TestProxyTraceLongLineAfterByeSaysRelayed(t *testing.T) {
	flood := "* SEARCH 1" + strings.Repeat("0", 1100000) + "\r\n"
	// The next line must be readable when the BYE goes (not still on its
	// way from the upstream, when closeAll ends the read first): most
	// runs; up to 3 tries, the first mismatch fails.
	for try := 0; try < 3; try++ {
		got, trace := clientSideByeFlood(t, flood, 6)
		relayed := 0
		for _, l := range got {
			if l == flood {
				relayed++
			}
		}
		if printed := strings.Count(trace, "S: * SEARCH 1"); printed != relayed {
			t.Fatalf("the trace prints %d SEARCH lines; the client received %d (the last printed, after the proxy's BYE, has no word that it was not relayed)", printed, relayed)
		}
	}
}

// proxyRunChunks runs the proxy's serve between a client on net.Pipe and
// serveChunks's upstream playing chunks (a greeting, then the answer to each
// line the proxy forwards, %T its tag). The client sends each of lines,
// and after each reads as many lines as want holds for it; got is what it
// read, ended at the first read that fails. serve's end is waited for
// (bounded).
func proxyRunChunks(t *testing.T, chunks []string, lines []string, want []int) (got []string, trace string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cs := make([][]byte, len(chunks))
		for i := range chunks {
			cs[i] = []byte(chunks[i])
		}
		// Each line is waited for, bounded against a hang only. Before,
		// with the fuzzer's 20 ms (proxyFuzzQuiet), a loaded machine's proxy
		// could forward a line later than that: the upstream left the
		// answers unsent, and the client read only the greeting
		// (TestProxyStrayUntokenizedRelayed failed so once).
		serveChunks(c, cs, 5*time.Second)
		// Stay until the proxy closes.
		c.SetReadDeadline(time.Now().Add(byeHangGuard))
		io.Copy(io.Discard, c)
	}()
	buf := &syncBuffer{}
	cfg := &proxyConfig{
		upstream:    &target{host: "127.0.0.1", addr: ln.Addr().String()},
		out:         buf,
		dialTimeout: 30 * time.Second,
		hooks:       proxyHooksIf(t),
	}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: buf}}
	client, proxyEnd := net.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		ps.serve(context.Background(), proxyEnd)
	}()
	// A bound against a hang, not a timed assertion.
	client.SetDeadline(time.Now().Add(byeHangGuard))
	r := bufio.NewReader(client)
	read := func(n int) bool {
		for range n {
			l, err := r.ReadString('\n')
			if err != nil {
				return false
			}
			got = append(got, l)
		}
		return true
	}
	if read(1) { // the greeting
		for i, l := range lines {
			if _, err := io.WriteString(client, l); err != nil || !read(want[i]) {
				break
			}
		}
	}
	client.Close()
	select {
	case <-served:
	case <-time.After(byeHangGuard):
		t.Fatal("the proxy's serve did not end after the client closed")
	}
	ln.Close()
	<-upDone
	return got, buf.String()
}

// TestProxyTaggedTextLiteral pins how the proxy reads a tagged
// response whose text ends in "{10}" (FuzzProxyServerBytes's second
// seed). RFC 9051's grammar has no literal in a tagged response:
// response-tagged = tag SP resp-cond-state CRLF, and resp-text's text is
// TEXT-CHARs (no CR, no LF), so "{10}" there is text and the response
// ends at its CRLF. The proxy reads it so (the NO reaches the client
// whole, and the next command's answer is not swallowed as 10 bytes of
// literal). A bare line after it (the seed's: the 10 bytes the server
// meant as a literal) is no response of the grammar; Dialog reads it as
// the completion of a tag the proxy never relayed, a server out of step
// with the client's stream, and the proxy closes without relaying it: a
// server's line forging a completion never reaches the client. No server
// known to the project sends a literal in a status response's text
// (codec/testdata/quirks has none).
func TestProxyTaggedTextLiteral(t *testing.T) {
	// The text "{10}", then a well-formed answer: relayed, the session
	// goes on.
	got, trace := proxyRunChunks(t, []string{
		"* OK ready\r\n",
		"%T NO [AUTHENTICATIONFAILED] bad password {10}\r\n",
		"* 0 EXISTS\r\n%T OK [READ-WRITE] selected\r\n",
	}, []string{"a1 LOGIN alice secret\r\n", "a2 SELECT INBOX\r\n"}, []int{1, 2})
	want := []string{
		"* OK ready\r\n",
		"a1 NO [AUTHENTICATIONFAILED] bad password {10}\r\n",
		"* 0 EXISTS\r\n",
		"a2 OK [READ-WRITE] selected\r\n",
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("the client read %q; want %q\ntrace:\n%s", got, want, trace)
	}
	// The same NO, then a bare line: the proxy closes, the bare line never
	// reaches the client, and the trace says why.
	got, trace = proxyRunChunks(t, []string{
		"* OK ready\r\n",
		"%T NO [AUTHENTICATIONFAILED] bad password {10}\r\n0123456789\r\n",
		"%T OK selected\r\n",
	}, []string{"a1 LOGIN alice secret\r\n", "a2 SELECT INBOX\r\n"}, []int{1, 2})
	for _, l := range got {
		if strings.Contains(l, "0123456789") {
			t.Fatalf("the bare line after the NO reached the client: %q\ntrace:\n%s", got, trace)
		}
	}
	if !strings.Contains(trace, "did not relay as one") || !strings.Contains(trace, "closing") {
		t.Fatalf("the proxy did not close on the bare line; the client read %q\ntrace:\n%s", got, trace)
	}
}

// TestProxyServerByeAtLiteralBounded: a server that answers a
// synchronizing literal's header ("a1 APPEND INBOX {6}") with "* BYE" is
// going away; when it then keeps the connection open and silent, it gets
// the --timeout (30 s, the default) from its BYE to close, after which the
// proxy closes both sides, whether the client stays (waiting for a "+" that
// never comes) or leaves. Before, a client that left made the server's
// silence bounded by the 15 minutes of a command awaiting its answer
// (proxyOwedAnswerWait), and one that stayed was held for as long as the
// server kept the connection open. In a synctest bubble, with the proxy's
// defaults, in memory (halfPipe): the bubble's clock measures the bound,
// and the bubble's end finds any goroutine left.
func TestProxyServerByeAtLiteralBounded(t *testing.T) {
	for _, leave := range []bool{false, true} {
		name := "the client stays"
		if leave {
			name = "the client leaves"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				defer close(release)
				var got bytes.Buffer
				client, trace, done := pipeProxySession(t, func(c net.Conn) {
					io.WriteString(c, "* OK ready\r\n")
					br := bufio.NewReader(io.TeeReader(c, &got))
					if _, err := br.ReadString('\n'); err != nil {
						return
					}
					io.WriteString(c, "* BYE going\r\n")
					io.Copy(io.Discard, br) // until the proxy's end (half-close or close)
					<-release               // the connection open and silent till then
				})
				br := bufio.NewReader(client)
				if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
					t.Fatalf("greeting %q (%v)", l, err)
				}
				io.WriteString(client, "a1 APPEND INBOX {6}\r\n")
				if l, err := br.ReadString('\n'); err != nil || l != "* BYE going\r\n" {
					t.Fatalf("read %q (%v); want the server's BYE", l, err)
				}
				bye := time.Now()
				// The client's end of the session: its close, or its
				// read of the proxy's end (the half-close; the drain
				// after it waits on the client, proxyCloseQuiet).
				type end struct {
					rest string
					at   time.Time
				}
				read := make(chan end, 1)
				if leave {
					client.Close()
				} else {
					go func() {
						b, _ := io.ReadAll(br)
						read <- end{string(b), time.Now()}
					}()
				}
				select {
				case <-done:
				case <-time.After(proxyOwedAnswerWait + time.Hour): // the bubble's clock: a hang detector
					t.Fatalf("the session was still open %v after the server's BYE; trace:\n%s", proxyOwedAnswerWait+time.Hour, trace.String())
				}
				ended := time.Now()
				if !leave {
					e := <-read
					if e.rest != "" {
						t.Errorf("after the BYE the client read %q; want its end alone", e.rest)
					}
					ended = e.at
				}
				if took, bound := ended.Sub(bye), 30*time.Second; took > bound {
					t.Errorf("the session ended %v after the server's BYE; want the --timeout (%v) at most; trace:\n%s", took, bound, trace.String())
				}
				const why = "* server side: the server said BYE and did not close the connection within 30s (--timeout): closing"
				if s := trace.String(); !strings.Contains(s, why) || !strings.Contains(s, "[1] * connection closed") {
					t.Errorf("the trace lacks %q or the connection's close:\n%s", why, s)
				}
				synctest.Wait() // the server has read all it was sent
				if got.String() != "a1 APPEND INBOX {6}\r\n" {
					t.Errorf("the server read %q; want the header alone", got.String())
				}
			})
		})
	}
}
