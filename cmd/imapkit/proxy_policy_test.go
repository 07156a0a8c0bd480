package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// nonLoopbackIP returns an IPv4 address of this machine that is not on
// loopback: a relay listening there stands for a remote server.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Fatal("this test needs a network interface with an IPv4 address that is not loopback")
	return ""
}

// lineConn is a raw IMAP client for the proxy's own answers.
type lineConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialLines(t *testing.T, addr string) *lineConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lc := &lineConn{t: t, c: c, br: bufio.NewReader(c)}
	if g := lc.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}
	return lc
}

func (lc *lineConn) send(s string) {
	lc.t.Helper()
	if _, err := lc.c.Write([]byte(s)); err != nil {
		lc.t.Fatal(err)
	}
}

func (lc *lineConn) line() string {
	lc.t.Helper()
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := lc.br.ReadString('\n')
	if err != nil {
		lc.t.Fatalf("reading: %v (after %q)", err, l)
	}
	return l
}

// login logs alice in with tag and fails the test unless it is OK.
func (lc *lineConn) login(tag string) {
	lc.t.Helper()
	lc.send(tag + " LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	if got := lc.tagged(tag); !strings.HasPrefix(got, tag+" OK") {
		lc.t.Fatalf("LOGIN: %q", got)
	}
}

// tagged reads up to the line tagged tag and returns it.
func (lc *lineConn) tagged(tag string) string {
	lc.t.Helper()
	for {
		if l := lc.line(); strings.HasPrefix(l, tag+" ") {
			return l
		}
	}
}

// TestProxyPlaintextCredentials: to an imap:// upstream that is not on
// loopback, the proxy answers LOGIN and AUTHENTICATE itself with a tagged
// NO until STARTTLS, whatever the form of the command (literals, SASL-IR),
// and the credentials never reach the wire upstream (nor on a line without
// a tag); a STARTTLS without a certificate gets a NO, and the connection
// goes on.
func TestProxyPlaintextCredentials(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	ip := nonLoopbackIP(t)
	tp := newTapOn(t, net.JoinHostPort(ip, "0"), srv.PlainAddr)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())

	lc := dialLines(t, addr)
	for _, c := range []struct{ tag, cmd, want string }{
		{"A1", "A1 LOGIN alice pass\r\n", "A1 NO [PRIVACYREQUIRED] "},
		{"A2", "A2 NOOP\r\n", "A2 OK"},
		// A synchronizing literal: the NO comes instead of "+".
		{"A3", "A3 LOGIN {5}\r\n", "A3 NO [PRIVACYREQUIRED] "},
		{"A4", "A4 NOOP\r\n", "A4 OK"},
		// Non-synchronizing literals: read and dropped.
		{"A5", "A5 LOGIN {5+}\r\nalice {4+}\r\npass\r\n", "A5 NO [PRIVACYREQUIRED] "},
		{"A6", "A6 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=\r\n", "A6 NO [PRIVACYREQUIRED] "},
		{"A7", "A7 AUTHENTICATE PLAIN\r\n", "A7 NO [PRIVACYREQUIRED] "},
		// After a refused AUTHENTICATE, the next line is a command again.
		{"A8", "A8 NOOP\r\n", "A8 OK"},
		{"A9", "A9 STARTTLS\r\n", "A9 NO imapkit proxy: no certificate"},
		{"B1", "B1 CAPABILITY\r\n", "B1 OK"},
		// A LOGIN line of more tokens than the tokenizer hands out in one
		// call (wire.DefaultMaxLineTokens): refused whole, none of it
		// relayed (taking the first piece for the whole line would have
		// relayed the rest as a new line).
		{"C1", "C1 LOGIN alice pass" + strings.Repeat(" x", 70000) + "\r\n", "C1 NO [PRIVACYREQUIRED] "},
		{"C2", "C2 NOOP\r\n", "C2 OK"},
		// A line without a tag is no command (the server answers
		// "* BAD"): not relayed either, credentials or not.
		{"*", "\"x\" LOGIN alice pass\r\n", "* BAD imapkit proxy: a line without a tag"},
		{"C3", "C3 NOOP\r\n", "C3 OK"},
	} {
		lc.send(c.cmd)
		if got := lc.tagged(c.tag); !strings.HasPrefix(got, c.want) {
			t.Errorf("%q: got %q; want %q...", c.cmd, got, c.want)
		}
	}
	lc.send("B2 LOGOUT\r\n")
	lc.tagged("B2")
	waitFor(t, out, "* connection closed")

	// The library's client gets the NO as an error of its own kind.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := commands.Open(ctx, nc, &auth.Options{AllowInsecurePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, testserver.Alice, testserver.Password); !errors.Is(err, session.ErrNo) || !strings.Contains(err.Error(), "plaintext") {
		t.Errorf("login through the proxy: %v; want a NO", err)
	}
	c.Logout(ctx)
	c.Session().Close()
	waitFor(t, out, "[2] * connection closed")

	tp.ln.Close()
	tp.wg.Wait()
	up := tp.toServer.String()
	for _, secret := range []string{"LOGIN", "AUTHENTICATE", "STARTTLS", testserver.Password, "AGFsaWNlAHBhc3M=", " x x x"} {
		if strings.Contains(strings.ToUpper(up), strings.ToUpper(secret)) {
			t.Errorf("%q reached the upstream server:\n%s", secret, up)
		}
	}
	trace := out.String()
	checkRedacted(t, trace)
	for _, want := range []string{"[not relayed: answered by the proxy]", "P: A1 NO [PRIVACYREQUIRED]", "P: A9 NO"} {
		if !strings.Contains(trace, want) {
			t.Errorf("no %q in the trace:\n%s", want, trace)
		}
	}
}

// TestProxyPlaintextAllowed: with --insecure-plaintext, or after STARTTLS,
// the same upstream gets the login.
func TestProxyPlaintextAllowed(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 1)
	ip := nonLoopbackIP(t)
	tp := newTapOn(t, net.JoinHostPort(ip, "0"), srv.PlainAddr)

	t.Run("insecure-plaintext", func(t *testing.T) {
		addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String(), "--insecure-plaintext")
		lc := dialLines(t, addr)
		lc.send("A1 LOGIN alice pass\r\n")
		if got := lc.tagged("A1"); !strings.HasPrefix(got, "A1 OK") {
			t.Errorf("LOGIN with --insecure-plaintext: %q", got)
		}
		lc.send("A2 LOGOUT\r\n")
		lc.tagged("A2")
		waitFor(t, out, "* connection closed")
	})

	t.Run("starttls", func(t *testing.T) {
		certOut := filepath.Join(t.TempDir(), "proxy.pem")
		// The upstream's certificate names localhost, not this address.
		addr, out, _ := startProxy(t, append(cf[:2:2], "--upstream", "imap://"+tp.ln.Addr().String(), "--insecure-skip-verify", "--self-signed", "--cert-out", certOut)...)
		pool := x509.NewCertPool()
		pemBytes, _ := os.ReadFile(certOut)
		pool.AppendCertsFromPEM(pemBytes)
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		clientFlow(t, srv, nc, &auth.Options{RequireTLS: true, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}, false)
		waitFor(t, out, "* connection closed")
		if trace := out.String(); strings.Contains(trace, "not relayed") || !strings.Contains(trace, "STARTTLS: TLS on both sides") {
			t.Errorf("the login after STARTTLS was not relayed:\n%s", trace)
		}
	})
}

// TestProxyLongServerLine: a server line of more tokens than the tokenizer
// hands out in one call (wire.DefaultMaxLineTokens: a SEARCH answer of
// 70,000 numbers) is relayed whole and the connection goes on; the proxy
// took the tokenizer's ErrTooManyTokens for a broken stream and closed the
// connection. The upstream is scripted: a real server sends such a line
// only for a mailbox of 70,000 messages.
func TestProxyLongServerLine(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	search := "* SEARCH" + strings.Repeat(" 7", 70000) + "\r\n"
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(l), " ")
			if cmd == "SEARCH ALL" {
				io.WriteString(c, search)
			}
			io.WriteString(c, tag+" OK done\r\n")
		}
	}()
	addr, out, _ := startProxy(t, "--upstream", "imap://"+ln.Addr().String())
	lc := dialLines(t, addr)
	lc.send("a1 SEARCH ALL\r\n")
	if got := lc.line(); got != search {
		t.Fatalf("the SEARCH line came as %d bytes; want %d", len(got), len(search))
	}
	if got := lc.tagged("a1"); !strings.HasPrefix(got, "a1 OK") {
		t.Fatalf("a1: %q", got)
	}
	lc.send("a2 NOOP\r\n")
	if got := lc.tagged("a2"); !strings.HasPrefix(got, "a2 OK") {
		t.Fatalf("a2: %q\n%s", got, out.String())
	}
}

// TestProxySASLLineIsText: Dovecot reads a SASL response to its end as
// text, so "abc {18+}" is a (bad) response and the 18 bytes after it,
// "a2 CREATE Victim", a command that it runs. The proxy took "{18+}" for a
// literal header and relayed the command as its body: the trace hid it
// (and a filter would not have seen it). Event.Raw ends such a line at the
// header now.
func TestProxySASLLineIsText(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.send("a1 AUTHENTICATE PLAIN\r\n")
	if l := lc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("AUTHENTICATE: %q", l)
	}
	box := fmt.Sprintf("V%d", time.Now().UnixNano()%1000000)
	cmd := "a2 CREATE " + box + "\r\n"
	lc.send(fmt.Sprintf("abc {%d+}\r\n%s", len(cmd), cmd))
	if got := lc.tagged("a1"); strings.HasPrefix(got, "a1 OK") {
		t.Fatalf("a1: %q", got)
	}
	got := lc.tagged("a2")
	waitFor(t, out, "a2")
	if !strings.Contains(out.String(), "C: a2 CREATE "+box) {
		t.Fatalf("the server answered %q, and the trace shows no CREATE command:\n%s", got, out.String())
	}
}

// TestProxyIdleDoneInOneWrite: a client that sends IDLE and its DONE in one
// write (pipelining the DONE). The proxy read DONE, whose reading waits for
// the server's word on the IDLE, while the IDLE itself was still in its
// write buffer (it flushed only when nothing more was buffered): both
// waited until the connection's end. Now a line after which a ClientWait
// may wait is sent at once (FuzzDialogRelay's author noticed it).
func TestProxyIdleDoneInOneWrite(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, _, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.send("a0 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\na1 SELECT INBOX\r\n")
	if got := lc.tagged("a1"); !strings.HasPrefix(got, "a1 OK") {
		t.Fatalf("SELECT: %q", got)
	}
	lc.send("a2 IDLE\r\nDONE\r\na3 NOOP\r\n")
	if got := lc.tagged("a2"); !strings.HasPrefix(got, "a2 OK") {
		t.Fatalf("IDLE: %q", got)
	}
	if got := lc.tagged("a3"); !strings.HasPrefix(got, "a3 OK") {
		t.Fatalf("NOOP: %q", got)
	}
}
