package wire

import (
	"strings"
	"testing"
)

// encFuzzOptions derives encoder options from the fuzzer's flags byte:
// bit 0 LITERAL+, bit 1 LITERAL-, bit 2 UTF8, bits 3-4 pick MaxQuoted.
func encFuzzOptions(flags byte) *EncoderOptions {
	return &EncoderOptions{
		LiteralPlus:  flags&1 != 0,
		LiteralMinus: flags&2 != 0,
		UTF8:         flags&4 != 0,
		MaxQuoted:    [4]int{0, 8, -1, 1}[flags>>3&3],
	}
}

// FuzzEncodeString encodes s with every string method (String, AString,
// NString, Mailbox, Password and their []byte variants) and checks that:
// a string with NUL is rejected with ErrNUL; otherwise no CR or LF appears
// outside literal framing, every synchronizing literal ends a part, the form
// follows the rules (literal for CR, LF, 8-bit without UTF8, invalid UTF-8 or
// length > MaxQuoted; atom only for AString and Mailbox), and a tiny
// independent parser decodes the argument back to s.
func FuzzEncodeString(f *testing.F) {
	for _, s := range []string{"", "abc", "NIL", "a\r\nb", "\r\n", "\n", "\r", "a\x00b", "é", "\xff\xfe",
		`a"b\c`, strings.Repeat("x", 1025), "INBOX", "{5}", "A2 LOGOUT\r\nA3 DELETE INBOX"} {
		f.Add(s, byte(0))
		f.Add(s, byte(0x07))
	}
	f.Fuzz(func(t *testing.T, s string, flags byte) {
		encCheckString(t, s, encFuzzOptions(flags))
		// Also inside a larger command with other arguments around it.
		e := NewEncoder(encFuzzOptions(flags))
		cmd, err := e.Begin("A1").SP().Atom("X").SP().String(s).SP().List(func(e *Encoder) {
			e.AString(s).SP().Password(s).SP().Mailbox(s)
		}).SP().LiteralReader(int64(len(s)), strings.NewReader(s), flags&0x20 != 0).End()
		if strings.IndexByte(s, 0) >= 0 {
			if err == nil {
				t.Fatalf("%q: no error for NUL", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		encFraming(t, cmd)
	})
}
