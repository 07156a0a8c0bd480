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

// pipeBuffer is one direction of a Pipe: a bounded ring of bytes with one
// writing end and one reading end.
//
// The bytes are copied in and out without holding mu: a Read takes the
// unread bytes it will copy and marks the buffer as being read, copies,
// then counts them read; a Write takes the free room it will fill and
// marks the buffer as being written, copies, then counts them written.
// The two regions never overlap, so a reader never waits for a writer's
// copy (of up to PipeBufferSize bytes) to finish, nor the other way round.
// One Read and one Write run at a time; others wait for the flag to clear.
type pipeBuffer struct {
	mu sync.Mutex
	// buf is the ring; the unread bytes are the counts r to w, at
	// positions r % len(buf) to w % len(buf). The ring grows (only by a
	// writer, under mu) up to PipeBufferSize; a Read copying from the
	// old ring meanwhile still sees its bytes there.
	buf     []byte
	r, w    int64
	reading bool // a Read is copying out: other Reads wait
	writing bool // a Write is copying in: other Writes wait
	wclosed bool // the writing end was closed: EOF after the data
	rclosed bool // the reading end was closed: writes fail

	// Readers wait (for data, the end of another Read, or a close) on
	// the channels in readers, writers (for room, the end of another
	// Write, or a close) on those in writers: one channel of one token
	// for each waiting call, sent to once by a wake, which empties the
	// list. A wait that ends gives its channel to spare for the next
	// one, so that waking allocates nothing once a Pipe has had as many
	// waits at once as it ever will, up to pipeSpareMax (a channel made
	// for each wake was most of the allocations of a fetch over a Pipe,
	// in a number that depended on the scheduling). spare holds at most
	// pipeSpareMax: a burst of waits (many Reads at once, their
	// deadlines passing) does not keep a channel for each for the
	// Pipe's life. Nor does it keep the storage of readers or writers:
	// a list emptied (by a wake, or by its last wait leaving) with room
	// for more than pipeSpareMax lets its storage go (emptied).
	readers, writers, spare []*pipeWaiter
}

// pipeSpareMax bounds the wake channels a pipeBuffer keeps for reuse:
// more than the waits a Pipe has at once in use (a Read and a Write at
// each end, and those of a test's few concurrent callers).
const pipeSpareMax = 8

// pipeWaiter is the wake channel of a waiting call, listed at index i of
// its pipeBuffer's readers or writers, or not listed (i is -1): a wait
// whose deadline passes leaves the list in O(1) by its index, where a
// walk to find it cost k waits leaving k^2.
type pipeWaiter struct {
	ch chan struct{} // room for the one token a wake sends
	i  int
}

// testHookPipeLeave, when set (tests only), is given the number of list
// entries a wait that was not woken moved or compared to leave its list.
var testHookPipeLeave func(steps int)

func newPipeBuffer() *pipeBuffer {
	return &pipeBuffer{}
}

// wait waits, listed in *list, until a wake sends to it or expired or
// done is closed. The caller must hold p.mu; wait releases it while it
// waits and returns without it.
func (p *pipeBuffer) wait(list *[]*pipeWaiter, expired, done <-chan struct{}) {
	var w *pipeWaiter
	if n := len(p.spare); n > 0 {
		w = p.spare[n-1]
		p.spare[n-1] = nil
		p.spare = p.spare[:n-1]
	} else {
		w = &pipeWaiter{ch: make(chan struct{}, 1)}
	}
	w.i = len(*list)
	*list = append(*list, w)
	p.mu.Unlock()
	select {
	case <-w.ch:
	case <-expired:
	case <-done:
	}
	p.mu.Lock()
	// Not woken (expired or done): out of the list, the last waiter
	// listed taking its place (the order of a list does not matter: a
	// wake wakes all). Woken, or woken as well: its token is taken, so
	// that the channel goes back empty.
	if w.i >= 0 {
		l := *list
		last := l[len(l)-1]
		l[w.i], last.i = last, w.i
		l[len(l)-1] = nil
		*list = emptied(l[:len(l)-1])
		w.i = -1
		if h := testHookPipeLeave; h != nil {
			h(1)
		}
	}
	select {
	case <-w.ch:
	default:
	}
	if len(p.spare) < pipeSpareMax {
		p.spare = append(p.spare, w)
	}
	p.mu.Unlock()
}

// wake wakes the calls waiting in *list: each channel there gets the one
// token it has room for (a channel is listed once per wait, and a wake
// empties the list). The caller must hold p.mu.
func wake(list *[]*pipeWaiter) {
	l := *list
	for i, w := range l {
		w.ch <- struct{}{}
		w.i = -1
		l[i] = nil
	}
	*list = emptied(l[:0])
}

// emptied returns l, or nil when l is empty with room for more than
// pipeSpareMax waiters: the storage a burst of waits grew is not kept
// for the Pipe's life (a list that is not empty is still in use).
func emptied(l []*pipeWaiter) []*pipeWaiter {
	if len(l) == 0 && cap(l) > pipeSpareMax {
		return nil
	}
	return l
}

// wakeReaders wakes the waiting readers. The caller must hold p.mu.
func (p *pipeBuffer) wakeReaders() { wake(&p.readers) }

// wakeWriters wakes the waiting writers. The caller must hold p.mu.
func (p *pipeBuffer) wakeWriters() { wake(&p.writers) }

// broadcast wakes everybody waiting. The caller must hold p.mu.
func (p *pipeBuffer) broadcast() {
	p.wakeReaders()
	p.wakeWriters()
}

// grow makes room for need more bytes, up to PipeBufferSize in all. The
// caller must hold p.mu and be the only writer.
func (p *pipeBuffer) grow(need int) {
	used := int(p.w - p.r)
	if used+need <= len(p.buf) || len(p.buf) >= PipeBufferSize {
		return
	}
	size := min(PipeBufferSize, max(2*len(p.buf), used+need, 512))
	nb := make([]byte, size)
	if used > 0 {
		a, b := ringParts(p.buf, p.r, used)
		ringPut(nb, p.r, a)
		ringPut(nb, p.r+int64(len(a)), b)
	}
	p.buf = nb
}

// ringParts returns the n bytes of ring from count c on, in at most two
// contiguous parts.
func ringParts(ring []byte, c int64, n int) (a, b []byte) {
	i := int(c % int64(len(ring)))
	if i+n <= len(ring) {
		return ring[i : i+n], nil
	}
	return ring[i:], ring[:n-(len(ring)-i)]
}

// ringPut copies src into ring from count c on, wrapping at its end.
func ringPut(ring []byte, c int64, src []byte) {
	if len(src) == 0 {
		return
	}
	a, b := ringParts(ring, c, len(src))
	k := copy(a, src)
	copy(b, src[k:])
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
		if unread := int(p.w - p.r); unread > 0 && !p.reading {
			n := min(len(b), unread)
			ring, r := p.buf, p.r
			p.reading = true
			p.mu.Unlock()
			// The bytes r to r+n are the reader's until it counts them
			// read: no writer touches them, even if it grows the ring.
			x, y := ringParts(ring, r, n)
			copy(b[copy(b, x):], y)
			p.mu.Lock()
			p.reading = false
			if !p.rclosed {
				p.r += int64(n)
			}
			if int(p.w-p.r) <= PipeBufferSize/2 {
				// Wake a writer waiting for room only once half the
				// buffer is free, not after every read: a reader
				// slower than its writer would otherwise cost a
				// wakeup per read.
				p.wakeWriters()
			}
			p.wakeReaders() // any Read that waited for this one
			p.mu.Unlock()
			return n, nil
		}
		if !p.reading {
			if p.wclosed {
				p.mu.Unlock()
				return 0, io.EOF
			}
			if len(b) == 0 {
				p.mu.Unlock()
				return 0, nil
			}
		}
		p.wait(&p.readers, expired, c.done)
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
		if n == len(b) && !p.writing {
			p.mu.Unlock()
			return n, nil
		}
		if !p.writing {
			p.grow(len(b) - n)
			if free := len(p.buf) - int(p.w-p.r); free > 0 {
				chunk := b[n:min(len(b), n+free)]
				ring, w := p.buf, p.w
				p.writing = true
				p.mu.Unlock()
				// The room w to w+len(chunk) is the writer's until it
				// counts it written: no reader looks at it.
				ringPut(ring, w, chunk)
				p.mu.Lock()
				p.writing = false
				if !p.rclosed {
					p.w += int64(len(chunk))
				}
				n += len(chunk)
				p.broadcast()
				p.mu.Unlock()
				if n == len(b) {
					// Done: a close of the reading end from now on does
					// not make this Write fail.
					return n, nil
				}
				continue
			}
		}
		p.wait(&p.writers, expired, c.done)
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
		c.rx.buf, c.rx.r, c.rx.w = nil, 0, 0
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
