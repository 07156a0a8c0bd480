package benchkit

import (
	"net"
	"sync"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// DelayPipe is transport.Pipe with a one-way delay of d in each
// direction, as a network link with a round trip of 2d: what one end
// writes can be read at the other d later. Writes do not block (what is
// in transit is queued without bound: for benchmarks only). Deadlines and
// Close are those of the pipe's ends; a Close stops the delivery of what
// is in transit. It starts two goroutines, which end when both ends are
// closed.
func DelayPipe(d time.Duration) (client, server net.Conn) {
	c, s := transport.Pipe()
	// What is written to c is read from s and the other way round: each
	// end writes into its own pipe end, after the delay.
	return newDelayed(c, d), newDelayed(s, d)
}

// delayConn is one end of a DelayPipe: a pipe end whose writes are made
// d after they are asked for.
type delayConn struct {
	net.Conn // the pipe end
	mu       sync.Mutex
	cond     *sync.Cond
	queue    []delayed
	closed   bool
}

type delayed struct {
	at time.Time
	b  []byte
}

func newDelayed(own net.Conn, d time.Duration) *delayConn {
	c := &delayConn{Conn: own}
	c.cond = sync.NewCond(&c.mu)
	go c.deliver(d)
	return c
}

// deliver writes what was queued into the pipe once its time has come.
func (c *delayConn) deliver(d time.Duration) {
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.cond.Wait()
		}
		if c.closed {
			c.mu.Unlock()
			return
		}
		next := c.queue[0]
		c.queue = c.queue[1:]
		c.mu.Unlock()
		if wait := time.Until(next.at.Add(d)); wait > 0 {
			time.Sleep(wait)
		}
		if _, err := c.Conn.Write(next.b); err != nil {
			return
		}
	}
}

// Write queues a copy of b for delivery.
func (c *delayConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.queue = append(c.queue, delayed{at: time.Now(), b: append([]byte(nil), b...)})
	c.cond.Signal()
	return len(b), nil
}

// Close closes the end and stops the delivery.
func (c *delayConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Signal()
	c.mu.Unlock()
	return c.Conn.Close()
}
