package session

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/imapkit/imapkit/internal/redact"
	"github.com/imapkit/imapkit/wire"
)

// maxTraceLine is the longest line kept in the history ring; longer lines
// are cut.
const maxTraceLine = 240

// tracer writes the raw trace and the slog records, and keeps the ring of
// recent lines that abort errors carry (imaplib's _cmd_log). Server bytes
// are assembled into lines as they are read; literal bodies are counted,
// not copied, unless literals are traced.
type tracer struct {
	w        io.Writer
	literals bool
	capture  int // the most of one server line (or traced literal) kept
	log      *slog.Logger
	// histOnly: server lines go to the history ring alone (no writer, no
	// log, no literal bodies), which looks at the first capture bytes of
	// a line and no further; server then takes whole lines it finds in a
	// read without assembling them (wholeLine).
	histOnly bool

	mu    sync.Mutex
	ring  [][]byte // recent lines, reused, each at most maxTraceLine+3 bytes
	dirs  []byte   // the direction of each line of ring: 'S' or 'C'
	marks []byte   // of each server line of ring: lineCut
	// edges holds, for each server line of ring kept raw, how many of
	// its first bytes (high 16 bits) and last (low 16) are a part of a
	// secret that crosses its line end (secrets.edges), for history.
	edges []uint32
	next  int
	// count is how many lines the ring holds: it stops at len(ring), so
	// that it never wraps however long the session lives (on 386 an int
	// counting every line did after 2^31 of them, and history then
	// panicked on the reader goroutine).
	count int

	line_ []byte // the server line being assembled, up to capture bytes
	// carry is the end of the server's last line, for a secret echoed
	// across a line end (secrets.edges).
	carry redact.Carry
	cut   bool // line_ was cut at capture: tail holds the line's end
	// raw holds the server line's last tailLen bytes as received, its
	// literals' bodies and line end with them (keepRaw), lit that the
	// line had a literal, and afterLit how many of its bytes came after
	// the last one's body (its header, when empty): the carry to the
	// next line of a line whose end line_ does not show (cut, or a
	// literal's body shown as "<N bytes>" among its last tailLen bytes)
	// comes from raw (carryRawLocked).
	raw      []byte
	lit      bool
	afterLit int
	tail     []byte // the last tailLen bytes of a cut line, for its literal header
	// head follows the bytes of a cut line given up from tail, for a
	// literal's header longer than tailLen (leading zeros), which the
	// tokenizer reads as one (wire.HeaderScan).
	head wire.HeaderScan
	// part is where the line's current part begins in line_ when it is
	// not cut: after the last literal's body (or its "<N bytes>"), whose
	// bytes are data, never a literal's header, as to the tokenizer.
	part      int
	litRemain int64 // bytes of a server literal still to come
	litLen    int64
	litBody   []byte // the literal's bytes when literals are traced
	cbuf      []byte // client's scratch
	// gaps are the literals a server line shows, for its redaction
	// (redactEdges), reused from line to line (under mu): at most those a
	// line of capture bytes and the space after a header can hold
	// (maxGaps), 8 bytes a byte of the capture, kept once a line with a
	// literal in it had a secret to redact.
	gaps []redact.Gap
	// obuf is emitOut's, reused from line to line (under mu): a line
	// redacted and escaped, as the writer got it; at most 4×capture+8
	// bytes are kept.
	obuf []byte

	// secrets are the credentials the session sent: a server that echoes
	// one back does not get it into the trace.
	secrets *secrets
	// delivered counts the bytes read from the server and handed to the
	// tokenizer, in the tokenizer's offsets (see Session.complete).
	delivered atomic.Int64
	// beforeRead runs before each read from the server
	// (Session.coBeforeRead); retryRead says whether a read that failed
	// with err is to be tried again (Session.retryRead).
	beforeRead func()
	retryRead  func(err error) bool
}

func newTracer(w io.Writer, literals bool, log *slog.Logger, history, capture int) *tracer {
	if w == nil && log == nil {
		// Only the history ring sees server lines, and it looks at the
		// first maxTraceLine+ringSlack bytes of each (serverLocked):
		// assemble no more.
		capture = min(capture, maxTraceLine+ringSlack)
	}
	return &tracer{w: w, literals: literals, log: log, ring: make([][]byte, history),
		dirs: make([]byte, history), marks: make([]byte, history), edges: make([]uint32, history), capture: capture,
		histOnly: w == nil && log == nil && !literals}
}

// The marks of a server line in the history ring.
const (
	lineCut = 1 << iota // cut at maxTraceLine (or at a shorter capture): shown with "..."
	lineLF              // its line end a bare LF (CR LF otherwise), for history's edges
)

// trimCRLF drops the line end (bytes.TrimRight with a cutset costs more
// than the rest of the tracer's work on a line).
func trimCRLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// tailLen is how much of a cut line's end the tracer keeps: more than the
// longest literal header ("~{" 20 digits "+}" CR LF) without leading
// zeros; a longer one is followed by head.
const tailLen = 32

// add appends b, a part of the server line being assembled, within
// capture; past it, only the line's last tailLen bytes are kept.
func (t *tracer) add(b []byte) {
	if !t.cut {
		room := t.capture - len(t.line_)
		if room >= len(b) {
			t.line_ = append(t.line_, b...)
			return
		}
		room = max(room, 0)
		t.line_ = append(t.line_, b[:room]...)
		t.cut = true
		keep := max(len(t.line_)-tailLen, t.part)
		t.head.Follow(t.line_[t.part:keep])
		t.tail = append(t.tail[:0], t.line_[keep:]...)
		b = b[room:]
	}
	if len(b) >= tailLen {
		t.head.Follow(t.tail)
		t.head.Follow(b[:len(b)-tailLen])
		t.tail = append(t.tail[:0], b[len(b)-tailLen:]...)
		return
	}
	t.tail = append(t.tail, b...)
	if over := len(t.tail) - tailLen; over > 0 {
		t.head.Follow(t.tail[:over])
		t.tail = t.tail[:copy(t.tail, t.tail[over:])]
	}
}

// literalEnd reports whether end, the line (or a cut line's tail) to its
// LF, ends with a literal's header; a cut line's header may have begun in
// the bytes given up from the tail (head).
func (t *tracer) literalEnd(end []byte) (wire.LiteralInfo, bool) {
	end = trimCRLF(end)
	info, ok := wire.LiteralSuffix(end)
	if !ok && t.cut {
		info, ok = t.head.End(end)
	}
	t.head.Reset()
	return info, ok
}

// endPart starts the line's next part after a literal's body (or its
// "<N bytes>") was added: the header of a literal that follows is looked
// for in the bytes added from here on alone (a traced body ending in "{5"
// and a part "}" are no header to the tokenizer).
func (t *tracer) endPart() {
	if t.cut {
		t.tail = t.tail[:0]
		t.head.Reset()
		return
	}
	t.part = len(t.line_)
}

// reader returns r with the server side of the trace attached.
func (t *tracer) reader(r io.Reader) io.Reader { return &traceReader{t: t, r: r} }

// restart forgets the server line being assembled, and any literal it
// announced: the stream goes on over TLS or COMPRESS, and what was read
// before is thrown away unparsed. Injected plaintext ending in "{N}" would
// otherwise hide the first N bytes of the server's lines over TLS from
// the trace as a literal's body (TestHostileStartTLSInjectionTrace).
func (t *tracer) restart() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.line_, t.cut, t.tail, t.part = t.line_[:0], false, t.tail[:0], 0
	t.head.Reset()
	t.carry.Zero() // the lines after are no longer the ones before's
	clear(t.raw)
	t.raw, t.lit = t.raw[:0], false
	t.litRemain, t.litLen, t.litBody = 0, 0, t.litBody[:0]
}

// forgetCarry zeroes the end of the server's last line kept for the
// next (carry: maybe a secret's start the server echoed), once nothing
// more is read.
func (t *tracer) forgetCarry() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.carry.Zero()
}

// writer returns w: client lines are traced from the encoded commands.
func (t *tracer) writer(w io.Writer) io.Writer { return w }

type traceReader struct {
	t *tracer
	r io.Reader
}

func (tr *traceReader) Read(p []byte) (int, error) {
	if tr.t.beforeRead != nil {
		tr.t.beforeRead()
	}
	n, err := tr.r.Read(p)
	for n == 0 && err != nil && tr.t.retryRead != nil && tr.t.retryRead(err) {
		n, err = tr.r.Read(p)
	}
	if n > 0 {
		tr.t.delivered.Add(int64(n))
		tr.t.server(p[:n])
	}
	return n, err
}

// server consumes bytes read from the server.
func (t *tracer) server(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(b) > 0 {
		if t.histOnly && t.litRemain == 0 && !t.cut && len(t.line_) == 0 {
			if n := t.wholeLine(b); n > 0 {
				b = b[n:]
				continue
			}
		}
		if t.litRemain > 0 {
			n := int64(len(b))
			if n > t.litRemain {
				n = t.litRemain
			}
			if t.literals && len(t.litBody) < t.capture {
				t.litBody = append(t.litBody, b[:n]...)
			}
			t.keepRaw(b[:n])
			t.afterLit = 0
			t.litRemain -= n
			b = b[n:]
			if t.litRemain == 0 {
				if t.literals {
					t.add(t.litBody)
					t.litBody = t.litBody[:0]
				} else {
					var sum [32]byte
					b := append(sum[:0], '<')
					b = strconv.AppendInt(b, t.litLen, 10)
					t.add(append(b, " bytes>"...))
				}
				t.endPart()
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.add(b)
			t.keepRaw(b)
			t.afterLit += len(b)
			return
		}
		t.add(b[:i+1])
		t.keepRaw(b[:i+1])
		t.afterLit += i + 1
		b = b[i+1:]
		end := t.line_[t.part:]
		if t.cut {
			end = t.tail
		}
		line := trimCRLF(t.line_)
		if info, ok := t.literalEnd(end); ok {
			n := info.Size
			t.tail = t.tail[:0]
			if !t.cut {
				t.line_ = append(line, ' ')
			}
			t.litRemain, t.litLen = n, n
			t.lit, t.afterLit = true, 0
			if n == 0 {
				t.add([]byte("<0 bytes>"))
				t.endPart()
			}
			continue
		}
		// The server's line, as it reaches a terminal or a log: the
		// credentials redacted, control bytes escaped.
		var lineEnd []byte // as sent: unknown for a cut line
		if !t.cut {
			lineEnd = t.line_[len(line):]
		}
		t.serverLocked(line, lineEnd, t.cut)
		if t.cut || t.lit && t.afterLit < tailLen {
			// The line's end as traced is not as received: a cut
			// line's, or one whose last tailLen bytes hold a literal's
			// body (after tailLen bytes of text, the text after the
			// last body is carried whole, below).
			t.carryRawLocked(t.raw, t.lit)
		} else if t.lit && !t.literals {
			// A literal's body shown as "<N bytes>" inside the line,
			// then tailLen bytes of text or more: that text may lie
			// wholly inside a secret begun in the body, its rest
			// opening the next line, which is taken for that rest too
			// (carryPart of the text after the last body, as the
			// proxy's printer does): the rest was shown
			// (TestRedactEchoFromLiteralBodyOverLineEnd).
			after := line[min(t.part, len(line)):]
			t.secrets.carryPart(&t.carry, after, lineEnd)
		}
		clear(t.raw)
		t.raw, t.lit = t.raw[:0], false
		t.line_, t.part = t.line_[:0], 0
		t.cut, t.tail = false, t.tail[:0]
	}
}

// wholeLine takes, in history-only mode, the server line that starts b
// when the history keeps all of it that matters without its being
// assembled in line_: a line that ends in b and either has no literal or
// is longer than capture before its first literal (what follows the cut
// then changes nothing the history keeps; only its literals are framed,
// so that their bytes are not taken for lines). It returns the bytes of b
// it took, or 0, having changed nothing, when the line is to be assembled
// as the loop of server does (a short line with a literal, a line that
// does not end in b, a literal larger than what is left of b).
//
// It frames the line exactly as that loop does: the loop checks for a
// literal header at the end of line_ while the line is not cut, and once
// it is cut at the end of the last tailLen bytes of what it added, with
// the bytes given up before them followed (head): the whole of what it
// added, as here; a literal's bytes are added as "<N bytes>", whose '>'
// ends the header check of a segment as the start of the segment does
// here. TestTracerWholeLines compares the two on random streams cut
// into random reads.
func (t *tracer) wholeLine(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return 0
	}
	seg := b[:i+1]
	cut := len(seg) > t.capture
	info, lit := wire.LiteralSuffix(trimCRLF(seg))
	if lit && !cut {
		return 0
	}
	head := trimCRLF(seg[:min(len(seg), t.capture)])
	var end []byte // the line end as sent (a line not cut has no literal)
	if !cut {
		end = seg[len(head):]
	}
	n := len(seg)
	for lit {
		if info.Size > int64(len(b)-n) {
			return 0
		}
		n += int(info.Size)
		j := bytes.IndexByte(b[n:], '\n')
		if j < 0 {
			return 0
		}
		seg = b[n : n+j+1]
		n += len(seg)
		info, lit = wire.LiteralSuffix(trimCRLF(seg))
	}
	t.serverLocked(head, end, cut)
	if cut {
		// The loop's raw: the line's last tailLen bytes as received
		// (its literals' bodies among them).
		t.carryRawLocked(b[max(0, n-tailLen):n], false)
	}
	return n
}

// keepRaw adds b, bytes of the server line as received (a literal's body
// too), to raw, which keeps the line's last tailLen bytes at least, in an
// array made once and zeroed as it slides.
func (t *tracer) keepRaw(b []byte) {
	if cap(t.raw) == 0 {
		t.raw = make([]byte, 0, 2*tailLen)
	}
	b = b[max(0, len(b)-tailLen):]
	if len(t.raw)+len(b) > cap(t.raw) {
		n := copy(t.raw, t.raw[len(t.raw)-(tailLen-len(b)):])
		clear(t.raw[n:])
		t.raw = t.raw[:n]
	}
	t.raw = append(t.raw, b...)
}

// carryRawLocked sets the carry after a line whose end the line traced
// does not show as the server sent it, from last: the line's last
// bytes as received, its line end with them (raw, tailLen bytes). A line
// cut at capture (serverLocked emptied the carry: the end past the cut
// unknown to it), or one whose literal's body the trace shows as "<N
// bytes>" (the carry held that): a secret that began in that end and
// goes on past the line end opens the next line with its rest, redacted
// as after a line that shows its end. Before, history and the trace
// showed that rest. A first part of up to tailLen bytes less the line
// end is found so whole (any rest); when raw holds only the line's last
// tailLen bytes, the next line's start is also taken for the rest of one
// that began before them, from 2 bytes (secrets.carryPart): a literal
// line's longer first part had its rest shown (a cut line's was found so
// already, its Edges marking the line's end unseen). So is it after a
// line with a literal among its last tailLen bytes (lit): a credential
// echoed in pieces parted by literals may have a piece before the body,
// which last does not join to the next line's start (the header and the
// body lie between): "hunte" a body, "r2-co {2}" then a body "XX", and
// "rrect-horse" opening the next line, shown until stop 62
// (TestRedactEchoPiecesAcrossLiteralLineEnds).
func (t *tracer) carryRawLocked(last []byte, lit bool) {
	part := len(last) >= tailLen || lit
	last = last[max(0, len(last)-tailLen):]
	b := trimCRLF(last)
	if part {
		t.secrets.carryPart(&t.carry, b, last[len(b):])
		return
	}
	t.secrets.carryCut(&t.carry, b, last[len(b):])
}

// client traces an encoded command, redacted. Unless literals are traced,
// each literal's body is shown as "<N bytes>" on the line of its header
// (as for the server's lines), and is neither read nor copied
// (Encoded.AppendSummary); when only the history ring sees the command,
// no more of it is rendered than the ring keeps of a line (maxTraceLine,
// plus ringSlack so that escaping cuts where the whole line would), so
// that a command with a 20 MB literal, or a 20 MB line, costs no copy of
// it. The scratch buffer is let go when a command grew it past cbufKeep:
// the session does not hold the largest command it traced
// (TestTraceKeepsLargestCommand).
func (t *tracer) client(c *wire.Encoded) {
	if t.w == nil && t.log == nil && len(t.ring) == 0 {
		return
	}
	if t.literals {
		red := bytes.TrimRight(c.AppendRedacted(t.cbuf[:0]), "\r\n")
		t.keepCbuf(red)
		for _, l := range bytes.Split(red, []byte("\r\n")) {
			t.line('C', l)
		}
		return
	}
	limit := -1
	if t.w == nil && t.log == nil {
		limit = maxTraceLine + ringSlack
	}
	red, _ := c.AppendSummary(t.cbuf[:0], limit)
	t.keepCbuf(red)
	for {
		i := bytes.Index(red, []byte("\r\n"))
		if i < 0 {
			t.line('C', red)
			return
		}
		t.line('C', red[:i])
		red = red[i+2:]
	}
}

// cbufKeep is the largest scratch buffer client keeps for the next
// command, as the Encoder lets go of a buffer grown past 16 KiB.
const cbufKeep = 16 << 10

// keepCbuf keeps b's memory for the next command, unless it is larger
// than cbufKeep (client runs under the session's write lock).
func (t *tracer) keepCbuf(b []byte) {
	if cap(b) > cbufKeep {
		t.cbuf = nil
		return
	}
	t.cbuf = b[:0]
}

// clientSecret traces a command whose arguments are all secret.
func (t *tracer) clientSecret(tag, name string) {
	t.line('C', []byte(tag+" "+name+" ***"))
}

// line traces one line of the client's (the server's go through
// serverLocked), escaped: a command may carry bytes the server chose (a
// mailbox name it listed, with terminal escapes in it) in a quoted
// string or a literal.
func (t *tracer) line(dir byte, b []byte) {
	if !isPrintable(b) {
		b = []byte(printable(b))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emitLocked(dir, b)
}

// serverLocked traces a server line; end is its line end as the server
// sent it (nil when cut), cut says that it is the first capture bytes of
// a longer one. A secret echoed across the line's ends (one with a line
// break in it, echoed as sent, or broken in two) is redacted from both
// lines: the parts at the line's edges (secrets.edges, from the line
// before's end, carry) are redacted with the rest. What reaches a writer
// or a log is the line as captured, redacted and escaped; a line cut at
// capture is cut again before a secret's start that ends it
// (secrets.redactEdges with cut, as redactCut does: a secret that went on
// past the cut, which redact would not find, a 100 KiB SASL response
// echoed). The history ring keeps at most maxTraceLine bytes
// of it (what history shows), so that a session holds at most
// History × maxTraceLine bytes of history while it waits, whatever the
// length of the lines it read: a line that fits is kept raw, and history
// redacts it when an error asks for it (the cost is paid per abort, not
// per line); a longer line, or a cut one, is cut after it is redacted
// (over its first maxTraceLine+ringSlack bytes, a secret that goes on
// past them cut off with its start) when the session has sent a secret
// by then. Before stop 57 the writer and the log got the line as the
// ring kept it, cut at maxTraceLine: a secret echoed across that cut,
// longer than the window redacted, showed its first bytes in the clear.
// The line is scanned for whole secrets once (redactEdges: redactCut or
// redact, not both), its edges once more (edges: at most a secret's
// length at either end), and copied only to be redacted or escaped: a
// clean line goes to the writer through its reused buffer (emitOut).
func (t *tracer) serverLocked(line, end []byte, cut bool) {
	head, tail := t.secrets.edges(&t.carry, line, end)
	if len(t.ring) > 0 {
		t.keepServerLocked(line, end, cut, head, tail)
	}
	if t.w != nil || t.log != nil {
		red := t.redactEdges(line, head, tail, cut)
		if !isPrintable(red) {
			red = []byte(printable(red))
		}
		t.emitOut('S', red)
	}
}

// redactEdges is secrets.redactEdges with the tracer's gaps buffer (under
// mu), kept for lines up to the capture and the space the tracer writes
// after a literal's header.
func (t *tracer) redactEdges(b []byte, head, tail int, cut bool) []byte {
	return t.secrets.redactEdges(b, head, tail, cut, &t.gaps, t.capture+1)
}

// keepServerLocked keeps a server line in the history ring (serverLocked),
// with its edges (secrets.edges): redacted with it when it is kept
// redacted, for history otherwise.
func (t *tracer) keepServerLocked(line, end []byte, cut bool, head, tail int) {
	var mark byte
	if len(line) > maxTraceLine || cut {
		// Kept cut (at maxTraceLine, or at a capture shorter): history
		// redacts it as the start of a longer line (redactCut), for the
		// secrets sent since; those sent by now are redacted here, over
		// the window past the cut.
		mark = lineCut
	} else if len(end) == 1 {
		mark = lineLF
	}
	var edges uint32
	if mark&lineCut != 0 && t.secrets.any() {
		w := line[:min(len(line), maxTraceLine+ringSlack)]
		// The tail in w: none when w is cut before it.
		tail = max(0, tail-(len(line)-len(w)))
		line = t.redactEdges(w, head, tail, cut || len(w) < len(line))
	} else if mark&lineCut == 0 {
		edges = uint32(head)<<16 | uint32(tail)
	}
	line = line[:min(len(line), maxTraceLine)]
	t.ring[t.next] = append(t.ring[t.next][:0], line...)
	t.dirs[t.next] = 'S'
	t.marks[t.next] = mark
	t.edges[t.next] = edges
	t.next = (t.next + 1) % len(t.ring)
	if t.count < len(t.ring) {
		t.count++
	}
}

// historyCRLF is the line end history supposes a server line had (its
// LF alone when marked lineLF).
var historyCRLF = []byte("\r\n")

// ringSlack is how much more than maxTraceLine the ring keeps of a server
// line, for redaction before the cut.
const ringSlack = 256

func (t *tracer) emitLocked(dir byte, b []byte) {
	if len(t.ring) > 0 {
		slot := t.ring[t.next][:0]
		if len(b) > maxTraceLine {
			slot = append(slot, b[:maxTraceLine]...)
			slot = append(slot, "..."...)
		} else {
			slot = append(slot, b...)
		}
		t.ring[t.next] = slot
		t.dirs[t.next] = dir
		t.marks[t.next] = 0 // read for server lines only; not left stale
		t.edges[t.next] = 0
		t.next = (t.next + 1) % len(t.ring)
		if t.count < len(t.ring) {
			t.count++
		}
	}
	t.emitOut(dir, b)
}

// emitOut writes a trace line to the writer and the log.
func (t *tracer) emitOut(dir byte, b []byte) {
	if t.w != nil {
		buf := append(t.obuf[:0], dir, ':', ' ')
		buf = append(buf, b...)
		buf = append(buf, '\n')
		t.w.Write(buf)
		if cap(buf) <= 4*t.capture+8 {
			// Kept for the next line, if no larger than a server line
			// escaped: not a long command line's (TestTraceKeepsLargestLine).
			t.obuf = buf[:0]
		}
	}
	if t.log != nil {
		t.log.Debug("imap line", "dir", string(dir), "line", string(b))
	}
}

// history returns the recent lines, oldest first.
func (t *tracer) history() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := min(max(t.count, 0), len(t.ring))
	out := make([]string, 0, n)
	// The server's lines in the ring follow one another in the stream
	// (a client's between them or not): their edges are worked out
	// again over them, for the secrets sent since each was read, whose
	// parts across a line end the edges found as it was read could not
	// hold (TestTracerHistoryEdgesOfSecretSentAfterLines). The first
	// line's edge with the one before it, and a line's end as received
	// where the ring shows another (a literal's "<N bytes>"), are those
	// found as it was read.
	var carry redact.Carry
	defer carry.Zero()
	for i := 0; i < n; i++ {
		j := (t.next - n + i + len(t.ring)) % len(t.ring)
		l := t.ring[j]
		if t.dirs[j] == 'S' {
			// Redacted again, even a line redacted when kept: a secret
			// sent since (another was sent before the line) is in it
			// raw (TestTracerHistorySecretSentAfterLineBrute). A line
			// kept cut is redacted as the start of a longer one: a
			// secret may go on past the cut, and its start is no whole
			// form (TestTracerHistoryLaterSecretAcrossCut).
			var b []byte
			if t.marks[j]&lineCut != 0 {
				head, _ := t.secrets.edges(&carry, l, nil)
				b = t.redactEdges(l, head, 0, true)
			} else {
				// Its edges, a secret's parts across its line
				// ends: as found when it was read, and now.
				end := historyCRLF
				if t.marks[j]&lineLF != 0 {
					end = end[1:]
				}
				head, tail := t.secrets.edges(&carry, l, end)
				e := t.edges[j]
				head, tail = max(head, int(e>>16)), max(tail, int(e&0xffff))
				b = t.redactEdges(l, head, tail, false)
			}
			// A line kept cut may be shorter once redacted.
			cut := len(b) > maxTraceLine || t.marks[j]&lineCut != 0
			b = b[:min(len(b), maxTraceLine)]
			s := "S: " + printable(b)
			if cut {
				s += "..."
			}
			out = append(out, s)
			continue
		}
		out = append(out, string(t.dirs[j])+": "+string(l))
	}
	return out
}
