package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/wire"
)

func msgB(s string) Bytes { return Bytes(s) }

func msgStrs(ss ...string) []Bytes {
	out := make([]Bytes, len(ss))
	for i, s := range ss {
		out[i] = Bytes(s)
	}
	return out
}

// msgPs builds a parameter list from name, value pairs; "NIL" is nil.
func msgPs(kv ...string) []Param {
	var ps []Param
	for i := 0; i+1 < len(kv); i += 2 {
		p := Param{Name: Bytes(kv[i]), Value: Bytes(kv[i+1])}
		if kv[i+1] == "NIL" {
			p.Value = nil
		}
		ps = append(ps, p)
	}
	return ps
}

func msgAddr(name, mailbox, host string) Address {
	a := Address{Mailbox: Bytes(mailbox), Host: Bytes(host)}
	if name != "" {
		a.Name = Bytes(name)
	}
	if mailbox == "" {
		a.Mailbox = nil
	}
	if host == "" {
		a.Host = nil
	}
	return a
}

// msgNewDecoder returns a decoder over line and CRLF, its arena reset.
func msgNewDecoder(line string, opts *wire.TokenizerOptions) *Decoder {
	d := NewDecoder(wire.NewTokenizer(strings.NewReader(line+"\r\n"), opts), nil)
	d.msg.reset()
	return d
}

func msgDecodeBody(t testing.TB, line string, extended bool) *BodyStructure {
	t.Helper()
	d := msgNewDecoder(line, nil)
	b, err := d.readBodyStructure(extended)
	if err != nil {
		t.Fatalf("readBodyStructure(%q): %v", line, err)
	}
	if err := d.t.CRLF(); err != nil {
		t.Fatalf("readBodyStructure(%q) left bytes behind: %v", line, err)
	}
	return b
}

func msgDecodeEnvelope(t testing.TB, line string) *Envelope {
	t.Helper()
	d := msgNewDecoder(line, nil)
	e, err := d.readEnvelope()
	if err != nil {
		t.Fatalf("readEnvelope(%q): %v", line, err)
	}
	if err := d.t.CRLF(); err != nil {
		t.Fatalf("readEnvelope(%q) left bytes behind: %v", line, err)
	}
	return e
}

// msgRoundTripBody checks decode(append(b)) == b and that the canonical
// form is stable.
func msgRoundTripBody(t testing.TB, b *BodyStructure, extended bool) {
	t.Helper()
	enc := appendBodyStructure(nil, b)
	b2 := msgDecodeBody(t, string(enc), extended)
	if diff := cmp.Diff(b, b2); diff != "" {
		t.Fatalf("round trip of %q (-first +second):\n%s", enc, diff)
	}
	if enc2 := appendBodyStructure(nil, b2); !bytes.Equal(enc, enc2) {
		t.Fatalf("canonical form not stable:\n%q\n%q", enc, enc2)
	}
}

func msgRoundTripEnvelope(t testing.TB, e *Envelope) {
	t.Helper()
	enc := appendEnvelope(nil, e)
	e2 := msgDecodeEnvelope(t, string(enc))
	if diff := cmp.Diff(e, e2); diff != "" {
		t.Fatalf("round trip of %q (-first +second):\n%s", enc, diff)
	}
}

const (
	msgRFCEnvLine = `("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")`
)

func msgRFCEnvelope() *Envelope {
	gray := []Address{msgAddr("Terry Gray", "gray", "cac.washington.edu")}
	return &Envelope{
		Date:      msgB("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
		Subject:   msgB("IMAP4rev1 WG mtg summary and minutes"),
		From:      gray,
		Sender:    gray,
		ReplyTo:   gray,
		To:        []Address{msgAddr("", "imap", "cac.washington.edu")},
		Cc:        []Address{msgAddr("", "minutes", "CNRI.Reston.VA.US"), msgAddr("John Klensin", "KLENSIN", "MIT.EDU")},
		MessageID: msgB("<B27397-0100000@cac.washington.edu>"),
	}
}

var msgEnvelopeTests = []struct {
	name string
	line string
	want *Envelope
}{
	{"rfc3501", msgRFCEnvLine, msgRFCEnvelope()},
	{"domino-double-parens", "(" + msgRFCEnvLine + ")", msgRFCEnvelope()},
	{"nil", "NIL", nil},
	{"lowercase-nil-extra-spaces", `(  "d"  "s"  nil  nil nil  ( ("A" nil "a" "x.org") )  NIL Nil  nil  "<id>" )`, &Envelope{
		Date: msgB("d"), Subject: msgB("s"), To: []Address{msgAddr("A", "a", "x.org")}, MessageID: msgB("<id>"),
	}},
	{"empty-address-lists", `("d" "s" () () () ((NIL NIL "a" "b")) () () NIL NIL)`, &Envelope{
		Date: msgB("d"), Subject: msgB("s"), To: []Address{msgAddr("", "a", "b")},
	}},
	{"all-nil-address-and-nil-entries", `(NIL NIL ((NIL NIL NIL NIL)) NIL NIL (NIL (NIL NIL "u" "h") NIL) NIL NIL NIL NIL)`, &Envelope{
		From: []Address{{}}, To: []Address{msgAddr("", "u", "h")},
	}},
	{"group", `("Mon, 1 Jan 2024 10:00:00 +0000" "group test" (("Ann" NIL "ann" "example.com")) NIL NIL ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ((NIL NIL "team" NIL)("Bob" NIL "bob" "example.com")("Carol" "@relay.example" "carol" "example.org")(NIL NIL NIL NIL)) NIL "<parent@example.com>" "<child@example.com>")`, &Envelope{
		Date: msgB("Mon, 1 Jan 2024 10:00:00 +0000"), Subject: msgB("group test"),
		From: []Address{msgAddr("Ann", "ann", "example.com")},
		To:   []Address{msgAddr("", "undisclosed-recipients", ""), {}},
		Cc: []Address{msgAddr("", "team", ""), msgAddr("Bob", "bob", "example.com"),
			{Name: msgB("Carol"), ADL: msgB("@relay.example"), Mailbox: msgB("carol"), Host: msgB("example.org")}, {}},
		InReplyTo: msgB("<parent@example.com>"), MessageID: msgB("<child@example.com>"),
	}},
	{"gmail-literal-subject-and-escapes", "(\"Tue, 2 Jan 2024 08:00:00 -0800\" {21}\r\nline one\r\n line \"two\" ((\"Jane \\\"JD\\\" Doe\" NIL \"jane\" \"gmail.com\")) NIL NIL NIL NIL NIL NIL \"<CA+x@mail.gmail.com>\")", &Envelope{
		Date: msgB("Tue, 2 Jan 2024 08:00:00 -0800"), Subject: msgB("line one\r\n line \"two\""),
		From:      []Address{msgAddr(`Jane "JD" Doe`, "jane", "gmail.com")},
		MessageID: msgB("<CA+x@mail.gmail.com>"),
	}},
	{"unescaped-quotes-in-subject", `("d" "say "hello"!" NIL NIL NIL NIL NIL NIL NIL NIL)`, &Envelope{
		Date: msgB("d"), Subject: msgB(`say "hello"!`),
	}},
	{"empty-strings", `("" "" (("" NIL "" "")) NIL NIL NIL NIL NIL "" "")`, &Envelope{
		Date: msgB(""), Subject: msgB(""), From: []Address{{Name: msgB(""), Mailbox: msgB(""), Host: msgB("")}},
		InReplyTo: msgB(""), MessageID: msgB(""),
	}},
	{"spaces-between-addresses", `(NIL "s" (("A" NIL "a" "x") ("B" NIL "b" "y")) NIL NIL NIL NIL NIL NIL NIL)`, &Envelope{
		Subject: msgB("s"), From: []Address{msgAddr("A", "a", "x"), msgAddr("B", "b", "y")},
	}},
	{"truncated", `("d" "s" NIL NIL NIL NIL NIL NIL)`, &Envelope{Date: msgB("d"), Subject: msgB("s")}},
	{"8bit-subject", "(\"d\" \"Caf\xc3\xa9 \xe2\x82\xac\" NIL NIL NIL NIL NIL NIL NIL NIL)", &Envelope{Date: msgB("d"), Subject: msgB("Caf\xc3\xa9 \xe2\x82\xac")}},
}

func TestEnvelopeDecode(t *testing.T) {
	for _, tt := range msgEnvelopeTests {
		t.Run(tt.name, func(t *testing.T) {
			got := msgDecodeEnvelope(t, tt.line)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", tt.line, diff)
			}
			msgRoundTripEnvelope(t, got)
			if diff := cmp.Diff(got, got.Clone()); diff != "" {
				t.Fatalf("Clone differs:\n%s", diff)
			}
		})
	}
}

// Real-looking BODYSTRUCTURE lines, as servers send them.
const (
	msgDovecotAlternative = `(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 1370 36 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 9823 203 NIL NIL NIL NIL) "alternative" ("boundary" "=_4c1e8b0f2b7dd4a3b6bd0c2d1f1c0f9a") NIL NIL NIL)`
	msgGmailMixed         = `((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 240 6 NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 1151 24 NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "0000000000006e1b9c060d8c1a72") NIL NIL)("APPLICATION" "PDF" ("NAME" "invoice 2024-01.pdf") "<f_lr4x1y0o0>" NIL "BASE64" 96512 NIL ("ATTACHMENT" ("FILENAME" "invoice 2024-01.pdf")) NIL) "MIXED" ("BOUNDARY" "0000000000006e1b9e060d8c1a74") NIL NIL)`
	msgExchangeMixed      = `(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" -1 -1 NIL NIL NIL NIL)("application" "octet-stream" ("name" "report.xlsx") NIL NIL "base64" -1 NIL ("attachment" ("filename" "report.xlsx" "size" "52311" "creation-date" "Mon, 08 Jan 2024 09:15:02 GMT" "modification-date" "Mon, 08 Jan 2024 09:15:02 GMT")) NIL NIL) "mixed" ("boundary" "_002_DM6PR11MB4100C7B4E3F1") NIL ("en-US") NIL)`
	msgCyrusForward       = `(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 58 3 NIL NIL NIL NIL)("message" "rfc822" ("name" "fwd.eml") NIL "Forwarded message" "7bit" 2237 ("Thu, 4 Jan 2024 17:00:00 +0100" "Minutes" (("Ann" NIL "ann" "cyrus.example")) (("Ann" NIL "ann" "cyrus.example")) (("Ann" NIL "ann" "cyrus.example")) ((NIL NIL "list" "cyrus.example")) NIL NIL NIL "<m1@cyrus.example>") (("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 812 20 NIL NIL NIL NIL)("image" "png" ("name" "logo.png") "<logo@cyrus>" NIL "base64" 1024 NIL ("inline" ("filename" "logo.png")) NIL NIL) "related" ("boundary" "inner" "type" "text/plain") NIL NIL NIL) 51 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)`
	msgCourierText        = `("text" "plain" ("charset" "iso-8859-1" "format" "flowed") NIL NIL "8bit" 1843 41 NIL NIL NIL)`
	msgDovecotGlobal      = "(\"message\" \"global\" NIL NIL NIL \"8bit\" 512 (\"Fri, 5 Jan 2024 12:00:00 +0000\" \"Gr\xc3\xbc\xc3\x9fe\" ((\"J\xc3\xb6rg\" NIL \"j\xc3\xb6rg\" \"b\xc3\xbccher.example\")) NIL NIL NIL NIL NIL NIL \"<g1@b\xc3\xbccher.example>\") (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 120 4 NIL NIL NIL NIL) 14 NIL NIL NIL NIL)"
)

func msgText(sub string, params []Param, enc string, size, lines int64) *BodyStructure {
	return &BodyStructure{Type: msgB("text"), Subtype: msgB(sub), Params: params, Encoding: msgB(enc), Size: size, Lines: lines, Extended: true}
}

func msgMulti(sub string, params []Param, kids ...*BodyStructure) *BodyStructure {
	return &BodyStructure{Type: msgMultipartType, Subtype: msgB(sub), Children: kids, MultipartParams: params, Extended: true}
}

var msgBodyTests = []struct {
	name     string
	line     string
	extended bool
	want     *BodyStructure
}{
	{"rfc3501-text-body", `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)`, false,
		&BodyStructure{Type: msgB("TEXT"), Subtype: msgB("PLAIN"), Params: msgPs("CHARSET", "US-ASCII"), Encoding: msgB("7BIT"), Size: 3028, Lines: 92}},
	{"rfc3501-mixed-body", `(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")`, false,
		&BodyStructure{Type: msgMultipartType, Subtype: msgB("MIXED"), Children: []*BodyStructure{
			{Type: msgB("TEXT"), Subtype: msgB("PLAIN"), Params: msgPs("CHARSET", "US-ASCII"), Encoding: msgB("7BIT"), Size: 1152, Lines: 23},
			{Type: msgB("TEXT"), Subtype: msgB("PLAIN"), Params: msgPs("CHARSET", "US-ASCII", "NAME", "cc.diff"), ID: msgB("<960723163407.20117h@cac.washington.edu>"),
				Description: msgB("Compiler diff"), Encoding: msgB("BASE64"), Size: 4554, Lines: 73},
		}}},
	{"dovecot-alternative", msgDovecotAlternative, true, msgMulti("alternative", msgPs("boundary", "=_4c1e8b0f2b7dd4a3b6bd0c2d1f1c0f9a"),
		msgText("plain", msgPs("charset", "utf-8"), "quoted-printable", 1370, 36),
		msgText("html", msgPs("charset", "utf-8"), "quoted-printable", 9823, 203))},
	{"gmail-mixed", msgGmailMixed, true, &BodyStructure{Type: msgMultipartType, Subtype: msgB("MIXED"), MultipartParams: msgPs("BOUNDARY", "0000000000006e1b9e060d8c1a74"), Extended: true,
		Children: []*BodyStructure{
			{Type: msgMultipartType, Subtype: msgB("ALTERNATIVE"), MultipartParams: msgPs("BOUNDARY", "0000000000006e1b9c060d8c1a72"), Extended: true, Children: []*BodyStructure{
				{Type: msgB("TEXT"), Subtype: msgB("PLAIN"), Params: msgPs("CHARSET", "UTF-8"), Encoding: msgB("7BIT"), Size: 240, Lines: 6, Extended: true},
				{Type: msgB("TEXT"), Subtype: msgB("HTML"), Params: msgPs("CHARSET", "UTF-8"), Encoding: msgB("QUOTED-PRINTABLE"), Size: 1151, Lines: 24, Extended: true},
			}},
			{Type: msgB("APPLICATION"), Subtype: msgB("PDF"), Params: msgPs("NAME", "invoice 2024-01.pdf"), ID: msgB("<f_lr4x1y0o0>"), Encoding: msgB("BASE64"), Size: 96512,
				Extended: true, Disposition: msgB("ATTACHMENT"), DispositionParams: msgPs("FILENAME", "invoice 2024-01.pdf")},
		}}},
	{"exchange-minus-one", msgExchangeMixed, true, &BodyStructure{Type: msgMultipartType, Subtype: msgB("mixed"), MultipartParams: msgPs("boundary", "_002_DM6PR11MB4100C7B4E3F1"),
		Language: msgStrs("en-US"), Extended: true, Children: []*BodyStructure{
			msgText("plain", msgPs("charset", "us-ascii"), "7bit", -1, -1),
			{Type: msgB("application"), Subtype: msgB("octet-stream"), Params: msgPs("name", "report.xlsx"), Encoding: msgB("base64"), Size: -1, Extended: true,
				Disposition:       msgB("attachment"),
				DispositionParams: msgPs("filename", "report.xlsx", "size", "52311", "creation-date", "Mon, 08 Jan 2024 09:15:02 GMT", "modification-date", "Mon, 08 Jan 2024 09:15:02 GMT")},
		}}},
	{"exchange-text-body", `("text" "plain" NIL NIL NIL "7bit" -1 -1)`, false,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: -1, Lines: -1}},
	{"cyrus-forwarded-message", msgCyrusForward, true, msgMulti("mixed", msgPs("boundary", "outer"),
		msgText("plain", msgPs("charset", "us-ascii"), "7bit", 58, 3),
		&BodyStructure{Type: msgB("message"), Subtype: msgB("rfc822"), Params: msgPs("name", "fwd.eml"), Description: msgB("Forwarded message"), Encoding: msgB("7bit"), Size: 2237, Lines: 51,
			Envelope: &Envelope{Date: msgB("Thu, 4 Jan 2024 17:00:00 +0100"), Subject: msgB("Minutes"),
				From: []Address{msgAddr("Ann", "ann", "cyrus.example")}, Sender: []Address{msgAddr("Ann", "ann", "cyrus.example")}, ReplyTo: []Address{msgAddr("Ann", "ann", "cyrus.example")},
				To: []Address{msgAddr("", "list", "cyrus.example")}, MessageID: msgB("<m1@cyrus.example>")},
			Body: msgMulti("related", msgPs("boundary", "inner", "type", "text/plain"),
				msgText("plain", msgPs("charset", "iso-8859-1"), "quoted-printable", 812, 20),
				&BodyStructure{Type: msgB("image"), Subtype: msgB("png"), Params: msgPs("name", "logo.png"), ID: msgB("<logo@cyrus>"), Encoding: msgB("base64"), Size: 1024,
					Extended: true, Disposition: msgB("inline"), DispositionParams: msgPs("filename", "logo.png")}),
			Extended: true, Disposition: msgB("attachment"), DispositionParams: msgPs("filename", "fwd.eml")})},
	{"courier-text", msgCourierText, true, msgText("plain", msgPs("charset", "iso-8859-1", "format", "flowed"), "8bit", 1843, 41)},
	{"dovecot-message-global", msgDovecotGlobal, true, &BodyStructure{Type: msgB("message"), Subtype: msgB("global"), Encoding: msgB("8bit"), Size: 512, Lines: 14, Extended: true,
		Envelope: &Envelope{Date: msgB("Fri, 5 Jan 2024 12:00:00 +0000"), Subject: msgB("Gr\xc3\xbc\xc3\x9fe"),
			From: []Address{msgAddr("J\xc3\xb6rg", "j\xc3\xb6rg", "b\xc3\xbccher.example")}, MessageID: msgB("<g1@b\xc3\xbccher.example>")},
		Body: msgText("plain", msgPs("charset", "utf-8"), "8bit", 120, 4)}},
	{"mailru-text-without-lines", `("text" "plain" ("charset" "utf-8") NIL NIL "base64" 1024)`, true,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Params: msgPs("charset", "utf-8"), Encoding: msgB("base64"), Size: 1024, Extended: true}},
	{"mailru-basic-ends-after-size", `(("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 10 1 NIL NIL NIL)("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 2048) "mixed")`, true,
		msgMulti("mixed", nil, msgText("plain", msgPs("charset", "utf-8"), "8bit", 10, 1),
			&BodyStructure{Type: msgB("application"), Subtype: msgB("pdf"), Params: msgPs("name", "a.pdf"), Encoding: msgB("base64"), Size: 2048, Extended: true})},
	{"mailru-very-short", `("image" "png" NIL NIL NIL "base64")`, true,
		&BodyStructure{Type: msgB("image"), Subtype: msgB("png"), Encoding: msgB("base64"), Extended: true}},
	{"163-unescaped-quotes", `("application" "octet-stream" ("name" "a"b".txt") NIL NIL "base64" 100 NIL ("attachment" ("filename" "a"b".txt")) NIL NIL)`, true,
		&BodyStructure{Type: msgB("application"), Subtype: msgB("octet-stream"), Params: msgPs("name", `a"b".txt`), Encoding: msgB("base64"), Size: 100, Extended: true,
			Disposition: msgB("attachment"), DispositionParams: msgPs("filename", `a"b".txt`)}},
	{"163-unescaped-quotes-with-escape-and-parens", `("application" "octet-stream" ("name" "x"y\"z (1)".doc") NIL NIL "base64" 100)`, true,
		&BodyStructure{Type: msgB("application"), Subtype: msgB("octet-stream"), Params: msgPs("name", `x"y"z (1)".doc`), Encoding: msgB("base64"), Size: 100, Extended: true}},
	{"windows-path-backslash", `("application" "octet-stream" ("name" "C:\temp\a.txt") NIL NIL "base64" 7)`, true,
		&BodyStructure{Type: msgB("application"), Subtype: msgB("octet-stream"), Params: msgPs("name", `C:\temp\a.txt`), Encoding: msgB("base64"), Size: 7, Extended: true}},
	{"nil-type-subtype-encoding", `(NIL NIL NIL NIL NIL NIL 0)`, true, &BodyStructure{Extended: true}},
	{"nil-encoding-text", `("text" NIL NIL NIL NIL NIL 10 1)`, false, &BodyStructure{Type: msgB("text"), Size: 10, Lines: 1}},
	{"param-list-quoted-nil", `("text" "plain" "NIL" NIL NIL "7bit" 10 1)`, false,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1}},
	{"disposition-bare-string", `("application" "pdf" ("name" "x.pdf") NIL NIL "base64" 100 NIL "attachment" NIL NIL)`, true,
		&BodyStructure{Type: msgB("application"), Subtype: msgB("pdf"), Params: msgPs("name", "x.pdf"), Encoding: msgB("base64"), Size: 100, Extended: true, Disposition: msgB("attachment")}},
	{"disposition-without-params", `("application" "pdf" NIL NIL NIL "base64" 100 NIL ("inline") NIL NIL)`, true,
		&BodyStructure{Type: msgB("application"), Subtype: msgB("pdf"), Encoding: msgB("base64"), Size: 100, Extended: true, Disposition: msgB("inline")}},
	{"empty-params-and-nil-values", `("text" "plain" () NIL NIL "7bit" 10 1 NIL ("attachment" ("filename" NIL "size" "12")) NIL NIL)`, true,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1, Extended: true,
			Disposition: msgB("attachment"), DispositionParams: msgPs("filename", "NIL", "size", "12")}},
	{"odd-param-list", `("text" "plain" ("charset") NIL NIL "7bit" 10 1)`, false,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Params: msgPs("charset", "NIL"), Encoding: msgB("7bit"), Size: 10, Lines: 1}},
	{"lowercase-nil-extra-spaces", `(  "text"  "plain"  nil  Nil nIL  "7bit"  10  2  nil nil nil nil  )`, true,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 2, Extended: true}},
	{"quoted-numbers", `("text" "plain" NIL NIL NIL "7bit" "1234" "56")`, false,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 1234, Lines: 56}},
	{"64-bit-size", `("video" "mp4" NIL NIL NIL "base64" 9876543210123 NIL NIL NIL NIL)`, true,
		&BodyStructure{Type: msgB("video"), Subtype: msgB("mp4"), Encoding: msgB("base64"), Size: 9876543210123, Extended: true}},
	{"md5-language-list-location-extensions", `("text" "plain" NIL NIL NIL "7bit" 10 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" NIL ("en" "de") "http://example.com/x" 42 ("x" NIL (1 2)) "y")`, true,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1, Extended: true,
			MD5: msgB("Q2hlY2sgSW50ZWdyaXR5IQ=="), Language: msgStrs("en", "de"), Location: msgB("http://example.com/x"), Extension: msgB(`42 ("x" NIL (1 2)) "y"`)}},
	{"language-single-string", `("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL "fr" NIL)`, true,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1, Extended: true, Language: msgStrs("fr")}},
	{"extension-atoms-canonical", `("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL  foo  007 ( ) ({3}` + "\r\na\"b" + ` bar) -1)`, true,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1, Extended: true,
			Extension: msgB(`"foo" 007 () ("a\"b" "bar") "-1"`)}},
	{"body-form-with-extension-data", `(("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "7bit" 20 2) "alternative")`, false,
		&BodyStructure{Type: msgMultipartType, Subtype: msgB("alternative"), Children: []*BodyStructure{
			{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1, Extended: true},
			{Type: msgB("text"), Subtype: msgB("html"), Encoding: msgB("7bit"), Size: 20, Lines: 2},
		}}},
	{"multipart-spaces-between-parts", `( ("text" "plain" NIL NIL NIL "7bit" 10 1) ("text" "html" NIL NIL NIL "7bit" 20 2) "alternative" )`, false,
		&BodyStructure{Type: msgMultipartType, Subtype: msgB("alternative"), Children: []*BodyStructure{
			{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1},
			{Type: msgB("text"), Subtype: msgB("html"), Encoding: msgB("7bit"), Size: 20, Lines: 2},
		}}},
	{"multipart-missing-subtype", `(("text" "plain" NIL NIL NIL "7bit" 10 1))`, false,
		&BodyStructure{Type: msgMultipartType, Children: []*BodyStructure{
			{Type: msgB("text"), Subtype: msgB("plain"), Encoding: msgB("7bit"), Size: 10, Lines: 1}}}},
	{"message-rfc822-domino-envelope", `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 300 (("d" "s" NIL NIL NIL NIL NIL NIL NIL NIL)) ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1) 5)`, false,
		&BodyStructure{Type: msgB("MESSAGE"), Subtype: msgB("RFC822"), Encoding: msgB("7BIT"), Size: 300, Lines: 5,
			Envelope: &Envelope{Date: msgB("d"), Subject: msgB("s")},
			Body:     &BodyStructure{Type: msgB("TEXT"), Subtype: msgB("PLAIN"), Encoding: msgB("7BIT"), Size: 10, Lines: 1}}},
	{"message-rfc822-without-envelope", `("message" "rfc822" NIL NIL NIL "7bit" 100)`, true,
		&BodyStructure{Type: msgB("message"), Subtype: msgB("rfc822"), Encoding: msgB("7bit"), Size: 100, Extended: true}},
	{"message-rfc822-basic-with-extension", `("message" "rfc822" NIL NIL NIL "7bit" 100 NIL "attachment" NIL NIL)`, true,
		&BodyStructure{Type: msgB("message"), Subtype: msgB("rfc822"), Encoding: msgB("7bit"), Size: 100, Extended: true, Disposition: msgB("attachment")}},
	{"message-rfc822-nil-body-no-lines", `("message" "rfc822" NIL NIL NIL "7bit" 100 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) NIL)`, false,
		&BodyStructure{Type: msgB("message"), Subtype: msgB("rfc822"), Encoding: msgB("7bit"), Size: 100, Envelope: &Envelope{}}},
	{"literals", "(\"application\" \"octet-stream\" (\"name\" {7}\r\nfoo.txt) NIL {4}\r\na\r\nb \"base64\" 3)", false,
		&BodyStructure{Type: msgB("application"), Subtype: msgB("octet-stream"), Params: msgPs("name", "foo.txt"), Description: msgB("a\r\nb"), Encoding: msgB("base64"), Size: 3}},
	{"atoms-for-strings", `(text plain (charset utf-8) NIL NIL 7bit 10 1)`, false,
		&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Params: msgPs("charset", "utf-8"), Encoding: msgB("7bit"), Size: 10, Lines: 1}},
	{"nil-body", `NIL`, true, nil},
}

func TestBodyStructureDecode(t *testing.T) {
	for _, tt := range msgBodyTests {
		t.Run(tt.name, func(t *testing.T) {
			got := msgDecodeBody(t, tt.line, tt.extended)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", tt.line, diff)
			}
			msgRoundTripBody(t, got, tt.extended)
			if diff := cmp.Diff(got, got.Clone()); diff != "" {
				t.Fatalf("Clone differs:\n%s", diff)
			}
		})
	}
}

// TestBodyStructureDecodeAll decodes several responses in a row through
// one decoder, resetting the arena as the Decoder does.
func TestBodyStructureDecodeAll(t *testing.T) {
	var in strings.Builder
	for _, tt := range msgBodyTests {
		in.WriteString(tt.line)
		in.WriteString("\r\n")
	}
	d := NewDecoder(wire.NewTokenizer(strings.NewReader(in.String()), nil), nil)
	for _, tt := range msgBodyTests {
		d.msg.reset()
		got, err := d.readBodyStructure(tt.extended)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", tt.name, diff)
		}
		if err := d.t.CRLF(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
}

func TestBodyStructureEncode(t *testing.T) {
	tests := []struct {
		b    *BodyStructure
		want string
	}{
		{nil, "NIL"},
		{&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Size: 3}, `("text" "plain" NIL NIL NIL NIL 3 0)`},
		{&BodyStructure{Type: msgB("image"), Subtype: msgB("png"), Params: msgPs("name", `a"b\c`), Size: 3, Extended: true, Language: msgStrs("en")},
			`("image" "png" ("name" "a\"b\\c") NIL NIL NIL 3 NIL NIL "en" NIL)`},
		{&BodyStructure{Type: msgB("text"), Subtype: msgB("plain"), Description: msgB("a\nb"), Size: 3, Lines: 1, Extended: true, Language: []Bytes{nil}, DispositionParams: msgPs("x", "y")},
			"(\"text\" \"plain\" NIL NIL {3}\r\na\nb NIL 3 1 NIL (NIL (\"x\" \"y\")) (NIL) NIL)"},
		{&BodyStructure{Type: msgB("message"), Subtype: msgB("rfc822"), Size: 3, Lines: 1, Body: &BodyStructure{Type: msgB("text"), Subtype: msgB("plain")}},
			`("message" "rfc822" NIL NIL NIL NIL 3 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL NIL 0 0) 1)`},
		{&BodyStructure{Type: msgMultipartType, Subtype: msgB("mixed"), Children: []*BodyStructure{{Type: msgB("a"), Subtype: msgB("b")}, {Type: msgB("c"), Subtype: msgB("d")}}},
			`(("a" "b" NIL NIL NIL NIL 0)("c" "d" NIL NIL NIL NIL 0) "mixed")`},
	}
	for _, tt := range tests {
		if got := string(appendBodyStructure(nil, tt.b)); got != tt.want {
			t.Errorf("appendBodyStructure:\n got %q\nwant %q", got, tt.want)
		}
	}
	long := strings.Repeat("x", msgExtOpts.MaxQuoted+1)
	if got := string(msgExtString(nil, []byte(long))); !strings.HasPrefix(got, "{4097}\r\nxxx") {
		t.Errorf("long string: got %.20q", got)
	}
	if got := string(msgExtString([]byte("a"), []byte{'b', 0})); got != "a{2}\r\nb\x00" {
		t.Errorf("NUL: got %q", got)
	}
	if got := string(appendEnvelope(nil, &Envelope{From: []Address{{Name: msgB("x")}}})); got != `(NIL NIL (("x" NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL)` {
		t.Errorf("appendEnvelope: got %q", got)
	}
}

// TestBodyStructureErrors: malformed input gives a syntax or limit error,
// never a panic.
func TestBodyStructureErrors(t *testing.T) {
	deep := strings.Repeat("(", 300) + `"text" "plain" NIL NIL NIL "7bit" 1 1` + strings.Repeat(")", 300)
	deepExt := `("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL ` + strings.Repeat("(", 300) + strings.Repeat(")", 301)
	deepMsg := strings.Repeat(`("message" "rfc822" NIL NIL NIL "7bit" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) `, 150) + "NIL" + strings.Repeat(" 1)", 150)
	tests := []struct {
		line  string
		limit bool
	}{
		{deep, true},
		{deepExt, true},
		{deepMsg, true},
		{`("text" "plain" NIL NIL NIL "7bit" abc 1)`, false},
		{`("text" "plain" NIL NIL NIL "7bit" 99999999999999999999 1)`, false},
		{`("text" "plain`, false},
		{`("text" "plain" NIL NIL NIL "7bit" 1 1 junk(`, false},
		{`("text" "plain" ("a" ("b")) NIL NIL "7bit" 1 1)`, false},
		{`("message" "rfc822" NIL NIL NIL "7bit" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "x" 1)`, false},
		{`(("text" "plain" NIL NIL NIL "7bit" 1 1) "mixed" NIL NIL NIL NIL {5}`, false},
		{`"text"`, false},
		{`(`, false},
		{`()`, false},
		{`(("a" "b" NIL NIL NIL NIL 1) "mixed" ("a" "b") ("x" "y" "z") NIL NIL NIL)`, false},
		{`("a" "b" NIL NIL NIL NIL 1 NIL NIL ("en" NIL NIL)`, false},
		{`("a" "b" "x"y NIL NIL NIL 1)`, false},
		{`("a" "b" ("name" "x"y)z") NIL NIL NIL 1)`, false},
		{`("a" "b" ("name" "x"y(z") NIL NIL NIL 1)`, false},
	}
	for _, tt := range tests {
		d := msgNewDecoder(tt.line, nil)
		b, err := d.readBodyStructure(true)
		if err == nil {
			if cerr := d.t.CRLF(); cerr == nil {
				t.Errorf("%.60q: no error, got %+v", tt.line, b)
				continue
			}
			continue // the caller sees the leftover bytes
		}
		var se *wire.SyntaxError
		var le *wire.LimitError
		switch {
		case tt.limit && !errors.Is(err, wire.ErrTooDeep):
			t.Errorf("%.60q: got %v, want ErrTooDeep", tt.line, err)
		case !errors.As(err, &se) && !errors.As(err, &le) && err != io.ErrUnexpectedEOF:
			t.Errorf("%.60q: got %T %v, want a *wire.SyntaxError", tt.line, err, err)
		}
	}
}

func TestBodyStructureDepthOption(t *testing.T) {
	line := `(((("text" "plain" NIL NIL NIL "7bit" 1 1) "a") "b") "c")`
	d := msgNewDecoder(line, &wire.TokenizerOptions{MaxDepth: 3})
	if _, err := d.readBodyStructure(true); !errors.Is(err, wire.ErrTooDeep) {
		t.Fatalf("MaxDepth 3: got %v, want ErrTooDeep", err)
	}
	d = msgNewDecoder(line, &wire.TokenizerOptions{MaxDepth: 4})
	if _, err := d.readBodyStructure(true); err != nil {
		t.Fatalf("MaxDepth 4: %v", err)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	for _, line := range []string{
		`("d" "s" (("a" NIL "b" "c" "x")) NIL NIL NIL NIL NIL NIL NIL)`,
		`("d" "s" ("a") NIL NIL NIL NIL NIL NIL NIL)`,
		`("d" "s" NIL NIL NIL NIL NIL NIL NIL NIL "extra")`,
		`(("d" "s" NIL NIL NIL NIL NIL NIL NIL NIL)`,
		`"envelope"`,
		`("d`,
		strings.Repeat("(", 200),
	} {
		d := msgNewDecoder(line, nil)
		_, err := d.readEnvelope()
		var se *wire.SyntaxError
		var le *wire.LimitError
		if !errors.As(err, &se) && !errors.As(err, &le) {
			t.Errorf("%.60q: got %T %v, want a *wire.SyntaxError", line, err, err)
		}
	}
}

// TestMessageDecodeOneByteReads: reads that stop in the middle of a token
// (one byte at a time) change nothing.
func TestMessageDecodeOneByteReads(t *testing.T) {
	for _, tt := range msgBodyTests {
		r := &msgOneByteReader{s: tt.line + "\r\n"}
		d := NewDecoder(wire.NewTokenizer(r, nil), nil)
		d.msg.reset()
		got, err := d.readBodyStructure(tt.extended)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

type msgOneByteReader struct{ s string }

func (r *msgOneByteReader) Read(p []byte) (int, error) {
	if len(r.s) == 0 {
		return 0, errors.New("EOF")
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

// msgRealisticLine is an ENVELOPE and a multipart BODYSTRUCTURE as a mail
// client's header fetch gets them from Dovecot.
const msgRealisticLine = `("Wed, 17 Jul 2024 02:23:25 +0200" "=?UTF-8?B?UmU6IMOcYmVyc2ljaHQgZGVyIMOEbmRlcnVuZ2Vu?=" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Mark Crispin" NIL "mrc" "panda.com")("Alexey Melnikov" NIL "alexey.melnikov" "isode.com")(NIL NIL "imap" "ietf.org")) (("Barry Leiba" NIL "barryleiba" "computer.org")) NIL "<1233.4353@panda.com>" "<1234.5432@cac.washington.edu>") ` +
	`((("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "quoted-printable" 1370 36 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 9823 203 NIL NIL NIL NIL) "alternative" ("boundary" "b1_5c1e8b0f2b7dd4a3") NIL NIL NIL)("application" "pdf" ("name" "invoice-2024-0042.pdf") NIL NIL "base64" 96512 NIL ("attachment" ("filename" "invoice-2024-0042.pdf" "size" "70530")) NIL NIL) "mixed" ("boundary" "----=_Part_1234_5678.1720000000000") NIL NIL NIL)`

// msgLineDecoder decodes msgRealisticLine again and again without
// allocating: the tokenizer is reset onto the same bytes.
type msgLineDecoder struct {
	line []byte
	r    *bytes.Reader
	d    *Decoder
}

func newMsgLineDecoder(line string) *msgLineDecoder {
	l := &msgLineDecoder{line: []byte(line + "\r\n"), r: bytes.NewReader(nil)}
	l.r.Reset(l.line)
	l.d = NewDecoder(wire.NewTokenizer(l.r, nil), nil)
	return l
}

func (l *msgLineDecoder) decode() (*Envelope, *BodyStructure, error) {
	l.r.Reset(l.line)
	t := l.d.t
	t.Reset(l.r)
	l.d.msg.reset()
	e, err := l.d.readEnvelope()
	if err != nil {
		return nil, nil, err
	}
	if err := t.SP(); err != nil {
		return nil, nil, err
	}
	b, err := l.d.readBodyStructure(true)
	if err != nil {
		return nil, nil, err
	}
	return e, b, t.CRLF()
}

func TestMessageDecodeAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("allocation counts are not meaningful under -cover")
	}
	l := newMsgLineDecoder(msgRealisticLine)
	for i := 0; i < 3; i++ { // grow the arena
		if _, _, err := l.decode(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := l.decode(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("decoding an ENVELOPE and a BODYSTRUCTURE allocates %v times; want 0", allocs)
	}
	e, b, _ := l.decode()
	if len(e.To) != 3 || len(b.Children) != 2 || len(b.Children[0].Children) != 2 || b.Children[1].Filename() != "invoice-2024-0042.pdf" {
		t.Fatalf("unexpected result: %+v %+v", e, b)
	}
	// Encoding into a buffer with room does not allocate either.
	buf := make([]byte, 0, 4096)
	allocs = testing.AllocsPerRun(100, func() {
		buf = appendBodyStructure(appendEnvelope(buf[:0], e), b)
	})
	if allocs != 0 {
		t.Fatalf("encoding allocates %v times; want 0", allocs)
	}
}

// TestMessageArenaReuse: values from one response are overwritten by the
// next (the documented contract), and Clone keeps them.
func TestMessageArenaReuse(t *testing.T) {
	d := NewDecoder(wire.NewTokenizer(strings.NewReader(msgDovecotAlternative+"\r\n"+msgCourierText+"\r\n"), nil), nil)
	d.msg.reset()
	first, err := d.readBodyStructure(true)
	if err != nil {
		t.Fatal(err)
	}
	kept := first.Clone()
	if err := d.t.CRLF(); err != nil {
		t.Fatal(err)
	}
	d.msg.reset()
	second, err := d.readBodyStructure(true)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("the arena did not reuse the first node")
	}
	if string(kept.Children[1].Subtype) != "html" || kept.Children[1].Size != 9823 {
		t.Errorf("clone changed: %+v", kept.Children[1])
	}
	// Appending to a handed-out slice never writes into the arena.
	d.msg.reset()
	d2 := NewDecoder(wire.NewTokenizer(strings.NewReader(msgDovecotAlternative+"\r\n"), nil), nil)
	d2.msg.reset()
	b, err := d2.readBodyStructure(true)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(b.Children, nil)
	_ = append(b.Children[0].Params, Param{})
	if b.Children[1] == nil || b.Children[1].Params[0].Name == nil {
		t.Fatalf("append wrote into the arena")
	}
	if cap(b.Children) != len(b.Children) || cap(b.Children[0].Params) != len(b.Children[0].Params) {
		t.Fatalf("slices are not capped")
	}
}

func TestMessageArenaLarge(t *testing.T) {
	// A large response grows the arena; the next reset drops oversized
	// storage.
	var sb strings.Builder
	sb.WriteString("(")
	for i := 0; i < 5000; i++ {
		sb.WriteString(`("text" "plain" ("a" "b" "c" "d") NIL NIL "7bit" 1 1 NIL NIL ("x" "y") NIL)`)
	}
	sb.WriteString(` "mixed")`)
	d := msgNewDecoder(sb.String(), nil)
	b, err := d.readBodyStructure(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Children) != 5000 || len(b.Children[4999].Params) != 2 || string(b.Children[4999].Language[1]) != "y" {
		t.Fatalf("large multipart decoded wrong")
	}
	seen := 0
	b.Walk(func(path []int, p *BodyStructure) bool { seen++; return true })
	if seen != 5001 {
		t.Fatalf("Walk saw %d parts", seen)
	}
	d.msg.reset()
	if n := len(d.msg.bodies.chunks); n > msgSlabKeep {
		t.Errorf("reset kept %d chunks", n)
	}
	if d.msg.kids != nil && cap(d.msg.kids) > msgArenaKeep {
		t.Errorf("reset kept %d children", cap(d.msg.kids))
	}
}

func TestEnvelopeMethods(t *testing.T) {
	e := msgDecodeEnvelope(t, `("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "=?ISO-8859-1?Q?Caf=E9_meeting?=" (("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.com")("Doe, John" NIL "john" "example.com")(NIL NIL "bare" "example.com")) NIL NIL ((NIL NIL "team" NIL)("A" NIL "a" "b")(NIL NIL NIL NIL)) NIL NIL NIL NIL)`)
	tm, err := e.Time()
	if err != nil || tm.Unix() != 837595405 {
		t.Errorf("Time: %v %v", tm, err)
	}
	if s, err := e.DecodedSubject(); err != nil || s != "Café meeting" {
		t.Errorf("DecodedSubject: %q %v", s, err)
	}
	if s, err := e.From[0].DecodedName(); err != nil || s != "Jörg" {
		t.Errorf("DecodedName: %q %v", s, err)
	}
	var got []string
	for _, l := range [][]Address{e.From, e.To} {
		for i := range l {
			got = append(got, l[i].String())
		}
	}
	want := []string{"Jörg <joerg@example.com>", `"Doe, John" <john@example.com>`, "bare@example.com", "team:", "A <a@b>", ";"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
	if s, err := (&Envelope{}).DecodedSubject(); s != "" || err != nil {
		t.Errorf("nil subject: %q %v", s, err)
	}
	if (*BodyStructure)(nil).Filename() != "" || (*BodyStructure)(nil).Part(1) != nil {
		t.Errorf("a nil body structure has a name or a part")
	}
	// A message whose FETCH response had no envelope (a flag update).
	var none *Envelope
	if s, err := none.DecodedSubject(); s != "" || err != nil {
		t.Errorf("nil envelope's subject: %q %v", s, err)
	}
	_, err0 := (&Envelope{}).Time()
	if _, err := none.Time(); err == nil || err.Error() != err0.Error() {
		t.Errorf("nil envelope's time: %v; want the NIL date's error %v", err, err0)
	}
	if (*Envelope)(nil).Clone() != nil || (*BodyStructure)(nil).Clone() != nil {
		t.Errorf("Clone of nil is not nil")
	}
	// The clone owns its memory.
	c := e.Clone()
	e.From[0].Mailbox[0] = 'X'
	if string(c.From[0].Mailbox) != "joerg" {
		t.Errorf("Clone shares memory")
	}
}

func TestBodyStructureWalkPart(t *testing.T) {
	b := msgDecodeBody(t, msgCyrusForward, true)
	type visit struct {
		path string
		typ  string
	}
	var got []visit
	b.Walk(func(path []int, p *BodyStructure) bool {
		got = append(got, visit{msgPathString(path), string(p.Type) + "/" + string(p.Subtype)})
		return true
	})
	want := []visit{
		{"", "multipart/mixed"},
		{"1", "text/plain"},
		{"2", "message/rfc822"},
		{"2", "multipart/related"},
		{"2.1", "text/plain"},
		{"2.2", "image/png"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(visit{})); diff != "" {
		t.Fatalf("Walk (-want +got):\n%s", diff)
	}
	// Returning false skips the children.
	n := 0
	b.Walk(func(path []int, p *BodyStructure) bool { n++; return len(path) == 0 })
	if n != 3 {
		t.Errorf("Walk with pruning visited %d parts, want 3", n)
	}
	for _, tt := range []struct {
		path []int
		want *BodyStructure
	}{
		{nil, b},
		{[]int{1}, b.Children[0]},
		{[]int{2}, b.Children[1]},
		{[]int{2, 1}, b.Children[1].Body.Children[0]},
		{[]int{2, 2}, b.Children[1].Body.Children[1]},
		{[]int{2, 3}, nil},
		{[]int{3}, nil},
		{[]int{1, 1}, nil},
		{[]int{0}, nil},
	} {
		if got := b.Part(tt.path...); got != tt.want {
			t.Errorf("Part(%v) = %p, want %p", tt.path, got, tt.want)
		}
	}
	// A non-multipart message is part 1; the body of a message/rfc822
	// that is not multipart is its part 1.
	single := msgDecodeBody(t, `("message" "rfc822" NIL NIL NIL "7bit" 300 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 10 1) 5)`, false)
	got = nil
	single.Walk(func(path []int, p *BodyStructure) bool {
		got = append(got, visit{msgPathString(path), string(p.Type) + "/" + string(p.Subtype)})
		return true
	})
	want = []visit{{"1", "message/rfc822"}, {"1.1", "text/plain"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(visit{})); diff != "" {
		t.Fatalf("Walk (-want +got):\n%s", diff)
	}
	if single.Part(1) != single || single.Part() != single || single.Part(1, 1) != single.Body {
		t.Errorf("Part on a single part")
	}
	var nilBody *BodyStructure
	nilBody.Walk(func([]int, *BodyStructure) bool { t.Fatal("called"); return true })
	if nilBody.Part(1) != nil {
		t.Errorf("Part on nil")
	}
}

func msgPathString(path []int) string {
	var sb strings.Builder
	for i, n := range path {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteByte(byte('0' + n))
	}
	return sb.String()
}

func TestBodyStructureFilename(t *testing.T) {
	tests := []struct {
		name string
		b    *BodyStructure
		want string
	}{
		{"none", &BodyStructure{}, ""},
		{"disposition", &BodyStructure{DispositionParams: msgPs("FileName", "a.pdf"), Params: msgPs("name", "b.pdf")}, "a.pdf"},
		{"name-param", &BodyStructure{Params: msgPs("charset", "x", "NAME", "b.pdf")}, "b.pdf"},
		{"rfc2047", &BodyStructure{Params: msgPs("name", "=?UTF-8?B?w6TDtsO8LnR4dA==?=")}, "äöü.txt"},
		{"rfc2231", &BodyStructure{DispositionParams: msgPs("filename", "fallback.txt", "filename*", "utf-8''r%C3%A9sum%C3%A9.pdf")}, "résumé.pdf"},
		{"rfc2231-latin1", &BodyStructure{DispositionParams: msgPs("filename*", "iso-8859-1'de'Gr%FC%DFe.txt")}, "Grüße.txt"},
		{"rfc2231-continuations", &BodyStructure{DispositionParams: msgPs("filename*1", "part two.txt", "filename*0*", "UTF-8''%E2%82%AC ")}, "€ part two.txt"},
		{"rfc2231-continuations-gap", &BodyStructure{DispositionParams: msgPs("filename*0", "a", "filename*2", "c")}, "a"},
		{"rfc2231-continuations-without-0", &BodyStructure{DispositionParams: msgPs("filename*1", "x", "filename", "plain.txt")}, "plain.txt"},
		{"rfc2231-continuations-repeated", &BodyStructure{DispositionParams: msgPs("filename*0", "a", "filename*0", "b", "filename*1", "c", "filename*01", "d")}, "ac"},
		{"rfc2231-no-charset", &BodyStructure{DispositionParams: msgPs("filename*", "a%20b")}, "a b"},
		{"rfc2231-unknown-charset", &BodyStructure{DispositionParams: msgPs("filename*", "x-nope''a%20b")}, "a b"},
		{"latin1-raw", &BodyStructure{Params: msgPs("name", "Gr\xfc\xdfe")}, "Grüße"},
		{"nil-value", &BodyStructure{DispositionParams: msgPs("filename", "NIL"), Params: msgPs("name", "n.txt")}, "n.txt"},
		{"bad-percent", &BodyStructure{DispositionParams: msgPs("filename*", "utf-8''100%.txt%zz%4")}, "100%.txt%zz%4"},
	}
	for _, tt := range tests {
		if got := tt.b.Filename(); got != tt.want {
			t.Errorf("%s: Filename() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestMessageViaDecoder decodes a whole FETCH response with Next.
func TestMessageViaDecoder(t *testing.T) {
	in := "* 1 FETCH (UID 7 ENVELOPE " + msgRFCEnvLine + " BODYSTRUCTURE " + msgGmailMixed + ")\r\n" +
		"* 2 FETCH (BODY " + `("text" "plain" NIL NIL NIL "7bit" -1 -1)` + " ENVELOPE NIL)\r\n"
	d := NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), nil)
	r, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	f, ok := r.(*Fetch)
	if !ok {
		t.Fatalf("got %T", r)
	}
	if diff := cmp.Diff(msgRFCEnvelope(), f.Envelope); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	if got := f.BodyStructure.Part(2).Filename(); got != "invoice 2024-01.pdf" {
		t.Errorf("filename %q", got)
	}
	r, err = d.Next()
	if err != nil {
		t.Fatal(err)
	}
	f = r.(*Fetch)
	if f.Envelope != nil || f.BodyStructure.Size != -1 || f.BodyStructure.Extended {
		t.Errorf("second FETCH: %+v %+v", f.Envelope, f.BodyStructure)
	}
}

// TestEnvelopeRepairQuadratic: a quoted string in an ENVELOPE or
// BODYSTRUCTURE whose closing quote is followed by something other than a
// delimiter ("a"b", 163.com's unescaped quotes) is repaired by
// msgRepairQuoted, which rewound and read the whole REST OF THE LINE with
// Text() for each such string. A line of n of them cost O(n * line): an
// ENVELOPE whose address list held 48,000 addresses ("a"b" as the
// mailbox), 960 KB (within the 1 MiB MaxLineLength), took 0.6 to 1 s, 10
// to 30 times what the same envelope with plain strings took; the time
// grew with the square of the line's length, and a server may send such
// lines one after the other. The repair looks no further than the
// string's end (as lenientQuoted does).
//
// What is counted is the work: the bytes of the line the repairs looked
// at (testHookRepairPeeks), at most the line's length (one reading of
// it), for lines of 1,500 and 12,000 such addresses, each address
// repaired once and decoded as sent. The test compared CPU times (x8 the
// line against x24 the time, and against plain strings), which a loaded
// machine's collector and caches could stretch. Serial: it sets a
// package variable.
func TestEnvelopeRepairQuadratic(t *testing.T) {
	gen := func(n int) []byte {
		return []byte("* 1 FETCH (UID 1 ENVELOPE (NIL \"s\" (" + strings.Repeat(`(NIL NIL "a"b" "h") `, n) + ") NIL NIL NIL NIL NIL NIL NIL))\r\n")
	}
	var repairs, peeks int
	testHookRepairPeeks = func(n int) { repairs++; peeks += n }
	t.Cleanup(func() { testHookRepairPeeks = nil })
	for _, n := range []int{1500, 12000} {
		repairs, peeks = 0, 0
		line := gen(n)
		d := NewDecoder(wire.NewTokenizer(bytes.NewReader(line), nil), nil)
		r, err := d.Next()
		if err != nil {
			t.Fatalf("%d addresses: %v", n, err)
		}
		f, ok := r.(*Fetch)
		if !ok || f.Envelope == nil || len(f.Envelope.From) != n || string(f.Envelope.From[n-1].Mailbox) != `a"b` {
			t.Fatalf("%d addresses: %#v; want an ENVELOPE of %d From addresses, mailbox a\"b", n, r, n)
		}
		t.Logf("%6d addresses, %7d bytes: %d repairs looked at %d bytes (%.2f a byte of the line)", n, len(line), repairs, peeks, float64(peeks)/float64(len(line)))
		if repairs != n {
			t.Fatalf("%d addresses: %d repairs; want one each", n, repairs)
		}
		if peeks > len(line) {
			t.Errorf("repairing the quoted strings of one line costs super-linear work: the %d repairs of a %d-byte line looked at %d bytes; want at most the line's length (each repair as far as its string's end)", n, len(line), peeks)
		}
	}
}

// TestBodyStructureManyParts (audit 41): the arena that hands out the
// BodyStructure values of a response (msgSlab) sizes its next chunk as
// 4 << len(chunks), capped at 256. Past 61 chunks the shift overflows
// (4<<61 is negative, 4<<62 is 0) and make panics: a BODYSTRUCTURE of a
// multipart with about 14,400 parts, 600 KB on one line (within the 1 MiB
// MaxLineLength), panics the decoder with the default options. In a
// session the decoder runs on the reader goroutine: the user's process
// dies. It should decode (or fail with a typed error).
func TestBodyStructureManyParts(t *testing.T) {
	const parts = 15000
	part := `("text" "plain" NIL NIL NIL "7bit" 1 1)`
	line := "* 1 FETCH (UID 7 BODYSTRUCTURE (" + strings.Repeat(part, parts) + ` "mixed"))` + "\r\n"
	t.Logf("one FETCH line of %d bytes (MaxLineLength %d)", len(line), wire.DefaultMaxLineLength)
	d := NewDecoder(wire.NewTokenizer(bytes.NewReader([]byte(line)), nil), nil)
	var r Response
	var err error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		r, err = d.Next()
		return nil
	}()
	if panicked != nil {
		t.Fatalf("decoding a BODYSTRUCTURE of %d parts panicked: %v", parts, panicked)
	}
	if err != nil {
		t.Logf("typed error: %v", err)
		return
	}
	f := r.(*Fetch)
	if got := len(f.BodyStructure.Children); got != parts {
		t.Errorf("got %d parts; want %d", got, parts)
	}
}

// TestEnvelopeMany: the same with the envelopes (msgArena.envs,
// the same msgSlab): a FETCH that repeats ENVELOPE 15,000 times (750 KB,
// within MaxLineLength) panics too.
func TestEnvelopeMany(t *testing.T) {
	const n = 15000
	line := fmt.Sprintf("* 1 FETCH (UID 7%s)\r\n", strings.Repeat(" ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", n))
	t.Logf("one FETCH line of %d bytes", len(line))
	d := NewDecoder(wire.NewTokenizer(bytes.NewReader([]byte(line)), nil), nil)
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_, err := d.Next()
		if err != nil {
			t.Logf("typed error: %v", err)
		}
		return nil
	}()
	if panicked != nil {
		t.Fatalf("decoding a FETCH of %d ENVELOPEs panicked: %v", n, panicked)
	}
}
