package main

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestClientInWatchSeesEndPastReadAhead: a client that sent more than
// maxClientReadAhead bytes while the proxy waited for the server's word on
// its literal (a body sent without waiting for the "+"), then left, is
// seen to leave, in the clear and over TLS, while what the watch keeps
// stays within the bound: past it the watch reads nothing more but waits
// for the TCP connection's end (waitPeerEnd). Before, the watch ended at
// the bound, and such a client's end went unseen until the server spoke:
// a server silent at the literal held the session. What was sent is read
// back whole and in order, then the end. Defaults; the wait is bounded
// only against a hang (proxyHang). Linux: the TCP state is the
// kernel's (TCP_INFO).
func TestClientInWatchSeesEndPastReadAhead(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("0123456789abcdef", (maxClientReadAhead+16<<10)/16))
	for _, useTLS := range []bool{false, true} {
		name := "in the clear"
		if useTLS {
			name = "over TLS"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var server, client net.Conn
			if useTLS {
				server, client = tlsPairOverTCP(t, nil, nil)
			} else {
				server, client = tcpPair(t)
			}
			in := &clientIn{c: server}
			watchUntilClientLeaves(t, in, client, body)
			if max := maxClientReadAhead + 4<<10; len(in.ahead) > max {
				t.Errorf("the watch kept %d bytes; want %d at most", len(in.ahead), max)
			}
			got, err := io.ReadAll(in)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("read back %d bytes (%v), equal to the %d sent: %v", len(got), err, len(body), bytes.Equal(got, body))
			}
		})
	}
}

// TestWaitPeerEnd: waitPeerEnd, the watch's wait past
// maxClientReadAhead, reads no byte and reports the peer's end: its FIN
// behind bytes not read, or its reset; not a peer that stays, whose wait
// a read deadline ends (the watch's stop sets one), nor a connection that
// is not TCP. The bytes are read afterwards, whole. The waits are bounded
// only against a hang (proxyHang).
func TestWaitPeerEnd(t *testing.T) {
	t.Parallel()
	unread := []byte(strings.Repeat("x", 16<<10))
	for _, tc := range []struct {
		name  string
		end   func(c *net.TCPConn) // the client's; nil: it stays
		ended bool
	}{
		{"FIN behind unread bytes", func(c *net.TCPConn) { c.Close() }, true},
		{"a half-close", func(c *net.TCPConn) { c.CloseWrite() }, true},
		{"a reset", func(c *net.TCPConn) { c.SetLinger(0); c.Close() }, true},
		{"the client's FIN after the proxy's half-close", nil, true},
		{"the client stays, a deadline", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server, client := tcpPair(t)
			if _, err := client.Write(unread); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tc.name, "the proxy's half-close") {
				server.(*net.TCPConn).CloseWrite()
				client.Close()
			} else if tc.end != nil {
				tc.end(client.(*net.TCPConn))
			} else {
				go server.SetReadDeadline(time.Now()) // before or during the wait
			}
			got := make(chan bool, 1)
			go func() { got <- waitPeerEnd(server) }()
			select {
			case ended := <-got:
				if ended != tc.ended {
					t.Errorf("waitPeerEnd reported %v; want %v", ended, tc.ended)
				}
			case <-time.After(proxyHang):
				server.SetReadDeadline(time.Now())
				t.Fatalf("waitPeerEnd did not return in %v", proxyHang)
			}
			if tc.name == "a reset" {
				return // the unread bytes may go with the reset
			}
			server.SetReadDeadline(time.Time{})
			b := make([]byte, len(unread))
			if _, err := io.ReadFull(server, b); err != nil || !bytes.Equal(b, unread) {
				t.Errorf("the bytes read after the wait: %d (%v), equal: %v", len(b), err, bytes.Equal(b, unread))
			}
		})
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if waitPeerEnd(a) {
		t.Errorf("waitPeerEnd reported the end of a connection that is not TCP")
	}
}

// TestTCPPeerEndedStates: the TCP states in which waitPeerEnd reports the
// peer's end are those after the peer's FIN or the connection's end
// (CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT, CLOSE), and none other. A
// table over every state of include/net/tcp_states.h: LAST_ACK and
// CLOSING are too brief to catch on loopback, and a held socket leaves
// TIME_WAIT for CLOSE at once.
func TestTCPPeerEndedStates(t *testing.T) {
	ended := map[byte]bool{
		tcpStateCloseWait: true, tcpStateLastAck: true, tcpStateClosing: true,
		tcpStateTimeWait: true, tcpStateClose: true,
	}
	for st := byte(0); st <= tcpStateClosing+1; st++ {
		if got := tcpPeerEnded(st); got != ended[st] {
			t.Errorf("tcpPeerEnded(%d) = %v; want %v", st, got, ended[st])
		}
	}
}
