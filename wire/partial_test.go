package wire_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// relayedPartials reads line with AppendUntilLiteral in pieces of at most
// maxTokens tokens, relaying as the proxy does (Forward, then Drop+Keep:
// giveUpForwarded) when relay is true, and returns the kinds of the tokens
// that follow a ']'.
func relayedPartials(t *testing.T, line string, bufSize, maxTokens int, oneByte, relay bool) []wire.Kind {
	t.Helper()
	var r io.Reader = strings.NewReader(line)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	tk := wire.NewTokenizer(r, &wire.TokenizerOptions{BufferSize: bufSize, MaxLineTokens: maxTokens})
	var kinds []wire.Kind
	var prev wire.Kind
	var toks []wire.Token
	for i := 0; i < 1000; i++ {
		var err error
		toks, err = tk.AppendUntilLiteral(toks[:0])
		more := errors.Is(err, wire.ErrTooManyTokens)
		if err != nil && !more {
			t.Fatalf("buf %d tokens %d: %v", bufSize, maxTokens, err)
		}
		for _, tok := range toks {
			if prev == wire.KindRBracket {
				kinds = append(kinds, tok.Kind)
			}
			prev = tok.Kind
		}
		last := toks[len(toks)-1]
		if last.Kind == wire.KindCRLF {
			return kinds
		}
		if relay {
			if _, err := tk.Forward(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		if last.Kind == wire.KindLiteral {
			if relay {
				if _, err := tk.ForwardLiteral(io.Discard); err != nil {
					t.Fatal(err)
				}
			} else if _, err := tk.LiteralBytes(); err != nil {
				t.Fatal(err)
			}
		}
		if relay {
			tk.Drop() // the proxy's giveUpForwarded
			tk.Keep()
		}
	}
	t.Fatal("no end")
	return nil
}

// TestPartialAfterPiece: a FETCH answer relayed by the proxy
// (cmd/imapkit/proxy_server.go, serverRelay.forwardPiece: AppendUntilLiteral, Forward, then
// giveUpForwarded = Drop+Keep after every piece of MaxLineTokens tokens
// and after every literal) whose piece ends right after a section's ']'
// reads the "<0.10>" that follows as an atom, not a KindPartial: nextSlow
// tests t.r == t.lineStart, and Drop/Keep moved lineStart to t.r
// (dropTo), though the ']' is still the byte before. The same line
// without the relay's Drop, and with any other cut, gives a partial.
func TestPartialAfterPiece(t *testing.T) {
	const line = "* 1 FETCH (BODY[]<0.10> {3}\r\nabc)\r\n"
	for _, relay := range []bool{false, true} {
		for n := 1; n <= 12; n++ {
			kinds := relayedPartials(t, line, 0, n, false, relay)
			if len(kinds) != 1 || kinds[0] != wire.KindPartial {
				t.Errorf("relay %v, MaxLineTokens %d: the token after ']' is %v, want a partial", relay, n, kinds)
			}
		}
	}
}

// TestPartialRefill: a refill of the buffer exactly between ']'
// and '<' (small buffers, a reader of one byte at a time) keeps the
// partial: makeRoom moves the line from lineStart, so the ']' stays before
// t.r. (Sound; a guard.)
func TestPartialRefill(t *testing.T) {
	const line = "* 1 FETCH (BINARY[1]<5> {3}\r\nabc BODY[HEADER.FIELDS (A B)]<0.5> \"x\")\r\n"
	for size := 1; size <= 40; size++ {
		for _, one := range []bool{false, true} {
			kinds := relayedPartials(t, line, size, 0, one, false)
			if len(kinds) != 2 || kinds[0] != wire.KindPartial || kinds[1] != wire.KindPartial {
				t.Errorf("buffer %d one byte %v: after ']': %v", size, one, kinds)
			}
		}
	}
}

// TestPartialAfterUnshareOrDrop: the ']' before a partial may be
// given up in the middle of a line by Unshare (the rest copied to a new
// buffer) or by Drop and Keep; the '<' after it still starts a partial,
// and a '<' after any other byte given up so still starts an atom.
func TestPartialAfterUnshareOrDrop(t *testing.T) {
	cases := []struct {
		line  string
		stop  wire.Kind // read up to and including the first token of this kind
		want  wire.Kind
		drop  bool
		label string
	}{
		{"* 1 FETCH (BODY[] <0.10>)\r\n", wire.KindRBracket, wire.KindPartial, false, "unshare after ]"},
		{"* 1 FETCH (BODY[]<0.10>)\r\n", wire.KindRBracket, wire.KindPartial, false, "unshare after ] (no space)"},
		{"* 1 FETCH (BODY[]<0.10>)\r\n", wire.KindRBracket, wire.KindPartial, true, "drop after ]"},
		{"* 1 FETCH (X (<0> a))\r\n", wire.KindLParen, wire.KindAtom, false, "unshare after ("},
		{"* 1 FETCH (X (<0> a))\r\n", wire.KindLParen, wire.KindAtom, true, "drop after ("},
	}
	for _, c := range cases {
		tk := wire.NewTokenizer(strings.NewReader(c.line), nil)
		for {
			tok, err := tk.Next()
			if err != nil {
				t.Fatalf("%s: %v", c.label, err)
			}
			if tok.Kind == c.stop && (c.stop != wire.KindLParen || tk.Depth() == 2) {
				break
			}
		}
		if c.drop {
			tk.Drop()
			tk.Keep()
		} else if err := tk.Unshare(); err != nil {
			t.Fatalf("%s: Unshare: %v", c.label, err)
		}
		if c.line[strings.Index(c.line, "<")-1] == ' ' {
			if tok, err := tk.Next(); err != nil || tok.Kind != wire.KindSP {
				t.Fatalf("%s: want SP, got %v %v", c.label, tok.Kind, err)
			}
			c.want = wire.KindAtom // after a space, never a partial
		}
		tok, err := tk.Next()
		if err != nil || tok.Kind != c.want {
			t.Errorf("%s: the token after is %v (%v), want %v", c.label, tok.Kind, err, c.want)
		}
	}
}
