// The client's end seen without reading (Linux): clientIn.watch, past
// maxClientReadAhead.

package main

import (
	"crypto/tls"
	"encoding/binary"
	"net"
	"syscall"
)

// The TCP states (include/net/tcp_states.h) in which the peer has ended
// its side: its FIN received (CLOSE_WAIT), or a reset (CLOSE).
const (
	tcpStateClose     = 7
	tcpStateCloseWait = 8
)

// waitPeerEnd waits, without reading a byte, until c's peer has ended its
// side (TCP: its FIN or a reset received, whatever unread bytes come
// before them) and reports true; false when c's read deadline passes
// first, or when c is not a TCP connection (nor TLS over one) whose state
// can be asked. The wait is the runtime's poller's: woken by each change
// of the socket (bytes, the FIN, a reset), it asks the kernel for the
// state (TCP_INFO's first byte) and waits again while the peer is there.
func waitPeerEnd(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
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
		ended = b[0] == tcpStateCloseWait || b[0] == tcpStateClose
		return ended
	})
	return err == nil && ended
}
