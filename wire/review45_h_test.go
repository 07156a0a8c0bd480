package wire_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestReview45HLongCodeClosedBeforeText: a line whose head stopped inside
// a status response's code (a token over MaxLineLength) was refused (out
// of step) whenever its first part ended in "{n}", even with the code
// closed by ']' before it: "{5}" is then in the text, and every reader
// (the tokenizer reading the line whole, an imapkit client) reads the line
// as text. It is relayed as text again; a code still open at "{n}" is
// still refused.
func TestReview45HLongCodeClosedBeforeText(t *testing.T) {
	long := strings.Repeat("x", 1100000)
	lines, err := relayLines("* OK [X " + long + "] text {5}\r\n* 2 EXISTS\r\n")
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("closed code: lines %q, %v; want [* *]", lines, err)
	}
	// A ']' inside a nested list or a quoted string does not close it.
	for _, in := range []string{
		"* OK [X (" + long + "] {5}\r\nabcde\r\n",
		"* OK [X " + long + " \"]\" {5}\r\nabcde\r\n",
	} {
		lines, err = relayLines(in + "* 2 EXISTS\r\n")
		if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
			t.Errorf("%.20q...: lines %q, %v; want none and ErrOutOfStep", in[len(in)-20:], lines, err)
		}
	}
}

// TestReview45HUntokenizedCodeClosedBeforeText: the same for a code that
// does not tokenize (an unmatched quote), closed by ']' before text that
// ends in "{3}": the codec reads the line as a Status with text (see
// codec's TestCodeErrorTextLiteralInStep), so the relay relays it as a
// line. An unmatched quote is judged without quotes: its ']' counts.
func TestReview45HUntokenizedCodeClosedBeforeText(t *testing.T) {
	lines, err := relayLines("* NO [BADCHARSET (x \"y)] {3}\r\n* 2 EXISTS\r\n")
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("lines %q, %v; want [* *]", lines, err)
	}
	// Still open at "{3}" (its ']' is inside the list, whose ')' is
	// missing): refused.
	lines, err = relayLines("* NO [BADCHARSET (x \"y] {3}\r\nabc\r\n* 2 EXISTS\r\n")
	if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
		t.Errorf("open code: lines %q, %v; want none and ErrOutOfStep", lines, err)
	}
}
