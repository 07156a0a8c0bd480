// Package faultrelay is a TCP relay for tests that puts a network's and a
// server's faults between a client and a real server: it can cut every
// connection (the server died), freeze them (nothing forwarded either way
// and no FIN: a partition or a hung server), slow what the server sends,
// rewrite it, and act when the client has sent a given command. The
// hostile package scripts a fake server; this one leaves the real
// server's answers alone unless told to.
package faultrelay

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// What a hook returns: forward the chunk (""), cut every connection (the
// chunk dropped), or freeze before forwarding it.
const (
	Forward = ""
	Cut     = "cut"
	Freeze  = "freeze"
)

// Hooks are what a test sets on a Relay. They run under the relay's lock,
// one chunk (up to 4 KiB) at a time.
type Hooks struct {
	// OnC2S sees, after each chunk the client sends, what it has sent so
	// far (the first MiB, since the relay started or, with ResetEachConn,
	// since the connection was accepted) and how many bytes in all.
	OnC2S func(sent []byte, total int64) string
	// OnS2C sees each chunk the server sends, after Rewrite.
	OnS2C func(chunk []byte) string
	// Rewrite replaces strings of the same length in what the server
	// sends (within a chunk): {" MOVE", " XMOV"} hides a capability.
	Rewrite [][2]string
	// Delay is a pause before each chunk the server sends.
	Delay time.Duration
	// ResetEachConn starts what OnC2S sees afresh at each connection.
	ResetEachConn bool
}

// Relay forwards connections to a backend; see the package doc.
type Relay struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	hooks  Hooks
	conns  []net.Conn
	frozen bool
	thaw   chan struct{}
	c2s    bytes.Buffer // what the client sent (the first MiB)
	c2sN   int64
	s2cN   int64
}

// New starts a relay on a loopback port in front of backend
// ("host:port"); it and its connections end with the test.
func New(t testing.TB, backend string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln, backend: backend, thaw: make(chan struct{})}
	close(r.thaw)
	go r.accept()
	t.Cleanup(func() { ln.Close(); r.Thaw(); r.Cut() })
	return r
}

// Addr is the relay's address ("127.0.0.1:port").
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Update changes the hooks under the relay's lock.
func (r *Relay) Update(f func(h *Hooks)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.hooks)
}

// Sent returns a copy of what the client has sent (see Hooks.OnC2S) and
// how many bytes in all.
func (r *Relay) Sent() ([]byte, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.c2s.Bytes()), r.c2sN
}

// After returns an OnC2S hook that returns act once, when the client has
// sent marker and then at least extra bytes.
func After(marker string, extra int, act string) func([]byte, int64) string {
	done := false
	return func(sent []byte, total int64) string {
		if done {
			return Forward
		}
		i := bytes.Index(sent, []byte(marker))
		if i >= 0 && total-int64(i+len(marker)) >= int64(extra) {
			done = true
			return act
		}
		return Forward
	}
}

func (r *Relay) accept() {
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
		if r.hooks.ResetEachConn {
			r.c2s.Reset()
			r.c2sN = 0
		}
		r.mu.Unlock()
		go r.pump(c, s, true)
		go r.pump(s, c, false)
	}
}

func (r *Relay) pump(from, to net.Conn, c2s bool) {
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.mu.Lock()
			act := Forward
			if c2s {
				r.c2sN += int64(n)
				if r.c2s.Len() < 1<<20 {
					r.c2s.Write(buf[:n])
				}
				if r.hooks.OnC2S != nil {
					act = r.hooks.OnC2S(r.c2s.Bytes(), r.c2sN)
				}
			} else {
				for _, rw := range r.hooks.Rewrite {
					copy(buf[:n], bytes.ReplaceAll(buf[:n], []byte(rw[0]), []byte(rw[1])))
				}
				r.s2cN += int64(n)
				if r.hooks.OnS2C != nil {
					act = r.hooks.OnS2C(buf[:n])
				}
			}
			delay := r.hooks.Delay
			r.mu.Unlock()
			switch act {
			case Cut:
				r.Cut()
				return
			case Freeze:
				r.Freeze()
			}
			r.mu.Lock()
			thaw := r.thaw
			r.mu.Unlock()
			if !c2s && delay > 0 {
				time.Sleep(delay)
			}
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

// Cut closes every connection (the server died).
func (r *Relay) Cut() {
	r.mu.Lock()
	cs := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// Freeze stops forwarding in both directions, sending no FIN.
func (r *Relay) Freeze() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.frozen {
		r.frozen = true
		r.thaw = make(chan struct{})
	}
}

// Thaw forwards again what Freeze held.
func (r *Relay) Thaw() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen {
		r.frozen = false
		close(r.thaw)
	}
}
