package faultrelay_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/faultrelay"
)

// echo starts a backend that echoes each line upper-cased, prefixed with
// "* ".
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					io.WriteString(c, "* "+strings.ToUpper(l))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestRelay: bytes pass both ways, rewritten; OnC2S sees what was sent and
// After acts once; Freeze holds the server's answer until Thaw; Cut ends
// the connection.
func TestRelay(t *testing.T) {
	r := faultrelay.New(t, echo(t))
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	read := func() (string, error) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		return br.ReadString('\n')
	}
	r.Update(func(h *faultrelay.Hooks) { h.Rewrite = [][2]string{{"MOVE", "XMOV"}} })
	io.WriteString(c, "a move\r\n")
	if l, err := read(); err != nil || l != "* A XMOV\r\n" {
		t.Fatalf("read %q, %v", l, err)
	}
	r.Update(func(h *faultrelay.Hooks) { h.OnC2S = faultrelay.After("hold", 0, faultrelay.Freeze) })
	io.WriteString(c, "hold\r\n")
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if l, err := br.ReadString('\n'); err == nil {
		t.Fatalf("read %q through a frozen relay", l)
	}
	r.Thaw()
	if l, err := read(); err != nil || l != "* HOLD\r\n" {
		t.Fatalf("after Thaw: read %q, %v", l, err)
	}
	if sent, n := r.Sent(); string(sent) != "a move\r\nhold\r\n" || n != int64(len(sent)) {
		t.Fatalf("Sent() = %q, %d", sent, n)
	}
	r.Cut()
	if l, err := read(); err == nil {
		t.Fatalf("read %q after Cut", l)
	}
}
