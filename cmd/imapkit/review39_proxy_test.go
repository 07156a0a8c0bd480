package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// p39Upstream is a scripted upstream server: it greets, then hands each
// connection to serve. It listens on listen ("127.0.0.1:0" or a
// non-loopback address).
type p39Upstream struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func p39StartUpstream(t *testing.T, listen string, serve func(c net.Conn, br *bufio.Reader)) *p39Upstream {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	u := &p39Upstream{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		u.mu.Lock()
		for _, c := range u.conns {
			c.Close()
		}
		u.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns = append(u.conns, c)
			u.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 LITERAL+ COMPRESS=DEFLATE] scripted\r\n")
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return u
}

// p39Echo answers every line "TAG OK done" (a literal's "+" for a {n}).
func p39Echo(c net.Conn, br *bufio.Reader) {
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.HasSuffix(l, "}\r\n") {
			io.WriteString(c, "+ go ahead\r\n")
			continue
		}
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(c, tag+" OK done\r\n")
	}
}

// TestReview39PProxyRefusedLoginSyntaxErrorLeaksPassword: to an imap:// upstream
// that is not on loopback, the proxy refuses LOGIN itself. When the LOGIN's
// first part ends at a literal (the user name sent as {5+}), refuse reads
// the rest of the command with RefuseCommand; when that rest does not
// tokenize (a quoted password with a backslash that the client did not
// escape: `"C:\Hunter2pass"`), the *wire.SyntaxError, whose
// text quotes 16 bytes of the input from the offending byte, is printed
// to the trace as "* client side: ...": the password in the clear.
func TestReview39PProxyRefusedLoginSyntaxErrorLeaksPassword(t *testing.T) {
	ip := nonLoopbackIP(t)
	up := p39StartUpstream(t, net.JoinHostPort(ip, "0"), p39Echo)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up.ln.Addr().String())
	lc := dialLines(t, addr)
	// The password is `C:\Hunter2pass`, quoted by a client that does not
	// escape its backslash.
	const secret = "Hunter2pass"
	lc.send("a1 LOGIN {5+}\r\nalice \"C:\\" + secret + "\"\r\n")
	got := readUntil(lc, "a1 ", 3*time.Second)
	t.Logf("client got %q\n%s", got, out.String())
	if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "a1 NO") {
		t.Errorf("the client got no NO for its LOGIN: %q", got)
	}
	time.Sleep(200 * time.Millisecond)
	if tr := out.String(); strings.Contains(tr, secret) {
		t.Errorf("the password is in the proxy's trace:\n%s", tr)
	}
}
