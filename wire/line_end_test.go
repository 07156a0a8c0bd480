package wire_test

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// wantLineEnds checks that every reader of FuzzLineEnds (SkipLine,
// AppendLine, Next to each CRLF, the codec), on in whole and a byte at a
// time, ends in's lines after the given lines: the lines' lengths, each
// literal's header and body included.
func wantLineEnds(t *testing.T, in string, lines ...string) {
	t.Helper()
	if strings.Join(lines, "") != in {
		t.Fatalf("the lines of %q do not make it: %q", in, lines)
	}
	var want []int64
	off := 0
	for _, l := range lines {
		off += len(l)
		want = append(want, int64(off))
	}
	for name, frame := range map[string]func(io.Reader) lineEnds{
		"SkipLine": skipEnds, "AppendLine": appendEnds, "Next": nextEnds, "codec": codecEnds,
	} {
		for how, r := range map[string]io.Reader{
			"whole":    bytes.NewReader([]byte(in)),
			"one byte": iotest.OneByteReader(bytes.NewReader([]byte(in))),
		} {
			if got := frame(r); !slices.Equal(got.ends, want) || got.err != io.EOF {
				t.Errorf("%s %s over %q: lines end at %v, then %v; want %v (%q), then EOF", name, how, in, got.ends, got.err, want, lines)
			}
		}
	}
}

// TestContinuationLonePlusIsText: a line whose '+' is a token of its own
// (no atom byte follows it) is a continuation request, and its text holds
// no literal, whatever follows the '+': RFC 9051's tag never begins with
// '+', and the codec reads "+ text" as a Continuation and fails on
// "+]1 ..." and skips it as text. Before, Next and AppendLine read the
// "+]1 OK x {5}" as a '+' not followed by its space, so no continuation
// request, and its "{5}" as a literal, while SkipLine read the first word
// "+]1" and the status word OK: text (a relay out of step with the client
// behind it). "+x", an atom, is a first word as any other (a lenient
// server may take "+a DELETE x" for a command): its "{2}" is a literal
// to every reader.
func TestContinuationLonePlusIsText(t *testing.T) {
	for _, first := range []string{"+]1 OK x {5}\r\n", "+{0}\r\n", "+(x {2}\r\n", "+\"q {2}\r\n", "+[ALERT] x {2}\r\n", "+ go {2}\r\n"} {
		wantLineEnds(t, first+"* 1 EXISTS\r\n", first, "* 1 EXISTS\r\n")
	}
	wantLineEnds(t, "+x {2}\r\nab\r\n* 1 EXISTS\r\n", "+x {2}\r\nab\r\n", "* 1 EXISTS\r\n")
}
