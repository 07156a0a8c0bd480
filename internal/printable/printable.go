// Package printable escapes what a peer chose (a server's text, a
// certificate's names) before it goes into an error message, a trace line
// or a log: control bytes (C0, DEL, C1) and invalid UTF-8 become \xNN, so
// that a server cannot write terminal escapes to the user's screen or
// forge lines of a log. The layers keep the raw bytes in their typed
// fields; only what they print goes through here.
package printable

import (
	"strconv"
	"unicode/utf8"
)

// Clean reports whether Escape would return b as it is.
func Clean(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || (r >= 0x80 && r < 0xa0) {
			return false
		}
		i += n
	}
	return true
}

// Escape returns b with its control bytes and invalid UTF-8 escaped as
// \xNN.
func Escape(b []byte) string {
	if Clean(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				out = appendHex(out, c)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || (r >= 0x80 && r < 0xa0) {
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
