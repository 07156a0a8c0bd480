package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// Valid pairs: the UTF-8 name and its modified UTF-7 form.
var utf7Pairs = []struct{ utf8, utf7 string }{
	{"", ""},
	{"INBOX", "INBOX"},
	{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"}, // RFC 3501 section 5.1.3
	{"&", "&-"},
	{"Tom & Jerry", "Tom &- Jerry"},
	{"&&", "&-&-"},
	{"Entwürfe", "Entw&APw-rfe"},
	{"Éléments envoyés", "&AMk-l&AOk-ments envoy&AOk-s"},
	{"é&", "&AOk-&-"},
	{"&é", "&-&AOk-"},
	{"Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},
	{"😀", "&2D3eAA-"},              // surrogate pair
	{"a😀b🎉", "a&2D3eAA-b&2DzfiQ-"}, // two runs
	{"😀🎉", "&2D3eANg834k-"},        // one run, two pairs
	{"\t", "&AAk-"},                // control characters are encoded
	{"\x7f", "&AH8-"},              // DEL too
	{"\x00", "&AAA-"},              // and NUL
	{"ÿ", "&AP8-"},                 // 16 bits + 2 padding bits
	{"ÿÿ", "&AP8A,w-"},             // 32 bits + 4 padding bits
	{"ÿÿÿ", "&AP8A,wD,-"},          // 48 bits, no padding
	{"\uffff", "&,,8-"},            // highest BMP character
	{"\U0010FFFF", "&2,,f,w-"},     // highest code point
	{"[Gmail]/Entwürfe", "[Gmail]/Entw&APw-rfe"},
	{"x\u00e9-y", "x&AOk--y"}, // a '-' after a run
}

func TestEncodeMailbox(t *testing.T) {
	for _, tt := range utf7Pairs {
		if got := codec.EncodeMailbox(tt.utf8); got != tt.utf7 {
			t.Errorf("EncodeMailbox(%q) = %q; want %q", tt.utf8, got, tt.utf7)
		}
		if got := string(codec.AppendEncodeMailbox([]byte("p/"), tt.utf8)); got != "p/"+tt.utf7 {
			t.Errorf("AppendEncodeMailbox(\"p/\", %q) = %q; want %q", tt.utf8, got, "p/"+tt.utf7)
		}
	}
}

func TestDecodeMailbox(t *testing.T) {
	for _, tt := range utf7Pairs {
		got, err := codec.DecodeMailbox([]byte(tt.utf7))
		if err != nil || got != tt.utf8 {
			t.Errorf("DecodeMailbox(%q) = %q, %v; want %q, nil", tt.utf7, got, err, tt.utf8)
		}
		if got := codec.DecodeMailboxLenient([]byte(tt.utf7)); got != tt.utf8 {
			t.Errorf("DecodeMailboxLenient(%q) = %q; want %q", tt.utf7, got, tt.utf8)
		}
	}
}

func TestEncodeMailboxInvalidUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\xffb", "a&,,0-b"},
		{"\xc3", "&,,0-"},
		{"\xed\xa0\x80", "&,,3,,f,9-"}, // an encoded surrogate is three invalid bytes
	}
	for _, tt := range tests {
		if got := codec.EncodeMailbox(tt.in); got != tt.want {
			t.Errorf("EncodeMailbox(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if got, err := codec.DecodeMailbox([]byte(tt.want)); err != nil || !strings.Contains(got, "\ufffd") {
			t.Errorf("DecodeMailbox(%q) = %q, %v; want U+FFFD", tt.want, got, err)
		}
	}
}

func TestDecodeMailboxErrors(t *testing.T) {
	tests := []struct {
		in      string
		offset  int
		lenient string // what DecodeMailboxLenient gives
	}{
		{"&Jjo", 0, "&Jjo"},               // unterminated
		{"&Jjo!", 4, "&Jjo!"},             // not terminated by '-'
		{"&AGE-", 3, "a"},                 // encoded printable US-ASCII
		{"&ACY-", 3, "&"},                 // "&" encoded instead of "&-"
		{"&AOk-&AOk-", 5, "éé"},           // adjacent runs
		{"&AOl-", 3, "é"},                 // non-zero padding bits
		{"&AOkA-", 4, "&AOkA-"},           // partial character
		{"&A-", 1, "&A-"},                 // too short
		{"&2D0-", 3, "&2D0-"},             // lone high surrogate (truncated)
		{"&2D0AYQ-", 3, "&2D0AYQ-"},       // high surrogate + 'a'
		{"&3gA-", 3, "&3gA-"},             // lone low surrogate
		{"Entwürfe", 4, "Entwürfe"},       // raw UTF-8 (no UTF8=ACCEPT)
		{"a\tb", 1, "a\tb"},               // control character
		{"&AOk", 0, "&AOk"},               // end of input in a run
		{"&=AOk-", 1, "&=AOk-"},           // '=' is not modified BASE64
		{"&AO/-", 3, "&AO/-"},             // '/' is not modified BASE64 (',' is)
		{"Tom & Jerry", 5, "Tom & Jerry"}, // bare '&'
		{"&", 0, "&"},                     // bare '&' at the end
		{"a\xffb", 1, "a\xffb"},           // invalid UTF-8 is passed through
		{"&AOk-&Jjo", 5, "é&Jjo"},         // good run then a broken one
		{"x&2D3eAA-&2DzfiQ-", 9, "x😀🎉"},   // adjacent runs of pairs
		{"&Jjo-&-&Jjo", 7, "\u263a&&Jjo"}, // '&-' after a run is fine, then an error
		{"&&AOk-", 1, "&é"},               // "&&" : first '&' is bare
		{"&-&AOk-&AOk-", 7, "&éé"},        // adjacency after "&-" counts too
		{"&AGEAYQ-", 3, "aa"},             // several encoded ASCII characters
		{"&AGE-&-", 3, "a&"},              // encoded ASCII then "&-"
		{"&ZeVnLIqe", 0, "&ZeVnLIqe"},     // RFC example without the '-'
		{"~peter/&U,BTFw", 7, "~peter/&U,BTFw"},
	}
	for _, tt := range tests {
		got, err := codec.DecodeMailbox([]byte(tt.in))
		var ue *codec.UTF7Error
		if !errors.As(err, &ue) {
			t.Errorf("DecodeMailbox(%q) = %q, %v; want *UTF7Error", tt.in, got, err)
		} else {
			if ue.Offset != tt.offset {
				t.Errorf("DecodeMailbox(%q) error offset = %d; want %d (%v)", tt.in, ue.Offset, tt.offset, err)
			}
			if !strings.HasPrefix(err.Error(), "codec: ") {
				t.Errorf("DecodeMailbox(%q) error = %q; want prefix \"codec: \"", tt.in, err)
			}
		}
		if got := codec.DecodeMailboxLenient([]byte(tt.in)); got != tt.lenient {
			t.Errorf("DecodeMailboxLenient(%q) = %q; want %q", tt.in, got, tt.lenient)
		}
	}
}

func TestEncodeMailboxNoAlloc(t *testing.T) {
	name := "Archive/2024/Reports"
	if allocs := testing.AllocsPerRun(100, func() { _ = codec.EncodeMailbox(name) }); allocs != 0 {
		t.Errorf("EncodeMailbox(%q) allocs = %v; want 0", name, allocs)
	}
}

func TestSameMailbox(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"INBOX", "INBOX", true},
		{"inbox", "INBOX", true},
		{"Inbox/Sent", "INBOX/Sent", true},
		{"inbox.Sent", "INBOX.Sent", true},
		{"inbox/sent", "INBOX/Sent", false}, // only INBOX is case insensitive
		{"inboxes", "INBOXES", false},       // not INBOX
		{"inbox-old", "INBOX-old", false},   // no delimiter after INBOX
		{"Sent", "sent", false},
		{"INBOX", "INBOX/", false},
		{"", "", true},
		{"a", "b", false},
	} {
		if got := codec.SameMailbox(c.a, c.b); got != c.want {
			t.Errorf("SameMailbox(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
		if got := codec.SameMailbox(c.b, c.a); got != c.want {
			t.Errorf("SameMailbox(%q, %q) = %v; want %v", c.b, c.a, got, c.want)
		}
	}
}

// TestExactMailbox: INBOX alone is the same in any case; a name under
// INBOX is not ("inbox.x" and "INBOX.x" are two mailboxes on a server
// whose delimiter is "/"), nor is a name beginning with INBOX.
func TestExactMailbox(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"INBOX", "INBOX", true},
		{"inbox", "INBOX", true},
		{"InBoX", "iNbOx", true},
		{"Inbox/Sent", "INBOX/Sent", false},
		{"inbox.Sent", "INBOX.Sent", false},
		{"INBOX.Sent", "INBOX.Sent", true},
		{"inboxes", "INBOXES", false},
		{"Sent", "sent", false},
		{"INBOX", "INBOX/", false},
		{"", "", true},
		{"a", "b", false},
		{"İNBOX", "INBOX", false}, // only ASCII case folds; not 5 bytes
	} {
		if got := codec.ExactMailbox(c.a, c.b); got != c.want {
			t.Errorf("ExactMailbox(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
		if got := codec.ExactMailbox(c.b, c.a); got != c.want {
			t.Errorf("ExactMailbox(%q, %q) = %v; want %v", c.b, c.a, got, c.want)
		}
	}
}
