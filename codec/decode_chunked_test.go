package codec_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// chunkedReader hands out the input in pieces of the sizes the pattern gives
// (1 to 8 bytes), with a read deadline (os.ErrDeadlineExceeded) before
// every piece whose pattern bit says so.
type chunkedReader struct {
	b       []byte
	pattern []byte
	i       int
	timed   bool
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := byte(0x11)
	if len(r.pattern) > 0 {
		c = r.pattern[r.i%len(r.pattern)]
	}
	if c&0x80 != 0 && !r.timed {
		r.timed = true
		return 0, os.ErrDeadlineExceeded
	}
	r.timed = false
	r.i++
	n := min(int(c&7)+1, len(p), len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

// decodeAllChunked decodes every response of r and renders each as its
// canonical encoding, or its error's kind, retrying after a deadline.
func decodeAllChunked(r io.Reader, stream bool) []string {
	opts := wire.TokenizerOptions{MaxLineLength: 1 << 20, MaxStringLiteral: 16 << 10, MaxDepth: 32, MaxLiteral: 1 << 20, BufferSize: 64}
	var dopts *codec.DecoderOptions
	if stream {
		// A session's options: sections streamed, and METADATA values
		// over MaxStringLiteral read past (abandoned at a deadline too).
		dopts = &codec.DecoderOptions{SkipLargeMetadata: true, SectionHandler: func(f *codec.Fetch, s *codec.Section, r io.Reader) error {
			if s.Size < 8 {
				return codec.ErrKeepInline
			}
			var buf bytes.Buffer
			for {
				_, err := io.Copy(&buf, r)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					continue
				}
				if err != nil {
					return err
				}
				break
			}
			s.Data = buf.Bytes()
			return nil
		}}
	}
	d := codec.NewDecoder(wire.NewTokenizer(r, &opts), dopts)
	var out []string
	for range 64 {
		var resp codec.Response
		var err error
		for range 1 << 16 {
			resp, err = d.Next()
			var de *codec.DecodeError
			if !errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &de) {
				break
			}
		}
		if err == io.EOF {
			break
		}
		if de := (*codec.DecodeError)(nil); errors.As(err, &de) && errors.Is(err, io.ErrUnexpectedEOF) {
			if _, both := de.Err.(interface{ Unwrap() []error }); both {
				// A malformed response whose rest met the end of
				// the stream: in pieces, a deadline may come first
				// (the decode error), and the skip's next call
				// meets the end.
				out = append(out, "decode error", "truncated")
				break
			}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// The stream ended inside a response: whether the decoder
			// had begun to skip it (a DecodeError wrapping the EOF) or
			// not depends on how much was buffered. Either ends here.
			out = append(out, "truncated")
			break
		}
		if err != nil {
			var de *codec.DecodeError
			if !errors.As(err, &de) {
				out = append(out, fmt.Sprintf("fatal %v", err))
				break
			}
			if _, both := de.Err.(interface{ Unwrap() []error }); errors.Is(err, os.ErrDeadlineExceeded) && !both {
				// Documented: a response whose section was streamed is
				// abandoned at a deadline.
				out = append(out, "abandoned")
				continue
			}
			// A malformed response (read whole, the same), also one
			// whose rest met a deadline while it was skipped: the
			// error holds both, the decoder skips the rest next.
			out = append(out, "decode error")
			continue
		}
		out = append(out, string(codec.AppendResponse(nil, resp)))
	}
	return out
}

// FuzzDecodeChunked: the decoder gives the same responses (by their
// canonical encoding) and the same errors whether the server's bytes come
// whole or in pieces of 1 to 8 bytes with read deadlines in between (the
// package doc: "An error of the underlying reader (a deadline) is
// returned as is, and Next may be called again to resume"). Inputs stay
// under the 64 KiB past which SEARCH-like responses are not resumed.
func FuzzDecodeChunked(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1] hi\r\n* 7 FETCH (UID 9 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n* LIST () \"/\" INBOX\r\nA1 OK done\r\n",
		`* 1 FETCH (ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "He said "hi" there" NIL NIL NIL NIL NIL NIL NIL "<m@x>"))` + "\r\n",
		"* 2 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 3 1) \"alternative\") BODY[1]<0> {12}\r\nhello world!)\r\n",
		"* ESEARCH (TAG \"A1\") UID ALL 1:5,7 MIN 1 MAX 7 COUNT 6\r\n* SEARCH 1 2 3\r\n* 3 EXPUNGE\r\n* VANISHED (EARLIER) 1:3\r\n",
		"* STATUS \"a b\" (MESSAGES 3 UIDNEXT 4)\r\n* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n* QUOTA \"\" (STORAGE 1 2)\r\n",
		"* OK [ALERT] text {5}\r\n+ go\r\n* BYE [UNAVAILABLE] x\r\n",
		"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] \"Subject: a\\\"b\" INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44827)\r\n",
	} {
		f.Add([]byte(s), []byte{0x00}, false)
		f.Add([]byte(s), []byte{0x80, 0x03, 0x81}, true)
	}
	f.Fuzz(func(t *testing.T, data, pattern []byte, stream bool) {
		if len(data) > 16<<10 || len(pattern) > 64 {
			return
		}
		whole := decodeAllChunked(bytes.NewReader(data), stream)
		pieces := decodeAllChunked(&chunkedReader{b: data, pattern: pattern}, stream)
		if i := len(whole) - 1; stream && i >= 0 && len(pieces) == len(whole)+1 &&
			whole[i] == "truncated" && pieces[i] == "abandoned" && pieces[i+1] == "truncated" {
			// The input ended in the response whose streamed section
			// was abandoned at a deadline: skipping its rest meets the
			// end as well.
			pieces = append(pieces[:i], pieces[i+1:]...)
		}
		n := min(len(whole), len(pieces))
		for i := 0; i < n; i++ {
			if pieces[i] == "abandoned" && stream && (whole[i] == "decode error" || bytes.Contains([]byte(whole[i]), []byte(" FETCH "))) {
				continue
			}
			if whole[i] != pieces[i] {
				t.Fatalf("response %d of %q (pattern %x): whole %q, in pieces %q\nwhole  %q\npieces %q", i, data, pattern, whole[i], pieces[i], whole, pieces)
			}
		}
		if len(whole) != len(pieces) {
			t.Fatalf("%q (pattern %x): whole %d responses %q, in pieces %d %q", data, pattern, len(whole), whole, len(pieces), pieces)
		}
	})
}

// TestChunkedNamespaceDeadlineRepair: the same bytes decode differently
// depending on when a read deadline falls. "* NAMESPACE (...) NIL " with
// nothing after the last space is a *DecodeError when read whole; with a
// deadline right after that space, the SP of the third namespace fails
// with the deadline, namespaceResp (decode_data.go:596-600) ignores what
// the error was and asks AtEOL, whose read now succeeds: the response is
// taken for one that left the shared namespaces out, and decoded.
func TestChunkedNamespaceDeadlineRepair(t *testing.T) {
	in := "* NAMESPACE ((\"\" \"/\")) NIL \r\n"
	decode := func(r io.Reader) string {
		d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
		for {
			resp, err := d.Next()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if err != nil {
				return "error: " + err.Error()
			}
			return string(codec.AppendResponse(nil, resp))
		}
	}
	whole := decode(bytes.NewReader([]byte(in)))
	cut := decode(&cutReader{s: in, cut: len(in) - 2})
	if whole != cut {
		t.Fatalf("read whole: %q\nwith a deadline before the CRLF: %q", whole, cut)
	}
}

// decodeCut decodes in with a read deadline after cut bytes, calling
// Next again after a plain deadline (the package doc), and renders what
// it gets.
func decodeCut(in string, cut int) []string {
	var r io.Reader = bytes.NewReader([]byte(in))
	if cut > 0 {
		r = &cutReader{s: in, cut: cut}
	}
	d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
	var out []string
	for range 10 {
		resp, err := d.Next()
		var de *codec.DecodeError
		switch {
		case errors.As(err, &de):
			out = append(out, "decode error")
		case errors.Is(err, os.ErrDeadlineExceeded):
		case err != nil:
			return append(out, err.Error())
		default:
			out = append(out, string(codec.AppendResponse(nil, resp)))
		}
	}
	return out
}

// TestSkipResumeLiteral: a malformed continuation request "+{12}" (no
// space after '+') is skipped as a text line when read whole: its "{12}"
// is no literal header (a "+" line is text), and the next line, here the
// command's completion, is decoded. When a read deadline falls while the
// decoder skips that line (before its LF has been read), the next Next
// resumes the skip (Tokenizer.skipLine) having lost what told it the line
// is text: wire/tokenizer.go:1524-1529 classifies the line from its head
// (statusPrefix of buf[lineStart:]), but the first, interrupted call
// dropped the consumed head (dropTo(t.r), line 1537) and the line is not
// remembered as text (t.lineText). The resumed skip reads "{12}" as a
// literal and swallows "A1 OK done\r\n": the completion is lost, and the
// command waits for it. The session interrupts reads this way when a
// pulled command's context ends (session/guard.go interrupt).
func TestSkipResumeLiteral(t *testing.T) {
	in := "+{12}\r\nA1 OK done\r\n* 1 EXISTS\r\n"
	whole := decodeCut(in, 0)
	for cut := 1; cut < 6; cut++ {
		if got := decodeCut(in, cut); !slices.Equal(got, whole) {
			t.Errorf("deadline after %d bytes: %q\nread whole: %q", cut, got, whole)
		}
	}
}

// TestSkipSplitStatusHead: a status line that does not decode (a
// tag with a "%") is skipped; "{5}" at the end of its text is no literal.
// The skip decided
// that from the line's head only when the head (tag and status word) had
// come in the same read: read a byte at a time, it took "{5}" for a
// literal and swallowed the next command's completion (FuzzDecodeChunked
// found it with "% OK {5}").
func TestSkipSplitStatusHead(t *testing.T) {
	in := []byte("A%1 OK over quota {5}\r\nA2 OK done\r\n* 1 EXISTS\r\n")
	whole := decodeAllChunked(bytes.NewReader(in), false)
	if len(whole) != 3 || whole[0] != "decode error" {
		t.Fatalf("read whole: %q", whole)
	}
	for _, pattern := range [][]byte{{0x00}, {0x01}, {0x80, 0x00}, {0x02, 0x81}} {
		if got := decodeAllChunked(&chunkedReader{b: in, pattern: pattern}, false); !slices.Equal(got, whole) {
			t.Errorf("reads of pattern %x: %q\nread whole: %q", pattern, got, whole)
		}
	}
}

// splitReader gives its bytes in two reads: the first cut bytes, then the
// rest.
type splitReader struct {
	b   []byte
	cut int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := len(r.b)
	if r.cut > 0 {
		n, r.cut = r.cut, 0
	}
	n = copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func decodeAllSplit(r io.Reader) []string {
	d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
	var out []string
	for range 10 {
		resp, err := d.Next()
		var de *codec.DecodeError
		switch {
		case errors.As(err, &de):
			out = append(out, "decode error")
		case err != nil:
			return out
		default:
			out = append(out, string(codec.AppendResponse(nil, resp)))
		}
	}
	return out
}

// TestSkipLongHeadChunked: skipLine decides whether a line is a status
// line from its head, "whatever the reads' sizes" (0b60ec4), but gives up
// deciding once more than maxStatusHead (1 KiB) of the line is buffered
// without a decision, taking the line for one that is not text. A status
// line with a tag over 1 KiB that does not decode is then skipped as text
// when read whole ("{5}" at its end is text) and as a line with a literal
// when its first read ends inside the tag: the literal swallows the next
// line (here the completion of a command). The same bytes decode
// differently depending on the reads' sizes.
func TestSkipLongHeadChunked(t *testing.T) {
	in := []byte("A%" + strings.Repeat("x", 1100) + " OK over quota {5}\r\nA2 OK done\r\n* 1 EXISTS\r\n")
	whole := decodeAllSplit(bytes.NewReader(in))
	split := decodeAllSplit(&splitReader{b: in, cut: 1030})
	if !slices.Equal(whole, split) {
		t.Fatalf("read whole: %q\nfirst read of 1030 bytes: %q", whole, split)
	}
}
