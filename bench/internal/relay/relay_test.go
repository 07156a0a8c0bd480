package relay

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// TestRelayDelays checks that a round trip through the relay takes at
// least twice the one-way delay and that bytes arrive intact, in order.
func TestRelayDelays(t *testing.T) {
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
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			c.Write([]byte("echo " + line))
		}
	}()
	const oneWay = 30 * time.Millisecond
	r, err := Listen(ln.Addr().String(), oneWay)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		start := time.Now()
		if _, err := c.Write([]byte("ping\n")); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line != "echo ping\n" {
			t.Fatalf("got %q", line)
		}
		// A lower bound only: the delay is what the relay is for.
		if rtt := time.Since(start); rtt < 2*oneWay {
			t.Fatalf("round trip %v; want at least %v", rtt, 2*oneWay)
		}
	}
}
