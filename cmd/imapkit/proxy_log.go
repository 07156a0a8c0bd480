// The proxy's trace: lockedWriter, which every connection prints its
// lines through, and rateLog, which folds floods of events (refusals
// over --max-connections, errors of Accept) into a line a second.

package main

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// refusalInterval is how often, at most, the trace prints a line for the
// clients refused over --max-connections (refusalLog), or for the errors
// of Accept (acceptLog).
const refusalInterval = time.Second

// rateLog prints events of one kind to the trace, a flood of them in few
// lines: an event is printed in full when none was printed for every
// (refusalInterval); those that come sooner are counted, and a line
// (summary) says how many, with the latest, once every has passed since
// the last line (at the next event, by a timer, or when the proxy stops:
// none is left out of the count).
type rateLog struct {
	out *lockedWriter
	// now is the clock (tests set it).
	now func() time.Time
	// every is refusalInterval (tests set it).
	every time.Duration
	// summary is the line for n events counted, the latest as latest.
	summary func(n int, latest string) []byte

	mu     sync.Mutex
	last   time.Time // when the last line was printed (zero: none yet)
	n      int       // events counted since, not printed
	latest string    // the latest of them, as summary says it
	timer  *time.Timer
	closed bool
}

// event records an event: full is its line when printed in full, latest
// what the summary says of it when counted.
func (l *rateLog) event(full func() []byte, latest string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.n == 0 && (l.last.IsZero() || now.Sub(l.last) >= l.every) {
		l.last = now
		l.out.line(full())
		return
	}
	l.n++
	l.latest = latest
	if now.Sub(l.last) >= l.every {
		l.summaryLocked(now)
		return
	}
	if l.timer == nil && !l.closed {
		l.timer = time.AfterFunc(l.every-now.Sub(l.last), l.tick)
	}
}

// tick prints the count due when the timer fires.
func (l *rateLog) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if !l.closed {
		l.summaryLocked(l.now())
	}
}

// summaryLocked prints how many events were counted since the last line.
func (l *rateLog) summaryLocked(now time.Time) {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.n == 0 {
		return
	}
	l.out.line(l.summary(l.n, l.latest))
	l.n, l.last = 0, now
}

// close prints the count not printed yet; nothing is printed after it.
func (l *rateLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.summaryLocked(l.now())
	l.closed = true
}

// refusalLog prints the refusals of clients over --max-connections to the
// trace (a rateLog): a refusal in full, then at most a line a second with
// the count since. Before, each refusal printed a line: a client opening
// connections without end past the limit flooded the trace (found by
// review).
type refusalLog struct {
	rateLog
	limit int
}

func newRefusalLog(out *lockedWriter, limit int) *refusalLog {
	l := &refusalLog{limit: limit}
	l.rateLog = rateLog{out: out, now: time.Now, every: refusalInterval}
	l.summary = func(n int, latest string) []byte {
		return fmt.Appendf(nil, "* %s refused since the last such line: %s relayed (--max-connections); the latest %s\n", plural(n, "more client"), plural(l.limit, "connection"), latest)
	}
	return l
}

// refused records the refusal of client id from addr, ended as how says.
func (l *refusalLog) refused(id int, addr net.Addr, how string) {
	l.event(func() []byte {
		return fmt.Appendf(nil, "[%d] * client %s refused: %s relayed (--max-connections): %s\n", id, addr, plural(l.limit, "connection"), how)
	}, fmt.Sprintf("[%d] client %s: %s", id, addr, how))
}

// acceptLog prints the passing errors of Accept (out of file descriptors,
// EMFILE) to the trace as refusalLog prints refusals: an error in full,
// then at most a line a second with the count since. Before, each error
// printed a line, spaced only by the retry's wait (5 ms at first): a
// proxy out of descriptors for a while printed a line every second or
// faster for as long (found by review).
func newAcceptLog(out *lockedWriter) *rateLog {
	return &rateLog{out: out, now: time.Now, every: refusalInterval, summary: func(n int, latest string) []byte {
		return fmt.Appendf(nil, "* accept: %s since the last such line; the latest: %s\n", plural(n, "more error"), latest)
	}}
}

// acceptFailed records a passing error of Accept, retried after delay.
func acceptFailed(l *rateLog, err error, delay time.Duration) {
	l.event(func() []byte {
		return fmt.Appendf(nil, "* accept: %v; retrying in %v\n", err, delay)
	}, fmt.Sprintf("%v; retrying in %v", err, delay))
}

// lockedWriter serializes the trace lines of every connection. A line
// it cannot write (a full disk, a closed file) is lost, and counted: the
// first error is reported on errOut at once, the trace says how many
// lines were lost where writing works again, and failure reports it at
// the end. The relay goes on: the trace serves the debugging of a
// client, whose connection a proxy that stopped on a full disk would cut
// (its user sees the server gone); stderr and the exit status say that
// the trace is not whole. Before, the write errors were ignored: lines
// went missing without a word, and the proxy exited 0.
type lockedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	errOut io.Writer // nil: nowhere
	err    error     // the first write error
	lost   int       // lines lost since the last one written
	cut    int       // lines written in part since the last one written
	total  int       // lines lost or cut in all
	// totalCut: lines written in part in all.
	totalCut int
	// partial: the trace ends inside a line (a write failed after some
	// of its bytes): what is written next begins on a line of its own.
	partial bool
}

func (l *lockedWriter) line(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost > 0 || l.cut > 0 {
		var note string
		switch {
		case l.cut == 0:
			note = fmt.Sprintf("%d lines lost", l.lost)
		case l.lost == 0:
			note = fmt.Sprintf("%d lines cut short", l.cut)
		default:
			note = fmt.Sprintf("%d lines lost and %d cut short", l.lost, l.cut)
		}
		if _, err := l.write(fmt.Appendf(nil, "* trace: %s here (%v)\n", note, l.err)); err != nil {
			l.lost++
			l.total++
			return
		}
		l.lost, l.cut = 0, 0
	}
	n, err := l.write(b)
	if err == nil {
		return
	}
	// A line of which some bytes were written is cut short, not lost:
	// before, it was counted as lost, and the note of the loss went on
	// the same line as its bytes.
	if n > 0 {
		l.cut++
		l.totalCut++
	} else {
		l.lost++
	}
	l.total++
	if l.err == nil {
		l.err = err
		if l.errOut != nil {
			fmt.Fprintf(l.errOut, "imapkit proxy: writing the trace: %v: lines of the trace are lost from here (the connections go on; the exit status will be 3)\n", err)
		}
	}
}

// write writes b to the trace, on a line of its own when the trace ends
// inside a line cut short, and returns how many of b's bytes it wrote.
func (l *lockedWriter) write(b []byte) (int, error) {
	if l.partial {
		n, err := l.w.Write([]byte{'\n'})
		if n > 0 {
			l.partial = false
		}
		if err != nil {
			return 0, err
		}
	}
	n, err := l.w.Write(b)
	n = min(max(n, 0), len(b))
	if err != nil && n > 0 {
		l.partial = b[n-1] != '\n'
	}
	return n, err
}

// failure is the error of a trace that lost lines, or nil.
func (l *lockedWriter) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return nil
	}
	if l.totalCut > 0 {
		return fmt.Errorf("the trace is incomplete: %d lines could not be written, %d of them in part (the first error is above)", l.total, l.totalCut)
	}
	return fmt.Errorf("the trace is incomplete: %d lines could not be written (the first error is above)", l.total)
}
