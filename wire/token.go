package wire

import (
	"encoding/binary"
	"io"
	"math/bits"
	"strconv"
)

// Kind is the kind of a Token.
type Kind uint8

// The kinds of token that Next returns.
const (
	KindInvalid  Kind = iota
	KindAtom          // an atom; Bytes holds it
	KindNumber        // a number of up to 64 bits; Num holds it, Bytes the digits
	KindQuoted        // a quoted string; Bytes holds it unescaped
	KindLiteral       // a literal header; Literal describes it and its body is pending
	KindNIL           // NIL, in any case
	KindLParen        // (
	KindRParen        // )
	KindLBracket      // [
	KindRBracket      // ]
	KindPartial       // <start> or <start.length> right after ']'; Num and Length hold them
	KindStar          // a lone * (an untagged response, or * in a set)
	KindPlus          // a lone + (a continuation request)
	KindSP            // one or more spaces; Num holds how many
	KindCRLF          // the end of a line
	// KindText is the text of a status response (after "tag OK ", "* BYE
	// " and the like, and after the response code if any) or of a
	// continuation request (after "+ "), up to but not including the CRLF;
	// Bytes holds it raw. Next and Scan never read literals or lists in it.
	KindText
)

var kindNames = [...]string{
	KindInvalid:  "invalid",
	KindAtom:     "atom",
	KindNumber:   "number",
	KindQuoted:   "quoted",
	KindLiteral:  "literal",
	KindNIL:      "NIL",
	KindLParen:   "'('",
	KindRParen:   "')'",
	KindLBracket: "'['",
	KindRBracket: "']'",
	KindPartial:  "partial",
	KindStar:     "'*'",
	KindPlus:     "'+'",
	KindSP:       "SP",
	KindCRLF:     "CRLF",
	KindText:     "text",
}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one token returned by Tokenizer.Next. It is small enough to be
// returned in registers.
type Token struct {
	Kind   Kind
	flags  uint8
	Num    uint64 // KindNumber: the value; KindPartial: the start; KindLiteral: the size
	Length uint64 // KindPartial: the length, when HasLength
	b      []byte
}

const (
	tokHasLength = 1 << iota
	tokNonSync
	tokBinary
)

// set writes the token field by field: copying a whole Token built on the
// stack stalls the CPU's store forwarding (16-byte loads over byte and word
// stores) and cost a third of Scan's time.
func (t *Token) set(kind Kind, num uint64, b []byte) {
	t.Kind, t.flags, t.Num, t.Length, t.b = kind, 0, num, 0, b
}

// HasLength reports whether a KindPartial token gave a length.
func (t Token) HasLength() bool { return t.flags&tokHasLength != 0 }

// Literal describes a KindLiteral token's header.
func (t Token) Literal() LiteralInfo {
	return LiteralInfo{Size: int64(t.Num), NonSync: t.flags&tokNonSync != 0, Binary: t.flags&tokBinary != 0}
}

func literalToken(info LiteralInfo) Token {
	tok := Token{Kind: KindLiteral, Num: uint64(info.Size)}
	if info.NonSync {
		tok.flags |= tokNonSync
	}
	if info.Binary {
		tok.flags |= tokBinary
	}
	return tok
}

// Bytes returns the token's bytes: the atom, the digits, the unescaped
// quoted string, NIL, '*' or '+' as received, the text of a KindText, or
// the body of a literal read whole by AppendLine. They are valid until the
// next line is read.
func (t Token) Bytes() []byte { return t.b }

// String returns a copy of the token's bytes.
func (t Token) String() string { return string(t.b) }

// Next reads the next token and returns it. It is Scan followed by Token.
//
// Next and Scan suit proxies and tracers, which read any line in either
// direction without knowing its grammar. They read atoms with the
// characters of RFC 9051's ATOM-CHAR plus the list wildcards '*' and '%', a
// leading '\' and bytes with the high bit set (as AString does), so flags,
// sequence sets and LIST patterns come whole; atoms stop at '[' and ']'. A
// lone '*' or '+' is KindStar or KindPlus; an atom of digits is KindNumber;
// NIL is KindNIL. A partial ("<0>", "<0.10>") is KindPartial only right
// after a ']' (BODY[]<0>); anywhere else "<0>" or "<x" is an atom, as
// ATOM-CHAR allows. For a KindLiteral, read the body with LiteralBytes or
// LiteralReader, or let the next call skip it.
//
// The text of a status response ("tag OK", "* NO", "* BAD", "* BYE", "*
// PREAUTH", any case) and of a continuation request ("+ ") is free text:
// after the status word and its response code ("[...]", tokenized), or
// after "+ ", the rest of the line comes as one KindText token, so a "{5}"
// or an unbalanced quote at its end is never taken for a literal or a
// string. Parsers that know the grammar get better errors and tolerance
// from the typed methods (Atom, Flag, AString, Text, ...).
//
// An atom or a number the end of the stream cuts is returned as it is, as
// Atom returns it ("NI" then the end is the atom NI), and the next call
// meets the end: a proxy relays and traces a cut line's bytes.
func (t *Tokenizer) Next() (Token, error) {
	if _, err := t.Scan(); err != nil {
		return Token{}, err
	}
	kind := t.lazy
	if kind == 0 {
		return t.tok, nil
	}
	// Built here from scalars rather than returned by lazyToken: a Token
	// passed on through a temporary is copied with 16-byte moves over the
	// byte stores that wrote it, a store-forwarding stall (see Token.set).
	b := t.lazyBytes()
	return Token{Kind: kind, Num: t.lazyNum(b), b: b}, nil
}

// Scan reads the next token and returns its kind; Token, TokenBytes and
// TokenNum return the rest. Scan is the fastest way through a stream: it
// returns two words in registers.
func (t *Tokenizer) Scan() (Kind, error) {
	return t.next()
}

// Token returns the token read by the last call to Scan or Next.
func (t *Tokenizer) Token() Token {
	if t.lazy == 0 {
		return t.tok
	}
	return t.lazyToken()
}

// TokenBytes returns the bytes of the token read by the last call to Scan:
// see Token.Bytes. They are valid until the next line is read.
func (t *Tokenizer) TokenBytes() []byte {
	if t.lazy == 0 {
		return t.tok.b
	}
	return t.lazyBytes()
}

// TokenNum returns the number of the token read by the last call to Scan:
// see Token.Num.
func (t *Tokenizer) TokenNum() uint64 {
	if t.lazy == 0 {
		return t.tok.Num
	}
	return t.lazyNum(t.lazyBytes())
}

// The fast paths of next do not build a Token: they record its kind in
// t.lazy and where it lies in the buffer in t.ts and t.te (for KindSP, the
// run of spaces; for a quoted string, its bytes between the quotes). A
// number's value is parsed only when asked for. At most four stores (one
// for a paren or CRLF) instead of a Token's seven, and no write barrier:
// the Token is made when Next, Token, TokenBytes or TokenNum asks, or
// before the buffer is replaced (pinToken).

// setLazy records a token read by a fast path.
func (t *Tokenizer) setLazy(kind Kind, ts, te int) {
	t.lazy, t.ts, t.te = kind, ts, te
}

// setTok records a token built whole (the slow paths).
func (t *Tokenizer) setTok(tok Token) {
	t.tok = tok
	t.lazy = 0
}

// lazyBytes returns the bytes of a token read by a fast path.
func (t *Tokenizer) lazyBytes() []byte {
	switch t.lazy {
	case KindAtom, KindNumber, KindNIL, KindStar, KindPlus, KindQuoted:
		return t.buf[t.ts:t.te:t.te]
	}
	return nil
}

// lazyToken builds the Token of a token read by a fast path.
func (t *Tokenizer) lazyToken() Token {
	b := t.lazyBytes()
	return Token{Kind: t.lazy, Num: t.lazyNum(b), b: b}
}

// lazyNum returns the Num of a token read by a fast path, whose bytes are
// b.
func (t *Tokenizer) lazyNum(b []byte) uint64 {
	switch t.lazy {
	case KindSP:
		return uint64(t.te - t.ts)
	case KindNumber:
		n, _ := parseUint(b) // the fast path checked that it fits
		return n
	}
	return 0
}

// pinToken makes the last token whole before the buffer is replaced
// (makeRoom, Unshare, Release), so that Token and TokenBytes still return
// its bytes where they were. Moves within the buffer (shift, reclaim) need
// no pin: a slice into the buffer would see the same bytes as t.ts and
// t.te do.
func (t *Tokenizer) pinToken() {
	if t.lazy != 0 {
		t.setTok(t.lazyToken())
	}
}

// next reads the next token, whatever it is. At the head of a line it
// follows the first tokens (see nextHead), so that the text of a status
// response or a continuation request comes as one KindText token.
func (t *Tokenizer) next() (Kind, error) {
	if t.pend != 0 {
		return t.nextPending()
	}
	// The fast paths are here rather than in a function of their own, so
	// that Scan costs one call per token.
	//
	// Fast paths: the whole token is in the buffer. Anything else (the
	// buffer ends inside the token, a rare token, an error) goes through
	// the general methods, which read more as needed.
	buf, r := t.buf[:t.w], t.r
	if uint(r) >= uint(len(buf)) {
		return t.nextSlow()
	}
	i := r + 1 // the bytes of the token known so far end at i
	switch c := buf[r]; charClass[c] & clsKindMask {
	case clsSpace:
		for i < len(buf) && buf[i] == ' ' {
			i++
		}
		if i == len(buf) {
			return t.nextSlow()
		}
		t.r = i
		t.setLazy(KindSP, r, i)
		return KindSP, nil
	case clsOpen:
		if t.depth >= int(t.maxDepth) {
			return t.nextSlow()
		}
		t.depth++
		t.r = i
		kind := specialKind[c]
		t.lazy = kind // no bytes: t.ts and t.te are not used
		return kind, nil
	case clsClose:
		if t.depth > 0 {
			t.depth--
		}
		t.r = i
		kind := specialKind[c]
		t.lazy = kind // no bytes: t.ts and t.te are not used
		return kind, nil
	case clsQuote:
		// Most strings of a FETCH stream end within sixteen bytes: the
		// first two words are tested inline, without a branch between them
		// (both masks are computed; a zero first mask adds eight).
		if len(buf)-i < 16 {
			return t.nextQuoted(buf, r, i)
		}
		m1 := quotedMask(binary.LittleEndian.Uint64(buf[i:]))
		m2 := quotedMask(binary.LittleEndian.Uint64(buf[i+8:]))
		if m1|m2 == 0 {
			return t.nextQuoted(buf, r, i+16)
		}
		n := bits.TrailingZeros64(m1) / 8 // 8 when m1 is 0
		if m1 == 0 {
			n += bits.TrailingZeros64(m2) / 8
		}
		i += n
		if buf[i] != '"' || i+1-t.lineStart > t.maxLine {
			return t.nextSlow()
		}
		t.r = i + 1
		t.setLazy(KindQuoted, r+1, i)
		return KindQuoted, nil
	case clsCR:
		if i == len(buf) || buf[i] != '\n' || r-t.lineStart > t.maxLine {
			return t.nextSlow() // CRLF checks the line's length
		}
		t.r = i + 1
		t.pend |= pendEOL
		t.depth = 0
		t.lazy = KindCRLF
		return KindCRLF, nil
	case clsNum:
		// A number, unless an atom byte follows its digits. Its value is
		// parsed only when asked for (lazyToken).
		if len(buf)-i < 8 {
			return t.nextNumber(buf, r, i)
		}
		m := digitMask(binary.LittleEndian.Uint64(buf[i:]))
		if m == 0 {
			return t.nextNumber(buf, r, i+8)
		}
		i += bits.TrailingZeros64(m) / 8
		if charClass[buf[i]]&clsNext == 0 {
			if i-t.lineStart > t.maxLine {
				return t.nextSlow()
			}
			t.r = i
			t.setLazy(KindNumber, r, i)
			return KindNumber, nil
		}
		// An atom: go on below.
	case clsN:
		// NIL, in any case, or an atom that begins with N (below).
		if b := buf[r:]; len(b) > 3 && b[1]|0x20 == 'i' && b[2]|0x20 == 'l' &&
			charClass[b[3]]&clsNext == 0 && r+3-t.lineStart <= t.maxLine {
			t.r = r + 3
			t.setLazy(KindNIL, r, r+3)
			return KindNIL, nil
		}
	case clsAtom:
		// Below.
	default:
		return t.nextSlow()
	}
	// The rest of an atom: its first sixteen bytes inline (keywords such
	// as BODYSTRUCTURE are longer than eight).
	if len(buf)-i < 16 {
		return t.nextAtom(buf, r, i)
	}
	m := atomMask(binary.LittleEndian.Uint64(buf[i:]))
	if m == 0 {
		if m = atomMask(binary.LittleEndian.Uint64(buf[i+8:])); m == 0 {
			return t.nextAtom(buf, r, i+16)
		}
		i += 8
	}
	i += bits.TrailingZeros64(m) / 8
	if i-t.lineStart > t.maxLine {
		return t.nextSlow() // the line is too long
	}
	return t.endAtom(buf, r, i)
}

// nextQuoted is next for a quoted string that begins at r (the quote),
// whose bytes up to i hold no quote, backslash or control byte. buf is
// t.buf[:t.w].
func (t *Tokenizer) nextQuoted(buf []byte, r, i int) (Kind, error) {
	i = quotedStop(buf, i)
	if i == len(buf) || buf[i] != '"' || i+1-t.lineStart > t.maxLine {
		return t.nextSlow()
	}
	t.r = i + 1
	t.setLazy(KindQuoted, r+1, i)
	return KindQuoted, nil
}

// nextNumber is next for a token that begins at r with digits up to i.
func (t *Tokenizer) nextNumber(buf []byte, r, i int) (Kind, error) {
	i = digitStop(buf, i)
	if i == len(buf) || charClass[buf[i]]&clsNext != 0 {
		return t.nextAtom(buf, r, i)
	}
	if i-t.lineStart > t.maxLine {
		return t.nextSlow()
	}
	kind := KindNumber
	if i-r >= 20 {
		if _, ok := parseUint(buf[r:i]); !ok {
			kind = KindAtom // past 64 bits
		}
	}
	t.r = i
	t.setLazy(kind, r, i)
	return kind, nil
}

// nextAtom is next for an atom that begins at r with atom bytes up to i.
func (t *Tokenizer) nextAtom(buf []byte, r, i int) (Kind, error) {
	i = atomStop(buf, i)
	if i == len(buf) || i-t.lineStart > t.maxLine {
		return t.nextSlow() // the atom may go on, or the line is too long
	}
	return t.endAtom(buf, r, i)
}

// endAtom ends the atom that begins at r at i: a lone "*" or "+" is its
// special kind. Small enough to be inlined into next's fast path.
func (t *Tokenizer) endAtom(buf []byte, r, i int) (Kind, error) {
	kind := KindAtom
	if i-r == 1 && (buf[r] == '*' || buf[r] == '+') {
		kind = specialKind[buf[r]]
	}
	t.r = i
	t.setLazy(kind, r, i)
	return kind, nil
}

// nextPending is next when something is pending (see Tokenizer.pend).
// Every call that next makes is its last action, so that its fast paths
// keep nothing on the stack across a call.
func (t *Tokenizer) nextPending() (Kind, error) {
	if err := t.begin(); err != nil {
		return KindInvalid, err
	}
	if t.pend&pendHead != 0 {
		return t.nextHead()
	}
	return t.next()
}

// nextSlow is Next for tokens that are not whole in the buffer.
func (t *Tokenizer) nextSlow() (Kind, error) {
	c, err := t.peekAt(0)
	if err != nil {
		return KindInvalid, err
	}
	switch c {
	case ' ':
		start := t.Offset()
		if err := t.SP(); err != nil {
			return KindInvalid, err
		}
		t.setTok(Token{Kind: KindSP, Num: uint64(t.Offset() - start)})
		return KindSP, nil
	case '\r', '\n':
		if err := t.CRLF(); err != nil {
			return KindInvalid, err
		}
		t.setTok(Token{Kind: KindCRLF})
		return KindCRLF, nil
	case '(', ')', '[', ']':
		t.setTok(Token{Kind: specialKind[c]})
		return specialKind[c], t.consumeSpecial(c)
	case '"':
		b, err := t.quoted()
		if err != nil {
			return KindInvalid, err
		}
		t.setTok(Token{Kind: KindQuoted, b: b})
		return KindQuoted, nil
	case '{':
		info, err := t.literalHeader()
		if err != nil {
			return KindInvalid, err
		}
		t.setTok(literalToken(info))
		return KindLiteral, nil
	case '~':
		c2, err := t.peekSecond()
		if err != nil {
			return KindInvalid, err
		}
		if c2 == '{' {
			info, err := t.literalHeader()
			if err != nil {
				return KindInvalid, err
			}
			t.setTok(literalToken(info))
			return KindLiteral, nil
		}
	case '<':
		// A partial follows a section's ']' ("BODY[]<0>") and nothing
		// else: '<' and '>' are ATOM-CHARs, so "KEYWORD <0" and a flag
		// "<0>" are atoms. The ']' is the byte just consumed, even when
		// given up (afterClose; looked at before peekSecond, which may
		// give up consumed bytes).
		if !t.afterClose(t.r) {
			break
		}
		c2, err := t.peekSecond()
		if err != nil {
			return KindInvalid, err
		}
		if c2 >= '0' && c2 <= '9' {
			start, length, has, err := t.Partial()
			if err != nil {
				return KindInvalid, err
			}
			tok := Token{Kind: KindPartial, Num: start, Length: length}
			if has {
				tok.flags = tokHasLength
			}
			t.setTok(tok)
			return KindPartial, nil
		}
	}
	n, err := t.scan(&nextSet)
	if err != nil {
		return KindInvalid, err
	}
	if n == 0 {
		return KindInvalid, t.syntaxErr(0, "token", nil)
	}
	if err := t.checkLine(n); err != nil {
		return KindInvalid, err
	}
	b := t.borrow(t.r, t.r+n)
	tok := Token{Kind: KindAtom, b: b}
	switch {
	case n == 1 && (c == '*' || c == '+'):
		tok.Kind = specialKind[c]
	case isNIL(b):
		tok.Kind = KindNIL
	case allDigits(b):
		if v, ok := parseUint(b); ok {
			tok.Kind, tok.Num = KindNumber, v
		}
	}
	t.r += n
	t.setTok(tok)
	return tok.Kind, nil
}

// peekSecond returns the byte after the next one, or 0 at EOF.
func (t *Tokenizer) peekSecond() (byte, error) {
	c, err := t.peekAt(1)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return 0, nil
	}
	return c, err
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// Byte sets. ATOM-CHAR is any CHAR except atom-specials:
// "(" / ")" / "{" / SP / CTL / list-wildcards ("%" / "*") / quoted-specials
// ('"' / "\") / resp-specials ("]").
var (
	atomSet    [256]bool // ATOM-CHAR without '['
	astringSet [256]bool // ASTRING-CHAR: ATOM-CHAR plus ']' (and '[')
	tagSet     [256]bool // a tag: ASTRING-CHAR, 7-bit ('+' too: see Tag)
	flagSet    [256]bool // flags and keywords, tolerant of '[' ']'
	nextSet    [256]bool // what Next reads as one atom
	seqSetSet  [256]bool // sequence-set bytes
	digitSet   [256]bool
	spaceSet   [256]bool

	// charClass drives Next's fast paths: the low bits give the class of a
	// token's first byte, the high bits membership in runs.
	charClass   [256]uint8
	specialKind [256]Kind
)

const (
	clsKindMask = 0x0f
	clsOther    = 0 // anything the fast paths leave to nextSlow
	clsSpace    = 1
	clsOpen     = 2
	clsClose    = 3
	clsQuote    = 4
	clsCR       = 5
	clsAtom     = 6 // a byte that starts an atom in Next
	clsNum      = 7 // a digit: a number or an atom in Next
	clsN        = 8 // 'N' or 'n': NIL or an atom in Next

	clsNext  = 0x10 // part of an atom in Next
	clsDigit = 0x20 // 0-9
)

func init() {
	for c := 0x21; c < 0x7f; c++ {
		switch c {
		case '(', ')', '{', '%', '*', '"', '\\', ']':
		default:
			atomSet[c] = true
		}
	}
	atomSet['['] = false
	astringSet = atomSet
	astringSet['['] = true
	astringSet[']'] = true
	tagSet = astringSet
	for c := 0x80; c < 0x100; c++ {
		astringSet[c] = true // a tolerance: raw UTF-8 or Latin-1 names
	}
	flagSet = astringSet
	flagSet['\\'] = true
	flagSet['*'] = true
	nextSet = atomSet
	nextSet['*'] = true
	nextSet['%'] = true
	nextSet['\\'] = true
	for c := 0x80; c < 0x100; c++ {
		nextSet[c] = true // 8-bit atoms, as AString accepts them
	}
	for c := '0'; c <= '9'; c++ {
		digitSet[c] = true
		seqSetSet[c] = true
	}
	seqSetSet[':'] = true
	seqSetSet[','] = true
	seqSetSet['*'] = true
	spaceSet[' '] = true

	for c := 0; c < 256; c++ {
		if nextSet[c] {
			charClass[c] = clsAtom | clsNext
		}
	}
	for c := '0'; c <= '9'; c++ {
		charClass[c] = clsNum | clsNext | clsDigit
	}
	charClass['N'], charClass['n'] = clsN|clsNext, clsN|clsNext
	// '~' and '<' may start a literal8 or a partial: leave them to nextSlow.
	charClass['~'] &^= clsKindMask
	charClass['<'] &^= clsKindMask
	charClass[' '] = clsSpace
	charClass['('], charClass['['] = clsOpen, clsOpen
	charClass[')'], charClass[']'] = clsClose, clsClose
	charClass['"'] = clsQuote
	charClass['\r'] = clsCR
	specialKind['('], specialKind[')'] = KindLParen, KindRParen
	specialKind['['], specialKind[']'] = KindLBracket, KindRBracket
	specialKind['*'], specialKind['+'] = KindStar, KindPlus
}
