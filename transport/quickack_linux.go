//go:build linux

package transport

import (
	"net"
	"syscall"
)

// quickAckConn is a TCP connection that asks Linux for an immediate ACK
// before each read (TCP_QUICKACK, which the kernel turns off again by
// itself once the exchange looks interactive: it must be asked for
// again). An IMAP client mostly waits for the rest of a response; a server
// that writes its response in pieces with Nagle's algorithm on (Cyrus
// does) holds the last piece until the first is acknowledged, and a
// delayed ACK waits up to 40 ms. A UID FETCH 1:* (UID ENVELOPE) of 16
// messages from Cyrus took 44 ms with delayed ACKs and 1-2 ms without.
//
// The methods of *net.TCPConn are promoted (CloseWrite, SetKeepAlive,
// ...); NetConn returns the *net.TCPConn itself.
type quickAckConn struct {
	*net.TCPConn
	raw  syscall.RawConn
	ack  func(fd uintptr) // made once: Control does not allocate
	host string           // ServerName
}

// ServerName returns the host the connection was dialled as (see Dial).
func (c *quickAckConn) ServerName() string { return c.host }

func quickAck(fd uintptr) {
	syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
}

// withQuickAck wraps a TCP connection in a quickAckConn that remembers
// host; other connections go to withHost.
func withQuickAck(conn net.Conn, host string) net.Conn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return withHost(conn, host)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return withHost(conn, host)
	}
	return &quickAckConn{TCPConn: tc, raw: raw, ack: quickAck, host: host}
}

// Read asks for an immediate ACK, then reads.
func (c *quickAckConn) Read(p []byte) (int, error) {
	c.raw.Control(c.ack) // best effort: an error leaves delayed ACKs on
	return c.TCPConn.Read(p)
}

// NetConn returns the underlying *net.TCPConn.
func (c *quickAckConn) NetConn() net.Conn { return c.TCPConn }
