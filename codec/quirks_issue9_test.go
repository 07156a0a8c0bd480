package codec_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
)

// The quirks of issue 9 and those found in other clients' tests and issue
// threads, one capture each. TestQuirkTable checks them with the others.
func init() {
	quirks = append(quirks, issue9Quirks...)
}

// text returns a single text part, as the captures' BODYSTRUCTUREs hold
// them.
func text(subtype, charset, enc string, size, lines int64) *codec.BodyStructure {
	return &codec.BodyStructure{Type: b("text"), Subtype: b(subtype), Params: []codec.Param{{Name: b("charset"), Value: b(charset)}},
		Encoding: b(enc), Size: size, Lines: lines, Extended: true}
}

var issue9Quirks = []struct {
	name, capture, line string
	want                codec.Response
}{
	// 1
	{"NIL as the LIST delimiter", "list-delimiter",
		"* LIST (\\HasNoChildren) NIL \"Folder1\"\r\n",
		&codec.List{Attrs: bs(`\HasNoChildren`), Mailbox: b("Folder1")}},
	{"empty string as the LIST delimiter: no hierarchy", "list-delimiter",
		"* LIST (\\HasNoChildren) \"\" \"Folder2\"\r\n",
		&codec.List{Attrs: bs(`\HasNoChildren`), Mailbox: b("Folder2")}},
	{"empty string as the LSUB delimiter", "list-delimiter",
		"* LSUB () \"\" \"Folder2\"\r\n",
		&codec.List{LSUB: true, Mailbox: b("Folder2")}},
	// 2
	{"NAMESPACE with delimiters of several characters", "namespace-long-delimiter",
		"* Namespace ((\"prefix\" \".\")(\"\" \"/\")) ((\"blesmrt\" \"trojita\")) ((\"foo\" \"bar\"))\r\n",
		&codec.Namespace{
			Personal: []codec.NamespaceDesc{{Prefix: b("prefix"), Delim: '.'}, {Prefix: b(""), Delim: '/'}},
			Other:    []codec.NamespaceDesc{{Prefix: b("blesmrt"), LongDelim: b("trojita")}},
			Shared:   []codec.NamespaceDesc{{Prefix: b("foo"), LongDelim: b("bar")}}}},
	// 3
	{"GroupWise: \\( and \\) in a quoted mailbox name", "groupwise",
		"* LIST (\\Unmarked) \"/\" \"Calendar/GroupWise.5-Mehrfachbenutzer \\(Standard\\).MultiUser Control\"\r\n",
		&codec.List{Attrs: bs(`\Unmarked`), Delim: '/', Mailbox: b(`Calendar/GroupWise.5-Mehrfachbenutzer \(Standard\).MultiUser Control`)}},
	{"GroupWise: the same name in STATUS", "groupwise",
		"* STATUS \"Calendar/GroupWise.5-Mehrfachbenutzer \\(Standard\\).MultiUser Control\" (MESSAGES 3 UNSEEN 1 UIDNEXT 4000)\r\n",
		&codec.MailboxStatus{Mailbox: b(`Calendar/GroupWise.5-Mehrfachbenutzer \(Standard\).MultiUser Control`),
			Items: codec.StatusMessages | codec.StatusUnseen | codec.StatusUIDNext, Messages: 3, Unseen: 1, UIDNext: 4000}},
	// 4
	{"Domino: ENVELOPE in extra parentheses inside FETCH", "domino-fetch-parentheses",
		`* 2 FETCH (UID 14935 (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)) BODYSTRUCTURE ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0 NIL))` + "\r\n",
		&codec.Fetch{Seq: 2, Has: codec.FetchUID | codec.FetchEnvelope | codec.FetchBodyStructure, UID: 14935,
			Envelope:      &codec.Envelope{},
			BodyStructure: &codec.BodyStructure{Type: b("TEXT"), Subtype: b("PLAIN"), Encoding: b("7BIT"), Extended: true}}},
	{"Domino: two attributes in extra parentheses, with spaces", "domino-fetch-parentheses",
		`* 3 FETCH (UID 14936 ( FLAGS (\Seen) RFC822.SIZE 512 ) BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 20 1 NIL))` + "\r\n",
		&codec.Fetch{Seq: 3, Has: codec.FetchUID | codec.FetchFlags | codec.FetchRFC822Size | codec.FetchBodyStructure, UID: 14936,
			Flags: bs(`\Seen`), RFC822Size: 512,
			BodyStructure: &codec.BodyStructure{Type: b("TEXT"), Subtype: b("PLAIN"), Params: []codec.Param{{Name: b("CHARSET"), Value: b("UTF-8")}},
				Encoding: b("7BIT"), Size: 20, Lines: 1, Extended: true}}},
	// 5
	{"mixed-case RFC822.TEXT with an atom for its value", "fetch-atom-value",
		"* 123 FETCH (rfc822.tExt abcdEf)\r\n",
		&codec.Fetch{Seq: 123, Sections: []codec.Section{{Kind: codec.SectionRFC822Text, Data: b("abcdEf"), Size: 6}}}},
	// 6
	{"section literal without a space", "section-literal-no-space",
		"* 81 FETCH (UID 81 BODY[HEADER.FIELDS (MESSAgE-Id)]{10}\r\n01234567\r\n)\r\n",
		&codec.Fetch{Seq: 81, Has: codec.FetchUID, UID: 81, Sections: []codec.Section{{Kind: codec.SectionBody,
			Spec: b("HEADER.FIELDS (MESSAgE-Id)"), Specifier: b("HEADER.FIELDS"), Fields: bs("MESSAgE-Id"), Data: b("01234567\r\n"), Size: 10}}}},
	// 7
	{"Yandex: a section with no value before ')'", "yandex-missing-section",
		"* 1 FETCH (UID 3016 BODY[2.MIME] {150}\r\nContent-Type: application/octet-stream; name=\"empty.bin\"\r\nContent-Disposition: attachment; filename=\"empty.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n BODY[2] )\r\n",
		&codec.Fetch{Seq: 1, Has: codec.FetchUID, UID: 3016, Sections: []codec.Section{
			{Kind: codec.SectionBody, Spec: b("2.MIME"), Part: []uint32{2}, Specifier: b("MIME"), Size: 150,
				Data: b("Content-Type: application/octet-stream; name=\"empty.bin\"\r\nContent-Disposition: attachment; filename=\"empty.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")},
			{Kind: codec.SectionBody, Spec: b("2"), Part: []uint32{2}, Data: b(""), Missing: true}}}},
	{"Yandex: a partial section with no value", "yandex-missing-section",
		"* 3 FETCH (UID 3018 BODY[2.MIME] NIL BODY[2]<0> )\r\n",
		&codec.Fetch{Seq: 3, Has: codec.FetchUID, UID: 3018, Sections: []codec.Section{
			{Kind: codec.SectionBody, Spec: b("2.MIME"), Part: []uint32{2}, Specifier: b("MIME")},
			{Kind: codec.SectionBody, Spec: b("2"), Part: []uint32{2}, HasOrigin: true, Data: b(""), Missing: true}}}},
	// 8
	{"old servers: a multipart without parts as a message's body", "old-bodystructure",
		`* 2688 FETCH (UID 179161 FLAGS (\Seen) RFC822.SIZE 9120 BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "iso-8859-1") NIL NIL "QUOTED-PRINTABLE" 512 9 NIL NIL NIL)("MESSAGE" "DELIVERY-STATUS" NIL NIL NIL "7BIT" 402 NIL NIL NIL)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 3120 ("Mon, 6 Jul 2026 18:28:16 -0400" "Re: Order 1142" (("Ann" NIL "ann" "shop.example")) (("Ann" NIL "ann" "shop.example")) (("Ann" NIL "ann" "shop.example")) (("Bob" NIL "bob" "mail.example")) NIL NIL "<A11@shop.example>" "<B22@mail.example>") ("MIXED" ("BOUNDARY" "000e0cd29212e3e06a0486590ae2") NIL NIL) 41 NIL NIL NIL) "REPORT" ("BOUNDARY" "Rpt.7xQ2" "REPORT-TYPE" "delivery-status") NIL NIL) INTERNALDATE "06-Jul-2026 22:28:20 +0000")` + "\r\n",
		&codec.Fetch{Seq: 2688, Has: codec.FetchUID | codec.FetchFlags | codec.FetchRFC822Size | codec.FetchBodyStructure | codec.FetchInternalDate,
			UID: 179161, Flags: bs(`\Seen`), RFC822Size: 9120, InternalDate: b("06-Jul-2026 22:28:20 +0000"),
			BodyStructure: &codec.BodyStructure{Type: b("multipart"), Subtype: b("REPORT"), Extended: true,
				MultipartParams: []codec.Param{{Name: b("BOUNDARY"), Value: b("Rpt.7xQ2")}, {Name: b("REPORT-TYPE"), Value: b("delivery-status")}},
				Children: []*codec.BodyStructure{
					{Type: b("TEXT"), Subtype: b("PLAIN"), Params: []codec.Param{{Name: b("CHARSET"), Value: b("iso-8859-1")}}, Encoding: b("QUOTED-PRINTABLE"), Size: 512, Lines: 9, Extended: true},
					{Type: b("MESSAGE"), Subtype: b("DELIVERY-STATUS"), Encoding: b("7BIT"), Size: 402, Extended: true},
					{Type: b("MESSAGE"), Subtype: b("RFC822"), Encoding: b("7BIT"), Size: 3120, Lines: 41, Extended: true,
						Envelope: &codec.Envelope{Date: b("Mon, 6 Jul 2026 18:28:16 -0400"), Subject: b("Re: Order 1142"),
							From: addrs("Ann", "ann", "shop.example"), Sender: addrs("Ann", "ann", "shop.example"), ReplyTo: addrs("Ann", "ann", "shop.example"),
							To: addrs("Bob", "bob", "mail.example"), InReplyTo: b("<A11@shop.example>"), MessageID: b("<B22@mail.example>")},
						Body: &codec.BodyStructure{Type: b("multipart"), Subtype: b("MIXED"), Extended: true,
							MultipartParams: []codec.Param{{Name: b("BOUNDARY"), Value: b("000e0cd29212e3e06a0486590ae2")}}}},
				}}}},
	{"old servers: a message part with NIL encoding, envelope and lines, and a multipart body", "old-bodystructure",
		`* 2689 FETCH (UID 179162 BODYSTRUCTURE ((("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 2 1 NIL NIL NIL)("text" "html" ("charset" "US-ASCII") NIL NIL "quoted-printable" 486 10 NIL NIL NIL) "alternative" ("boundary" "--b1") NIL NIL)("message" "rfc822" NIL NIL NIL NIL 190153 NIL ((("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 6584 293 NIL NIL NIL)("text" "html" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 61190 948 NIL NIL NIL) "alternative" ("boundary" "--b3") NIL NIL)("image" "gif" ("name" "logo.gif") NIL NIL "base64" 68496 NIL NIL NIL) "related" ("boundary" "--b2" "type" "multipart/alternative") NIL NIL) NIL NIL ("INLINE" NIL) NIL) "mixed" ("boundary" "--b0") NIL NIL) FLAGS () RFC822.SIZE 262711)` + "\r\n",
		&codec.Fetch{Seq: 2689, Has: codec.FetchUID | codec.FetchBodyStructure | codec.FetchFlags | codec.FetchRFC822Size, UID: 179162, RFC822Size: 262711,
			BodyStructure: &codec.BodyStructure{Type: b("multipart"), Subtype: b("mixed"), Extended: true,
				MultipartParams: []codec.Param{{Name: b("boundary"), Value: b("--b0")}},
				Children: []*codec.BodyStructure{
					{Type: b("multipart"), Subtype: b("alternative"), Extended: true, MultipartParams: []codec.Param{{Name: b("boundary"), Value: b("--b1")}},
						Children: []*codec.BodyStructure{text("plain", "US-ASCII", "7bit", 2, 1), text("html", "US-ASCII", "quoted-printable", 486, 10)}},
					{Type: b("message"), Subtype: b("rfc822"), Size: 190153, Extended: true, Disposition: b("INLINE"),
						Body: &codec.BodyStructure{Type: b("multipart"), Subtype: b("related"), Extended: true,
							MultipartParams: []codec.Param{{Name: b("boundary"), Value: b("--b2")}, {Name: b("type"), Value: b("multipart/alternative")}},
							Children: []*codec.BodyStructure{
								{Type: b("multipart"), Subtype: b("alternative"), Extended: true, MultipartParams: []codec.Param{{Name: b("boundary"), Value: b("--b3")}},
									Children: []*codec.BodyStructure{text("plain", "iso-8859-1", "quoted-printable", 6584, 293), text("html", "iso-8859-1", "quoted-printable", 61190, 948)}},
								{Type: b("image"), Subtype: b("gif"), Params: []codec.Param{{Name: b("name"), Value: b("logo.gif")}}, Encoding: b("base64"), Size: 68496, Extended: true},
							}}},
				}}}},
	// 9
	{"Exchange: a bare response code after MOVE", "exchange-bare-code",
		"[COPYUID 55 31 6]\r\n",
		&codec.Status{Code: &codec.Code{Kind: codec.CodeCopyUID, Name: b("COPYUID"), UIDValidity: 55, Src: mustSet("31"), Dst: mustSet("6")}}},
	{"Exchange: an untagged response code without a status", "exchange-bare-code",
		"* [COPYUID 123456 1 2]\r\n",
		&codec.Status{Code: &codec.Code{Kind: codec.CodeCopyUID, Name: b("COPYUID"), UIDValidity: 123456, Src: mustSet("1"), Dst: mustSet("2")}}},
	// 10
	{"an untagged response that starts with a literal", "untagged-literal",
		"* {25}\r\nSubject: Quarterly report\r\n",
		&codec.Unknown{Tag: b("*"), Rest: b("{25}\r\nSubject: Quarterly report")}},
	// 11
	{"ESEARCH with INCTHREAD", "esearch-incthread",
		"* ESEARCH (TAG \"x\") UID INCTHREAD 666 (8)(2 3 4)(7)(9)(10)((11)(12))(5)((1)(6))(13)\r\n",
		&codec.ESearch{Tag: b("x"), UID: true, Unknown: []codec.ListExtension{{Tag: b("INCTHREAD"), Value: b("666 (8)(2 3 4)(7)(9)(10)((11)(12))(5)((1)(6))(13)")}}}},
	{"ESEARCH with two INCTHREADs and a COUNT", "esearch-incthread",
		"* ESEARCH (TAG \"y\") UID INCTHREAD 666 (8)(2 3 4) INCTHREAD 333 (123) COUNT 4\r\n",
		&codec.ESearch{Tag: b("y"), UID: true, Has: codec.ESearchCount, Count: 4, Unknown: []codec.ListExtension{
			{Tag: b("INCTHREAD"), Value: b("666 (8)(2 3 4)")}, {Tag: b("INCTHREAD"), Value: b("333 (123)")}}}},
	// 12
	{"ID values that are a number and an atom", "id-atoms",
		"* ID (\"v1\" 333 \"v2\" 666x333)\r\n",
		&codec.ID{Params: []codec.Param{{Name: b("v1"), Value: b("333")}, {Name: b("v2"), Value: b("666x333")}}}},
	// Beyond the issue.
	{"Domino: () as the body of a message/rfc822 part (MailKit issue 944)", "domino-empty-message-body",
		`* 9125 FETCH (UID 23064 ENVELOPE ("8 Jul 2026 09:12:02 +0100" "DELIVERY FAILURE: 550 5.1.0 Address rejected." ((NIL NIL "postmaster" "mta.acme.example")) ((NIL NIL "postmaster" "mta.acme.example")) ((NIL NIL "postmaster" "mta.acme.example")) ((NIL NIL "support" "acme.example")) NIL NIL NIL "<OF0E3B.E44C@acme.example>") BODYSTRUCTURE (("text" "plain"  ("charset" "UTF-8") NIL NIL "base64" 232 4 NIL NIL NIL)("message" "delivery-status"  NIL NIL NIL "7BIT" 421 NIL NIL NIL)("message" "rfc822"  NIL NIL NIL "7BIT" 787 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) () 0 NIL NIL NIL) "report" ("report-type" "delivery-status" "boundary" "==IFJRGLKFGIR60132UHRUHIHD") NIL NIL) FLAGS (\Seen))` + "\r\n",
		&codec.Fetch{Seq: 9125, Has: codec.FetchUID | codec.FetchEnvelope | codec.FetchBodyStructure | codec.FetchFlags, UID: 23064, Flags: bs(`\Seen`),
			Envelope: &codec.Envelope{Date: b("8 Jul 2026 09:12:02 +0100"), Subject: b("DELIVERY FAILURE: 550 5.1.0 Address rejected."),
				From: []codec.Address{{Mailbox: b("postmaster"), Host: b("mta.acme.example")}}, Sender: []codec.Address{{Mailbox: b("postmaster"), Host: b("mta.acme.example")}},
				ReplyTo: []codec.Address{{Mailbox: b("postmaster"), Host: b("mta.acme.example")}}, To: []codec.Address{{Mailbox: b("support"), Host: b("acme.example")}},
				MessageID: b("<OF0E3B.E44C@acme.example>")},
			BodyStructure: &codec.BodyStructure{Type: b("multipart"), Subtype: b("report"), Extended: true,
				MultipartParams: []codec.Param{{Name: b("report-type"), Value: b("delivery-status")}, {Name: b("boundary"), Value: b("==IFJRGLKFGIR60132UHRUHIHD")}},
				Children: []*codec.BodyStructure{
					text("plain", "UTF-8", "base64", 232, 4),
					{Type: b("message"), Subtype: b("delivery-status"), Encoding: b("7BIT"), Size: 421, Extended: true},
					{Type: b("message"), Subtype: b("rfc822"), Encoding: b("7BIT"), Size: 787, Extended: true, Envelope: &codec.Envelope{}},
				}}}},
}

// TestTolerancesKeepWellFormed checks, for each tolerance of issue 9 that
// could plausibly reach well-formed input, that well-formed responses near
// it decode as the grammar says.
func TestTolerancesKeepWellFormed(t *testing.T) {
	tests := []struct {
		name, in string
		want     codec.Response
	}{
		{"escapes in a quoted mailbox", "* LIST () \"/\" \"a\\\\b \\\"c\\\"\"\r\n",
			&codec.List{Delim: '/', Mailbox: b(`a\b "c"`)}},
		{"one-character delimiter", "* LIST () \".\" INBOX.a\r\n", &codec.List{Delim: '.', Mailbox: b("INBOX.a")}},
		{"one-character namespace delimiter", "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
			&codec.Namespace{Personal: []codec.NamespaceDesc{{Prefix: b(""), Delim: '/'}}}},
		{"section, space, literal", "* 1 FETCH (BODY[1] {3}\r\nabc)\r\n",
			&codec.Fetch{Seq: 1, Sections: []codec.Section{{Kind: codec.SectionBody, Spec: b("1"), Part: []uint32{1}, Data: b("abc"), Size: 3}}}},
		{"section with NIL and with an empty string", "* 1 FETCH (BODY[1] NIL BODY[2] \"\")\r\n",
			&codec.Fetch{Seq: 1, Sections: []codec.Section{{Kind: codec.SectionBody, Spec: b("1"), Part: []uint32{1}},
				{Kind: codec.SectionBody, Spec: b("2"), Part: []uint32{2}, Data: b("")}}}},
		{"message part in basic form: MD5 NIL then a disposition", "* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 836 NIL (\"ATTACHMENT\" NIL) NIL))\r\n",
			&codec.Fetch{Seq: 1, Has: codec.FetchBodyStructure, BodyStructure: &codec.BodyStructure{Type: b("MESSAGE"), Subtype: b("RFC822"),
				Encoding: b("7BIT"), Size: 836, Extended: true, Disposition: b("ATTACHMENT")}}},
		{"message part with an envelope and a body", "* 1 FETCH (BODY (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL) ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 1 1) \"alternative\") 3))\r\n",
			&codec.Fetch{Seq: 1, Has: codec.FetchBodyStructure, BodyStructure: &codec.BodyStructure{Type: b("message"), Subtype: b("rfc822"),
				Encoding: b("7bit"), Size: 10, Lines: 3, Envelope: &codec.Envelope{Subject: b("s")},
				Body: &codec.BodyStructure{Type: b("multipart"), Subtype: b("alternative"), Children: []*codec.BodyStructure{
					{Type: b("text"), Subtype: b("plain"), Encoding: b("7bit"), Size: 1, Lines: 1},
					{Type: b("text"), Subtype: b("html"), Encoding: b("7bit"), Size: 1, Lines: 1}}}}}},
		{"ESEARCH items after ALL", "* ESEARCH (TAG \"a\") UID ALL 1:3 COUNT 3 XFOO 7 MAX 3\r\n",
			&codec.ESearch{Tag: b("a"), UID: true, Has: codec.ESearchAll | codec.ESearchCount | codec.ESearchMax, All: mustSet("1:3"), Count: 3, Max: 3,
				Unknown: []codec.ListExtension{{Tag: b("XFOO"), Value: b("7")}}}},
		{"ID with strings and NIL", "* ID (\"name\" \"Dovecot\" \"x\" NIL)\r\n",
			&codec.ID{Params: []codec.Param{{Name: b("name"), Value: b("Dovecot")}, {Name: b("x")}}}},
		{"untagged OK with a code", "* OK [COPYUID 1 2 3] Done\r\n",
			&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeCopyUID, Name: b("COPYUID"), UIDValidity: 1, Src: mustSet("2"), Dst: mustSet("3")}, Text: b("Done")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := decodeCapture([]byte(tt.in))
			if err != nil || len(rs) != 1 || rs[0].err != nil {
				t.Fatalf("decoding %q: %v %+v", tt.in, err, rs)
			}
			if diff := cmp.Diff(tt.want, rs[0].resp, cmpOpts...); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			checkRoundTrip(t, rs[0].resp)
		})
	}
}

// TestTolerancesRefuse checks inputs near the tolerances that stay
// undecodable, with the stream in step after them.
func TestTolerancesRefuse(t *testing.T) {
	for _, in := range []string{
		"[not a code\r\n",                       // a bare "[" that holds no code
		"* LIST () \"/\" \"a\\(b\"\r\n",         // unbalanced parenthesis after a bad escape
		"* LIST () \"/\" \"a\\(b)\r\n",          // a bad escape and no closing quote
		"* LIST () \"ab\" INBOX\r\n",            // LIST delimiters are still one character
		"* 1 FETCH (UID 1 ((FLAGS ())))\r\n",    // one level of extra parentheses only
		"* 1 FETCH (BODY[1] BODY[2] \"x\")\r\n", // an atom value cannot be an attribute name
	} {
		data := []byte(in + "* 7 EXISTS\r\n")
		rs, err := decodeCapture(data)
		if err != nil || len(rs) != 2 {
			t.Errorf("%q: %v, %d responses", in, err, len(rs))
			continue
		}
		if rs[0].err == nil {
			t.Errorf("%q decoded to %#v; want an error", in, rs[0].resp)
		}
		if rs[1].err != nil || !cmp.Equal(rs[1].resp, &codec.Exists{Count: 7}) {
			t.Errorf("%q: the next response is %#v, %v", in, rs[1].resp, rs[1].err)
		}
		if !bytes.Equal(rs[1].raw, []byte("* 7 EXISTS\r\n")) {
			t.Errorf("%q: out of step: %q", in, rs[1].raw)
		}
	}
}

// TestTolerancesBounded feeds the tolerances large hostile inputs: each
// decodes or fails in one pass, the stream staying in step.
func TestTolerancesBounded(t *testing.T) {
	name := strings.Repeat(`\(\)`, 20000) // 80 KB of bad escapes, balanced
	deep := strings.Repeat(`\(`, 200)     // deeper than MaxDepth, unbalanced
	incthread := "* ESEARCH UID INCTHREAD 1 " + strings.Repeat("(1)", 50000) + "\r\n"
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"* LIST () \"/\" \"" + name + "\"\r\n", true},
		{"* LIST () \"/\" \"" + deep + "\"\r\n", false},
		{incthread, true},
		{"* 1 FETCH (" + strings.Repeat("(", 200) + "UID 1" + strings.Repeat(")", 200) + ")\r\n", false},
		{"* 1 FETCH (BODY (\"message\" \"rfc822\" NIL NIL NIL NIL 1 NIL" + strings.Repeat(" NIL", 20000) + "))\r\n", true},
	} {
		rs, err := decodeCapture([]byte(tt.in + "* 7 EXISTS\r\n"))
		if err != nil || len(rs) != 2 {
			t.Errorf("%.40q: %v, %d responses", tt.in, err, len(rs))
			continue
		}
		if (rs[0].err == nil) != tt.ok {
			t.Errorf("%.40q: error %v; want ok %v", tt.in, rs[0].err, tt.ok)
		}
		if tt.ok {
			checkRoundTrip(t, rs[0].resp)
		}
		if rs[1].err != nil || !cmp.Equal(rs[1].resp, &codec.Exists{Count: 7}) {
			t.Errorf("%.40q: the next response is %#v, %v", tt.in, rs[1].resp, rs[1].err)
		}
	}
	rs, _ := decodeCapture([]byte("* LIST () \"/\" \"" + name + "\"\r\n"))
	if l, ok := rs[0].resp.(*codec.List); !ok || string(l.Mailbox) != name {
		t.Errorf("the long GroupWise name decoded to %#v", rs[0].resp)
	}
}
