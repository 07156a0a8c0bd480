package wire_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/wire"
)

// readers gives in whole and a byte at a time, so that both the buffered
// fast paths and the reads in between are taken.
func readers(in string) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
	}
}

// TestTagASTRINGChars: Tag reads RFC 9051's tag, 1*<any ASTRING-CHAR
// except "+">: ']' and '[' are part of it (Atom stops at both), a '+'
// past the first byte too (a tolerance, as Atom reads it); a byte that is
// no ASTRING-CHAR ('%', an 8-bit byte, a space) ends it, and a tag the end
// of the stream cuts is returned as Atom returns a cut atom: the next call
// meets the cut.
func TestTagASTRINGChars(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"a]1 OK", "a]1"},
		{"]] NO", "]]"},
		{"a[1] BAD", "a[1]"},
		{"a+1 OK", "a+1"},
		{"A%1 OK", "A"},
		{"C\x801 OK", "C"},
		{"Z9\r\n", "Z9"},
	} {
		for name, r := range readers(tt.in) {
			tk := wire.NewTokenizer(r, nil)
			got, err := tk.Tag()
			if err != nil || string(got) != tt.want {
				t.Errorf("%s: Tag(%q) = %q, %v; want %q", name, tt.in, got, err, tt.want)
			}
		}
	}
	for name, r := range readers("(x") {
		var se *wire.SyntaxError
		if _, err := wire.NewTokenizer(r, nil).Tag(); !errors.As(err, &se) || se.Expected != "tag" {
			t.Errorf("%s: Tag(%q) = %v; want a *wire.SyntaxError expecting a tag", name, "(x", err)
		}
	}
	for name, r := range readers("a]1") {
		tk := wire.NewTokenizer(r, nil)
		if got, err := tk.Tag(); err != nil || string(got) != "a]1" {
			t.Errorf("%s: Tag(%q) = %q, %v; want the cut tag", name, "a]1", got, err)
		}
		if err := tk.SP(); err != io.ErrUnexpectedEOF {
			t.Errorf("%s: SP after %q = %v; want io.ErrUnexpectedEOF", name, "a]1", err)
		}
	}
}

// TestStatusLineTagASTRINGChars: a tagged status response whose tag holds
// ']' or '[' ("a]1 OK ...", see Tag) is a status line to the tokenizer as
// to the codec: its text is text to the CRLF, so a "{5}" at its end is no
// literal, whether Next reads the line (a relay) or SkipLine skips it
// after Tag (a decoder that failed on it). Before, the line's head was
// taken to end at the ']', the line was no status line, and its "{5}" was
// read as a literal: the 5 bytes after the line, the start of the next
// response, were swallowed.
func TestStatusLineTagASTRINGChars(t *testing.T) {
	for _, tag := range []string{"a]1", "]]", "a[1]", "nil", "1]"} {
		in := tag + " OK done {5}\r\n* 1 EXISTS\r\n"
		for name, r := range readers(in) {
			got, err := dump(wire.NewTokenizer(r, nil))
			if err != nil || !slices.Contains(got, "text:done {5}") || got[len(got)-2] != "atom:EXISTS" {
				t.Errorf("%s: Next over %q: %v, %v; want the text \"done {5}\", then * 1 EXISTS", name, in, got, err)
			}
		}
		for name, r := range readers(in) {
			tk := wire.NewTokenizer(r, nil)
			if _, err := tk.Tag(); err != nil {
				t.Fatal(err)
			}
			if err := tk.SkipLine(); err != nil {
				t.Errorf("%s: SkipLine after the tag of %q: %v", name, in, err)
				continue
			}
			if err := tk.Expect('*'); err != nil {
				t.Errorf("%s: after skipping %q: %v; want the next response's '*'", name, tag+" OK done {5}", err)
			}
		}
	}
}

// TestValidTag: ValidTag is RFC 9051's tag, 1*<any ASTRING-CHAR except
// "+">, ']' included; Dialog's tag is the same less ']' (Dovecot's): a
// command line with a tag ValidTag takes and no ']' in it has that tag
// for Dialog, and one with any other first word has none. The proxy
// answers a line whose tag has a ']' with it (cmd/imapkit bracketTag),
// with this one grammar.
func TestValidTag(t *testing.T) {
	for _, tt := range []struct {
		tag  string
		want bool
	}{
		{"a1", true},
		{"A0001", true},
		{"a]1", true},
		{"]", true},
		{"[a", true},
		{"a[1]", true},
		{"a.b-c_d!#$&'~`^|/<>=?@;:,", true},
		{"NIL", true},
		{"007", true},
		{"", false},
		{"+", false},
		{"a+1", false},
		{"a%1", false},
		{"a*", false},
		{`a"1`, false},
		{`a\1`, false},
		{"a(1", false},
		{"a)1", false},
		{"a{1", false},
		{"a 1", false},
		{"a\x001", false},
		{"a\x7f1", false},
		{"a\x801", false},
		{"a\t1", false},
	} {
		if got := wire.ValidTag(tt.tag); got != tt.want {
			t.Errorf("ValidTag(%q) = %v; want %v", tt.tag, got, tt.want)
		}
		if tt.tag == "" || strings.ContainsAny(tt.tag, " \x00\t") {
			continue // no first word of its own on a line
		}
		line, err := wire.NewTokenizer(strings.NewReader(tt.tag+" NOOP\r\n"), &wire.TokenizerOptions{Commands: true}).AppendLine(nil)
		if err != nil {
			continue // no line Dialog reads
		}
		var d wire.Dialog
		ev := d.Client(line)
		want := ""
		if tt.want && !strings.Contains(tt.tag, "]") {
			want = tt.tag
		}
		if ev.Tag != want {
			t.Errorf("Dialog's tag of %q NOOP: %q; want %q", tt.tag, ev.Tag, want)
		}
	}
}
