// The credentials a client sent (secretSet), kept in every form in which
// a server may echo them, so that the trace redacts them from the
// server's lines.

package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"sync"

	"github.com/imapkit/imapkit/internal/redact"
)

// secretSet holds the credentials seen on a connection: a redact.Set
// (the newest 16, each in every form a server may echo it in, and as the
// printer shows each: the trace redacts a line once printed), made at the
// first add. The zero secretSet is ready for use.
type secretSet struct {
	once sync.Once
	set  *redact.Set
	// carry is the end of the server's last printed line (edges; only
	// the server's direction calls it), zeroed by forget.
	carry redact.Carry
}

// s returns the set, made once.
func (ss *secretSet) s() *redact.Set {
	ss.once.Do(func() { ss.set = redact.New(printedForm) })
	return ss.set
}

// minSecret is the shortest credential redacted from the server's lines:
// a shorter one would blot out common words.
const minSecret = 3

// add records b as a credential, and when b is base64 (a SASL line),
// what it decodes to and what follows its last NUL (PLAIN's password).
func (ss *secretSet) add(b []byte) { ss.addOpen(b, false) }

// addOpen is add; open: b is the start of a credential that went on (a
// capture cut at its bound), whose rest is redacted with it from a
// server's line (redact.Set.AddOpen).
func (ss *secretSet) addOpen(b []byte, open bool) {
	if len(b) < minSecret {
		return
	}
	add := ss.s().Add
	if open {
		add = ss.s().AddOpen
	}
	add(b)
	if dec, ok := decodeSecret(b); ok {
		if len(dec) >= minSecret {
			add(dec)
			if i := bytes.LastIndexByte(dec, 0); i >= 0 {
				ss.addOpen(dec[i+1:], open)
			}
		}
		clear(dec)
	}
}

// decodeSecret returns b decoded from base64 in an array of its own, which
// the caller zeroes; ok is false (and nothing is left) when b is not
// base64. DecodeString(string(b)) left two copies of the credential to
// the garbage collector: the string and the decoded bytes
// (TestProxyDecodeSecretLeavesNoCopy).
func decodeSecret(b []byte) (dec []byte, ok bool) {
	dec = make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(dec, b)
	if err != nil {
		clear(dec)
		return nil, false
	}
	clear(dec[n:])
	return dec[:n:n], true
}

// printedForm is b as printer.add shows it, whole: add stops at
// maxPrinted plus slack, and a printer with no slack kept only the first
// 4 KiB of a longer credential's printed form, whose rest an echo then
// showed after the "***" (TestProxyLongSecretPrintedFormWhole). An
// escape is at most 4 bytes a byte: a slack of that is never reached.
func printedForm(b []byte) []byte {
	// Its array made whole at once: one append outgrew would leave a
	// part of the credential to the garbage collector (the caller zeroes
	// the one returned).
	p := printer{slack: 4 * len(b), buf: make([]byte, 0, 4*len(b))}
	p.add(b)
	return p.buf
}

// forget zeroes and drops every credential recorded, once nothing more
// of the server's is printed (the connection's directions are done), and
// keeps add from recording another (redact.Set.Forget).
func (ss *secretSet) forget() {
	ss.s().Forget()
	ss.carry.Zero()
}

// restart empties the carry (zeroed) at a new stream of server lines (the
// STARTTLS handshake's end): its first line follows no line before.
func (ss *secretSet) restart() { ss.carry.Zero() }

// longest returns the length of the longest form of a credential recorded.
func (ss *secretSet) longest() int { return ss.s().Longest() }

// printedCRLF is a line end as the printer would show it: the printed
// form of a credential with a line break in it holds it so.
var printedCRLF = []byte(`\x0d\x0a`)

// edges returns how many of b's first and last bytes, a printed server
// line, are a part of a credential that b holds only in part: one that
// began on the line before or goes on past b's line end (ended: b ended
// with one, not cut) (redact.Set.Edges, the line end printed).
func (ss *secretSet) edges(b []byte, ended bool) (head, tail int) {
	var end []byte
	if ended {
		end = printedCRLF
	}
	return ss.s().Edges(&ss.carry, b, end)
}

// carryCut sets the carry after a printed server line whose end the
// printed line does not show, from last, that end as printed
// (printer.past), and its line end printed: a line that was cut (edges
// emptied the carry and marked the line's end unseen, a mark that stays)
// or printed as SASL data (its tokens). A credential whose first part is
// there and that goes on past the line end is found at the next line's
// start (redact.Set.CarryCut: Edges of last as a line of its own).
func (ss *secretSet) carryCut(last []byte) {
	ss.s().CarryCut(&ss.carry, last, printedCRLF)
}

// carryPart is carryCut where last is only the end of what the line
// ended with (printer.past keeps the line's last pastLen bytes, and the
// line was longer; or last is the text after a literal's body inside the
// line, the body unprinted): the next line's start is also taken for the
// rest of a credential that began before last, 2 bytes or more
// (redact.Set.CarryPart), as after a cut line. A SASL response's first
// part of more than pastLen bytes as printed in a challenge had its rest
// shown at the next line's start
// (TestProxyEchoAcrossLongChallengeLineEndRedacted), and so did a
// password begun in a body whose text after it lay inside the password
// (TestProxyEchoFromBodyOverLineEndRedacted).
func (ss *secretSet) carryPart(last []byte) {
	ss.s().CarryPart(&ss.carry, last, printedCRLF)
}

// redactEdges returns b, a printed line, with every recorded credential
// replaced by *** (redact.Set.Redact: each run of bytes that forms cover,
// overlapping ones too, becomes one ***), and its first head and last
// tail bytes (edges) too. cut: b's content was cut short at its end; it
// is first cut before a credential that went on past the cut, and back
// to the start of any whole one the cut would split (redact.Set.RedactCut),
// so that no credential shows in part (redact.Set.RedactEdges). gaps are
// where b shows a literal's body, relayed unprinted, as "{N bytes}": a
// credential's first part before one and its rest after one are redacted
// too, 2 bytes or more (redact.Set.RedactEdgesGaps); a server that echoed
// a password across a body's edges had both parts printed
// (TestProxyEchoAcrossMidLineLiteralRedacted).
func (ss *secretSet) redactEdges(b []byte, head, tail int, cut bool, gaps []redact.Gap) []byte {
	return ss.s().RedactEdgesGaps(b, head, tail, cut, gaps)
}

// captureWriter passes writes on to w and keeps the first max bytes: a
// secret literal's body, for secretSet. keep is called with them once
// (record): as soon as they reach max, before the write that fills them
// goes on to w, and otherwise when the body ends or fails; open when they
// reached max (the body may go on past them: secretSet.addOpen redacts
// its rest with them, which was printed after the "***" of an echo,
// TestProxyOwedLineBodyPastCaptureEchoedRedacted). Kept only
// after the whole body was relayed, a body the writer sent on in parts
// (one over its 32 KiB) was echoed by the server, and printed, before it
// was a credential (TestProxyOwedLineBodyEchoedMidLiteralRedacted).
type captureWriter struct {
	w    *bufio.Writer
	buf  []byte
	max  int
	keep func(b []byte, open bool)
	kept bool
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if n := min(len(b), c.max-len(c.buf)); n > 0 && !c.kept {
		c.buf = growZeroed(c.buf, n)
		c.buf = append(c.buf, b[:n]...)
		if len(c.buf) == c.max {
			c.record()
		}
	}
	return c.w.Write(b)
}

func (c *captureWriter) Flush() error { return c.w.Flush() }

// record keeps what was captured, once.
func (c *captureWriter) record() {
	if !c.kept {
		c.kept = true
		c.keep(c.buf, len(c.buf) == c.max)
		// The Set keeps its own copy: this one (up to 16 KiB of a
		// password literal or a SASL response) was left to the
		// garbage collector (TestProxyCaptureLeavesNoSecret).
		clear(c.buf[:cap(c.buf)])
	}
}
