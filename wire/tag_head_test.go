package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestStatusLineTagTokensAfterBracket: the head of a line (Next, Scan,
// AppendLine, AppendUntilLiteral) must take a line's first word as far as
// SkipLine's statusPrefix and Tag take it, or a relay and a decoder frame
// the same line differently. Inside the word Next cuts atoms at ']' and
// '[', and what follows one may be any token an atom's bytes make: an
// atom, a number, NIL, a lone "*" or "+" (KindStar, KindPlus), another
// bracket, or, after ']', a partial ("<0>", '<' and '>' being ATOM-CHARs).
// Before, the head took only atoms, numbers, NIL, brackets and '+' there
// (and nothing but a space after a leading '*'): in "a]<0> OK done {5}"
// the head ended at the partial, the line was no status line to Next, and
// its "{5}" was read as a literal that swallowed the first 5 bytes of the
// next response and the rest of its line, while Tag reads "a]<0>" whole
// (the codec decodes a tagged OK whose text is "done {5}") and SkipLine
// (the codec's recovery, ForwardLine, RefuseLine) reads the line as text:
// the relay that tokenizes the line is out of step with the client that
// decodes it. For "a]*" and "a[*]" Tag stops at the '*' (the codec fails
// on the line and skips it with SkipLine: text), and "*]1" the codec
// skips the same way. The control "a]1" is text to all.
func TestStatusLineTagTokensAfterBracket(t *testing.T) {
	for _, tag := range []string{"a]1", "a]<0>", "]<0>", "a]<1.2>", "a]<0>x", "a]*", "a[*]", "]]*", "a]+", "a]+1", "*]1", "*[x", "*]<0>", "a[NIL"} {
		in := tag + " OK done {5}\r\nX 1 EXISTS\r\n* 2 EXISTS\r\n"
		// SkipLine from the line's start: the line is text, so the next
		// line begins with 'X' (a literal would take "X 1 E").
		sk := wire.NewTokenizer(strings.NewReader(in), nil)
		if err := sk.SkipLine(); err != nil {
			t.Fatalf("SkipLine over %q: %v", in, err)
		}
		if c, err := sk.Peek(); err != nil || c != 'X' {
			t.Fatalf("SkipLine over %q: next byte %q, %v; want 'X' (the control for Next)", in, c, err)
		}
		for name, r := range readers(in) {
			tk := wire.NewTokenizer(r, nil)
			var got []string
			for {
				tok, err := tk.Next()
				if err != nil {
					t.Errorf("%s: Next over %q: %v after %q", name, in, err, got)
					break
				}
				got = append(got, tok.Kind.String()+":"+tok.String())
				if tok.Kind == wire.KindLiteral {
					t.Errorf("%s: Next over %q reads a literal (%q); SkipLine and the codec read the line as text to its CRLF, and the next line as \"X 1 EXISTS\"", name, in, got)
					break
				}
				if tok.Kind == wire.KindCRLF {
					break
				}
			}
		}
		for name, r := range readers(in) {
			tk := wire.NewTokenizer(r, nil)
			toks, err := tk.AppendUntilLiteral(nil)
			if err != nil || len(toks) == 0 || toks[len(toks)-1].Kind != wire.KindCRLF {
				t.Errorf("%s: AppendUntilLiteral over %q ends with %v, %v; want the line's CRLF, no literal", name, in, toks[len(toks)-1].Kind, err)
			}
		}
	}
	// Tag reads "a]<0>" whole, as the codec does: a tagged status.
	tk := wire.NewTokenizer(strings.NewReader("a]<0> OK done {5}\r\n"), nil)
	if got, err := tk.Tag(); err != nil || string(got) != "a]<0>" {
		t.Errorf("Tag = %q, %v; want \"a]<0>\"", got, err)
	}
}

// TestDialogServerTagAfterBracket: Dialog.Server takes a completion's tag
// as Tag reads it (the codec's tag): through ']' and '[' and what follows
// them, a partial ("a]<0>") and a lone '+' ("a]+", as "a+" is one atom)
// included. A lone '*' ends a tag for both (Tag stops at it): no tag.
// Before, "a]+" had no tag to the Dialog while the codec read "a]+".
func TestDialogServerTagAfterBracket(t *testing.T) {
	for _, c := range []struct{ line, tag string }{
		{"a]1 OK done\r\n", "a]1"},
		{"a]<0> OK done\r\n", "a]<0>"},
		{"a]+ OK done\r\n", "a]+"},
		{"a]+1 OK done\r\n", "a]+1"},
		{"a[1] NO done\r\n", "a[1]"},
		{"a]* OK done\r\n", ""},
	} {
		line, err := wire.NewTokenizer(strings.NewReader(c.line), nil).AppendLine(nil)
		if err != nil {
			t.Fatal(err)
		}
		var d wire.Dialog
		if ev := d.Server(line); ev.Kind != wire.LineCompletion || ev.Tag != c.tag {
			t.Errorf("Server(%q) = %+v; want a LineCompletion with tag %q", c.line, ev, c.tag)
		}
		if c.tag == "" {
			continue
		}
		got, err := wire.NewTokenizer(strings.NewReader(c.line), nil).Tag()
		if err != nil || string(got) != c.tag {
			t.Errorf("Tag(%q) = %q, %v; want %q, as the Dialog reads it", c.line, got, err, c.tag)
		}
	}
}
