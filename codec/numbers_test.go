package codec_test

// Numbers at their limits: a message number 0, or a "*" where a server
// answer names messages, is a typed decode error.

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// numbersRefused checks that each of lines is a *codec.DecodeError and that
// the response after it decodes (the stream stays in step), read whole
// and a byte at a time (the slow paths of numbers and sets).
func numbersRefused(t *testing.T, lines []string) {
	t.Helper()
	for _, line := range lines {
		name := line
		if len(name) > 80 {
			name = name[:40] + "..." + name[len(name)-20:]
		}
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(line + "* 7 EXISTS\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
			resp, err := d.Next()
			var de *codec.DecodeError
			if !errors.As(err, &de) {
				t.Errorf("%q (one byte at a time %v): %T %v; want a *codec.DecodeError", name, oneByte, resp, err)
				continue
			}
			if next, err := d.Next(); err != nil {
				t.Errorf("%q: the next response: %v", name, err)
			} else if e, ok := next.(*codec.Exists); !ok || e.Count != 7 {
				t.Errorf("%q: the next response is %#v; want EXISTS 7", name, next)
			}
		}
	}
}

// TestNumberZeroRefused: SEARCH and SORT hold nz-numbers, as do the
// message numbers of FETCH and EXPUNGE; a 0 was taken, and in a SeqSet 0
// is "*". EXISTS, RECENT and an empty SEARCH stay valid.
func TestNumberZeroRefused(t *testing.T) {
	numbersRefused(t, []string{
		"* SEARCH 2 0\r\n",
		"* SEARCH 0\r\n",
		"* SEARCH 2 0 (MODSEQ 5)\r\n",
		"* SORT 0 2\r\n",
		"* 0 EXPUNGE\r\n",
		"* 0 FETCH (FLAGS ())\r\n",
		"* 0 fetch (UID 4)\r\n",
	})
	for _, line := range []string{"* 0 EXISTS\r\n", "* 0 RECENT\r\n", "* SEARCH\r\n", "* SEARCH 2 10\r\n", "* SORT 3 1 (MODSEQ 9)\r\n"} {
		decodeOne(t, line)
	}
}

// TestESearchMinZeroRefused: ESEARCH's MIN and MAX are nz-numbers (RFC
// 4731); COUNT is a number and may be 0.
func TestESearchMinZeroRefused(t *testing.T) {
	numbersRefused(t, []string{
		"* ESEARCH (TAG \"A1\") UID MIN 0\r\n",
		"* ESEARCH (TAG \"A1\") UID MIN 2 MAX 0\r\n",
		"* ESEARCH MAX 0 COUNT 3\r\n",
	})
	r := decodeOne(t, "* ESEARCH (TAG \"A1\") UID MIN 2 MAX 9 COUNT 0\r\n").(*codec.ESearch)
	if r.Min != 2 || r.Max != 9 || r.Count != 0 || r.Has&codec.ESearchCount == 0 {
		t.Errorf("MIN 2 MAX 9 COUNT 0 decoded as %+v", r)
	}
}

// TestESearchAllStarRefused: an ESEARCH ALL set holding "*" is refused,
// short or read in pieces past the line bound (its slow path); sets
// without it are kept.
func TestESearchAllStarRefused(t *testing.T) {
	long := strings.Repeat("1,", 600000) // 1.2 MB: past the 1 MiB line bound
	numbersRefused(t, []string{
		"* ESEARCH (TAG \"A1\") UID ALL 2:*\r\n",
		"* ESEARCH ALL *\r\n",
		"* ESEARCH UID ALL 1,3,*:9 COUNT 3\r\n",
		"* ESEARCH UID ALL " + long + "*\r\n",
	})
	r := decodeOne(t, "* ESEARCH (TAG \"A1\") UID ALL 2:4,9 COUNT 4\r\n").(*codec.ESearch)
	if r.All.String() != "2:4,9" || r.Count != 4 {
		t.Errorf("ALL 2:4,9 COUNT 4 decoded as %+v", r)
	}
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader("* ESEARCH UID ALL "+long+"2\r\n"), nil), nil)
	if resp, err := d.Next(); err != nil {
		t.Errorf("a long ALL without \"*\": %v", err)
	} else if n, ok := resp.(*codec.ESearch).All.Len(); !ok || n != 2 {
		t.Errorf("a long ALL without \"*\": Len %d, %v; want 2", n, ok)
	}
}

// TestVanishedStarRefused: VANISHED's known-uids exclude "*" (RFC 7162
// section 7), short or read in pieces; so does MODIFIED, the messages
// that failed UNCHANGEDSINCE (a tagged OK with one is refused whole).
func TestVanishedStarRefused(t *testing.T) {
	long := strings.Repeat("1,", 600000) // past the 1 MiB line bound
	numbersRefused(t, []string{
		"* VANISHED (EARLIER) 3:*\r\n",
		"* VANISHED *\r\n",
		"* VANISHED 1," + long + "*:4\r\n",
		"A1 OK [MODIFIED 2:*] some were modified\r\n",
		"* OK [MODIFIED *] x\r\n",
	})
	if v := decodeOne(t, "* VANISHED (EARLIER) 3:5,9\r\n").(*codec.Vanished); !v.Earlier || v.UIDs.String() != "3:5,9" {
		t.Errorf("VANISHED (EARLIER) 3:5,9 decoded as %+v", v)
	}
	if st := decodeOne(t, "A1 OK [MODIFIED 2,7:8] x\r\n").(*codec.Status); st.Code == nil || st.Code.Set.String() != "2,7:8" {
		t.Errorf("MODIFIED 2,7:8 decoded as %+v", st)
	}
}

// TestModSeqPast63Bits: RFC 7162 makes every mod-sequence a
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
func TestModSeqPast63Bits(t *testing.T) {
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

// TestStatusNzNumbers: a STATUS answer's UIDNEXT and UIDVALIDITY
// are nz-numbers (RFC 3501, 9051), but servers send 0 (WinWebMail,
// SmarterMail, old Apache James a UIDVALIDITY). A 0 is taken as not sent:
// the answer decodes, the item's bit clear in Items, its value 0, the
// other items kept. Past 32 bits an item fails the response (a
// *DecodeError, the stream in step). Valid values at both ends, and
// MESSAGES, UNSEEN, RECENT and DELETED of 0, are read.
func TestStatusNzNumbers(t *testing.T) {
	const nzItems = codec.StatusUIDNext | codec.StatusUIDValidity
	for _, c := range []struct {
		items string
		ok    bool
		want  codec.StatusItem // the items among nzItems and MESSAGES kept
	}{
		{"MESSAGES 0 RECENT 0 UNSEEN 0 DELETED 0 UIDNEXT 1 UIDVALIDITY 1", true, codec.StatusMessages | nzItems},
		{"UIDNEXT 4294967295 UIDVALIDITY 4294967295", true, nzItems},
		{"UIDVALIDITY 0", true, 0},
		{"MESSAGES 3 UIDNEXT 0", true, codec.StatusMessages},
		{"UIDNEXT 00 MESSAGES 3 UIDVALIDITY 7", true, codec.StatusMessages | codec.StatusUIDValidity},
		{"UIDVALIDITY 4294967296", false, 0},
		{"UIDNEXT 4294967296", false, 0},
		{"MESSAGES 4294967296", false, 0},
	} {
		for _, oneByte := range []bool{false, true} {
			line := "* STATUS INBOX (" + c.items + ")\r\n"
			var r io.Reader = strings.NewReader(line + "* 7 EXISTS\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
			resp, err := d.Next()
			if c.ok {
				st, ok := resp.(*codec.MailboxStatus)
				if err != nil || !ok {
					t.Errorf("%q: %v %v; want it decoded", line, resp, err)
				} else if got := st.Items & (nzItems | codec.StatusMessages); got != c.want {
					t.Errorf("%q: Items %#x; want %#x", line, got, c.want)
				} else if !st.Has(codec.StatusUIDNext) && st.UIDNext != 0 || !st.Has(codec.StatusUIDValidity) && st.UIDValidity != 0 {
					t.Errorf("%q: %+v; want an item not kept 0", line, st)
				}
			} else if _, isDecode := errors.AsType[*codec.DecodeError](err); !isDecode || errors.Is(err, wire.ErrOutOfStep) {
				st, _ := resp.(*codec.MailboxStatus)
				t.Errorf("%q (one byte a read: %v): %v, %+v; want a *codec.DecodeError, the stream in step", line, oneByte, err, st)
			}
			if next, err := d.Next(); err != nil {
				t.Errorf("%q: the next response: %v", line, err)
			} else if e, ok := next.(*codec.Exists); !ok || e.Count != 7 {
				t.Errorf("%q: the next response: %v; want * 7 EXISTS", line, next)
			}
		}
	}
}
