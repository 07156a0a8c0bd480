package wire

import (
	"encoding/binary"
	"math/bits"
)

// AppendLine appends the tokens of the rest of the current line to dst, up
// to and including the CRLF that ends it, and returns the extended slice.
// It reads tokens as Scan does (a status response's text is one KindText).
// Literals of up to MaxStringLiteral bytes are read whole: their tokens
// (KindLiteral) hold the body in Bytes. After the header of a larger
// literal AppendLine stops, with that token last and the literal open:
// stream it with LiteralReader, then call AppendLine again to continue the
// line.
//
// One call appends at most MaxLineTokens tokens (DefaultMaxLineTokens:
// 65,536, 3 MiB of Tokens). MaxLineLength bounds a line's bytes, not its
// tokens, and a Token takes 48 bytes whatever its size on the wire: a
// 1 MiB line of " 1 1 1..." is a million tokens. On reaching the bound
// AppendLine returns the tokens so far with a *LimitError wrapping
// ErrTooManyTokens, the last token not a CRLF; the line is not refused
// and the stream stays in step: call again (with dst reset, or not) to go
// on with the same line. A caller that looks at a line's first tokens
// (its tag, its command) must not take that call's tokens for a new line.
//
// It suits tracers that want a line's tokens at once: one call per line
// and 0 allocations once dst has grown. (Scan is as fast or faster per
// token: AppendLine also writes each Token into dst.) A proxy in front of
// a client uses AppendUntilLiteral instead: a client sends a synchronizing
// literal's body only after the server's "+", so reading it whole before
// forwarding the header waits forever. Token bytes are valid until the
// next line is read. On an error, dst holds the tokens read before it, and
// calling again continues after them.
func (t *Tokenizer) AppendLine(dst []Token) ([]Token, error) {
	return t.appendLine(dst, false)
}

// AppendUntilLiteral is AppendLine that stops after every literal header,
// whatever its size, with the literal open and its KindLiteral token last
// (its Bytes nil). A proxy forwards what was read (Forward), then the body
// (ForwardLiteral does both), then calls AppendUntilLiteral again to go on
// with the line. So a synchronizing literal's header reaches the server,
// whose "+" lets the client send the body, before the proxy waits for the
// body. Like AppendLine, one call appends at most MaxLineTokens tokens:
// on ErrTooManyTokens a proxy forwards what was read (Forward) and calls
// again, for the rest of the same line.
func (t *Tokenizer) AppendUntilLiteral(dst []Token) ([]Token, error) {
	return t.appendLine(dst, true)
}

func (t *Tokenizer) appendLine(dst []Token, stopAtLiteral bool) ([]Token, error) {
	// limit is the length dst may reach in this call (MaxLineTokens more).
	limit := len(dst) + int(t.maxTokens)
	if limit < len(dst) {
		limit = int(^uint(0) >> 1)
	}
	for {
		if t.pend == 0 {
			var done bool
			dst, done = t.appendFast(dst, limit)
			if done {
				return dst, nil
			}
		}
		if len(dst) >= limit {
			return dst, &LimitError{Offset: t.Offset(), Limit: int64(t.maxTokens), Got: int64(t.maxTokens) + 1, Err: ErrTooManyTokens}
		}
		kind, err := t.next()
		if err != nil {
			return dst, err
		}
		tok := t.Token()
		if kind == KindLiteral {
			if stopAtLiteral || tok.Num > uint64(t.maxString) {
				return append(dst, tok), nil
			}
			b, err := t.LiteralBytes()
			if err != nil {
				// Keep the header so that a retry finds the literal.
				return append(dst, tok), err
			}
			tok.b = b
		}
		dst = append(dst, tok)
		if kind == KindCRLF {
			return dst, nil
		}
	}
}

// appendFast tokenizes what is in the buffer until it meets a token that is
// not whole there, or that needs the general path, or dst reaches limit
// tokens. done reports the end of the line.
func (t *Tokenizer) appendFast(dst []Token, limit int) ([]Token, bool) {
	buf := t.buf[:t.w]
	r := t.r
	// Every token takes at least one byte: when the buffer could hold more
	// tokens than dst has room for, look at no more bytes than that room.
	// A token cut there is not whole, so the loop stops before it and
	// appendLine checks the bound; the loop itself checks nothing.
	if room := limit - len(dst); room < len(buf)-r {
		buf = buf[:r+room]
	}
	maxEnd := t.lineStart + t.maxLine
loop:
	for r < len(buf) {
		c := buf[r]
		switch charClass[c] & clsKindMask {
		case clsSpace:
			i := r + 1
			for i < len(buf) && buf[i] == ' ' {
				i++
			}
			if i == len(buf) {
				break loop
			}
			dst = appendTok(dst, KindSP, uint64(i-r), nil)
			r = i
		case clsOpen:
			if t.depth >= int(t.maxDepth) {
				break loop
			}
			t.depth++
			dst = appendTok(dst, specialKind[c], 0, nil)
			r++
		case clsClose:
			if t.depth > 0 {
				t.depth--
			}
			dst = appendTok(dst, specialKind[c], 0, nil)
			r++
		case clsQuote:
			// quotedStop's first step, inline: most strings of a FETCH
			// stream end within eight bytes.
			i := r + 1
			if i+8 <= len(buf) {
				if m := quotedMask(binary.LittleEndian.Uint64(buf[i:])); m != 0 {
					i += bits.TrailingZeros64(m) / 8
				} else {
					i = quotedStop(buf, i+8)
				}
			} else {
				i = quotedStop(buf, i)
			}
			if i == len(buf) || buf[i] != '"' || i+1 > maxEnd {
				break loop
			}
			dst = appendTok(dst, KindQuoted, 0, buf[r+1:i:i])
			r = i + 1
		case clsCR:
			if r+1 >= len(buf) || buf[r+1] != '\n' || r > maxEnd {
				break loop // CRLF checks the line's length
			}
			dst = appendTok(dst, KindCRLF, 0, nil)
			t.r = r + 2
			t.pend |= pendEOL
			t.depth = 0
			return dst, true
		case clsAtom, clsNum, clsN:
			i := r
			all := uint8(clsDigit)
			for i < len(buf) {
				k := charClass[buf[i]]
				if k&clsNext == 0 {
					break
				}
				all &= k
				i++
			}
			if i == len(buf) || i > maxEnd {
				break loop
			}
			b := buf[r:i:i]
			kind := KindAtom
			var num uint64
			switch {
			case all != 0:
				if v, ok := parseUint(b); ok {
					kind, num = KindNumber, v
				}
			case i-r == 1 && (c == '*' || c == '+'):
				kind = specialKind[c]
			case i-r == 3 && isNIL(b):
				kind = KindNIL
			}
			dst = appendTok(dst, kind, num, b)
			r = i
		default:
			break loop
		}
	}
	t.r = r
	return dst, false
}

// appendTok appends a token to dst, writing it field by field: a Token
// built whole and then copied is read back with 16-byte loads over its
// byte and word stores, which stalls the CPU's store forwarding (it cost
// a third of AppendLine's time).
func appendTok(dst []Token, kind Kind, num uint64, b []byte) []Token {
	n := len(dst)
	if n == cap(dst) {
		dst = append(dst, Token{})
	} else {
		dst = dst[:n+1]
	}
	dst[n].set(kind, num, b)
	return dst
}
