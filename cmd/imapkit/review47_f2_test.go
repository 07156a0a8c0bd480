package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// review47CloseServer is an upstream on loopback TCP for the proxy: it
// sends a greeting, then answers each line it reads with answers[i] (%T
// the line's tag), and stays until the proxy closes. It is waited for at
// the test's end.
func review47CloseServer(t *testing.T, answers ...string) string {
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
		c.SetDeadline(time.Now().Add(5 * time.Second))
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

// TestReview47FProxyCloseDelivers: when the proxy closes the relay on a
// server's line (here a completion of a tag the proxy never relayed, in
// the same packet as a normal answer), the client receives every byte
// relayed before it, the proxy's "* BYE" that says why, then EOF. Before,
// the normal answer was still in the proxy's buffer (more of the server's
// bytes were buffered, so it was not flushed) and closing the client's
// connection dropped it: the client read the greeting, then nothing.
// Over real loopback TCP, with the proxy's default options, and over TLS
// (--tls --self-signed: a client connection over TLS needs them).
func TestReview47FProxyCloseDelivers(t *testing.T) {
	t.Run("tcp", func(t *testing.T) { review47CloseDelivers(t, false) })
	t.Run("tls", func(t *testing.T) { review47CloseDelivers(t, true) })
}

func review47CloseDelivers(t *testing.T, useTLS bool) {
	up := review47CloseServer(t, "%T OK done\r\nzz9 OK forged\r\n")
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
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if g, err := r.ReadString('\n'); err != nil || g != "* OK ready\r\n" {
		t.Fatalf("greeting %q, %v", g, err)
	}
	if _, err := io.WriteString(c, "a1 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	got := string(rest)
	want := "a1 OK done\r\n" + review47ByeOutOfStep
	if err != nil || got != want {
		t.Fatalf("after the greeting the client read %q, %v; want %q then EOF\ntrace:\n%s", got, err, want, out.String())
	}
}

// review47ByeOutOfStep is the proxy's BYE on a server out of step.
const review47ByeOutOfStep = "* BYE imapkit proxy: the server's answers are out of step with the client's commands; closing\r\n"

// TestReview47FProxyCloseNoReset: the proxy closes on a server's line while
// the client's bytes it has not read wait in its socket (a {n+} literal
// of 1 MiB, held while the proxy waits for the server's go-ahead for it).
// Closing a TCP socket with unread input sends a reset, which on the
// client's side may destroy what was still in flight to it; the client
// must read the answer relayed before, the BYE, then EOF, not a reset.
func TestReview47FProxyCloseNoReset(t *testing.T) {
	up := review47CloseServer(t, "%T OK done\r\n", "* 1 EXISTS\r\nzz9 OK forged\r\n")
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up, "--once")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
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
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Write(append([]byte("a2 APPEND INBOX {1048576+}\r\n"), bytes.Repeat([]byte("x"), n)...))
		sent <- err
	}()
	rest, err := io.ReadAll(r)
	got := string(rest)
	want := "* 1 EXISTS\r\n" + review47ByeOutOfStep
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
