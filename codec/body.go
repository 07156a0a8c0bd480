// Decoding a body part's content: its Content-Transfer-Encoding (RFC 2045
// section 6) and its charset, streamed.

package codec

import (
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// UnknownEncodingError reports a Content-Transfer-Encoding that
// DecodeTransfer does not know (x-uuencode, say): the part's bytes can
// still be read as they are.
type UnknownEncodingError struct {
	Encoding string // as the body structure gives it
}

// Error implements error.
func (e *UnknownEncodingError) Error() string {
	return "codec: unknown content transfer encoding " + strconv.Quote(e.Encoding)
}

// DecodeTransfer returns a reader of the content that r holds in the
// given Content-Transfer-Encoding (a BodyStructure's Encoding), decoded as
// it is read, in constant memory:
//
//   - BASE64, as mail readers do: characters outside the alphabet (line
//     breaks, spaces, stray bytes) are skipped, missing padding is
//     accepted, and the first "=" (padding) ends the data, as RFC 2045
//     section 6.8 allows and Python's binascii does;
//   - QUOTED-PRINTABLE: "=XX" (hex digits in either case) and soft line
//     breaks ("=" at the end of a line, before CRLF or LF) are decoded,
//     white space at the end of a line is dropped (RFC 2045 section 6.7),
//     and an "=" not followed by two hex digits is kept as it is;
//   - 7BIT, 8BIT, BINARY, and no encoding at all ("" or NIL): r itself.
//
// The name is matched without regard to case. Any other encoding gives r
// itself with an *UnknownEncodingError. A part fetched with BINARY[...]
// (RFC 3516) comes decoded from the server: it needs no DecodeTransfer.
func DecodeTransfer(encoding string, r io.Reader) (io.Reader, error) {
	switch {
	case strings.EqualFold(encoding, "base64"):
		return &base64Reader{bodyReader: bodyReader{r: r}}, nil
	case strings.EqualFold(encoding, "quoted-printable"):
		return &qpReader{bodyReader: bodyReader{r: r}}, nil
	case encoding == "", strings.EqualFold(encoding, "7bit"), strings.EqualFold(encoding, "8bit"),
		strings.EqualFold(encoding, "binary"):
		return r, nil
	}
	return r, &UnknownEncodingError{Encoding: encoding}
}

// DecodeCharset returns a reader of the text r holds in charset, converted
// to UTF-8 as it is read. Charsets are found as DecodeHeader finds them
// (WHATWG names, then IANA names; us-ascii and iso-8859-1, under any of
// their names, read as windows-1252, their superset, as WHATWG has it;
// UTF-16 as RFC 2781 has it, a byte order
// mark honoured, big-endian without one); bytes not valid in the charset become
// U+FFFD, UTF-8 included. No charset ("") is us-ascii (RFC 2045 section
// 5.2). An unknown charset gives r itself with an *UnknownCharsetError.
func DecodeCharset(charset string, r io.Reader) (io.Reader, error) {
	if charset == "" {
		charset = "us-ascii"
	}
	enc, ok := lookupCharset([]byte(charset))
	if !ok {
		return r, &UnknownCharsetError{Charset: charset}
	}
	if enc == nil {
		enc = unicode.UTF8
	}
	return transform.NewReader(r, enc.NewDecoder()), nil
}

// Charset returns the value of the part's charset parameter (RFC 2231
// forms decoded), or "" when it has none.
func (b *BodyStructure) Charset() string {
	if b == nil {
		return ""
	}
	s, _ := msgParamValue(b.Params, "charset")
	return s
}

// Decode returns a reader of the part's content, given r, its body as
// fetched with BODY[part] (BODY.PEEK[...] in commands.FetchSection): its
// transfer encoding undone by DecodeTransfer and, for a text part
// (text/*), its charset converted to UTF-8 by DecodeCharset. Other parts
// come as bytes. The errors are theirs: with an *UnknownEncodingError or an
// *UnknownCharsetError, the reader returned gives what could be decoded
// (the raw bytes, or the decoded bytes in their own charset). A part
// fetched with BINARY[part] is decoded already: DecodeCharset(b.Charset(),
// r) converts its text.
func (b *BodyStructure) Decode(r io.Reader) (io.Reader, error) {
	if b == nil {
		return r, nil
	}
	d, err := DecodeTransfer(string(b.Encoding), r)
	if err != nil || !eqFold(b.Type, "text") {
		return d, err
	}
	return DecodeCharset(b.Charset(), d)
}

// TextPart returns the part number of the message's text in the given
// subtype ("plain" or "html"), for FETCH BODY[part], with the part: the
// first text/subtype part, depth first, that is not an attachment
// (Content-Disposition: attachment), inside multiparts but not inside an
// attached message (message/rfc822). It returns nil, nil when there is
// none. A message that is not multipart has its text at part 1.
func (b *BodyStructure) TextPart(subtype string) ([]int, *BodyStructure) {
	var path []int
	var found *BodyStructure
	b.Walk(func(p []int, part *BodyStructure) bool {
		switch {
		case found != nil || eqFold(part.Disposition, "attachment"):
			return false
		case part.IsMultipart():
			return true
		case eqFold(part.Type, "text") && eqFold(part.Subtype, subtype):
			path, found = append([]int(nil), p...), part
		}
		return false // a single part, or an attached message: not looked into
	})
	return path, found
}

// A bodyReader decodes a transfer encoding byte by byte from a buffer of
// its source's bytes, through a small buffer of output (out[o:n]).
type bodyReader struct {
	r      io.Reader
	in     [1024]byte
	ip, im int // the bytes of in not yet decoded: in[ip:im]
	out    [2*qpMaxSpace + 4]byte
	o, n   int
	err    error // the source's error, once it came
}

// read runs the decoding loop of Read: fast decodes what it can straight
// into p (the common runs of bytes), step decodes one byte into out, end
// decodes what is held at the source's end (once).
func (d *bodyReader) read(p []byte, fast func([]byte) int, step func(byte), end func()) (int, error) {
	n := 0
	for n < len(p) {
		if d.o < d.n {
			c := copy(p[n:], d.out[d.o:d.n])
			d.o += c
			n += c
			continue
		}
		d.o, d.n = 0, 0
		if d.ip == d.im {
			if d.err != nil {
				if d.err == io.EOF && end != nil {
					end()
					end = nil
					continue
				}
				break
			}
			if n > 0 {
				break // return what is decoded before reading again
			}
			m, err := d.r.Read(d.in[:])
			d.ip, d.im, d.err = 0, m, err
			if m == 0 && err == nil {
				break
			}
			continue
		}
		n += fast(p[n:])
		if n == len(p) || d.ip == d.im {
			continue
		}
		c := d.in[d.ip]
		d.ip++
		step(c)
	}
	if n > 0 {
		return n, nil
	}
	return 0, d.err
}

// put adds a decoded byte to out.
func (d *bodyReader) put(c byte) {
	d.out[d.n] = c
	d.n++
}

// base64Reader decodes base64 leniently (DecodeTransfer).
type base64Reader struct {
	bodyReader
	quad [4]byte // the alphabet values of the group being read
	q    int
	done bool // "=" came: the data ended
}

// base64Value maps a byte to its value in the base64 alphabet, or 0xFF.
var base64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// Read implements io.Reader.
func (d *base64Reader) Read(p []byte) (int, error) {
	return d.read(p, d.fast, d.step, d.flush)
}

// fast decodes whole groups of four alphabet characters into p.
func (d *base64Reader) fast(p []byte) int {
	if d.q != 0 || d.done {
		return 0
	}
	in := d.in[d.ip:d.im]
	i, n := 0, 0
	for i+4 <= len(in) && n+3 <= len(p) {
		a, b, c, e := base64Value[in[i]], base64Value[in[i+1]], base64Value[in[i+2]], base64Value[in[i+3]]
		if a|b|c|e > 63 {
			break
		}
		p[n], p[n+1], p[n+2] = a<<2|b>>4, b<<4|c>>2, c<<6|e
		i += 4
		n += 3
	}
	d.ip += i
	return n
}

func (d *base64Reader) step(c byte) {
	if d.done {
		return
	}
	v := base64Value[c]
	if v == 0xFF {
		if c == '=' {
			// Padding: the end of the data (RFC 2045 section 6.8), as
			// Python's binascii and most readers take it.
			d.flush()
			d.done = true
		}
		return
	}
	d.quad[d.q] = v
	d.q++
	if d.q == 4 {
		q := d.quad
		d.put(q[0]<<2 | q[1]>>4)
		d.put(q[1]<<4 | q[2]>>2)
		d.put(q[2]<<6 | q[3])
		d.q = 0
	}
}

// flush decodes a group cut short by "=" or the end: two or three
// characters give one or two bytes; one gives nothing.
func (d *base64Reader) flush() {
	q := d.quad
	if d.q >= 2 {
		d.put(q[0]<<2 | q[1]>>4)
	}
	if d.q == 3 {
		d.put(q[1]<<4 | q[2]>>2)
	}
	d.q = 0
}

// qpMaxSpace bounds the white space a quoted-printable decoder holds back
// to see whether it ends a line (and is dropped): a longer run is text.
const qpMaxSpace = 256

// qpReader decodes quoted-printable (DecodeTransfer).
type qpReader struct {
	bodyReader
	state uint8
	hi    byte // the first hex digit after "=", as sent
	sp    [qpMaxSpace]byte
	ns    int // white space held back: sp[:ns]
}

// The states of qpReader.
const (
	qpText    = iota
	qpEq      // after "="
	qpEqHex   // after "=" and a hex digit (hi)
	qpEqCR    // after "=" CR: a soft line break
	qpEqSpace // after "=" and white space (sp): a soft break if the line ends
)

// Read implements io.Reader.
func (d *qpReader) Read(p []byte) (int, error) {
	return d.read(p, d.fast, d.step, d.end)
}

// fast copies text into p up to a byte that needs a look further on: an
// "=" that is not followed by two hex digits (it decodes those), white
// space that may end a line.
func (d *qpReader) fast(p []byte) int {
	if d.state != qpText || d.ns != 0 {
		return 0
	}
	in := d.in[d.ip:d.im]
	i, n := 0, 0
	for i < len(in) && n < len(p) {
		c := in[i]
		switch c {
		case '=':
			if i+2 >= len(in) {
				break
			}
			hi, lo := unhex(in[i+1]), unhex(in[i+2])
			if hi < 0 || lo < 0 {
				break
			}
			p[n] = byte(hi<<4 | lo)
			i += 3
			n++
			continue
		case ' ', '\t':
			if i+1 >= len(in) {
				break
			}
			if x := in[i+1]; x == ' ' || x == '\t' || x == '\r' || x == '\n' {
				break
			}
			fallthrough
		default:
			p[n] = c
			i++
			n++
			continue
		}
		break
	}
	d.ip += i
	return n
}

func (d *qpReader) step(c byte) {
	switch d.state {
	case qpText:
		switch c {
		case '=':
			d.putSpace()
			d.state = qpEq
		case ' ', '\t':
			if d.ns == len(d.sp) {
				d.putSpace()
			}
			d.sp[d.ns] = c
			d.ns++
		case '\r', '\n':
			d.ns = 0 // white space at the end of a line: dropped
			d.put(c)
		default:
			d.putSpace()
			d.put(c)
		}
	case qpEq:
		switch {
		case unhex(c) >= 0:
			d.hi, d.state = c, qpEqHex
		case c == '\n':
			d.state = qpText
		case c == '\r':
			d.state = qpEqCR
		case c == ' ' || c == '\t':
			d.sp[0], d.ns = c, 1
			d.state = qpEqSpace
		default:
			d.put('=')
			d.state = qpText
			d.step(c)
		}
	case qpEqHex:
		d.state = qpText
		if lo := unhex(c); lo >= 0 {
			d.put(byte(unhex(d.hi)<<4 | lo))
			return
		}
		d.put('=')
		d.put(d.hi)
		d.step(c)
	case qpEqCR:
		d.state = qpText
		if c != '\n' {
			d.step(c)
		}
	case qpEqSpace:
		switch c {
		case '\n':
			d.ns, d.state = 0, qpText
		case '\r':
			d.ns, d.state = 0, qpEqCR
		case ' ', '\t':
			if d.ns < len(d.sp) {
				d.sp[d.ns] = c
				d.ns++
				return
			}
			fallthrough
		default:
			d.put('=')
			d.putSpace()
			d.state = qpText
			d.step(c)
		}
	}
}

// putSpace adds the white space held back to out.
func (d *qpReader) putSpace() {
	d.n += copy(d.out[d.n:], d.sp[:d.ns])
	d.ns = 0
}

// end decodes what is held at the end of the data: "=" and a hex digit
// stay as they are; white space, a lone "=" and a soft break are dropped.
func (d *qpReader) end() {
	if d.state == qpEqHex {
		d.put('=')
		d.put(d.hi)
	}
	d.state, d.ns = qpText, 0
}
