//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// cr39Relay is a TCP relay in front of a server that a test can cut (every
// connection closed: the server died) or freeze (nothing forwarded, no
// FIN: a partition). It hides STARTTLS (same length) so that the test sees
// the commands; the CLI accepts plaintext on loopback.
type cr39Relay struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	conns  []net.Conn
	frozen bool
	thaw   chan struct{}
	onC2S  func(c2s []byte, total int64) string
	onS2C  func(chunk []byte) string
	c2s    bytes.Buffer
	c2sN   int64
}

func cr39NewRelay(t testing.TB, backend string) *cr39Relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &cr39Relay{ln: ln, backend: backend, thaw: make(chan struct{})}
	close(r.thaw)
	go r.accept()
	t.Cleanup(func() { ln.Close(); r.Thaw(); r.Cut() })
	return r
}

func (r *cr39Relay) URL() string {
	_, p, _ := strings.Cut(r.ln.Addr().String(), ":")
	return "imap://alice@127.0.0.1:" + p
}

func (r *cr39Relay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", r.backend)
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, c, s)
		r.c2s.Reset()
		r.c2sN = 0
		r.mu.Unlock()
		go r.pump(c, s, true)
		go r.pump(s, c, false)
	}
}

func (r *cr39Relay) pump(from, to net.Conn, c2s bool) {
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.mu.Lock()
			var act string
			if c2s {
				r.c2sN += int64(n)
				if r.c2s.Len() < 1<<20 {
					r.c2s.Write(buf[:n])
				}
				if r.onC2S != nil {
					act = r.onC2S(r.c2s.Bytes(), r.c2sN)
				}
			} else {
				copy(buf[:n], bytes.ReplaceAll(buf[:n], []byte(" STARTTLS"), []byte(" XTARTTLS")))
				if r.onS2C != nil {
					act = r.onS2C(buf[:n])
				}
			}
			r.mu.Unlock()
			switch act {
			case "cut":
				r.Cut()
				return
			case "freeze":
				r.Freeze()
			}
			r.mu.Lock()
			thaw := r.thaw
			r.mu.Unlock()
			<-thaw
			if _, err := to.Write(buf[:n]); err != nil {
				from.Close()
				return
			}
		}
		if err != nil {
			if tc, ok := to.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}

func (r *cr39Relay) Cut() {
	r.mu.Lock()
	cs := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

func (r *cr39Relay) Freeze() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.frozen {
		r.frozen = true
		r.thaw = make(chan struct{})
	}
}

func (r *cr39Relay) Thaw() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen {
		r.frozen = false
		close(r.thaw)
	}
}

// cr39Set sets the hooks (nil to clear).
func (r *cr39Relay) cr39Set(c2s func([]byte, int64) string, s2c func([]byte) string) {
	r.mu.Lock()
	r.onC2S, r.onS2C = c2s, s2c
	r.mu.Unlock()
}

func cr39Big(i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a@example.org\r\nTo: b@example.org\r\nSubject: zz %d\r\nMessage-ID: <zz%d@audit>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n", i, i)
	for j := 0; b.Len() < size; j++ {
		fmt.Fprintf(&b, "line %06d of message %d, long enough to be a line of text\r\n", j, i)
	}
	return b.Bytes()
}

var _ = time.Second
var _ = testserver.Alice

// TestReview39RFetchInterruptMidBody: `imapkit fetch URL INBOX 1` of a 4 MiB
// message; the server freezes mid-body (no byte, no FIN), and the user
// presses Ctrl-C. docs/cli.md: "Ctrl-C or SIGTERM stops the command that
// runs (exit status 3) ... logs out, waiting at most a second". The
// first Ctrl-C does not stop it: the streamed body's read does not heed
// the command's context (commands.Section.Read), and the command runs on
// until --timeout's stall bound (30 s by default) aborts the session.
// The same holds for a server that is alive but slow: the whole body is
// read first.
func TestReview39RFetchInterruptMidBody(t *testing.T) {
	a, _ := dovecot(t, 0)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	if _, err := ac.AppendBytes(context.Background(), "INBOX", cr39Big(1, 4<<20), nil); err != nil {
		t.Fatal(err)
	}
	r := cr39NewRelay(t, a.PlainAddr)
	frozen := make(chan time.Time, 1)
	n, armed := 0, false
	r.cr39Set(nil, func(p []byte) string {
		if !armed && bytes.Contains(p, []byte("BODY[]")) {
			armed = true
		}
		if armed {
			if n += len(p); n > 512<<10 {
				armed = false
				frozen <- time.Now()
				return "freeze"
			}
		}
		return ""
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := interrupted
	interrupted = ctx
	defer func() { interrupted = old }()
	atc := make(chan time.Time, 1)
	go func() {
		<-frozen
		time.Sleep(500 * time.Millisecond)
		atc <- time.Now()
		cancel() // the user's Ctrl-C
	}()
	code, _, errs := runCLI(t, "", "fetch", r.URL(), "INBOX", "1")
	var at time.Time
	select {
	case at = <-atc:
	default:
		t.Fatalf("fetch ended before the interrupt: exit %d, stderr %q", code, errs)
	}
	if d := time.Since(at); d > logoutAfterInterrupt+4*time.Second {
		t.Fatalf("fetch returned %v after the Ctrl-C (exit %d, stderr %q); want within %v", d.Round(time.Millisecond), code, errs, logoutAfterInterrupt+4*time.Second)
	}
}
