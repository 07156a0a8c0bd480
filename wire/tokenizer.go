package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/bits"
	"os"
	"syscall"

	"github.com/imapkit/imapkit/internal/printable"
)

// Default limits. Each is used when the matching TokenizerOptions field is
// zero.
const (
	// DefaultMaxLineLength bounds the bytes one line keeps in memory: every
	// byte outside literals plus the literals returned as bytes, the
	// line's final CRLF not counted (a line of exactly MaxLineLength bytes
	// and its CRLF is read; one byte more fails with ErrLineTooLong; the
	// buffer holds up to MaxLineLength+2 bytes of a line). imaplib uses
	// 1,000,000. It does not bound the Tokens AppendLine makes of them
	// (DefaultMaxLineTokens does).
	DefaultMaxLineLength = 1 << 20
	// DefaultMaxStringLiteral bounds a literal returned as bytes; larger
	// literals must be streamed with LiteralReader.
	DefaultMaxStringLiteral = 64 << 10
	// DefaultMaxDepth bounds the nesting of parentheses and brackets.
	DefaultMaxDepth = 100
	// DefaultMaxLiteral bounds the announced size of any literal, streamed or
	// not.
	DefaultMaxLiteral = 1 << 30
	// DefaultBufferSize is the initial size of the tokenizer's buffer. It
	// grows (up to the line limit) only when a line longer than half of it
	// arrives.
	DefaultBufferSize = 32 << 10
	// DefaultMaxLineTokens bounds the tokens one AppendLine or
	// AppendUntilLiteral call appends: 65,536 Tokens of 48 bytes are 3 MiB
	// (about 3.75 MiB of capacity once append has grown the slice), the
	// order of the 1 MiB line buffer, where a 1 MiB line of " 1 1 1..."
	// would otherwise keep a million Tokens (52 MiB, 258 MiB allocated
	// while the slice grows). Legitimate lines can be longer (a SEARCH
	// answer of 100,000 UIDs is 200,000 tokens counting KindSP): such a
	// line is not refused, it takes several calls, each returning up to
	// the bound with ErrTooManyTokens and the next one going on with the
	// same line. The bound is set high enough that ordinary lines (FETCH
	// responses, BODYSTRUCTUREs, client commands, whose sets are one
	// atom) never meet it, and low enough that what a caller keeps stays
	// a few MiB.
	DefaultMaxLineTokens = 1 << 16
)

// TokenizerOptions configures a Tokenizer. A nil *TokenizerOptions is
// equivalent to a zero TokenizerOptions; a zero field means its documented
// default.
type TokenizerOptions struct {
	MaxLineLength    int   // default DefaultMaxLineLength
	MaxStringLiteral int   // default DefaultMaxStringLiteral
	MaxDepth         int   // default DefaultMaxDepth
	MaxLiteral       int64 // default DefaultMaxLiteral
	BufferSize       int   // default DefaultBufferSize
	// MaxLineTokens bounds the tokens one AppendLine or AppendUntilLiteral
	// call appends (default DefaultMaxLineTokens); a longer line takes
	// several calls (see AppendLine). Other methods read one token at a
	// time and are not concerned.
	MaxLineTokens int

	// LenientLineEnds accepts a bare LF where CRLF belongs. Off by default:
	// no conforming peer needs it.
	LenientLineEnds bool

	// Commands reads a client's commands, as a server (or a proxy's
	// client side) must: no line is a status response, a continuation
	// request or a bare response code, and every {n}, {n+} or ~{n} is a
	// literal header wherever it stands. A line's head is its tag, a
	// space and the command's name, whatever that name is: the literal
	// of "a1 OK {5+}", "+ {3}" or "[x {3}" is a literal, where a
	// tokenizer reading a server's responses (the default) reads the
	// text of "a1 OK ..." and "+ ..." to the line's end, a "{5}" in it
	// included. A relay that read a client's "a1 OK {5+}" that way
	// would forward the literal's body as a line of its own, unchecked,
	// while the server reads it as the literal: the two disagree from
	// there on where each command begins. Next, AppendLine,
	// AppendUntilLiteral, Rest, SkipLine, ForwardLine and the Refuse
	// methods all follow it.
	Commands bool
}

// LiteralInfo describes a literal header: {n}, {n+} or ~{n}.
type LiteralInfo struct {
	Size    int64 // the announced number of bytes
	NonSync bool  // {n+}: a non-synchronizing literal (LITERAL+ / LITERAL-)
	Binary  bool  // ~{n}: a literal8 (RFC 3516), which may contain NUL
}

// Mark is a position within the current line, taken by Mark and restored by
// Rewind.
type Mark struct {
	off   int
	gen   uint64
	depth int
	lit   int64 // the open literal's remaining size, when litOpen
	// litOpen: the mark was taken with a literal open (after its header,
	// before its body); Rewind reopens it.
	litOpen bool
}

// Tokenizer reads IMAP tokens from a stream, in either direction: server
// responses (the default) or client commands (TokenizerOptions.Commands).
// It is not safe for concurrent use.
//
// Bytes returned by a Tokenizer borrow its buffer: they are valid until the
// next line is read (see the package documentation) and are capped, so an
// append to them never overwrites the buffer.
type Tokenizer struct {
	rd  io.Reader
	buf []byte
	// [lineStart, r) has been consumed in the current line and may be
	// borrowed by the caller; [r, w) is read but not consumed.
	lineStart, r, w int
	// pend flags what the next call must do first: pendEOL, the last call
	// consumed the line's final CRLF (start a new line); pendLit, a
	// literal header was read and its body is not consumed (skip it).
	// One field, so that the fast paths test a single byte.
	pend uint8
	// head: the head of the line (pendHead): next follows the first
	// tokens of each line to find where a status response's or a
	// continuation request's text begins (see nextHead). Kept beside pend,
	// and the bools below together, so that the struct has little padding
	// (384 bytes, a size class).
	head uint8
	lazy Kind // the kind of the last token, when a fast path read it (see setLazy)
	// skipInCode: a skip of the current line (skipLine) stopped inside a
	// status response's code; skipCode follows the code's bytes it gave
	// up. Both are kept, as skipHead is, for a skip resumed after a read
	// error (a deadline), and packed here, beside the line's other small
	// fields, to keep the struct in its size class.
	skipInCode bool
	skipCode   codeScan
	gen        uint64 // bumped when marks become invalid
	base       int64  // stream offset of buf[0]
	rerr       error  // a read error held back because bytes came with it
	depth      int
	scratch    []byte // unescaped quoted strings of the current line

	tok       Token            // the last token read by Scan or Next, when lazy is 0
	ts, te    int              // where that token's bytes lie in buf
	lr        io.LimitedReader // WriteTo's limiter, kept here to avoid allocating
	litRemain int64            // bytes of the open literal not yet consumed
	litStart  int              // where the open literal's bytes begin in buf
	released  int              // the size of the buffer Release gave back (0: none)

	maxLine, maxString int
	// maxTokens is AppendLine's bound (MaxLineTokens), at most
	// math.MaxInt32. heldFrom is where, from lineStart, the line's bytes
	// that Held returns begin: after the last literal body of the line
	// that left the buffer (streamed or skipped: removed), whose bytes
	// before it are no longer as received; 0 when none did, -1 when it
	// does not fit. Both int32, side by side, to keep the struct in its
	// size class.
	maxTokens int32
	heldFrom  int32
	// maxDepth is MaxDepth, at most math.MaxInt32 (a depth a line of 2
	// GiB of '(' reaches), so that depth, below it, fits codeDepth.
	// Both int32, side by side, to keep the struct in its size class.
	maxDepth   int32
	codeDepth  int32 // the depth outside the response code being read
	maxLiteral int64

	broken error // set with pendBroken: why the stream is out of step

	headOff int64 // stream offset where the head expects its next token (see head)
	// lineText: the line is a status response or a continuation request,
	// so a "{5}" at its end is text, not a literal header.
	lineText bool
	// lineCut: literal bytes of the current line left the buffer (streamed
	// or skipped), so the line can no longer be returned whole.
	lineCut bool
	// dropping: Drop was called in the current line; makeRoom gives up
	// what was consumed rather than keep it.
	dropping bool
	// closeCut: the byte just before lineStart, given up (Drop, Keep,
	// Unshare in the middle of a line), was a ']' (afterClose).
	closeCut bool
	fwdLost  bool // consumed bytes left the buffer unforwarded (ErrForwardGap)
	lenient  bool
	commands bool // TokenizerOptions.Commands: no line head is followed
	// skipKind: with pendSkip, the kind of the interrupted skip of the
	// line (a skipKind value, skipEnded added when the stream ended); in
	// the byte the bools above leave before fwdOff.
	skipKind uint8

	fwdOff int64 // stream offset of the first consumed byte not forwarded

	// skipHead is skipLine's headScan, kept for a skip resumed after a
	// read error (a deadline) as lineText is: the '{' of a long literal
	// header may be given up before the error. skipHeadAt is the stream
	// offset where it stopped following the line; a skip that starts
	// anywhere else (a new line or line part, or bytes consumed since)
	// starts the scan over.
	skipHead   headScan
	skipHeadAt int64
	// skipLineLen counts the bytes of the current line outside literals
	// that skipLine gave up (MaxLineLength's count, or ForwardLongLine's
	// limit's), so that a skip resumed after a read error counts the line
	// from its start, as one call does. A Drop starts it over (what Drop
	// gives up stops counting).
	skipLineLen int64
	// skipRead counts the bytes an interrupted RefuseLineMax of the
	// current line read, literal bodies included, so that the call
	// resuming it counts from where the first began (its max bounds
	// the line, not each call).
	skipRead int64

	// wholeAt is 1 + the stream offset of the line LineBuffered last
	// found wholly buffered (0: none), so that prepare need not look again.
	wholeAt int64
}

const (
	pendLit = 1 << iota
	pendEOL
	// pendBroken: the stream is out of step (see ErrOutOfStep); every
	// call fails with t.broken.
	pendBroken
	// pendHead: next is reading the head of a line (see nextHead).
	pendHead
	// pendSkip: a SkipLine, ForwardLine, ForwardLongLine or RefuseLine
	// returned a read or write error in the middle of the line, which
	// stays its own until it is resumed (skipKind says by what) or the
	// tokenizer is Reset: every other call fails with ErrSkipPending
	// (skipPendingErr).
	pendSkip
)

// skipKind values: the call an interrupted skip of a line (pendSkip)
// waits for. skipEnded flags one the end of the stream interrupted.
const (
	skipKindSkip    = 1 // SkipLine
	skipKindForward = 2 // ForwardLine, ForwardLongLine
	skipKindRefuse  = 3 // RefuseLine, RefuseLineMax
	skipEnded       = 0x80
)

// NewTokenizer returns a tokenizer reading from r. It does no I/O.
func NewTokenizer(r io.Reader, opts *TokenizerOptions) *Tokenizer {
	var o TokenizerOptions
	if opts != nil {
		o = *opts
	}
	t := &Tokenizer{
		rd:         r,
		maxLine:    orDefault(o.MaxLineLength, DefaultMaxLineLength),
		maxString:  orDefault(o.MaxStringLiteral, DefaultMaxStringLiteral),
		maxDepth:   int32(min(orDefault(o.MaxDepth, DefaultMaxDepth), math.MaxInt32)),
		maxTokens:  int32(min(orDefault(o.MaxLineTokens, DefaultMaxLineTokens), math.MaxInt32)),
		maxLiteral: o.MaxLiteral,
		lenient:    o.LenientLineEnds,
		commands:   o.Commands,
		pend:       pendHead,
	}
	if t.commands {
		t.pend = 0 // a command's head holds no text (startHead)
	}
	if t.maxLiteral <= 0 {
		t.maxLiteral = DefaultMaxLiteral
	}
	t.buf = make([]byte, orDefault(o.BufferSize, DefaultBufferSize))
	return t
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Reset discards every buffered byte and the tokenizer's state and makes it
// read from r. After STARTTLS the session resets the tokenizer onto the TLS
// connection so that nothing read before the handshake is ever parsed (the
// response-injection defense of curl CVE-2021-22947). The buffer is kept.
func (t *Tokenizer) Reset(r io.Reader) {
	t.rd = r
	t.base += int64(t.w)
	t.lineStart, t.r, t.w = 0, 0, 0
	t.heldFrom = 0
	t.pend &^= pendEOL
	t.gen++
	t.rerr = nil
	t.depth = 0
	t.scratch = t.scratch[:0]
	t.pend &^= pendLit | pendBroken | pendSkip
	t.skipKind = 0
	t.broken = nil
	t.litRemain = 0
	t.startHead()
	t.lineText, t.lineCut, t.dropping = false, false, false
	t.skipHead, t.skipInCode, t.skipLineLen, t.skipRead = headScan{}, false, 0, 0
	t.closeCut = false
	t.fwdOff, t.fwdLost = t.base, false
	t.wholeAt = 0
}

// startHead starts following the head of a line at the current position.
// A line that begins with "* " and a digit ("* 5 FETCH", "* 3 EXISTS") is
// known at once: no status word begins with a digit, so its head holds no
// text and next need not follow it. A client's command has no text
// either (TokenizerOptions.Commands): its head is never followed.
func (t *Tokenizer) startHead() {
	if b := t.buf[t.r:t.w]; len(b) > 2 && b[0] == '*' && b[1] == ' ' && b[2]-'0' < 10 || t.commands {
		t.pend &^= pendHead
		return
	}
	t.pend |= pendHead
	t.head = hTag
	t.headOff = t.base + int64(t.r)
}

// dropped records that the buffer bytes before index i are given up: when
// some of them were consumed but not forwarded, Forward fails from now on.
func (t *Tokenizer) dropped(i int) {
	if t.fwdOff < t.base+int64(i) {
		t.fwdLost = true
	}
}

// Unshare makes the tokenizer stop reusing the memory it has handed out:
// the bytes borrowed so far stay valid for as long as their holders keep
// them, and the tokenizer goes on in a new buffer (what it read ahead is
// copied there). A client that hands a decoded response to another
// goroutine, and must read on before that goroutine is done with it, calls
// it between two lines. It fails with ErrLiteralOpen while a literal is
// open, and does nothing in the middle of a line but that.
func (t *Tokenizer) Unshare() error {
	if t.pend&pendLit != 0 {
		return ErrLiteralOpen
	}
	t.pinToken()
	t.dropped(t.r)
	t.closeCut = t.afterClose(t.r)
	nb := make([]byte, len(t.buf))
	n := copy(nb, t.buf[t.r:t.w])
	t.base += int64(t.r)
	t.buf = nb
	t.w = n
	t.r = 0
	t.lineStart = 0
	t.heldFrom = 0
	t.scratch = nil
	t.gen++
	return nil
}

// Detach returns a copy of the bytes read from the underlying reader but not
// yet consumed, and forgets them. A session switching the stream to
// another encoding after a response (COMPRESS=DEFLATE, RFC 4978) feeds them
// to the decompressor ahead of the connection, then calls Reset with it.
func (t *Tokenizer) Detach() []byte {
	b := append([]byte(nil), t.buf[t.r:t.w]...)
	t.w = t.r
	t.wholeAt = 0
	return b
}

// Buffered returns the number of bytes read from the underlying reader but
// not yet consumed.
func (t *Tokenizer) Buffered() int { return t.w - t.r }

// Offset returns the stream offset of the next unconsumed byte.
func (t *Tokenizer) Offset() int64 { return t.base + int64(t.r) }

// Held returns the bytes of the current line the tokenizer holds, as they
// were received, and the stream offset of the first of them: those
// consumed (RawLine's; after Drop, those kept since; after a literal body
// streamed or skipped, which leaves the buffer, those after that body, as
// the bytes before it no longer are as received) and those read but not
// consumed, which may run past the line's end into the next lines. It does
// no I/O and copies nothing: the bytes are borrowed, valid until the next
// call that reads. A decoder that meets a
// malformed response looks at them before it skips the rest of it: the
// bytes around a syntax error's excerpt (codec.DecoderOptions.BeforeSkip).
func (t *Tokenizer) Held() (b []byte, off int64) {
	i := t.lineStart + int(t.heldFrom)
	if t.heldFrom < 0 || i > t.w {
		i = t.w
	}
	return t.borrow(i, t.w), t.base + int64(i)
}

// Depth returns the current nesting of parentheses and brackets.
func (t *Tokenizer) Depth() int { return t.depth }

// Mark returns the current position in the line. Rewind returns to it, which
// lets a caller that was interrupted (for example by a read deadline) parse
// the line again from the mark. Marks stay valid until the line ends or a
// literal is streamed.
func (t *Tokenizer) Mark() Mark {
	if t.pend == 0 {
		return Mark{off: t.r - t.lineStart, gen: t.gen, depth: t.depth}
	}
	return t.markSlow()
}

func (t *Tokenizer) markSlow() Mark {
	t.prepare()
	m := Mark{off: t.r - t.lineStart, gen: t.gen, depth: t.depth}
	if t.pend&pendLit != 0 {
		// Taken between a literal's header and its body: Rewind reopens
		// the literal, so that its body is never replayed as tokens.
		m.lit, m.litOpen = t.litRemain, true
	}
	return m
}

// Rewind returns to m. A mark taken with a literal open (after its header)
// reopens that literal. Rewind fails with ErrCannotRewind when m belongs to
// an earlier line, when the line's CRLF was consumed, or when a literal was
// streamed (LiteralReader) or skipped since m was taken: its bytes left the
// buffer. Literals read with LiteralBytes do not invalidate marks. The
// bytes returned after m was taken are no longer valid once Rewind returns:
// they will be read again, and their room in the buffer may be reused.
func (t *Tokenizer) Rewind(m Mark) error {
	if m.gen != t.gen || t.pend&(pendEOL|pendSkip) != 0 || t.lineStart+m.off > t.w {
		return ErrCannotRewind
	}
	t.r = t.lineStart + m.off
	t.depth = m.depth
	if m.litOpen {
		t.pend |= pendLit
		t.litRemain = m.lit
		t.litStart = t.r
	} else {
		t.pend &^= pendLit
		t.litRemain = 0
	}
	if m.off == 0 {
		t.startHead()
		t.lineText = false
	}
	return nil
}

// Since returns the raw bytes consumed since m, literals read with
// LiteralBytes included. It stays valid after the line's CRLF, until the
// next line is read, so a proxy can take a mark at the start of a line and
// get the whole line back once it is read. It fails with ErrCannotRewind
// when m belongs to an earlier line or a literal was streamed or skipped
// since m was taken. The bytes are valid until the next line is read.
func (t *Tokenizer) Since(m Mark) ([]byte, error) {
	if m.gen != t.gen || t.lineStart+m.off > t.r {
		return nil, ErrCannotRewind
	}
	return t.borrow(t.lineStart+m.off, t.r), nil
}

// RawLine returns the bytes of the current line consumed so far, from its
// first byte, exactly as they were received: literal headers and the
// bodies read with LiteralBytes included, and the CRLF once consumed. After
// the line's CRLF it returns the whole line, until the next line is read.
// It fails with ErrCannotRewind when a literal of the line was streamed or
// skipped (its bytes left the buffer: use Forward to relay such lines). The
// bytes are valid until the next line is read.
func (t *Tokenizer) RawLine() ([]byte, error) {
	if t.lineCut {
		return nil, ErrCannotRewind
	}
	return t.borrow(t.lineStart, t.r), nil
}

// Rest reads the rest of the line raw, up to but not including its final
// CRLF, literals included (each at most MaxStringLiteral bytes; a larger
// one fails with ErrStringTooLarge and consumes nothing). In a server's
// status response (tag or "*" then OK, NO, BAD, BYE or PREAUTH) or
// continuation request ("+"), never in a client's command
// (TokenizerOptions.Commands), the text ends the line: a "{5}" at its end
// is text, never a literal header. A proxy or a
// decoder that meets something it does not know keeps it this way. The
// bytes are valid until the next line is read.
func (t *Tokenizer) Rest() ([]byte, error) {
	if err := t.begin(); err != nil {
		return nil, err
	}
	start := t.r - t.lineStart
	undo := func(err error) ([]byte, error) {
		t.r = t.lineStart + start
		t.pend &^= pendLit
		t.litRemain = 0
		return nil, err
	}
	for {
		b, err := t.Text()
		if err != nil {
			return undo(err)
		}
		info, ok := literalSuffix(b)
		if !ok || t.statusLine() {
			return t.borrow(t.lineStart+start, t.r), nil
		}
		if info.Size > t.maxLiteral {
			return undo(&LimitError{Offset: t.Offset(), Limit: t.maxLiteral, Got: info.Size, Err: ErrLiteralTooLarge})
		}
		// Step over the CRLF after the header, then keep the literal.
		n := 1
		if t.buf[t.r] == '\r' {
			n = 2
		}
		if _, err := t.peekAt(n - 1); err != nil {
			return undo(err)
		}
		t.r += n
		t.pend |= pendLit
		t.litRemain = info.Size
		if _, err := t.LiteralBytes(); err != nil {
			return undo(err)
		}
	}
}

// prepare starts a new line when the previous one ended. This is where bytes
// borrowed from the previous line stop being valid.
func (t *Tokenizer) prepare() {
	if t.pend&pendEOL == 0 {
		return
	}
	t.pend &^= pendEOL
	t.gen++
	t.depth = 0
	t.scratch = t.scratch[:0]
	t.lineStart = t.r
	t.heldFrom = 0
	t.lineText, t.lineCut, t.dropping = false, false, false
	t.skipHead, t.skipInCode, t.skipLineLen, t.skipRead = headScan{}, false, 0, 0
	// Move the unread tail to the front once past half of the buffer, so
	// that every line shorter than half the buffer fits without growing it;
	// but not while the whole line is buffered: it needs no room, and
	// moving the tail later, when less of it is left, copies less (shifting
	// at each half copied the whole stream once more).
	if t.r > len(t.buf)/2 && t.base+int64(t.r)+1 != t.wholeAt {
		if whole, _ := t.lineBuffered(); !whole {
			t.shift()
		}
	}
	t.startHead()
}

// lineBuffered reports whether the line that begins at t.r ends within the
// buffered bytes, literals included. It may say false when the line is
// whole, never true when it is not: a '\n' outside literals ends a line
// (quoted strings cannot hold one), and a "{5}" taken for a literal header
// when it is text only moves the search past the real end. maxLiteral is
// the size of the line's largest literal, when the line is whole.
func (t *Tokenizer) lineBuffered() (ok bool, maxLiteral int64) {
	i := t.r
	for {
		k := bytes.IndexByte(t.buf[i:t.w], '\n')
		if k < 0 {
			return false, 0
		}
		end := i + k + 1
		info, ok := literalAtEnd(t.buf[i:end])
		if !ok {
			return true, maxLiteral
		}
		if info.Size > int64(t.w-end) {
			return false, 0
		}
		maxLiteral = max(maxLiteral, info.Size)
		i = end + int(info.Size)
	}
}

// LineBuffered reports whether the next line is wholly in the buffer, from
// its first byte to its final CRLF, literals included, so that reading it
// takes no call to the underlying reader; maxLiteral is then the size of
// its largest literal (0 for none). It answers only between two lines (at
// the start, or once a line's CRLF was consumed) and says false anywhere
// else. It may say false for a whole line (a "{5}" at the end of a status
// response's text is taken for a literal header), never true for a line
// that is not whole. It reads nothing. A client that decodes a response
// on a goroutine that must not block on the network asks it first.
func (t *Tokenizer) LineBuffered() (ok bool, maxLiteral int64) {
	if t.pend&(pendLit|pendBroken|pendSkip) != 0 || t.pend&pendEOL == 0 && t.r != t.lineStart {
		return false, 0
	}
	if ok, maxLiteral = t.lineBuffered(); ok {
		t.wholeAt = t.base + int64(t.r) + 1
	}
	return ok, maxLiteral
}

// shift moves [lineStart, w) to the front of the buffer. Only call it when
// nothing of the current line has been handed out.
func (t *Tokenizer) shift() {
	t.dropped(t.lineStart)
	n := copy(t.buf, t.buf[t.lineStart:t.w])
	t.base += int64(t.lineStart)
	t.r -= t.lineStart
	t.moveLit()
	t.w = n
	t.lineStart = 0
}

// moveLit moves an open literal's start (litStart) with the buffer when
// the current line moves down to the front, by lineStart: a literal open
// in the line begins at or after lineStart (nothing of the line is given
// up while a literal is open), so it stays where its bytes go.
func (t *Tokenizer) moveLit() {
	if t.pend&pendLit != 0 {
		t.litStart -= t.lineStart
	}
}

// fill reads more bytes into the buffer, making room if needed. It returns
// an error only if no byte was read.
func (t *Tokenizer) fill() error {
	if t.released > 0 {
		t.reacquire() // see Release
	}
	return t.fillMax(len(t.buf))
}

// fillMax is fill reading at most max bytes. Literals use it so that the
// bytes after a literal are not read ahead, which would cost a memmove when
// the literal ends.
func (t *Tokenizer) fillMax(max int) error {
	if t.rerr != nil {
		err := t.rerr
		t.rerr = nil
		return err
	}
	if t.w == len(t.buf) {
		if err := t.makeRoom(); err != nil {
			return err
		}
	}
	end := len(t.buf)
	if max < end-t.w {
		end = t.w + max
	}
	for i := 0; i < 100; i++ {
		n, err := t.rd.Read(t.buf[t.w:end])
		if n < 0 || n > end-t.w {
			return errors.New("wire: reader returned an invalid count")
		}
		t.w += n
		if n > 0 {
			if err != nil && err != io.EOF {
				t.rerr = err
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// makeRoom frees space at the end of a full buffer: by moving the current
// line to the front when none of it was handed out, otherwise by moving it to
// a larger buffer (the old one stays intact for borrowed slices).
func (t *Tokenizer) makeRoom() error {
	if t.dropping {
		t.giveUpConsumed()
	}
	used := t.w - t.lineStart
	// A line of MaxLineLength bytes ends with its CRLF, past the bound
	// (checkLine lets the line end there, as PeekAt does): the buffer
	// must be able to hold those two bytes too. With the defaults it
	// grows by doubling to exactly MaxLineLength, and a line that filled
	// it could not be read to its end.
	if used >= t.maxLine+2 {
		return &LimitError{Offset: t.base + int64(t.w), Limit: int64(t.maxLine), Got: int64(used), Err: ErrLineTooLong}
	}
	if t.lineStart > 0 && t.r == t.lineStart && used < len(t.buf)/2 {
		t.shift()
		return nil
	}
	size := 2 * len(t.buf)
	if size < 2*used {
		size = 2 * used
	}
	if limit := t.maxLine + t.maxString + 4096; size > limit {
		size = limit
	}
	if size <= used {
		size = used + 4096
	}
	t.pinToken()
	t.dropped(t.lineStart)
	nb := make([]byte, size)
	copy(nb, t.buf[t.lineStart:t.w])
	t.buf = nb
	t.base += int64(t.lineStart)
	t.r -= t.lineStart
	t.moveLit()
	t.w = used
	t.lineStart = 0
	return nil
}

// begin prepares a token read: it drains an open literal and starts a new
// line when the previous one ended.
func (t *Tokenizer) begin() error {
	if t.pend != 0 {
		return t.beginSlow()
	}
	return nil
}

func (t *Tokenizer) beginSlow() error {
	if t.pend&pendBroken != 0 {
		return t.broken
	}
	if t.pend&pendSkip != 0 {
		return t.skipPendingErr()
	}
	if t.pend&pendLit != 0 {
		if err := t.drainLiteral(); err != nil {
			return err
		}
	}
	t.prepare()
	if t.pend&pendHead != 0 && t.base+int64(t.r) != t.headOff {
		// A typed method moved on: the caller follows the grammar itself.
		t.pend &^= pendHead
	}
	return nil
}

// peekAt returns the byte at t.r+i, reading more if needed.
func (t *Tokenizer) peekAt(i int) (byte, error) {
	for t.r+i >= t.w {
		if err := t.fill(); err != nil {
			return 0, t.eofErr(err, i)
		}
	}
	return t.buf[t.r+i], nil
}

// eofErr turns io.EOF into io.ErrUnexpectedEOF when a line was started.
func (t *Tokenizer) eofErr(err error, i int) error {
	if err == io.EOF && (i > 0 || t.r > t.lineStart) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// PeekBuffered returns the next byte when it is already buffered and no
// line or literal is pending, without any I/O; ok is false otherwise (then
// call Peek). It exists for the speed of parsers: it is cheap enough to be
// inlined.
func (t *Tokenizer) PeekBuffered() (c byte, ok bool) {
	if t.pend == 0 && t.r < t.w {
		return t.buf[t.r], true
	}
	return 0, false
}

// Peek returns the next byte without consuming it. An open literal is
// drained first.
func (t *Tokenizer) Peek() (byte, error) {
	if t.pend == 0 && t.r < t.w {
		return t.buf[t.r], nil
	}
	return t.peekSlow()
}

func (t *Tokenizer) peekSlow() (byte, error) {
	if err := t.begin(); err != nil {
		return 0, err
	}
	return t.peekAt(0)
}

// PeekAt returns the byte i bytes after the next one without consuming
// anything: PeekAt(0) is Peek. It reads more as needed, and fails with
// ErrLineTooLong (a *LimitError) when the byte lies more than
// MaxLineLength bytes into the line (it would be byte MaxLineLength+1 of
// the line, or later: a line that long fails when read), so that looking
// ahead is bounded as reading is; as reading, it lets a line of
// MaxLineLength bytes end with its CRLF (or a lone LF when lenient),
// returning that CR and LF past the bound. It does not stop at the line's end: a caller that looks for
// something in the line stops at its LF itself, as past it are the next
// line's bytes. A parser that must look ahead before it knows how to read
// a token (how far a malformed quoted string goes) uses it instead of
// Text, which reads the whole rest of the line. An open literal is drained
// first; i must not be negative.
func (t *Tokenizer) PeekAt(i int) (byte, error) {
	if t.pend == 0 && uint(i) < uint(t.w-t.r) && t.r+i-t.lineStart < t.maxLine {
		return t.buf[t.r+i], nil
	}
	return t.peekAtSlow(i)
}

func (t *Tokenizer) peekAtSlow(i int) (byte, error) {
	if i < 0 {
		return 0, errors.New("wire: PeekAt with a negative offset")
	}
	if err := t.begin(); err != nil {
		return 0, err
	}
	// The byte at i is the last of i+1 bytes: a line holding it holds
	// them all (checkLine(i) let the line have one byte more than
	// MaxLineLength). i more than two bytes past the bound is past it
	// whatever was consumed (and i+1 cannot overflow below it).
	if i >= t.maxLine+2 {
		return 0, &LimitError{Offset: t.Offset(), Limit: int64(t.maxLine), Got: int64(t.r-t.lineStart) + int64(i) + 1, Err: ErrLineTooLong}
	}
	err := t.checkLine(i + 1)
	if err == nil {
		return t.peekAt(i)
	}
	// Reading lets a line of MaxLineLength bytes end with its CRLF (CRLF
	// looks at the two bytes past the bound): so does looking ahead.
	if over := t.r + i + 1 - t.lineStart - t.maxLine; over == 1 || over == 2 {
		if t.checkLine(i+1-over) == nil {
			c, perr := t.peekAt(i)
			if perr != nil {
				return 0, perr
			}
			// One byte over: the CR of a line of MaxLineLength bytes,
			// or the LF of one a byte shorter (or a lenient bare LF).
			crlf := c == '\n' && t.r+i > 0 && t.buf[t.r+i-1] == '\r'
			if over == 1 && (c == '\r' || crlf || c == '\n' && t.lenient) ||
				over == 2 && crlf {
				return c, nil
			}
		}
	}
	return 0, err
}

// syntaxErr builds a SyntaxError at t.r+i.
func (t *Tokenizer) syntaxErr(i int, expected string, sentinel error) error {
	end := t.r + i + 16
	if end > t.w {
		end = t.w
	}
	start := t.r + i
	if start > end {
		start = end
	}
	return &SyntaxError{Offset: t.base + int64(t.r+i), Expected: expected, Got: excerpt(t.buf[start:end]), Err: sentinel}
}

// borrow returns buf[i:j] capped, so that an append cannot overwrite the
// buffer.
func (t *Tokenizer) borrow(i, j int) []byte { return t.buf[i:j:j] }

// scan returns the length of the run of bytes at t.r for which set is true,
// reading more as needed. The run ends at a byte outside set; at EOF the
// run ends there too.
func (t *Tokenizer) scan(set *[256]bool) (int, error) {
	i := 0
	for {
		b := t.buf[t.r+i : t.w]
		for _, c := range b {
			if !set[c] {
				return i, nil
			}
			i++
		}
		if err := t.checkLine(i); err != nil {
			return 0, err
		}
		if err := t.fill(); err != nil {
			if err == io.EOF {
				// The run ends at the end of the stream: the next
				// call (or expected, for an empty run) meets the end
				// as io.ErrUnexpectedEOF. The proxy's relay traces a
				// line cut there whole (cmd/imapkit
				// TestProxyCutLineTraced).
				return i, nil
			}
			return 0, err
		}
	}
}

// checkLine fails when consuming n more bytes would make the current line
// longer than MaxLineLength.
func (t *Tokenizer) checkLine(n int) error {
	if used := t.r + n - t.lineStart; used > t.maxLine {
		if t.dropping && t.giveUpConsumed() {
			// After Drop, what was consumed is given up here too, not
			// only when the buffer is full: a buffer grown past the
			// line bound by an earlier line holds more than it.
			return t.checkLine(n)
		}
		return &LimitError{Offset: t.Offset(), Limit: int64(t.maxLine), Got: int64(used), Err: ErrLineTooLong}
	}
	return nil
}

// SP consumes one space. Runs of spaces are accepted as one (a tolerance:
// several servers send two).
func (t *Tokenizer) SP() error {
	if err := t.begin(); err != nil {
		return err
	}
	if r := t.r; r < t.w && t.buf[r] == ' ' {
		r++
		for r < t.w && t.buf[r] == ' ' {
			r++
		}
		if r < t.w {
			t.r = r
			return nil
		}
	}
	n, err := t.scan(&spaceSet)
	if err != nil {
		return err
	}
	if n == 0 {
		return t.expected(0, "SP")
	}
	t.r += n
	return nil
}

// expected returns a syntax error for the byte at t.r+i, reading it first if
// needed so that the message can show it.
func (t *Tokenizer) expected(i int, what string) error {
	if t.r+i >= t.w {
		if _, err := t.peekAt(i); err != nil {
			// The read's error, EOF too (io.ErrUnexpectedEOF within a
			// line): not a *SyntaxError "got EOF".
			return err
		}
	}
	return t.syntaxErr(i, what, nil)
}

// CRLF consumes the end of the line. Spaces before it are skipped (a
// tolerance: Outlook and qq.com end some lines with a space). A bare LF is
// accepted only with TokenizerOptions.LenientLineEnds. After CRLF returns, bytes
// borrowed from the line stay valid until the next line is read.
func (t *Tokenizer) CRLF() error {
	if err := t.begin(); err != nil {
		return err
	}
	if r := t.r; r+1 < t.w && t.buf[r] == '\r' && t.buf[r+1] == '\n' && r-t.lineStart <= t.maxLine {
		t.r = r + 2
		t.pend |= pendEOL
		t.depth = 0
		return nil
	}
	n, err := t.scan(&spaceSet)
	if err != nil {
		return err
	}
	// The line ends here: what it consumed must be within the bound
	// (its CRLF not counted). The methods that consume a special or a
	// run of spaces already buffered do not check it, and the buffer
	// holds up to two bytes more than the bound (makeRoom), so that
	// the line's last bytes are checked here, where every line ends.
	if err := t.checkLine(n); err != nil {
		return err
	}
	c, err := t.peekAt(n)
	if err != nil {
		return err
	}
	switch {
	case c == '\r':
		c2, err := t.peekAt(n + 1)
		if err != nil {
			return err
		}
		if c2 != '\n' {
			return t.syntaxErr(n+1, "LF after CR", nil)
		}
		t.r += n + 2
	case c == '\n' && t.lenient:
		t.r += n + 1
	default:
		return t.syntaxErr(n, "CRLF", nil)
	}
	t.pend |= pendEOL
	t.depth = 0
	return nil
}

// AtEOL reports whether the next bytes (after optional spaces) end the line,
// without consuming anything.
func (t *Tokenizer) AtEOL() (bool, error) {
	if err := t.begin(); err != nil {
		return false, err
	}
	if t.r < t.w {
		switch t.buf[t.r] {
		case '\r':
			return true, nil
		case ' ', '\n':
		default:
			return false, nil
		}
	}
	n, err := t.scan(&spaceSet)
	if err != nil {
		return false, err
	}
	c, err := t.peekAt(n)
	if err != nil {
		return false, err
	}
	return c == '\r' || (c == '\n' && t.lenient), nil
}

// Expect consumes the special byte c: one of ( ) [ ] < > * + . : or any
// other byte the grammar calls for. ( and [ count toward MaxDepth.
func (t *Tokenizer) Expect(c byte) error {
	if err := t.begin(); err != nil {
		return err
	}
	if t.r < t.w && t.buf[t.r] == c && c != '(' && c != '[' {
		if c == ')' || c == ']' {
			if t.depth > 0 {
				t.depth--
			}
		}
		t.r++
		return nil
	}
	got, err := t.peekAt(0)
	if err != nil {
		return err
	}
	if got != c {
		return t.syntaxErr(0, quoteByte(c), nil)
	}
	return t.consumeSpecial(c)
}

func (t *Tokenizer) consumeSpecial(c byte) error {
	switch c {
	case '(', '[':
		if t.depth >= int(t.maxDepth) {
			return &LimitError{Offset: t.Offset(), Limit: int64(t.maxDepth), Got: int64(t.depth + 1), Err: ErrTooDeep}
		}
		t.depth++
	case ')', ']':
		if t.depth > 0 {
			t.depth--
		}
	}
	t.r++
	return nil
}

// Accept consumes c if it is the next byte and reports whether it did.
func (t *Tokenizer) Accept(c byte) (bool, error) {
	if err := t.begin(); err != nil {
		return false, err
	}
	if t.r < t.w && t.buf[t.r] != c {
		return false, nil
	}
	got, err := t.peekAt(0)
	if err != nil {
		return false, err
	}
	if got != c {
		return false, nil
	}
	return true, t.consumeSpecial(c)
}

// quoteByte names the byte c for an error message (printable.QuoteChar:
// a byte over 0x7f, no character by itself, in hex).
func quoteByte(c byte) string { return printable.QuoteChar(string([]byte{c})) }

// Atom reads an atom: a run of ATOM-CHARs (RFC 9051) that stops at '['
// too, so that BODY[...] and response codes split where the grammar needs.
// The bytes are valid until the next line is read.
//
// A run the end of the stream cuts ("ab" and then the end) is returned as
// it is, and the next call meets the end (io.ErrUnexpectedEOF): where the
// grammar needs more (SP, CRLF, ')'), the cut is found there. So do Flag,
// SeqSet, Number, AString's atom and Next. A run cannot know that it was
// cut (an atom may end the stream), and a relay that forwards what it read
// (Forward: the proxy traces a cut line's bytes so) needs the bytes
// consumed. Only NIL is told from a cut: see NString.
func (t *Tokenizer) Atom() ([]byte, error) {
	return t.run(&atomSet, "atom")
}

// Tag reads a tagged response's tag: RFC 9051's tag, 1*<any ASTRING-CHAR
// except "+">, ATOM-CHARs and ']' ("a]1" as a server or a proxy may echo
// a client's tag), '[' included. A '+' after the first byte is read as
// part of the tag (a tolerance, as Atom reads it); a line that begins with
// '+' is a continuation request, the caller's to tell. Bytes over 0x7f end
// the tag. The bytes are valid until the next line is read; a run the end
// of the stream cuts is returned as Atom returns one.
func (t *Tokenizer) Tag() ([]byte, error) {
	return t.run(&tagSet, "tag")
}

// Flag reads a flag or keyword: an optional '\' followed by atom bytes, '*'
// for \*, and '[' and ']' anywhere (a tolerance: Gmail sends keywords such as
// $Label[test]). The bytes are valid until the next line is read.
func (t *Tokenizer) Flag() ([]byte, error) {
	return t.run(&flagSet, "flag")
}

// SeqSet reads the bytes of a sequence set (digits, ':', ',' and '*')
// without interpreting them. The bytes are valid until the next line is read.
func (t *Tokenizer) SeqSet() ([]byte, error) {
	return t.run(&seqSetSet, "sequence set")
}

func (t *Tokenizer) run(set *[256]bool, what string) ([]byte, error) {
	if err := t.begin(); err != nil {
		return nil, err
	}
	r := t.r
	for r < t.w && set[t.buf[r]] {
		r++
	}
	if r < t.w && r > t.r && r-t.lineStart <= t.maxLine {
		b := t.buf[t.r:r:r]
		t.r = r
		return b, nil
	}
	n, err := t.scan(set)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, t.expected(0, what)
	}
	if err := t.checkLine(n); err != nil {
		return nil, err
	}
	b := t.borrow(t.r, t.r+n)
	t.r += n
	return b, nil
}

// Number reads an unsigned decimal number of up to 64 bits.
func (t *Tokenizer) Number() (uint64, error) {
	if err := t.begin(); err != nil {
		return 0, err
	}
	// The buffered bytes in a local slice: the loop reads no field of t
	// (under -race each such read is instrumented, and took most of a
	// SEARCH's decoding).
	b := t.buf[t.r:t.w]
	var v uint64
	i := 0
	for i < len(b) && i < 19 {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
		i++
	}
	if i < len(b) && i > 0 && i < 19 {
		t.r += i
		return v, nil
	}
	n, err := t.scan(&digitSet)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, t.expected(0, "number")
	}
	v, ok := parseUint(t.buf[t.r : t.r+n])
	if !ok {
		return 0, t.syntaxErr(0, "number", ErrNumberOverflow)
	}
	t.r += n
	return v, nil
}

// parseUint parses decimal digits; ok is false on overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) < 20 {
		var v uint64
		for _, c := range b {
			v = v*10 + uint64(c-'0')
		}
		return v, true
	}
	var v uint64
	for _, c := range b {
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// Text reads the rest of the line up to, not including, its CRLF: the
// resp-text of a status response. It may be empty. The bytes are valid until
// the next line is read.
func (t *Tokenizer) Text() ([]byte, error) {
	if err := t.begin(); err != nil {
		return nil, err
	}
	i := 0
	for {
		if k := bytes.IndexByte(t.buf[t.r+i:t.w], '\n'); k >= 0 {
			i += k
			break
		}
		i = t.w - t.r
		// The last byte read may be the line's CR, not counted.
		if err := t.checkLine(max(i-1, 0)); err != nil {
			return nil, err
		}
		if err := t.fill(); err != nil {
			return nil, t.eofErr(err, i)
		}
	}
	end := t.r + i
	if end > t.r && t.buf[end-1] == '\r' {
		end--
	} else if !t.lenient {
		if err := t.checkLine(i); err != nil {
			return nil, err
		}
		return nil, t.syntaxErr(i, "CRLF", nil)
	}
	if err := t.checkLine(end - t.r); err != nil {
		return nil, err
	}
	b := t.borrow(t.r, end)
	t.r = end
	return b, nil
}

// Quoted reads a quoted string and returns its content with the escapes \"
// and \\ removed. Bytes with the high bit set are accepted (a tolerance:
// some servers send raw 8-bit text; UTF-8 mode needs them anyway). The bytes
// are valid until the next line is read.
func (t *Tokenizer) Quoted() ([]byte, error) {
	if t.pend == 0 && t.r < t.w && t.buf[t.r] == '"' {
		return t.quoted()
	}
	if err := t.begin(); err != nil {
		return nil, err
	}
	c, err := t.peekAt(0)
	if err != nil {
		return nil, err
	}
	if c != '"' {
		return nil, t.syntaxErr(0, "quoted string", nil)
	}
	return t.quoted()
}

// quoted reads a quoted string whose opening quote is at t.r.
func (t *Tokenizer) quoted() ([]byte, error) {
	if r := t.r + 1; r < t.w {
		if buf := t.buf[:t.w]; r+8 <= len(buf) {
			// quotedStop's first step, inline (see appendFast).
			if m := quotedMask(binary.LittleEndian.Uint64(buf[r:])); m != 0 {
				r += bits.TrailingZeros64(m) / 8
			} else {
				r = quotedStop(buf, r+8)
			}
		} else {
			r = quotedStop(buf, r)
		}
		if r < t.w && t.buf[r] == '"' && r+1-t.lineStart <= t.maxLine {
			b := t.buf[t.r+1 : r : r]
			t.r = r + 1
			return b, nil
		}
	}
	i := 1
	for {
		b := t.buf[t.r+i : t.w]
		q := bytes.IndexByte(b, '"')
		if q >= 0 {
			s := t.buf[t.r+1 : t.r+i+q]
			if bytes.IndexByte(s, '\\') < 0 {
				if bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
					return nil, t.syntaxErr(0, "closing '\"'", nil)
				}
				end := t.r + i + q
				if err := t.checkLine(i + q + 1); err != nil {
					return nil, err
				}
				out := t.borrow(t.r+1, end)
				t.r = end + 1
				return out, nil
			}
			return t.quotedEscaped()
		}
		if bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') >= 0 {
			// No quoted string holds a CR or an LF: the bytes seen are
			// malformed whatever follows, the end of the stream too
			// (a syntax error, not the cut: "\"ab\r" and then the end).
			return nil, t.syntaxErr(0, "closing '\"'", nil)
		}
		i = t.w - t.r
		if err := t.checkLine(i); err != nil {
			return nil, err
		}
		if err := t.fill(); err != nil {
			return nil, t.eofErr(err, i)
		}
	}
}

// quotedEscaped handles a quoted string with backslashes: the whole string
// must be buffered; the unescaped bytes go to the line's scratch space.
func (t *Tokenizer) quotedEscaped() ([]byte, error) {
	i := 1
	start := len(t.scratch)
	for {
		if t.r+i >= t.w {
			err := t.checkLine(i)
			if err == nil {
				err = t.fill()
			}
			if err != nil {
				t.scratch = t.scratch[:start]
				return nil, t.eofErr(err, i)
			}
			continue
		}
		c := t.buf[t.r+i]
		switch c {
		case '"':
			t.r += i + 1
			s := t.scratch[start:len(t.scratch):len(t.scratch)]
			return s, nil
		case '\\':
			if t.r+i+1 >= t.w {
				if err := t.fill(); err != nil {
					t.scratch = t.scratch[:start]
					return nil, t.eofErr(err, i)
				}
				continue
			}
			e := t.buf[t.r+i+1]
			if e != '"' && e != '\\' {
				t.scratch = t.scratch[:start]
				return nil, t.syntaxErr(i+1, `'"' or '\' after '\'`, nil)
			}
			t.scratch = append(t.scratch, e)
			i += 2
		case '\r', '\n':
			t.scratch = t.scratch[:start]
			return nil, t.syntaxErr(i, "closing '\"'", nil)
		default:
			t.scratch = append(t.scratch, c)
			i++
		}
	}
}

// Literal reads a literal header, {n}, {n+} or ~{n} and its CRLF, and
// leaves the literal open: read its bytes with LiteralBytes or LiteralReader.
// An open literal that is not read is skipped by the next call. The
// announced size is checked against MaxLiteral and never used to allocate.
func (t *Tokenizer) Literal() (LiteralInfo, error) {
	if err := t.begin(); err != nil {
		return LiteralInfo{}, err
	}
	return t.literalHeader()
}

func (t *Tokenizer) literalHeader() (LiteralInfo, error) {
	if info, n := literalHeaderBuffered(t.buf[t.r:t.w]); n > 0 && info.Size <= t.maxLiteral {
		t.r += n
		t.pend |= pendLit
		t.litRemain = info.Size
		t.litStart = t.r
		return info, nil
	}
	var info LiteralInfo
	i := 0
	c, err := t.peekAt(0)
	if err != nil {
		return info, err
	}
	if c == '~' {
		info.Binary = true
		i++
		if c, err = t.peekAt(i); err != nil {
			return info, err
		}
	}
	if c != '{' {
		return info, t.syntaxErr(i, "literal", nil)
	}
	i++
	digits := 0
	var size uint64
	for {
		c, err = t.peekAt(i)
		if err != nil {
			return info, err
		}
		if c < '0' || c > '9' {
			break
		}
		if digits >= 19 {
			// 19 digits may already pass int64: no literal that large
			// is ever accepted (MaxLiteral is an int64).
			return info, t.syntaxErr(i, "literal size", ErrNumberOverflow)
		}
		size = size*10 + uint64(c-'0')
		digits++
		i++
	}
	if digits == 0 {
		return info, t.syntaxErr(i, "literal size", nil)
	}
	if c == '+' {
		info.NonSync = true
		i++
		if c, err = t.peekAt(i); err != nil {
			return info, err
		}
	}
	if c != '}' {
		return info, t.syntaxErr(i, "'}'", nil)
	}
	i++
	if c, err = t.peekAt(i); err != nil {
		return info, err
	}
	switch {
	case c == '\r':
		if c, err = t.peekAt(i + 1); err != nil {
			return info, err
		}
		if c != '\n' {
			return info, t.syntaxErr(i+1, "LF after CR", nil)
		}
		i += 2
	case c == '\n' && t.lenient:
		i++
	default:
		return info, t.syntaxErr(i, "CRLF after literal header", nil)
	}
	// Compare as unsigned before converting: 19 digits can exceed int64,
	// and a size that wrapped negative would pass the check.
	if size > uint64(t.maxLiteral) {
		info.Size = saturate(size)
		return info, &LimitError{Offset: t.Offset(), Limit: t.maxLiteral, Got: info.Size, Err: ErrLiteralTooLarge}
	}
	info.Size = int64(size)
	t.r += i
	t.pend |= pendLit
	t.litRemain = info.Size
	t.litStart = t.r
	return info, nil
}

// literalHeaderBuffered parses a well-formed literal header and its CRLF
// at the start of b ({n}, {n+}, ~{n} with up to 18 digits) and returns it
// with its length in bytes; n is 0 for anything else (cut short, bare LF,
// too many digits, malformed), which literalHeader's general path reads
// and reports.
func literalHeaderBuffered(b []byte) (info LiteralInfo, n int) {
	i := 0
	if len(b) > 0 && b[0] == '~' {
		info.Binary = true
		i++
	}
	if i >= len(b) || b[i] != '{' {
		return info, 0
	}
	i++
	start := i
	var size int64
	for i < len(b) && b[i]-'0' < 10 && i-start < 18 {
		size = size*10 + int64(b[i]-'0')
		i++
	}
	if i == start {
		return info, 0
	}
	if i < len(b) && b[i] == '+' {
		info.NonSync = true
		i++
	}
	if len(b)-i < 3 || b[i] != '}' || b[i+1] != '\r' || b[i+2] != '\n' {
		return info, 0
	}
	info.Size = size
	return info, i + 3
}

// LiteralBytes returns the whole body of the open literal. It fails with
// ErrStringTooLarge (consuming nothing) when the literal is larger than
// MaxStringLiteral. The bytes are valid until the next line is read.
func (t *Tokenizer) LiteralBytes() ([]byte, error) {
	if err := t.openLit(); err != nil {
		return nil, err
	}
	n := t.litRemain
	if n > int64(t.maxString) {
		return nil, &LimitError{Offset: t.Offset(), Limit: int64(t.maxString), Got: n, Err: ErrStringTooLarge}
	}
	if err := t.checkLine(int(n)); err != nil {
		return nil, err
	}
	for int64(t.w-t.r) < n {
		if err := t.fill(); err != nil {
			return nil, t.eofErr(err, 1)
		}
	}
	b := t.borrow(t.r, t.r+int(n))
	t.r += int(n)
	t.pend &^= pendLit
	t.litRemain = 0
	return b, nil
}

// LiteralReader returns the body of the open literal as a reader bounded to
// its size. The reader is valid until the next call to a Tokenizer method;
// whatever the caller leaves unread is skipped then. Reading it does not
// allocate, and large reads bypass the tokenizer's buffer.
func (t *Tokenizer) LiteralReader() (io.Reader, error) {
	if err := t.openLit(); err != nil {
		return nil, err
	}
	t.gen++ // the literal's bytes leave the buffer: marks cannot replay them
	return (*literalReader)(t), nil
}

// RefuseLiteral ends the open literal without its body, and the line with
// it: the next call reads a new line. It is for a proxy relaying a client
// whose synchronizing literal the server refused (Dialog.WaitContinuation
// reported a tagged NO or BAD where "+" would let the body come): the
// client never sends that body, and its next bytes are a new command. Call
// it after forwarding the header and before reading any of the body. It
// fails with ErrLiteralPending when no literal is open.
func (t *Tokenizer) RefuseLiteral() error {
	if err := t.openLit(); err != nil {
		return err
	}
	t.closeLiteral()
	t.pend |= pendEOL
	t.gen++
	return nil
}

// literalReader streams the open literal: the tokenizer itself, typed so
// that LiteralReader hands it out without allocating or a field for it.
type literalReader Tokenizer

// Read implements io.Reader.
func (l *literalReader) Read(p []byte) (int, error) {
	t := (*Tokenizer)(l)
	if t.pend&pendBroken != 0 {
		return 0, t.broken // a failed splice lost the literal's place
	}
	if t.pend&pendLit == 0 || t.litRemain == 0 {
		t.closeLiteral()
		return 0, io.EOF
	}
	if int64(len(p)) > t.litRemain {
		p = p[:t.litRemain]
	}
	var n int
	var err error
	if t.r < t.w {
		n = copy(p, t.buf[t.r:t.w])
		t.r += n
	} else if t.rerr != nil {
		err, t.rerr = t.rerr, nil
	} else if len(p) >= 4096 {
		// Bypass the buffer: the bytes go straight to p. Offset must still
		// count them.
		n, err = t.rd.Read(p)
		if n > 0 {
			t.removed(int64(n), true)
		}
	} else if err = t.fillMax(clampInt(t.litRemain)); err == nil {
		n = copy(p, t.buf[t.r:t.w])
		t.r += n
	}
	t.litRemain -= int64(n)
	t.reclaim(true)
	if t.litRemain == 0 {
		t.closeLiteral()
		if err == io.EOF {
			err = nil
		}
	} else if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// WriteTo implements io.WriterTo, so io.Copy moves a literal with one copy
// per byte: from the connection into the tokenizer's buffer, then straight
// to w.
func (l *literalReader) WriteTo(w io.Writer) (int64, error) {
	t := (*Tokenizer)(l)
	if t.pend&pendBroken != 0 {
		return 0, t.broken // as Read: a failed splice lost the literal's place
	}
	var total int64
	for t.pend&pendLit != 0 && t.litRemain > 0 {
		if t.r == t.w && t.rerr == nil {
			if rf, ok := w.(io.ReaderFrom); ok && spliceSeen(t.rd, rf) {
				// Nothing buffered: let w read the rest straight from the
				// connection, as io.Copy would without us in between.
				return l.readFrom(rf, total)
			}
		}
		if t.r == t.w {
			if err := t.fillMax(clampInt(t.litRemain)); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return total, err
			}
		}
		n := t.w - t.r
		if int64(n) > t.litRemain {
			n = int(t.litRemain)
		}
		m, err := w.Write(t.buf[t.r : t.r+n])
		t.keepLost(w, err)
		if m < 0 || m > n {
			m = 0
			if err == nil {
				err = errors.New("wire: writer returned an invalid count")
			}
		}
		t.r += m
		t.litRemain -= int64(m)
		total += int64(m)
		t.reclaim(true)
		if err == nil && m < n {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
	t.closeLiteral()
	return total, nil
}

// readFrom is WriteTo's rest of the open literal when nothing is
// buffered: rf reads it straight from the connection. The limiter's
// count moves the stream on; it is what left the connection unless rf
// read bytes it neither wrote nor counted. A ReadFrom built on io.Copy
// reports what it wrote, and drops the rest of a chunk it read: a count
// other than the limiter's. The kernel's splice does not tell: a
// *net.TCPConn (or *os.File) reading from a connection (a syscall.Conn)
// drains it into a pipe and writes from there, and when the write fails
// (a write deadline) the pipe's bytes are thrown away while the limiter
// counts only what was written. So where rf may splice from the source
// (maySplice), a ReadFrom that fails before the body's end is taken for
// one that lost bytes (a read deadline too: the error does not say which
// side failed), and where the connection is is no longer known: the
// caller gets rf's error now, and every later call (a resumed forward,
// the literal's reader read again, Next) fails with an error matching
// ErrOutOfStep and ErrForwardGap: close the connection. Elsewhere a count
// other than the limiter's is a gap the forwarding position cannot cross
// (ErrForwardGap): a resumed forward fails rather than relay the stream
// with bytes missing. A ReadFrom that succeeds, the splice included,
// loses nothing. total is what WriteTo copied before.
func (l *literalReader) readFrom(rf io.ReaderFrom, total int64) (int64, error) {
	t := (*Tokenizer)(l)
	t.lr = io.LimitedReader{R: t.rd, N: t.litRemain}
	bw := bufioWriter(rf)
	failedBefore := bw != nil && bufioErr(bw) != nil
	n, err := rf.ReadFrom(&t.lr)
	t.lr.R = nil
	taken := t.litRemain - t.lr.N
	if taken > 0 {
		t.removed(taken, true)
	}
	t.litRemain -= taken
	total += taken
	if err != nil && t.litRemain > 0 && maySplice(t.rd, rf, failedBefore) {
		// Where the connection is now is not known: bytes may have
		// gone into the splice's pipe uncounted. Every later call,
		// the literal's reader too, fails (ErrOutOfStep).
		t.fwdLost = true
		t.breakStream(ErrForwardGap)
		return total, err
	}
	if n != taken {
		t.fwdLost = true
		if err == nil {
			err = ErrForwardGap
		}
	}
	if t.litRemain == 0 {
		t.closeLiteral()
		return total, err
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return total, err
}

// maySplice reports whether rf's ReadFrom may splice from r, draining
// the connection into a pipe and losing what the pipe held when the
// write fails (see readFrom). The kernel splices from a socket (a
// syscall.Conn; a file or pipe, *os.File, never) into a writer that is
// itself a descriptor (net's spliceFrom: *net.TCPConn, *net.UnixConn;
// os.File's spliceToFile), or a wrapper promoting one's methods (a
// syscall.Conn too). A *bufio.Writer (or a *bufio.ReadWriter, which
// promotes its Writer's ReadFrom) hands its ReadFrom to its target
// when its buffer is empty and the target has one, and its target cannot
// be seen; but the target's error is the bufio.Writer's own from then on
// (bufio keeps it: every later call returns it), while one from reading
// into its buffer is not kept (bytes it read are in its buffer, counted).
// So a bufio.Writer that failed in the call, having had no error before
// it (failedBefore: it then read nothing), may have spliced; one that
// has no error after it read through the limiter (a read deadline as it
// filled its buffer: resumable). Any other writer (a bytes.Buffer, a
// *tls.Conn) reads through the limiter and counts what it took.
func maySplice(r io.Reader, rf io.ReaderFrom, failedBefore bool) bool {
	if !spliceSource(r) {
		return false
	}
	if _, ok := rf.(syscall.Conn); ok {
		return true
	}
	if bw := bufioWriter(rf); bw != nil {
		return !failedBefore && bufioErr(bw) != nil
	}
	return false
}

// spliceSource reports whether a ReadFrom may splice from r: a socket
// (a syscall.Conn that is not an *os.File; see maySplice).
func spliceSource(r io.Reader) bool {
	if _, ok := r.(syscall.Conn); !ok {
		return false
	}
	_, ok := r.(*os.File)
	return !ok
}

// spliceSeen reports whether WriteTo may hand the rest of a body read
// from r to rf's ReadFrom: r is no socket (nothing splices from it), or
// rf is a writer whose splice maySplice sees (a syscall.Conn; a
// *bufio.Writer or a *bufio.ReadWriter, which keeps its target's error)
// or one that never splices (a *bytes.Buffer, io.Discard). Any other
// type may splice unseen: one that embeds a *bufio.Writer (whose ReadFrom
// it promotes) or whose own ReadFrom hands the body to a bufio.Writer's
// or a *net.TCPConn's; a write deadline in that splice threw away what
// the pipe held, counted by neither the limiter nor the ReadFrom, and a
// resumed forward took the next line's bytes for the body, silently. Its
// Write takes the body from the tokenizer's buffer instead, counted.
func spliceSeen(r io.Reader, rf io.ReaderFrom) bool {
	if !spliceSource(r) {
		return true
	}
	switch rf.(type) {
	case syscall.Conn, *bufio.Writer, *bufio.ReadWriter, *bytes.Buffer:
		return true
	}
	return any(rf) == any(io.Discard)
}

// bufioWriter is the *bufio.Writer whose Write, Flush and ReadFrom w's
// are: w itself, or a *bufio.ReadWriter's Writer (it promotes its
// methods: an http.Hijacker's, net/textproto's), else nil.
func bufioWriter(w any) *bufio.Writer {
	switch w := w.(type) {
	case *bufio.Writer:
		return w
	case *bufio.ReadWriter:
		return w.Writer
	}
	return nil
}

// keepLost marks the forwarding position lost (fwdLost: every later
// forward fails with ErrForwardGap) when err, w's error in a forwarding
// call (a write, or a flush), left bytes w had taken in a *bufio.Writer
// (bufioWriter): bufio keeps the error for every later call and drops
// what it holds on Reset, so no writer ever sends those bytes, which the
// tokenizer counted forwarded when w took them (this call's, or an
// earlier one's still buffered). A relay that resumed through a new
// writer relayed the stream with them missing, silently. It returns err.
func (t *Tokenizer) keepLost(w any, err error) error {
	if err != nil {
		if bw := bufioWriter(w); bw != nil && bw.Buffered() > 0 {
			t.fwdLost = true
		}
	}
	return err
}

// bufioErr is the error bw keeps (a write that failed, or its target's
// ReadFrom's), which every later call returns: Write(nil) returns it
// and changes nothing.
func bufioErr(bw *bufio.Writer) error {
	_, err := bw.Write(nil)
	return err
}

// saturate converts an announced size to int64, clamping at the maximum.
func saturate(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// clampInt converts a literal's remaining size to an int read size.
func clampInt(n int64) int {
	if n > 1<<30 {
		return 1 << 30
	}
	return int(n)
}

// closeLiteral ends the open literal.
func (t *Tokenizer) closeLiteral() {
	t.pend &^= pendLit
	t.litRemain = 0
}

// reclaim gives back the buffer room of literal bytes that were streamed out
// (copied to the caller or skipped): the bytes after them move down to where
// the literal began. Nothing there was handed out, so no borrowed slice is
// touched; marks were invalidated when streaming began.
//
// streamed tells a body handed to the caller (who forwards it itself, see
// Forward) from one skipped.
func (t *Tokenizer) reclaim(streamed bool) {
	if t.r == t.litStart {
		return
	}
	n := copy(t.buf[t.litStart:], t.buf[t.r:t.w])
	t.removed(int64(t.r-t.litStart), streamed)
	t.w = t.litStart + n
	t.r = t.litStart
}

// removed accounts for n bytes of the open literal's body that left the
// stream at buffer index litStart without staying in the buffer: the
// offsets of the bytes after them move down by n.
func (t *Tokenizer) removed(n int64, streamed bool) {
	start := t.base + int64(t.litStart)
	switch {
	case streamed && t.fwdOff == start:
		// Everything before the body was forwarded; the caller has the body.
		t.fwdOff += n
	case t.fwdOff <= start:
		t.fwdLost = true
	}
	t.base += n
	t.lineCut = true
	if d := t.litStart - t.lineStart; d >= 0 && d <= math.MaxInt32 {
		t.heldFrom = int32(d)
	} else {
		t.heldFrom = -1
	}
}

// drainLiteral skips what is left of the open literal.
func (t *Tokenizer) drainLiteral() error {
	for t.litRemain > 0 {
		if t.r == t.w {
			if err := t.fillMax(clampInt(t.litRemain)); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		n := int64(t.w - t.r)
		if n > t.litRemain {
			n = t.litRemain
		}
		t.r += int(n)
		t.litRemain -= n
		t.reclaim(false)
	}
	t.pend &^= pendLit
	t.gen++
	return nil
}

// SkipLine consumes the rest of the current line, literals included,
// without keeping it: after an error a caller uses it to get back in step
// with the stream. It keeps nothing in memory, but it gives up rather than
// drain without end: when the line goes on past MaxLineLength bytes
// (literals not counted), or announces a literal over MaxLiteral, the
// stream cannot be brought back in step within the limits. SkipLine then
// fails with an error matching ErrOutOfStep (and the limit's sentinel), and
// so does every later call: the connection must be closed. So it does
// too on a line that stopped inside a status response's code and reaches
// a literal's header at the end of its first part with no ']' closing the
// code before it (as ForwardLine). A literal's header is found however
// the reads cut the line and however long it is: a size with leading
// zeros (which Next refuses past 19 digits, ErrNumberOverflow) is the
// number it spells, as a server reads it, and one past int64 is over
// MaxLiteral. After a read error (a deadline) it is called again to
// resume; until then other calls fail with ErrSkipPending. It may also
// resume an interrupted ForwardLine (the rest is then not relayed), never
// an interrupted RefuseLine. The end of the stream is io.EOF where no
// byte of a line came (after a line's end: nothing is pending, and Next
// returns io.EOF too), io.ErrUnexpectedEOF inside a line; so it is for
// ForwardLine, ForwardLongLine and RefuseLine.
func (t *Tokenizer) SkipLine() error { return t.skipLine(nil, false, int64(t.maxLine), -1) }

// skipLine is SkipLine; with w non-nil it is ForwardLine: every byte is
// written to w before it is given up. With refuse, a synchronizing
// literal's header ends the line (RefuseLine). lineLimit bounds the line's
// bytes outside literals (MaxLineLength but for ForwardLongLine);
// totalLimit, unless negative, the bytes it reads, literal bodies
// included (RefuseLineMax), a literal checked before its body is read.
func (t *Tokenizer) skipLine(w io.Writer, refuse bool, lineLimit, totalLimit int64) error {
	_, err := t.skipLineWaits(w, refuse, lineLimit, totalLimit)
	return err
}

// errRefusedAtSync is skipLineOn's word, refusing, that it ended the line
// at a synchronizing literal's header; skipLineWaits returns it as waits.
var errRefusedAtSync = errors.New("wire: refused at a synchronizing literal")

// skipLineWaits is skipLine; waits reports, with refuse, that the line
// ended at a synchronizing literal's header (RefuseLineWaits).
func (t *Tokenizer) skipLineWaits(w io.Writer, refuse bool, lineLimit, totalLimit int64) (waits bool, err error) {
	kind := uint8(skipKindSkip)
	switch {
	case refuse:
		kind = skipKindRefuse
	case w != nil:
		kind = skipKindForward
	}
	if t.pend&pendSkip != 0 {
		// A skip of the line was interrupted: only a call that frames
		// it alike resumes it. SkipLine frames a line as ForwardLine
		// does, and may give up one being forwarded (the rest is not
		// relayed: Forward then fails with ErrForwardGap); a refused
		// line is never forwarded or skipped (a synchronizing literal's
		// header ends it, where they would wait for its body), nor a
		// skipped one forwarded.
		if got := t.skipKind &^ skipEnded; got != kind && (kind != skipKindSkip || got != skipKindForward) {
			return false, t.skipPendingErr()
		}
		t.pend &^= pendSkip
		t.skipKind = 0
	}
	// totalLimit counts from where the first call of the line began: a
	// resumed one goes on with what those before it read (skipRead).
	from := t.Offset() - t.skipRead
	t.skipRead = 0
	err = t.skipLineOn(w, lineLimit, totalLimit, from, refuse)
	if err == errRefusedAtSync {
		return true, nil
	}
	if err != nil && t.pend&pendBroken == 0 && t.skipBegun() {
		// The line stays this call's until it is resumed (ErrSkipPending).
		t.pend |= pendSkip
		t.skipKind = kind
		if totalLimit >= 0 {
			t.skipRead = t.Offset() - from
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			t.skipKind |= skipEnded
		}
	}
	return false, err
}

// skipBegun reports whether an interrupted skip of the line had begun
// it: consumed or given up some of it (skipLineLen), read bytes of it
// it did not consume, or left a literal open. One interrupted before a
// byte of the line came (a relay's idle deadline between two lines, or
// a writer failing as it relayed the last line's rest or flushed) took
// nothing of it: the tokenizer is as the call found it, and any call may
// read on (no ErrSkipPending). What the last line left unforwarded
// stays before lineStart: Forward or a resumed ForwardLine relays it,
// and once it leaves the buffer Forward fails (ErrForwardGap).
func (t *Tokenizer) skipBegun() bool {
	return t.r != t.w || t.r != t.lineStart || t.skipLineLen != 0 || t.pend&pendLit != 0
}

// openLit checks that a literal is open for a call that reads or ends
// it (LiteralBytes, LiteralReader, RefuseLiteral, ForwardLiteral): one
// test of pend where a broken stream, a skip pending and no literal are
// all errors. begin's slow path does not serve: it drains the open
// literal.
func (t *Tokenizer) openLit() error {
	if t.pend&(pendLit|pendSkip|pendBroken) != pendLit {
		return t.openLitErr()
	}
	return nil
}

// openLitErr is openLit's error: the stream's once it is out of step
// (pendBroken: every call fails with it), ErrSkipPending (or io.EOF)
// while an interrupted skip of the line waits, else ErrLiteralPending.
func (t *Tokenizer) openLitErr() error {
	if t.pend&pendBroken != 0 {
		return t.broken
	}
	if t.pend&pendSkip != 0 {
		return t.skipPendingErr()
	}
	return ErrLiteralPending
}

// skipPendingErr is the error of a call made while an interrupted skip of
// the line waits to be resumed: ErrSkipPending, or io.EOF once the end of
// the stream interrupted it (a reader's loop ends there as it would).
func (t *Tokenizer) skipPendingErr() error {
	if t.skipKind&skipEnded != 0 {
		return io.EOF
	}
	return ErrSkipPending
}

// skipLineOn is skipLine once the line is the call's; totalLimit counts
// from the stream offset from.
func (t *Tokenizer) skipLineOn(w io.Writer, lineLimit, totalLimit, from int64, refuse bool) error {
	if w != nil && t.pend&(pendLit|pendBroken) == pendLit {
		// A literal is open (a forward its writer or reader interrupted
		// in the body, or a caller's Literal): it is relayed from its
		// first byte not forwarded, as ForwardLiteral does, rather than
		// drained (which loses what did not leave, ErrForwardGap).
		if _, err := t.ForwardLiteral(w); err != nil {
			return err
		}
	}
	if err := t.begin(); err != nil {
		return err
	}
	// A forward its writer interrupted may have relayed part of the line
	// past what was consumed (forwardTo writes bytes before they are
	// given up): it goes on from there (forwardTo writes from fwdOff),
	// where Forward would see a gap.
	if w != nil && t.fwdOff <= t.Offset() {
		if _, err := t.Forward(w); err != nil {
			return err
		}
	}
	if t.dropping {
		// What was consumed since Drop stops counting toward
		// MaxLineLength (Drop's doc), but is given up only when the
		// buffer needs room or a read checks the bound: a line
		// buffered whole gave up nothing, and was counted here whole.
		t.giveUpConsumed()
	}
	// A status response's or continuation request's line has no literal:
	// decide from its head (its first two words), which stays in the
	// buffer at lineStart until it is decided, whatever the reads' sizes.
	// A client's command (TokenizerOptions.Commands) is never one.
	text, known := t.lineText, t.lineText || t.commands
	whole := !t.lineCut // the line's head is in the buffer
	// inCode: the line stopped inside a status response's code (a token
	// in it did not tokenize, or was too long), where a tokenizer reading
	// the line whole reads "{n}" at the line's end as a literal if the
	// code is still open there, though the line is a status line (text,
	// without literals, past its code). Such a line is not guessed at:
	// the body would be a line to one reader and literal data to the
	// other. code follows the bytes skipped to see whether a ']' closed
	// the code before the literal's header: then the header is in the
	// text, and the line is text to every reader (an imapkit client's
	// codec reads a code it cannot parse as text to the CRLF). A skip
	// resumed after a read error goes on with the interrupted one's
	// (skipInCode, skipCode): the tokenizer no longer follows the head.
	// head follows what is dropped of the line's current part for a
	// literal's header longer than the kept tail (leading zeros). A
	// resumed skip goes on with it, where the interrupted one stopped.
	head := &t.skipHead
	if t.skipHeadAt != t.Offset() {
		*head = headScan{}
	}
	code := &t.skipCode
	t.resumeCode(text)
	inCode := t.skipInCode
	decide := func(end int) {
		switch {
		case known:
		case !whole:
			// The head is gone (a skip resumed after a streamed literal
			// or a Drop, or one not remembered as text): not a text
			// line, as it would be had it come whole.
			known = true
		default:
			text, known = statusHead(t.buf[t.lineStart:end])
		}
		if text {
			// Kept for a skip resumed after a read error (a deadline):
			// "{12}" at the end of a text line is no literal then either.
			t.lineText = true
		}
	}
	decide(t.w)
	// skipped counts the line's bytes outside literals, from where the
	// line began: what the caller had already consumed counts too, and
	// what an interrupted skip of the line gave up (skipLineLen).
	skipped := t.skipLineLen + int64(t.r-t.lineStart)
	// What the call reads, and the calls it resumes read, is counted
	// against totalLimit, literal bodies included (Offset counts them).
	overTotal := func(more int64) bool {
		return totalLimit >= 0 && t.Offset()-from+more > totalLimit
	}
	// What was consumed of the line is given up now (once its head is
	// decided), so that the buffer has room to look for the line's end
	// (borrowed bytes of the line end their life here, as the line does).
	if t.r > t.lineStart && known {
		t.skipDrop(t.r)
	}
	for {
		k := bytes.IndexByte(t.buf[t.r:t.w], '\n')
		if k < 0 {
			// Keep a short tail so a literal header split across reads is
			// still recognised; drop the rest (not an undecided head).
			// A header longer than the tail is followed by head.
			const tail = 32
			if known && t.w-t.r > tail {
				if w != nil {
					if err := t.forwardTo(w, t.w-tail); err != nil {
						return err
					}
				}
				if inCode {
					code.scan(t.buf[t.r : t.w-tail])
				}
				// Most of a line is no header: out of one, a last byte
				// that is neither '{' nor a digit leaves head as it is.
				if c := t.buf[t.w-tail-1]; head.open || c == '{' || isDigit(c) {
					head.follow(t.buf[t.r : t.w-tail])
				}
				skipped += int64(t.w - tail - t.r)
				t.skipDrop(t.w - tail)
				whole = false
			}
			if skipped > lineLimit {
				return t.breakStream(&LimitError{Offset: t.Offset(), Limit: lineLimit, Got: skipped, Err: ErrLineTooLong})
			}
			if overTotal(int64(t.w - t.r)) {
				return t.breakStream(&LimitError{Offset: t.Offset(), Limit: totalLimit, Got: t.Offset() - from + int64(t.w-t.r), Err: ErrLineTooLong})
			}
			if w != nil && t.r == t.w {
				if err := t.keepLost(w, flush(w)); err != nil {
					return err
				}
			}
			if err := t.fill(); err != nil {
				var le *LimitError
				if errors.As(err, &le) {
					return t.breakStream(err)
				}
				// A resumed call goes on from here (skipHead, skipCode).
				t.skipHeadAt = t.Offset()
				if err == io.EOF && (t.skipBegun() || t.lineCut) {
					// The end inside the line (a Drop may have given
					// up all of it that came: lineCut): io.EOF only
					// between lines, where nothing of one came.
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			// fill keeps the bytes from lineStart (it moves them, and
			// lineStart with them) unless a Drop gave them up.
			whole = whole && !t.lineCut
			decide(t.w)
			continue
		}
		end := t.r + k + 1
		skipped += int64(end - t.r)
		// The line's end is not counted, as reading does not count it:
		// the LF, and the CR before it (the buffer holds the stream's
		// bytes contiguously from index 0, so end-2 is the byte before
		// the LF when it is not negative).
		eol := int64(1)
		if end >= 2 && t.buf[end-2] == '\r' {
			eol = 2
		}
		if skipped-eol > lineLimit {
			return t.breakStream(&LimitError{Offset: t.base + int64(end), Limit: lineLimit, Got: skipped, Err: ErrLineTooLong})
		}
		decide(end)
		known, whole = true, false
		info, ok := literalAtEnd(t.buf[t.r:end])
		if !ok {
			info, ok = head.end(t.buf[t.r:end])
		}
		// head is reset (the line's part ends here) once the part is
		// forwarded: a forward its writer interrupts before that finds
		// the same header when resumed.
		if ok && inCode && !code.scan(t.buf[t.r:end]).closedBefore() {
			return t.breakStream(&SyntaxError{Offset: t.base + int64(end), Expected: "']' to end the response code before its literal", Got: excerpt(t.buf[max(t.r, end-16):end])})
		}
		if ok && !text {
			if refuse && !info.NonSync {
				// The client waits for a "+" that the refusal replaces:
				// no body comes, and its next bytes are a new command.
				if w != nil {
					if err := t.forwardTo(w, end); err != nil {
						return err
					}
				}
				*head = headScan{}
				t.dropTo(end)
				t.pend |= pendEOL
				t.depth = 0
				return errRefusedAtSync
			}
			if info.Size > t.maxLiteral {
				return t.breakStream(&LimitError{Offset: t.base + int64(end), Limit: t.maxLiteral, Got: info.Size, Err: ErrLiteralTooLarge})
			}
			if overTotal(int64(end-t.r) + info.Size) {
				return t.breakStream(&LimitError{Offset: t.base + int64(end), Limit: totalLimit, Got: t.Offset() - from + int64(end-t.r) + info.Size, Err: ErrLineTooLong})
			}
			if w != nil {
				if err := t.forwardTo(w, end); err != nil {
					return err
				}
			}
			*head = headScan{}
			t.skipDrop(end)
			t.pend |= pendLit
			t.litRemain, t.litStart = info.Size, end
			if w != nil {
				if _, err := t.ForwardLiteral(w); err != nil {
					return err
				}
				continue
			}
			if err := t.drainLiteral(); err != nil {
				return err
			}
			continue
		}
		if w != nil {
			if err := t.forwardTo(w, end); err != nil {
				return err
			}
		}
		*head = headScan{}
		t.dropTo(end)
		t.pend |= pendEOL
		t.depth = 0
		return nil
	}
}

// resumeCode sets skipInCode and skipCode for a skip of a line whose
// head is text: a skip that begins inside a status response's code
// starts following it; one resumed after an interrupted skip of the line
// that stopped inside the code goes on with what that one followed, and
// with the bytes the caller consumed since (those given up by a Drop are
// not known: the code is then taken as never closed, so that the line is
// refused rather than guessed at).
func (t *Tokenizer) resumeCode(text bool) {
	if !t.skipInCode {
		t.skipInCode = text && t.pend&pendHead != 0 && t.head == hCode
		d := int32(min(t.depth-int(t.codeDepth), math.MaxInt32))
		t.skipCode = codeScan{depth: d, plainDepth: d}
		if t.skipInCode {
			t.skipHeadAt = t.Offset() // followed up to here
		}
		return
	}
	switch at := t.skipHeadAt - t.base; {
	case at == int64(t.r):
	case at < int64(t.lineStart) || at > int64(t.r):
		t.skipCode.lose() // given up (Drop), or rewound past
	default:
		t.skipCode.scan(t.buf[at:t.r])
	}
	t.skipHeadAt = t.Offset()
}

// skipDrop is dropTo for skipLine before the line's end: what it gives
// up of the line counts for a resumed skip (skipLineLen), which follows
// the line's head and code from here (skipHeadAt).
func (t *Tokenizer) skipDrop(i int) {
	t.skipLineLen += int64(i - t.lineStart)
	t.dropTo(i)
	t.skipHeadAt = t.Offset()
}

// headScan follows the bytes that skipLine drops of a line while it looks
// for the line's end, keeping only a short tail: whether they end inside
// a literal's header, a '{' followed by digits only, and the digits'
// value. A header longer than the tail ("{" and 40 digits, leading zeros,
// which a server reads as the number they spell) is then still a
// literal's header at the LF, however the reads cut the line, as it is
// to a reader that has the line whole (literalSuffix). It keeps no
// bytes: a header's digits cost nothing past the line's limit. A size
// past 2^64 saturates, as literalSuffix's does (MaxLiteral refuses it).
// The '~' of a binary literal is not followed: skipLine frames the line
// alike without it.
type headScan struct {
	open   bool   // the dropped bytes end with '{' and digits only
	digits bool   // at least one digit follows the '{'
	size   uint64 // their value, saturated at math.MaxUint64
}

// follow moves h past b, the next bytes dropped of the line.
func (h *headScan) follow(b []byte) {
	i := len(b)
	for i > 0 && isDigit(b[i-1]) {
		i--
	}
	switch {
	case i == 0 && h.open:
	case i > 0 && b[i-1] == '{':
		*h = headScan{open: true}
	default:
		*h = headScan{}
		return
	}
	h.add(b[i:])
}

// add appends the digits d to h's value, saturating.
func (h *headScan) add(d []byte) {
	for _, c := range d {
		x := uint64(c - '0')
		if h.size > (math.MaxUint64-x)/10 {
			h.size = math.MaxUint64
		} else {
			h.size = h.size*10 + x
		}
	}
	h.digits = h.digits || len(d) > 0
}

// end reports whether line, the kept rest of the line to its LF, ends
// the header that the dropped bytes began: its digits, an optional '+',
// '}' and the line's end.
func (h headScan) end(line []byte) (LiteralInfo, bool) {
	b := line[:len(line)-1] // the LF
	return h.endBare(bytes.TrimSuffix(b, []byte("\r")))
}

// endBare is end of b, the kept rest of the line without its line end.
func (h headScan) endBare(b []byte) (LiteralInfo, bool) {
	var info LiteralInfo
	if !h.open {
		return info, false
	}
	b, ok := bytes.CutSuffix(b, []byte("}"))
	if !ok {
		return info, false
	}
	b, info.NonSync = bytes.CutSuffix(b, []byte("+"))
	for _, c := range b {
		if !isDigit(c) {
			return info, false
		}
	}
	h.add(b)
	info.Size = saturate(h.size)
	return info, h.digits
}

// codeScan follows the bytes of a status response's code that skipLine
// skips after the tokenizer stopped inside it, to find whether a ']' at
// the code's depth closes it. It follows quoted strings (a ']' in one is
// no close); a quote left open at the line's end is unmatched, and then
// the bytes are judged without quotes (plain): no tokenizer reads such a
// quoted string, and the codec reads the code as text to the CRLF, so
// only a ']' that closes the code's brackets and parentheses counts.
type codeScan struct {
	// depth, plainDepth: open '(' and '[' of the code, counting it; at
	// math.MaxInt32 they stay (the code is then never closed: refused
	// rather than guessed at). int32 keeps the Tokenizer in its size
	// class.
	depth, plainDepth int32
	closed, plain     bool // a ']' closed the code (with quotes, without)
	inQuote, esc      bool
}

// lose marks c as having missed bytes of the code: unless a ']' closed
// it already, it is never closed.
func (c *codeScan) lose() {
	c.depth, c.plainDepth = math.MaxInt32, math.MaxInt32
}

// scan follows b, bytes of the line in order.
func (c *codeScan) scan(b []byte) *codeScan {
	for _, x := range b {
		if !c.plain {
			c.plainDepth, c.plain = bracket(x, c.plainDepth)
		}
		switch {
		case c.closed:
		case c.esc:
			c.esc = false
		case c.inQuote && x == '\\':
			c.esc = true
		case x == '"':
			c.inQuote = !c.inQuote
		case !c.inQuote:
			c.depth, c.closed = bracket(x, c.depth)
		}
	}
	return c
}

// bracket moves depth by x; closed when x is the ']' that ends the code.
// A depth at math.MaxInt32 stays (codeScan).
func bracket(x byte, depth int32) (int32, bool) {
	if depth == math.MaxInt32 {
		return depth, false
	}
	switch x {
	case '(', '[':
		depth++
	case ')', ']':
		if depth > 1 {
			depth--
		} else if x == ']' {
			return 0, true
		}
	}
	return depth, false
}

// closedBefore reports, at the line's end, whether the code was closed.
func (c *codeScan) closedBefore() bool {
	if c.inQuote && !c.closed {
		return c.plain
	}
	return c.closed
}

// maxStatusHead bounds the bytes skipLine keeps to decide whether a line
// is a status response (a tag and a status word): one whose first two
// words do not end within it is not, however the line was read.
const maxStatusHead = 1024

// statusHead is statusPrefix on a line's first maxStatusHead bytes: b
// is the line so far (ending in its LF when whole).
func statusHead(b []byte) (text, known bool) {
	if len(b) > maxStatusHead {
		b = b[:maxStatusHead]
		if text, known = statusPrefix(b); !known {
			return false, true
		}
		return text, known
	}
	return statusPrefix(b)
}

// breakStream puts the tokenizer in the out-of-step state: cause, and
// every later call, fails with an error matching both ErrOutOfStep and
// cause's sentinel.
func (t *Tokenizer) breakStream(cause error) error {
	t.broken = &outOfStepError{cause: cause}
	t.pend |= pendBroken
	t.gen++
	return t.broken
}

// Broken returns the error that put the tokenizer out of step with its
// stream (see ErrOutOfStep), or nil.
func (t *Tokenizer) Broken() error { return t.broken }

// MaxLineLength returns the bound on what one line keeps in memory, its
// final CRLF not counted: TokenizerOptions.MaxLineLength, or
// DefaultMaxLineLength.
func (t *Tokenizer) MaxLineLength() int { return t.maxLine }

// LineRoom returns how many more bytes the current line may keep before
// it passes MaxLineLength: the largest literal LiteralBytes takes at this
// point (it keeps the literal in the line's buffer, counted against the
// bound; a literal read through LiteralReader is not). It does no I/O.
func (t *Tokenizer) LineRoom() int { return max(t.maxLine-(t.r-t.lineStart), 0) }

// Drop gives up the bytes of the current line consumed so far, and to
// the end of the line (or to Keep) those consumed later, each time the
// buffer needs room: for a caller that converts what it reads as it goes (the numbers
// of a SEARCH or SORT response) and keeps none of the line's bytes. The
// bytes given up stop counting toward MaxLineLength, which bounds what one
// line keeps in memory (a SkipLine after Drop counts only the rest of the
// line), and their room in the buffer is reused, so a line
// longer than MaxLineLength is read in a buffer that does not grow; the
// caller's own bound on what it keeps takes the line limit's place. From
// Drop to the end of the line, a slice borrowed from it (Token's too) is
// valid only until the next call that reads; once bytes were given up,
// marks taken before do not rewind (ErrCannotRewind) and RawLine fails,
// as after a streamed literal. Drop does nothing at the end of a line or with a literal open;
// it does no I/O. It does nothing either while a SkipLine, ForwardLine,
// ForwardLongLine or RefuseLine interrupted by an error is to be resumed
// (see ErrSkipPending): that call keeps none of the line and counts all
// of it toward its bound, the bytes given up before the interruption
// included.
func (t *Tokenizer) Drop() {
	if t.pend&(pendLit|pendEOL|pendBroken|pendSkip) != 0 {
		return
	}
	t.dropping = true
	t.skipLineLen = 0
	t.giveUpConsumed()
}

// Keep ends what Drop began: what was consumed so far is given up, and
// from here to the end of the line what is consumed is kept again, marks
// and borrowed slices valid as usual, MaxLineLength counting from here. A
// reader that read a long run of values with Drop (the set of an ESEARCH's
// ALL) calls it to read what follows (items it keeps as borrowed bytes).
// It does nothing when Drop was not called in the line, or while an
// interrupted skip of the line is to be resumed (as Drop).
func (t *Tokenizer) Keep() {
	if t.dropping && t.pend&pendSkip == 0 {
		t.giveUpConsumed()
		t.dropping = false
		t.skipLineLen = 0
	}
}

// giveUpConsumed gives up what the current line consumed (see Drop),
// unless a literal is open or nothing was consumed; it reports whether it
// gave up anything.
func (t *Tokenizer) giveUpConsumed() bool {
	if t.r == t.lineStart || t.pend&pendLit != 0 {
		return false
	}
	t.dropTo(t.r)
	return true
}

// dropTo consumes up to index i without keeping it for the line: when
// nothing of the line was handed out the line start moves too.
func (t *Tokenizer) dropTo(i int) {
	t.dropped(i)
	t.closeCut = t.afterClose(i)
	t.lineCut = true
	t.r = i
	t.lineStart = i
	t.heldFrom = 0
	t.gen++
}

// afterClose reports whether the line's byte before index i (i at or after
// lineStart) is a ']', also when it was given up: a partial ("<0.10>") is
// read only there.
func (t *Tokenizer) afterClose(i int) bool {
	if i > t.lineStart {
		return t.buf[i-1] == ']'
	}
	return t.closeCut
}

// literalAtEnd reports whether line (ending in LF) ends with a literal
// header such as {12}\r\n or {12+}\n.
func literalAtEnd(line []byte) (LiteralInfo, bool) {
	i := len(line) - 1 // the LF
	if i > 0 && line[i-1] == '\r' {
		i--
	}
	return literalSuffix(line[:i])
}

// LiteralSuffix reports whether b, a line without its CRLF, ends with a
// literal header such as {12}, {12+} or ~{12}: the line goes on after that
// many bytes. A size past int64 saturates (a caller's limit refuses it). A
// tracer or a proxy that splits a stream into lines uses it, as the
// tokenizer does.
func LiteralSuffix(b []byte) (LiteralInfo, bool) { return literalSuffix(b) }

// HeaderScan lets a line splitter that keeps only a short tail of a long
// line (a tracer) find a literal's header as the tokenizer does, however
// long the header is: "{" and 40 digits (leading zeros) is a literal of
// the number they spell, to a server and to SkipLine. Follow is given the
// bytes of the line given up from the tail, in order; End, at the line's
// end, whether the kept tail ends the header they began. It keeps no
// bytes. The zero value is ready: a new line (or the part after a
// literal) starts with Reset. A '~' before the '{' is not followed (Binary
// is not reported).
type HeaderScan struct{ h headScan }

// Follow moves s past b, the next bytes given up of the line.
func (s *HeaderScan) Follow(b []byte) { s.h.follow(b) }

// End reports whether rest, the kept end of the line without its CRLF,
// ends a literal's header that the bytes given to Follow began. It does
// not look for a header within rest alone: the caller checks
// LiteralSuffix(rest) first, and calls End only when that finds none.
// The bytes given to Follow since the last Reset must be the line's (or
// its part's, after a literal's body) and no others: a literal's body
// followed would frame a header the tokenizer does not see.
func (s *HeaderScan) End(rest []byte) (LiteralInfo, bool) { return s.h.endBare(rest) }

// Reset starts s over, for a new line or a line's part after a literal.
func (s *HeaderScan) Reset() { s.h = headScan{} }

// literalSuffix reports whether b ends with a literal header such as {12},
// {12+} or ~{12}.
func literalSuffix(b []byte) (LiteralInfo, bool) {
	var info LiteralInfo
	i := len(b) - 1
	if i < 0 || b[i] != '}' {
		return info, false
	}
	i--
	if i >= 0 && b[i] == '+' {
		info.NonSync = true
		i--
	}
	end := i + 1
	for i >= 0 && b[i] >= '0' && b[i] <= '9' {
		i--
	}
	if i < 0 || b[i] != '{' || end-(i+1) == 0 {
		return info, false
	}
	// A size past int64 (or past 2^64) still announces a literal: it
	// saturates, so that the caller's limit check refuses it instead of
	// taking its bytes for lines.
	v, ok := parseUint(b[i+1 : end])
	if !ok {
		v = math.MaxUint64
	}
	info.Size = saturate(v)
	info.Binary = i > 0 && b[i-1] == '~'
	return info, true
}

// String reads an IMAP string: a quoted string or a literal, which must not
// exceed MaxStringLiteral. The bytes are valid until the next line is read.
func (t *Tokenizer) String() ([]byte, error) {
	if err := t.begin(); err != nil {
		return nil, err
	}
	c, err := t.peekAt(0)
	if err != nil {
		return nil, err
	}
	return t.stringFrom(c, "string")
}

func (t *Tokenizer) stringFrom(c byte, what string) ([]byte, error) {
	switch c {
	case '"':
		return t.quoted()
	case '{', '~':
		m := t.r
		if _, err := t.literalHeader(); err != nil {
			return nil, err
		}
		b, err := t.LiteralBytes()
		if err != nil {
			// Put the header back so the caller can stream it instead.
			t.r = m
			t.pend &^= pendLit
			t.litRemain = 0
			return nil, err
		}
		return b, nil
	}
	return nil, t.syntaxErr(0, what, nil)
}

// NString reads NIL or a string. isNil reports NIL (case-insensitive).
// "N" or "NI" and then the end of the stream is a NIL the end cut:
// io.ErrUnexpectedEOF, not a *SyntaxError (AcceptNIL too).
func (t *Tokenizer) NString() (b []byte, isNil bool, err error) {
	if err := t.begin(); err != nil {
		return nil, false, err
	}
	c, err := t.peekAt(0)
	if err != nil {
		return nil, false, err
	}
	if c == 'N' || c == 'n' {
		ok, err := t.acceptNIL()
		if err != nil {
			return nil, false, err
		}
		if ok {
			return nil, true, nil
		}
	}
	b, err = t.stringFrom(c, "nstring")
	return b, false, err
}

// AcceptNIL consumes NIL (any case) if it comes next as a whole atom and
// reports whether it did. "N" or "NI" and then the end of the stream fails
// with io.ErrUnexpectedEOF: the caller's next guess (a string, a '(')
// would call the cut a syntax error.
func (t *Tokenizer) AcceptNIL() (bool, error) {
	if err := t.begin(); err != nil {
		return false, err
	}
	return t.acceptNIL()
}

func (t *Tokenizer) acceptNIL() (bool, error) {
	if r := t.r; r+3 < t.w {
		// Fast path: decide from the buffered bytes.
		if t.buf[r]|0x20 != 'n' {
			return false, nil
		}
		if isNIL(t.buf[r:r+3]) && !astringSet[t.buf[r+3]] {
			t.r += 3
			return true, nil
		}
	}
	n, err := t.scan(&astringSet)
	if err != nil {
		return false, err
	}
	if n == 3 && isNIL(t.buf[t.r:t.r+3]) {
		t.r += 3
		return true, nil
	}
	if n > 0 && n < 3 && t.r+n == t.w && isNILPrefix(t.buf[t.r:t.r+n]) {
		// The stream ended in "N" or "NI" (scan stops at the buffer's
		// end only at the end of the stream): a NIL the end cut, not
		// something else. Reported as the cut, as a run of spaces or a
		// quoted string the end cuts is, so that a caller (NString's
		// string, a decoder's '(') does not call it a syntax error.
		return false, io.ErrUnexpectedEOF
	}
	return false, nil
}

func isNIL(b []byte) bool {
	return len(b) == 3 && b[0]|0x20 == 'n' && b[1]|0x20 == 'i' && b[2]|0x20 == 'l'
}

// isNILPrefix reports whether b begins NIL (any case) without being all of
// it.
func isNILPrefix(b []byte) bool {
	if len(b) >= 3 {
		return false
	}
	for i, c := range b {
		if c|0x20 != "nil"[i] {
			return false
		}
	}
	return true
}

// AString reads an astring: an atom (where ']' and, as a tolerance, '['
// are allowed), a quoted string or a literal. The bytes are valid until the
// next line is read.
func (t *Tokenizer) AString() ([]byte, error) {
	if err := t.begin(); err != nil {
		return nil, err
	}
	c, err := t.peekAt(0)
	if err != nil {
		return nil, err
	}
	str := c == '"' || c == '{'
	if c == '~' {
		c2, err := t.peekSecond()
		if err != nil {
			return nil, err
		}
		str = c2 == '{'
	}
	if str {
		return t.stringFrom(c, "astring")
	}
	return t.run(&astringSet, "astring")
}

// Partial reads a partial specifier: <start> as in responses
// (BODY[]<0>) or <start.length> as in commands.
func (t *Tokenizer) Partial() (start, length uint64, hasLength bool, err error) {
	if err := t.begin(); err != nil {
		return 0, 0, false, err
	}
	c, err := t.peekAt(0)
	if err != nil {
		return 0, 0, false, err
	}
	if c != '<' {
		return 0, 0, false, t.syntaxErr(0, "'<'", nil)
	}
	i := 1
	start, i, err = t.digitsAt(i)
	if err != nil {
		return 0, 0, false, err
	}
	if c, err = t.peekAt(i); err != nil {
		return 0, 0, false, err
	}
	if c == '.' {
		hasLength = true
		if length, i, err = t.digitsAt(i + 1); err != nil {
			return 0, 0, false, err
		}
		if c, err = t.peekAt(i); err != nil {
			return 0, 0, false, err
		}
	}
	if c != '>' {
		return 0, 0, false, t.syntaxErr(i, "'>'", nil)
	}
	t.r += i + 1
	return start, length, hasLength, nil
}

// digitsAt parses a number starting at t.r+i without consuming it.
func (t *Tokenizer) digitsAt(i int) (uint64, int, error) {
	j := i
	for {
		c, err := t.peekAt(j)
		if err != nil {
			return 0, 0, err
		}
		if c < '0' || c > '9' {
			break
		}
		j++
	}
	if j == i {
		return 0, 0, t.syntaxErr(i, "number", nil)
	}
	v, ok := parseUint(t.buf[t.r+i : t.r+j])
	if !ok {
		return 0, 0, t.syntaxErr(i, "number", ErrNumberOverflow)
	}
	return v, j, nil
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
