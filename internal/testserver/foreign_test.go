package testserver

import (
	"net"
	"sync/atomic"
	"testing"
)

// TestForeignServerOnPort: another process that took the port chosen for a
// server (between freePorts and the server's bind) and greets "* OK" is
// not taken for the server: the start tries other ports. Before, a
// Dovecot start failed on such a greeting (CI flake under load, seen
// with a fuzzer's fake servers on loopback), and a Cyrus start took the
// foreign server for Cyrus.
func TestForeignServerOnPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var greeted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			greeted.Add(1)
			c.Write([]byte("* OK [CAPABILITY IMAP4rev1] fake server ready\r\n"))
			c.Close()
		}
	}()
	taken := ln.Addr().(*net.TCPAddr).Port
	var calls atomic.Int32
	testPortsTaken = func(n int) []int {
		if calls.Add(1) > 1 {
			return nil
		}
		// The first choice: the foreign server's port first, then
		// (Dovecot's second) a free one.
		ports := []int{taken}
		for len(ports) < n {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Error(err)
				return nil
			}
			ports = append(ports, l.Addr().(*net.TCPAddr).Port)
			l.Close()
		}
		return ports
	}
	defer func() { testPortsTaken = nil }()

	t.Run("Dovecot", func(t *testing.T) {
		calls.Store(0)
		greeted.Store(0)
		s := StartT(t, nil)
		if s.PlainAddr == ln.Addr().String() {
			t.Fatalf("Dovecot's address is the foreign server's %s", s.PlainAddr)
		}
		if greeted.Load() == 0 {
			t.Fatal("the start never met the foreign server: the test tests nothing")
		}
		c, _ := dialPlain(t, s.PlainAddr)
		c.login(Alice, Password)
	})
	t.Run("Cyrus", func(t *testing.T) {
		calls.Store(0)
		greeted.Store(0)
		cy := StartCyrusT(t)
		if cy.Addr == ln.Addr().String() {
			t.Fatalf("Cyrus's address is the foreign server's %s", cy.Addr)
		}
		if greeted.Load() == 0 {
			t.Fatal("the start never met the foreign server: the test tests nothing")
		}
	})
}
