package main

import (
	"net"
	"testing"
)

// serveTCP listens on a loopback port for the test's life and runs serve
// on each connection, in a goroutine of its own; it returns the address.
// The scripted destinations (fakeDst, loginFakeDst, retryDst) start
// with it.
func serveTCP(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
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
			go serve(c)
		}
	}()
	return ln.Addr().String()
}
