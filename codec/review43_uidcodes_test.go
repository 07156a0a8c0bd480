package codec_test

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview43LUIDCodesRefused: RFC 4315 forbids "*" in the uid-sets of
// COPYUID and APPENDUID, and RFC 3501, 4315 and 9051 make every
// UIDVALIDITY an nz-number. Such a code was decoded as valid: a COPYUID
// whose sets said "*" (the mailbox's last UID, which the server did not
// name), an APPENDUID of UID "*", a UIDVALIDITY of 0 (the "unknown" of
// commands.MailboxState and CopyResult). They are now what any other code
// the decoder cannot parse is (respText's tolerance): no code, the whole
// remainder the status's text, the response itself decoded and the
// stream in step. Well-formed codes next to them are unchanged.
func TestReview43LUIDCodesRefused(t *testing.T) {
	for _, c := range []struct {
		code string
		ok   bool
	}{
		{"COPYUID 7 1:2 10:11", true},
		{"COPYUID 7 1:* 10:11", false},
		{"COPYUID 7 1:2 10:*", false},
		{"COPYUID 7 * 10", false},
		{"COPYUID 7 3,1:* 10:12", false},
		{"COPYUID 0 1:2 10:11", false},
		{"APPENDUID 7 12", true},
		{"APPENDUID 7 12:14", true},
		{"APPENDUID 7 *", false},
		{"APPENDUID 7 12:*", false},
		{"APPENDUID 0 12", false},
		{"UIDVALIDITY 7", true},
		{"UIDVALIDITY 0", false},
		{"UIDVALIDITY 00", false},
	} {
		for _, tagged := range []string{"*", "A1"} {
			line := tagged + " OK [" + c.code + "] done\r\n"
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(line + "* 7 EXISTS\r\n")
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil)
				resp, err := d.Next()
				if err != nil {
					t.Errorf("%q: %v; want the status decoded", line, err)
					continue
				}
				st, isStatus := resp.(*codec.Status)
				if !isStatus || st.Kind != codec.StatusOK {
					t.Errorf("%q: %T %v; want an OK", line, resp, resp)
					continue
				}
				if c.ok {
					if st.Code == nil || string(st.Text) != "done" {
						t.Errorf("%q: code %v, text %q; want the code and \"done\"", line, st.Code, st.Text)
					}
				} else if st.Code != nil {
					t.Errorf("%q (one byte a read: %v): code %s (UIDValidity %d, Num %d, Src %v, Dst %v); want none, as for any code that does not parse", line, oneByte, st.Code.Kind, st.Code.UIDValidity, st.Code.Num, st.Code.Src, st.Code.Dst)
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
}
