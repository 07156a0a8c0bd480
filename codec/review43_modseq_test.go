package codec_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview43LModSeqPast63Bits: RFC 7162 makes every mod-sequence a
// positive 63-bit number (mod-sequence-value, at most 2^63-1). A FETCH's
// MODSEQ past it was a *DecodeError, but HIGHESTMODSEQ (the code and the
// STATUS item) and the MODSEQ of SEARCH, SORT and ESEARCH took any 64-bit
// value: commands.Client then kept it (MailboxState.HighestModSeq,
// Session.HighestModSeq, StatusResult) and sent it back in SELECT
// (QRESYNC ...), FETCH (CHANGEDSINCE ...) or SEARCH MODSEQ, a command
// line the RFC's grammar has no room for. Every place now decodes a
// mod-sequence alike: 2^63-1 is read, 2^63 and 2^64-1 are a
// *DecodeError (the stream in step), and a [HIGHESTMODSEQ] code past it
// is text, as any code that does not parse.
func TestReview43LModSeqPast63Bits(t *testing.T) {
	const maxOK = "9223372036854775807"
	for _, v := range []string{maxOK, "9223372036854775808", "18446744073709551615"} {
		ok := v == maxOK
		for _, line := range []string{
			"* 1 FETCH (UID 4 MODSEQ (" + v + "))",
			"* STATUS INBOX (MESSAGES 2 HIGHESTMODSEQ " + v + ")",
			"* SEARCH 1 2 (MODSEQ " + v + ")",
			"* SORT 2 1 (MODSEQ " + v + ")",
			"* ESEARCH (TAG \"A1\") UID MIN 1 MODSEQ " + v,
		} {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(line + "\r\n* 7 EXISTS\r\n")
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
				resp, err := d.Next()
				var de *codec.DecodeError
				switch {
				case ok && err != nil:
					t.Errorf("%q: %v; want it decoded", line, err)
				case !ok && !errors.As(err, &de):
					t.Errorf("%q (one byte a read: %v): %v, %v; want a *codec.DecodeError (a mod-sequence past 2^63-1)", line, oneByte, resp, err)
				}
				if next, err := d.Next(); err != nil {
					t.Errorf("%q: the next response: %v", line, err)
				} else if e, isExists := next.(*codec.Exists); !isExists || e.Count != 7 {
					t.Errorf("%q: the next response: %v; want * 7 EXISTS", line, next)
				}
			}
		}
		for _, tag := range []string{"*", "A1"} {
			line := tag + " OK [HIGHESTMODSEQ " + v + "] done"
			d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(line+"\r\n"), nil), nil)
			resp, err := d.Next()
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			st := resp.(*codec.Status)
			switch {
			case ok && (st.Code == nil || st.Code.Num != 1<<63-1):
				t.Errorf("%q: code %v; want HIGHESTMODSEQ 2^63-1", line, st.Code)
			case !ok && st.Code != nil:
				t.Errorf("%q: code %s %d; want none (text), as any code that does not parse", line, st.Code.Kind, st.Code.Num)
			}
		}
	}
}
