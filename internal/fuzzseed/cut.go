package fuzzseed

import (
	"errors"
	"net"
	"runtime"
	"sync"
)

// ErrReset is the error of every read of a CutConn past its cut: a
// connection reset by the peer, not a timeout and not io.EOF.
var ErrReset error = &net.OpError{Op: "read", Net: "pipe", Err: errors.New("connection reset by fuzzed peer")}

// A CutConn is a connection whose reads fail with ErrReset once a given
// number of bytes were read: a server connection that breaks in the middle
// of a response. The fuzz targets that end every exec with the server's
// hang-up (an EOF) use it to reach the paths a failed read takes, which an
// EOF does not (stop 22's spinning decoder needed one).
type CutConn struct {
	net.Conn
	mu     sync.Mutex
	left   int64
	failed int
}

// Cut returns a CutConn over c whose reads fail after n bytes.
func Cut(c net.Conn, n int64) *CutConn { return &CutConn{Conn: c, left: n} }

// Read reads from the connection up to the cut, then fails with ErrReset
// without reading.
func (c *CutConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	left := c.left
	if left <= 0 {
		c.failed++
		c.mu.Unlock()
		return 0, ErrReset
	}
	c.mu.Unlock()
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.left -= int64(n)
	c.mu.Unlock()
	return n, err
}

// Failed returns how many reads failed with ErrReset.
func (c *CutConn) Failed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// Stacks returns the stacks of every goroutine (cut at 64 KiB), for the
// report of an exec or a test that did not end.
func Stacks() []byte {
	buf := make([]byte, 64<<10)
	return buf[:runtime.Stack(buf, true)]
}
