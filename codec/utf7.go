package codec

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/imapkit/imapkit/internal/printable"
)

// Mailbox names in modified UTF-7 (RFC 3501 section 5.1.3, kept by RFC 9051
// section 5.1.3 for servers without UTF8=ACCEPT).
//
// Printable US-ASCII characters other than "&" (0x20-0x25, 0x27-0x7e)
// stand for themselves; "&" is written "&-"; every other character is
// written as UTF-16 in a modified BASE64 run ("," instead of "/", no "="
// padding) between "&" and "-". "~peter/mail/台北/日本語" is
// "~peter/mail/&U,BTFw-/&ZeVnLIqe-".
//
// Once UTF8=ACCEPT is enabled (RFC 6855 section 3; IMAP4rev2, RFC 9051
// section 5.1) mailbox names travel as UTF-8 and the caller must not use
// these functions on them: they would turn a literal "&" into "&-" and
// reject or mangle raw UTF-8.

// UTF7Error reports a mailbox name that is not valid modified UTF-7
// (RFC 3501 section 5.1.3).
type UTF7Error struct {
	Offset int    // offset of the offending byte in the input
	Reason string // what is wrong
}

// Error implements error.
func (e *UTF7Error) Error() string {
	return "codec: invalid modified UTF-7 mailbox name at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

const mboxBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// mboxBase64Dec maps a byte to its 6-bit value, or 0xFF.
var mboxBase64Dec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(mboxBase64); i++ {
		t[mboxBase64[i]] = byte(i)
	}
	return t
}()

// isMboxDirect reports whether c stands for itself in modified UTF-7.
func isMboxDirect(c byte) bool { return c >= 0x20 && c <= 0x7e && c != '&' }

// DecodeMailbox decodes a mailbox name from modified UTF-7 (RFC 3501
// section 5.1.3) to UTF-8. It is strict and accepts only the canonical
// form, so that EncodeMailbox gives the input back: bytes outside
// printable US-ASCII, an unterminated or empty run ("&Jjo", "&Jjo!"), bad
// BASE64, leftover or non-zero padding bits, unpaired surrogates, a run that
// encodes a printable US-ASCII character ("&AGE-" for "a") and two
// adjacent runs ("&AOk-&AOk-", which should be one) are errors of type
// *UTF7Error. Use DecodeMailboxLenient for names from servers that do not
// follow the rules.
func DecodeMailbox(b []byte) (string, error) {
	// Fast path: nothing to decode.
	i := 0
	for i < len(b) && isMboxDirect(b[i]) {
		i++
	}
	if i == len(b) {
		return string(b), nil
	}
	var buf [128]byte // names are short: decode on the stack
	out := append(buf[:0], b[:i]...)
	afterRun := false
	for i < len(b) {
		c := b[i]
		switch {
		case isMboxDirect(c):
			out = append(out, c)
			i++
			afterRun = false
		case c == '&':
			if i+1 < len(b) && b[i+1] == '-' {
				out = append(out, '&')
				i += 2
				afterRun = false
				continue
			}
			if afterRun {
				return "", &UTF7Error{Offset: i, Reason: "adjacent encoded runs (not canonical)"}
			}
			var err error
			out, i, err = decodeUTF7Run(out, b, i, true)
			if err != nil {
				return "", err
			}
			afterRun = true
		default:
			return "", &UTF7Error{Offset: i, Reason: printable.QuoteChar(string(b[i:min(i+utf8.UTFMax, len(b))])) + " is not printable US-ASCII"}
		}
	}
	return string(out), nil
}

// decodeUTF7Run decodes the run starting with '&' at b[i] (not "&-"),
// appends its UTF-8 to out and returns the offset after the closing '-'.
// strict also rejects encoded printable US-ASCII and non-zero padding bits.
// On error out is returned unchanged in length.
func decodeUTF7Run(out, b []byte, i int, strict bool) ([]byte, int, error) {
	start := len(out)
	fail := func(off int, reason string) ([]byte, int, error) {
		return out[:start], i, &UTF7Error{Offset: off, Reason: reason}
	}
	var bits uint32 // pending bits, right-aligned
	nbits := 0
	var hi rune // pending high surrogate, or 0
	hiOff := 0
	j := i + 1
	for ; j < len(b); j++ {
		v := mboxBase64Dec[b[j]]
		if v == 0xFF {
			break
		}
		bits = bits<<6 | uint32(v)
		nbits += 6
		if nbits < 16 {
			continue
		}
		nbits -= 16
		u := rune(bits >> nbits & 0xFFFF)
		bits &= 1<<nbits - 1
		switch {
		case hi != 0:
			if !utf16.IsSurrogate(u) || u < 0xDC00 {
				return fail(hiOff, "unpaired high surrogate")
			}
			out = utf8.AppendRune(out, utf16.DecodeRune(hi, u))
			hi = 0
		case u >= 0xD800 && u < 0xDC00:
			hi, hiOff = u, j
		case u >= 0xDC00 && u < 0xE000:
			return fail(j, "unpaired low surrogate")
		default:
			if strict && u >= 0x20 && u <= 0x7e {
				return fail(j, "printable US-ASCII character "+strconv.QuoteRune(u)+" encoded in BASE64")
			}
			out = utf8.AppendRune(out, u)
		}
	}
	switch {
	case j == len(b):
		return fail(i, "unterminated encoded run (missing '-')")
	case b[j] != '-':
		return fail(j, "unexpected "+printable.QuoteChar(string(b[j:min(j+utf8.UTFMax, len(b))]))+" in encoded run")
	case j == i+1:
		return fail(i, "empty encoded run") // unreachable: "&-" is handled by callers
	case hi != 0:
		return fail(hiOff, "unpaired high surrogate")
	case nbits >= 6:
		return fail(j-1, "encoded run ends in a partial character")
	case strict && bits != 0:
		return fail(j-1, "non-zero padding bits")
	case len(out) == start:
		return fail(i, "encoded run holds no character")
	}
	return out, j + 1, nil
}

// DecodeMailboxLenient decodes a mailbox name like DecodeMailbox but never
// fails. Anything that cannot be decoded is kept as is: raw 8-bit bytes
// (servers that send UTF-8 names without UTF8=ACCEPT; invalid UTF-8 is
// passed through unchanged), control characters, and an "&" that does not
// start a well-formed run ("Tom & Jerry", "&Jjo", "&Jjo!"). Runs that are
// well-formed but not canonical (encoded printable US-ASCII, non-zero
// padding bits, adjacent runs) are decoded.
//
// The result may not encode back to the input: keep the raw name for
// commands that refer to the mailbox.
func DecodeMailboxLenient(b []byte) string {
	i := 0
	for i < len(b) && b[i] != '&' {
		i++
	}
	if i == len(b) {
		return string(b)
	}
	var buf [128]byte
	out := append(buf[:0], b[:i]...)
	for i < len(b) {
		c := b[i]
		if c != '&' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 < len(b) && b[i+1] == '-' {
			out = append(out, '&')
			i += 2
			continue
		}
		var err error
		out, i, err = decodeUTF7Run(out, b, i, false)
		if err != nil {
			out = append(out, '&')
			i++
		}
	}
	return string(out)
}

// EncodeMailbox encodes a UTF-8 mailbox name in modified UTF-7 (RFC 3501
// section 5.1.3): "&" becomes "&-" and characters outside printable
// US-ASCII go into "&...-" runs. Invalid UTF-8 is replaced by U+FFFD. A
// name made of printable US-ASCII without "&" is returned as is, without
// allocating.
func EncodeMailbox(s string) string {
	i := 0
	for i < len(s) && isMboxDirect(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	return string(AppendEncodeMailbox(make([]byte, 0, len(s)+len(s)/2+8), s))
}

// AppendEncodeMailbox appends the modified UTF-7 form of s (see
// EncodeMailbox) to dst and returns the extended slice.
func AppendEncodeMailbox(dst []byte, s string) []byte {
	var bits uint32
	nbits := 0
	inRun := false
	closeRun := func() {
		if nbits > 0 {
			dst = append(dst, mboxBase64[bits<<(6-nbits)&0x3F])
		}
		dst = append(dst, '-')
		bits, nbits, inRun = 0, 0, false
	}
	put16 := func(u uint16) {
		bits = bits<<16 | uint32(u)
		nbits += 16
		for nbits >= 6 {
			nbits -= 6
			dst = append(dst, mboxBase64[bits>>nbits&0x3F])
		}
		bits &= 1<<nbits - 1
	}
	for i := 0; i < len(s); {
		c := s[i]
		if isMboxDirect(c) {
			if inRun {
				closeRun()
			}
			dst = append(dst, c)
			i++
			continue
		}
		if c == '&' {
			if inRun {
				closeRun()
			}
			dst = append(dst, '&', '-')
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size // an invalid byte gives RuneError (U+FFFD) with size 1
		if !inRun {
			dst = append(dst, '&')
			inRun = true
		}
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			put16(uint16(r1))
			put16(uint16(r2))
		} else {
			put16(uint16(r))
		}
	}
	if inRun {
		closeRun()
	}
	return dst
}

// ExactMailbox reports whether two mailbox names, in the same form (both
// as sent, or both decoded), name the same mailbox whatever the server's
// delimiter: they are equal, or both INBOX alone in any case (INBOX is
// case insensitive, RFC 9051 section 5.1). "inbox/x" and "INBOX/x" are
// not the same to it: on a server whose delimiter is "/", "inbox.x" and
// "INBOX.x" are two mailboxes (Cyrus 3.6).
//
// Use ExactMailbox to route or to match a response to a command by the
// name it was sent with (the session routes STATUS by it; the commands
// package takes the responses that name a mailbox so as its answer), and
// to tell whether two names a program keeps are one mailbox. Use
// SameMailbox, looser, only to pick a command's answer among responses
// already known to be about one mailbox, when none names it exactly
// (Dovecot answers GETMETADATA of "inbox/x" with "INBOX/x").
func ExactMailbox(a, b string) bool {
	return a == b || len(a) == 5 && len(b) == 5 && strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")
}

// SameMailbox reports whether two mailbox names, in the same form (both
// as sent, or both decoded), name the same mailbox: they are equal, or
// equal but for the case of a leading INBOX, alone (INBOX is case
// insensitive, RFC 9051 section 5.1) or followed by "/" or "." (the
// mailboxes under it, which servers name so: Dovecot answers GETMETADATA
// of "inbox/x" with "* METADATA INBOX/x"). Other names are compared byte
// for byte. It does not know the server's delimiter: on a server whose
// delimiter is "/", "inbox.x" and "INBOX.x" are two mailboxes that it
// calls the same, so it is for telling a command's answer from other
// mailboxes' notices among responses already known to be about one
// mailbox, not for routing (the session routes STATUS by ExactMailbox).
func SameMailbox(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) != len(b) || len(a) < 5 || !strings.EqualFold(a[:5], "INBOX") || !strings.EqualFold(b[:5], "INBOX") {
		return false
	}
	if len(a) == 5 {
		return true
	}
	return (a[5] == '/' || a[5] == '.') && a[5:] == b[5:]
}
