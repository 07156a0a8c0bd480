package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestProxySecretsZeroedAtEnd: the credentials a connection's client sent
// (a LOGIN's password, in each of its forms) are zeroed once the
// connection has ended, as the session's are; they were left to the
// garbage collector. Defaults.
func TestProxySecretsZeroedAtEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "* OK ready\r\n")
		r := bufio.NewReader(c)
		r.ReadString('\n')
		io.WriteString(c, "a1 NO [AUTHENTICATIONFAILED] bad\r\n")
		r.ReadString('\n')
	}()
	cfg := &proxyConfig{upstream: &target{host: "127.0.0.1", addr: ln.Addr().String()}, out: io.Discard, dialTimeout: 30 * time.Second}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: io.Discard}}
	client, proxyEnd := net.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		ps.serve(context.Background(), proxyEnd)
	}()
	r := bufio.NewReader(client)
	r.ReadString('\n')
	io.WriteString(client, "a1 LOGIN alice \"pa\\\\ss\\\"w0rd-secret\"\r\n")
	r.ReadString('\n')
	var kept [][]byte
	ps.secrets.s().Forms(func(f []byte, _ bool) { kept = append(kept, f[:cap(f)]) })
	if len(kept) == 0 {
		t.Fatal("the proxy kept no form of the password")
	}
	io.WriteString(client, "a2 LOGOUT\r\n")
	go io.Copy(io.Discard, r)
	<-served
	client.Close()
	for _, f := range kept {
		if strings.Trim(string(f), "\x00") != "" {
			t.Errorf("a form of the password is left as %q after the connection ended", f)
		}
	}
}
