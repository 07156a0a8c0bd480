package codec_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestDecodeCutResponseIsNotSyntax: every response the end of the stream
// cuts, wherever, fails with io.ErrUnexpectedEOF and no syntax error: a
// cut connection is not the server's malformed response. Before, a NIL the
// end cut ("N" or "NI") was one: LIST's delimiter, NAMESPACE's NIL and a
// METADATA value failed "expected nstring, got NI" (wire.Tokenizer's
// NString and AcceptNIL), a *codec.DecodeError to a direct caller of the
// decoder (imapkit decode; a session ends with the connection's failure
// whatever the decoder made of the cut, since b211f4e). So was Exchange's
// "-1" size in a BODYSTRUCTURE cut after its "-" ("expected number, got
// -"), and (found by review) a word or a set the codec checks itself, cut
// short: VANISHED's "(EARLIE", SEARCH's and SORT's "(MODSE", a sequence
// set "1:" or "1:3," (ESEARCH's ALL, VANISHED, MODIFIED), each a
// *codec.DecodeError holding the codec's own syntax error, which
// wire.ErrSyntax does not match.
func TestDecodeCutResponseIsNotSyntax(t *testing.T) {
	for _, line := range []string{
		"* 1 FETCH (UID 7 FLAGS (\\Seen) ENVELOPE (\"Mon, 1 Jan 2024 00:00:00 +0000\" NIL ((\"A\" NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL NIL \"<id>\") BODY[]<0> {3}\r\nabc RFC822.SIZE 12 BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL))\r\n",
		"A1 OK [COPYUID 1 1:2 3:4] done\r\n",
		"* OK [UIDNEXT 5] ready\r\n",
		"+ go on\r\n",
		"* 3 EXISTS\r\n",
		"* SEARCH 1 2 3\r\n",
		"* LIST (\\HasNoChildren) NIL nil\r\n",
		"* LIST (\\HasNoChildren) \"/\" INBOX\r\n",
		"* STATUS INBOX (MESSAGES 3 UIDNEXT 4)\r\n",
		"* ESEARCH (TAG \"A1\") UID ALL 1:3\r\n",
		"* ID (\"name\" \"x\" \"version\" NIL)\r\n",
		"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
		"* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" -1 -1 NIL NIL NIL NIL))\r\n",
		"* QUOTA \"\" (STORAGE 10 100)\r\n",
		"* METADATA INBOX (/private/comment NIL)\r\n",
		// Where the codec checks a word or a set itself (found by
		// review): "(EARLIE", "(MODSE", "1:" and "1:3," then the end.
		"* VANISHED (EARLIER) 1:3,5\r\n",
		"* SEARCH 1 2 (MODSEQ 5)\r\n",
		"* SORT 1 2 (MODSEQ 5)\r\n",
		"* OK [MODIFIED 1:3,5] x\r\n",
	} {
		for i := 1; i < len(line); i++ {
			d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(line[:i]), nil), nil)
			_, err := d.Next()
			if err == nil {
				// A cut the decoder did not need to see (the CRLF's
				// LF): the next response meets it.
				_, err = d.Next()
			}
			// A *codec.DecodeError only for the cut itself (a
			// response that cannot be rewound, its literal read): one
			// that holds a syntax error, the codec's own (which
			// wire.ErrSyntax does not match) or the tokenizer's,
			// wraps io.ErrUnexpectedEOF too, that of the skip after it.
			var de *codec.DecodeError
			if errors.Is(err, wire.ErrSyntax) || !errors.Is(err, io.ErrUnexpectedEOF) ||
				errors.As(err, &de) && de.Err != io.ErrUnexpectedEOF {
				t.Errorf("%q, then the end: %v; want io.ErrUnexpectedEOF, no syntax error", line[:i], err)
			}
		}
	}
}

// TestDecodeBodySizeQuotedDashIsSyntax: a quoted "-" where a BODYSTRUCTURE
// has its size (body-fld-octets) is a whole, malformed token whatever
// follows, the end of the stream too: a syntax error. Only an atom "-" can
// be Exchange's -1 that the end cut (TestDecodeCutResponseIsNotSyntax).
// Before (found by review), msgNumber's check of a lone "-" ran for the
// quoted form too, and with the end right after it the size was
// io.ErrUnexpectedEOF.
func TestDecodeBodySizeQuotedDashIsSyntax(t *testing.T) {
	const in = "* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" \"-\""
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
	if _, err := d.Next(); !errors.Is(err, wire.ErrSyntax) {
		t.Errorf("%q, then the end: %v; want a syntax error (\"-\" quoted is no number)", in, err)
	}
	// The same with bytes after it is one (the control).
	d = codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in+" 1 NIL NIL NIL NIL))\r\n"), nil), nil)
	if _, err := d.Next(); !errors.Is(err, wire.ErrSyntax) {
		t.Errorf("control: %v; want a syntax error", err)
	}
}

// TestDecodeQuotedBareCRThenEndIsSyntax: a quoted string that holds a CR
// is malformed whatever follows, so a response cut by the end of the
// stream after that CR is a syntax error, as the same response with its
// line's end is, not io.ErrUnexpectedEOF (wire.Tokenizer's quoted string
// checked only for an LF until its closing quote came). Where the text of
// a status response may hold a quote ("* OK \"a" and then the CR), the cut
// is still the cut: the text is read to its line's end, and the code that
// failed to parse (BADCHARSET's "(\"a") is read as text.
func TestDecodeQuotedBareCRThenEndIsSyntax(t *testing.T) {
	for _, in := range []string{
		"* LIST () \"/\" \"a\rb",
		"* LIST () \"/\" \"a\r",
		"* STATUS \"INBOX\r",
		"* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024\r",
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
		if _, err := d.Next(); !errors.Is(err, wire.ErrSyntax) {
			t.Errorf("%q, then the end: %v; want a syntax error", in, err)
		}
	}
	for _, in := range []string{"* OK \"a\r", "A1 NO \"quoted\" text\r", "* OK [BADCHARSET (\"a\r"} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
		if _, err := d.Next(); errors.Is(err, wire.ErrSyntax) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q, then the end: %v; want io.ErrUnexpectedEOF, no syntax error", in, err)
		}
	}
}
