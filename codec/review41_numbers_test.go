package codec_test

// Review round 41 (numbers at their limits): a message number 0, or a "*"
// where a server answer names messages, is a typed decode error.

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// r41Refused checks that each of lines is a *codec.DecodeError and that
// the response after it decodes (the stream stays in step), read whole
// and a byte at a time (the slow paths of numbers and sets).
func r41Refused(t *testing.T, lines []string) {
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

// TestReview41ANumberZero: SEARCH and SORT hold nz-numbers, as do the
// message numbers of FETCH and EXPUNGE; a 0 was taken, and in a SeqSet 0
// is "*". EXISTS, RECENT and an empty SEARCH stay valid.
func TestReview41ANumberZero(t *testing.T) {
	r41Refused(t, []string{
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

// TestReview41CESearchMinZero: ESEARCH's MIN and MAX are nz-numbers (RFC
// 4731); COUNT is a number and may be 0.
func TestReview41CESearchMinZero(t *testing.T) {
	r41Refused(t, []string{
		"* ESEARCH (TAG \"A1\") UID MIN 0\r\n",
		"* ESEARCH (TAG \"A1\") UID MIN 2 MAX 0\r\n",
		"* ESEARCH MAX 0 COUNT 3\r\n",
	})
	r := decodeOne(t, "* ESEARCH (TAG \"A1\") UID MIN 2 MAX 9 COUNT 0\r\n").(*codec.ESearch)
	if r.Min != 2 || r.Max != 9 || r.Count != 0 || r.Has&codec.ESearchCount == 0 {
		t.Errorf("MIN 2 MAX 9 COUNT 0 decoded as %+v", r)
	}
}

// TestReview41BESearchAllStar: an ESEARCH ALL set holding "*" is refused,
// short or read in pieces past the line bound (its slow path); sets
// without it are kept.
func TestReview41BESearchAllStar(t *testing.T) {
	long := strings.Repeat("1,", 600000) // 1.2 MB: past the 1 MiB line bound
	r41Refused(t, []string{
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

// TestReview41DVanishedStar: VANISHED's known-uids exclude "*" (RFC 7162
// section 7), short or read in pieces; so does MODIFIED, the messages
// that failed UNCHANGEDSINCE (a tagged OK with one is refused whole).
func TestReview41DVanishedStar(t *testing.T) {
	long := strings.Repeat("1,", 600000) // past the 1 MiB line bound
	r41Refused(t, []string{
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
