package main

import (
	"regexp"
	"strings"
)

// knownServer is a server whose quirks the codec tolerates: how probe
// recognizes it, and what it does that strays from the grammar. Each quirk
// names a line of the codec's capture of that server
// (codec/testdata/quirks/CAPTURE.txt): TestProbeQuirksMatchCodec checks
// that the line is there and that the codec decodes it, so that the table
// lists only what the codec really knows.
type knownServer struct {
	name    string
	capture string
	// greeting matches the greeting's text (after any response code);
	// idName matches the "name" field of the server's ID; cap is a
	// capability only this server announces. Any of them identifies it.
	greeting *regexp.Regexp
	idName   *regexp.Regexp
	cap      string
	quirks   []knownQuirk
}

// knownQuirk is one quirk and a line of a capture that shows it: the
// server's capture, or the one named.
type knownQuirk struct {
	text, line string
	capture    string
}

// knownServers are the servers of codec/testdata/quirks that can be told
// apart by their greeting, ID or capabilities.
var knownServers = []knownServer{
	{name: "Gmail", capture: "gmail", greeting: regexp.MustCompile(`^Gimap ready`), idName: regexp.MustCompile(`^GImap$`), cap: "X-GM-EXT-1",
		quirks: []knownQuirk{
			{"a bare \"* ESEARCH\" for an empty result", "* ESEARCH", ""},
			{"keywords with brackets in FLAGS ($Label[test])", `* FLAGS (\Answered \Flagged \Draft \Deleted \Seen $NotPhishing $Phishing $Label[test] Junk NonJunk)`, ""},
			{"response codes without text, 63-bit HIGHESTMODSEQ and MODSEQ", "* OK [HIGHESTMODSEQ 9223372036854775807]", ""},
			{"X-GM-LABELS, X-GM-MSGID and X-GM-THRID in FETCH", `* 2 FETCH (X-GM-LABELS (\Inbox Work) UID 5)`, ""},
		}},
	{name: "Microsoft Exchange / Outlook.com", capture: "outlook", greeting: regexp.MustCompile(`Microsoft Exchange`), idName: regexp.MustCompile(`(?i)exchange`),
		quirks: []knownQuirk{
			{"RFC822.SIZE -1 and body sizes -1 (kept negative)", `* 11 FETCH (UID 213 FLAGS () INTERNALDATE "09-Jul-2026 16:41:07 +0000" RFC822.SIZE -1`, ""},
			{"NIL as a body subtype", `BODYSTRUCTURE ("application" NIL NIL NIL NIL "7bit" 2048 NIL NIL NIL NIL))`, ""},
			{"a space after the STATUS list", "* STATUS INBOX (MESSAGES 12 UNSEEN 2) ", ""},
			{"response codes without a status after MOVE (\"* [COPYUID ...]\")", "* [COPYUID 123456 1 2]", "exchange-bare-code"},
		}},
	{name: "Yandex", capture: "yandex", greeting: regexp.MustCompile(`^Yandex IMAP4rev1`),
		quirks: []knownQuirk{
			{"BYE twice at LOGOUT", "* BYE IMAP4rev1 Server logging out\r\n* BYE IMAP4rev1 Server logging out", ""},
			{"response codes without text", "* OK [UNSEEN 5]", ""},
			{"a body section with no value before \")\"", " BODY[2] )", "yandex-missing-section"},
		}},
	{name: "Zoho Mail", capture: "zoho", greeting: regexp.MustCompile(`^Zoho Mail`),
		quirks: []knownQuirk{
			{"MODSEQ (-1), read as no mod-sequence", "* 2 FETCH (UID 1500000002 MODSEQ (-1) FLAGS ())", ""},
			{"UIDNEXT beyond 32 bits in a response code", "* OK [UIDNEXT 1500000000004] Predicted next UID", ""},
		}},
	{name: "NetEase 163.com (Coremail)", capture: "163", greeting: regexp.MustCompile(`^Coremail`), idName: regexp.MustCompile(`^Coremail`),
		quirks: []knownQuirk{
			{"unescaped quotes in BODYSTRUCTURE parameters", `("name" ""Q3 plan".docx")`, ""},
		}},
	{name: "Yahoo Mail", capture: "yahoo", greeting: regexp.MustCompile(`imapgate|\.yahoo\.com`), idName: regexp.MustCompile(`^Yahoo`), cap: "XYMHIGHESTMODSEQ",
		quirks: []knownQuirk{
			{"NIL where a body encoding or an address host belongs", `BODYSTRUCTURE ("text" "html" ("charset" "UTF-8") NIL NIL NIL 2811 42 NIL NIL NIL NIL)`, ""},
		}},
	{name: "QQ Mail", capture: "qq", greeting: regexp.MustCompile(`XMIMAP4Server|QQMail`),
		quirks: []knownQuirk{
			{"a space at the end of CAPABILITY and SEARCH", "* SEARCH 1 2 3 ", ""},
			{"spaces inside FLAGS", `* FLAGS ( \Answered \Seen \Deleted \Draft \Flagged )`, ""},
			{"lower-case response codes", "* OK [unseen 2] First unseen", ""},
			{"ID NIL", "* ID NIL", ""},
		}},
	{name: "HCL/IBM Domino", capture: "domino", greeting: regexp.MustCompile(`^Domino IMAP4 Server`),
		quirks: []knownQuirk{
			{"PERMANENTFLAGS ( \\*)", `* OK [PERMANENTFLAGS ( \*)] Limited`, ""},
			{"spaces in an empty flag list, ENVELOPE in double parentheses", `* 2 FETCH (UID 41 FLAGS ( ) ENVELOPE (("Thu, 2 Jul 2026 11:00:00 +0200"`, ""},
			{"backslash as the hierarchy delimiter", `* LIST (\HasNoChildren) "\\" "Projects\\Alpha"`, ""},
		}},
	{name: "GroupWise", capture: "groupwise", greeting: regexp.MustCompile(`GroupWise`),
		quirks: []knownQuirk{
			{"\\( and \\) in quoted mailbox names", `* LIST (\Unmarked) "/" "Calendar/GroupWise.5-Mehrfachbenutzer \(Standard\).MultiUser Control"`, ""},
		}},
	{name: "iCloud Mail", capture: "icloud", greeting: regexp.MustCompile(`iCloud IMAP4`),
		quirks: []knownQuirk{
			{"brackets in the greeting's text after its code", "iCloud IMAP4 service is ready (st44p00im-qfsd12345 25B149 [17:1])", ""},
			{"THREAD with a placeholder parent", "* THREAD ((5)(6))(7)", ""},
		}},
	{name: "UW IMAP", capture: "uw", greeting: regexp.MustCompile(`IMAP4rev1 20\d\d[a-z]?\.\d+`),
		quirks: []knownQuirk{
			{"NIL as the hierarchy delimiter", `* LIST (\NoInferiors) NIL INBOX`, ""},
			{"\\* first in PERMANENTFLAGS", `* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen)] Permanent flags`, ""},
			{"RFC822.HEADER as a literal", "* 3 FETCH (RFC822.HEADER {78}", ""},
		}},
	{name: "Courier-IMAP", capture: "courier", greeting: regexp.MustCompile(`Courier-IMAP`),
		quirks: []knownQuirk{
			{"ACL rights with a leading \"-\"", "* ACL INBOX owner aceilrstwx administrators aceilrstwx anyone -aceilrstwx", ""},
			{"unknown response codes with a quoted argument", `* OK [MYRIGHTS "acdilrsw"] ACL`, ""},
		}},
	{name: "Cyrus IMAP", capture: "cyrus", greeting: regexp.MustCompile(`Cyrus IMAP`), idName: regexp.MustCompile(`(?i)^Cyrus`),
		quirks: []knownQuirk{
			{"64-bit HIGHESTMODSEQ", "* OK [HIGHESTMODSEQ 18446744073709551615] Ok", ""},
			{"response codes of its own (URLMECH), kept raw", "* OK [URLMECH INTERNAL] Ok", ""},
			{"LIST with OLDNAME after RENAME", `* LIST () "." INBOX.renamed ("OLDNAME" ("INBOX.previous"))`, ""},
			{"METADATA MAXSIZE in a NO", "A014 NO [METADATA MAXSIZE 1024] Value too large", ""},
		}},
	{name: "Dovecot", capture: "dovecot", greeting: regexp.MustCompile(`Dovecot`), idName: regexp.MustCompile(`^Dovecot`),
		quirks: []knownQuirk{
			{"VANISHED (EARLIER) during SELECT with QRESYNC", "* VANISHED (EARLIER) 90:95,99", ""},
		}},
}

// identifyServer returns the known server that the greeting's text, the ID
// fields and the capabilities point to, or nil.
func identifyServer(greeting string, id map[string]string, caps ...[]string) *knownServer {
	name := ""
	for k, v := range id {
		if strings.EqualFold(k, "name") {
			name = v
		}
	}
	for i := range knownServers {
		s := &knownServers[i]
		if s.greeting != nil && s.greeting.MatchString(greeting) || s.idName != nil && name != "" && s.idName.MatchString(name) {
			return s
		}
		for _, l := range caps {
			for _, c := range l {
				if s.cap != "" && strings.EqualFold(c, s.cap) {
					return s
				}
			}
		}
	}
	return nil
}
