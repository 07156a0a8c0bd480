package session

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Default timeouts. Each applies when its Options field is zero; a negative
// field turns it off.
const (
	// DefaultGreetingTimeout bounds Open when its context has no deadline:
	// the greeting, and the CAPABILITY that may follow it.
	DefaultGreetingTimeout = 30 * time.Second
	// DefaultStallTimeout aborts the session when, while a command waits
	// for the server, no byte arrives for this long (IDLE excepted).
	DefaultStallTimeout = 60 * time.Second
	// DefaultCommandTimeout bounds a command's whole run when its context
	// has no deadline (of a pulled command, the time its caller waits for
	// the server: see Options.CommandTimeout); when the context has one,
	// an abandoned command gets this long after it to end before the
	// session is aborted. IDLE is exempt.
	DefaultCommandTimeout = 15 * time.Minute
)

// Default bounds on what a session keeps in memory.
const (
	// DefaultMaxResultBytes bounds the responses one command collects in
	// Result.Data: each counts the larger of its bytes received plus
	// responseOverhead and the memory of its copy (codec.CloneSize).
	DefaultMaxResultBytes = 64 << 20
	// DefaultMaxUnsolicited bounds the responses waiting for
	// OnUnsolicited.
	DefaultMaxUnsolicited = 10000
	// DefaultMaxKept bounds the responses Responses keeps per name.
	DefaultMaxKept = 1000
	// DefaultMaxKeptNames bounds the names Responses keeps.
	DefaultMaxKeptNames = 64
	// DefaultMaxKeptBytes bounds the memory of the responses Responses
	// keeps, and apart that of the responses waiting for OnUnsolicited,
	// counted as codec.CloneSize counts a copy.
	DefaultMaxKeptBytes = 16 << 20
	// DefaultTraceCapture bounds what the trace keeps of one server line.
	DefaultTraceCapture = 64 << 10
)

// responseOverhead is what a response is charged beyond its bytes
// received, at least: the Go values a decoded response is made of. A copy
// that takes more is charged what it takes (codec.CloneSize).
const responseOverhead = 256

// orDuration returns v, or d when v is zero; negative means off (0).
func orDuration(v, d time.Duration) time.Duration {
	switch {
	case v == 0:
		return d
	case v < 0:
		return 0
	}
	return v
}

// stallSlack: a read pushes the stall deadline 1/stallSlack of the stall
// timeout further than needed, so that the next reads need not move it.
const stallSlack = 16

// watchConn wraps the raw connection and owns its read deadline. While a
// command waits for the server (armed), every Read pushes the deadline one
// stall timeout ahead: the timeout counts from the last byte received, so a
// slow download that keeps sending is not cut, and a stalled one is. A hard
// deadline (a context that ended, the greeting timeout) wins when earlier.
type watchConn struct {
	net.Conn
	stall time.Duration

	mu    sync.Mutex
	armed bool
	hard  time.Time // zero: none
	set   time.Time // the deadline last given to the connection
	intr  bool      // interrupted: the deadline is in the past (see interrupt)
}

// pastDeadline is the deadline of an interrupted read.
var pastDeadline = time.Unix(1, 0)

// interrupt makes the read in progress, and any until clearInterrupt,
// return a timeout at once: a pulled command's caller reading from the
// connection itself (pull.go) is interrupted so when its context ends.
func (c *watchConn) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.intr = true
	c.set = pastDeadline
	c.Conn.SetReadDeadline(pastDeadline)
}

// clearInterrupt reports whether the connection was interrupted, and ends
// that: the next Read sets the deadline it needs again.
func (c *watchConn) clearInterrupt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.intr
	c.intr = false
	return was
}

func (c *watchConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	d := c.hard
	if c.intr {
		d = pastDeadline
	} else if c.armed && c.stall > 0 {
		now := time.Now()
		if s := now.Add(c.stall); d.IsZero() || s.Before(d) {
			d = s
			if c.hard.IsZero() && !c.set.IsZero() && !c.set.Before(s) {
				// The deadline set is still at least a stall timeout
				// ahead: leave it (a deadline costs a timer update
				// per read). It was set stallSlack further, so a
				// stall is detected between stall and stall+slack
				// after the last byte.
				d = c.set
			} else {
				d = s.Add(c.stall / stallSlack)
			}
		}
	}
	if !d.Equal(c.set) {
		c.Conn.SetReadDeadline(d)
		c.set = d
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// arm turns the stall timeout on or off; turned on, it starts it. On
// already, it goes on counting from the last read (each Read pushes it).
func (c *watchConn) arm(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on && c.armed {
		return
	}
	c.armed = on
	d := c.hard
	if on && c.stall > 0 {
		if s := time.Now().Add(c.stall); d.IsZero() || s.Before(d) {
			d = s
		}
	}
	if c.intr {
		d = pastDeadline
	}
	if !d.Equal(c.set) {
		c.Conn.SetReadDeadline(d)
		c.set = d
	}
}

// setHard sets (or, with the zero time, clears) the hard read deadline.
func (c *watchConn) setHard(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hard = t
	d := t
	if c.armed && c.stall > 0 {
		if s := time.Now().Add(c.stall); d.IsZero() || s.Before(d) {
			d = s
		}
	}
	if c.intr {
		d = pastDeadline
	}
	c.set = d
	return c.Conn.SetReadDeadline(d)
}

// writeLock serialises the writes of commands. Unlike a sync.Mutex, a
// command can stop waiting for it when its context ends.
type writeLock struct {
	once sync.Once
	ch   chan struct{}
}

func (l *writeLock) init() { l.once.Do(func() { l.ch = make(chan struct{}, 1) }) }

// Lock takes the lock.
func (l *writeLock) Lock() {
	l.init()
	l.ch <- struct{}{}
}

// lockCtx takes the lock, or gives up when ctx ends first.
func (l *writeLock) lockCtx(ctx context.Context) bool {
	l.init()
	select {
	case l.ch <- struct{}{}:
		return true
	default:
	}
	select {
	case l.ch <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// tryLock takes the lock when it is free, and reports whether it did.
func (l *writeLock) tryLock() bool {
	l.init()
	select {
	case l.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// Unlock releases the lock.
func (l *writeLock) Unlock() { <-l.ch }

// countWriter counts the bytes handed to the connection, so that the
// session knows whether a command's bytes have all been sent.
type countWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	// Counted before the write: the server may answer before Write
	// returns (on a synchronous pipe, or when this goroutine is slow to
	// run again). A failed write aborts the session anyway.
	c.n.Add(int64(len(p)))
	return c.w.Write(p)
}

// maxSecrets bounds the credentials a session remembers for redaction.
const maxSecrets = 16

// secrets holds the credentials a session has sent, to redact them from
// whatever the server sends back. It is safe for concurrent use.
type secrets struct {
	mu   sync.Mutex
	list [][]byte
	n    atomic.Int32 // len(list), read without the lock by any
}

// any reports whether a secret is remembered.
func (x *secrets) any() bool { return x != nil && x.n.Load() > 0 }

// add remembers s (newest last, at most maxSecrets).
func (x *secrets) add(s []byte) {
	if len(s) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, o := range x.list {
		if bytes.Equal(o, s) {
			return
		}
	}
	if len(x.list) == maxSecrets {
		copy(x.list, x.list[1:])
		x.list = x.list[:maxSecrets-1]
	}
	x.list = append(x.list, append([]byte(nil), s...))
	x.n.Store(int32(len(x.list)))
}

// redact returns b with every remembered secret replaced by "***". It
// returns b itself when there is nothing to replace.
func (x *secrets) redact(b []byte) []byte {
	if x == nil {
		return b
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, s := range x.list {
		if bytes.Contains(b, s) {
			b = bytes.ReplaceAll(b, s, []byte("***"))
		}
	}
	return b
}

// printable returns b for an error message or a trace line: control bytes
// (C0, DEL, C1) and invalid UTF-8 are escaped as \xNN, so that a server cannot write terminal escapes to the user's screen
// or forge lines of a log. The raw bytes stay in the typed fields
// (Status.Text, ...).
func printable(b []byte) string {
	clean := true
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				clean = false
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || (r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return string(b)
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 || c == 0x7f:
				out = appendHex(out, c)
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || (r >= 0x80 && r < 0xa0) {
			for _, c := range b[i : i+n] {
				out = appendHex(out, c)
			}
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return string(out)
}

func appendHex(out []byte, c byte) []byte {
	out = append(out, '\\', 'x')
	if c < 0x10 {
		out = append(out, '0')
	}
	return strconv.AppendUint(out, uint64(c), 16)
}
