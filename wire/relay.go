package wire

import (
	"errors"
	"io"
	"strconv"
)

// The states of the head of a line (Tokenizer.head): which token next
// expects while it looks for the text of a status response or a
// continuation request.
const (
	hTag        = iota // the tag, '*' or '+'
	hStatus            // the word after the tag: OK, NO, BAD, BYE, PREAUTH?
	hSP2               // the space after the status word
	hCodeOrText        // '[' starts a response code; anything else is text
	hCode              // inside the response code, up to its ']'
	hSP3               // after the code: a space, then text
	hText              // the rest of the line is text
	hPlusSP            // after a lone '+': a space, then text (or text at once)
	hTagRest           // the rest of the first word ('*' or a tag), or the space after it
)

// nextHead is next at the head of a line: it reads the token at the
// current position and moves the head's state on, or returns the text of a
// status response or a continuation request as one KindText token. It
// leaves pendHead set (and its state unchanged) when it fails, so that a
// retry resumes.
func (t *Tokenizer) nextHead() (Kind, error) {
	switch t.head {
	case hCodeOrText, hSP3, hText, hPlusSP:
		c, err := t.peekAt(0)
		if err != nil {
			return KindInvalid, err
		}
		switch {
		case c == '\r' || c == '\n':
			// No text: the line ends (or is malformed); read it as it is.
			t.pend &^= pendHead
			return t.next()
		case t.head == hCodeOrText && c == '[':
			// The response code: tokenized, up to its ']'.
		case (t.head == hSP3 || t.head == hPlusSP) && c == ' ':
		default:
			// Text: after a '+' without its space too ("+]1 OK x {5}",
			// "+{0}"), as statusPrefix and the codec's SkipLine read it.
			return t.headText()
		}
	}
	// Read the token with the head's rules off (begin has run: pendHead is
	// the only flag left), and put them back if it fails.
	t.pend &^= pendHead
	kind, err := t.next()
	if err != nil {
		t.pend |= pendHead
		return kind, err
	}
	next := uint8(0xff) // done with the head
	switch t.head {
	case hTag:
		switch {
		case kind == KindPlus:
			next = hPlusSP
		case kind != KindLBracket && tagPart(kind):
			// '*' or a tag: the first word goes on to the space, through
			// ']' and '[' (ASTRING-CHARs, as Tokenizer.Tag reads them:
			// "a]1"; "*]1" and "a]*" as statusPrefix reads them).
			next = hTagRest
		}
	case hTagRest:
		// After the first word's first token: the space, or more of the
		// word ("*]1", "a]<0>", "a]*": see tagPart).
		switch {
		case kind == KindSP:
			next = hStatus
		case tagPart(kind):
			next = hTagRest
		}
	case hStatus:
		if kind == KindAtom && isStatusWord(t.TokenBytes()) {
			next = hSP2
		}
	case hSP2:
		if kind == KindSP {
			next = hCodeOrText
			t.lineText = true
		}
	case hCodeOrText:
		// kind is KindLBracket: nextHead only reads '[' here.
		next = hCode
		t.codeDepth = int32(t.depth - 1)
	case hCode:
		switch {
		case kind == KindRBracket && t.depth <= int(t.codeDepth):
			next = hSP3
		case kind != KindCRLF:
			next = hCode
		}
	case hSP3:
		next = hText
	case hPlusSP:
		// kind is KindSP: nextHead reads no other token here.
		next = hText
		t.lineText = true
	}
	if next == 0xff || kind == KindCRLF {
		t.pend &^= pendHead
		return kind, nil
	}
	t.pend |= pendHead
	t.head = uint8(next)
	t.headOff = t.base + int64(t.r)
	if kind == KindLiteral {
		// The body comes before the next token, however it is read.
		t.headOff += int64(t.TokenNum())
	}
	return kind, nil
}

// tagPart reports whether a token of kind, read where a line's first
// word is, belongs to that word: the tokens the bytes of statusPrefix's
// first word make (nextSet's, ']' and '['). Inside the word Next cuts
// atoms at ']' and '[', so what follows one is any token an atom's bytes
// make (an atom, a number, NIL, a lone '*' or '+'), another bracket, or a
// partial ("a]<0>": '<' after ']'). Any other kind (a quoted string, a
// parenthesis, a literal) begins with a byte no first word holds: the
// word ends there without the space a status line needs, as in
// statusPrefix.
func tagPart(kind Kind) bool {
	switch kind {
	case KindAtom, KindNumber, KindNIL, KindStar, KindPlus, KindLBracket, KindRBracket, KindPartial:
		return true
	}
	return false
}

// headText reads the text of a status response or a continuation request.
func (t *Tokenizer) headText() (Kind, error) {
	b, err := t.Text()
	if err != nil {
		return KindInvalid, err
	}
	t.pend &^= pendHead
	t.lineText = true
	t.setTok(Token{Kind: KindText, b: b})
	return KindText, nil
}

// isStatusWord reports whether b is OK, NO, BAD, BYE or PREAUTH in any case.
func isStatusWord(b []byte) bool {
	switch len(b) {
	case 2:
		c0, c1 := b[0]|0x20, b[1]|0x20
		return c0 == 'o' && c1 == 'k' || c0 == 'n' && c1 == 'o'
	case 3:
		c0, c1, c2 := b[0]|0x20, b[1]|0x20, b[2]|0x20
		return c0 == 'b' && (c1 == 'a' && c2 == 'd' || c1 == 'y' && c2 == 'e')
	case 7:
		for i, c := range []byte("preauth") {
			if b[i]|0x20 != c {
				return false
			}
		}
		return true
	}
	return false
}

// statusPrefix reports whether b, the first bytes of a line, begins a status
// response (tag or '*', then OK, NO, BAD, BYE or PREAUTH) or a continuation
// request (a lone '+' first). known is false when b ends before that is decided.
func statusPrefix(b []byte) (status, known bool) {
	if len(b) > 0 && b[0] == '+' {
		// A lone '+' (Next's KindPlus: no atom byte follows it) is a
		// continuation request, whose text has no literal whatever
		// follows ("+ go", "+]1 OK x {5}", "+{0}"), as the codec reads
		// it. "+x" is a first word as any other: Next's atom, and a
		// command's tag to a lenient server ("+a DELETE x").
		if len(b) == 1 {
			return false, false
		}
		if !nextSet[b[1]] {
			return true, true
		}
	}
	i := 0
	// The first word: '*' or a tag, which may hold ']' and '['
	// (ASTRING-CHARs, as Tokenizer.Tag reads them: "a]1"), though a
	// line that begins with '[' is no status (Exchange's bare code).
	for i < len(b) && (nextSet[b[i]] || b[i] == ']' || b[i] == '[' && i > 0) {
		i++
	}
	if i == len(b) {
		return false, false
	}
	if i == 0 {
		return false, true
	}
	if b[i] != ' ' {
		return false, true
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && nextSet[b[j]] {
		j++
	}
	if j == len(b) {
		return false, false
	}
	return isStatusWord(b[i:j]) && (b[j] == ' ' || b[j] == '\r' || b[j] == '\n'), true
}

// statusLine reports whether the current line is a status response or a
// continuation request, as far as its consumed bytes tell.
func (t *Tokenizer) statusLine() bool {
	if t.lineText {
		return true
	}
	if t.lineCut || t.commands {
		return false
	}
	// The caller consumed the line up to its CRLF: end it there.
	b := t.buf[t.lineStart:t.w]
	if t.r < t.w {
		b = t.buf[t.lineStart : t.r+1]
	}
	status, _ := statusPrefix(b)
	return status
}

// Forward writes to w the bytes consumed since the last Forward (or since
// the tokenizer began reading its stream), exactly as they were received:
// tokens, spaces, CRLFs, literal headers and the literal bodies read with
// LiteralBytes (or whole by AppendLine). A streamed literal's body is the
// caller's to forward: ForwardLiteral does that; Forward never writes it.
//
// Forward makes a relay that tokenizes what it passes on: read a line (or
// the part of it up to a literal header) with any Tokenizer method, then
// Forward it. The bytes are written in order and unchanged, whatever the
// tokens were. Forward each line before the next one is read: when
// consumed bytes leave the buffer unforwarded (the next line began,
// SkipLine dropped them, or a literal body was skipped or streamed with
// unforwarded bytes before it), Forward fails with ErrForwardGap and so
// does every later call until Reset.
//
// What w accepts counts as forwarded, here and in every forwarding call
// (ForwardAsSync, ForwardLiteral, ForwardLine, ForwardLongLine): a call
// that fails can be resumed, through w or another writer, from the first
// byte w did not accept. A *bufio.Writer (or a *bufio.ReadWriter) that
// fails to write to its target keeps the error for every later call and
// the bytes it held, which no writer then sends (Reset drops them): bytes
// this tokenizer counted forwarded. When that failure is a forwarding
// call's own (a write that made the bufio.Writer flush, or the flush
// before a literal's body), the call returns the error and every later
// forward fails with ErrForwardGap: close the connection. A failure the
// tokenizer does not see is the caller's to act on: after its own Flush
// of w failed (or a writer of its own type that buffers failed, one that
// embeds a *bufio.Writer say), a forward resumed through a new writer
// relays the stream with the bytes the old one held missing, and returns
// no error (TestForwardCannotSeeCallersFailedFlush): close the connection
// instead.
func (t *Tokenizer) Forward(w io.Writer) (int, error) {
	n, err := t.forwardN(w, t.r)
	return n, err
}

// forwardTo writes the bytes from the forwarding position up to buffer
// index i.
func (t *Tokenizer) forwardTo(w io.Writer, i int) error {
	_, err := t.forwardN(w, i)
	return err
}

func (t *Tokenizer) forwardN(w io.Writer, end int) (int, error) {
	if t.fwdLost {
		return 0, ErrForwardGap
	}
	i := t.fwdOff - t.base
	if i > int64(end) && t.pend&pendSkip != 0 {
		// An interrupted ForwardLine relayed part of the line ahead of
		// what it consumed: nothing more was consumed.
		return 0, nil
	}
	if i < 0 || i > int64(end) {
		t.fwdLost = true
		return 0, ErrForwardGap
	}
	if int(i) == end {
		return 0, nil
	}
	n, err := w.Write(t.buf[i:end])
	t.keepLost(w, err)
	if n < 0 || n > end-int(i) {
		n = 0
		if err == nil {
			err = io.ErrShortWrite
		}
	}
	t.fwdOff += int64(n)
	if err == nil && n < end-int(i) {
		err = io.ErrShortWrite
	}
	return n, err
}

// ForwardAsSync is Forward for a relay that hands a client's
// non-synchronizing literal to the server as synchronizing: when the last
// thing read is the header of a non-synchronizing literal ("{n+}" or
// "~{n+}", AppendUntilLiteral stopped there) whose body has not been read,
// the header goes out without its '+' ("{n}"), the rest unchanged;
// otherwise it is Forward. The server then gives its word on the literal,
// "+" or the command's completion, where it would otherwise read the body
// or not without saying so (Dovecot reads the bytes after "a NOOP {18+}"
// as a command of their own): see Dialog.ExpectContinuation. It fails with
// ErrHeaderForwarded when the header went out already (Forward was called
// after it was read).
func (t *Tokenizer) ForwardAsSync(w io.Writer) (int, error) {
	if t.pend&pendLit == 0 || t.r != t.litStart {
		return t.Forward(w)
	}
	// The header ends at litStart: '+', '}', then CRLF (or a bare LF when
	// lenient).
	i := t.litStart - 1
	if i >= 0 && t.buf[i] == '\n' {
		i--
	}
	if i >= 0 && t.buf[i] == '\r' {
		i--
	}
	if i < 1 || t.buf[i] != '}' || t.buf[i-1] != '+' {
		return t.Forward(w) // a synchronizing literal
	}
	plus := i - 1
	if t.fwdOff-t.base > int64(plus) {
		return 0, ErrHeaderForwarded
	}
	n, err := t.forwardN(w, plus)
	if err != nil {
		return n, err
	}
	t.fwdOff++ // the '+' stays behind
	m, err := t.forwardN(w, t.r)
	return n + m, err
}

// ForwardLiteral relays the open literal: it forwards what was consumed
// (Forward: the line up to and including the literal header), flushes w
// when w has a Flush() error method and nothing more is buffered (a client
// sends a synchronizing literal's body only after the server's "+", so the
// header must reach the server first), then copies the body to w as it
// arrives, never holding it whole. It returns the number of body bytes
// copied. Without an open literal it fails with ErrLiteralPending.
// After w's error it can be called again, and goes on from the first byte
// w did not accept; when w has a ReadFrom, the body moves on by what w
// took from the connection, and a ReadFrom that reports less than it took
// (one built on io.Copy: the bytes it read past what it wrote are gone)
// makes the call fail with ErrForwardGap, as does every later Forward. So
// does any ReadFrom that fails inside the body when the tokenizer reads a
// syscall.Conn (a *net.TCPConn): a *net.TCPConn writer (or a bufio.Writer
// over one) splices, and a failed write throws away what the kernel
// drained, which neither count shows. (A bufio.Writer is taken for one
// that spliced only when it handed the ReadFrom to its target, which it
// shows by keeping the target's error; one that failed as it read into
// its own buffer counted what it read, and the call can be resumed.)
// From a socket, only a writer whose splice the tokenizer sees (a
// syscall.Conn, a *bufio.Writer or *bufio.ReadWriter) or that never
// splices (a *bytes.Buffer, io.Discard) is handed the body's ReadFrom;
// another type, one that embeds a *bufio.Writer or whose ReadFrom hands
// the body to one, gets it through Write, as a writer without ReadFrom
// does: its splice's loss would go unseen (until stop 59 it did).
func (t *Tokenizer) ForwardLiteral(w io.Writer) (int64, error) {
	if err := t.openLit(); err != nil {
		return 0, err
	}
	if _, err := t.Forward(w); err != nil {
		return 0, err
	}
	if t.r == t.w && t.litRemain > 0 {
		if err := t.keepLost(w, flush(w)); err != nil {
			return 0, err
		}
	}
	t.gen++ // the literal's bytes leave the buffer: marks cannot replay them
	return (*literalReader)(t).WriteTo(w)
}

// ForwardLine relays the rest of the current line without tokenizing it:
// it forwards what was consumed (Forward), then copies the bytes up to and
// including the line's CRLF to w, literals included (each relayed as
// ForwardLiteral does, flushing w first). A relay calls it after a
// *SyntaxError, which consumes nothing: the line is passed on unchanged
// and the tokenizer is back in step. Like SkipLine, it gives up (with an
// error matching ErrOutOfStep) on a line longer than MaxLineLength outside
// its literals or a literal over MaxLiteral. The text of a status response
// or a continuation request never announces a literal; a line that
// stopped inside a status response's code (a token in the code did not
// tokenize, or was too long) and reaches a literal's header at the end of
// its first part with no ']' closing the code before it is neither: a
// tokenizer reading the line whole reads the header as a literal in the
// code, while the codec (whose respText rewinds a code it cannot parse
// and reads it as text to the CRLF) and the text rule do not. ForwardLine
// then fails with a *SyntaxError matching ErrOutOfStep, and the connection
// must be closed. A code closed by ']' (at its depth, outside quoted
// strings; a quote left open to the line's end is not followed) before
// the header puts the header in the text: the line is text.
//
// After a read or write error ForwardLine is called again to resume: it
// goes on from the first byte w did not accept (the count Write returns;
// for a w with ReadFrom, the bytes it took from the connection, and when
// ReadFrom reports fewer, or fails inside a body read from a syscall.Conn,
// which may splice, the resumed call fails with ErrForwardGap: they are
// lost, see ForwardLiteral). Until then the line is its own: other calls
// fail with ErrSkipPending (see there), unless it was interrupted before
// the line's first byte came. A literal left open by the caller (Literal)
// is relayed from its first byte not forwarded, as ForwardLiteral does.
func (t *Tokenizer) ForwardLine(w io.Writer) error {
	return t.skipLine(w, false, int64(t.maxLine), -1)
}

// ForwardLongLine is ForwardLine with limit in place of MaxLineLength as
// the bound on the line's bytes outside literals: for a relay whose peer
// reads lines longer than MaxLineLength (a server's answer holding a
// sequence set of a million ranges, which package codec reads in pieces),
// called after a read failed with ErrLineTooLong (the token that did not
// fit is left unconsumed) or a *SyntaxError. The line is relayed as it
// arrives and given up as it goes, in a buffer that does not grow (the
// bytes before it count toward limit, as ForwardLine counts them); the
// literal at a line's end ("{n}" before its CRLF, not in the text of a
// status response or continuation request) is found as ForwardLine finds
// it, and relayed as ForwardLiteral does. Past limit it fails with a
// *LimitError matching ErrLineTooLong and ErrOutOfStep. A line stopped
// inside a status response's code (where "{n}" is a literal to a
// tokenizer reading the line whole while the code is open, text to the
// codec, which reads a code it cannot parse as text) whose first part
// ends in a literal's header with no ']' closing the code before it fails
// with a *SyntaxError matching ErrOutOfStep, as in ForwardLine: where the
// line ends is not guessed.
func (t *Tokenizer) ForwardLongLine(w io.Writer, limit int64) error {
	return t.skipLine(w, false, limit, -1)
}

// RefuseCommand reads the rest of a command that a proxy refuses without
// relaying it, as the client sends it once refused. line is the part of
// the command read last (by AppendUntilLiteral: up to its end, its first
// literal or a piece's end), none of it forwarded yet or all of it: the
// bytes are dropped as Forward(io.Discard) drops them. The bodies of
// non-synchronizing literals are read and dropped; a synchronizing
// literal's header ends the command (the client waits for a "+" that the
// refusal replaces: no body follows), as in RefuseLiteral. Pieces of a
// line of more than MaxLineTokens tokens are read on to its end, each
// given up once dropped (MaxLineLength bounds a piece, not the command).
// For a line that does not tokenize, use RefuseLine.
func (t *Tokenizer) RefuseCommand(line []Token) error { return t.RefuseCommandMax(line, -1) }

// RefuseCommandMax is RefuseCommand bounded: it reads at most max bytes
// of the command from where it is called, plus one piece (MaxLineLength
// bounds a piece; a piece is read when less than max was read before it),
// literal bodies included (a literal's size is checked before its body is
// read), so that a client that never ends a refused command (a line of
// tokens without end, or non-synchronizing literals without end) does not
// keep its reader busy for ever. Past max it fails with a *LimitError
// matching ErrLineTooLong and ErrOutOfStep: the rest of the command is
// unread, and the connection must be closed. A negative max is no bound
// (RefuseCommand).
func (t *Tokenizer) RefuseCommandMax(line []Token, max int64) error {
	_, err := t.RefuseCommandWaits(line, max)
	return err
}

// RefuseCommandWaits is RefuseCommandMax that also reports whether the
// command ended at a synchronizing literal's header (waits), in its first
// piece or a later one: its client waits there for a "+" (RFC 9051
// 7.5), which only the refusal's tagged completion replaces. A proxy
// whose refusal names no tag (an untagged "* BAD": the line has none, or
// it may be a SASL response) cannot tell such a client to stop waiting,
// nor take what it sends next for a new command or for the literal's
// body: it closes the connection (after a "* BYE" saying why).
func (t *Tokenizer) RefuseCommandWaits(line []Token, max int64) (waits bool, err error) {
	from := t.Offset()
	over := func(more int64) error {
		if got := t.Offset() - from + more; max >= 0 && got > max {
			return t.breakStream(&LimitError{Offset: t.Offset(), Limit: max, Got: got, Err: ErrLineTooLong})
		}
		return nil
	}
	for {
		if _, err := t.Forward(io.Discard); err != nil {
			return false, err
		}
		// Dropped, so given up: a command of many pieces was kept
		// whole, and one longer than MaxLineLength failed with
		// ErrLineTooLong, stuck mid-line, instead of being refused.
		t.Drop()
		t.Keep()
		var last Token
		if len(line) > 0 {
			last = line[len(line)-1]
		}
		if last.Kind == KindCRLF {
			return false, nil
		}
		if last.Kind == KindLiteral {
			if !last.Literal().NonSync {
				return true, t.RefuseLiteral()
			}
			if err := over(last.Literal().Size); err != nil {
				return false, err
			}
			if _, err := t.ForwardLiteral(io.Discard); err != nil {
				return false, err
			}
		}
		// After a literal, or a piece of a line of more than
		// MaxLineTokens tokens: the command goes on, and is dropped too,
		// unless max was read already (checked before the piece is
		// read: a piece read past max is read whole, up to
		// MaxLineLength).
		if err := over(0); err != nil {
			return false, err
		}
		if line, err = t.AppendUntilLiteral(line[:0]); err != nil && !errors.Is(err, ErrTooManyTokens) {
			return false, err
		}
	}
}

// RefuseLine is SkipLine for a proxy that refuses a client's command
// without relaying it, reading the rest of it as the client sends it once
// refused: the bodies of non-synchronizing literals are read and dropped,
// and a synchronizing literal's header ends the command (the client waits
// for the server's "+", and the refusal comes instead: no body follows,
// and its next bytes are a new command; SkipLine or ForwardLine would read
// them as that body). It is for a line after a *SyntaxError (which
// consumes nothing); a line that tokenizes is read on with
// AppendUntilLiteral and RefuseLiteral, as docs/proxy.md shows. The bytes
// are dropped as Forward(io.Discard) drops them: Forward goes on with the
// next line.
func (t *Tokenizer) RefuseLine() error { return t.RefuseLineMax(-1) }

// RefuseLineMax is RefuseLine that reads at most about max bytes of the
// line from where it is first called, literal bodies included (checked before each
// literal's body is read, and as the buffer, of about MaxLineLength,
// refills): past it, it fails with a *LimitError matching ErrLineTooLong
// and ErrOutOfStep (close the connection). The line's bytes outside
// literals are bounded by the larger of max and MaxLineLength: the line
// is dropped as it is read, in a buffer that does not grow. A negative
// max is no bound but MaxLineLength's (RefuseLine). Interrupted by a read
// error, it is resumed by RefuseLine or RefuseLineMax alone, and max
// counts from where the first call of the line began (what each
// interrupted call read counts: a line cut often does not pass it), so
// resume with the same max; until then
// other calls fail with ErrSkipPending (SkipLine and ForwardLine too, which
// would wait for the body of a synchronizing literal that ends the line,
// or relay the refused command).
func (t *Tokenizer) RefuseLineMax(max int64) error {
	_, err := t.RefuseLineWaits(max)
	return err
}

// RefuseLineWaits is RefuseLineMax that also reports whether the line
// ended at a synchronizing literal's header (waits): its client waits
// there for a "+", as after RefuseCommandWaits. Resumed after a read
// error (by RefuseLine, RefuseLineMax or RefuseLineWaits), the call that
// ends the line reports it.
func (t *Tokenizer) RefuseLineWaits(max int64) (waits bool, err error) {
	return t.skipLineWaits(io.Discard, true, maxOf(int64(t.maxLine), max), max)
}

// maxOf is the built-in max, which RefuseLineMax's parameter shadows.
func maxOf(a, b int64) int64 { return max(a, b) }

// ShouldFlush is the flush hint of a relay that buffers what it forwards
// (a *bufio.Writer): it reports whether the last call ended a line or read
// a literal header and nothing more of the stream is buffered, so that the
// next call waits on the reader. Flush then; otherwise more input is
// already here and the flush can wait for it. A peer waits for an answer
// only at the end of a line or after a synchronizing literal's header.
func (t *Tokenizer) ShouldFlush() bool {
	return t.r == t.w && t.pend&(pendEOL|pendLit) != 0
}

// flush flushes w when it has a Flush() error method.
func flush(w io.Writer) error {
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// AppendToken appends tok to dst in the form it had on the wire: an atom,
// a number's digits, NIL, '*' and '+' as received; a quoted string quoted
// again (the only escapes IMAP has, \" and \\, come back as they were); a
// literal's header ({n}, {n+} or ~{n}, followed by its CRLF and its body
// when the token holds one, as AppendLine's do); a partial <n> or <n.m>;
// the spaces of a KindSP (Num of them, at least one); CRLF; a KindText's
// bytes. What it cannot restore: leading zeros in a literal's size or a
// partial, and a bare LF read with LenientLineEnds (written as CRLF).
func AppendToken(dst []byte, tok Token) []byte {
	switch tok.Kind {
	case KindAtom, KindNumber, KindNIL, KindText:
		return append(dst, tok.b...)
	case KindStar:
		return append(dst, '*')
	case KindPlus:
		return append(dst, '+')
	case KindQuoted:
		return appendQuoted(dst, tok.b)
	case KindLiteral:
		info := tok.Literal()
		if info.Binary {
			dst = append(dst, '~')
		}
		dst = append(dst, '{')
		dst = strconv.AppendInt(dst, info.Size, 10)
		if info.NonSync {
			dst = append(dst, '+')
		}
		dst = append(dst, '}', '\r', '\n')
		return append(dst, tok.b...)
	case KindLParen:
		return append(dst, '(')
	case KindRParen:
		return append(dst, ')')
	case KindLBracket:
		return append(dst, '[')
	case KindRBracket:
		return append(dst, ']')
	case KindPartial:
		dst = append(dst, '<')
		dst = strconv.AppendUint(dst, tok.Num, 10)
		if tok.HasLength() {
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, tok.Length, 10)
		}
		return append(dst, '>')
	case KindSP:
		n := tok.Num
		if n == 0 {
			n = 1
		}
		for ; n > 0; n-- {
			dst = append(dst, ' ')
		}
		return dst
	case KindCRLF:
		return append(dst, '\r', '\n')
	}
	return dst
}
