package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
)

// TestProxyUnderCountedPasswordAfterOwnRefusalNotRelayed: a LOGIN the
// proxy refuses itself (credentials in plaintext to an upstream not on
// loopback, the defaults) at its password literal's header, the body
// under-counted ("{12}" for "secret Xmas12", an x-command's shape) and
// sent at once: bytes read before the proxy's answer were sent before
// the client could read it, and are the body. Synctest bubble, in memory.
func TestProxyUnderCountedPasswordAfterOwnRefusalNotRelayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got bytes.Buffer
		served := make(chan struct{})
		client, trace, done := pipeProxySession(t, func(c net.Conn) {
			defer close(served)
			io.WriteString(c, "* OK ready\r\n")
			br := bufio.NewReader(c)
			for {
				l, err := br.ReadString('\n')
				got.WriteString(l)
				if err != nil {
					return
				}
				f := strings.Fields(l)
				if len(f) > 0 {
					io.WriteString(c, f[0]+" OK done\r\n")
				}
			}
		})
		br := bufio.NewReader(client)
		br.ReadString('\n')
		go io.WriteString(client, "a1 LOGIN alice {12}\r\nsecret Xmas12\r\n")
		read := readLinesTo(t, br, "a1 NO")
		client.Close()
		<-done
		<-served
		if strings.Contains(got.String(), "secret") || strings.Contains(trace.String(), "secret") {
			t.Errorf("the password went upstream or into the trace: the server got %q; the client read %q; trace:\n%s", got.String(), read, trace.String())
		}
	})
}
