package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// lineEnds is how one reader framed a stream: the stream offset at which
// each line ended (its literals included), then how the reading stopped.
type lineEnds struct {
	ends []int64
	// err is the error that stopped the reading (io.EOF: the stream
	// ended between lines), cut whether it is the end of the stream
	// inside a line (io.ErrUnexpectedEOF): that line needed more bytes.
	err error
	cut bool
	// open is, per line, whether the reader met a literal's header in
	// a status response's code that no ']' had closed (see
	// openCodeLiteral): only known for the readers that tokenize.
	open []bool
}

// stop records the error that ended the reading.
func (l *lineEnds) stop(err error) lineEnds {
	l.err = err
	l.cut = errors.Is(err, io.ErrUnexpectedEOF)
	return *l
}

// maxFuzzLines bounds the lines a reader frames per input.
const maxFuzzLines = 1000

// skipEnds frames in with SkipLine alone (what the codec's recovery,
// ForwardLine and RefuseLine's decision rest on).
func skipEnds(r io.Reader) lineEnds { return skipEndsOn(wire.NewTokenizer(r, nil)) }

// skipEndsOn is skipEnds on tk.
func skipEndsOn(tk *wire.Tokenizer) lineEnds {
	var l lineEnds
	for len(l.ends) < maxFuzzLines {
		if _, err := tk.Peek(); err != nil {
			return l.stop(err)
		}
		if err := tk.SkipLine(); err != nil {
			return l.stop(err)
		}
		l.ends = append(l.ends, tk.Offset())
		l.open = append(l.open, false)
	}
	return l
}

// codecEnds frames in with package codec's Decoder (an imapkit client
// behind a relay): each response it decodes, or fails on and skips, ends
// a line. Its framing of a response is its own (Tag, the typed reads, a
// status line's text) up to the point where it fails, then SkipLine's.
func codecEnds(r io.Reader) lineEnds {
	tk := wire.NewTokenizer(r, nil)
	d := codec.NewDecoder(tk, nil)
	var l lineEnds
	for len(l.ends) < maxFuzzLines {
		_, err := d.Next()
		var de *codec.DecodeError
		if err != nil && (!errors.As(err, &de) || errors.Is(err, wire.ErrOutOfStep) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return l.stop(err)
		}
		l.ends = append(l.ends, tk.Offset())
		l.open = append(l.open, false)
	}
	return l
}

// appendEnds frames in with AppendLine (a relay), going on with SkipLine
// after a *SyntaxError, as docs/proxy.md's relay does with ForwardLine.
func appendEnds(r io.Reader) lineEnds { return appendEndsOn(wire.NewTokenizer(r, nil)) }

// appendEndsOn is appendEnds on tk.
func appendEndsOn(tk *wire.Tokenizer) lineEnds {
	var l lineEnds
	var line []wire.Token
	for len(l.ends) < maxFuzzLines {
		line, err := appendWhole(tk, line[:0])
		if errors.Is(err, wire.ErrSyntax) {
			err = tk.SkipLine()
		}
		if err != nil {
			l.open = append(l.open, openCodeLiteral(line))
			return l.stop(err)
		}
		l.ends = append(l.ends, tk.Offset())
		l.open = append(l.open, openCodeLiteral(line))
	}
	return l
}

// appendWhole is AppendLine to the line's end: it goes on after
// ErrTooManyTokens and after the header of a literal over
// MaxStringLiteral, whose body it streams.
func appendWhole(tk *wire.Tokenizer, line []wire.Token) ([]wire.Token, error) {
	for {
		var err error
		line, err = tk.AppendLine(line)
		switch {
		case errors.Is(err, wire.ErrTooManyTokens):
			continue
		case err != nil:
			return line, err
		case line[len(line)-1].Kind == wire.KindLiteral:
			lr, err := tk.LiteralReader()
			if err == nil {
				_, err = io.Copy(io.Discard, lr)
			}
			if err != nil {
				return line, err
			}
			continue
		}
		return line, nil
	}
}

// nextEnds frames in with Next, token by token to each CRLF (Scan's
// readers), going on with SkipLine after a *SyntaxError.
func nextEnds(r io.Reader) lineEnds { return nextEndsOn(wire.NewTokenizer(r, nil)) }

// nextEndsOn is nextEnds on tk.
func nextEndsOn(tk *wire.Tokenizer) lineEnds {
	var l lineEnds
	var line []wire.Token
	for len(l.ends) < maxFuzzLines {
		tok, err := tk.Next()
		if errors.Is(err, wire.ErrSyntax) {
			err = tk.SkipLine()
			tok = wire.Token{Kind: wire.KindCRLF}
		}
		if err != nil {
			if len(line) == 0 && err == io.EOF {
				return l.stop(err)
			}
			l.open = append(l.open, openCodeLiteral(line))
			return l.stop(err)
		}
		if len(line) < 64 {
			line = append(line, tok)
		}
		if tok.Kind == wire.KindCRLF {
			l.ends = append(l.ends, tk.Offset())
			l.open = append(l.open, openCodeLiteral(line))
			line = line[:0]
		}
	}
	return l
}

// openCodeLiteral reports whether line, the tokens of one line as Next
// reads them, is a status response (a first word, a space, OK, NO, BAD,
// BYE or PREAUTH, a space) whose response code ('[' next) holds a
// literal's header before a ']' closes it. That is the documented
// exception (docs/wire.md, Tokenizer.ForwardLine): a tokenizer reads the
// header as a literal inside the code, the codec (which reads a code it
// cannot parse as text) and SkipLine as the text's end. ForwardLine fails
// with ErrOutOfStep on such a line rather than guess.
func openCodeLiteral(line []wire.Token) bool {
	i := 0
	for i < len(line) && line[i].Kind != wire.KindSP && line[i].Kind != wire.KindCRLF {
		i++
	}
	if i == 0 || i+4 > len(line) || line[i+1].Kind != wire.KindAtom || line[i+2].Kind != wire.KindSP || line[i+3].Kind != wire.KindLBracket {
		return false
	}
	switch strings.ToUpper(line[i+1].String()) {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
	default:
		return false
	}
	depth := 0
	for _, tok := range line[i+3:] {
		switch tok.Kind {
		case wire.KindLParen, wire.KindLBracket:
			depth++
		case wire.KindRParen:
			depth = max(depth-1, 0)
		case wire.KindRBracket:
			if depth <= 1 {
				return false
			}
			depth--
		case wire.KindLiteral:
			return true
		}
	}
	return false
}

// compareEnds fails t when a and b frame a line differently: one ends it
// where the other does not, or one ends it and the other needs more of
// the stream for it. Lines after a reader stopped on another error are
// not compared, nor any line from one that a reads with a literal in an
// open response code (openCodeLiteral, the documented exception), one
// whose head may pass SkipLine's bound (longHead), or one that begins
// with '[' (bareCodeLine).
func compareEnds(t *testing.T, in []byte, aName string, a lineEnds, bName string, b lineEnds) {
	t.Helper()
	compareFrames(t, in, aName, a, bName, b, func(i int, rest []byte) bool {
		return i < len(a.open) && a.open[i] || i < len(b.open) && b.open[i] || longHead(rest) || bareCodeLine(rest)
	})
}

// compareFrames is compareEnds with the exceptions exempt: it stops
// comparing at line i, rest the stream from that line on, when exempt
// says so (nil: no exception).
func compareFrames(t *testing.T, in []byte, aName string, a lineEnds, bName string, b lineEnds, exempt func(i int, rest []byte) bool) {
	t.Helper()
	start := int64(0) // where line i begins, as both readers agree
	for i := 0; ; i++ {
		if exempt != nil && exempt(i, in[start:]) {
			return
		}
		haveA, haveB := i < len(a.ends), i < len(b.ends)
		switch {
		case haveA && haveB:
			if a.ends[i] != b.ends[i] {
				t.Fatalf("line %d of %s: %s ends it at offset %d, %s at %d", i, excerptOf(in), aName, a.ends[i], bName, b.ends[i])
			}
			start = a.ends[i]
			continue
		case haveA && b.cut:
			t.Fatalf("line %d of %s: %s ends it at offset %d, %s reads on past the stream's end (%v)", i, excerptOf(in), aName, a.ends[i], bName, b.err)
		case haveB && a.cut:
			t.Fatalf("line %d of %s: %s ends it at offset %d, %s reads on past the stream's end (%v)", i, excerptOf(in), bName, b.ends[i], aName, a.err)
		}
		return
	}
}

// longHead reports whether the line that begins rest has more than
// 1024 bytes (SkipLine's bound on a line's head, maxStatusHead) before
// its first LF: the second known disagreement, older than FuzzLineEnds.
// SkipLine decides whether a line is a status line (or a bare code's)
// from its first 1024 bytes: one whose first word, status word or bare
// code does not end within them is none, and its "{5}" a literal, while
// Next and the codec read the whole head, and so text.
func longHead(rest []byte) bool {
	if len(rest) > 1024 {
		rest = rest[:1025]
	}
	return len(rest) > 1024 && bytes.IndexByte(rest, '\n') < 0
}

// bareCodeLine reports whether the line that begins rest starts with
// '[': the third known disagreement, kept on purpose. The codec reads
// such a server line as Exchange's bare response code ("[COPYUID 1 2 3]
// Moved" after MOVE) and the rest as text; the tokenizer and SkipLine
// read it as any line, and a "{5}" at its end as a literal. Reading it as
// text there too (tried in stop 53) let a client whose tag begins with
// '[' ("[a STATUS x] {13}", which RFC 9051 allows and Dovecot reads with
// a literal) hide a literal from a proxy's Dialog and smuggle the next
// command past it (TestDialogRelayBracketFirstTagLiteral,
// TestProxyBracketFirstTagLiteral).
func bareCodeLine(rest []byte) bool {
	return len(rest) > 0 && rest[0] == '['
}

// excerptOf quotes in, its middle cut when it is long.
func excerptOf(in []byte) string {
	if len(in) <= 200 {
		return fmt.Sprintf("%q", in)
	}
	return fmt.Sprintf("%q...(%d bytes)...%q", in[:100], len(in)-200, in[len(in)-100:])
}

// FuzzLineEnds: the readers of a line agree on where it ends, and so on
// which bytes are the next line: AppendLine (a relay), Next to the CRLF
// (Scan's readers) and SkipLine (the codec's recovery after a malformed
// response, ForwardLine's and Rest's rule), each on the stream whole and
// a byte at a time. A "{5}" that one of them reads as a literal and
// another as the end of a status line's text puts a relay and the client
// behind it out of step (the literal swallows the next response). The
// documented exception is skipped: a literal's header in a status
// response's code not closed before it (openCodeLiteral). Its seeds are
// the lines whose first word holds ']' or '[' (a tag as Tag reads it,
// '*' or '+' followed by more), a line that begins with '[' or '+', and
// the like.
func FuzzLineEnds(f *testing.F) {
	for _, s := range []string{
		"a]x OK y {1}\r\nX 1 EXISTS\r\n",
		"* [0] {0}\r\n* 1 EXISTS\r\n", // an untagged bare code: refused by the codec, skipped with its literal
		"* [ALERT] {12}\r\nA001 OK done\r\n* 1 EXISTS\r\n",
		"a]<0> OK done {5}\r\nX 1 EXISTS\r\n",
		"a]* OK x {5}\r\nX 1 EXISTS\r\n",
		"a[*] NO x {5}\r\n* 1 EXISTS\r\n",
		"*]1 OK x {5}\r\n* 1 EXISTS\r\n",
		"*[x BYE x {5}\r\n* 1 EXISTS\r\n",
		"a]+ OK x {5}\r\n* 1 EXISTS\r\n",
		"]<1.2>x BAD x {3}\r\nabc\r\n",
		"a]~{3}\r\nabc OK\r\n",
		"a]\"q\" OK x {3}\r\nabc\r\n",
		"* 1 FETCH (BODY[]<0> {3}\r\nabc)\r\n* OK [ALERT] x {5}\r\n+ go {2}\r\na1 OK [X {2}\r\nab] t\r\n",
		"a1 OK [X] t {2}\r\nab\r\n",
		"+]1 OK x {5}\r\n* 1 EXISTS\r\n",
		"+{0}\r\n+x {2}\r\nab\r\n+(x {2}\r\n* 1 EXISTS\r\n",
		"[1 OK done {5}\r\n* 1 EXISTS\r\n",
		"a1 NOOP {3}\r\nabc\r\n",
		// Literal headers longer than the tail SkipLine keeps while
		// it looks for the LF (TestLineEndsLongLiteralHeader).
		"a NOOP {0000000000000000000000000000000000000005}\r\nhello\r\n* 1 EXISTS\r\n",
		"* 1 FETCH (BODY[] ~{00000000000000000000000000000000000003}\r\nabc)\r\n",
		"a NOOP {000000000000000000000000000000000000000000000000000000000000000000123456789012345678901}\r\nhello\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		skip := skipEnds(bytes.NewReader(in))
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		} {
			compareEnds(t, in, "SkipLine", skip, "SkipLine "+name, skipEnds(r()))
			compareEnds(t, in, "SkipLine", skip, "AppendLine "+name, appendEnds(r()))
			compareEnds(t, in, "SkipLine", skip, "Next "+name, nextEnds(r()))
			compareEnds(t, in, "SkipLine", skip, "codec "+name, codecEnds(r()))
		}
	})
}

// commandEnds frames in as a server that reads a command's arguments
// before its name does, with no tokenizer: a line ends at its LF unless
// the bytes before it end with a literal's header ({n}, {n+}, ~{n}),
// whose n bytes of body belong to the line, which goes on after them.
func commandEnds(in []byte) lineEnds {
	var l lineEnds
	off := 0
	for len(l.ends) < maxFuzzLines {
		if off == len(in) {
			return l.stop(io.EOF)
		}
		k := bytes.IndexByte(in[off:], '\n')
		if k < 0 {
			return l.stop(io.ErrUnexpectedEOF)
		}
		end := off + k + 1
		line := bytes.TrimSuffix(in[off:end-1], []byte("\r"))
		if info, ok := wire.LiteralSuffix(line); ok {
			if info.Size > int64(len(in)-end) {
				return l.stop(io.ErrUnexpectedEOF)
			}
			off = end + int(info.Size)
			continue
		}
		off = end
		l.ends = append(l.ends, int64(off))
	}
	return l
}

// FuzzCommandLineEnds: with TokenizerOptions.Commands, the readers of a
// client's line (SkipLine, AppendLine, Next to the CRLF, each on the
// stream whole and a byte at a time) frame it as a server that reads
// every literal's header as one (commandEnds), with none of
// FuzzLineEnds's exceptions: no line is a status response, a
// continuation request or a bare code, whatever its head.
func FuzzCommandLineEnds(f *testing.F) {
	for _, c := range commandLines {
		f.Add([]byte(c.in))
	}
	for _, s := range []string{
		"a1 OK [X {2}\r\nab] t\r\n",
		"a1 OK x {99999999999}\r\nz NOOP\r\n",
		"+]1 OK x {5}\r\n* 1 EXISTS\r\n",
		"a \"x {3}\r\nabc\r\n",
		"a {0000000000000000000000000000000000000005}\r\nhello\r\nz NOOP\r\n",
		"a {0000000000000000000000000000000000000005+}\r\nhello\r\nz NOOP\r\n",
		"a x{000000000000000000000000000000000000000000000{0000000000000000000000000000000000000000002}\r\nab\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := commandEnds(in)
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		} {
			tk := func() *wire.Tokenizer { return wire.NewTokenizer(r(), commandsOpts) }
			compareFrames(t, in, "a server", want, "SkipLine "+name, skipEndsOn(tk()), nil)
			compareFrames(t, in, "a server", want, "AppendLine "+name, appendEndsOn(tk()), nil)
			compareFrames(t, in, "a server", want, "Next "+name, nextEndsOn(tk()), nil)
		}
	})
}
