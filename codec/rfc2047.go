package codec

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// UnknownCharsetError reports a charset that is not known: DecodeHeader
// returns it for an RFC 2047 encoded-word, together with a usable string in
// which the word is kept as it was; DecodeCharset and BodyStructure.Decode
// for a body part's charset.
type UnknownCharsetError struct {
	Charset string // the charset name as written, without an RFC 2231 language
}

// Error implements error.
func (e *UnknownCharsetError) Error() string {
	return "codec: unknown charset " + strconv.Quote(e.Charset)
}

// DecodeHeader decodes a header value as found in an ENVELOPE subject or
// display name: RFC 2047 encoded-words ("=?charset?B?...?=" and
// "=?charset?Q?...?=", encoding letter in any case) are decoded to UTF-8.
//
//   - Encoded-words separated only by white space are joined without it
//     (RFC 2047 section 6.2). Adjacent words in the same charset are
//     decoded together, so a multi-byte character split across two words
//     (a common mistake) survives. The same charset may be written under
//     different labels ("UTF-8" and "utf8", "iso-8859-1" and "latin1",
//     "cp932" and "shift_jis"): what counts is the charset they name.
//   - Charsets are looked up with golang.org/x/text, first by their WHATWG
//     Encoding Standard name (htmlindex), then by IANA name (ianaindex),
//     case-insensitively: utf-8, us-ascii, iso-8859-x, windows-125x,
//     koi8-r, koi8-u, iso-2022-jp, shift_jis, euc-jp, gb2312, gbk,
//     gb18030, big5, euc-kr and more, and names that mailers write but
//     neither lists (latin-1, cp932, cp949, eucjp, koi8r, ...). Following WHATWG, iso-8859-1 and
//     us-ascii (under any of their names) are read as windows-1252, their
//     superset, which is what mislabelled mail needs. UTF-16 is read as RFC 2781 has it: a
//     leading byte order mark gives the order, and "utf-16" without one
//     is big-endian (WHATWG's "utf-16" is little-endian, BOM ignored);
//     "utf-16le" and its Microsoft labels ("unicode", "ucs-2") are
//     little-endian unless a BOM says otherwise. Adjacent UTF-16 words
//     are decoded together, but a word that starts with a BOM of its own
//     (as mailers write each word) starts afresh: its BOM gives its byte
//     order and is dropped, never left as U+FEFF. An RFC 2231 language
//     suffix ("utf-8*en") is ignored. Bytes not valid in the charset become U+FFFD.
//   - An encoded-word with an unknown charset is kept as is, and the
//     result comes with an *UnknownCharsetError (for the first such word):
//     the string is still usable, with the rest decoded.
//   - A malformed encoded-word (bad BASE64 or Q encoding, missing parts) is
//     kept as is, without an error. Words are recognised even when not
//     surrounded by white space, as most mail readers do.
//   - Outside encoded-words, folding (CRLF or LF followed by a space or tab,
//     RFC 5322 section 2.2.3) is removed. Raw 8-bit text that is valid
//     UTF-8 (RFC 6532) is kept; a stretch of plain text that is not valid
//     UTF-8 is decoded as windows-1252, byte by byte: unlabelled 8-bit
//     mail is overwhelmingly windows-1252, whose 0x80-0x9F bytes are
//     curly quotes, dashes and the euro sign where ISO-8859-1 has
//     invisible control characters (WHATWG reads iso-8859-1 so too).
//     The five bytes windows-1252 leaves undefined become U+FFFD.
//
// A value without "=?", folding or invalid UTF-8 is returned as a plain
// copy.
func DecodeHeader(b []byte) (string, error) {
	if bytes.IndexByte(b, '\n') < 0 && !bytes.Contains(b, []byte("=?")) && utf8.Valid(b) {
		return string(b), nil
	}
	d := headerDecoder{out: make([]byte, 0, len(b))}
	plain := 0      // start of the plain text not yet written
	afterWord := -1 // end of the last decoded word, if plain starts there
	i := 0
	for {
		k := bytes.Index(b[i:], []byte("=?"))
		if k < 0 {
			break
		}
		p := i + k
		w, ok := parseEncodedWord(b, p)
		if !ok {
			i = p + 2
			continue
		}
		enc, known := lookupCharset(w.charset)
		if !known {
			if d.err == nil {
				d.err = &UnknownCharsetError{Charset: string(w.charset)}
			}
			i = w.end // kept raw, as plain text
			continue
		}
		start := len(d.scratch)
		var okText bool
		d.scratch, okText = decodeWordText(d.scratch, w.text, w.b64)
		if !okText {
			d.scratch = d.scratch[:start]
			i = p + 2
			continue
		}
		decoded := d.scratch[start:]
		gap := b[plain:p]
		if afterWord == plain && isAllFWS(gap) {
			// RFC 2047 section 6.2: drop white space between words.
		} else {
			d.flush()
			d.plain(gap)
		}
		if !d.hasPend || !sameCharset(d.pendEnc, enc) || startsUTF16Run(enc, d.pend, decoded) {
			d.flush()
			d.hasPend, d.pendEnc = true, enc
		}
		d.pend = append(d.pend, decoded...)
		d.scratch = d.scratch[:start]
		plain, afterWord, i = w.end, w.end, w.end
	}
	d.flush()
	d.plain(b[plain:])
	return string(d.out), d.err
}

// headerDecoder holds the state of DecodeHeader.
type headerDecoder struct {
	out     []byte
	scratch []byte
	pend    []byte // decoded bytes of adjacent words in one charset
	hasPend bool
	pendEnc encoding.Encoding // nil for UTF-8
	err     error
}

// flush converts the pending words to UTF-8.
func (d *headerDecoder) flush() {
	if !d.hasPend {
		return
	}
	d.out = appendCharset(d.out, d.pendEnc, d.pend)
	d.pend, d.hasPend, d.pendEnc = d.pend[:0], false, nil
}

// startsUTF16Run reports whether a UTF-16 word, its decoded bytes word,
// starts with a byte order mark of its own, after the whole code
// units pend holds: then it starts a new run, decoded apart, so that its
// mark gives its byte order and is dropped rather than read as U+FEFF in
// the middle of the run (mailers encode each word of a UTF-16 header
// with its own BOM).
func startsUTF16Run(enc encoding.Encoding, pend, word []byte) bool {
	if enc != utf16BE && enc != utf16LE || len(pend) == 0 || len(pend)%2 != 0 || len(word) < 2 {
		return false
	}
	return word[0] == 0xFE && word[1] == 0xFF || word[0] == 0xFF && word[1] == 0xFE
}

// sameCharset reports whether two decoders from lookupCharset are the same
// charset: labels are compared by what they name ("UTF-8" and "utf8",
// "iso-8859-1" and "latin1", "cp932" and "shift_jis"), not as written.
func sameCharset(a, b encoding.Encoding) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// plain appends plain text: unfolded, kept if valid UTF-8, else read as
// windows-1252 (appendUnlabelled).
func (d *headerDecoder) plain(b []byte) {
	valid := utf8.Valid(b)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\r' && i+2 < len(b) && b[i+1] == '\n' && (b[i+2] == ' ' || b[i+2] == '\t') {
			i++ // CRLF before WSP: skip both
			continue
		}
		if c == '\n' && i+1 < len(b) && (b[i+1] == ' ' || b[i+1] == '\t') {
			continue
		}
		if c < utf8.RuneSelf || valid {
			d.out = append(d.out, c)
		} else {
			d.out = appendUnlabelled(d.out, c)
		}
	}
}

// appendUnlabelled appends the 8-bit byte c of text that no charset labels
// and that is not valid UTF-8 (a raw header, a raw MIME parameter), read
// as windows-1252: what such mail almost always is, and what WHATWG reads
// iso-8859-1 and us-ascii as. Its undefined bytes (0x81, 0x8D, 0x8F, 0x90,
// 0x9D) become U+FFFD.
func appendUnlabelled(dst []byte, c byte) []byte {
	return utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(c))
}

func isAllFWS(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// encodedWord locates the parts of "=?charset?e?text?=" in the input.
type encodedWord struct {
	charset []byte // without the RFC 2231 language
	b64     bool
	text    []byte
	end     int // offset after "?="
}

// parseEncodedWord parses an encoded-word (RFC 2047 section 2) starting
// with "=?" at b[p].
func parseEncodedWord(b []byte, p int) (encodedWord, bool) {
	var w encodedWord
	j := p + 2
	for j < len(b) && isCharsetByte(b[j]) {
		j++
	}
	if j == p+2 || j+3 >= len(b) || b[j] != '?' || b[j+2] != '?' {
		return w, false
	}
	w.charset = b[p+2 : j]
	if k := bytes.IndexByte(w.charset, '*'); k >= 0 {
		w.charset = w.charset[:k] // RFC 2231 section 5: charset*language
		if k == 0 {
			return w, false
		}
	}
	switch b[j+1] {
	case 'B', 'b':
		w.b64 = true
	case 'Q', 'q':
	default:
		return w, false
	}
	t := j + 3
	e := t
	for e < len(b) && b[e] > ' ' && b[e] < 0x7f && b[e] != '?' {
		e++
	}
	if e+1 >= len(b) || b[e] != '?' || b[e+1] != '=' {
		return w, false
	}
	w.text = b[t:e]
	w.end = e + 2
	return w, true
}

// isCharsetByte reports whether c may appear in a charset token (RFC 2047
// section 2: no space, controls or especials), allowing '*' for an RFC 2231
// language and '.', which some charset aliases use.
func isCharsetByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '"', '/', '[', ']', '?', '=':
		return false
	}
	return true
}

// decodeWordText appends the decoded bytes of encoded-text (RFC 2047
// section 4) to dst.
func decodeWordText(dst, text []byte, b64 bool) ([]byte, bool) {
	if b64 {
		for len(text) > 0 && text[len(text)-1] == '=' {
			text = text[:len(text)-1]
		}
		n := base64.RawStdEncoding.DecodedLen(len(text))
		start := len(dst)
		dst = append(dst, make([]byte, n)...)
		m, err := base64.RawStdEncoding.Decode(dst[start:], text)
		if err != nil {
			return dst[:start], false
		}
		return dst[:start+m], true
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '_':
			dst = append(dst, ' ')
		case '=':
			if i+2 >= len(text) {
				return dst, false
			}
			h, l := unhex(text[i+1]), unhex(text[i+2])
			if h < 0 || l < 0 {
				return dst, false
			}
			dst = append(dst, byte(h<<4|l))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// unhex returns the value of the hex digit c (either case), or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// lookupCharset finds the decoder for a charset name; a nil Encoding with
// true means UTF-8.
func lookupCharset(name []byte) (encoding.Encoding, bool) {
	switch {
	case bytes.EqualFold(name, []byte("utf-8")), bytes.EqualFold(name, []byte("utf8")):
		return nil, true
	case bytes.EqualFold(name, []byte("us-ascii")), bytes.EqualFold(name, []byte("iso-8859-1")):
		return charmap.Windows1252, true
	}
	s := string(name)
	if e := lookupUTF16(s); e != nil {
		return e, true
	}
	if a, ok := charsetAliases[strings.ToLower(s)]; ok {
		s = a
	}
	if e, err := htmlindex.Get(s); err == nil && e != nil && e != encoding.Replacement {
		return e, true
	}
	for _, x := range []*ianaindex.Index{ianaindex.MIME, ianaindex.IANA} {
		if e, err := x.Encoding(s); err == nil && e != nil && e != encoding.Replacement {
			if n, _ := ianaindex.MIME.Name(e); n == "US-ASCII" {
				// IANA's other us-ascii labels (csASCII, us,
				// iso-ir-6, ...): windows-1252, as us-ascii.
				return charmap.Windows1252, true
			}
			return e, true
		}
	}
	return nil, false
}

// charsetAliases maps names that mail software writes (Python's codec
// names, Microsoft's code pages) but that neither the Encoding Standard
// nor IANA lists to a name that they do.
var charsetAliases = map[string]string{
	"latin-1": "windows-1252", "latin_1": "windows-1252",
	"cp932": "shift_jis", "ms932": "shift_jis", "windows-31j": "shift_jis",
	"cp949": "euc-kr", "ms949": "euc-kr", "uhc": "euc-kr", "euckr": "euc-kr", "euc_kr": "euc-kr",
	"eucjp": "euc-jp", "euc_jp": "euc-jp",
	"koi8r": "koi8-r", "koi8_r": "koi8-r", "koi8u": "koi8-u", "koi8_u": "koi8-u",
	"cp936": "gbk", "ms936": "gbk", "cp950": "big5", "ms950": "big5",
}

// lookupUTF16 returns the decoder for a UTF-16 charset name, or nil for
// another name. WHATWG (htmlindex) reads "utf-16" as UTF-16LE and ignores
// a byte order mark; in MIME, "utf-16" is RFC 2781's: a leading BOM gives
// the byte order, big-endian without one (section 4.3). So "utf-16" is
// big-endian by default here, "utf-16be" too, "utf-16le" and Microsoft's
// labels of it ("unicode", "ucs-2", ...: WHATWG's utf-16le labels)
// little-endian; in all of them a leading BOM is honoured and dropped. (RFC 2781 makes
// a leading FE FF of "utf-16be" a zero-width no-break space, which shows
// as nothing; a reversed one is a mislabelled text.)
func lookupUTF16(name string) encoding.Encoding {
	for _, l := range utf16Labels {
		if strings.EqualFold(name, l.name) {
			return l.enc
		}
	}
	return nil
}

// utf16BE and utf16LE are the decoders of lookupUTF16: a leading byte
// order mark is honoured and dropped.
var (
	utf16BE = unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	utf16LE = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
)

// utf16Labels are the names lookupUTF16 knows.
var utf16Labels = func() []struct {
	name string
	enc  encoding.Encoding
} {
	be, le := utf16BE, utf16LE
	return []struct {
		name string
		enc  encoding.Encoding
	}{
		{"utf-16", be}, {"utf-16be", be}, {"unicodefffe", be}, {"csutf16", be}, {"csutf16be", be},
		{"utf-16le", le}, {"unicode", le}, {"ucs-2", le}, {"csunicode", le}, {"iso-10646-ucs-2", le},
		{"unicodefeff", le}, {"csutf16le", le},
	}
}()

// appendCharset appends src, in the charset of enc (nil for UTF-8),
// converted to UTF-8.
func appendCharset(dst []byte, enc encoding.Encoding, src []byte) []byte {
	if enc == nil || isASCII(src) && enc == charmap.Windows1252 {
		return appendValidUTF8(dst, src)
	}
	u, err := enc.NewDecoder().Bytes(src)
	if err != nil {
		return appendValidUTF8(dst, src)
	}
	return appendValidUTF8(dst, u)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendValidUTF8 appends b with each invalid byte replaced by U+FFFD.
func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}
