package session_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestStartTLSDropsPreTLSEvents: unsolicited responses read in the clear
// and still queued for OnUnsolicited when STARTTLS's OK comes are never
// handed to it after the handshake (RFC 9051 section 6.2.1: anyone on the
// path could have written them), and those after the OK in the same read
// are never parsed. The handler holds on to the first one until StartTLS
// returns, so that the others wait in the queue.
func TestStartTLSDropsPreTLSEvents(t *testing.T) {
	scfg, ccfg := hsTLS(t)
	hsRun(t, hsStartTLSServer(scfg, hsStartTLS{
		Clear:   []string{"* OK [ALERT] pre-tls one", "* OK [ALERT] pre-tls two", "* OK [ALERT] pre-tls three"},
		AfterOK: []string{"* OK [ALERT] injected after the OK"},
		Caps:    "IMAP4rev1 AUTH=PLAIN",
		OverTLS: []string{"* OK [ALERT] over tls"},
	}), 0, 0, func(c *hsCase, conn net.Conn) {
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		var once sync.Once
		opts := hsOpts()
		opts.OnUnsolicited = func(r codec.Response) {
			if st, ok := r.(*codec.Status); ok {
				mu.Lock()
				got = append(got, string(st.Text))
				mu.Unlock()
			}
			once.Do(func() { <-release })
		}
		s := c.open(conn, opts)
		if s == nil {
			close(release)
			return
		}
		err := s.StartTLS(context.Background(), ccfg)
		close(release)
		if err != nil {
			c.t.Errorf("StartTLS: %v", err)
			return
		}
		if _, err := c.run(hsNoop()); err != nil {
			c.t.Errorf("NOOP over TLS: %v", err)
		}
		s.Close()
		<-s.Done()
		mu.Lock()
		defer mu.Unlock()
		pre := 0
		for _, text := range got {
			if strings.Contains(text, "pre-tls") {
				pre++
			}
			if strings.Contains(text, "injected") {
				c.t.Errorf("OnUnsolicited was handed %q, sent after STARTTLS's OK in the clear", text)
			}
		}
		if pre > 1 {
			c.t.Errorf("OnUnsolicited was handed %d pre-TLS responses (%q); want at most the one it held as STARTTLS's OK came", pre, got)
		}
		if !slicesContains(got, "over tls") {
			c.t.Errorf("OnUnsolicited got %q; want the ALERT sent over TLS", got)
		}
		if ev, _ := s.DroppedUnsolicited(); ev < 2 {
			c.t.Errorf("DroppedUnsolicited events = %d; want the pre-TLS ones still queued (>= 2)", ev)
		}
		c.outcome = "pre-TLS events dropped"
	})
}

func slicesContains(l []string, sub string) bool {
	for _, s := range l {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestStartTLSDropsPreTLSCaught: what a Catch running across STARTTLS
// caught in the clear is dropped as STARTTLS's OK comes: its Take after
// StartTLS returns nothing of it (and its Stop would have queued it for
// OnUnsolicited).
func TestStartTLSDropsPreTLSCaught(t *testing.T) {
	scfg, ccfg := hsTLS(t)
	hsRun(t, hsStartTLSServer(scfg, hsStartTLS{
		Clear: []string{`* FLAGS (\Seen \Injected)`},
		Caps:  "IMAP4rev1 AUTH=PLAIN",
	}), 0, 0, func(c *hsCase, conn net.Conn) {
		got, ok, err := catchAcrossStartTLS(c, conn, nil, ccfg)
		if !ok {
			return
		}
		if len(got) != 0 || err != nil {
			c.t.Errorf("Catch.Take after StartTLS = %v, %v; want nothing caught in the clear", got, err)
		}
		c.outcome = "pre-TLS caught responses dropped"
	})
}

// TestStartTLSCatchBoundNotCarriedOver: a Catch that the clear stream
// filled past MaxResultBytes (the bound is this test's subject: 4 KiB)
// before STARTTLS's OK keeps the responses the TLS connection brings.
// dropPreTLSEvents throws away what the Catch held but keeps its count of
// dropped responses, and with it the Catch's "full" state (fullLocked:
// c.dropped > 0): every response caught over TLS is then dropped until a
// Take, for a hole in the clear stream that no longer exists, and the
// Take reports the pre-TLS responses as dropped from what it returns.
func TestStartTLSCatchBoundNotCarriedOver(t *testing.T) {
	scfg, ccfg := hsTLS(t)
	hsRun(t, hsStartTLSServer(scfg, hsStartTLS{
		Clear:   hsFlood(),
		Caps:    "IMAP4rev1 AUTH=PLAIN",
		OverTLS: []string{`* FLAGS (\Seen \PostTLS)`},
	}), 0, 0, func(c *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.MaxResultBytes = 4 << 10
		got, ok, err := catchAcrossStartTLS(c, conn, opts, ccfg)
		if !ok {
			return
		}
		post := false
		for _, r := range got {
			if f, ok := r.(*codec.Flags); ok {
				for _, fl := range f.Flags {
					post = post || strings.Contains(string(fl), "PostTLS")
				}
			}
		}
		if !post || err != nil {
			c.t.Errorf("Catch.Take after StartTLS = %d responses (the FLAGS sent over TLS: %v), %v; want the FLAGS sent over TLS and no error", len(got), post, err)
		}
		c.outcome = "post-TLS caught"
	})
}

// catchAcrossStartTLS opens a session with opts on conn, runs StartTLS
// with ccfg while a Catch is running, and returns what the Catch's Take
// gives after it; ok is false (the failure reported) when Open or
// StartTLS failed.
func catchAcrossStartTLS(c *hsCase, conn net.Conn, opts *session.Options, ccfg *tls.Config) (got []codec.Response, ok bool, err error) {
	s := c.open(conn, opts)
	if s == nil {
		return nil, false, nil
	}
	catch := s.Catch()
	defer catch.Stop()
	if err := s.StartTLS(context.Background(), ccfg); err != nil {
		c.t.Errorf("StartTLS: %v", err)
		return nil, false, nil
	}
	got, err = catch.Take()
	return got, true, err
}
