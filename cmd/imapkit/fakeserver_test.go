package main

import (
	"bufio"
	"io"
	"net"
	"strings"
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

// scriptAnswer returns what a scripted server writes for a command: its
// tag, its name in upper case ("UID COPY" for a UID command) and the
// fields of its line.
type scriptAnswer func(tag, cmd string, f []string) string

// preauthServer is a scripted server (serveTCP) that greets PREAUTH with
// the capabilities caps and answers each command line of a connection
// with the scriptAnswer that newAnswer made for it (one a connection, for
// a script that counts its commands); a LOGOUT is answered BYE and OK
// and ends the connection, as does a line of fewer than two fields.
func preauthServer(t *testing.T, caps string, newAnswer func() scriptAnswer) string {
	return serveTCP(t, func(c net.Conn) {
		defer c.Close()
		answer := newAnswer()
		r := bufio.NewReaderSize(c, 64<<10)
		io.WriteString(c, "* PREAUTH [CAPABILITY "+caps+"] fake\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				return
			}
			tag, cmd := f[0], strings.ToUpper(f[1])
			if cmd == "UID" && len(f) > 2 {
				cmd += " " + strings.ToUpper(f[2])
			}
			if cmd == "LOGOUT" {
				io.WriteString(c, "* BYE bye\r\n"+tag+" OK done\r\n")
				return
			}
			if _, err := io.WriteString(c, answer(tag, cmd, f)); err != nil {
				return
			}
		}
	})
}
