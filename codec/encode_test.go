package codec_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestAppendResponseCanonical decodes a line, encodes the response and
// compares the bytes with the canonical form; the round trip must hold too.
func TestAppendResponseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		// Status responses: the code as sent, text as is.
		{"* OK [CAPABILITY IMAP4rev1 IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n", ""},
		{"a1 no [TRYCREATE] No such mailbox\r\n", "a1 NO [TRYCREATE] No such mailbox\r\n"},
		{"* ok [uidnext 88] next\r\n", "* OK [uidnext 88] next\r\n"},
		{"A9 OK\r\n", "A9 OK \r\n"},
		{"* OK [CLOSED]\r\n", "* OK [CLOSED] \r\n"},
		{"* OK [PERMANENTFLAGS ( \\*)] Limited\r\n", "* OK [PERMANENTFLAGS (\\*)] Limited\r\n"},
		{"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n", ""},
		{"A4 OK [COPYUID 38505 5,3,1 7:9] Order kept\r\n", ""},
		{"A6 NO [BADCHARSET (UTF-8 \"US-ASCII\" \"x y\")] bad\r\n", "A6 NO [BADCHARSET (UTF-8 US-ASCII \"x y\")] bad\r\n"},
		{"A5 OK [MODIFIED 9,7,8] failed\r\n", "A5 OK [MODIFIED 7:9] failed\r\n"},
		{"A8 OK [METADATA LONGENTRIES 2199] done\r\n", ""},
		{"* OK [MAILBOXID (F2212ea87)] Ok\r\n", ""},
		{"* OK [XFOO a (b \"c]\") 7] odd\r\n", ""},
		{"* OK [not a code\r\n", ""},
		{"* BYE  bye now\r\n", "* BYE bye now\r\n"},
		{"+\r\n", "+ \r\n"},
		{"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n", ""},
		// Data responses.
		{"* CAPABILITY IMAP4rev1 IDLE NAMESPACE \r\n", "* CAPABILITY IMAP4rev1 IDLE NAMESPACE\r\n"},
		{"* ENABLED\r\n", ""},
		{"* FLAGS ( \\Seen  \\Draft $Label[x] )\r\n", "* FLAGS (\\Seen \\Draft $Label[x])\r\n"},
		{"* 172 exists\r\n", "* 172 EXISTS\r\n"},
		{"* 1 RECENT\r\n", ""},
		{"* 44 EXPUNGE\r\n", ""},
		{"* LIST (\\HasNoChildren) \"\\\\\" {8}\r\nIn\"box x\r\n", "* LIST (\\HasNoChildren) \"\\\\\" \"In\\\"box x\"\r\n"},
		{"* LIST () NIL \"\"\r\n", ""},
		{"* LIST (\\Marked) \"/\" \"[Gmail]/Sent\"\r\n", ""}, // ']' is no astring atom char (wire.StringForm)
		{"* LIST (\\Marked) \"/\" Sent\r\n", ""},
		{"* LIST () \"/\" \"nil\"\r\n", ""},
		{"* LIST () \"/\" \"a*b\"\r\n", ""},
		{"* LIST () \"/\" \"Envoy\xc3\xa9s\"\r\n", "* LIST () \"/\" {8}\r\nEnvoy\xc3\xa9s\r\n"},
		{"* lsub () \".\" #news.comp.mail.misc\r\n", "* LSUB () \".\" #news.comp.mail.misc\r\n"},
		{"* LIST (\\Subscribed) \"/\" \"Fruit/Peach\" (\"CHILDINFO\" (\"SUBSCRIBED\") \"X-EXT\" (1 2) \"OLDNAME\" (\"Fruit/Old\"))\r\n",
			"* LIST (\\Subscribed) \"/\" Fruit/Peach (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (Fruit/Old) \"X-EXT\" (1 2))\r\n"},
		{"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292) \r\n", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n"},
		{"* STATUS \"INBOX\" (UIDNEXT 3 MESSAGES 2 RECENT 0 UIDVALIDITY 17 UNSEEN 1 DELETED 0 SIZE 4096 HIGHESTMODSEQ 7 APPENDLIMIT NIL MAILBOXID (F2212ea87) X-NEW (a b))\r\n",
			"* STATUS INBOX (MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY 17 UNSEEN 1 DELETED 0 SIZE 4096 HIGHESTMODSEQ 7 APPENDLIMIT NIL MAILBOXID (F2212ea87) X-NEW (a b))\r\n"},
		{"* STATUS INBOX (APPENDLIMIT 1048576)\r\n", ""},
		{"* SEARCH \r\n", "* SEARCH\r\n"},
		{"* SEARCH 2 5 6 (MODSEQ 917162500)\r\n", ""},
		{"* SORT 84 2 882\r\n", ""},
		{"* ESEARCH (TAG \"A285\") UID MODSEQ 12 ALL 9:3800,7 MIN 7 MAX 3800\r\n", "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800 ALL 7,9:3800 MODSEQ 12\r\n"},
		{"* ESEARCH (TAG A1) UID PARTIAL (1:10 1,3)\r\n", "* ESEARCH (TAG \"A1\") UID PARTIAL (1:10 1,3)\r\n"},
		{"* ESEARCH\r\n", ""},
		{"* THREAD (2)(3 6 (4 23)(44 7 96))((11)(12))\r\n", ""},
		{"* THREAD (1 (2) 3)( (5) 6 7)\r\n", "* THREAD (1 (2)(3))((5)(6 7))\r\n"},
		{"* THREAD \r\n", "* THREAD\r\n"},
		{"* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\")))\r\n", ""},
		{"* NAMESPACE () NIL ((NIL NIL))\r\n", "* NAMESPACE NIL NIL ((\"\" NIL))\r\n"},
		{"* QUOTA \"\" (STORAGE 10 512 MESSAGE 3 100)\r\n", ""},
		{"* QUOTAROOT INBOX \"\" \"User quota\"\r\n", ""},
		{"* ACL INBOX Fred rwipsldexta \"-anyone\" \"\"\r\n", "* ACL INBOX Fred rwipsldexta -anyone \"\"\r\n"},
		{"* LISTRIGHTS ~/Mail/saved smith la r swicdkxte\r\n", ""},
		{"* MYRIGHTS INBOX rwiptsldaex\r\n", ""},
		{"* ANNOTATION INBOX \"/comment\" (\"value.priv\" \"My comment\" \"value.shared\" NIL)\r\n", "* ANNOTATION INBOX /comment (value.priv \"My comment\" value.shared NIL)\r\n"},
		{"* METADATA \"\" (/shared/comment {14}\r\nShared comment)\r\n", "* METADATA \"\" (/shared/comment \"Shared comment\")\r\n"},
		{"* METADATA INBOX /shared/comment /private/comment\r\n", ""},
		{"* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n", ""},
		{"* ID NIL\r\n", ""},
		{"* ID ()\r\n", ""},
		{"* VANISHED (EARLIER) 300:310,405,411\r\n", ""},
		{"* VANISHED 405,404\r\n", "* VANISHED 404:405\r\n"},
		{"* XFOO bar (baz) {3}\r\nabc end\r\n", ""},
		{"* 3 XBAR\r\n", ""},
		{"A1 PREAUTH odd\r\n", ""},
		// FETCH: a fixed attribute order; sections as sent.
		{"* 12 FETCH (FLAGS (\\Seen $Label[x]) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 UID 4827 MODSEQ (12121231000))\r\n",
			"* 12 FETCH (UID 4827 FLAGS (\\Seen $Label[x]) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 MODSEQ (12121231000))\r\n"},
		{"* 1 fetch (rfc822.size -1 modseq (-1) uid 5)\r\n", "* 1 FETCH (UID 5 RFC822.SIZE -1 MODSEQ (0))\r\n"},
		{"* 1 FETCH (BODY[HEADER.FIELDS (FROM \"TO\")]<0> {13}\r\nFrom: a@b\r\n\r\n BODY[1.2.MIME] NIL BINARY[2] ~{3}\r\na\x00b BINARY.SIZE[2] 3 RFC822.HEADER \"x\")\r\n",
			"* 1 FETCH (BODY[HEADER.FIELDS (FROM \"TO\")]<0> {13}\r\nFrom: a@b\r\n\r\n BODY[1.2.MIME] NIL BINARY[2] ~{3}\r\na\x00b RFC822.HEADER \"x\" BINARY.SIZE[2] 3)\r\n"},
		{"* 2 FETCH (BODY[] {5}\r\nhello RFC822.TEXT \"a \\\"b\\\" \\\\c\" BINARY[1] {4}\r\n\xff\xfe\x01\x02)\r\n",
			"* 2 FETCH (BODY[] \"hello\" RFC822.TEXT \"a \\\"b\\\" \\\\c\" BINARY[1] {4}\r\n\xff\xfe\x01\x02)\r\n"},
		{"* 3 FETCH (EMAILID (M6d99) THREADID NIL SAVEDATE NIL PREVIEW \"Hello\" X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \"[Gmail]/Sent\" foo \"NIL\" \"\"))\r\n", ""},
		{"* 4 FETCH (THREADID (T64) PREVIEW NIL X-UNKNOWN (a (b) \"c\") UID[x] 7)\r\n", "* 4 FETCH (THREADID (T64) PREVIEW NIL X-UNKNOWN (a (b) \"c\") UID[] 7)\r\n"},
		{"* 5 FETCH (ENVELOPE NIL BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1))\r\n", ""},
		{"* 6 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1))\r\n", "* 6 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL))\r\n"},
		{"* 7 FETCH ()\r\n", ""},
	}
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		r := decodeOne(t, tt.in)
		got := string(codec.AppendResponse(nil, r))
		if got != want {
			t.Errorf("AppendResponse(decode(%q))\n got %q\nwant %q", tt.in, got, want)
		}
		checkRoundTrip(t, r)
	}
}

// TestAppendResponseStringPolicy: every string AppendResponse writes takes
// the form wire.StringForm picks with the default options, envelope and
// body structure strings included. Before, envelope strings had a policy of
// their own: a 2 KB UTF-8 subject was written quoted while the 5-byte
// UTF-8 mailbox name of a LIST was a literal, against AppendResponse's doc.
func TestAppendResponseStringPolicy(t *testing.T) {
	subject := strings.Repeat("\u00e9", 1000) // 2000 bytes of UTF-8
	mailbox := "B\u00fcro"                    // 5 bytes
	for _, tt := range []struct {
		name, in string
		s        string // the string whose form is checked
		astring  bool
	}{
		{"2 KB UTF-8 subject", fmt.Sprintf("* 1 FETCH (ENVELOPE (NIL {%d}\r\n%s NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", len(subject), subject), subject, false},
		{"5-byte UTF-8 mailbox", fmt.Sprintf("* LIST () \"/\" {%d}\r\n%s\r\n", len(mailbox), mailbox), mailbox, true},
		{"short UTF-8 subject", "* 1 FETCH (ENVELOPE (NIL {7}\r\nGr\u00fc\u00dfe NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", "Gr\u00fc\u00dfe", false},
		{"1500-byte ASCII subject", "* 1 FETCH (ENVELOPE (NIL \"" + strings.Repeat("s", 1500) + "\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", strings.Repeat("s", 1500), false},
		{"1024-byte ASCII subject", "* 1 FETCH (ENVELOPE (NIL {1024}\r\n" + strings.Repeat("s", 1024) + " NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", strings.Repeat("s", 1024), false},
		{"ASCII body parameter", "* 1 FETCH (BODY (\"text\" \"plain\" (\"name\" {5}\r\nx.pdf) NIL NIL \"7bit\" 1 1))\r\n", "x.pdf", false},
		{"UTF-8 body parameter", "* 1 FETCH (BODY (\"text\" \"plain\" (\"name\" \"\u00e9.pdf\") NIL NIL \"7bit\" 1 1))\r\n", "\u00e9.pdf", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := decodeOne(t, tt.in)
			got := codec.AppendResponse(nil, r)
			want := wire.AppendString(nil, tt.s, tt.astring, nil)
			if !bytes.Contains(got, want) {
				t.Fatalf("AppendResponse = %.200q\nwant it to hold %v %.80q", got, wire.StringForm(tt.s, tt.astring, nil), want)
			}
			checkRoundTrip(t, r)
		})
	}
	// The two cases of the issue, spelled out.
	r := decodeOne(t, fmt.Sprintf("* 1 FETCH (ENVELOPE (NIL \"%s\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", subject))
	if got := codec.AppendResponse(nil, r); !bytes.Contains(got, []byte("{2000}\r\n"+subject+" NIL")) {
		t.Errorf("the 2 KB UTF-8 subject is not a literal: %.80q", got)
	}
	r = decodeOne(t, "* LIST () \"/\" \""+mailbox+"\"\r\n")
	if got, want := string(codec.AppendResponse(nil, r)), "* LIST () \"/\" {5}\r\n"+mailbox+"\r\n"; got != want {
		t.Errorf("AppendResponse(LIST) = %q; want %q", got, want)
	}
}

// TestAppendResponseBuilt encodes hand-built values, which the decoder
// never returns.
func TestAppendResponseBuilt(t *testing.T) {
	long := strings.Repeat("x", 1025)
	tests := []struct {
		name string
		r    codec.Response
		want string
	}{
		{"streamed section and built spec",
			&codec.Fetch{Seq: 1, Sections: []codec.Section{
				{Kind: codec.SectionBody, Streamed: true, Size: 100000},
				{Kind: codec.SectionBody, Part: []uint32{1, 2}, Specifier: b("HEADER.FIELDS"), Fields: bs("From", "NIL"), HasOrigin: true, Origin: 10, Data: b("")},
				{Kind: codec.SectionBinary, Part: []uint32{3}, Data: b("a\x00b")},
				{Kind: codec.SectionRFC822, Data: b(long)},
			}},
			"* 1 FETCH (BODY[] NIL BODY[1.2.HEADER.FIELDS (From \"NIL\")]<10> \"\" BINARY[3] ~{3}\r\na\x00b RFC822 {1025}\r\n" + long + ")\r\n"},
		{"code kind wins over a mismatched name",
			&codec.Status{Kind: codec.StatusNO, Code: &codec.Code{Kind: codec.CodeUIDNext, Name: b("FOO"), Num: 5}, Text: b("x")},
			"* NO [UIDNEXT 5] x\r\n"},
		{"code without a name or kind is left out",
			&codec.Status{Tag: b("t1"), Kind: codec.StatusBAD, Code: &codec.Code{}, Text: b("two\nlines")},
			"t1 BAD two lines\r\n"},
		{"continuation",
			&codec.Continuation{Text: b("go ahead")}, "+ go ahead\r\n"},
		{"thread with placeholders and nil nodes",
			&codec.Thread{Threads: []*codec.ThreadNode{
				{Num: 1, Children: []*codec.ThreadNode{{Children: []*codec.ThreadNode{{Num: 2}, {Num: 3}}}}},
				nil,
				{Num: 4, Children: []*codec.ThreadNode{{Num: 5, Children: []*codec.ThreadNode{{Num: 6}}}, nil}},
			}},
			"* THREAD (1 ((2)(3)))(4 5 6)\r\n"},
		{"list with delimiter needing a literal",
			&codec.List{Delim: '\n', Mailbox: b("a b")}, "* LIST () {1}\r\n\n \"a b\"\r\n"},
		{"status of an empty mailbox name",
			&codec.MailboxStatus{Mailbox: b(""), Items: codec.StatusAppendLimit | codec.StatusSize, AppendLimit: 7, Size: 9},
			"* STATUS \"\" (SIZE 9 APPENDLIMIT 7)\r\n"},
		{"unknown tagged", &codec.Unknown{Tag: b("A1"), Name: b("XYZ"), Rest: b("1 2")}, "A1 XYZ 1 2\r\n"},
		{"nil response", nil, ""},
	}
	for _, tt := range tests {
		got := string(codec.AppendResponse(nil, tt.r))
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestAppendResponseAllocs: with room in dst, encoding allocates nothing.
func TestAppendResponseAllocs(t *testing.T) {
	r := decodeOne(t, "* 12 FETCH (UID 4827 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 MODSEQ (12121231000) "+
		"BODY[HEADER.FIELDS (FROM)] {11}\r\nFrom: a@b\r\n X-UNKNOWN 1)\r\n")
	s := decodeOne(t, "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 X-NEW (a b))\r\n")
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		buf = codec.AppendResponse(buf[:0], r)
		buf = codec.AppendResponse(buf, s)
	}); n != 0 {
		t.Errorf("AppendResponse allocates %v times per call; want 0", n)
	}
}

// TestRoundTripEdgeCases: strings that need a literal or quoting where the
// decoder reads atoms, strings or raw syntax.
func TestRoundTripEdgeCases(t *testing.T) {
	for _, in := range []string{
		"* 1 FETCH (X-GM-LABELS (caf\xc3\xa9 \"a b\" \"\\\\Draft\" \"x\\\\y\" \\Important))\r\n",
		"* 1 FETCH (BODY[HEADER.FIELDS ({4}\r\nFROM)] NIL)\r\n",
		"* 1 FETCH (BODY[1.HEADER.FIELDS.NOT (X-A \"B C\")]<7> \"\")\r\n",
		"* 1 FETCH (PREVIEW {12}\r\nline1\r\nline2 SAVEDATE \"x\")\r\n",
		"* 1 FETCH (INTERNALDATE {26}\r\n17-Jul-1996 02:44:25 -0700)\r\n",
		"* 1 FETCH (RFC822 ~{3}\r\na\x00b)\r\n",
		"* LIST (\\X) \"\\\"\" a]b\r\n",
		"* LIST () \"/\" {5}\r\na\r\nbc\r\n",
		"* LIST () \"/\" \"\" (\"X\" {3}\r\nabc)\r\n",
		"* STATUS {3}\r\nb\"c (MESSAGES 1)\r\n",
		"* ESEARCH (TAG {4}\r\nt\xffg\xfe) COUNT 0\r\n",
		"* NAMESPACE ((\"\\\\\" \"\\\\\" {3}\r\nX Y (\"a\"))) NIL NIL\r\n",
		"* ID ({4}\r\nn\r\nm NIL NIL \"v\")\r\n",
		"* METADATA {3}\r\nI Z (/a {2}\r\n\r\n)\r\n",
		"* ACL \"\" \"\" \"\"\r\n",
		"* QUOTAROOT \"a\\\"b\" NIL\r\n",
		"* OK [BADCHARSET ({3}\r\nx y)] text\r\n",
		"* OK [PERMANENTFLAGS ()] \r\n",
		"* OK [CAPABILITY] x\r\n",
		"* OK text with \x00 and \r in it\r\n",
		"+ [ALERT] not a code here\r\n",
		"* 5 XFOO [a {1}\r\n]\r\n",
		"* THREAD ((1)(2 (3)(4)))((5 6))\r\n",
	} {
		d := decoder(in)
		r, err := d.Next()
		if err != nil {
			t.Errorf("decode %q: %v", in, err)
			continue
		}
		checkRoundTrip(t, r)
	}
}
