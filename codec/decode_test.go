package codec_test

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

func decoder(s string) *codec.Decoder {
	return codec.NewDecoder(wire.NewTokenizer(strings.NewReader(s), nil), nil)
}

// decodeOne decodes exactly one response from line and clones it.
func decodeOne(t *testing.T, line string) codec.Response {
	t.Helper()
	d := decoder(line)
	r, err := d.Next()
	if err != nil {
		t.Fatalf("Next(%q) error: %v", line, err)
	}
	r = codec.CloneResponse(r)
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("after %q: Next() = %v; want io.EOF", line, err)
	}
	return r
}

func b(s string) codec.Bytes { return codec.Bytes(s) }

func bs(ss ...string) []codec.Bytes {
	out := make([]codec.Bytes, len(ss))
	for i, s := range ss {
		out[i] = b(s)
	}
	return out
}

var cmpOpts = []cmp.Option{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(x, y codec.SeqSet) bool { return x.String() == y.String() }),
}

func TestDecodeStatus(t *testing.T) {
	tests := []struct {
		line string
		want codec.Response
	}{
		{"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n",
			&codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeCapability, Name: b("CAPABILITY"),
				Caps: bs("IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS", "AUTH=PLAIN")}, Text: b("Dovecot ready.")}},
		{"* PREAUTH IMAP4rev1 server logged in as Smith\r\n", &codec.Status{Kind: codec.StatusPREAUTH, Text: b("IMAP4rev1 server logged in as Smith")}},
		{"* BYE Autologout; idle for too long\r\n", &codec.Status{Kind: codec.StatusBYE, Text: b("Autologout; idle for too long")}},
		{"A142 OK [READ-WRITE] SELECT completed\r\n", &codec.Status{Tag: b("A142"), Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeReadWrite, Name: b("READ-WRITE")}, Text: b("SELECT completed")}},
		{"a1 no [TRYCREATE] No such mailbox\r\n", &codec.Status{Tag: b("a1"), Kind: codec.StatusNO, Code: &codec.Code{Kind: codec.CodeTryCreate, Name: b("TRYCREATE")}, Text: b("No such mailbox")}},
		{"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", &codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeUIDValidity, Name: b("UIDVALIDITY"), Num: 3857529045}, Text: b("UIDs valid")}},
		{"* OK [HIGHESTMODSEQ 9223372036854775807] Highest\r\n", &codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeHighestModSeq, Name: b("HIGHESTMODSEQ"), Num: 9223372036854775807}, Text: b("Highest")}},
		// Past RFC 7162's 2^63-1: text, as any code that does not parse.
		{"* OK [HIGHESTMODSEQ 18446744073709551615] Highest\r\n", &codec.Status{Kind: codec.StatusOK, Text: b("[HIGHESTMODSEQ 18446744073709551615] Highest")}},
		// PERMANENTFLAGS with spaces inside the list.
		{"* OK [PERMANENTFLAGS ( \\*)] Limited\r\n", &codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodePermanentFlags, Name: b("PERMANENTFLAGS"), Flags: bs(`\*`)}, Text: b("Limited")}},
		{"* OK [PERMANENTFLAGS (\\Deleted \\Seen $Label[test] \\*)] Flags permitted.\r\n", &codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodePermanentFlags, Name: b("PERMANENTFLAGS"), Flags: bs(`\Deleted`, `\Seen`, `$Label[test]`, `\*`)}, Text: b("Flags permitted.")}},
		{"A3 OK [APPENDUID 38505 3955] APPEND completed\r\n", &codec.Status{Tag: b("A3"), Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeAppendUID, Name: b("APPENDUID"), UIDValidity: 38505, Dst: mustSet("3955")}, Text: b("APPEND completed")}},
		{"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n", &codec.Status{Tag: b("A4"), Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeCopyUID, Name: b("COPYUID"), UIDValidity: 38505, Src: mustSet("304,319:320"), Dst: mustSet("3956:3958")}, Text: b("Done")}},
		{"A5 OK [MODIFIED 7,9] Conditional STORE failed\r\n", &codec.Status{Tag: b("A5"), Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeModified, Name: b("MODIFIED"), Set: mustSet("7,9")}, Text: b("Conditional STORE failed")}},
		{"A6 NO [BADCHARSET (UTF-8 \"US-ASCII\")] bad\r\n", &codec.Status{Tag: b("A6"), Kind: codec.StatusNO, Code: &codec.Code{Kind: codec.CodeBadCharset, Name: b("BADCHARSET"), Charsets: bs("UTF-8", "US-ASCII")}, Text: b("bad")}},
		{"A7 NO [OVERQUOTA] Quota exceeded\r\n", &codec.Status{Tag: b("A7"), Kind: codec.StatusNO, Code: &codec.Code{Kind: codec.CodeOverQuota, Name: b("OVERQUOTA")}, Text: b("Quota exceeded")}},
		{"A8 OK [METADATA LONGENTRIES 2199] done\r\n", &codec.Status{Tag: b("A8"), Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeMetadata, Name: b("METADATA"), Sub: b("LONGENTRIES"), Num: 2199}, Text: b("done")}},
		{"* OK [XFOO a (b \"c]\") 7] odd\r\n", &codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeOther, Name: b("XFOO"), Raw: b(`a (b "c]") 7`)}, Text: b("odd")}},
		{"* NO [ALERT] \r\n", &codec.Status{Kind: codec.StatusNO, Code: &codec.Code{Kind: codec.CodeAlert, Name: b("ALERT")}, Text: b("")}},
		// Missing resp-text.
		{"A9 OK\r\n", &codec.Status{Tag: b("A9"), Kind: codec.StatusOK, Text: b("")}},
		{"* OK [CLOSED]\r\n", &codec.Status{Kind: codec.StatusOK, Code: &codec.Code{Kind: codec.CodeClosed, Name: b("CLOSED")}, Text: b("")}},
		// A bracket that is not a code: the text begins with it.
		{"* OK [not a code\r\n", &codec.Status{Kind: codec.StatusOK, Text: b("[not a code")}},
		// Yandex sends BYE twice; each decodes.
		{"* bye server shutting down\r\n", &codec.Status{Kind: codec.StatusBYE, Text: b("server shutting down")}},
		{"+ \r\n", &codec.Continuation{Text: b("")}},
		{"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n", &codec.Continuation{Text: b("YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=")}},
		{"+\r\n", &codec.Continuation{Text: b("")}},
	}
	for _, tt := range tests {
		got := decodeOne(t, tt.line)
		if diff := cmp.Diff(tt.want, got, cmpOpts...); diff != "" {
			t.Errorf("decode %q (-want +got):\n%s", tt.line, diff)
		}
	}
}

func mustSet(s string) codec.SeqSet {
	set, err := codec.ParseSeqSet([]byte(s))
	if err != nil {
		panic(err)
	}
	return set
}

func TestDecodeData(t *testing.T) {
	tests := []struct {
		line string
		want codec.Response
	}{
		{"* CAPABILITY IMAP4rev1 IDLE NAMESPACE \r\n", &codec.Capability{Caps: bs("IMAP4rev1", "IDLE", "NAMESPACE")}}, // qq.com trailing space
		{"* capability imap4rev1\r\n", &codec.Capability{Caps: bs("imap4rev1")}},
		{"* ENABLED CONDSTORE QRESYNC\r\n", &codec.Enabled{Caps: bs("CONDSTORE", "QRESYNC")}},
		{"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n", &codec.Flags{Flags: bs(`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`, `$Forwarded`)}},
		{"* FLAGS ( \\Seen  \\Draft )\r\n", &codec.Flags{Flags: bs(`\Seen`, `\Draft`)}},
		{"* 172 EXISTS\r\n", &codec.Exists{Count: 172}},
		{"* 1 RECENT\r\n", &codec.Recent{Count: 1}},
		{"* 44 EXPUNGE\r\n", &codec.Expunge{Seq: 44}},
		{"* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n", &codec.List{Attrs: bs(`\HasNoChildren`, `\Sent`), Delim: '/', Mailbox: b("Sent")}},
		{"* LIST () NIL \"\"\r\n", &codec.List{Delim: 0, Mailbox: b("")}},
		{"* LSUB () \".\" #news.comp.mail.misc\r\n", &codec.List{LSUB: true, Delim: '.', Mailbox: b("#news.comp.mail.misc")}},
		{"* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit/Peach\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n", &codec.List{Attrs: bs(`\Subscribed`, `\NonExistent`), Delim: '/', Mailbox: b("Fruit/Peach"), ChildInfo: bs("SUBSCRIBED")}},
		{"* LIST () \"/\" NewMailbox (\"OLDNAME\" (\"OldMailbox\"))\r\n", &codec.List{Delim: '/', Mailbox: b("NewMailbox"), OldName: b("OldMailbox")}},
		{"* LIST (\\HasNoChildren) \"\\\\\" {8}\r\nIn\"box x\r\n", &codec.List{Attrs: bs(`\HasNoChildren`), Delim: '\\', Mailbox: b("In\"box x")}},
		{"* LIST (\\Marked) \"/\" [Gmail]/Sent\r\n", &codec.List{Attrs: bs(`\Marked`), Delim: '/', Mailbox: b("[Gmail]/Sent")}},
		// Outlook: trailing space after STATUS.
		{"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292) \r\n", &codec.MailboxStatus{Mailbox: b("blurdybloop"), Items: codec.StatusMessages | codec.StatusUIDNext, Messages: 231, UIDNext: 44292}},
		{"* STATUS \"INBOX\" (MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY 17 UNSEEN 1 DELETED 0 SIZE 4096 HIGHESTMODSEQ 7 APPENDLIMIT NIL MAILBOXID (F2212ea87) X-NEW (a b))\r\n",
			&codec.MailboxStatus{Mailbox: b("INBOX"), Items: codec.StatusMessages | codec.StatusRecent | codec.StatusUIDNext | codec.StatusUIDValidity | codec.StatusUnseen | codec.StatusDeleted | codec.StatusSize | codec.StatusHighestModSeq | codec.StatusAppendLimit | codec.StatusMailboxID,
				Messages: 2, UIDNext: 3, UIDValidity: 17, Unseen: 1, Size: 4096, HighestModSeq: 7, MailboxID: b("F2212ea87"), Unknown: []codec.ListExtension{{Tag: b("X-NEW"), Value: b("(a b)")}}}},
		{"* SEARCH 2 84 882\r\n", &codec.Search{Nums: []uint32{2, 84, 882}}},
		{"* SEARCH\r\n", &codec.Search{}},
		{"* SEARCH \r\n", &codec.Search{}},
		{"* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n", &codec.Search{Nums: []uint32{2, 5, 6, 7, 11, 12, 18, 19, 20, 23}, ModSeq: 917162500}},
		{"* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n", &codec.ESearch{Tag: b("A282"), Has: codec.ESearchMin | codec.ESearchCount, Min: 2, Count: 3}},
		{"* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800 ALL 7,9:3800 MODSEQ 12\r\n", &codec.ESearch{Tag: b("A285"), UID: true, Has: codec.ESearchMin | codec.ESearchMax | codec.ESearchAll | codec.ESearchModSeq, Min: 7, Max: 3800, All: mustSet("7,9:3800"), ModSeq: 12}},
		{"* ESEARCH\r\n", &codec.ESearch{}}, // Gmail
		{"* ESEARCH (TAG \"A1\") UID PARTIAL (1:10 1,3)\r\n", &codec.ESearch{Tag: b("A1"), UID: true, Unknown: []codec.ListExtension{{Tag: b("PARTIAL"), Value: b("(1:10 1,3)")}}}},
		{"* SORT 2 84 882\r\n", &codec.Sort{Nums: []uint32{2, 84, 882}}},
		{"* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\")))\r\n", &codec.Namespace{
			Personal: []codec.NamespaceDesc{{Prefix: b(""), Delim: '/'}},
			Shared:   []codec.NamespaceDesc{{Prefix: b("Public Folders/"), Delim: '/', Extensions: []codec.ListExtension{{Tag: b("X-PARAM"), Value: b(`("FLAG1" "FLAG2")`)}}}}}},
		{"* QUOTA \"\" (STORAGE 10 512 MESSAGE 3 100)\r\n", &codec.Quota{Root: b(""), Resources: []codec.QuotaResource{{Name: b("STORAGE"), Usage: 10, Limit: 512}, {Name: b("MESSAGE"), Usage: 3, Limit: 100}}}},
		{"* QUOTAROOT INBOX \"\"\r\n", &codec.QuotaRoot{Mailbox: b("INBOX"), Roots: bs("")}},
		{"* QUOTAROOT comp.mail.mime\r\n", &codec.QuotaRoot{Mailbox: b("comp.mail.mime")}},
		{"* ACL INBOX Fred rwipsldexta owner lrswipkxtecda\r\n", &codec.ACL{Mailbox: b("INBOX"), Entries: []codec.ACLEntry{{Identifier: b("Fred"), Rights: b("rwipsldexta")}, {Identifier: b("owner"), Rights: b("lrswipkxtecda")}}}},
		{"* LISTRIGHTS ~/Mail/saved smith la r swicdkxte\r\n", &codec.ListRights{Mailbox: b("~/Mail/saved"), Identifier: b("smith"), Required: b("la"), Optional: bs("r", "swicdkxte")}},
		{"* MYRIGHTS INBOX rwiptsldaex\r\n", &codec.MyRights{Mailbox: b("INBOX"), Rights: b("rwiptsldaex")}},
		{"* ANNOTATION INBOX \"/comment\" (\"value.priv\" \"My comment\" \"value.shared\" NIL)\r\n", &codec.Annotation{Mailbox: b("INBOX"), Entry: b("/comment"), Attrs: []codec.Param{{Name: b("value.priv"), Value: b("My comment")}, {Name: b("value.shared")}}}},
		{"* METADATA \"\" (/shared/comment {14}\r\nShared comment)\r\n", &codec.Metadata{Mailbox: b(""), Values: true, Entries: []codec.Param{{Name: b("/shared/comment"), Value: b("Shared comment")}}}},
		{"* METADATA INBOX (/private/comment NIL)\r\n", &codec.Metadata{Mailbox: b("INBOX"), Values: true, Entries: []codec.Param{{Name: b("/private/comment")}}}},
		{"* METADATA INBOX /shared/comment /private/comment\r\n", &codec.Metadata{Mailbox: b("INBOX"), Entries: []codec.Param{{Name: b("/shared/comment")}, {Name: b("/private/comment")}}}},
		{"* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n", &codec.ID{Params: []codec.Param{{Name: b("name"), Value: b("Dovecot")}, {Name: b("version")}}}},
		{"* ID NIL\r\n", &codec.ID{}},
		{"* VANISHED (EARLIER) 300:310,405,411\r\n", &codec.Vanished{Earlier: true, UIDs: mustSet("300:310,405,411")}},
		{"* VANISHED 405\r\n", &codec.Vanished{UIDs: mustSet("405")}},
		// Unknown responses are kept raw, never an error.
		{"* XFOO bar (baz) {3}\r\nabc end\r\n", &codec.Unknown{Tag: b("*"), Name: b("XFOO"), Rest: b("bar (baz) {3}\r\nabc end")}},
		{"* 3 XBAR\r\n", &codec.Unknown{Tag: b("*"), Num: 3, HasNum: true, Name: b("XBAR"), Rest: b("")}},
	}
	for _, tt := range tests {
		got := decodeOne(t, tt.line)
		if diff := cmp.Diff(tt.want, got, cmpOpts...); diff != "" {
			t.Errorf("decode %q (-want +got):\n%s", tt.line, diff)
		}
	}
}

// TestDecodeMetadataLargeValueSkipped: a METADATA value larger than the
// tokenizer's MaxStringLiteral (64 KiB by default) failed the whole
// response with wire.ErrStringTooLarge, the entries beside it lost. With
// DecoderOptions.SkipLargeMetadata (a session's decoder) the value is
// read past now and named in Skipped with its size; the entries before
// and after it are decoded, and so is the next response. A value under
// the bound is kept as before. Without the option the response fails as
// before.
func TestDecodeMetadataLargeValueSkipped(t *testing.T) {
	big := strings.Repeat("v", wire.DefaultMaxStringLiteral+1)
	fits := strings.Repeat("w", wire.DefaultMaxStringLiteral)
	in := "* METADATA INBOX (/private/a \"x\" /private/big {" + itoa(len(big)) + "}\r\n" + big +
		" /private/fits {" + itoa(len(fits)) + "}\r\n" + fits + " /private/c NIL)\r\n* 2 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), &codec.DecoderOptions{SkipLargeMetadata: true})
	r, err := d.Next()
	if err != nil {
		t.Fatalf("METADATA with a value of %d bytes: %v", len(big), err)
	}
	m := codec.CloneResponse(r).(*codec.Metadata)
	if len(m.Entries) != 3 || string(m.Entries[0].Name) != "/private/a" || string(m.Entries[0].Value) != "x" ||
		string(m.Entries[1].Name) != "/private/fits" || len(m.Entries[1].Value) != len(fits) ||
		string(m.Entries[2].Name) != "/private/c" || m.Entries[2].Value != nil {
		t.Errorf("Entries = %d entries %q; want /private/a \"x\", /private/fits (%d bytes), /private/c NIL", len(m.Entries), names(m.Entries), len(fits))
	}
	if len(m.Skipped) != 1 || string(m.Skipped[0].Name) != "/private/big" || m.Skipped[0].Size != int64(len(big)) {
		t.Errorf("Skipped = %+v; want /private/big of %d bytes", m.Skipped, len(big))
	}
	if r, err := d.Next(); err != nil || r.(*codec.Exists).Count != 2 {
		t.Errorf("the response after: %v, %v; want * 2 EXISTS", r, err)
	}

	d = decoder(in)
	var de *codec.DecodeError
	if _, err := d.Next(); !errors.As(err, &de) || !errors.Is(err, wire.ErrStringTooLarge) {
		t.Errorf("without SkipLargeMetadata: %v; want a *DecodeError matching wire.ErrStringTooLarge", err)
	}
	if r, err := d.Next(); err != nil || r.(*codec.Exists).Count != 2 {
		t.Errorf("without SkipLargeMetadata, the response after: %v, %v; want * 2 EXISTS", r, err)
	}
}

// TestDecodeMetadataSkipAbandonedAtDeadline: with SkipLargeMetadata, a
// deadline met while a large value is read past cannot be resumed (its
// bytes are gone): the response is abandoned with a *DecodeError that
// wraps the deadline, as documented, and the next response decodes.
func TestDecodeMetadataSkipAbandonedAtDeadline(t *testing.T) {
	big := strings.Repeat("v", wire.DefaultMaxStringLiteral+1)
	in := "* METADATA INBOX (/private/a \"x\" /private/big {" + itoa(len(big)) + "}\r\n" + big + ")\r\n* 2 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(&flakyReader{r: strings.NewReader(in)}, nil), &codec.DecoderOptions{SkipLargeMetadata: true})
	abandoned := 0
	for range 4 * len(in) {
		r, err := d.Next()
		var de *codec.DecodeError
		switch {
		case errors.As(err, &de) && errors.Is(err, os.ErrDeadlineExceeded):
			abandoned++
		case errors.Is(err, os.ErrDeadlineExceeded):
		case err != nil:
			t.Fatalf("after %d abandoned: %v", abandoned, err)
		default:
			if e, ok := r.(*codec.Exists); !ok || e.Count != 2 || abandoned != 1 {
				t.Fatalf("%T %+v after %d abandoned; want the METADATA abandoned once, then * 2 EXISTS", r, r, abandoned)
			}
			return
		}
	}
	t.Fatal("no EXISTS")
}

// TestRoundTripMetadataSkipped: a METADATA response with a value read
// past (SkipLargeMetadata, over the fuzzers' MaxStringLiteral, 16 KiB)
// keeps the round trip the fuzzers check (clone, reflection copy, a
// stable encoding), AppendResponse leaving the skipped entry out: it
// failed "decode(encode(r)) != r" on the Skipped it could not write.
func TestRoundTripMetadataSkipped(t *testing.T) {
	big := strings.Repeat("v", 17<<10)
	in := "* METADATA INBOX (/private/a \"x\" /private/big {" + itoa(len(big)) + "}\r\n" + big + ")\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), &fuzzOpts), &codec.DecoderOptions{SkipLargeMetadata: true})
	r, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if m := r.(*codec.Metadata); len(m.Skipped) != 1 {
		t.Fatalf("Skipped = %+v; want /private/big", m.Skipped)
	}
	checkRoundTrip(t, r)
}

// names returns the names of ps.
func names(ps []codec.Param) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.Name))
	}
	return out
}

// itoa is strconv.Itoa.
func itoa(n int) string { return strconv.Itoa(n) }

func TestDecodeThread(t *testing.T) {
	r := decodeOne(t, "* THREAD (2)(3 6 (4 23)(44 7 96))((11)(12))\r\n").(*codec.Thread)
	var render func(n *codec.ThreadNode) string
	render = func(n *codec.ThreadNode) string {
		s := "("
		if n.Num != 0 {
			s += string(rune('0'+n.Num/10%10)) + string(rune('0'+n.Num%10))
		} else {
			s += "--"
		}
		for _, c := range n.Children {
			s += " " + render(c)
		}
		return s + ")"
	}
	var got []string
	for _, th := range r.Threads {
		got = append(got, render(th))
	}
	want := []string{"(02)", "(03 (06 (04 (23)) (44 (07 (96)))))", "(-- (11) (12))"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("THREAD tree (-want +got):\n%s", diff)
	}
}

func TestDecodeFetch(t *testing.T) {
	line := "* 12 FETCH (FLAGS (\\Seen $Label[x]) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 UID 4827 MODSEQ (12121231000) " +
		"BODY[HEADER.FIELDS (FROM \"TO\")]<0> {13}\r\nFrom: a@b\r\n\r\n BODY[1.2.MIME] NIL BINARY[2] ~{3}\r\na\x00b BINARY.SIZE[2] 3 RFC822.HEADER \"x\" " +
		"EMAILID (M6d99ac3275bb4e) THREADID NIL SAVEDATE NIL PREVIEW \"Hello\" X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \"[Gmail]/Sent\" foo) X-UNKNOWN (a (b) \"c\"))\r\n"
	got := decodeOne(t, line).(*codec.Fetch)
	want := &codec.Fetch{
		Seq: 12,
		Has: codec.FetchFlags | codec.FetchInternalDate | codec.FetchRFC822Size | codec.FetchUID | codec.FetchModSeq | codec.FetchEmailID | codec.FetchThreadID |
			codec.FetchSaveDate | codec.FetchPreview | codec.FetchGmailMsgID | codec.FetchGmailThreadID | codec.FetchGmailLabels,
		Flags: bs(`\Seen`, `$Label[x]`), InternalDate: b("17-Jul-1996 02:44:25 -0700"), RFC822Size: 4286, UID: 4827, ModSeq: 12121231000,
		EmailID: b("M6d99ac3275bb4e"), Preview: b("Hello"), GmailMsgID: 1278455344230334865, GmailThreadID: 1266894439832287888,
		GmailLabels: bs(`\Inbox`, "[Gmail]/Sent", "foo"),
		Sections: []codec.Section{
			{Kind: codec.SectionBody, Spec: b(`HEADER.FIELDS (FROM "TO")`), Specifier: b("HEADER.FIELDS"), Fields: bs("FROM", "TO"), HasOrigin: true, Data: b("From: a@b\r\n\r\n"), Size: 13},
			{Kind: codec.SectionBody, Spec: b("1.2.MIME"), Part: []uint32{1, 2}, Specifier: b("MIME")},
			{Kind: codec.SectionBinary, Spec: b("2"), Part: []uint32{2}, Data: b("a\x00b"), Size: 3},
			{Kind: codec.SectionRFC822Header, Data: b("x"), Size: 1},
		},
		BinarySizes: []codec.BinarySize{{Part: []uint32{2}, Size: 3}},
		Unknown:     []codec.FetchAttr{{Name: b("X-UNKNOWN"), Raw: b(`(a (b) "c")`)}},
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Fatalf("FETCH (-want +got):\n%s", diff)
	}
}

func TestDecodeFetchQuirks(t *testing.T) {
	// Exchange: negative sizes. Zoho: MODSEQ (-1). Lowercase names.
	f := decodeOne(t, "* 1 fetch (rfc822.size -1 modseq (-1) uid 5)\r\n").(*codec.Fetch)
	if f.RFC822Size != -1 || f.ModSeq != 0 || f.UID != 5 {
		t.Fatalf("got size %d modseq %d uid %d; want -1 0 5", f.RFC822Size, f.ModSeq, f.UID)
	}
	// 163.com: unescaped quotes inside a quoted string, even with spaces.
	f = decodeOne(t, "* 2 FETCH (BODYSTRUCTURE (\"application\" \"pdf\" (\"name\" \"Fw: \"Q3 plan\" draft.pdf\") NIL NIL \"base64\" 1200 NIL NIL NIL NIL))\r\n").(*codec.Fetch)
	if got := string(f.BodyStructure.Params[0].Value); got != `Fw: "Q3 plan" draft.pdf` {
		t.Fatalf("repaired name %q", got)
	}
}

// TestDecodeStaysInSync: a response that cannot be decoded is a typed
// error for that response only; the next one decodes.
func TestDecodeStaysInSync(t *testing.T) {
	in := "* 1 FETCH (UID x)\r\n* 2 FETCH (BODY[] {5}\r\nab\r\nc UID)\r\n* 99999999999 EXISTS\r\n* SEARCH 1 -2\r\n* 3 EXISTS\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(in)), nil), nil)
	for i := 0; i < 4; i++ {
		_, err := d.Next()
		var de *codec.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("response %d: err = %v; want *codec.DecodeError", i, err)
		}
		if !strings.HasPrefix(err.Error(), "codec: ") {
			t.Fatalf("error %q lacks the package prefix", err)
		}
	}
	r, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := r.(*codec.Exists); !ok || e.Count != 3 {
		t.Fatalf("after errors: %#v; want EXISTS 3", r)
	}
}

// TestDecodeResumes: a reader that times out mid-response does not lose the
// response: calling Next again resumes.
func TestDecodeResumes(t *testing.T) {
	in := "* OK [CAPABILITY IMAP4rev1] hi\r\n* 7 FETCH (UID 9 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n* LIST () \"/\" INBOX\r\nA1 OK done\r\n"
	d := codec.NewDecoder(wire.NewTokenizer(&flakyReader{r: strings.NewReader(in)}, nil), nil)
	var kinds []string
	for {
		r, err := d.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch r := r.(type) {
		case *codec.Fetch:
			kinds = append(kinds, "FETCH "+string(r.Sections[0].Data))
		case *codec.Status:
			kinds = append(kinds, r.Kind.String())
		case *codec.List:
			kinds = append(kinds, "LIST "+string(r.Mailbox))
		}
	}
	if diff := cmp.Diff([]string{"OK", "FETCH hello", "LIST INBOX", "OK"}, kinds); diff != "" {
		t.Fatal(diff)
	}
}

// flakyReader returns one byte at a time and a timeout every other read.
type flakyReader struct {
	r io.Reader
	i int
}

func (f *flakyReader) Read(p []byte) (int, error) {
	f.i++
	if f.i%2 == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	return f.r.Read(p[:1])
}

func TestSectionHandler(t *testing.T) {
	body := strings.Repeat("x", 200000)
	in := "* 1 FETCH (UID 5 BODY[] {200000}\r\n" + body + " FLAGS (\\Seen))\r\n"
	var got int64
	opts := &codec.DecoderOptions{SectionHandler: func(f *codec.Fetch, s *codec.Section, r io.Reader) error {
		if f.UID != 5 || s.Kind != codec.SectionBody || s.Size != 200000 {
			t.Errorf("handler got uid %d kind %v size %d", f.UID, s.Kind, s.Size)
		}
		n, err := io.Copy(io.Discard, r)
		got = n
		return err
	}}
	d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in), nil), opts)
	r, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	f := r.(*codec.Fetch)
	if got != 200000 || !f.Sections[0].Streamed || len(f.Flags) != 1 {
		t.Fatalf("streamed %d bytes, section %+v, flags %v", got, f.Sections[0], f.Flags)
	}
	// Without a handler, a body over the string limit fails that response
	// only.
	d = codec.NewDecoder(wire.NewTokenizer(strings.NewReader(in+"* 2 EXISTS\r\n"), nil), nil)
	if _, err := d.Next(); !errors.Is(err, wire.ErrStringTooLarge) {
		t.Fatalf("without handler: err = %v; want ErrStringTooLarge", err)
	}
	if r, err := d.Next(); err != nil || r.(*codec.Exists).Count != 2 {
		t.Fatalf("after a too large body: %v, %v", r, err)
	}
}

// TestDecoderKeepsLittle: after one huge response, the decoder does not
// keep its memory for reuse (keepBytes): the heap it holds once the next
// response, of another kind, has been read is small. Each of these pinned
// 4 to 16 MB before.
func TestDecoderKeepsLittle(t *testing.T) {
	many := func(s string, n int) string { return strings.TrimSpace(strings.Repeat(s, n)) }
	for name, big := range map[string]string{
		"FLAGS":      "* FLAGS (" + many("a ", 500000) + ")",
		"CAPABILITY": "* CAPABILITY " + many("a ", 500000),
		"FETCH":      "* 1 FETCH (FLAGS (" + many("a ", 500000) + "))",
		"LIST":       "* LIST (" + many(`\a `, 300000) + `) "/" x`,
		"SEARCH":     "* SEARCH " + many("1 ", 500000),
		"ESEARCH":    "* ESEARCH ALL " + strings.TrimSuffix(strings.Repeat("1,3,", 250000), ","),
		"ID":         "* ID (" + many(`"a" NIL `, 100000) + ")",
		"code":       "* OK [CAPABILITY " + many("a ", 500000) + "] hi",
	} {
		small := "* 3 EXISTS\r\n" // of another kind: the huge one's values are not reused
		input := strings.NewReader(big + "\r\n" + small)
		h0 := heapLive()
		d := codec.NewDecoder(wire.NewTokenizer(input, nil), nil)
		n := 0
		for {
			if _, err := d.Next(); err != nil {
				break
			}
			n++
		}
		held := int64(heapLive()) - int64(h0)
		runtime.KeepAlive(d)
		if n != 2 {
			t.Fatalf("%s: %d responses", name, n)
		}
		if held > 3<<20 {
			t.Errorf("%s: the decoder holds %.1f MB after one huge response", name, float64(held)/1e6)
		}
	}
}

// heapLive returns the live heap after a collection.
func heapLive() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDecodeErrorNamesChar: the decoders' messages about a bad
// byte of a server's answer name the character, or the byte in hex, not
// the Latin-1 character of the byte's value ('Ã' for the first byte of é).
func TestDecodeErrorNamesChar(t *testing.T) {
	for in, want := range map[string]string{"1,2é": "'é'", "1,2\xe9": "0xe9", "é": "'é'", "1:\xc3": "0xc3"} {
		_, err := codec.ParseSeqSet([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "Ã") {
			t.Errorf("ParseSeqSet(%q): %v, want it to name %s", in, err, want)
		}
	}
	for in, want := range map[string]string{"Büro": "'ü'", "B\xfcro": "0xfc", "&AOk\xe9-": "0xe9"} {
		_, err := codec.DecodeMailbox([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeMailbox(%q): %v, want it to name %s", in, err, want)
		}
	}
}

// TestBeforeSkipSeesHeldLine: DecoderOptions.BeforeSkip is called once
// for a response that cannot be decoded, with its error, before its rest
// is skipped: the tokenizer's held bytes (wire.Tokenizer.Held) then hold
// the syntax error's excerpt at its offset, the line's bytes before it
// (literals' headers and bodies as received) and the rest after it. It
// is not called for a response decoded, and the stream stays in step.
func TestBeforeSkipSeesHeldLine(t *testing.T) {
	const bad = "* FLAGS (\\Seen hunter2-co{3}\r\nXXXQz {2}\r\nYYect-horse)\r\n"
	tk := wire.NewTokenizer(strings.NewReader("* 1 EXISTS\r\n"+bad+"* 2 EXISTS\r\n"), nil)
	calls := 0
	d := codec.NewDecoder(tk, &codec.DecoderOptions{BeforeSkip: func(err error) {
		calls++
		var se *wire.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("BeforeSkip(%v): no *wire.SyntaxError", err)
		}
		held, off := tk.Held()
		at := int(se.Offset - off)
		if at < 0 || at > len(held) {
			t.Fatalf("BeforeSkip: the error's offset %d is not in the held bytes (from %d, %d of them)", se.Offset, off, len(held))
		}
		if !strings.HasPrefix(string(held), bad) || at+16 > len(held) || se.Got != strconv.Quote(string(held[at:at+16])) {
			t.Errorf("BeforeSkip: held %q, excerpt %s at %d; want the line %q whole, the excerpt at the error's offset", held, se.Got, at, bad)
		}
	}})
	for i, want := range []bool{true, false, true} {
		_, err := d.Next()
		if (err == nil) != want {
			t.Fatalf("response %d: %v", i, err)
		}
		if i == 0 && calls != 0 {
			t.Fatalf("BeforeSkip called for a response decoded")
		}
	}
	if calls != 1 {
		t.Fatalf("BeforeSkip called %d times; want 1", calls)
	}
}
