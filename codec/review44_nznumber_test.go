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

// TestReview44LNzNumberCodes: UIDVALIDITY, UIDNEXT and UNSEEN are
// nz-numbers of 32 bits in their response codes (RFC 3501, 9051). The
// codec kept [UIDVALIDITY 4294967296] (and UNSEEN's) as a code with a
// 64-bit Num, which commands.Select cut to 0, "unknown", with no word; and
// kept [UIDNEXT 0] and [UNSEEN 0]. Such codes are now what [UIDVALIDITY 0]
// became in 9a94638, like any code whose arguments do not parse: no code,
// the whole remainder the status's text, the stream in step. The largest
// 32-bit values are kept, and so is a UIDNEXT past 32 bits (a known
// server's quirk).
func TestReview44LNzNumberCodes(t *testing.T) {
	for _, c := range []struct {
		code string
		num  uint64 // 0: refused
	}{
		{"UIDVALIDITY 4294967295", 4294967295},
		{"UIDNEXT 4294967295", 4294967295},
		{"UNSEEN 4294967295", 4294967295},
		{"UIDVALIDITY 4294967296", 0},
		{"UIDVALIDITY 18446744073709551615", 0},
		// Kept: Zoho predicts a UIDNEXT past 32 bits (the quirk
		// table's "Zoho: UIDNEXT beyond 32 bits in a code"), which
		// commands takes for unknown.
		{"UIDNEXT 4294967296", 4294967296},
		{"UIDNEXT 1500000000004", 1500000000004},
		{"UNSEEN 4294967296", 0},
		{"UIDNEXT 0", 0},
		{"UNSEEN 0", 0},
		{"UIDVALIDITY 0", 0},
	} {
		for _, oneByte := range []bool{false, true} {
			line := "* OK [" + c.code + "] done\r\n"
			var r io.Reader = strings.NewReader(line + "* 7 EXISTS\r\n")
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
			resp, err := d.Next()
			st, ok := resp.(*codec.Status)
			if err != nil || !ok {
				t.Errorf("%q: %v %v; want the status decoded", line, resp, err)
				continue
			}
			if c.num != 0 {
				if st.Code == nil || st.Code.Num != c.num || string(st.Text) != "done" {
					t.Errorf("%q: code %v, text %q; want the code (%d) and \"done\"", line, st.Code, st.Text, c.num)
				}
			} else if st.Code != nil {
				t.Errorf("%q (one byte a read: %v): code %s, Num %d; want none, as for any code that does not parse", line, oneByte, st.Code.Kind, st.Code.Num)
			} else if want := "[" + c.code + "] done"; string(st.Text) != want {
				t.Errorf("%q: text %q; want %q", line, st.Text, want)
			}
			if next, err := d.Next(); err != nil {
				t.Errorf("%q: the next response: %v", line, err)
			} else if e, ok := next.(*codec.Exists); !ok || e.Count != 7 {
				t.Errorf("%q: the next response: %v; want * 7 EXISTS", line, next)
			}
		}
	}
}

// TestReview44LStatusNzNumbers: a STATUS answer's UIDNEXT and UIDVALIDITY
// are nz-numbers (RFC 3501, 9051), but servers send 0 (WinWebMail,
// SmarterMail, old Apache James a UIDVALIDITY). A 0 is taken as not sent:
// the answer decodes, the item's bit clear in Items, its value 0, the
// other items kept. Past 32 bits an item fails the response (a
// *DecodeError, the stream in step). Valid values at both ends, and
// MESSAGES, UNSEEN, RECENT and DELETED of 0, are read.
func TestReview44LStatusNzNumbers(t *testing.T) {
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
