package wire

import (
	"bytes"
	"errors"
	"io"
	"strconv"
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

// encFramingText is encFraming for a command that holds Text, whose bytes
// may hold '{' and '"' as they come: a literal header is what a server
// reads as one, "{n}" or "{n+}" right before a CRLF; every other CR or LF
// must be the line's end, every synchronizing header must end a part,
// every non-synchronizing one not.
func encFramingText(t testing.TB, cmd *Encoded) {
	t.Helper()
	var s []byte
	waitAt := map[int]bool{}
	for _, p := range cmd.Parts {
		if p.WaitContinuation {
			waitAt[len(s)] = true
		}
		s = append(s, p.Data...)
		if p.BodySize > 0 {
			b := make([]byte, p.BodySize)
			if _, err := io.ReadFull(p.Body, b); err != nil {
				t.Fatalf("body: %v", err)
			}
			s = append(s, b...)
		}
	}
	syncs := 0
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '{':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			sync := true
			k := j
			if k < len(s) && s[k] == '+' {
				sync = false
				k++
			}
			n, err := strconv.Atoi(string(s[i+1 : j]))
			if err != nil || !bytes.HasPrefix(s[k:], []byte("}\r\n")) {
				i++ // not a header: a byte of text
				continue
			}
			k += 3
			if sync {
				syncs++
				if !waitAt[k] {
					t.Fatalf("synchronizing literal header ending at %d does not end a part in %q", k, s)
				}
			} else if waitAt[k] {
				t.Fatalf("non-synchronizing literal header ending at %d is followed by a wait in %q", k, s)
			}
			if k+n > len(s) {
				t.Fatalf("literal at %d overruns the command in %q", i, s)
			}
			i = k + n
		case c == '\r' || c == '\n' || c == 0:
			if i != len(s)-2 || c != '\r' || s[i+1] != '\n' {
				t.Fatalf("stray %q at %d in %q", c, i, s)
			}
			i = len(s)
		default:
			i++
		}
	}
	if !bytes.HasSuffix(s, []byte("\r\n")) {
		t.Fatalf("command does not end with CRLF: %q", s)
	}
	if len(waitAt) != syncs {
		t.Fatalf("%d waits for %d synchronizing literals in %q", len(waitAt), syncs, s)
	}
}

// encProgOps are the encoder's argument methods, each fed one string, for
// FuzzEncodeProgram.
var encProgOps = []func(e *Encoder, s string, bit bool){
	func(e *Encoder, s string, _ bool) { e.Atom(s) },
	func(e *Encoder, s string, _ bool) { e.String(s) },
	func(e *Encoder, s string, _ bool) { e.StringBytes([]byte(s)) },
	func(e *Encoder, s string, _ bool) { e.AString(s) },
	func(e *Encoder, s string, _ bool) { e.AStringBytes([]byte(s)) },
	func(e *Encoder, s string, bit bool) {
		if bit {
			e.NString(nil)
		} else {
			e.NString(&s)
		}
	},
	func(e *Encoder, s string, _ bool) { e.Mailbox(s) },
	func(e *Encoder, s string, _ bool) { e.Password(s) },
	func(e *Encoder, s string, _ bool) { e.PasswordBytes([]byte(s)) },
	func(e *Encoder, s string, _ bool) { e.Literal([]byte(s)) },
	func(e *Encoder, s string, _ bool) { e.Literal8([]byte(s)) },
	func(e *Encoder, s string, bit bool) { e.LiteralReader(int64(len(s)), strings.NewReader(s), bit) },
	func(e *Encoder, s string, _ bool) { e.Raw(s) },
	func(e *Encoder, s string, _ bool) { e.Text(s) },
	func(e *Encoder, s string, _ bool) {
		if len(s) > 0 {
			e.Special(s[0])
		}
	},
	func(e *Encoder, s string, _ bool) { e.Secret(func(e *Encoder) { e.AString(s) }) },
	func(e *Encoder, s string, _ bool) { e.List(func(e *Encoder) { e.String(s).SP().Atom(s) }) },
	func(e *Encoder, _ string, _ bool) { e.BeginList() },
	func(e *Encoder, _ string, _ bool) { e.EndList() },
	func(e *Encoder, s string, _ bool) { e.Number(uint64(len(s))) },
	func(e *Encoder, s string, _ bool) { e.SeqSet([]SeqRange{{uint32(len(s)), 0}}) },
}

// FuzzEncodeProgram is TestEncodeNoCRLFInjection's property
// (imaplib's CVE-2025-15366: no CR or LF sent inside an argument) under
// coverage guidance: a program of the encoder's argument methods, each
// with a string of the fuzzer's (op byte, length byte, bytes), under any
// options and any tag, either fails with an *EncodeError and no command,
// or gives a command whose every CR and LF is literal framing or the
// final CRLF, whose synchronizing literals each end a part (encFraming).
// TestEncodeNoCRLFInjection draws its strings from a fixed alphabet with
// a fixed seed; Text was in no test of the kind.
func FuzzEncodeProgram(f *testing.F) {
	f.Add("A1", []byte{12, 3, 'a', '\r', 'b', 13, 4, 'x', '\r', '\n', 'y', 1, 2, '\r', '\n'}, byte(0))
	f.Add("A2", []byte{17, 0, 3, 5, 'I', 'N', 'B', 'O', 'X', 18, 0, 9, 3, '{', '3', '}', 13, 5, 'a', ' ', '{', '5', '}'}, byte(7))
	f.Add("A\r\n3", []byte{0, 3, 'N', 'I', 'L'}, byte(0x18))
	f.Add("A4", []byte{11, 5, 'h', 'e', '\r', '\n', 'x', 7, 3, 'p', '\n', 'w', 15, 2, '\r', '\n'}, byte(0x21))
	f.Fuzz(func(t *testing.T, tag string, prog []byte, flags byte) {
		if len(prog) > 4096 {
			return
		}
		e := NewEncoder(encFuzzOptions(flags))
		e.Begin(tag)
		text := false
		for i := 0; i+1 < len(prog); {
			op, n := prog[i], int(prog[i+1])
			i += 2
			s := string(prog[i:min(i+n, len(prog))])
			i += n
			e.SP()
			k := int(op) % len(encProgOps)
			text = text || k == encProgText
			encProgOps[k](e, s, op >= 0x80)
		}
		cmd, err := e.End()
		if err != nil {
			var ee *EncodeError
			if !errors.As(err, &ee) || cmd != nil {
				t.Fatalf("End() = %v, %v; want nil, *EncodeError", cmd, err)
			}
			return
		}
		if text {
			encFramingText(t, cmd)
		} else {
			encFraming(t, cmd)
		}
	})
}

// encProgText is the index of Text in encProgOps.
const encProgText = 13
