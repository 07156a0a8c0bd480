// Package connkit is a test kit: a net.Conn that counts what goes through
// it, for the tests that need to know whether a connection moves (a hang
// detector that waits while bytes still flow), how many bytes a client
// sent, or how many reads and writes it made.
package connkit

import (
	"net"
	"sync/atomic"
)

// Counting wraps a net.Conn and counts its reads and writes and the bytes
// they moved. The counters may be read while the connection is in use.
type Counting struct {
	net.Conn
	// Reads and Writes count the calls; ReadBytes and WrittenBytes the
	// bytes they moved.
	Reads, Writes           atomic.Int64
	ReadBytes, WrittenBytes atomic.Int64
}

// Read reads from the connection and counts the call and its bytes.
func (c *Counting) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.Reads.Add(1)
	c.ReadBytes.Add(int64(n))
	return n, err
}

// Write writes to the connection and counts the call and its bytes.
func (c *Counting) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.Writes.Add(1)
	c.WrittenBytes.Add(int64(n))
	return n, err
}

// Moved returns the bytes moved either way so far.
func (c *Counting) Moved() int64 { return c.ReadBytes.Load() + c.WrittenBytes.Load() }
