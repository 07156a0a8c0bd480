package main

import (
	"crypto/tls"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// stuckAfterConn is a net.Conn whose writes, once stuck is set, write
// nothing and fail as a write deadline does (a server that reads nothing,
// its window full), at once.
type stuckAfterConn struct {
	net.Conn
	stuck atomic.Bool
}

func (c *stuckAfterConn) SetWriteDeadline(time.Time) error { return nil }

func (c *stuckAfterConn) Write(p []byte) (int, error) {
	if c.stuck.Load() {
		return 0, &net.OpError{Op: "write", Err: timeoutError{}}
	}
	return c.Conn.Write(p)
}

// TestProxyStalledCloseNotifyTraced (found by review): when the client's
// direction ends, the proxy half-closes the upstream (closeUpstreamWrite),
// which for a TLS server writes a close_notify. That write is bounded
// (upstreamConn) and records a stall as every write to the server does,
// but it ran after the direction's stall check: a server that read
// nothing stalled it with no trace line and no closeAll (the connection
// then waited for the server's direction's silence bound). Now the stall
// is checked again after it: the trace says why and the connection
// closes. The proxy's session is built by hand around a TLS upstream
// whose writes stall after the handshake (no timer runs: the stalled
// write fails at once).
func TestProxyStalledCloseNotifyTraced(t *testing.T) {
	srvCfg, cliCfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	proxyEnd, upstreamEnd := net.Pipe()
	defer upstreamEnd.Close()
	stuck := &stuckAfterConn{Conn: proxyEnd}
	buf := &syncBuffer{}
	cfg := &proxyConfig{out: buf, dialTimeout: 30 * time.Second}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: buf}}
	tc := tls.Client(&upstreamConn{Conn: stuck, bound: time.Minute, stalled: &ps.serverStalled}, cliCfg)
	hsDone := make(chan error, 1)
	go func() { hsDone <- tls.Server(upstreamEnd, srvCfg).Handshake() }()
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-hsDone; err != nil {
		t.Fatal(err)
	}
	client, clientEnd := net.Pipe()
	defer clientEnd.Close()
	ps.client, ps.server = client, tc
	ps.toClient = newClientOut(ps.clientWriter(client), ps.writeBound())
	stuck.stuck.Store(true) // the server reads nothing from now on
	ps.clientToServerEnded()
	if !ps.serverStalled.Load() {
		t.Fatal("the close_notify's write did not stall: the test's upstream is not what it should be")
	}
	if !strings.Contains(buf.String(), "[1] * server side: a write to the server made no progress for 30s (it reads nothing): closing") {
		t.Errorf("a stalled close_notify left no trace line:\n%s", buf.String())
	}
	if !ps.stopping.Load() {
		t.Error("a stalled close_notify did not close the connection (closeAll)")
	}
}
