package codec_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the seed corpora under testdata/fuzz from testdata/quirks")

// A capture is one file of testdata/quirks: what a server sent, as bytes.
type capture struct {
	name string           // the file name without .txt, e.g. "dovecot"
	data []byte           // the bytes on the wire
	bad  map[int64]string // offsets of deliberately undecodable responses, and why
}

// parseCapture turns a capture file into wire bytes. Lines starting with
// "#" are comments, except "#! error: reason", which marks the next
// response as undecodable. Every other line ends in CRLF on the wire
// (literals included: their lines are counted with their CRLFs).
func parseCapture(name string, text []byte) capture {
	c := capture{name: name, bad: map[int64]string{}}
	for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		if reason, ok := strings.CutPrefix(l, "#! error"); ok {
			c.bad[int64(len(c.data))] = strings.TrimSpace(strings.TrimPrefix(reason, ":"))
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		c.data = append(c.data, l...)
		c.data = append(c.data, '\r', '\n')
	}
	return c
}

// loadCaptures reads every file of testdata/quirks.
func loadCaptures(tb testing.TB) []capture {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "quirks", "*.txt"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no captures in testdata/quirks (%v)", err)
	}
	var cs []capture
	for _, name := range names {
		text, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		cs = append(cs, parseCapture(strings.TrimSuffix(filepath.Base(name), ".txt"), text))
	}
	return cs
}

// A decoded is one response of a capture.
type decoded struct {
	off  int64
	raw  []byte         // the response's bytes, CRLF included
	resp codec.Response // a clone; nil when err is set
	err  error
}

// decodeCapture decodes data with the default limits and returns every
// response with its raw bytes. It stops at io.EOF or at an error that is
// not a *codec.DecodeError, which it returns.
func decodeCapture(data []byte) ([]decoded, error) {
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(data), nil), nil)
	var out []decoded
	for {
		off := d.Tokenizer().Offset()
		r, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		var de *codec.DecodeError
		if err != nil && !errors.As(err, &de) {
			return out, err
		}
		end := d.Tokenizer().Offset()
		out = append(out, decoded{off: off, raw: data[off:end], resp: codec.CloneResponse(r), err: err})
	}
}

// TestQuirkCaptures decodes every capture: every response decodes except
// the ones marked "#! error", which give a *codec.DecodeError after which
// the next response decodes; every decoded response survives the round
// trip through AppendResponse.
func TestQuirkCaptures(t *testing.T) {
	servers := map[string]bool{}
	for _, c := range loadCaptures(t) {
		servers[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			rs, err := decodeCapture(c.data)
			if err != nil {
				t.Fatalf("the capture does not end cleanly: %v", err)
			}
			seen := map[int64]bool{}
			kinds := map[string]bool{}
			for i, r := range rs {
				reason, bad := c.bad[r.off]
				switch {
				case bad && r.err == nil:
					t.Errorf("offset %d: %q decoded to %#v; want an error (%s)", r.off, r.raw, r.resp, reason)
				case bad:
					seen[r.off] = true
					var de *codec.DecodeError
					if !errors.As(r.err, &de) || de.Offset != r.off {
						t.Errorf("offset %d: error %v is not a *codec.DecodeError at that offset", r.off, r.err)
					}
					if i+1 < len(rs) && rs[i+1].err != nil {
						t.Errorf("offset %d: the response after an undecodable one failed too: %v", rs[i+1].off, rs[i+1].err)
					}
				case r.err != nil:
					t.Errorf("offset %d: %q: %v", r.off, r.raw, r.err)
				default:
					kinds[fmt.Sprintf("%T", r.resp)] = true
					checkRoundTrip(t, r.resp)
				}
			}
			for off, reason := range c.bad {
				if !seen[off] {
					t.Errorf("no undecodable response at offset %d (%s)", off, reason)
				}
			}
			// Each capture is a whole session.
			for _, k := range []string{"*codec.Status", "*codec.Fetch", "*codec.List", "*codec.MailboxStatus"} {
				if !kinds[k] {
					t.Errorf("the capture has no %s", k)
				}
			}
		})
	}
	for _, s := range []string{"dovecot", "cyrus", "gmail", "outlook", "yahoo", "icloud", "qq", "163", "mailru", "yandex", "zoho", "domino", "courier", "uw"} {
		if !servers[s] {
			t.Errorf("no capture for %s", s)
		}
	}
}

// quirks records what each server quirk of the captures decodes to. Every
// line must appear in its capture.
var quirks = []struct {
	name, capture, line string
	want                codec.Response
}{
	{"Outlook: space after the STATUS list", "outlook",
		"* STATUS INBOX (MESSAGES 12 UNSEEN 2) \r\n",
		&codec.MailboxStatus{Mailbox: b("INBOX"), Items: codec.StatusMessages | codec.StatusUnseen, Messages: 12, Unseen: 2}},
	{"qq.com: space at the end of CAPABILITY", "qq",
		"* CAPABILITY IMAP4 IMAP4rev1 XLIST MOVE IDLE XAPPLEPUSHSERVICE NAMESPACE CHILDREN ID UIDPLUS \r\n",
		&codec.Capability{Caps: bs("IMAP4", "IMAP4rev1", "XLIST", "MOVE", "IDLE", "XAPPLEPUSHSERVICE", "NAMESPACE", "CHILDREN", "ID", "UIDPLUS")}},
	{"qq.com: space at the end of SEARCH", "qq",
		"* SEARCH 1 2 3 \r\n", &codec.Search{Nums: []uint32{1, 2, 3}}},
	{"qq.com: spaces inside FLAGS", "qq",
		"* FLAGS ( \\Answered \\Seen \\Deleted \\Draft \\Flagged )\r\n",
		&codec.Flags{Flags: bs(`\Answered`, `\Seen`, `\Deleted`, `\Draft`, `\Flagged`)}},
	{"qq.com: lower-case response code", "qq",
		"* OK [unseen 2] First unseen\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeUnseen, Name: b("unseen"), Num: 2}, Text: b("First unseen")}},
	{"qq.com: ID NIL", "qq", "* ID NIL\r\n", &codec.ID{}},
	{"Domino: PERMANENTFLAGS ( \\*)", "domino",
		"* OK [PERMANENTFLAGS ( \\*)] Limited\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodePermanentFlags, Name: b("PERMANENTFLAGS"), Flags: bs(`\*`)}, Text: b("Limited")}},
	{"Domino: spaces in an empty flag list, envelope in double parentheses", "domino",
		`* 2 FETCH (UID 41 FLAGS ( ) ENVELOPE (("Thu, 2 Jul 2026 11:00:00 +0200" "Re: Status report" (("Karl" NIL "karl" "acme.example")) (("Karl" NIL "karl" "acme.example")) (("Karl" NIL "karl" "acme.example")) (("Judy" NIL "judy" "acme.example")) NIL NIL "<OF1234.ABCD@acme.example>" "<OF5678.EF01@acme.example>")))` + "\r\n",
		&codec.Fetch{Seq: 2, Has: codec.FetchUID | codec.FetchFlags | codec.FetchEnvelope, UID: 41, Envelope: &codec.Envelope{
			Date: b("Thu, 2 Jul 2026 11:00:00 +0200"), Subject: b("Re: Status report"),
			From: addrs("Karl", "karl", "acme.example"), Sender: addrs("Karl", "karl", "acme.example"), ReplyTo: addrs("Karl", "karl", "acme.example"),
			To: addrs("Judy", "judy", "acme.example"), InReplyTo: b("<OF1234.ABCD@acme.example>"), MessageID: b("<OF5678.EF01@acme.example>")}}},
	{"Domino: backslash as the hierarchy delimiter", "domino",
		`* LIST (\HasNoChildren) "\\" "Projects\\Alpha"` + "\r\n",
		&codec.List{Attrs: bs(`\HasNoChildren`), Delim: '\\', Mailbox: b(`Projects\Alpha`)}},
	{"Exchange: RFC822.SIZE -1 and body sizes -1", "outlook",
		`* 11 FETCH (UID 213 FLAGS () INTERNALDATE "09-Jul-2026 16:41:07 +0000" RFC822.SIZE -1 ENVELOPE ("Thu, 9 Jul 2026 16:41:02 +0000" "Weekly sync" (("Grace Hopper" NIL "grace" "contoso.com")) (("Grace Hopper" NIL "grace" "contoso.com")) (("Grace Hopper" NIL "grace" "contoso.com")) (("Team" NIL "team" "contoso.com")) NIL NIL NIL "<BY5PR11MB1234.namprd11.prod.outlook.com>") BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "quoted-printable" -1 -1 NIL NIL NIL NIL)("text" "calendar" ("charset" "utf-8" "method" "REQUEST") NIL NIL "base64" -1 -1 NIL NIL NIL NIL) "alternative" ("boundary" "_000_BY5PR11MB1234_") NIL NIL NIL))` + "\r\n",
		&codec.Fetch{Seq: 11, Has: codec.FetchUID | codec.FetchFlags | codec.FetchInternalDate | codec.FetchRFC822Size | codec.FetchEnvelope | codec.FetchBodyStructure,
			UID: 213, InternalDate: b("09-Jul-2026 16:41:07 +0000"), RFC822Size: -1,
			Envelope: &codec.Envelope{Date: b("Thu, 9 Jul 2026 16:41:02 +0000"), Subject: b("Weekly sync"),
				From: addrs("Grace Hopper", "grace", "contoso.com"), Sender: addrs("Grace Hopper", "grace", "contoso.com"), ReplyTo: addrs("Grace Hopper", "grace", "contoso.com"),
				To: addrs("Team", "team", "contoso.com"), MessageID: b("<BY5PR11MB1234.namprd11.prod.outlook.com>")},
			BodyStructure: &codec.BodyStructure{Type: b("multipart"), Subtype: b("alternative"), Extended: true,
				MultipartParams: []codec.Param{{Name: b("boundary"), Value: b("_000_BY5PR11MB1234_")}},
				Children: []*codec.BodyStructure{
					{Type: b("text"), Subtype: b("plain"), Params: []codec.Param{{Name: b("charset"), Value: b("us-ascii")}}, Encoding: b("quoted-printable"), Size: -1, Lines: -1, Extended: true},
					{Type: b("text"), Subtype: b("calendar"), Params: []codec.Param{{Name: b("charset"), Value: b("utf-8")}, {Name: b("method"), Value: b("REQUEST")}}, Encoding: b("base64"), Size: -1, Lines: -1, Extended: true},
				}}}},
	{"Exchange: NIL as a body subtype", "outlook",
		`* 12 FETCH (UID 214 FLAGS (\Seen) INTERNALDATE "10-Jul-2026 07:00:00 +0000" RFC822.SIZE 2311 ENVELOPE ("Fri, 10 Jul 2026 07:00:00 +0000" "Your meeting" (("Grace Hopper" NIL "grace" "contoso.com")) (("Grace Hopper" NIL "grace" "contoso.com")) (("Grace Hopper" NIL "grace" "contoso.com")) NIL NIL NIL NIL "<meeting@contoso.com>") BODYSTRUCTURE ("application" NIL NIL NIL NIL "7bit" 2048 NIL NIL NIL NIL))` + "\r\n",
		&codec.Fetch{Seq: 12, Has: codec.FetchUID | codec.FetchFlags | codec.FetchInternalDate | codec.FetchRFC822Size | codec.FetchEnvelope | codec.FetchBodyStructure,
			UID: 214, Flags: bs(`\Seen`), InternalDate: b("10-Jul-2026 07:00:00 +0000"), RFC822Size: 2311,
			Envelope: &codec.Envelope{Date: b("Fri, 10 Jul 2026 07:00:00 +0000"), Subject: b("Your meeting"),
				From: addrs("Grace Hopper", "grace", "contoso.com"), Sender: addrs("Grace Hopper", "grace", "contoso.com"), ReplyTo: addrs("Grace Hopper", "grace", "contoso.com"),
				MessageID: b("<meeting@contoso.com>")},
			BodyStructure: &codec.BodyStructure{Type: b("application"), Encoding: b("7bit"), Size: 2048, Extended: true}}},
	{"mail.ru: BODYSTRUCTURE parts that stop after the size", "mailru",
		`* 3 FETCH (UID 86 BODYSTRUCTURE ("application" "pdf" ("name" "scan.pdf") NIL NIL "base64" 48213))` + "\r\n",
		&codec.Fetch{Seq: 3, Has: codec.FetchUID | codec.FetchBodyStructure, UID: 86,
			BodyStructure: &codec.BodyStructure{Type: b("application"), Subtype: b("pdf"), Params: []codec.Param{{Name: b("name"), Value: b("scan.pdf")}},
				Encoding: b("base64"), Size: 48213, Extended: true}}},
	{"mail.ru: lower-case response names", "mailru",
		"* 4 exists\r\n", &codec.Exists{Count: 4}},
	{"mail.ru: lower-case status and code", "mailru",
		"* ok [uidnext 88] Predicted next UID\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeUIDNext, Name: b("uidnext"), Num: 88}, Text: b("Predicted next UID")}},
	{"mail.ru: lower-case BYE", "mailru",
		"* bye IMAP4rev1 Server logging out\r\n", &codec.Status{Kind: codec.StatusBYE, Text: b("IMAP4rev1 Server logging out")}},
	{"Gmail: bare ESEARCH for an empty result", "gmail",
		"* ESEARCH\r\n", &codec.ESearch{}},
	{"Gmail: keyword with brackets in FLAGS", "gmail",
		"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing $Label[test] Junk NonJunk)\r\n",
		&codec.Flags{Flags: bs(`\Answered`, `\Flagged`, `\Draft`, `\Deleted`, `\Seen`, `$NotPhishing`, `$Phishing`, `$Label[test]`, `Junk`, `NonJunk`)}},
	{"Gmail: code without text, 63-bit HIGHESTMODSEQ", "gmail",
		"* OK [HIGHESTMODSEQ 9223372036854775807]\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeHighestModSeq, Name: b("HIGHESTMODSEQ"), Num: 9223372036854775807}, Text: b("")}},
	{"Gmail: greeting without a code", "gmail",
		"* OK Gimap ready for requests from 203.0.113.7 k2mb1234567qkb\r\n",
		&codec.Status{Kind: codec.StatusOK, Text: b("Gimap ready for requests from 203.0.113.7 k2mb1234567qkb")}},
	{"Gmail: empty X-GM-LABELS, 63-bit MODSEQ", "gmail",
		"* 2 FETCH (X-GM-THRID 1266894439832287999 X-GM-MSGID 1278455344230335000 X-GM-LABELS () UID 5 MODSEQ (9223372036854775807) FLAGS ())\r\n",
		&codec.Fetch{Seq: 2, Has: codec.FetchGmailThreadID | codec.FetchGmailMsgID | codec.FetchGmailLabels | codec.FetchUID | codec.FetchModSeq | codec.FetchFlags,
			GmailThreadID: 1266894439832287999, GmailMsgID: 1278455344230335000, UID: 5, ModSeq: 9223372036854775807}},
	{"Gmail: labels", "gmail",
		"* 2 FETCH (X-GM-LABELS (\\Inbox Work) UID 5)\r\n",
		&codec.Fetch{Seq: 2, Has: codec.FetchGmailLabels | codec.FetchUID, GmailLabels: bs(`\Inbox`, "Work"), UID: 5}},
	// Past 2^63-1 (RFC 7162's bound, which a client could not send back
	// in QRESYNC or CHANGEDSINCE): the status decodes, the code is text
	// (TestModSeqPast63Bits).
	{"Cyrus: 64-bit HIGHESTMODSEQ", "cyrus",
		"* OK [HIGHESTMODSEQ 18446744073709551615] Ok\r\n",
		&codec.Status{Kind: codec.StatusOK, Text: b("[HIGHESTMODSEQ 18446744073709551615] Ok")}},
	{"Cyrus: unknown code kept raw", "cyrus",
		"* OK [URLMECH INTERNAL] Ok\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeOther, Name: b("URLMECH"), Raw: b("INTERNAL")}, Text: b("Ok")}},
	{"Cyrus: LIST with OLDNAME", "cyrus",
		"* LIST () \".\" INBOX.renamed (\"OLDNAME\" (\"INBOX.previous\"))\r\n",
		&codec.List{Delim: '.', Mailbox: b("INBOX.renamed"), OldName: b("INBOX.previous")}},
	{"Cyrus: METADATA MAXSIZE", "cyrus",
		"A014 NO [METADATA MAXSIZE 1024] Value too large\r\n",
		&codec.Status{Tag: b("A014"), Kind: codec.StatusNO, Code: &codec.Code{Kind: codec.CodeMetadata, Name: b("METADATA"), Sub: b("MAXSIZE"), Num: 1024}, Text: b("Value too large")}},
	{"Zoho: MODSEQ (-1) is no mod-sequence", "zoho",
		"* 2 FETCH (UID 1500000002 MODSEQ (-1) FLAGS ())\r\n",
		&codec.Fetch{Seq: 2, Has: codec.FetchUID | codec.FetchModSeq | codec.FetchFlags, UID: 1500000002}},
	{"Zoho: UIDNEXT beyond 32 bits in a code", "zoho",
		"* OK [UIDNEXT 1500000000004] Predicted next UID\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeUIDNext, Name: b("UIDNEXT"), Num: 1500000000004}, Text: b("Predicted next UID")}},
	{"Yandex: BYE twice", "yandex",
		"* BYE IMAP4rev1 Server logging out\r\n* BYE IMAP4rev1 Server logging out\r\n",
		&codec.Status{Kind: codec.StatusBYE, Text: b("IMAP4rev1 Server logging out")}},
	{"Yandex: code without text", "yandex",
		"* OK [UNSEEN 5]\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeUnseen, Name: b("UNSEEN"), Num: 5}, Text: b("")}},
	{"163.com: unescaped quotes in BODYSTRUCTURE parameters", "163",
		`* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 18203 INTERNALDATE "06-Jul-2026 15:20:00 +0800" ENVELOPE ("Mon, 6 Jul 2026 15:20:00 +0800" "Fw: Q3 plan" (("Li Wei" NIL "liwei" "163.com")) (("Li Wei" NIL "liwei" "163.com")) (("Li Wei" NIL "liwei" "163.com")) ((NIL NIL "team" "163.com")) NIL NIL NIL "<5f2a.1@163.com>") BODYSTRUCTURE (("text" "plain" ("charset" "GBK") NIL NIL "base64" 820 11 NIL NIL NIL NIL)("application" "octet-stream" ("name" ""Q3 plan".docx") NIL NIL "base64" 16904 NIL ("attachment" ("filename" ""Q3 plan".docx")) NIL NIL) "mixed" ("boundary" "----=_Part_1_2.3") NIL NIL NIL))` + "\r\n",
		&codec.Fetch{Seq: 1, Has: codec.FetchUID | codec.FetchFlags | codec.FetchRFC822Size | codec.FetchInternalDate | codec.FetchEnvelope | codec.FetchBodyStructure,
			UID: 1, RFC822Size: 18203, InternalDate: b("06-Jul-2026 15:20:00 +0800"),
			Envelope: &codec.Envelope{Date: b("Mon, 6 Jul 2026 15:20:00 +0800"), Subject: b("Fw: Q3 plan"),
				From: addrs("Li Wei", "liwei", "163.com"), Sender: addrs("Li Wei", "liwei", "163.com"), ReplyTo: addrs("Li Wei", "liwei", "163.com"),
				To: []codec.Address{{Mailbox: b("team"), Host: b("163.com")}}, MessageID: b("<5f2a.1@163.com>")},
			BodyStructure: &codec.BodyStructure{Type: b("multipart"), Subtype: b("mixed"), Extended: true,
				MultipartParams: []codec.Param{{Name: b("boundary"), Value: b("----=_Part_1_2.3")}},
				Children: []*codec.BodyStructure{
					{Type: b("text"), Subtype: b("plain"), Params: []codec.Param{{Name: b("charset"), Value: b("GBK")}}, Encoding: b("base64"), Size: 820, Lines: 11, Extended: true},
					{Type: b("application"), Subtype: b("octet-stream"), Params: []codec.Param{{Name: b("name"), Value: b(`"Q3 plan".docx`)}}, Encoding: b("base64"), Size: 16904, Extended: true,
						Disposition: b("attachment"), DispositionParams: []codec.Param{{Name: b("filename"), Value: b(`"Q3 plan".docx`)}}},
				}}}},
	{"Yahoo: NIL where a body encoding and an address host belong", "yahoo",
		`* 52 FETCH (UID 6389 RFC822.SIZE 3021 FLAGS () INTERNALDATE "10-Jul-2026 12:00:00 +0000" ENVELOPE ("Fri, 10 Jul 2026 12:00:00 +0000" "Your statement is ready" (("Bank" NIL "no-reply" "bank.example")) (("Bank" NIL "no-reply" "bank.example")) (("Bank" NIL "no-reply" NIL)) (("" NIL "me" "yahoo.com")) NIL NIL NIL "<stmt-2026-07@bank.example>") BODYSTRUCTURE ("text" "html" ("charset" "UTF-8") NIL NIL NIL 2811 42 NIL NIL NIL NIL) MODSEQ (4815162342))` + "\r\n",
		&codec.Fetch{Seq: 52, Has: codec.FetchUID | codec.FetchRFC822Size | codec.FetchFlags | codec.FetchInternalDate | codec.FetchEnvelope | codec.FetchBodyStructure | codec.FetchModSeq,
			UID: 6389, RFC822Size: 3021, InternalDate: b("10-Jul-2026 12:00:00 +0000"), ModSeq: 4815162342,
			Envelope: &codec.Envelope{Date: b("Fri, 10 Jul 2026 12:00:00 +0000"), Subject: b("Your statement is ready"),
				From: addrs("Bank", "no-reply", "bank.example"), Sender: addrs("Bank", "no-reply", "bank.example"),
				ReplyTo: []codec.Address{{Name: b("Bank"), Mailbox: b("no-reply")}},
				To:      []codec.Address{{Name: b(""), Mailbox: b("me"), Host: b("yahoo.com")}}, MessageID: b("<stmt-2026-07@bank.example>")},
			BodyStructure: &codec.BodyStructure{Type: b("text"), Subtype: b("html"), Params: []codec.Param{{Name: b("charset"), Value: b("UTF-8")}}, Size: 2811, Lines: 42, Extended: true}}},
	{"UW: NIL hierarchy delimiter", "uw",
		"* LIST (\\NoInferiors) NIL INBOX\r\n",
		&codec.List{Attrs: bs(`\NoInferiors`), Mailbox: b("INBOX")}},
	{"UW: \\* first in PERMANENTFLAGS", "uw",
		"* OK [PERMANENTFLAGS (\\* \\Answered \\Flagged \\Deleted \\Draft \\Seen)] Permanent flags\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodePermanentFlags, Name: b("PERMANENTFLAGS"), Flags: bs(`\*`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `\Seen`)}, Text: b("Permanent flags")}},
	{"UW: literal in RFC822.HEADER", "uw",
		"* 3 FETCH (RFC822.HEADER {78}\r\nDate: Fri, 10 Jul 2026 10:00:00 +0200\r\nFrom: Mark <mrc@washington.example>\r\n\r\n)\r\n",
		&codec.Fetch{Seq: 3, Sections: []codec.Section{{Kind: codec.SectionRFC822Header, Data: b("Date: Fri, 10 Jul 2026 10:00:00 +0200\r\nFrom: Mark <mrc@washington.example>\r\n\r\n"), Size: 78}}}},
	{"iCloud: greeting text with brackets after the code", "icloud",
		"* OK [CAPABILITY XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR AUTH=ATOKEN AUTH=PLAIN AUTH=XOAUTH2] iCloud IMAP4 service is ready (st44p00im-qfsd12345 25B149 [17:1]) mr34p00im-ztdg05120101.me.com\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeCapability, Name: b("CAPABILITY"), Caps: bs("XAPPLEPUSHSERVICE", "IMAP4", "IMAP4rev1", "SASL-IR", "AUTH=ATOKEN", "AUTH=PLAIN", "AUTH=XOAUTH2")},
			Text: b("iCloud IMAP4 service is ready (st44p00im-qfsd12345 25B149 [17:1]) mr34p00im-ztdg05120101.me.com")}},
	{"iCloud: THREAD with a placeholder parent", "icloud",
		"* THREAD ((5)(6))(7)\r\n",
		&codec.Thread{Threads: []*codec.ThreadNode{{Children: []*codec.ThreadNode{{Num: 5}, {Num: 6}}}, {Num: 7}}}},
	{"Courier: ACL with a negative right", "courier",
		"* ACL INBOX owner aceilrstwx administrators aceilrstwx anyone -aceilrstwx\r\n",
		&codec.ACL{Mailbox: b("INBOX"), Entries: []codec.ACLEntry{{Identifier: b("owner"), Rights: b("aceilrstwx")}, {Identifier: b("administrators"), Rights: b("aceilrstwx")}, {Identifier: b("anyone"), Rights: b("-aceilrstwx")}}}},
	{"Courier: unknown code with a quoted argument", "courier",
		"* OK [MYRIGHTS \"acdilrsw\"] ACL\r\n",
		&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeOther, Name: b("MYRIGHTS"), Raw: b(`"acdilrsw"`)}, Text: b("ACL")}},
	{"Dovecot: VANISHED (EARLIER) during SELECT", "dovecot",
		"* VANISHED (EARLIER) 90:95,99\r\n", &codec.Vanished{Earlier: true, UIDs: mustSet("90:95,99")}},
}

// addrs returns a one-address list.
func addrs(name, mailbox, host string) []codec.Address {
	return []codec.Address{{Name: b(name), Mailbox: b(mailbox), Host: b(host)}}
}

func TestQuirkTable(t *testing.T) {
	caps := map[string][]byte{}
	for _, c := range loadCaptures(t) {
		caps[c.name] = c.data
	}
	for _, q := range quirks {
		t.Run(q.name, func(t *testing.T) {
			data, ok := caps[q.capture]
			if !ok {
				t.Fatalf("no capture %q", q.capture)
			}
			if !bytes.Contains(data, []byte(q.line)) {
				t.Fatalf("capture %s does not hold %q", q.capture, q.line)
			}
			rs, err := decodeCapture([]byte(q.line))
			if err != nil || len(rs) == 0 {
				t.Fatalf("decoding %q: %v", q.line, err)
			}
			for _, r := range rs {
				if r.err != nil {
					t.Fatalf("decoding %q: %v", r.raw, r.err)
				}
				if diff := cmp.Diff(q.want, r.resp, cmpOpts...); diff != "" {
					t.Errorf("decode %q (-want +got):\n%s", r.raw, diff)
				}
			}
		})
	}
}

// fuzzSeeds builds the seed corpora of the fuzz targets from the captures:
// file name -> file content, per target.
func fuzzSeeds(tb testing.TB) map[string]map[string][]byte {
	seeds := map[string]map[string][]byte{
		"FuzzDecodeStream": {}, "FuzzValueList": {}, "FuzzValueStatus": {},
		"FuzzValueESearch": {}, "FuzzValueFetch": {},
	}
	add := func(target, name, kind string, v []byte) {
		lit := strconv.Quote(string(v))
		if kind == "[]byte" {
			lit = "[]byte(" + lit + ")"
		} else {
			lit = "string(" + lit + ")"
		}
		seeds[target][name] = []byte("go test fuzz v1\n" + lit + "\n")
	}
	for _, c := range loadCaptures(tb) {
		rs, err := decodeCapture(c.data)
		if err != nil {
			tb.Fatalf("%s: %v", c.name, err)
		}
		// The stream seeds are runs of a few responses: small inputs keep
		// the fuzzer fast, and minimizing them cheap.
		const run = 6
		for i := 0; i < len(rs); i += run {
			j := min(i+run, len(rs))
			end := rs[j-1].off + int64(len(rs[j-1].raw))
			add("FuzzDecodeStream", fmt.Sprintf("%s-%d", c.name, i/run+1), "[]byte", c.data[rs[i].off:end])
		}
		n := map[string]int{}
		var seen [][]byte
		for _, r := range rs {
			if slices.ContainsFunc(seen, func(s []byte) bool { return bytes.Equal(s, r.raw) }) {
				continue
			}
			seen = append(seen, r.raw)
			line := strings.TrimSuffix(string(r.raw), "\r\n")
			upper := strings.ToUpper(line)
			for _, v := range []struct{ target, prefix string }{
				{"FuzzValueList", "* LIST "}, {"FuzzValueStatus", "* STATUS "}, {"FuzzValueESearch", "* ESEARCH "},
			} {
				if strings.HasPrefix(upper, v.prefix) {
					n[v.target]++
					add(v.target, fmt.Sprintf("%s-%d", c.name, n[v.target]), "string", []byte(line[len(v.prefix):]))
				}
			}
			if i := strings.Index(upper, " FETCH ("); strings.HasPrefix(line, "* ") && i > 0 && strings.HasSuffix(line, ")") {
				n["FuzzValueFetch"]++
				add("FuzzValueFetch", fmt.Sprintf("%s-%d", c.name, n["FuzzValueFetch"]), "string", []byte(line[i+len(" FETCH ("):len(line)-1]))
			}
		}
	}
	return seeds
}

// TestFuzzSeeds checks that the seed corpora under testdata/fuzz match the
// captures; go test -run TestFuzzSeeds -update-fuzz-seeds rewrites them.
// Other files in those directories (crashers the fuzzers found) are left
// alone.
func TestFuzzSeeds(t *testing.T) {
	for target, files := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateFuzzSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			// Remove stale seeds of captures that changed.
			old, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, f := range old {
				base := filepath.Base(f)
				if _, ok := files[base]; !ok && isSeedName(base) {
					os.Remove(f)
				}
			}
		}
		for name, want := range files {
			path := filepath.Join(dir, name)
			if *updateFuzzSeeds {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale; run go test -run TestFuzzSeeds -update-fuzz-seeds ./codec", path)
			}
		}
	}
}

// isSeedName reports file names that fuzzSeeds generates, as opposed to
// crashers, which are named by their hash.
func isSeedName(name string) bool {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return false
	}
	_, err := strconv.Atoi(name[i+1:])
	return err == nil
}

// TestQuirkUTF16Charset: a text part in charset "utf-16" (RFC 2781: a byte
// order mark says the order; without one, big-endian) is decoded as
// WHATWG's label "utf-16", which is UTF-16LE with the BOM ignored (x/text's
// htmlindex): big-endian text, with its BOM FE FF or without one, comes out
// as CJK characters, silently; a little-endian BOM is left in the text.
// (Even the WHATWG decode algorithm sniffs the BOM first.) Same for an
// encoded-word =?utf-16?B?...?= in DecodeHeader.
func TestQuirkUTF16Charset(t *testing.T) {
	for _, c := range []struct{ name, data string }{
		{"big-endian with BOM", "\xfe\xff\x00h\x00i"},
		{"little-endian with BOM", "\xff\xfeh\x00i\x00"},
		{"no BOM (RFC 2781: big-endian)", "\x00h\x00i"},
	} {
		r, err := codec.DecodeCharset("utf-16", strings.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		if string(b) != "hi" {
			t.Errorf("utf-16 %s %q: decoded %q; want \"hi\"", c.name, c.data, b)
		}
	}
	// The same through a body structure, as a mail reader decodes a part.
	bs := &codec.BodyStructure{Type: codec.Bytes("text"), Subtype: codec.Bytes("plain"),
		Params: []codec.Param{{Name: codec.Bytes("charset"), Value: codec.Bytes("UTF-16")}}, Encoding: codec.Bytes("base64")}
	r, err := bs.Decode(strings.NewReader("/v8AaABp")) // FE FF 00 68 00 69
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "hi" {
		t.Errorf("text/plain; charset=UTF-16 (BE with BOM), base64: decoded %q; want \"hi\"", b)
	}
	if s, err := codec.DecodeHeader([]byte("=?utf-16?B?/v8AaABp?=")); s != "hi" {
		t.Errorf("DecodeHeader(=?utf-16?B?/v8AaABp?=) = %q, %v; want \"hi\"", s, err)
	}
}

// TestQuirkFilenameEncodedWordsInContinuations: a long file name that a
// mailer wrote as RFC 2047 encoded-words and then split into RFC 2231
// continuations without the "*" of an extended value (filename*0="=?utf-8?B?...",
// filename*1="...?=": a mailer quirk that mail readers tolerate).
// BodyStructure.Filename decodes encoded-words in a
// plain value, and joins continuations, but does not decode the joined
// value: the caller gets "=?utf-8?B?w6nDqcOpw6k=?=.pdf" as the name.
func TestQuirkFilenameEncodedWordsInContinuations(t *testing.T) {
	for _, ps := range [][]codec.Param{
		{{Name: codec.Bytes("filename*0"), Value: codec.Bytes("=?utf-8?B?w6nDqcOp")}, {Name: codec.Bytes("filename*1"), Value: codec.Bytes("w6k=?=.pdf")}},
		{{Name: codec.Bytes("filename*0"), Value: codec.Bytes("=?utf-8?B?w6nDqcOpw6k=?=")}, {Name: codec.Bytes("filename*1"), Value: codec.Bytes(".pdf")}},
	} {
		b := &codec.BodyStructure{Type: codec.Bytes("application"), Subtype: codec.Bytes("pdf"), Disposition: codec.Bytes("attachment"), DispositionParams: ps}
		if got := b.Filename(); got != "éééé.pdf" {
			t.Errorf("Filename of %q = %q; want \"éééé.pdf\"", ps, got)
		}
	}
}
