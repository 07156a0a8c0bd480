// The client's end seen without reading (Linux): clientIn.watch, past
// maxClientReadAhead.

package main

import (
	"encoding/binary"
	"net"
	"syscall"
)

// The TCP states (include/net/tcp_states.h) in which the peer has ended
// its side (tcpPeerEnded).
const (
	tcpStateTimeWait  = 6
	tcpStateClose     = 7
	tcpStateCloseWait = 8
	tcpStateLastAck   = 9
	tcpStateClosing   = 11
)

// tcpPeerEnded reports whether a socket in TCP state st has its peer's
// end: the peer's FIN received (CLOSE_WAIT; LAST_ACK, CLOSING and
// TIME_WAIT once our side's FIN went too), or the connection gone (CLOSE:
// a reset, or both FINs done; a socket whose descriptor is held goes
// there from TIME_WAIT at once on Linux). Until stop 63 only CLOSE_WAIT
// and CLOSE counted: a wait woken in LAST_ACK or CLOSING (transient,
// after the proxy's own half-close) waited on for the next wake-up,
// which nothing promised (TestTCPPeerEndedStates).
func tcpPeerEnded(st byte) bool {
	switch st {
	case tcpStateCloseWait, tcpStateLastAck, tcpStateClosing, tcpStateTimeWait, tcpStateClose:
		return true
	}
	return false
}

// waitPeerEnd waits, without reading a byte, until c's peer has ended its
// side (TCP: its FIN or a reset received, whatever unread bytes come
// before them) and reports true; false when c's read deadline passes
// first, or when c is not a TCP connection (nor TLS over one) whose state
// can be asked. The wait is the runtime's poller's: woken by each change
// of the socket (bytes, the FIN, a reset), it asks the kernel for the
// state (TCP_INFO's first byte) and waits again while the peer is there.
func waitPeerEnd(c net.Conn) bool {
	// Under the layers: TLS, the proxy's bound on writes (clientConn).
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ended := false
	err = rc.Read(func(fd uintptr) bool {
		// tcpi_state is struct tcp_info's first byte: four bytes
		// asked, the kernel copies that many.
		v, err := syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO)
		if err != nil {
			return true // not TCP: not known
		}
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], uint32(v))
		ended = tcpPeerEnded(b[0])
		return ended
	})
	return err == nil && ended
}
