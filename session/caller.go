// The caller's side of a command's time: what the command bound
// (Options.CommandTimeout) leaves out, because the caller, not the server,
// spends it.

package session

import (
	"io"
	"sync"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// callerClock measures the time a command spends on its caller's side
// (Pending.caller), in intervals that begin and end on any goroutine; the
// intervals that overlap count once.
type callerClock struct {
	mu    sync.Mutex
	spent time.Duration // the intervals that ended, and the upload allowance
	open  int           // the intervals open now
	since time.Time     // when the open ones began, when open > 0
}

// uploadRate is the slowest upload of literal bodies the command bound
// allows for: a command that sends n bytes of the caller's literal bodies
// gets n/uploadRate seconds more (a 100 MiB APPEND over a link that takes
// more than CommandTimeout to carry it is not cut). 16 KiB/s is 128
// kbit/s; a server that takes a body slower still is cut, in a time that
// grows with the body the caller chose to send, never without end.
const uploadRate = 16 << 10

// allow adds the upload allowance of n bytes of literal body.
func (c *callerClock) allow(n int64) {
	if n <= 0 {
		return
	}
	d := time.Duration(n) * (time.Second / uploadRate)
	c.mu.Lock()
	c.spent += d
	c.mu.Unlock()
}

// callerClockOf returns p's clock, making it on first use.
func callerClockOf(p *Pending) *callerClock {
	if c := p.caller.Load(); c != nil {
		return c
	}
	p.caller.CompareAndSwap(nil, new(callerClock))
	return p.caller.Load()
}

func (c *callerClock) begin() {
	c.mu.Lock()
	if c.open == 0 {
		c.since = time.Now()
	}
	c.open++
	c.mu.Unlock()
}

func (c *callerClock) end() {
	c.mu.Lock()
	c.open--
	if c.open == 0 {
		c.spent += time.Since(c.since)
	}
	c.mu.Unlock()
}

// spentAt returns the time spent on the caller's side until now.
func (c *callerClock) spentAt(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.spent
	if c.open > 0 {
		d += now.Sub(c.since)
	}
	return d
}

// timeCallerBodies wraps the literal bodies of wc that the caller reads
// from (Part.Body, and what Part.Open returns) so that their reads run on
// p's caller clock: a slow source (an APPEND fed by a FETCH from another
// server) is the caller's time, not the server's, and the command bound
// leaves it out (boundFired). Their sizes add the upload allowance
// (uploadRate).
func timeCallerBodies(wc *wire.Encoded, p *Pending) {
	for i := range wc.Parts {
		part := &wc.Parts[i]
		if part.Body != nil {
			c := callerClockOf(p)
			c.allow(part.BodySize)
			part.Body = &callerReader{r: part.Body, c: c}
		}
		if open := part.Open; open != nil {
			part.Open = func() (io.Reader, int64, error) {
				c := callerClockOf(p)
				c.begin()
				r, n, err := open()
				c.end()
				if r != nil {
					c.allow(n)
					r = &callerReader{r: r, c: c}
				}
				return r, n, err
			}
		}
	}
}

// callerReader is a literal body of the caller's, its reads on the
// command's caller clock.
type callerReader struct {
	r io.Reader
	c *callerClock
}

func (cr *callerReader) Read(b []byte) (int, error) {
	cr.c.begin()
	n, err := cr.r.Read(b)
	cr.c.end()
	return n, err
}

// sectionTimer is the body handed to a Sections handler: while it waits
// for the body's bytes (the server's time) the caller's clock stops; the
// writes of its WriteTo are the handler's time.
type sectionTimer struct {
	r io.Reader
	c *callerClock
}

func (t *sectionTimer) Read(b []byte) (int, error) {
	t.c.end()
	n, err := t.r.Read(b)
	t.c.begin()
	return n, err
}

// WriteTo keeps the body's own WriteTo (no buffer of io.Copy's), the
// writes to w on the caller's clock.
func (t *sectionTimer) WriteTo(w io.Writer) (int64, error) {
	wt, ok := t.r.(io.WriterTo)
	if !ok {
		return io.Copy(w, struct{ io.Reader }{t})
	}
	t.c.end()
	n, err := wt.WriteTo(&clockedWriter{w: w, c: t.c})
	t.c.begin()
	return n, err
}

// clockedWriter runs its writes on the caller's clock.
type clockedWriter struct {
	w io.Writer
	c *callerClock
}

func (cw *clockedWriter) Write(b []byte) (int, error) {
	cw.c.begin()
	n, err := cw.w.Write(b)
	cw.c.end()
	return n, err
}
