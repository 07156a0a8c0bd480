package wire_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestSecretValuesCutAtEveryLiteralHeader: inside Secret, every literal
// header is cut out of the values Encoded.Secrets lists, whatever the
// literal's kind (in memory, literal8, synchronizing or not, in a nested
// Secret), and the values either side are listed apart; a reused Encoder
// lists no cut of an earlier command.
func TestSecretValuesCutAtEveryLiteralHeader(t *testing.T) {
	const crlf = "line1\r\nline2" // CR/LF: always a literal
	for _, plus := range []bool{true, false} {
		e := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: plus})
		for range 2 { // the second command on a reused Encoder
			e.Begin("A1").SP().Atom("XBLOB").SP().Secret(func(e *wire.Encoder) {
				e.Atom("tok1").SP().String(crlf).SP().Literal8([]byte("b\x00n")).SP().
					Secret(func(e *wire.Encoder) { e.Literal([]byte("in")).SP().Atom("tok2") })
			})
			c, err := e.End()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"tok1", crlf, "b\x00n", "in", "tok2"}
			if !slices.Equal(c.Secrets(), want) {
				t.Errorf("LiteralPlus %v: Secrets() = %q, want %q", plus, c.Secrets(), want)
			}
		}
	}
}

// TestSecretLiteralCutsAllocateNothingOnReuse: the cuts Secret records
// reuse their slice from command to command: a reused Encoder writing a
// secret with literals allocates nothing but the listed values' strings.
func TestSecretLiteralCutsAllocateNothingOnReuse(t *testing.T) {
	e := wire.NewEncoder(&wire.EncoderOptions{LiteralPlus: true})
	body := strings.NewReader("")
	cmd := func() {
		_, err := e.Begin("A1").SP().Atom("XBLOB").SP().Secret(func(e *wire.Encoder) {
			e.Literal([]byte("x")).SP().LiteralReader(0, body, false).SP().Literal([]byte("y"))
		}).End()
		if err != nil {
			t.Fatal(err)
		}
	}
	cmd()
	// "x" and "y" are one-byte strings, which Go does not allocate.
	if n := testing.AllocsPerRun(100, cmd); n != 0 {
		t.Errorf("allocs per command = %v; want 0", n)
	}
}
