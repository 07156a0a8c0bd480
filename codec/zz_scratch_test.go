package codec_test

import (
	"fmt"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

func TestScratch(t *testing.T) {
	lines := []string{
		"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n",
		"A9 OK\r\n",
		"* OK [CLOSED]\r\n",
		"* OK [PERMANENTFLAGS ( \\*)] Limited\r\n",
		"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
		"A6 NO [BADCHARSET (UTF-8 \"US-ASCII\")] bad\r\n",
		"* OK [XFOO a (b \"c]\") 7] odd\r\n",
		"* OK [not a code\r\n",
		"+\r\n",
		"* LIST (\\HasNoChildren) \"\\\\\" {8}\r\nIn\"box x\r\n",
		"* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit/Peach\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
		"* STATUS \"INBOX\" (MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY 17 UNSEEN 1 DELETED 0 SIZE 4096 HIGHESTMODSEQ 7 APPENDLIMIT NIL MAILBOXID (F2212ea87) X-NEW (a b))\r\n",
		"* THREAD (2)(3 6 (4 23)(44 7 96))((11)(12))\r\n",
		"* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\")))\r\n",
		"* 12 FETCH (FLAGS (\\Seen $Label[x]) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 UID 4827 MODSEQ (12121231000) " +
		"BODY[HEADER.FIELDS (FROM \"TO\")]<0> {13}\r\nFrom: a@b\r\n\r\n BODY[1.2.MIME] NIL BINARY[2] ~{3}\r\na\x00b BINARY.SIZE[2] 3 RFC822.HEADER \"x\" " +
		"EMAILID (M6d99ac3275bb4e) THREADID NIL SAVEDATE NIL PREVIEW \"Hello\" X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \"[Gmail]/Sent\" foo) X-UNKNOWN (a (b) \"c\"))\r\n",
		"* 1 FETCH (ENVELOPE (\"date\" \"subj\" ((\"A\" NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL NIL \"<x@y>\") BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL))\r\n",
	}
	for _, l := range lines {
		r := decodeOne(t, l)
		fmt.Printf("%q\n", codec.AppendResponse(nil, r))
	}
}
