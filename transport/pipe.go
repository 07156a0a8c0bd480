package transport

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// PipeBufferSize is the number of bytes each direction of a [Pipe] buffers
// before Write blocks waiting for the peer to read.
const PipeBufferSize = 1 << 20

// Pipe returns two connected in-memory connections, for tests: bytes written
// to client can be read from server and vice versa.
//
// Unlike [net.Pipe], each direction is buffered (up to [PipeBufferSize]
// bytes), so Write returns as soon as the data is buffered instead of waiting
// for the peer to read it. A client can therefore pipeline many commands
// while a scripted server writes its responses, without deadlocking. Write
// blocks only while the buffer is full.
//
// Both ends follow the [net.Conn] contract:
//
//   - Read and Write honor deadlines, including deadlines changed while an
//     operation is blocked; an expired deadline makes them fail with an
//     error wrapping [os.ErrDeadlineExceeded] (a [net.Error] whose Timeout
//     method reports true).
//   - After the peer closes, Read returns the data still buffered, then
//     [io.EOF]; Write fails with an error wrapping [io.ErrClosedPipe].
//   - After a local Close, Read and Write (including blocked ones) fail with
//     an error wrapping [net.ErrClosed], and so does a second Close.
//
// Both ends are safe for concurrent use by multiple goroutines. A Pipe uses
// no goroutines of its own.
func Pipe() (client, server net.Conn) {
	c2s := newPipeBuffer()
	s2c := newPipeBuffer()
	c := &pipeConn{
		rx:     s2c,
		tx:     c2s,
		local:  pipeAddr("client"),
		remote: pipeAddr("server"),
		done:   make(chan struct{}),
	}
	s := &pipeConn{
		rx:     c2s,
		tx:     s2c,
		local:  pipeAddr("server"),
		remote: pipeAddr("client"),
		done:   make(chan struct{}),
	}
	c.rdl.init()
	c.wdl.init()
	s.rdl.init()
	s.wdl.init()
	return c, s
}

// pipeAddr is the net.Addr of one end of a Pipe.
type pipeAddr string

func (pipeAddr) Network() string  { return "pipe" }
func (a pipeAddr) String() string { return "pipe:" + string(a) }

// pipeBuffer is one direction of a Pipe: a bounded byte queue with one
// writing end and one reading end.
type pipeBuffer struct {
	mu      sync.Mutex
	buf     []byte // unread data is buf[off:]
	off     int
	wclosed bool // the writing end was closed: EOF after the data
	rclosed bool // the reading end was closed: writes fail
	changed chan struct{}
	waiting bool // somebody holds changed and waits for it to be closed
}

func newPipeBuffer() *pipeBuffer {
	return &pipeBuffer{changed: make(chan struct{})}
}

// wait returns a channel that is closed at the next state change. The
// caller must hold p.mu.
func (p *pipeBuffer) wait() <-chan struct{} {
	p.waiting = true
	return p.changed
}

// broadcast wakes every goroutine waiting for a state change. The caller
// must hold p.mu.
func (p *pipeBuffer) broadcast() {
	if p.waiting {
		close(p.changed)
		p.changed = make(chan struct{})
		p.waiting = false
	}
}

// pipeConn is one end of a Pipe.
type pipeConn struct {
	rx, tx        *pipeBuffer
	local, remote net.Addr
	rdl, wdl      pipeDeadline

	closeOnce sync.Once
	done      chan struct{} // closed by Close
}

func (c *pipeConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "pipe", Source: c.local, Addr: c.remote, Err: err}
}

func (c *pipeConn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Read implements net.Conn.
func (c *pipeConn) Read(b []byte) (int, error) {
	p := c.rx
	for {
		if c.isClosed() {
			return 0, c.opError("read", net.ErrClosed)
		}
		expired := c.rdl.wait()
		select {
		case <-expired:
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		default:
		}
		p.mu.Lock()
		if p.off < len(p.buf) {
			n := copy(b, p.buf[p.off:])
			p.off += n
			if p.off == len(p.buf) {
				p.buf, p.off = p.buf[:0], 0
			}
			if len(p.buf)-p.off <= PipeBufferSize/2 {
				// Wake a writer waiting for room only once half the
				// buffer is free, not after every read: a reader
				// slower than its writer would otherwise cost a
				// wakeup per read.
				p.broadcast()
			}
			p.mu.Unlock()
			return n, nil
		}
		if p.wclosed {
			p.mu.Unlock()
			return 0, io.EOF
		}
		if len(b) == 0 {
			p.mu.Unlock()
			return 0, nil
		}
		changed := p.wait()
		p.mu.Unlock()
		select {
		case <-changed:
		case <-expired:
		case <-c.done:
		}
	}
}

// Write implements net.Conn.
func (c *pipeConn) Write(b []byte) (int, error) {
	p := c.tx
	n := 0
	for {
		if c.isClosed() {
			return n, c.opError("write", net.ErrClosed)
		}
		expired := c.wdl.wait()
		select {
		case <-expired:
			return n, c.opError("write", os.ErrDeadlineExceeded)
		default:
		}
		p.mu.Lock()
		if p.rclosed {
			p.mu.Unlock()
			return n, c.opError("write", io.ErrClosedPipe)
		}
		if space := PipeBufferSize - (len(p.buf) - p.off); space > 0 && n < len(b) {
			chunk := b[n:]
			if len(chunk) > space {
				chunk = chunk[:space]
			}
			if p.off > 0 && len(p.buf)+len(chunk) > cap(p.buf) && p.off >= len(p.buf)/2 {
				// Reuse the consumed prefix instead of growing, once it
				// is at least half the buffer: the bytes moved are then
				// at most those read since the last move, so a byte is
				// moved O(1) times however the reads and writes
				// interleave. (Moving on every full buffer moved up to
				// PipeBufferSize bytes per read: 30 % of the CPU of a
				// 9 MB stream read 32 KiB at a time.) Otherwise append
				// grows the buffer, to at most 4 × PipeBufferSize.
				m := copy(p.buf, p.buf[p.off:])
				p.buf, p.off = p.buf[:m], 0
			}
			p.buf = append(p.buf, chunk...)
			n += len(chunk)
			p.broadcast()
		}
		if n == len(b) {
			p.mu.Unlock()
			return n, nil
		}
		changed := p.wait()
		p.mu.Unlock()
		select {
		case <-changed:
		case <-expired:
		case <-c.done:
		}
	}
}

// Close implements net.Conn. Data buffered for this end and not yet read is
// discarded; data this end wrote stays readable by the peer.
func (c *pipeConn) Close() error {
	err := c.opError("close", net.ErrClosed)
	c.closeOnce.Do(func() {
		err = nil
		close(c.done)

		c.tx.mu.Lock()
		c.tx.wclosed = true
		c.tx.broadcast()
		c.tx.mu.Unlock()

		c.rx.mu.Lock()
		c.rx.rclosed = true
		c.rx.buf, c.rx.off = nil, 0
		c.rx.broadcast()
		c.rx.mu.Unlock()

		c.rdl.stop()
		c.wdl.stop()
	})
	return err
}

// LocalAddr implements net.Conn.
func (c *pipeConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *pipeConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn.
func (c *pipeConn) SetDeadline(t time.Time) error {
	if c.isClosed() {
		return c.opError("set deadline", net.ErrClosed)
	}
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline implements net.Conn.
func (c *pipeConn) SetReadDeadline(t time.Time) error {
	if c.isClosed() {
		return c.opError("set read deadline", net.ErrClosed)
	}
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline implements net.Conn.
func (c *pipeConn) SetWriteDeadline(t time.Time) error {
	if c.isClosed() {
		return c.opError("set write deadline", net.ErrClosed)
	}
	c.wdl.set(t)
	return nil
}

// pipeDeadline is a settable deadline: a channel that is closed when the
// deadline passes and replaced when the deadline is moved.
type pipeDeadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	expired chan struct{}
}

func (d *pipeDeadline) init() { d.expired = make(chan struct{}) }

// wait returns a channel closed once the current deadline has passed.
func (d *pipeDeadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

// set moves the deadline to t; the zero time means no deadline.
func (d *pipeDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopLocked()
	isExpired := isDone(d.expired)
	if t.IsZero() {
		if isExpired {
			d.expired = make(chan struct{})
		}
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		if !isExpired {
			close(d.expired)
		}
		return
	}
	if isExpired {
		d.expired = make(chan struct{})
	}
	ch := d.expired
	d.timer = time.AfterFunc(dur, func() { close(ch) })
}

// stop cancels a pending timer.
func (d *pipeDeadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopLocked()
}

func (d *pipeDeadline) stopLocked() {
	if d.timer != nil && !d.timer.Stop() {
		<-d.expired // the timer fired: wait until its callback closed the channel
	}
	d.timer = nil
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
