package session_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// review47TLS is the test certificate of FuzzReview47FStartTLS, made once
// per process (a key and a certificate per exec would cost more than the
// exec).
var review47TLS struct {
	once     sync.Once
	srv, cli *tls.Config
	err      error
}

func review47TLSConfigs(t testing.TB) (srv, cli *tls.Config) {
	review47TLS.once.Do(func() {
		dir, err := os.MkdirTemp("", "review47f")
		if err != nil {
			review47TLS.err = err
			return
		}
		defer os.RemoveAll(dir) // the configs hold the certificate in memory
		review47TLS.srv, review47TLS.cli, review47TLS.err = testserver.TLSConfigs(dir)
	})
	if review47TLS.err != nil {
		t.Fatal(review47TLS.err)
	}
	return review47TLS.srv.Clone(), review47TLS.cli.Clone()
}

// review47Marker is a capability only the bytes before the switch to TLS
// may hold: the scripted server takes it out of what it sends over TLS, so
// the session seeing it after a StartTLS that succeeded read bytes received
// in clear as if they came over TLS (the STARTTLS buffered-data
// injection).
const review47Marker = "XINJ"

// review47Bound is how long an exec's StartTLS may run: the script's
// server hangs up well before, and no timeout of the library is shortened.
const review47Bound = 4 * time.Second

// review47StartTLSExec runs one exec of FuzzReview47FStartTLS: a session
// with the library's defaults (nil Options: the server name comes from the
// client's tls.Config) opened on pre (the greeting and anything after it),
// then StartTLS. The server answers a command other than STARTTLS before
// the switch with a CAPABILITY that has STARTTLS, STARTTLS with answer
// (%T its tag: its OK, and bytes after it that must be thrown away), then
// runs the TLS handshake and answers the first command over TLS with post
// (%T the tag), then hangs up.
func review47StartTLSExec(t *testing.T, pre, answer, post []byte) {
	srvCfg, cliCfg := review47TLSConfigs(t)
	before := runtime.NumGoroutine()
	lc := leakcheck.Start()
	post = bytes.ReplaceAll(post, []byte(review47Marker), []byte("XXXX"))
	cc, sc := transport.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer sc.Close()
		// The server ends by itself: its connection's deadline, and a
		// client quiet for review47Quiet (waiting for what this script
		// will never send) is hung up on.
		end := time.Now().Add(review47Bound)
		sc.SetDeadline(end)
		if _, err := sc.Write(pre); err != nil {
			return
		}
		br := bufio.NewReader(&review47Quiet{Conn: sc, end: end})
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if !strings.HasPrefix(strings.ToUpper(rest), "STARTTLS") {
				if _, err := sc.Write([]byte("* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + " OK done\r\n")); err != nil {
					return
				}
				continue
			}
			if _, err := sc.Write(bytes.ReplaceAll(answer, []byte("%T"), []byte(tag))); err != nil {
				return
			}
			break
		}
		// Whatever the answer said: the handshake, which fails when the
		// client did not switch.
		tc := tls.Server(&review47Rest{Conn: &review47Quiet{Conn: sc, end: end}, r: br}, srvCfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		tr := bufio.NewReader(tc)
		line, err := tr.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		// Then hang up: the pipe keeps what the client has not read yet.
		tc.Write(bytes.ReplaceAll(post, []byte("%T"), []byte(tag)))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), review47Bound)
	defer cancel()
	done := make(chan error, 1)
	var s *session.Session
	go func() {
		var err error
		s, err = session.Open(ctx, cc, nil)
		if err == nil {
			err = s.StartTLS(ctx, cliCfg)
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(review47Bound + 2*time.Second):
		t.Fatalf("StartTLS still running %v after the server's deadline\n%s", 2*time.Second, fuzzseed.Stacks())
	}
	if err == nil {
		for _, c := range s.Caps() {
			if strings.Contains(strings.ToUpper(c), review47Marker) {
				t.Fatalf("after STARTTLS the session has the capability %q, which only the bytes before the handshake held: %v", c, s.Caps())
			}
		}
		if !s.TLS() {
			t.Fatal("StartTLS succeeded but TLS() is false")
		}
	} else if msg := err.Error(); fuzzseed.Unsafe(msg) {
		t.Fatalf("error with unsafe bytes: %q", msg)
	}
	if s != nil {
		s.Close()
	}
	cc.Close()
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(review47Bound + 2*time.Second):
		t.Fatalf("the server did not end\n%s", fuzzseed.Stacks())
	}
	if runtime.NumGoroutine() > before {
		// Goroutines only: a test running beside this one (in the
		// package's tests, not while fuzzing) may start the shared
		// Dovecot, a child process, or open files meanwhile.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var le *leakcheck.LeakError
			if err := lc.Check(0); !errors.As(err, &le) || len(le.Goroutines) == 0 {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("goroutines of the module left:\n%s", strings.Join(le.Goroutines, "\n\n"))
			}
		}
	}
}

// review47Quiet is the server's connection before the switch and for the
// handshake: a read waits review47QuietFor at most (the connection's
// deadline still bounds it), so that an exec whose client waits for the
// server ends at once instead of at review47Bound. It is no check: a
// server hanging up early only makes an exec shorter.
type review47Quiet struct {
	net.Conn
	end time.Time
}

// review47QuietFor: long enough for a handshake's step under -race on a
// loaded machine most of the time.
const review47QuietFor = 150 * time.Millisecond

func (c *review47Quiet) Read(p []byte) (int, error) {
	d := time.Now().Add(review47QuietFor)
	if d.After(c.end) {
		d = c.end
	}
	c.Conn.SetReadDeadline(d)
	return c.Conn.Read(p)
}

// review47Rest is the server's connection for the handshake: the bytes its
// line reader had read past STARTTLS first (a client that pipelined its
// ClientHello behind STARTTLS), then the connection.
type review47Rest struct {
	net.Conn
	r *bufio.Reader
}

func (c *review47Rest) Read(p []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

// FuzzReview47FStartTLS fuzzes the client's STARTTLS (session.StartTLS)
// with the server's bytes before the switch (the greeting, the answer to
// STARTTLS and what follows its OK in the same stream: the buffered-data
// injection of CVE-2011-0411's kind, here against the client) and after it
// (the answer to the CAPABILITY the session asks for over TLS), over an
// in-memory pipe with a real crypto/tls handshake (the certificate made
// once per process). Checks, with the library's defaults: no panic;
// StartTLS returns within 2 s of the server's hang-up (4 s); a capability
// only the clear bytes held (review47Marker) is never seen after a
// StartTLS that succeeded; errors hold no unsafe bytes; no goroutine of the
// module left.
func FuzzReview47FStartTLS(f *testing.F) {
	greet := "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n"
	caps := "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\n%T OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
	for _, s := range []struct{ pre, answer, post string }{
		// Dovecot 2.3 (codec/testdata/quirks/dovecot.txt's greeting).
		{greet, "%T OK Begin TLS negotiation now.\r\n", caps},
		// The greeting without capabilities: the session asks first.
		{"* OK Dovecot ready.\r\n", "%T OK Begin TLS negotiation now.\r\n", caps},
		// Injection: capabilities, a FETCH and a forged completion of
		// the command the session sends next, behind the OK.
		{greet, "%T OK Begin TLS now\r\n* CAPABILITY IMAP4rev1 XINJ AUTH=PLAIN\r\n* 1 FETCH (UID 1)\r\nA2 OK [CAPABILITY IMAP4rev1 XINJ] done\r\n", caps},
		{greet, "%T OK [CAPABILITY IMAP4rev1 XINJ] Begin TLS now\r\n", caps},
		{greet, "* CAPABILITY IMAP4rev1 XINJ\r\n%T OK Begin TLS now\r\n", caps},
		// Refusals and hostile answers.
		{greet, "%T NO TLS unavailable\r\n", caps},
		{greet, "%T BAD\r\n", caps},
		{greet, "* BYE going away\r\n", caps},
		{greet, "+ \r\n%T OK go\r\n", caps},
		{greet, "%T OK {5}\r\nXINJ \r\n", caps},
		{greet, "%T OK Begin TLS now\r\n\x16\x03\x01\x00\x05hello", caps},
		{"* OK [CAPABILITY IMAP4rev1] no starttls\r\n", "%T OK go\r\n", caps},
		{"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in\r\n", "%T OK go\r\n", caps},
		// After the switch: hostile answers over TLS.
		{greet, "%T OK go\r\n", "* CAPABILITY IMAP4rev1 XINJ\r\n%T OK\r\n"},
		{greet, "%T OK go\r\n", "* BYE\r\n"},
		{greet, "%T OK go\r\n", "%T NO no capabilities\r\n"},
		{greet, "%T OK go\r\n", "* CAPABILITY {3}\r\nABC\r\n%T OK\r\n"},
		{greet, "%T OK go\r\n", ""},
	} {
		f.Add([]byte(s.pre), []byte(s.answer), []byte(s.post))
	}
	f.Fuzz(func(t *testing.T, pre, answer, post []byte) {
		if len(pre)+len(answer)+len(post) > 64<<10 {
			return
		}
		review47StartTLSExec(t, pre, answer, post)
	})
}
