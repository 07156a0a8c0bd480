// How the trace prints a relayed line (printer): credentials redacted,
// long lines cut.

package main

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/internal/redact"
	"github.com/imapkit/imapkit/wire"
)

// printer renders the lines of one direction, with credentials redacted:
// LOGIN's password, AUTHENTICATE's initial response and every line of a
// SASL exchange.
type printer struct {
	prefix  string
	buf     []byte
	sasl    bool   // the whole line is redacted
	command string // the client's command, for LOGIN and AUTHENTICATE
	// saslGuess: a line printed as SASL data that may as well be a
	// command typed without its tag (Event.MaybeSASL, not LikelySASL):
	// only its words that look like a SASL response are recorded in
	// secrets (saslLike).
	saslGuess bool
	// word counts the line's words so far as the server's parser meets
	// its arguments (the tag is word 0; a "(" or "[" after it counts for
	// none, the list it opens for one); spaced counts them as
	// credentialCommand does, by the spaces between them (inWord: the
	// last token was no space).
	word, spaced int
	inWord       bool
	// client: the printer's lines are the client's, whose words from
	// secretFrom on (word) or from spacedFrom on (spaced), whichever
	// comes first, are redacted: from the third after a LOGIN or
	// AUTHENTICATE as the first word (a line without its tag, "LOGIN
	// alice secret", which the Dialog reads as the tag "LOGIN"), from the
	// fourth after one as the second (or when command is one). Both
	// counts, so that a first word of several tokens ("(a LOGIN alice
	// secret", "a(b LOGIN ...") or a "(" before the password ("a1 LOGIN (
	// secret") leaves nothing printed that either reading calls the
	// password.
	client                 bool
	secretFrom, spacedFrom int
	// secrets, on the client's side, records what is redacted, so that
	// the server's echo of it can be redacted too.
	secrets *secretSet
	// secretLit: the line so far ends in a literal that is redacted.
	secretLit bool
	// redact, on the server's side, holds the client's credentials, to
	// be redacted from the line before it is cut at maxPrinted: add keeps
	// slack bytes more (the longest credential's printed form), so that
	// a credential across the cut is whole when it is redacted.
	redact *secretSet
	slack  int
	cut    bool // add dropped some of the line
	// ended: the line's CR LF was printed (tokens), so the next line
	// follows it (secretSet.edges).
	ended bool
	// litEnd: the line's content ends with a literal (printed "{N
	// bytes}"), whose body, relayed unprinted, is the line's true end:
	// for the carry its end is unseen, as a cut line's (settle).
	litEnd bool
	// own: a line of the proxy's own (traceOwn): redacted, but not one
	// of the server's stream of lines, whose carry (secretSet.edges) it
	// leaves alone; it is printed from the client's direction.
	own bool
	// past, on the server's side, is the end of a line the printed line
	// does not show, as printed: its last pastLen bytes at least, of a
	// line cut by add (those before the cut with those dropped) or
	// printed as SASL data (its tokens) (keepPast), for the carry to the
	// next line (secretSet.carryCut, carryPart); zeroed once used.
	past []byte
	// settled: the line's content was redacted and cut (settle); only the
	// proxy's notes follow.
	settled bool
	// gaps, on the server's side, are where the line so far shows a
	// literal's body as "{N bytes}" (offsets after the prefix): the
	// body is relayed unprinted, and a credential echoed across either
	// side of it has a part printed on that side (settle redacts them:
	// secretSet.redactEdges).
	gaps []redact.Gap
}

// maxPrinted bounds one printed line.
const maxPrinted = 4096

func (p *printer) begin(sasl bool, command string) {
	p.buf = append(p.buf[:0], p.prefix...)
	p.sasl, p.command, p.secretLit, p.saslGuess = sasl, command, false, false
	p.word, p.spaced, p.inWord = 0, 0, false
	p.secretFrom, p.spacedFrom = math.MaxInt, math.MaxInt
	if redactedCommand(command) {
		p.secretFrom, p.spacedFrom = 3, 3
	}
	p.cut, p.settled, p.ended, p.litEnd = false, false, false, false
	p.gaps = p.gaps[:0]
	clear(p.past) // (settle's, but for a line never settled)
	p.past = p.past[:0]
	p.slack = 0
	if p.redact != nil {
		p.slack = p.redact.longest()
	}
}

// settle ends the line's content: the credentials in it are redacted,
// with the parts of one at the line's edges (secretSet.edges) and at the
// sides of each literal's body (gaps), then it is cut at maxPrinted (at a
// character's start). A server line also sets the carry to the next line
// (edges; from past, after a line cut or printed as SASL data:
// secretSet.carryCut, or carryPart when past kept only the line's end;
// from the text after the last body, after a line with a body inside it:
// carryPart); a line of the proxy's own (own) leaves the carry alone.
func (p *printer) settle() {
	if p.settled {
		return
	}
	p.settled = true
	// (A line printed empty too: one that does not tokenize from its
	// first byte, relayed unprinted, whose end is unseen. Skipped before
	// stop 60, it left the carry of the line before it for the line
	// after: TestProxyEchoAfterUnprintedLineEndRedacted.)
	if p.redact != nil && len(p.buf) >= len(p.prefix) {
		// The content after the prefix: a credential across the cut
		// is there in part, which a search for whole credentials
		// would not find; redactEdges with cut leaves it out. A
		// credential echoed across a line end is redacted from both
		// lines: its parts at the line's edges, from the line before's
		// end and the line's own (edges).
		body := p.buf[len(p.prefix):]
		var head, tail int
		if !p.own {
			// A line whose end the printed line does not show is cut
			// for the carry: its content ends unprinted (a literal's
			// body last, litEnd; a line that does not tokenize, not
			// ended), and the next line's start is taken for the rest of
			// a credential where it may be one. With a literal last, the
			// printed "{N bytes}" was carried before stop 60, not the
			// body's end.
			head, tail = p.redact.edges(body, p.ended && !p.cut && !p.litEnd)
			if (p.cut || p.sasl) && p.ended && p.past != nil {
				// The line's end past the cut, or the line printed as
				// SASL data: a credential across its line end that began
				// there goes on in the next line. When past holds only
				// the line's last pastLen bytes (it was longer), the next
				// line's start is also taken for the rest of one that
				// began before them (carryPart): a challenge holding a
				// SASL response's first 100 bytes had its rest printed.
				last := p.past[max(0, len(p.past)-pastLen):]
				if len(p.past) > pastLen {
					p.redact.carryPart(last)
				} else {
					p.redact.carryCut(last)
				}
			} else if p.ended && !p.cut && !p.litEnd && len(p.gaps) > 0 {
				// A literal's body inside the line: the text after the
				// last one, to the line's end, may lie wholly inside a
				// credential begun in the body, its rest in the next
				// line, which is taken for that rest too (carryPart of
				// that text): the rest was printed
				// (TestProxyEchoFromBodyOverLineEndRedacted).
				p.redact.carryPart(body[p.gaps[len(p.gaps)-1].To:])
			}
		}
		clear(p.past)
		p.past = p.past[:0]
		r := p.redact.redactEdges(body, head, tail, p.cut, p.gaps)
		p.gaps = p.gaps[:0]
		was := len(p.buf)
		if len(r) > 0 && len(body) > 0 && &r[0] == &body[0] {
			p.buf = p.buf[:len(p.prefix)+len(r)] // body itself, or a cut of it
		} else {
			p.buf = append(p.buf[:len(p.prefix)], r...)
		}
		// What the redacted line no longer covers held the line as the
		// server sent it, credentials and all: handed on with the
		// line's array (end), it was left to the garbage collector
		// (TestProxyPrinterLeavesNoSecret).
		clear(p.buf[len(p.buf):max(was, len(p.buf))])
	}
	if len(p.buf) > maxPrinted {
		i := maxPrinted
		for i > 0 && !utf8.RuneStart(p.buf[i]) {
			i--
		}
		p.buf = p.buf[:i]
		p.cut = true
	}
}

// note appends the proxy's own words about the line, after its content.
func (p *printer) note(s string) {
	p.settle()
	p.buf = append(p.buf, s...)
}

// rawCommandName returns the name of the command that line (the first
// part of a line the server reads as text) would be read as, in upper
// case: the atom after its first word; "" when there is none.
func rawCommandName(line []wire.Token) string {
	i := 0
	for i < len(line) && line[i].Kind == wire.KindSP {
		i++
	}
	for i < len(line) && line[i].Kind != wire.KindSP && line[i].Kind != wire.KindCRLF {
		i++
	}
	if i+1 < len(line) && line[i].Kind == wire.KindSP && line[i+1].Kind == wire.KindAtom {
		return strings.ToUpper(string(line[i+1].Bytes()))
	}
	return ""
}

// credential reports whether the client's line so far has a LOGIN or an
// AUTHENTICATE among its first words (its command, or one tokens took
// for it): its words from secretFrom or spacedFrom on are redacted.
func (p *printer) credential() bool {
	return p.secretFrom != math.MaxInt || p.spacedFrom != math.MaxInt
}

// redactedCommand reports whether the command's arguments after the first
// are secret.
func redactedCommand(cmd string) bool { return cmd == "LOGIN" || cmd == "AUTHENTICATE" }

// credentialCommand returns LOGIN or AUTHENTICATE when the first or the
// second word of a client's line is one (in any case), "" otherwise: a
// line without its tag ("LOGIN alice secret", " LOGIN alice secret"),
// which the Dialog and a server read as the tag "LOGIN" or as no command,
// carries the credential all the same (the printer redacts such a line:
// printer.client). Err on the safe side.
func credentialCommand(line []wire.Token) string {
	word, inWord := 0, false
	for _, tok := range line {
		switch tok.Kind {
		case wire.KindCRLF:
			continue
		case wire.KindSP:
			if inWord {
				if word++; word == 2 {
					return ""
				}
				inWord = false
			}
			continue
		}
		inWord = true
		if tok.Kind == wire.KindAtom {
			if name := strings.ToUpper(string(tok.Bytes())); redactedCommand(name) {
				return name
			}
		}
	}
	return ""
}

// tokens appends a line's tokens (or the part of it up to a literal).
func (p *printer) tokens(line []wire.Token) {
	if p.sasl {
		n := 0
		for _, tok := range line {
			p.ended = p.ended || tok.Kind == wire.KindCRLF
			if tok.Kind != wire.KindCRLF {
				b := wire.AppendToken(nil, tok)
				n += len(b)
				if p.redact != nil {
					// The server's line as it came, for the carry to
					// the next line (settle).
					p.keepPast(b, true)
				}
				if !p.saslGuess || saslLike(tok) {
					p.secret(tok)
				}
			}
		}
		p.buf = append(p.buf, "[SASL data redacted, "...)
		p.buf = strconv.AppendInt(p.buf, int64(n), 10)
		p.buf = append(p.buf, " bytes]"...)
		return
	}
	for _, tok := range line {
		switch tok.Kind {
		case wire.KindCRLF:
			p.ended = true
			continue
		case wire.KindSP:
			p.add([]byte{' '})
			if p.inWord {
				p.spaced++
				p.inWord = false
			}
			continue
		}
		p.secretLit = false
		p.litEnd = tok.Kind == wire.KindLiteral
		p.inWord = true
		if p.client && (p.word < 2 || p.spaced < 2) && tok.Kind == wire.KindAtom && redactedCommand(strings.ToUpper(string(tok.Bytes()))) {
			// Whichever word the server takes for the command (as a
			// client typing by hand may leave out the tag), err on
			// the safe side: as credentialCommand, which refuses
			// the line to an upstream in the clear, does.
			p.secretFrom = min(p.secretFrom, p.word+2)
			p.spacedFrom = min(p.spacedFrom, p.spaced+2)
		}
		if p.word >= p.secretFrom || p.spaced >= p.spacedFrom {
			p.add([]byte("***"))
			p.secret(tok)
			p.secretLit = tok.Kind == wire.KindLiteral
		} else if tok.Kind == wire.KindLiteral {
			info := tok.Literal()
			from := len(p.buf) - len(p.prefix)
			p.add([]byte("{" + strconv.FormatInt(info.Size, 10) + " bytes}"))
			if p.redact != nil && !p.settled && len(p.buf)-len(p.prefix) > from {
				// Its body relayed unprinted: a gap in the line.
				p.gaps = append(p.gaps, redact.Gap{From: from, To: len(p.buf) - len(p.prefix)})
			}
		} else {
			p.add(wire.AppendToken(nil, tok))
		}
		if p.word == 0 || tok.Kind != wire.KindLParen && tok.Kind != wire.KindLBracket {
			p.word++
		}
	}
}

// minSASLGuess is the fewest bytes a word of a line that may be a SASL
// response or a command (printer.saslGuess) decodes to for the word to be
// kept as a credential: PLAIN's shortest response ("\x00u\x00p") has 4,
// and "NOOP", "IDLE", "DONE", "LIST" or "COPY", valid base64, decode to 3.
const minSASLGuess = 4

// saslLike reports whether tok looks like a SASL response: base64 (with
// its padding, as IMAP sends it) of at least minSASLGuess bytes. Err on
// the safe side: a command name of 8 letters or more that is base64 too
// ("STARTTLS", "UNSELECT", "AUTHENTICATE") is kept, and then redacted
// from the server's lines.
func saslLike(tok wire.Token) bool {
	if tok.Kind == wire.KindLiteral {
		return false
	}
	b := tok.Bytes()
	n, err := base64.StdEncoding.Decode(make([]byte, base64.StdEncoding.DecodedLen(len(b))), b)
	return err == nil && n >= minSASLGuess
}

// beginClient begins a client's line as the Dialog told it: a SASL
// response, or a line that may be one (MaybeSASL), is printed as SASL
// data.
func (p *printer) beginClient(ev wire.Event, command string) {
	p.begin(ev.Kind == wire.LineSASL || ev.MaybeSASL, command)
	p.saslGuess = ev.Kind != wire.LineSASL && ev.MaybeSASL && !ev.LikelySASL
}

// secret records a redacted token's value, when the printer keeps them.
func (p *printer) secret(tok wire.Token) {
	if p.secrets != nil && tok.Kind != wire.KindLiteral {
		p.secrets.add(tok.Bytes())
	}
}

// raw notes a line relayed without tokenizing it.
func (p *printer) raw(secret bool) {
	if len(p.buf) == 0 {
		p.buf = append(p.buf, p.prefix...)
	}
	if secret {
		p.note("[redacted]")
	}
	p.note(" [not tokenized: relayed unchanged]")
}

// add appends b, up to maxPrinted, with control characters (C0, DEL, C1
// as UTF-8), the line and paragraph separators and bidirectional controls
// (esc.Unsafe) and bytes that are not UTF-8 (a raw 0x9b is CSI to an 8-bit
// terminal) escaped as \xNN, byte by byte, and a backslash before an 'x'
// as \x5c, as internal/printable does.
func (p *printer) add(b []byte) {
	for len(b) > 0 {
		if len(p.buf) >= maxPrinted+p.slack || p.settled {
			if !p.settled && p.redact != nil {
				if !p.cut {
					// The printed line's end before the cut first.
					body := p.buf[len(p.prefix):]
					p.keepPast(body[max(0, len(body)-pastLen):], false)
				}
				p.keepPast(b, true)
			}
			p.cut = true
			return
		}
		var n int
		p.buf, n = appendPrinted(growZeroed(p.buf, 4*utf8.UTFMax), b)
		b = b[n:]
	}
}

// pastLen is how much of a cut line's printed end the printer keeps
// (past): a credential's first part of up to pastLen bytes as printed,
// less the line end's, is carried to the next line whole (a rest of any
// length is found); a longer one's rest, from 2 bytes (carryPart).
const pastLen = 64

// keepPast adds b, bytes of a server line that the printed line does not
// show (those add drops past the cut, after the printed line's last
// pastLen bytes; the tokens of a line printed as SASL data), to past,
// printed (escaped as add escapes, or as they are, already printed), so
// that past ends with the line's last pastLen bytes as printed. Its
// array is reused, zeroed when it slides.
func (p *printer) keepPast(b []byte, escape bool) {
	if cap(p.past) == 0 {
		// Room for what it holds before it slides: never grown, no
		// copy of a server's bytes left behind.
		p.past = make([]byte, 0, 2*pastLen+4*utf8.UTFMax)
	}
	for len(b) > 0 {
		if len(p.past) >= 2*pastLen {
			n := copy(p.past, p.past[len(p.past)-pastLen:])
			clear(p.past[n:])
			p.past = p.past[:n]
		}
		n := 1
		if escape {
			p.past, n = appendPrinted(p.past, b)
		} else {
			p.past = append(p.past, b[0])
		}
		b = b[n:]
	}
}

// appendPrinted appends b's first rune (n bytes) as the printer shows it:
// escaped as \xNN a byte when it is not valid UTF-8, unsafe to show, or
// a backslash before an x.
func appendPrinted(dst, b []byte) (_ []byte, n int) {
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n <= 1 || esc.Unsafe(r) || r == '\\' && len(b) > 1 && b[1] == 'x' {
		for _, c := range b[:n] {
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		}
		return dst, n
	}
	return append(dst, b[:n]...), n
}

// hexDigits are add's \xNN escape's digits.
const hexDigits = "0123456789abcdef"

// growZeroed returns b with room for n more bytes; when it must grow,
// b's old array is zeroed once copied (a server line being printed holds
// a credential's echo before it is redacted, and a credential's printed
// form is made by a printer: the arrays append outgrew were left to the
// garbage collector with parts of it).
func growZeroed(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n, 64))
	copy(nb, b)
	clear(b[:cap(b)])
	return nb
}

// refused returns the line printed so far, marked as not relayed.
func (p *printer) refused() []byte {
	p.note(" [not relayed: answered by the proxy]")
	return p.end()
}

// cont returns the line printed so far, for a line that goes on after a
// synchronizing literal; the rest is printed after "...".
func (p *printer) cont() []byte {
	b := p.end()
	p.buf = append(append(p.buf, p.prefix...), "..."...)
	return b
}

// end returns the printed line and starts the next.
func (p *printer) end() []byte {
	p.settle()
	if p.cut {
		p.buf = append(p.buf, "..."...)
	}
	p.buf = append(p.buf, '\n')
	b := p.buf
	p.buf = p.buf[:0:0]
	p.cut, p.settled = false, false
	return b
}
