// Package corpus generates realistic IMAP server output for benchmarks and
// tests: streams of FETCH responses as real servers send them, SEARCH
// responses and body literals. The output is deterministic.
package corpus

import (
	"fmt"
	"strconv"
)

var (
	names   = []string{"Terry Gray", "Mark Crispin", "Alexey Melnikov", "Barry Leiba", "Chris Newman", "Arnt Gulbrandsen", "Pete Resnick", "Timo Sirainen"}
	users   = []string{"gray", "mrc", "alexey.melnikov", "barryleiba", "chris.newman", "arnt", "presnick", "tss"}
	hosts   = []string{"cac.washington.edu", "panda.com", "isode.com", "computer.org", "oracle.com", "gulbrandsen.priv.no", "episteme.net", "iki.fi"}
	subject = []string{
		"IMAP4rev1 WG mtg summary and minutes",
		"Re: CONDSTORE and QRESYNC interaction with VANISHED (EARLIER)",
		"=?UTF-8?B?UmU6IMOcYmVyc2ljaHQgZGVyIMOEbmRlcnVuZ2Vu?=",
		"Fwd: invoice 2026-0042 for hosting services",
		"=?ISO-8859-1?Q?Caf=E9_meeting_on_Friday?=",
		"Quarterly report: numbers, charts and the outlook for next year",
	}
)

// FetchMetadata returns n untagged FETCH responses carrying UID, FLAGS,
// INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, MODSEQ and a
// BODY[HEADER.FIELDS (...)] literal, about 1 KB each, shaped like Dovecot's
// answers to a mail client's header fetch.
func FetchMetadata(n int) []byte {
	out := make([]byte, 0, n*1100)
	for i := 1; i <= n; i++ {
		out = AppendFetchMetadata(out, i)
	}
	return out
}

// AppendFetchMetadata appends the i-th FETCH response of FetchMetadata.
func AppendFetchMetadata(out []byte, i int) []byte {
	a, b := i%len(names), (i*7+3)%len(names)
	flags := `\Seen`
	switch i % 4 {
	case 1:
		flags = `\Seen \Answered $Forwarded`
	case 2:
		flags = ""
	case 3:
		flags = `\Flagged \Seen NonJunk`
	}
	out = fmt.Appendf(out, "* %d FETCH (UID %d FLAGS (%s) INTERNALDATE \"%02d-Jul-2026 %02d:%02d:%02d +0200\" RFC822.SIZE %d ",
		i, 1000+i*3, flags, 1+i%28, i%24, i%60, (i*7)%60, 2000+(i*131)%90000)
	out = fmt.Appendf(out, "ENVELOPE (\"Wed, %d Jul 2026 %02d:%02d:%02d +0200\" \"%s\" ", 1+i%28, i%24, i%60, (i*7)%60, subject[i%len(subject)])
	addr := func(k int) {
		out = fmt.Appendf(out, "((\"%s\" NIL \"%s\" \"%s\"))", names[k], users[k], hosts[k])
	}
	addr(a) // from
	out = append(out, ' ')
	addr(a) // sender
	out = append(out, ' ')
	addr(a) // reply-to
	out = append(out, ' ')
	c := (b + 3) % len(names)
	out = fmt.Appendf(out, "((\"%s\" NIL \"%s\" \"%s\")(\"%s\" NIL \"%s\" \"%s\")(NIL NIL \"imap\" \"ietf.org\"))", names[b], users[b], hosts[b], names[c], users[c], hosts[c])
	if i%3 == 0 {
		out = fmt.Appendf(out, " ((\"%s\" NIL \"%s\" \"%s\"))", names[(a+1)%len(names)], users[(a+1)%len(names)], hosts[(a+1)%len(names)])
	} else {
		out = append(out, " NIL"...)
	}
	out = append(out, " NIL"...)
	if i%2 == 0 {
		out = fmt.Appendf(out, " \"<%d.%d@%s>\"", i-1, i*17, hosts[b])
	} else {
		out = append(out, " NIL"...)
	}
	out = fmt.Appendf(out, " \"<%d.%d@%s>\") ", i, i*31, hosts[a])
	out = append(out, "BODYSTRUCTURE "...)
	switch i % 3 {
	case 0:
		out = fmt.Appendf(out, "(\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"quoted-printable\" %d %d NIL NIL NIL NIL)", 1000+i%5000, 20+i%100)
	case 1:
		out = fmt.Appendf(out, "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" %d %d NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" %d %d NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b1_%d\") NIL NIL NIL)",
			500+i%700, 10+i%40, 3000+i%9000, 40+i%200, i)
	default:
		out = fmt.Appendf(out, "((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"8bit\" %d %d NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"invoice-%d.pdf\") NIL NIL \"base64\" %d NIL (\"attachment\" (\"filename\" \"invoice-%d.pdf\")) NIL NIL) \"mixed\" (\"boundary\" \"----=_Part_%d\") NIL NIL NIL)",
			300+i%500, 8+i%30, i, 40000+i%60000, i, i)
	}
	hdr := fmt.Sprintf("List-Id: IMAP extensions <imapext.ietf.org>\r\nX-Priority: %d\r\n\r\n", 1+i%5)
	out = fmt.Appendf(out, " MODSEQ (%d) BODY[HEADER.FIELDS (LIST-ID X-PRIORITY)] {%d}\r\n%s", 50000+i*13, len(hdr), hdr)
	out = append(out, ")\r\n"...)
	return out
}

// Search returns an untagged SEARCH response with n numbers.
func Search(n int) []byte {
	out := make([]byte, 0, n*8+16)
	out = append(out, "* SEARCH"...)
	for i := 1; i <= n; i++ {
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(i*3+100000), 10)
	}
	return append(out, "\r\n"...)
}

// BodyLiterals returns n FETCH responses, each with a BODY[] literal of
// size bytes, and the body used.
func BodyLiterals(n, size int) (stream, body []byte) {
	body = make([]byte, size)
	line := "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"
	for i := range body {
		body[i] = line[i%len(line)]
	}
	stream = make([]byte, 0, n*(size+64))
	for i := 1; i <= n; i++ {
		stream = fmt.Appendf(stream, "* %d FETCH (UID %d BODY[] {%d}\r\n", i, i+100, size)
		stream = append(stream, body...)
		stream = append(stream, ")\r\n"...)
	}
	return stream, body
}
