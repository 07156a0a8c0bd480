package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestPartialOtherSectionNotReturned: Partial (imaplib's partial) asks
// for BODY.PEEK[TEXT]<100.10> and takes the first section of the first
// message, whatever it is: a server that answers with another section
// (BODY[HEADER]<100>) or another origin (BODY[TEXT]<0>, or no origin:
// the section from its start) had those bytes returned, no error, as the
// ten bytes at 100 of the text. commands.Section names what came (Spec,
// Specifier, Origin, HasOrigin): a section that is not the one asked for
// is not its answer (an error, as for a missing one, or nil).
func TestPartialOtherSectionNotReturned(t *testing.T) {
	for _, line := range []string{
		"* 1 FETCH (BODY[HEADER]<100> {10}\r\nHHHHHHHHHH)",
		"* 1 FETCH (BODY[TEXT]<0> {10}\r\n0000000000)",
		"* 1 FETCH (BODY[TEXT] {10}\r\nWWWWWWWWWW)",
	} {
		c := resSelected(t, "IMAP4rev1", "FETCH", line)
		b, err := c.Partial(resCtx(t), commands.SeqNums(1), commands.FetchSection{Specifier: "TEXT"}, 100, 10)
		if err == nil && b != nil {
			t.Errorf("Partial(TEXT, 100, 10) answered %q = %q, no error: bytes of another section or origin", line, b)
		}
	}
}

// TestPartialAskedSectionAfterOther: the section asked for is found after
// another in the same FETCH response, and a section without an origin
// answers a partial fetch from 0 (the section from its start).
func TestPartialAskedSectionAfterOther(t *testing.T) {
	for _, tc := range []struct {
		line  string
		start uint32
		want  string
	}{
		{"* 1 FETCH (BODY[HEADER]<100> {3}\r\nHHH BODY[TEXT]<100> {3}\r\nTTT)", 100, "TTT"},
		{"* 1 FETCH (BODY[TEXT] {3}\r\nabc)", 0, "abc"},
		{"* 1 FETCH (BINARY[TEXT]<0> {3}\r\nbin BODY[text]<0> {3}\r\nlow)", 0, "low"},
	} {
		c := resSelected(t, "IMAP4rev1", "FETCH", tc.line)
		b, err := c.Partial(resCtx(t), commands.SeqNums(1), commands.FetchSection{Specifier: "TEXT"}, tc.start, 10)
		if err != nil || string(b) != tc.want {
			t.Errorf("Partial(TEXT, %d, 10) answered %q = %q, %v; want %q", tc.start, tc.line, b, err, tc.want)
		}
	}
}

// TestPartialOtherHeaderFieldsNotReturned: Partial of
// HEADER.FIELDS (TO) answered with BODY[HEADER.FIELDS (FROM)]<0> returned
// the From line as the To line: the field names were not compared. The
// names are compared in any case and order, as a set.
func TestPartialOtherHeaderFieldsNotReturned(t *testing.T) {
	for _, tc := range []struct {
		fields []string
		line   string
		want   string // "" for nil
	}{
		{[]string{"TO"}, "* 1 FETCH (BODY[HEADER.FIELDS (FROM)]<0> {3}\r\nfff)", ""},
		{[]string{"TO"}, "* 1 FETCH (BODY[HEADER.FIELDS.NOT (TO)]<0> {3}\r\nnnn)", ""},
		{[]string{"FROM", "TO"}, "* 1 FETCH (BODY[HEADER.FIELDS (FROM)]<0> {3}\r\nfff)", ""},
		{[]string{"TO"}, "* 1 FETCH (BODY[HEADER.FIELDS (TO CC)]<0> {3}\r\nccc)", ""},
		{[]string{"TO"}, "* 1 FETCH (BODY[HEADER.FIELDS (FROM)]<0> {3}\r\nfff BODY[HEADER.FIELDS (TO)]<0> {3}\r\nttt)", "ttt"},
		{[]string{"To"}, "* 1 FETCH (BODY[HEADER.FIELDS (TO)]<0> {3}\r\nttt)", "ttt"},
		{[]string{"FROM", "TO"}, "* 1 FETCH (BODY[HEADER.FIELDS (to \"From\")]<0> {3}\r\nttt)", "ttt"},
		{[]string{"TO"}, "* 1 FETCH (BODY[HEADER.FIELDS ({2}\r\nTO)]<0> {3}\r\nttt)", "ttt"},
	} {
		c := resSelected(t, "IMAP4rev1", "FETCH", tc.line)
		section := commands.FetchSection{Specifier: "HEADER.FIELDS", Fields: tc.fields}
		b, err := c.Partial(resCtx(t), commands.SeqNums(1), section, 0, 10)
		if err != nil || string(b) != tc.want || (tc.want == "") != (b == nil) {
			t.Errorf("Partial(HEADER.FIELDS %v) answered %q = %q, %v; want %q", tc.fields, tc.line, b, err, tc.want)
		}
	}
}
