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
// NString and AcceptNIL), and the session blamed a command for an
// undecodable response. So was Exchange's "-1" size in a BODYSTRUCTURE
// cut after its "-" ("expected number, got -").
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
	} {
		for i := 1; i < len(line); i++ {
			d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(line[:i]), nil), nil)
			_, err := d.Next()
			if err == nil {
				// A cut the decoder did not need to see (the CRLF's
				// LF): the next response meets it.
				_, err = d.Next()
			}
			if errors.Is(err, wire.ErrSyntax) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%q, then the end: %v; want io.ErrUnexpectedEOF, no syntax error", line[:i], err)
			}
		}
	}
}
