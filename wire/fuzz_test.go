package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// tokenizeAll renders every token of in, reading literals as bytes, with
// small limits so that the fuzzer reaches them. It stops at the first
// error, after a bounded number of tokens.
func tokenizeAll(r io.Reader) ([]string, error) {
	tk := wire.NewTokenizer(r, &wire.TokenizerOptions{MaxLineLength: 4096, MaxStringLiteral: 1024, MaxDepth: 16, MaxLiteral: 1 << 20, BufferSize: 64})
	var out []string
	for i := 0; i < 100000; i++ {
		var tok wire.Token
		var err error
		for {
			tok, err = tk.Next()
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
		}
		if err != nil {
			return out, err
		}
		s := tok.Kind.String() + ":" + tok.String()
		if tok.Kind == wire.KindLiteral {
			b, err := tk.LiteralBytes()
			for errors.Is(err, os.ErrDeadlineExceeded) {
				b, err = tk.LiteralBytes()
			}
			if errors.Is(err, wire.ErrStringTooLarge) {
				lr, _ := tk.LiteralReader()
				var n int64
				for {
					m, err := io.Copy(io.Discard, lr)
					n += m
					if errors.Is(err, os.ErrDeadlineExceeded) {
						continue
					}
					if err != nil {
						return out, err
					}
					break
				}
				s += ":streamed:" + string(rune('0'+n%10))
			} else if err != nil {
				return out, err
			} else {
				s += ":" + string(b)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// FuzzTokenizer feeds arbitrary bytes to the tokenizer. It must not panic
// or hang, and reading the same bytes one at a time, or with timeouts in
// between, must give the same tokens (the resumable property).
func FuzzTokenizer(f *testing.F) {
	f.Add([]byte(sampleStream))
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nhello)\r\n"))
	f.Add([]byte("{99999999999}\r\nab"))
	f.Add([]byte("\"unterminated\r\n"))
	f.Add([]byte("((((((((((((((((((((((((\r\n"))
	f.Add([]byte("~{3+}\r\na\x00b <1.2> <9> \"a\\\"b\" nil NIL Nil 18446744073709551616\r\n"))
	// Lines of many tokens, which AppendLine returns in several calls
	// (MaxLineTokens, below, is 1 to 7 for most lengths).
	f.Add([]byte("a1 NOOP" + strings.Repeat(" 1", 300) + "\r\n* 2 FETCH (BODY[] {3}\r\nabc (((x))) \"q\" <1.2>)\r\n"))
	f.Add([]byte("* OK [ALERT] text {5}\r\n+ go on\r\n* SEARCH" + strings.Repeat(" 4294967295", 100) + "\r\n"))
	// Tags with ']' and '[' (Tag): their status lines' text is text.
	f.Add([]byte("a]1 OK done {5}\r\n]] NO [ALERT] x {2}\r\na[1 BAD \"y\r\nnil OK z\r\n* 1 EXISTS\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, errWhole := tokenizeAll(bytes.NewReader(in))
		slow, errSlow := tokenizeAll(&timeoutReader{r: iotest.OneByteReader(bytes.NewReader(in)), n: 3, chunk: 1})
		if len(whole) != len(slow) {
			t.Fatalf("whole read gave %d tokens (%v), byte by byte %d (%v)", len(whole), errWhole, len(slow), errSlow)
		}
		for i := range whole {
			if whole[i] != slow[i] {
				t.Fatalf("token %d: whole %q, byte by byte %q", i, whole[i], slow[i])
			}
		}
		if (errWhole == nil) != (errSlow == nil) {
			t.Fatalf("errors differ: %v vs %v", errWhole, errSlow)
		}
		// AppendLine gives the same tokens as Next, in calls of up to
		// MaxLineTokens tokens (1 to 7; for 0, the default, one call a
		// line).
		opts := &wire.TokenizerOptions{MaxLineLength: 4096, MaxStringLiteral: 1024, MaxDepth: 16, MaxLiteral: 1 << 20, BufferSize: 64, MaxLineTokens: len(in) % 8}
		next, errNext := dump(wire.NewTokenizer(bytes.NewReader(in), opts))
		lines, errLines := dumpLines(wire.NewTokenizer(bytes.NewReader(in), opts))
		// dump streams literals over 64 bytes, which its line then does
		// not keep; AppendLine keeps every literal body of its line. So
		// the bound on what a line keeps may end AppendLine's line where
		// dump's goes on (a 999-byte literal and 4,001 bytes after it,
		// under a 4,096-byte bound): then the tokens AppendLine gave
		// must still be dump's first ones.
		streamed := false // dump streamed a literal
		for _, tok := range next {
			var size int64
			if _, err := fmt.Sscanf(tok, "literal:%d:", &size); err == nil && size > 64 {
				streamed = true
			}
		}
		shorter := streamed && errors.Is(errLines, wire.ErrLineTooLong) && !errors.Is(errNext, wire.ErrLineTooLong) && len(lines) <= len(next)
		if !shorter && (len(next) != len(lines) || (errNext == nil) != (errLines == nil)) {
			t.Fatalf("Next gave %d tokens (%v), AppendLine %d (%v)", len(next), errNext, len(lines), errLines)
		}
		for i := range lines {
			if next[i] != lines[i] {
				t.Fatalf("token %d: Next %q, AppendLine %q", i, next[i], lines[i])
			}
		}
	})
}

// FuzzEncodeTokenize is the round trip encode -> tokenize: whatever string
// the encoder writes (atom, quoted or literal, with any options), the
// tokenizer reads back the same bytes.
func FuzzEncodeTokenize(f *testing.F) {
	f.Add("hello", false, false, false)
	f.Add("two words", true, false, false)
	f.Add("line\r\nbreak", false, true, false)
	f.Add("quote\" and \\ backslash", false, false, true)
	f.Add("Grüße", false, false, true)
	f.Add("", false, false, false)
	f.Add("NIL", false, false, false)
	f.Fuzz(func(t *testing.T, s string, plus, minus, utf8 bool) {
		if bytes.IndexByte([]byte(s), 0) >= 0 {
			return // NUL is refused by the encoder
		}
		enc := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: plus, LiteralMinus: minus, UTF8: utf8})
		cmd, err := enc.Begin("A1").SP().Atom("X").SP().String(s).SP().AString(s).SP().Password(s).End()
		if err != nil {
			t.Fatalf("encode %q: %v", s, err)
		}
		var buf bytes.Buffer
		if _, err := cmd.WriteTo(&buf, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		tk := wire.NewTokenizer(&buf, &wire.TokenizerOptions{MaxStringLiteral: 1 << 20})
		if a, _ := tk.Atom(); string(a) != "A1" {
			t.Fatalf("tag %q", a)
		}
		tk.SP()
		tk.Atom()
		for i, read := range []func() ([]byte, error){tk.String, tk.AString, tk.String} {
			if err := tk.SP(); err != nil {
				t.Fatalf("arg %d: SP: %v (%q)", i, err, buf.String())
			}
			got, err := read()
			if err != nil {
				t.Fatalf("arg %d of %q: %v", i, s, err)
			}
			if string(got) != s {
				t.Fatalf("arg %d: encoded %q, tokenized back %q", i, s, got)
			}
		}
		if err := tk.CRLF(); err != nil {
			t.Fatal(err)
		}
	})
}
