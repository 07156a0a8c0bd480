package codec_test

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// dropOpts give a 64-byte line bound and a 16-byte buffer: SEARCH, SORT
// and THREAD answers past 32 bytes, and ESEARCH's ALL past 64, are read
// with Tokenizer.Drop, across many buffer refills.
var dropOpts = wire.TokenizerOptions{MaxLineLength: 64, BufferSize: 16}

// FuzzDropLines decodes a stream twice: with the default limits, whole,
// and with dropOpts in reads of 1 to 250 bytes, where the answers made of
// numbers are read without keeping their bytes. Until either fails, the two decoders
// must return the same responses: reading a line in pieces changes
// nothing of what it holds. Neither may panic or hang.
func FuzzDropLines(f *testing.F) {
	for _, s := range []string{
		"* SEARCH" + strings.Repeat(" 12345", 40) + "\r\n* 3 EXISTS\r\n",
		"* SORT" + strings.Repeat(" 7 123456789", 20) + " (MODSEQ 99)\r\n",
		"* SEARCH 1 2 3 \r\n* SEARCH" + strings.Repeat(" 4294967295", 12) + "\r\n",
		"* THREAD " + strings.Repeat("(1 (2)(3 4))", 12) + "\r\n",
		"* THREAD ((1)(2))" + strings.Repeat("(5 6 7)", 20) + "(8)\r\n",
		`* ESEARCH (TAG "A1") UID ALL ` + strings.Repeat("1:3,77,", 30) + "9 COUNT 4\r\n",
		"* ESEARCH ALL " + strings.Repeat("5,", 40) + "*:4 MIN 1\r\n",
		"* SEARCH" + strings.Repeat(" 1", 50) + " x\r\n* OK done\r\n",
		"* SEARCH" + strings.Repeat(" 123", 30) + " 0\r\n",
		// A line near the bound grows the buffer first.
		"* OK " + strings.Repeat("x", 55) + "\r\n* SEARCH" + strings.Repeat(" 12345", 40) + "\r\n",
		"* OK " + strings.Repeat("x", 55) + "\r\n* ESEARCH ALL 1" + strings.Repeat(",12345", 60) + "\r\n",
		"* VANISHED (EARLIER) 1" + strings.Repeat(",12:14", 30) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk := wire.NewTokenizer(strings.NewReader(string(data)), nil)
		whole := codec.NewDecoder(tk, nil)
		pieces := codec.NewDecoder(wire.NewTokenizer(&chunkReader{r: strings.NewReader(string(data))}, &dropOpts), nil)
		for i := 0; i < 1000; i++ {
			a, errA := whole.Next()
			if errA != nil {
				return
			}
			want := codec.CloneResponse(a)
			raw, _ := tk.RawLine()
			b, errB := pieces.Next()
			if errB != nil {
				// An answer of numbers in its plain form is read
				// whatever its length: only what is not numbers (a
				// run of spaces, a long atom) is bound by the line.
				if plainNumbers.Match(raw) {
					t.Fatalf("response %d, %q, failed read in pieces: %v", i, raw, errB)
				}
				return
			}
			if diff := cmp.Diff(want, b, cmp.AllowUnexported(codec.SeqSet{})); diff != "" {
				t.Fatalf("response %d differs read in pieces (-whole +pieces):\n%s", i, diff)
			}
		}
	})
}

// plainNumbers matches a SEARCH, SORT or THREAD line whose tokens
// (numbers of at most ten digits, and parentheses for THREAD) are apart by
// at most one space, and an ESEARCH ALL or a VANISHED with nothing but its
// set. ("* THREAD1 ..." is no THREAD: an unknown response, which keeps its
// line; the fuzzer found that an earlier pattern took it.)
var plainNumbers = regexp.MustCompile(`^\* (?:(?:SEARCH|SORT)(?: [1-9][0-9]{0,9})*|THREAD(?: (?:[()]|[1-9][0-9]{0,9})(?: ?(?:[()]|[1-9][0-9]{0,9}))*)?|(?:ESEARCH ALL|VANISHED(?: \(EARLIER\))?) ` + seqSetPattern + `)\r\n$`)

// seqSetPattern matches a sequence set of numbers of at most ten digits.
const seqSetPattern = `(?:[1-9][0-9]{0,9}|\*)(?::(?:[1-9][0-9]{0,9}|\*))?(?:,(?:[1-9][0-9]{0,9}|\*)(?::(?:[1-9][0-9]{0,9}|\*))?)*`

// chunkReader reads in chunks of 1, 100, 3, 250 and 17 bytes, in turn:
// tokens straddle reads, and a large read into a buffer that an earlier
// line grew leaves much of a line buffered unread.
type chunkReader struct {
	r io.Reader
	i int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	n := [...]int{1, 100, 3, 250, 17}[c.i%5]
	c.i++
	return c.r.Read(p[:min(len(p), n)])
}
