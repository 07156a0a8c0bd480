package codec

import (
	"strconv"

	"github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/wire"
)

// msgArena is the flyweight storage of the envelopes and body structures a
// Decoder hands out: their nodes, address, parameter, string and child
// slices and the canonical bytes of extension data. It is reset at the start
// of every response and reused, so that decoding a steady stream of FETCH
// responses allocates nothing once it has grown to the size of the largest
// response. Everything handed out before a reset becomes invalid: values
// are valid until the next call to Decoder.Next.
type msgArena struct {
	envs   msgSlab[Envelope]
	bodies msgSlab[BodyStructure]

	// Slices handed out are capped sub-slices of these; when one grows, the
	// slices handed out before keep the old array.
	addrs  []Address
	params []Param
	strs   []Bytes
	kids   []*BodyStructure
	stack  []*BodyStructure // children of the multiparts being decoded
	ext    []byte           // canonical extension data
	unesc  []byte           // repaired quoted strings that held escapes
}

// A reset keeps at most msgArenaKeep elements of each slice and
// msgSlabKeep chunks of each slab (about 2,800 values): a single huge
// response does not pin its memory for the decoder's lifetime.
const (
	msgArenaKeep = 1 << 14
	msgSlabKeep  = 16
)

// reset makes the arena reuse its memory. Everything handed out before
// becomes invalid.
func (a *msgArena) reset() {
	a.envs.reset()
	a.bodies.reset()
	a.addrs = msgKeep(a.addrs)
	a.params = msgKeep(a.params)
	a.strs = msgKeep(a.strs)
	a.kids = msgKeep(a.kids)
	a.stack = msgKeep(a.stack)
	a.ext = msgKeep(a.ext)
	a.unesc = msgKeep(a.unesc)
}

func msgKeep[T any](s []T) []T {
	if cap(s) > msgArenaKeep {
		return nil
	}
	return s[:0]
}

// msgSlabMaxShift caps a msgSlab chunk at 4 << 6 = 256 values.
const msgSlabMaxShift = 6

// msgSlab hands out pointers to values allocated in chunks. Chunks never
// move, so pointers stay valid while the slab grows.
type msgSlab[T any] struct {
	chunks [][]T
	i, n   int // the chunk in use and how much of it is used
}

func (s *msgSlab[T]) get() *T {
	for s.i < len(s.chunks) {
		c := s.chunks[s.i]
		if s.n < len(c) {
			p := &c[s.n]
			s.n++
			var zero T
			*p = zero
			return p
		}
		s.i++
		s.n = 0
	}
	// Chunks double from 4 to 256 values and stay at 256: the shift is
	// capped, not its result (4 << 62 is 0 and 4 << 61 negative: a response
	// of about 15,000 body parts or envelopes made the 62nd chunk and
	// crashed the process in make).
	size := 4 << min(len(s.chunks), msgSlabMaxShift)
	c := make([]T, size)
	s.chunks = append(s.chunks, c)
	s.n = 1
	return &c[0]
}

func (s *msgSlab[T]) reset() {
	if len(s.chunks) > msgSlabKeep {
		clear(s.chunks[msgSlabKeep:])
		s.chunks = s.chunks[:msgSlabKeep]
	}
	s.i, s.n = 0, 0
}

// msgMultipartType is the Type of every multipart body (the wire form does
// not carry it).
var msgMultipartType = Bytes("multipart")[:9:9]

// msgDelim lists the bytes that may follow the closing quote of a quoted
// string in an ENVELOPE or BODYSTRUCTURE. A quote followed by anything else
// is taken as part of the string (163.com does not escape quotes).
var msgDelim = [256]bool{' ': true, ')': true, '(': true, '"': true, '\r': true, '\n': true}

// readEnvelope decodes an ENVELOPE; the tokenizer is at its "(". NIL gives
// a nil Envelope. The Envelope is valid until the next Decoder.Next.
func (d *Decoder) readEnvelope() (*Envelope, error) {
	c, err := d.t.Peek()
	if err != nil {
		return nil, err
	}
	if c != '(' {
		if ok, err := d.t.AcceptNIL(); err != nil || ok {
			return nil, err
		}
		return nil, d.msgExpectErr("envelope")
	}
	return d.msgEnvelope()
}

// readBodyStructure decodes a BODYSTRUCTURE (extended) or a BODY; the
// tokenizer is at its "(". Extension data is decoded in either case. With
// extended every part is Extended; without it, only the parts that carry
// extension data are (encode.go's encAllExtended relies on this). NIL gives
// a nil BodyStructure. The BodyStructure is valid until the next
// Decoder.Next.
func (d *Decoder) readBodyStructure(extended bool) (*BodyStructure, error) {
	c, err := d.t.Peek()
	if err != nil {
		return nil, err
	}
	if c != '(' {
		if ok, err := d.t.AcceptNIL(); err != nil || ok {
			return nil, err
		}
		return nil, d.msgExpectErr("body structure")
	}
	return d.msgBody(extended)
}

// msgExpectErr returns a syntax error at the next byte.
func (d *Decoder) msgExpectErr(what string) error {
	got := "EOF"
	if c, err := d.t.Peek(); err == nil {
		got = printable.QuoteChar(string([]byte{c}))
	}
	return &wire.SyntaxError{Offset: d.t.Offset(), Expected: what, Got: got}
}

// msgOpen consumes "(" and any spaces after it (a tolerance).
func (d *Decoder) msgOpen() error {
	if err := d.t.Expect('('); err != nil {
		return err
	}
	return d.skipSpaces()
}

// msgClose consumes any spaces (a tolerance) and ")".
func (d *Decoder) msgClose() error {
	if err := d.skipSpaces(); err != nil {
		return err
	}
	return d.t.Expect(')')
}

// msgMore consumes the spaces before the next item of a list and reports
// whether an item follows. At ")" it reports false and consumes nothing:
// lists that end early (mail.ru leaves trailing fields out) give zero
// values for the missing fields.
func (d *Decoder) msgMore() (bool, error) {
	t := d.t
	c, ok := t.PeekBuffered()
	if !ok {
		var err error
		if c, err = t.Peek(); err != nil {
			return false, err
		}
	}
	if c == ' ' {
		if err := t.SP(); err != nil {
			return false, err
		}
		if c, ok = t.PeekBuffered(); !ok {
			var err error
			if c, err = t.Peek(); err != nil {
				return false, err
			}
		}
	}
	return c != ')', nil
}

// msgNString reads an nstring, tolerating atoms where a string belongs and
// repairing quoted strings with unescaped quotes. Strings borrow the
// tokenizer's buffer; NIL (any case) is nil, "" is empty and not nil.
func (d *Decoder) msgNString() (Bytes, error) {
	t := d.t
	c, ok := t.PeekBuffered()
	var err error
	if !ok {
		if c, err = t.Peek(); err != nil {
			return nil, err
		}
	}
	var b []byte
	if c == '"' {
		m := t.Mark()
		b, err = t.Quoted()
		if err != nil {
			if _, ok := err.(*wire.SyntaxError); ok {
				return d.msgRepairQuoted(m, err)
			}
			return nil, err
		}
		next, ok := t.PeekBuffered()
		if !ok {
			if next, err = t.Peek(); err != nil {
				// A read error (a deadline): the caller resumes the
				// response; taking the string as ended here would
				// skip the repair below and decode differently.
				return nil, err
			}
		}
		if !msgDelim[next] {
			return d.msgRepairQuoted(m, nil)
		}
	} else {
		if ok, err := t.AcceptNIL(); err != nil || ok {
			return nil, err
		}
		if b, err = t.AString(); err != nil {
			return nil, err
		}
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// msgRepairQuoted rereads the quoted string at m from the raw line: its end
// is the first quote followed by a delimiter (msgDelim) or the end of the
// line; quotes before it belong to the string, and a backslash escapes only
// a quote or a backslash. orig is the tokenizer's error for the string, if
// it gave one; it is returned when the string cannot be repaired. The work
// is linear in the string's length: the line is looked at (PeekAt) only as
// far as the string's end, not to the end of the line, so that a line of
// many such strings costs no more than one reading of it.
func (d *Decoder) msgRepairQuoted(m wire.Mark, orig error) (Bytes, error) {
	t := d.t
	fail := func(err error) (Bytes, error) {
		if orig != nil {
			return nil, orig
		}
		return nil, err
	}
	if err := t.Rewind(m); err != nil {
		return fail(err)
	}
	start := t.Offset()
	p := msgPeeker{t: t}
	end, esc, balanced, err := msgScanQuoted(&p)
	if h := testHookRepairPeeks; h != nil {
		h(p.n)
	}
	if err != nil {
		if _, ok := err.(*wire.SyntaxError); ok {
			return fail(err)
		}
		return nil, err // a read error: the caller may resume the response
	}
	if end < 0 {
		return fail(&wire.SyntaxError{Offset: start, Expected: "closing '\"'", Got: msgPeekExcerpt(t)})
	}
	if !balanced {
		// The bytes are consumed with Expect, which counts parentheses
		// and brackets toward the nesting depth: only balanced ones leave
		// it as it was.
		return fail(&wire.SyntaxError{Offset: start, Expected: "quoted string", Got: msgPeekExcerpt(t)})
	}
	// Consume the string's bytes. The tokenizer has no call to skip n
	// bytes; Expect consumes any byte (and counts the balanced parentheses
	// and brackets in and out again). A run of spaces inside the string
	// ends before its closing quote, so SP never goes past it.
	stop := start + int64(end) + 1
	for t.Offset() < stop {
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		if c == ' ' {
			err = t.SP()
		} else {
			err = t.Expect(c)
		}
		if err != nil {
			return nil, err
		}
	}
	raw, err := t.Since(m)
	if err != nil {
		return nil, err
	}
	return d.unescapeQuoted(raw[1:end:end], esc), nil
}

// msgPeeker looks at the bytes of the line ahead (Tokenizer.PeekAt) and
// counts them: the work of msgScanQuoted, which tests bound
// (testHookRepairPeeks).
type msgPeeker struct {
	t *wire.Tokenizer
	n int // bytes looked at
}

// at is t.PeekAt(i), counted.
func (p *msgPeeker) at(i int) (byte, error) {
	p.n++
	return p.t.PeekAt(i)
}

// testHookRepairPeeks, when set (tests only), is given the number of
// bytes of the line each msgRepairQuoted looked at to find its string's
// end. Read once per repair; nil outside tests.
var testHookRepairPeeks func(n int)

// msgScanQuoted finds, without consuming anything, the closing quote of the
// quoted string at the tokenizer's position, as msgRepairQuoted describes:
// end is its offset from the opening quote, -1 when the line ends first.
// esc reports escapes in the string; balanced reports whether its
// parentheses and brackets, counted together as the tokenizer counts
// depth, never close more than were opened and end balanced. The line is
// read no further than the byte after the closing quote (and the spaces
// after a quote, to see what follows them): a bare LF, or a CR, ends it
// (the tokenizer's CRLF says later whether the line's end is well formed).
func msgScanQuoted(t *msgPeeker) (end int, esc, balanced bool, err error) {
	depth, neg := 0, false
	for i := 1; ; i++ {
		c, err := t.at(i)
		if err != nil {
			return -1, false, false, err
		}
		switch c {
		case '\\':
			n, err := t.at(i + 1)
			if err != nil {
				return -1, false, false, err
			}
			if n == '"' || n == '\\' {
				esc = true
				i++
			}
		case '"':
			n, err := t.at(i + 1)
			if err != nil {
				return -1, false, false, err
			}
			if !msgDelim[n] {
				break
			}
			ok := n != ' '
			if !ok {
				if ok, err = msgFieldFollows(t, i+1); err != nil {
					return -1, false, false, err
				}
			}
			if ok {
				return i, esc, depth == 0 && !neg, nil
			}
		case '\r', '\n':
			return -1, false, false, nil
		case '(', '[':
			depth++
		case ')', ']':
			if depth--; depth < 0 {
				neg = true
			}
		}
	}
}

// msgFieldFollows reports whether, after the spaces at offset i of the
// line (from the tokenizer's position), what comes can start the next
// field of a body structure or envelope (NIL, a string, a list, a number, a
// literal) or ends the line. A quote followed by a space and a word ("Fw:
// "Q3 plan" draft") is inside the string.
func msgFieldFollows(t *msgPeeker, i int) (bool, error) {
	c, err := t.at(i)
	for err == nil && c == ' ' {
		i++
		c, err = t.at(i)
	}
	if err != nil {
		return false, err
	}
	switch {
	case c == 'N' || c == 'n' || c == '"' || c == '(' || c == ')' || c == '{' || c == '~' || c == '-' || c == '\r' || c == '\n':
		return true, nil
	case c >= '0' && c <= '9':
		return true, nil
	}
	return false, nil
}

// msgPeekExcerpt is msgExcerpt of the rest of the line from the
// tokenizer's position, looked at without consuming it (at most 17 bytes).
func msgPeekExcerpt(t *wire.Tokenizer) string {
	var b [17]byte
	n := 0
	for n < len(b) {
		c, err := t.PeekAt(n)
		if err != nil || c == '\n' {
			break
		}
		if c == '\r' {
			if c2, err := t.PeekAt(n + 1); err != nil || c2 == '\n' {
				break
			}
		}
		b[n] = c
		n++
	}
	return msgExcerpt(b[:n])
}

func msgExcerpt(b []byte) string {
	if len(b) > 16 {
		return strconv.Quote(string(b[:16])) + "..."
	}
	return strconv.Quote(string(b))
}

// msgNumber reads a body-fld-octets or body-fld-lines: a number of up to 63
// bits, with the tolerances of real servers: a negative number (Exchange's
// -1), a number in a quoted string and NIL (0).
func (d *Decoder) msgNumber() (int64, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return 0, err
	}
	var b []byte
	if c == '"' {
		b, err = t.Quoted()
	} else {
		if ok, err := t.AcceptNIL(); err != nil || ok {
			return 0, err
		}
		b, err = t.Atom()
	}
	if err != nil {
		return 0, err
	}
	v, ok, overflow := msgParseInt(b)
	if !ok {
		if c != '"' && len(b) == 1 && b[0] == '-' {
			// An atom "-" is returned whole when the end of the
			// stream cuts "-1" (wire.Tokenizer.Atom): the cut, not a
			// syntax error, when the next byte is not there (the
			// read's error, io.ErrUnexpectedEOF at the end). A quoted
			// "-" is a whole token, malformed whatever follows.
			if err := d.cutErr(); err != nil {
				return 0, err
			}
		}
		serr := &wire.SyntaxError{Offset: t.Offset() - int64(len(b)), Expected: "number", Got: msgExcerpt(b)}
		if overflow {
			serr.Err = wire.ErrNumberOverflow
		}
		return 0, serr
	}
	return v, nil
}

// msgParseInt parses an optionally negative decimal number of 64 bits.
func msgParseInt(b []byte) (v int64, ok, overflow bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		if u > (1<<63)/10 {
			return 0, false, true
		}
		u = u*10 + uint64(c-'0')
		if u > 1<<63 {
			return 0, false, true
		}
	}
	if neg {
		return -int64(u), true, false // -(1<<63) wraps to itself
	}
	if u > 1<<63-1 {
		return 0, false, true
	}
	return int64(u), true, false
}

// msgEnvelope decodes an envelope at its "(".
func (d *Decoder) msgEnvelope() (*Envelope, error) {
	t := d.t
	if err := d.msgOpen(); err != nil {
		return nil, err
	}
	// Domino wraps the envelope in a second pair of parentheses. An
	// envelope's first field is an nstring, so "((" is unambiguous.
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	double := c == '('
	if double {
		if err := d.msgOpen(); err != nil {
			return nil, err
		}
	}
	e := d.msg.envs.get()
	if err := d.msgEnvelopeFields(e); err != nil {
		return nil, err
	}
	if err := d.msgClose(); err != nil {
		return nil, err
	}
	if double {
		if err := d.msgClose(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (d *Decoder) msgEnvelopeFields(e *Envelope) error {
	var err error
	if e.Date, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	if e.Subject, err = d.msgNString(); err != nil {
		return err
	}
	lists := [...]*[]Address{&e.From, &e.Sender, &e.ReplyTo, &e.To, &e.Cc, &e.Bcc}
	for _, l := range lists {
		if more, err := d.msgMore(); err != nil || !more {
			return err
		}
		if *l, err = d.msgAddressList(); err != nil {
			return err
		}
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	if e.InReplyTo, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	e.MessageID, err = d.msgNString()
	return err
}

// msgAddressList reads NIL or a list of addresses. An empty list "()", a
// string where the list belongs and NILs between addresses are tolerated;
// a list without addresses is nil.
func (d *Decoder) msgAddressList() ([]Address, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	if c != '(' {
		_, err := d.msgNString()
		return nil, err
	}
	if err := d.msgOpen(); err != nil {
		return nil, err
	}
	a := &d.msg
	start := len(a.addrs)
	for {
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		switch c {
		case ')':
			if err := t.Expect(')'); err != nil {
				return nil, err
			}
			n := len(a.addrs)
			if n == start {
				return nil, nil
			}
			return a.addrs[start:n:n], nil
		case ' ':
			if err := t.SP(); err != nil {
				return nil, err
			}
		case '(':
			a.addrs = append(a.addrs, Address{})
			if err := d.msgAddress(&a.addrs[len(a.addrs)-1]); err != nil {
				return nil, err
			}
		default:
			if ok, err := t.AcceptNIL(); err != nil || !ok {
				if err == nil {
					err = d.msgExpectErr("address")
				}
				return nil, err
			}
		}
	}
}

// msgAddress reads one address at its "(".
func (d *Decoder) msgAddress(p *Address) error {
	if err := d.msgOpen(); err != nil {
		return err
	}
	fields := [...]*Bytes{&p.Name, &p.ADL, &p.Mailbox, &p.Host}
	for i, f := range fields {
		if i > 0 {
			more, err := d.msgMore()
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
		var err error
		if *f, err = d.msgNString(); err != nil {
			return err
		}
	}
	return d.msgClose()
}

// msgBody decodes a body at its "(".
func (d *Decoder) msgBody(extended bool) (*BodyStructure, error) {
	if err := d.msgOpen(); err != nil {
		return nil, err
	}
	c, err := d.t.Peek()
	if err != nil {
		return nil, err
	}
	b := d.msg.bodies.get()
	b.Extended = extended
	if c == '(' {
		err = d.msgMultipart(b, extended)
	} else {
		err = d.msgSinglePart(b, extended)
	}
	if err != nil {
		return nil, err
	}
	if err := d.msgClose(); err != nil {
		return nil, err
	}
	return b, nil
}

// msgMultipart decodes the rest of a multipart body: its children, subtype
// and extension data.
func (d *Decoder) msgMultipart(b *BodyStructure, extended bool) error {
	t := d.t
	a := &d.msg
	b.Type = msgMultipartType
	start := len(a.stack)
	for {
		c, err := t.Peek()
		if err != nil {
			a.stack = a.stack[:start]
			return err
		}
		if c == ' ' { // a tolerance: spaces between the parts
			if err := t.SP(); err != nil {
				a.stack = a.stack[:start]
				return err
			}
			continue
		}
		if c != '(' {
			break
		}
		child, err := d.msgBody(extended)
		if err != nil {
			a.stack = a.stack[:start]
			return err
		}
		a.stack = append(a.stack, child)
	}
	n := len(a.kids)
	a.kids = append(a.kids, a.stack[start:]...)
	a.stack = a.stack[:start]
	b.Children = a.kids[n:len(a.kids):len(a.kids)]

	c, err := t.Peek()
	if err != nil || c == ')' { // the subtype is missing
		return err
	}
	if b.Subtype, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	return d.msgMultipartExt(b)
}

// msgMultipartExt decodes the extension data of a multipart, from its
// body-fld-param on.
func (d *Decoder) msgMultipartExt(b *BodyStructure) error {
	var err error
	b.Extended = true
	if b.MultipartParams, err = d.msgParams(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	return d.msgExtTail(b)
}

// msgSinglePart decodes a non-multipart body after its "(".
func (d *Decoder) msgSinglePart(b *BodyStructure, extended bool) error {
	var err error
	if b.Type, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	if c, err := d.t.Peek(); err != nil {
		return err
	} else if c == '(' {
		// A list where the subtype belongs: a multipart without parts,
		// as older servers send the body of a message/rfc822 part,
		// ("MIXED" ("BOUNDARY" "x") NIL NIL). What was read is its
		// subtype.
		b.Type, b.Subtype = msgMultipartType, b.Type
		return d.msgMultipartExt(b)
	}
	if b.Subtype, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	if b.Params, err = d.msgParams(); err != nil {
		return err
	}
	fields := [...]*Bytes{&b.ID, &b.Description, &b.Encoding}
	for _, f := range fields {
		if more, err := d.msgMore(); err != nil || !more {
			return err
		}
		if *f, err = d.msgNString(); err != nil {
			return err
		}
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	if b.Size, err = d.msgNumber(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	switch {
	case msgIsMessage(b.Type, b.Subtype):
		// A message part without an envelope (some servers send one as a
		// basic part) goes on with the extension data.
		c, err := d.t.Peek()
		if err != nil {
			return err
		}
		if c != '(' {
			// Older servers send NIL for the envelope of a message whose
			// body is a multipart: "NIL ((". A basic part's MD5 (NIL)
			// and disposition cannot look like that: a disposition's
			// list starts with a string.
			ok, err := d.msgNILThenMultipart()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
		} else if b.Envelope, err = d.msgEnvelope(); err != nil {
			return err
		}
		if more, err := d.msgMore(); err != nil || !more {
			return err
		}
		if c, err = d.t.Peek(); err != nil {
			return err
		}
		if c == '(' {
			if b.Body, err = d.msgMessageBody(extended); err != nil {
				return err
			}
		} else if ok, err := d.t.AcceptNIL(); err != nil || !ok {
			if err == nil {
				err = d.msgExpectErr("body")
			}
			return err
		}
		if more, err := d.msgMore(); err != nil || !more {
			return err
		}
		if b.Lines, err = d.msgNumber(); err != nil {
			return err
		}
		if more, err := d.msgMore(); err != nil || !more {
			return err
		}
	case eqFold(b.Type, "text"):
		if b.Lines, err = d.msgNumber(); err != nil {
			return err
		}
		if more, err := d.msgMore(); err != nil || !more {
			return err
		}
	}
	b.Extended = true
	if b.MD5, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	return d.msgExtTail(b)
}

// msgNILThenMultipart consumes NIL when "NIL" SP "((" comes next and
// reports whether it did; otherwise it consumes nothing.
func (d *Decoder) msgNILThenMultipart() (bool, error) {
	t := d.t
	m := t.Mark()
	if ok, err := t.AcceptNIL(); err != nil || !ok {
		return false, err
	}
	after := t.Mark()
	multipart := false
	if c, err := t.Peek(); err != nil {
		return false, err
	} else if c == ' ' {
		if err := t.SP(); err != nil {
			return false, err
		}
		if ok, err := t.Accept('('); err != nil {
			return false, err
		} else if ok {
			c, err := t.Peek()
			if err != nil {
				return false, err
			}
			multipart = c == '('
		}
	}
	if multipart {
		return true, t.Rewind(after)
	}
	return false, t.Rewind(m)
}

// msgMessageBody decodes the body of a message part at its "(". An empty
// list "()" is no body (Domino: MailKit issue 944) and gives nil.
func (d *Decoder) msgMessageBody(extended bool) (*BodyStructure, error) {
	t := d.t
	m := t.Mark()
	if err := d.msgOpen(); err != nil {
		return nil, err
	}
	if ok, err := t.Accept(')'); err != nil || ok {
		return nil, err
	}
	if err := t.Rewind(m); err != nil {
		return nil, err
	}
	return d.msgBody(extended)
}

// msgExtTail decodes the extension data common to all bodies, from
// body-fld-dsp on.
func (d *Decoder) msgExtTail(b *BodyStructure) error {
	if err := d.msgDisposition(b); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	var err error
	if b.Language, err = d.msgLanguage(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	if b.Location, err = d.msgNString(); err != nil {
		return err
	}
	if more, err := d.msgMore(); err != nil || !more {
		return err
	}
	// Further extension data, kept in canonical form.
	a := &d.msg
	start := len(a.ext)
	for {
		if err := d.msgExtItem(); err != nil {
			return err
		}
		more, err := d.msgMore()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		a.ext = append(a.ext, ' ')
	}
	b.Extension = a.ext[start:len(a.ext):len(a.ext)]
	return nil
}

// msgExtItem decodes one body-extension and appends its canonical form to
// the arena: strings as msgExtString writes them, numbers as sent, lists
// in parentheses. An atom that is not a number is taken as a string.
func (d *Decoder) msgExtItem() error {
	t := d.t
	a := &d.msg
	c, err := t.Peek()
	if err != nil {
		return err
	}
	switch {
	case c == '(':
		if err := d.msgOpen(); err != nil {
			return err
		}
		a.ext = append(a.ext, '(')
		first := true
		for {
			c, err := t.Peek()
			if err != nil {
				return err
			}
			if c == ')' {
				break
			}
			if c == ' ' {
				if err := t.SP(); err != nil {
					return err
				}
				continue
			}
			if !first {
				a.ext = append(a.ext, ' ')
			}
			first = false
			if err := d.msgExtItem(); err != nil {
				return err
			}
		}
		a.ext = append(a.ext, ')')
		return t.Expect(')')
	case c >= '0' && c <= '9':
		b, err := t.Atom()
		if err != nil {
			return err
		}
		if msgAllDigits(b) {
			a.ext = append(a.ext, b...)
		} else {
			a.ext = msgExtString(a.ext, b)
		}
		return nil
	}
	s, err := d.msgNString()
	if err != nil {
		return err
	}
	a.ext = msgExtString(a.ext, s)
	return nil
}

// msgExtOpts is the string policy of the canonical form of extension data
// (BodyStructure.Extension): wire's, with UTF-8 allowed in quoted strings
// and quoted strings of up to 4 KiB, so that extension data as servers
// send it stays readable.
var msgExtOpts = wire.EncoderOptions{UTF8: true, MaxQuoted: 4 << 10}

// msgExtString appends b to the canonical form of extension data: NIL when
// nil, else a quoted string or a literal (wire.AppendString, msgExtOpts).
func msgExtString(dst []byte, b []byte) []byte {
	if b == nil {
		return append(dst, "NIL"...)
	}
	return wire.AppendString(dst, b, false, &msgExtOpts)
}

// msgParams reads a body-fld-param: NIL or a list of name/value pairs. An
// empty list "()" and a string where the list belongs (such as "NIL") give
// nil; a NIL value and a missing last value are nil.
func (d *Decoder) msgParams() ([]Param, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	if c != '(' {
		_, err := d.msgNString()
		return nil, err
	}
	if err := d.msgOpen(); err != nil {
		return nil, err
	}
	a := &d.msg
	start := len(a.params)
	for {
		more, err := d.msgMore()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		var p Param
		if p.Name, err = d.msgNString(); err != nil {
			return nil, err
		}
		if more, err = d.msgMore(); err != nil {
			return nil, err
		}
		if more {
			if p.Value, err = d.msgNString(); err != nil {
				return nil, err
			}
		}
		a.params = append(a.params, p)
	}
	if err := t.Expect(')'); err != nil {
		return nil, err
	}
	n := len(a.params)
	if n == start {
		return nil, nil
	}
	return a.params[start:n:n], nil
}

// msgDisposition reads a body-fld-dsp: NIL, a list of a string and
// parameters, or (a tolerance) a bare string.
func (d *Decoder) msgDisposition(b *BodyStructure) error {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return err
	}
	if c != '(' {
		b.Disposition, err = d.msgNString()
		return err
	}
	if err := d.msgOpen(); err != nil {
		return err
	}
	if c, err = t.Peek(); err != nil {
		return err
	}
	if c != ')' {
		if b.Disposition, err = d.msgNString(); err != nil {
			return err
		}
		more, err := d.msgMore()
		if err != nil {
			return err
		}
		if more {
			if b.DispositionParams, err = d.msgParams(); err != nil {
				return err
			}
		}
	}
	return d.msgClose()
}

// msgLanguage reads a body-fld-lang: NIL, a string or a list of strings.
// NIL and "()" give nil.
func (d *Decoder) msgLanguage() ([]Bytes, error) {
	t := d.t
	a := &d.msg
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	if c != '(' {
		s, err := d.msgNString()
		if err != nil || s == nil {
			return nil, err
		}
		a.strs = append(a.strs, s)
		n := len(a.strs)
		return a.strs[n-1 : n : n], nil
	}
	if err := d.msgOpen(); err != nil {
		return nil, err
	}
	start := len(a.strs)
	for {
		more, err := d.msgMore()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		s, err := d.msgNString()
		if err != nil {
			return nil, err
		}
		a.strs = append(a.strs, s)
	}
	if err := t.Expect(')'); err != nil {
		return nil, err
	}
	n := len(a.strs)
	if n == start {
		return nil, nil
	}
	return a.strs[start:n:n], nil
}

// msgIsMessage reports a message/rfc822 or message/global (RFC 6532) type,
// whose body carries an envelope, a body and a line count.
func msgIsMessage(typ, subtype Bytes) bool {
	return eqFold(typ, "message") && (eqFold(subtype, "rfc822") || eqFold(subtype, "global"))
}

func msgAllDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
