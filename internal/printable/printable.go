// Package printable escapes what a peer chose (a server's text, a
// certificate's names) before it goes into an error message, a trace line
// or a log: control bytes (C0, DEL, C1), the Unicode line and paragraph
// separators, the bidirectional controls and invalid UTF-8 become \xNN,
// so that a server cannot write terminal escapes to the user's screen,
// forge lines of a log or reorder what is shown (a right-to-left override
// making "gpj.exe" read "exe.jpg", Trojan Source style). A backslash
// before an 'x' is written \x5c, so that what reads \xNN is always an
// escape (a server's text "\x1b" is not taken for an ESC it sent); other
// backslashes stay (\Seen). The layers keep the raw bytes in their typed
// fields; only what they print goes through here.
package printable

import (
	"strconv"
	"unicode/utf8"
)

// Unsafe reports whether Escape escapes the character r: a control
// character (C0, DEL, C1: U+0000 to U+001F, U+007F to U+009F), the line
// and paragraph separators (U+2028, U+2029: line ends to some log
// readers and to JavaScript), or a bidirectional control, which changes
// the order in which the text around it is shown (U+061C ALM, U+200E LRM,
// U+200F RLM, U+202A to U+202E the embeddings and overrides, U+2066 to
// U+2069 the isolates).
func Unsafe(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x80:
		return false
	case r < 0xa0:
		return true
	case r < 0x61c:
		return false
	}
	return r == 0x61c || r == 0x200e || r == 0x200f ||
		r >= 0x2028 && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// Clean reports whether Escape would return b as it is.
func Clean(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' && i+1 < len(b) && b[i+1] == 'x' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || Unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

// Escape returns b with its unsafe characters (Unsafe) and invalid UTF-8
// escaped as \xNN, byte by byte (U+202E is \xe2\x80\xae), and a
// backslash before an 'x' as \x5c.
func Escape(b []byte) string {
	if Clean(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' && i+1 < len(b) && b[i+1] == 'x' {
				out = appendHex(out, c)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || Unsafe(r) {
			for _, c := range b[i : i+n] {
				out = appendHex(out, c)
			}
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return string(out)
}

// String is Escape for a string.
func String(s string) string {
	if Clean([]byte(s)) {
		return s
	}
	return Escape([]byte(s))
}

func appendHex(out []byte, c byte) []byte {
	out = append(out, '\\', 'x')
	if c < 0x10 {
		out = append(out, '0')
	}
	return strconv.AppendUint(out, uint64(c), 16)
}

// QuoteChar names the character s starts with, for an error message
// about it: the character quoted as by strconv.QuoteRune ('a', 'é') when
// s starts with a valid UTF-8 encoding of one (an ASCII byte included),
// else its first byte in hex (0xc3): a byte of a character cut in two,
// or of another charset. Formatting the byte alone with %q, or as a rune,
// named the Latin-1 character of its value ('Ã' for the first byte of
// 'é'), which the text does not hold. An empty s is "end of input". What
// it returns is safe to print (strconv.QuoteRune escapes what is not
// printable).
func QuoteChar(s string) string {
	if s == "" {
		return "end of input"
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n <= 1 {
		const hex = "0123456789abcdef"
		return "0x" + string([]byte{hex[s[0]>>4], hex[s[0]&0xf]})
	}
	return strconv.QuoteRune(r)
}
