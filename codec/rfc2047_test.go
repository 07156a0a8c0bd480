package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

func TestDecodeHeader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain subject", "plain subject"},
		{"=?UTF-8?B?UmU6IMOcYmVyc2ljaHQgZGVyIMOEbmRlcnVuZ2Vu?=", "Re: Übersicht der Änderungen"},
		{"=?ISO-8859-1?Q?Caf=E9_meeting?=", "Café meeting"},
		{"=?iso-8859-1?q?Caf=e9_meeting?=", "Café meeting"},
		{"=?koi8-r?B?8NLJ18XULCDNydI=?=", "Привет, мир"},
		{"=?KOI8-U?B?t9bByw==?=", "Їжак"},
		{"=?iso-2022-jp?B?GyRCJEgkahsoQg==?=", "とり"},
		{"=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "こんにちは"},
		{"=?shift_jis?B?k/qWe4zq?=", "日本語"},
		{"=?Shift-JIS?B?k/qWe4zq?=", "日本語"},
		{"=?euc-jp?B?xvzL3Ljs?=", "日本語"},
		{"=?gb2312?B?1tDOxA==?=", "中文"},
		{"=?GBK?B?1tDOxA==?=", "中文"},
		{"=?gb18030?B?1tDOxA==?=", "中文"},
		{"=?big5?B?pKSk5Q==?=", "中文"},
		{"=?euc-kr?B?x9Gxub7u?=", "한국어"},
		{"=?windows-1251?B?z/Do4uXy?=", "Привет"},
		{"=?iso-8859-2?B?o/NkvA==?=", "Łódź"},
		{"=?iso-8859-15?B?pHVybw==?=", "€uro"},
		{"=?windows-1252?B?k3F1b3Rlc5Q=?=", "“quotes”"},
		{"=?us-ascii?Q?plain?=", "plain"},
		{"=?utf-8*en?Q?hello?=", "hello"},                          // RFC 2231 language
		{"=?UTF-8*en-US?B?w6k=?=", "é"},                            // RFC 2231 language, B
		{"=?utf-8?b?w6k?=", "é"},                                   // missing padding
		{"=?utf-8?q?a_b?= c", "a b c"},                             // word then plain text
		{"x =?utf-8?q?a?=", "x a"},                                 // plain text then word
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},                      // adjacent words: space dropped
		{"=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"},                  // folded
		{"=?utf-8?q?a?=\t  =?iso-8859-1?q?=E9?=", "aé"},            // different charsets
		{"=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"},                 // text between words is kept
		{"=?utf-8?q?a_?= =?utf-8?q?_b?=", "a  b"},                  // encoded spaces are kept
		{"=?utf-8?B?ww==?= =?utf-8?B?nGJlcnNpY2h0?=", "Übersicht"}, // character split across words
		{"Re: =?UTF-8?Q?Caf=C3=A9?= [list]", "Re: Café [list]"},
		{"=?utf-8?q?=3D=3F?=", "=?"},
		{"=?utf-8?q??=", ""},                 // empty encoded-text
		{"=?utf-8?q?a?==?utf-8?q?b?=", "ab"}, // not separated at all
		{"a=?utf-8?q?b?=c", "abc"},           // inside a word
		{"=?utf-8?B?w6k?= \"x\"", "é \"x\""}, // word then quoted text
		{"=?utf-8?Q?=FF?=", "\ufffd"},        // invalid UTF-8 in a word
		// Malformed words are kept as is.
		{"=?utf-8?q?a b?=", "=?utf-8?q?a b?="},
		{"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
		{"=?utf-8?q?abc", "=?utf-8?q?abc"},
		{"=?utf-8?q?=Zabc?=", "=?utf-8?q?=Zabc?="},
		{"=?utf-8?q?abc=?=", "=?utf-8?q?abc=?="},
		{"=?utf-8?b?!!!!?=", "=?utf-8?b?!!!!?="},
		{"=?utf-8?b?A?=", "=?utf-8?b?A?="},
		{"=??q?abc?=", "=??q?abc?="},
		{"=?*en?q?abc?=", "=?*en?q?abc?="},
		{"=?", "=?"},
		{"=?=?utf-8?q?x?=", "=?x"},
		{"50% =?off", "50% =?off"},
		{"=?utf-8?q?bad=?= =?utf-8?q?good?=", "=?utf-8?q?bad=?= good"},
		// Raw 8-bit text.
		{"Grüße", "Grüße"},
		{"Gr\xfc\xdfe", "Grüße"}, // Latin-1
		{"Gr\xfc\xdfe =?utf-8?q?=C3=A9?= ok", "Grüße é ok"},
		{"line one\r\n two", "line one two"},
		{"line one\n\ttwo", "line one\ttwo"},
		{"keep\r\nthis", "keep\r\nthis"},
	}
	for _, tt := range tests {
		got, err := codec.DecodeHeader([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("DecodeHeader(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestDecodeHeaderUnknownCharset(t *testing.T) {
	tests := []struct{ in, want, charset string }{
		{"=?x-unknown?Q?abc?=", "=?x-unknown?Q?abc?=", "x-unknown"},
		{"Re: =?x-unknown?Q?abc?= =?utf-8?q?=C3=A9?=", "Re: =?x-unknown?Q?abc?= é", "x-unknown"},
		{"=?utf-8?q?a?= =?x-foo*en?B?YQ==?= =?utf-8?q?b?=", "a =?x-foo*en?B?YQ==?= b", "x-foo"},
		{"=?x-a?q?1?= =?x-b?q?2?=", "=?x-a?q?1?= =?x-b?q?2?=", "x-a"},
		// WHATWG's "replacement" encodings are treated as unknown.
		{"=?iso-2022-kr?q?abc?=", "=?iso-2022-kr?q?abc?=", "iso-2022-kr"},
	}
	for _, tt := range tests {
		got, err := codec.DecodeHeader([]byte(tt.in))
		var ue *codec.UnknownCharsetError
		if !errors.As(err, &ue) {
			t.Errorf("DecodeHeader(%q) error = %v; want *UnknownCharsetError", tt.in, err)
			continue
		}
		if ue.Charset != tt.charset {
			t.Errorf("DecodeHeader(%q) error charset = %q; want %q", tt.in, ue.Charset, tt.charset)
		}
		if !strings.HasPrefix(err.Error(), "codec: ") {
			t.Errorf("DecodeHeader(%q) error = %q; want prefix \"codec: \"", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("DecodeHeader(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeHeaderPlainAllocs(t *testing.T) {
	in := []byte("Quarterly report, final version")
	if a := testing.AllocsPerRun(100, func() { codec.DecodeHeader(in) }); a > 1 {
		t.Errorf("DecodeHeader(%q) allocs = %v; want <= 1 (the string)", in, a)
	}
}

// TestDecodeHeaderCharsetAliases: charset names that Python's email package
// and Microsoft's mailers write, unknown to the Encoding Standard and
// IANA, decode as the charset they name.
func TestDecodeHeaderCharsetAliases(t *testing.T) {
	for _, tc := range []struct{ word, want string }{
		{"=?latin-1?q?caf=E9?=", "café"},
		{"=?cp932?b?k/qWe4zq?=", "日本語"},
		{"=?eucjp?b?xvzL3Ljs?=", "日本語"},
		{"=?cp949?b?x9Gx27ChIA==?=", "한글가 "},
		{"=?koi8r?b?8NLJ18XU?=", "Привет"},
		{"=?KOI8_R?b?8NLJ18XU?=", "Привет"},
	} {
		got, err := codec.DecodeHeader(codec.Bytes(tc.word))
		if err != nil || got != tc.want {
			t.Errorf("DecodeHeader(%s) = %q, %v; want %q", tc.word, got, err, tc.want)
		}
	}
}
