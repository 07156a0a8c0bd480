package codec

import (
	"bytes"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Time parses the envelope's Date with ParseMessageDate. A nil Envelope
// (a FETCH response without one) has no date, as a NIL date.
func (e *Envelope) Time() (time.Time, error) {
	if e == nil {
		return ParseMessageDate(nil)
	}
	return ParseMessageDate(e.Date)
}

// DecodedSubject returns the subject with its RFC 2047 encoded-words
// decoded, by DecodeHeader (which documents its errors; the string is
// usable even with an error). A NIL subject gives "", and so does a nil
// Envelope (a FETCH response without one: a flag update, say).
func (e *Envelope) DecodedSubject() (string, error) {
	if e == nil || e.Subject == nil {
		return "", nil
	}
	return DecodeHeader(e.Subject)
}

// DecodedName returns the display name with its RFC 2047 encoded-words
// decoded, by DecodeHeader. A NIL name gives "".
func (a *Address) DecodedName() (string, error) {
	if a.Name == nil {
		return "", nil
	}
	return DecodeHeader(a.Name)
}

// String returns the address as in a header: "Name <mailbox@host>", or
// "mailbox@host" without a name. The name is decoded (DecodedName) and
// quoted when it holds RFC 5322 specials. The mailbox (the local part,
// which servers give unquoted) is written as sent when it is an RFC 5322
// dot-atom, else as a quoted-string ("\"" and "\\" escaped): the local
// part `a>, <b@evil.example` of a sender's quoted one stays one address.
// The host is written as sent when it is a dot-atom or a domain literal
// ("[...]"); an empty host (an unqualified address, "bob") leaves out the
// "@" too, giving the mailbox alone ("bob", or "Name <bob>"), where it gave
// "bob@", which reads as an address cut short; otherwise each character
// that cannot stand in a dot-atom
// (and each dot that would leave an empty label) comes out as "?", so that
// it cannot add an address either. UTF-8 counts as atom text (RFC 6532):
// an ordinary address comes out as sent. A group start gives "group:", its
// name decoded the same way, and a group end ";". Control characters (a
// CR or LF from an encoded-word or a literal, say, or a C1 control such
// as NEL) and U+2028/U+2029 come out as spaces ("?" in a host): the
// string never breaks a line.
func (a *Address) String() string {
	if a.IsGroupEnd() {
		return ";"
	}
	if a.IsGroupStart() {
		name, err := DecodeHeader(a.Mailbox)
		if err != nil && name == "" {
			name = string(a.Mailbox)
		}
		return noCTL(msgQuotePhrase(name) + ":")
	}
	addr := msgLocalPart(string(a.Mailbox))
	if host := msgHost(string(a.Host)); host != "" {
		addr += "@" + host
	}
	name, err := a.DecodedName()
	if err != nil && name == "" {
		name = string(a.Name)
	}
	if name == "" {
		return noCTL(addr)
	}
	return noCTL(msgQuotePhrase(name) + " <" + addr + ">")
}

// noCTL returns s with its control characters (ASCII's, tab included,
// DEL, the C1 controls such as NEL and CSI) and the Unicode line and
// paragraph separators replaced by spaces.
func noCTL(s string) string {
	if strings.IndexFunc(s, isCTL) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCTL(r) {
			return ' '
		}
		return r
	}, s)
}

// isCTL reports the characters noCTL replaces.
func isCTL(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029
}

// isMsgAtext reports an RFC 5322 atext byte, any byte of a UTF-8
// sequence counting as one (RFC 6532). Controls and space are not atext.
func isMsgAtext(c byte) bool {
	if c >= 0x80 {
		return true
	}
	if c <= ' ' || c == 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>[]:;@\,."`, rune(c))
}

// isDotAtom reports whether s is an RFC 5322 dot-atom-text: atext runs
// separated by single dots, none empty.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isMsgAtext(s[i]) {
			return false
		}
	}
	return true
}

// msgLocalPart returns the local part m of an address as in a header:
// as it is when a dot-atom, else an RFC 5322 quoted-string.
func msgLocalPart(m string) string {
	m = noCTL(m) // first: a space from a C1 control is no atext
	if isDotAtom(m) {
		return m
	}
	return msgQuoted(m)
}

// msgQuoted returns s as an RFC 5322 quoted-string: in double quotes,
// with each double quote and backslash escaped by a backslash.
func msgQuoted(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// msgHost returns the host h of an address as in a header: as it is when
// a dot-atom or a domain literal ("[" dtext "]") or empty, else with each
// byte that is not atext, and each dot that would start, end or double a
// label, replaced by "?": a dot-atom, which no special can break out of.
func msgHost(h string) string {
	h = noCTL(h) // first, as in msgLocalPart
	if h == "" || isDotAtom(h) {
		return h
	}
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' && isDtext(h[1:len(h)-1]) {
		return h
	}
	b := []byte(h)
	for i, c := range b {
		switch {
		case c == '.':
			if i == 0 || i == len(b)-1 || b[i-1] == '.' {
				b[i] = '?'
			}
		case !isMsgAtext(c):
			b[i] = '?'
		}
	}
	return string(b)
}

// isDtext reports whether s is RFC 5322 dtext only: printable ASCII but
// "[", "]" and "\\", or UTF-8 (RFC 6532).
func isDtext(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x80 && (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '\\') {
			return false
		}
	}
	return true
}

// msgQuotePhrase quotes s as an RFC 5322 quoted-string when it holds a
// special character.
func msgQuotePhrase(s string) string {
	if !strings.ContainsAny(s, "()<>[]:;@\\,.\"") {
		return s
	}
	return msgQuoted(s)
}

// Walk calls f for b and every part below it, depth first, with the part's
// IMAP part number as a path (BODY[1.2] has the path [1 2]). When f returns
// false, Walk does not descend into that part (it goes on with the next
// one). The path is only valid during the call: copy it to keep it.
//
// Part numbers follow RFC 9051 section 6.4.5: a multipart body has the
// number of the message it is the body of (the top level has the empty
// path) and its parts add a number; a non-multipart body of a message is
// part 1 of it (a non-multipart top level has the path [1]). The body of a
// message/rfc822 or message/global part at path p is thus visited with p
// when multipart, and with p.1 otherwise.
func (b *BodyStructure) Walk(f func(path []int, part *BodyStructure) bool) {
	if b == nil {
		return
	}
	path := make([]int, 0, 8)
	if !b.IsMultipart() {
		path = append(path, 1)
	}
	b.msgWalk(path, f)
}

func (b *BodyStructure) msgWalk(path []int, f func([]int, *BodyStructure) bool) {
	if !f(path, b) {
		return
	}
	if b.IsMultipart() {
		for i, c := range b.Children {
			if c != nil {
				c.msgWalk(append(path, i+1), f)
			}
		}
		return
	}
	if body := b.Body; body != nil {
		if body.IsMultipart() {
			body.msgWalk(path, f)
		} else {
			body.msgWalk(append(path, 1), f)
		}
	}
}

// Part returns the part at the given IMAP part number (see Walk), or nil
// when there is none. Part() returns b; so does Part(1) when b is not
// multipart. For a message/rfc822 part, its path gives the message part
// itself.
func (b *BodyStructure) Part(path ...int) *BodyStructure {
	if b == nil {
		return nil
	}
	if len(path) == 0 {
		return b
	}
	var found *BodyStructure
	b.Walk(func(p []int, part *BodyStructure) bool {
		if found != nil || len(p) > len(path) {
			return false
		}
		for i := range p {
			if p[i] != path[i] {
				return false
			}
		}
		if len(p) == len(path) {
			found = part
			return false
		}
		return true
	})
	return found
}

// Filename returns the part's file name: the disposition's filename
// parameter, else the type's name parameter. RFC 2231 forms (filename*,
// continuations filename*0, filename*1*, ... with a charset) are decoded,
// and so are RFC 2047 encoded-words in a plain value (as Outlook sends
// them), continuations without "*" joined into one included. It returns "" when there is no name. A value that cannot be
// decoded is returned as sent. A nil part has no name.
func (b *BodyStructure) Filename() string {
	if b == nil {
		return ""
	}
	if s, ok := msgParamValue(b.DispositionParams, "filename"); ok {
		return s
	}
	s, _ := msgParamValue(b.Params, "name")
	return s
}

// msgParamValue returns the decoded value of parameter name (lower case)
// in ps; RFC 2231 extended values and continuations take precedence over a
// plain value.
func msgParamValue(ps []Param, name string) (string, bool) {
	var plain Bytes
	for _, p := range ps {
		n := p.Name
		switch {
		case eqFold(n, name):
			if plain == nil {
				plain = p.Value
			}
		case len(n) == len(name)+1 && n[len(name)] == '*' && eqFold(n[:len(name)], name):
			if p.Value != nil {
				return msgDecode2231(p.Value, true), true
			}
		}
	}
	if s, ok := msgContinuations(ps, name); ok {
		return s, true
	}
	if plain == nil {
		return "", false
	}
	return msgPlainString(plain), true
}

// msgPlainString decodes a plain (not RFC 2231 extended) parameter value:
// RFC 2047 encoded-words in it (a mailer quirk that mail readers
// tolerate) are decoded, the rest is read as msgUnlabelled reads it.
func msgPlainString(v []byte) string {
	if bytes.Contains(v, []byte("=?")) {
		if s, err := DecodeHeader(v); err == nil || s != "" {
			return s
		}
	}
	return msgUnlabelled(v)
}

// msgContinuations joins RFC 2231 continuations name*0, name*1*, ...:
// sections are taken in order from 0 up to the first missing number; the
// first of a repeated number wins. When no section is extended, the
// joined value is decoded as a plain value (msgPlainString).
func msgContinuations(ps []Param, name string) (string, bool) {
	type section struct {
		num   int64
		ext   bool
		value Bytes
	}
	var secs []section
	for _, p := range ps {
		n := p.Name
		if len(n) <= len(name)+1 || n[len(name)] != '*' || !eqFold(n[:len(name)], name) {
			continue
		}
		num := n[len(name)+1:]
		ext := num[len(num)-1] == '*'
		if ext {
			num = num[:len(num)-1]
		}
		if len(num) == 0 || num[0] == '-' || (len(num) > 1 && num[0] == '0') {
			continue
		}
		if v, ok, _ := msgParseInt(num); ok {
			secs = append(secs, section{v, ext, p.Value})
		}
	}
	if len(secs) == 0 {
		return "", false
	}
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].num < secs[j].num })
	var raw, charset []byte
	next, anyExt := int64(0), false
	for _, sec := range secs {
		if sec.num < next {
			continue // a repeated number
		}
		if sec.num > next {
			break
		}
		next++
		part := sec.value
		if !sec.ext {
			raw = append(raw, part...)
			continue
		}
		anyExt = true
		if sec.num == 0 {
			if cs, rest, ok := msgCut2231(part); ok {
				charset, part = cs, rest
			}
		}
		raw = msgPercentDecode(raw, part)
	}
	if next == 0 {
		return "", false
	}
	if !anyExt {
		// No section is extended: the joined value is a plain one, which
		// may hold encoded-words split across sections (filename*0=
		// "=?utf-8?B?w6nD", filename*1="qcOp?=.pdf").
		return msgPlainString(raw), true
	}
	return msgCharsetString(charset, raw), true
}

// msgDecode2231 decodes an RFC 2231 extended value, charset'lang'%XX...
func msgDecode2231(v []byte, withCharset bool) string {
	var charset []byte
	if withCharset {
		if cs, rest, ok := msgCut2231(v); ok {
			charset, v = cs, rest
		}
	}
	return msgCharsetString(charset, msgPercentDecode(nil, v))
}

// msgCut2231 splits charset'language'value.
func msgCut2231(v []byte) (charset, rest []byte, ok bool) {
	i := bytes.IndexByte(v, '\'')
	if i < 0 {
		return nil, v, false
	}
	j := bytes.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return nil, v, false
	}
	return v[:i], v[i+1+j+1:], true
}

func msgPercentDecode(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' && i+2 < len(v) && unhex(v[i+1]) >= 0 && unhex(v[i+2]) >= 0 {
			c = byte(unhex(v[i+1])<<4 | unhex(v[i+2]))
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

// msgCharsetString converts raw in charset to a string: UTF-8 and ASCII
// (or no charset) directly, other charsets through DecodeHeader (as a
// Q encoded-word). Whatever cannot be converted is read as UTF-8, or
// windows-1252 when it is not valid UTF-8 (msgUnlabelled).
func msgCharsetString(charset, raw []byte) string {
	if len(charset) == 0 || eqFold(charset, "utf-8") || eqFold(charset, "utf8") || eqFold(charset, "us-ascii") {
		return msgUnlabelled(raw)
	}
	if bytes.ContainsAny(charset, "? \t\r\n") {
		return msgUnlabelled(raw)
	}
	w := make([]byte, 0, len(charset)+3*len(raw)+8)
	w = append(w, "=?"...)
	w = append(w, charset...)
	w = append(w, "?Q?"...)
	const hex = "0123456789ABCDEF"
	for _, c := range raw {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			w = append(w, c)
		} else {
			w = append(w, '=', hex[c>>4], hex[c&15])
		}
	}
	w = append(w, "?="...)
	s, err := DecodeHeader(w)
	if err != nil {
		return msgUnlabelled(raw)
	}
	return s
}

// msgUnlabelled returns b as a string when it is valid UTF-8, else decoded
// as windows-1252, as DecodeHeader reads unlabelled 8-bit text
// (appendUnlabelled).
func msgUnlabelled(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		if c < utf8.RuneSelf {
			out = append(out, c)
		} else {
			out = appendUnlabelled(out, c)
		}
	}
	return string(out)
}
