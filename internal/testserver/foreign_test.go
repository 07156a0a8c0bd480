package testserver

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// takenPort listens on a free port and serves every connection with
// serve (which closes it). The next start's first choice of ports is
// that port first, then (Dovecot's second) a free one; the count of
// freePorts calls tells whether the start tried other ports.
func takenPort(t *testing.T, serve func(net.Conn)) (ln net.Listener, calls *atomic.Int32) {
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
			serve(c)
		}
	}()
	taken := ln.Addr().(*net.TCPAddr).Port
	calls = new(atomic.Int32)
	testPortsTaken = func(n int) []int {
		if calls.Add(1) > 1 {
			return nil
		}
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
	t.Cleanup(func() { testPortsTaken = nil })
	return ln, calls
}

// TestForeignServerOnPort: another process that took the port chosen for a
// server (between freePorts and the server's bind) and greets "* OK" is
// not taken for the server: the start tries other ports. Before, a
// Dovecot start failed on such a greeting (CI flake under load, seen
// with a fuzzer's fake servers on loopback), and a Cyrus start took the
// foreign server for Cyrus.
func TestForeignServerOnPort(t *testing.T) {
	greet := func(c net.Conn) {
		c.Write([]byte("* OK [CAPABILITY IMAP4rev1] fake server ready\r\n"))
		c.Close()
	}
	t.Run("Dovecot", func(t *testing.T) {
		ln, calls := takenPort(t, greet)
		s := StartT(t, nil)
		if s.PlainAddr == ln.Addr().String() {
			t.Fatalf("Dovecot's address is the foreign server's %s", s.PlainAddr)
		}
		if calls.Load() < 2 {
			t.Fatal("the start never met the foreign server: the test tests nothing")
		}
		c, _ := dialPlain(t, s.PlainAddr)
		c.login(Alice, Password)
	})
	t.Run("Cyrus", func(t *testing.T) {
		ln, calls := takenPort(t, greet)
		cy := StartCyrusT(t)
		if cy.Addr == ln.Addr().String() {
			t.Fatalf("Cyrus's address is the foreign server's %s", cy.Addr)
		}
		if calls.Load() < 2 {
			t.Fatal("the start never met the foreign server: the test tests nothing")
		}
	})
}

// TestPortTakenByClosingServer: another process took the port chosen for
// a server and closes every connection without a word. The start tries
// other ports. Before, a Dovecot start dialed the port before its master
// had bound (and failed to bind) it, reached the other process and
// failed with "plain listener ...: reading greeting: EOF" and an empty log
// (CI flake under load in cmd/imapkit: TestProxyWithheldPlusHoldsAnswer,
// TestCopyKilledRunJournal); a Cyrus start, whose master runs on without
// the listener it could not bind, dialed the other process until its
// 15 s timeout and failed with the same EOF.
func TestPortTakenByClosingServer(t *testing.T) {
	closeAtOnce := func(c net.Conn) { c.Close() }
	t.Run("Dovecot", func(t *testing.T) {
		ln, calls := takenPort(t, closeAtOnce)
		s := StartT(t, nil)
		if s.PlainAddr == ln.Addr().String() {
			t.Fatalf("Dovecot's address is the other process's %s", s.PlainAddr)
		}
		if calls.Load() < 2 {
			t.Fatal("the start did not try other ports: the test tests nothing")
		}
		var logs []byte
		for _, f := range []string{"dovecot.log", "dovecot.stderr"} {
			b, _ := os.ReadFile(filepath.Join(s.Dir, f))
			logs = append(logs, b...)
		}
		if !bytes.Contains(logs, []byte("Address already in use")) {
			t.Errorf("no bind failure in Dovecot's log: the first master did not meet the taken port:\n%s", logs)
		}
		c, _ := dialPlain(t, s.PlainAddr)
		c.login(Alice, Password)
	})
	t.Run("Cyrus", func(t *testing.T) {
		ln, calls := takenPort(t, closeAtOnce)
		cy := StartCyrusT(t)
		if cy.Addr == ln.Addr().String() {
			t.Fatalf("Cyrus's address is the other process's %s", cy.Addr)
		}
		if calls.Load() < 2 {
			t.Fatal("the start did not try other ports: the test tests nothing")
		}
	})
}
