package wire_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestCommandLineEndsLongLiteralHeader: a client's literal header longer
// than SkipLine's 32-byte tail ("{" and 40 digits, leading zeros: a size
// of 5, which Dovecot reads as such) is a literal to every reader, read
// whole or a byte at a time, as to FuzzCommandLineEnds's server. It was
// framed by where the reads cut the stream: a byte at a time, SkipLine
// (after Next's ErrNumberOverflow) had dropped the '{' before it met the
// LF, and ended the line there: "hello" was a line of its own (so a proxy
// that refused the line, RefuseLine, answered or relayed the body as a
// command, or dropped it, by the client's segment sizes).
func TestCommandLineEndsLongLiteralHeader(t *testing.T) {
	for _, s := range []string{
		"a {0000000000000000000000000000000000000005}\r\nhello\r\nz NOOP\r\n",
		"a {0000000000000000000000000000000000000005+}\r\nhello\r\nz NOOP\r\n",
	} {
		in := []byte(s)
		want := commandEnds(in)
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		} {
			tk := func() *wire.Tokenizer { return wire.NewTokenizer(r(), commandsOpts) }
			compareFrames(t, in, "a server", want, "SkipLine "+name, skipEndsOn(tk()), nil)
			compareFrames(t, in, "a server", want, "Next "+name, nextEndsOn(tk()), nil)
		}
	}
}

// longHeaderLines are lines whose literal's header is longer than the
// tail SkipLine keeps while it looks for the LF: leading zeros (a server
// reads the number they spell), a '+' or '~' with them, and zeros enough
// to be dropped over several refills. Each carries a literal of 5 bytes
// ("hello") and "z NOOP" is the next line.
var longHeaderLines = []string{
	"a NOOP {" + strings.Repeat("0", 39) + "5}\r\nhello\r\nz NOOP\r\n",
	"a NOOP {" + strings.Repeat("0", 39) + "5+}\r\nhello\r\nz NOOP\r\n",
	"a NOOP ~{" + strings.Repeat("0", 39) + "5}\r\nhello\r\nz NOOP\r\n",
	"a NOOP {" + strings.Repeat("0", 3000) + "5}\r\nhello\r\nz NOOP\r\n",
	"a NOOP x{" + strings.Repeat("0", 60) + "{" + strings.Repeat("0", 40) + "5}\r\nhello\r\nz NOOP\r\n",
}

// TestLineEndsLongLiteralHeader: a server's line (the default mode)
// whose literal header is longer than SkipLine's kept tail is framed by
// every reader of FuzzLineEnds alike, whole and a byte at a time: the
// header's '{', dropped before the LF came, was lost to SkipLine a byte
// at a time, which ended the line at its LF and took the body for a line.
// Next and AppendLine refuse a size of more than 19 digits
// (ErrNumberOverflow) and go on with SkipLine, as the codec does.
func TestLineEndsLongLiteralHeader(t *testing.T) {
	for _, in := range longHeaderLines {
		i := strings.Index(in, "hello\r\n") + len("hello\r\n")
		wantLineEnds(t, in, in[:i], in[i:])
	}
	// The '{' of a header that is not the line's last is no header's.
	wantLineEnds(t, "a NOOP {"+strings.Repeat("0", 40)+"5}x\r\nz NOOP\r\n", "a NOOP {"+strings.Repeat("0", 40)+"5}x\r\n", "z NOOP\r\n")
}

// TestSkipLineLongLiteralHeaderTooLarge: a header whose digits spell a
// size past int64 (20 and more significant digits, after leading zeros
// or not) is a literal over MaxLiteral to SkipLine, whole and a byte at a
// time: ErrLiteralTooLarge and ErrOutOfStep (the stream cannot be
// brought back in step), as for a short one, not a line's end.
func TestSkipLineLongLiteralHeaderTooLarge(t *testing.T) {
	for _, size := range []string{strings.Repeat("9", 25), strings.Repeat("0", 40) + "123456789012345678901", "00000000000000000000000000000000000002000000000"} {
		in := "a NOOP {" + size + "}\r\nhello\r\nz NOOP\r\n"
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
		} {
			for _, opts := range []*wire.TokenizerOptions{nil, commandsOpts} {
				tk := wire.NewTokenizer(r(), opts)
				err := tk.SkipLine()
				if !errors.Is(err, wire.ErrLiteralTooLarge) || !errors.Is(err, wire.ErrOutOfStep) {
					t.Fatalf("%s, %s, commands %v: SkipLine: %v; want ErrLiteralTooLarge and ErrOutOfStep", excerptOf([]byte(in)), name, opts != nil, err)
				}
			}
		}
	}
}

// TestRefuseLineLongLiteralHeader: RefuseLine and ForwardLine find a
// long literal header as SkipLine does, however the client's bytes are
// cut: RefuseLine ends the command at a synchronizing one (no body
// comes: "hello" is the next command) and drops a non-synchronizing
// one's body; ForwardLine relays the line with its literal.
func TestRefuseLineLongLiteralHeader(t *testing.T) {
	for _, in := range longHeaderLines {
		nonSync := strings.Contains(in, "+}")
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
		} {
			tk := wire.NewTokenizer(r(), commandsOpts)
			if err := tk.RefuseLine(); err != nil {
				t.Fatalf("%s, %s: RefuseLine: %v", excerptOf([]byte(in)), name, err)
			}
			want := "hello"
			if nonSync {
				want = "z"
			}
			if tag, err := tk.Tag(); err != nil || string(tag) != want {
				t.Fatalf("%s, %s: after RefuseLine the next command's tag is %q (%v); want %q", excerptOf([]byte(in)), name, tag, err, want)
			}
			var out bytes.Buffer
			tk = wire.NewTokenizer(r(), commandsOpts)
			if err := tk.ForwardLine(&out); err != nil {
				t.Fatalf("%s, %s: ForwardLine: %v", excerptOf([]byte(in)), name, err)
			}
			if line := in[:strings.Index(in, "z NOOP")]; out.String() != line {
				t.Fatalf("%s, %s: ForwardLine relayed %s; want %s", excerptOf([]byte(in)), name, excerptOf(out.Bytes()), excerptOf([]byte(line)))
			}
		}
	}
}
