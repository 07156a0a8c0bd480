package wire_test

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// TestCommandLineEndsLongLiteralHeader: a client's literal header longer
// than SkipLine's 32-byte tail ("{" and 40 digits, leading zeros: a size
// of 5, which Dovecot reads as such) is framed by where the reads cut
// the stream. Read whole, every reader takes the 5 bytes after it as the
// literal's body, as FuzzCommandLineEnds's server does; read a byte at a
// time, SkipLine (after Next's ErrNumberOverflow) has dropped the '{'
// before it meets the LF, and ends the line there: "hello" becomes a line
// of its own (so a proxy that refuses the line, RefuseLine, answers or
// relays the body as a command, or drops it, by the client's segment
// sizes). FuzzCommandLineEnds's claim (docs/fuzzing.md) fails on it.
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
