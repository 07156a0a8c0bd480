package testserver

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Sample message kinds (MessageInfo.Kind), chosen by index: message i has
// kind SampleKinds[i%10].
const (
	SampleInvoice     = "invoice"      // multipart/mixed: text/plain + application/pdf (base64), From billing@example.com
	SamplePlain       = "plain"        // text/plain; charset=us-ascii; 7bit
	SampleAlternative = "alternative"  // multipart/alternative: text/plain + text/html, quoted-printable UTF-8
	SampleUTF8        = "utf8"         // text/plain; charset=utf-8; 8bit; Subject as UTF-8 B encoded-words
	SampleImage       = "image"        // multipart/mixed: text/plain + image/png (base64)
	SampleLatin1      = "latin1"       // text/plain; charset=iso-8859-1; quoted-printable; Subject ISO-8859-1 Q
	SampleForward     = "forward"      // multipart/mixed: text/plain + message/rfc822 (a forwarded message)
	SampleJapanese    = "japanese"     // text/plain; charset=iso-2022-jp; 7bit; Subject ISO-2022-JP B
	SampleRussian     = "russian"      // text/plain; charset=koi8-r; 8bit; Subject KOI8-R B
	SampleWindows1252 = "windows-1252" // text/plain; charset=windows-1252; quoted-printable; Subject windows-1252 Q
)

// SampleKinds lists the message kinds in index order: message i has kind
// SampleKinds[i%10].
var SampleKinds = [10]string{
	SampleInvoice, SamplePlain, SampleAlternative, SampleUTF8, SampleImage,
	SampleLatin1, SampleForward, SampleJapanese, SampleRussian, SampleWindows1252,
}

// MessageInfo describes sample message i as SampleMessage(i) generates it.
type MessageInfo struct {
	// Index is the message's index i (0-based); it is also in the
	// X-Imapkit-Index header.
	Index int
	// Kind is SampleKinds[Index%10].
	Kind string
	// MessageID is the Message-ID header value, angle brackets included:
	// "<imapkit-000042@example.org>".
	MessageID string
	// InReplyTo is the Message-ID of message Index-1 if this message is a
	// reply (Index%4 == 1), else "". References is the same.
	InReplyTo string
	// FromName is the decoded display name of the sender.
	FromName string
	// From is the sender's address.
	From string
	// To and Cc are the recipients' addresses.
	To, Cc []string
	// ReplyTo is the Reply-To address, or "".
	ReplyTo string
	// Subject is the decoded subject.
	Subject string
	// Date is the Date header (and, with SeedMailbox, the INTERNALDATE).
	Date time.Time
	// Token is a string that occurs in the body text of this message only:
	// "imapkit-msg-000042".
	Token string
	// Attachment is the file name of the attachment, or "".
	Attachment string
}

type person struct {
	name    string // display name, UTF-8
	addr    string
	charset string // charset for the encoded display name ("" = ASCII)
	enc     byte   // 'B' or 'Q'
}

var samplePeople = [7]person{
	{"Bob Builder", "bob@example.org", "", 0},
	{"Carol Müller", "carol@example.de", "UTF-8", 'Q'},
	{"Дмитрий Петров", "dmitry@example.ru", "KOI8-R", 'B'},
	{"José García", "jose@example.es", "ISO-8859-1", 'Q'},
	{"ヤマダ タロウ", "yamada@example.jp", "ISO-2022-JP", 'B'},
	{"Example News", "news@lists.example.net", "", 0},
	{"Eve Adams", "eve@example.com", "", 0},
}

var (
	alicePerson   = person{"Alice Example", "alice@example.org", "", 0}
	billingPerson = person{"Billing Department", "billing@example.com", "", 0}
	teamPerson    = person{"Team", "team@example.org", "", 0}
)

var sampleSubjects = []string{
	"Quarterly report draft",
	"Lunch on Friday?",
	"Project Falcon status update",
	"Server maintenance window",
	"Your photos from the trip",
	"Question about the API",
	"Weekly team sync notes",
	"Conference travel plans",
	"Reminder: timesheets due",
	"Budget review",
	"Welcome to the team!",
	"Release checklist",
	"Re-org announcement",
}

var localizedSubjects = map[string][]string{
	SampleUTF8:        {"Grüße aus München ☕", "Café, déjà vu – naïve résumé", "東京オフィスの会議 🗼 agenda"},
	SampleLatin1:      {"Réunion à Zürich", "Año nuevo en España", "Smørrebrød for lunch"},
	SampleJapanese:    {"ミーティングのおしらせ", "こんにちは"},
	SampleRussian:     {"Отчёт за квартал", "Привет из Москвы"},
	SampleWindows1252: {"“Quoted” price: 5 €", "Fees – “final” notice"},
}

var localizedBodies = map[string]string{
	SampleUTF8:        "Grüße aus München! Ein schöner Tag für Kaffee ☕ und Kuchen.\nЗдравствуйте, 東京 と 大阪. Emoji: 🎉✅",
	SampleLatin1:      "Voilà: la réunion aura lieu à Zürich. ¿Qué tal? Smørrebrød og æbleskiver.",
	SampleJapanese:    "こんにちは。\nミーティングのおしらせです。",
	SampleRussian:     "Привет из Москвы!\nОтчёт за квартал готов.",
	SampleWindows1252: "The “final” price is 5 € – including fees… see you!",
}

var sampleWords = strings.Fields(`the a project report meeting budget team schedule update review
server network release deadline customer invoice payment photo travel conference lunch office
agenda draft notes question answer proposal contract design feature bug fix deploy backup
monday tuesday wednesday thursday friday morning afternoon please thanks regards attached
quarterly numbers revenue forecast migration database latency throughput capacity storage
holiday weather coffee garden bicycle train airport hotel museum concert`)

var sampleZones = []*time.Location{
	time.UTC,
	time.FixedZone("", 1*3600),
	time.FixedZone("", -5*3600),
	time.FixedZone("", 9*3600),
	time.FixedZone("", 5*3600+1800),
}

var sampleEpoch = time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)

// SampleInfo describes sample message i without generating it. The rules
// (all deterministic, depending on i only):
//
//   - Kind is SampleKinds[i%10]. i%10 == 0 is an invoice: Subject
//     "Invoice INV-%06d for <Month Year>", From "Billing Department
//     <billing@example.com>", PDF attachment "invoice-%06d.pdf".
//   - Other senders rotate with i%7 through bob@example.org,
//     carol@example.de (UTF-8 Q name), dmitry@example.ru (KOI8-R B name),
//     jose@example.es (ISO-8859-1 Q name), yamada@example.jp (ISO-2022-JP B
//     name), news@lists.example.net and eve@example.com.
//   - To is alice@example.org, plus bob@example.org if i is odd, plus
//     team@example.org if i%7 == 3. Cc is bob@example.org and
//     carol@example.de if i%3 == 0. Reply-To is support@example.com if
//     i%5 == 2.
//   - i%4 == 1 is a reply to message i-1: Subject "Re: " + subject of i-1,
//     In-Reply-To and References set to i-1's Message-ID.
//   - Date is 2024-01-01 08:00 UTC + i*97 minutes, in one of five zones.
//   - Kind image with i%50 == 4 carries a large PNG: the message is about
//     100 KB. Other messages are roughly 1-15 KB.
//   - The body contains Token ("imapkit-msg-%06d"); the header has
//     X-Imapkit-Index: i.
func SampleInfo(i int) MessageInfo {
	kind := SampleKinds[i%10]
	info := MessageInfo{
		Index:     i,
		Kind:      kind,
		MessageID: sampleMessageID(i),
		Token:     fmt.Sprintf("imapkit-msg-%06d", i),
		Date:      sampleEpoch.Add(time.Duration(i) * 97 * time.Minute).In(sampleZones[i%len(sampleZones)]),
	}
	from := sampleSender(i)
	info.FromName, info.From = from.name, from.addr
	for _, p := range sampleTo(i) {
		info.To = append(info.To, p.addr)
	}
	for _, p := range sampleCc(i) {
		info.Cc = append(info.Cc, p.addr)
	}
	if i%5 == 2 {
		info.ReplyTo = "support@example.com"
	}
	info.Subject, _, _ = sampleSubject(i)
	if i%4 == 1 {
		info.InReplyTo = sampleMessageID(i - 1)
	}
	switch kind {
	case SampleInvoice:
		info.Attachment = fmt.Sprintf("invoice-%06d.pdf", i)
	case SampleImage:
		info.Attachment = fmt.Sprintf("photo-%06d.png", i)
	}
	return info
}

func sampleMessageID(i int) string { return fmt.Sprintf("<imapkit-%06d@example.org>", i) }

func sampleSender(i int) person {
	if i%10 == 0 {
		return billingPerson
	}
	return samplePeople[i%len(samplePeople)]
}

func sampleTo(i int) []person {
	to := []person{alicePerson}
	if i%2 == 1 {
		to = append(to, samplePeople[0])
	}
	if i%7 == 3 {
		to = append(to, teamPerson)
	}
	return to
}

func sampleCc(i int) []person {
	if i%3 == 0 {
		return []person{samplePeople[0], {"", "carol@example.de", "", 0}}
	}
	return nil
}

// sampleSubject returns the decoded subject, the header value (possibly
// encoded-words), and the body charset of message i.
func sampleSubject(i int) (decoded, header, charset string) {
	if i%4 == 1 {
		d, h, _ := sampleSubject(i - 1)
		_, _, cs := baseSubject(i)
		return "Re: " + d, "Re: " + h, cs
	}
	return baseSubject(i)
}

func baseSubject(i int) (decoded, header, charset string) {
	kind := SampleKinds[i%10]
	switch kind {
	case SampleInvoice:
		s := fmt.Sprintf("Invoice INV-%06d for %s", i, sampleEpoch.Add(time.Duration(i)*97*time.Minute).Format("January 2006"))
		return s, s, "us-ascii"
	case SampleUTF8:
		s := pick(localizedSubjects[kind], i)
		return s, encodeWord("UTF-8", 'B', []byte(s), true), "utf-8"
	case SampleLatin1:
		s := pick(localizedSubjects[kind], i)
		return s, encodeWord("ISO-8859-1", 'Q', toLatin1(s), false), "iso-8859-1"
	case SampleJapanese:
		s := pick(localizedSubjects[kind], i)
		return s, encodeWord("ISO-2022-JP", 'B', toISO2022JP(s), false), "iso-2022-jp"
	case SampleRussian:
		s := pick(localizedSubjects[kind], i)
		return s, encodeWord("KOI8-R", 'B', toKOI8R(s), false), "koi8-r"
	case SampleWindows1252:
		s := pick(localizedSubjects[kind], i)
		return s, encodeWord("windows-1252", 'Q', toWindows1252(s), false), "windows-1252"
	case SampleAlternative:
		s := sampleSubjects[(i*7+i/10)%len(sampleSubjects)]
		return s, s, "utf-8"
	default:
		s := sampleSubjects[(i*7+i/10)%len(sampleSubjects)]
		return s, s, "us-ascii"
	}
}

func pick(list []string, i int) string { return list[(i/10)%len(list)] }

// SampleMessage returns sample message i (see SampleInfo for what is
// deterministic). It is equal to SampleMessages(n)[i] for every n > i.
func SampleMessage(i int) []byte {
	info := SampleInfo(i)
	r := rand.New(rand.NewPCG(uint64(i), 0x696d61706b6974))
	var b bytes.Buffer
	b.Grow(8192)
	_, subjHeader, charset := sampleSubject(i)

	hdr := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	hdr("Return-Path", "<"+info.From+">")
	hdr("Received", fmt.Sprintf("from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n\tby imap.example.org with ESMTPS id %08X\r\n\tfor <alice@example.org>; %s",
		i%3+1, i%3+1, i%250+1, r.Uint32(), info.Date.Add(time.Duration(30+i%90)*time.Second).Format(time.RFC1123Z)))
	hdr("Date", info.Date.Format(time.RFC1123Z))
	hdr("From", formatAddress(sampleSender(i)))
	hdr("To", formatAddressList(sampleTo(i)))
	if cc := sampleCc(i); len(cc) > 0 {
		hdr("Cc", formatAddressList(cc))
	}
	if info.ReplyTo != "" {
		hdr("Reply-To", "Support <"+info.ReplyTo+">")
	}
	hdr("Subject", subjHeader)
	hdr("Message-ID", info.MessageID)
	if info.InReplyTo != "" {
		hdr("In-Reply-To", info.InReplyTo)
		hdr("References", info.InReplyTo)
	}
	hdr("X-Imapkit-Index", fmt.Sprint(i))
	if i%6 == 5 {
		hdr("X-Priority", "1 (Highest)")
	}
	if info.From == "news@lists.example.net" {
		hdr("List-Id", "Example News <news.lists.example.net>")
		hdr("List-Unsubscribe", "<mailto:news-unsubscribe@lists.example.net>")
	}
	hdr("MIME-Version", "1.0")

	text := sampleText(r, info.Token, 12+r.IntN(60))
	boundary := fmt.Sprintf("=_imapkit_%06d_%08x", i, r.Uint32())

	switch info.Kind {
	case SamplePlain:
		hdr("Content-Type", "text/plain; charset=us-ascii")
		hdr("Content-Transfer-Encoding", "7bit")
		b.WriteString("\r\n")
		writeText(&b, text)

	case SampleUTF8, SampleLatin1, SampleJapanese, SampleRussian, SampleWindows1252:
		// Only the localized opening needs converting: text is ASCII.
		local := localizedBodies[info.Kind]
		var raw []byte
		cte := "8bit"
		switch info.Kind {
		case SampleUTF8:
			raw = []byte(local)
		case SampleLatin1:
			raw, cte = toLatin1(local), "quoted-printable"
		case SampleJapanese:
			raw, cte = toISO2022JP(local), "7bit"
		case SampleRussian:
			raw = toKOI8R(local)
		case SampleWindows1252:
			raw, cte = toWindows1252(local), "quoted-printable"
		}
		raw = append(append(raw, "\n\n"...), text...)
		hdr("Content-Type", "text/plain; charset="+charset)
		hdr("Content-Transfer-Encoding", cte)
		b.WriteString("\r\n")
		if cte == "quoted-printable" {
			writeQP(&b, raw)
		} else {
			writeText(&b, string(raw))
		}

	case SampleAlternative:
		hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		writeQP(&b, []byte(text+"\n\nCheers – the team\n"))
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		writeQP(&b, []byte(sampleHTML(info, text)))
		b.WriteString("\r\n--" + boundary + "--\r\n")

	case SampleInvoice, SampleImage:
		hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
		ctype := "image/png"
		if info.Kind == SampleInvoice {
			ctype = "application/pdf"
			writeText(&b, fmt.Sprintf("Dear customer,\n\nplease find attached invoice INV-%06d.\nAmount due: EUR %d.%02d\n\n%s", i, 50+r.IntN(2000), r.IntN(100), text))
		} else {
			writeText(&b, "Here are the photos, see attachment.\n\n"+text)
		}
		b.WriteString("\r\n--" + boundary + "\r\n")
		fmt.Fprintf(&b, "Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, info.Attachment, info.Attachment)
		if info.Kind == SampleInvoice {
			n := 1500 + r.IntN(4000)
			prefix, suffix := pdfParts(i, n)
			writeBlob(&b, r, prefix, n, suffix)
		} else {
			n := 1500 + r.IntN(8000)
			if i%50 == 4 {
				n = 72000 + r.IntN(3000)
			}
			writeBlob(&b, r, pngHeader, n-len(pngHeader), nil)
		}
		b.WriteString("\r\n--" + boundary + "--\r\n")

	case SampleForward:
		hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
		writeText(&b, "Forwarding the message below, FYI.\n\n"+text)
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n")
		orig := samplePeople[(i+3)%len(samplePeople)]
		fmt.Fprintf(&b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: Original: %s\r\nMessage-ID: <imapkit-%06d-orig@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
			info.Date.Add(-26*time.Hour).Format(time.RFC1123Z), formatAddress(orig), formatAddress(sampleSender(i)),
			sampleSubjects[(i+5)%len(sampleSubjects)], i)
		writeText(&b, sampleText(r, "original-"+info.Token, 5+r.IntN(20)))
		b.WriteString("\r\n--" + boundary + "--\r\n")
	}
	return b.Bytes()
}

// SampleMessages returns messages SampleMessage(0) ... SampleMessage(n-1):
// a deterministic, realistic mix of RFC 5322 messages with CRLF line ends
// (see SampleInfo for the rules).
func SampleMessages(n int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = SampleMessage(i)
	}
	return msgs
}

// The sample generator draws text and binary data from pools that are
// built once (deterministically): copying slices of them keeps
// SampleMessages(20000) fast, also under the race detector.
var (
	poolOnce  sync.Once
	textLines []string // wrapped lines of words; "" marks a paragraph break
	blobPool  []byte   // pseudo-random bytes, a multiple of 57 bytes long
	blobB64   string   // blobPool base64 encoded, 76 characters + CRLF per 57 bytes
)

const (
	b64LineBytes = 57 // raw bytes per 76-character base64 line
	b64LineLen   = 78 // 76 characters + CRLF
	blobBlocks   = 3000
)

func initPools() {
	r := rand.New(rand.NewPCG(1, 2))
	var line strings.Builder
	for len(textLines) < 4000 {
		word := sampleWords[r.IntN(len(sampleWords))]
		if line.Len()+1+len(word) > 72 {
			textLines = append(textLines, line.String())
			line.Reset()
			if r.IntN(7) == 0 {
				textLines = append(textLines, "")
			}
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(word)
	}
	blobPool = make([]byte, blobBlocks*b64LineBytes)
	for k := 0; k+8 <= len(blobPool); k += 8 {
		binary.LittleEndian.PutUint64(blobPool[k:], r.Uint64())
	}
	var b bytes.Buffer
	writeBase64(&b, blobPool)
	blobB64 = b.String()
}

// sampleText returns about lines lines of LF-separated ASCII text (no
// '=', lines of at most 72 characters) that include token.
func sampleText(r *rand.Rand, token string, lines int) string {
	poolOnce.Do(initPools)
	start := r.IntN(len(textLines) - lines)
	var b strings.Builder
	b.WriteString("Hello,\n\n")
	for _, l := range textLines[start : start+lines] {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("\nReference: ")
	b.WriteString(token)
	b.WriteString("\n\n-- \nSent from the imapkit sample generator\n")
	return b.String()
}

func sampleHTML(info MessageInfo, text string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(htmlEscape(info.Subject))
	b.WriteString("</title></head>\n<body style=\"font-family: sans-serif\">\n")
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>\n")
		b.WriteString(htmlEscape(para))
		b.WriteString("\n</p>\n")
	}
	fmt.Fprintf(&b, "<p><a href=\"https://example.org/msg/%d\">Open in browser</a> &ndash; <b>Cheers</b></p>\n</body></html>\n", info.Index)
	return b.String()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// writeBlob writes prefix + n pseudo-random bytes + suffix base64 encoded,
// in lines of 76 characters. The random bytes come from blobPool (chosen
// by r); whole lines of them are copied from the pre-encoded blobB64.
func writeBlob(b *bytes.Buffer, r *rand.Rand, prefix []byte, n int, suffix []byte) {
	poolOnce.Do(initPools)
	fill := (b64LineBytes - len(prefix)%b64LineBytes) % b64LineBytes
	fill = min(fill, n)
	full := (n - fill) / b64LineBytes
	if full > blobBlocks-2 {
		full = blobBlocks - 2
	}
	block := 1 + r.IntN(blobBlocks-1-full) // first aligned block; block-1 supplies fill
	at := block * b64LineBytes
	var head []byte
	head = append(head, prefix...)
	head = append(head, blobPool[at-fill:at]...)
	tail := append([]byte(nil), blobPool[at+full*b64LineBytes:at+full*b64LineBytes+(n-fill-full*b64LineBytes)]...)
	tail = append(tail, suffix...)
	writeBase64(b, head)
	b.WriteString(blobB64[block*b64LineLen : (block+full)*b64LineLen])
	writeBase64(b, tail)
}

// pngHeader starts a PNG file (signature and IHDR of a 256x192 RGBA image).
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\xc0\x08\x06\x00\x00\x00")

func pdfParts(i, streamLen int) (prefix, suffix []byte) {
	prefix = fmt.Appendf(nil, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"+
		"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"+
		"3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>\nendobj\n"+
		"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", streamLen)
	suffix = fmt.Appendf(nil, "\nendstream\nendobj\n%% invoice INV-%06d\ntrailer\n<< /Root 1 0 R >>\n%%%%EOF\n", i)
	return prefix, suffix
}

// writeText writes LF-separated text with CRLF line ends.
func writeText(b *bytes.Buffer, s string) {
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			b.WriteString(s)
			b.WriteString("\r\n")
			return
		}
		b.WriteString(s[:i])
		b.WriteString("\r\n")
		s = s[i+1:]
	}
}

// writeQP writes LF-separated text quoted-printable encoded, CRLF line
// ends. Lines of plain ASCII without '=' are already valid
// quoted-printable and are copied.
func writeQP(b *bytes.Buffer, raw []byte) {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if qpSafe(line) {
			b.Write(line)
		} else {
			w := quotedprintable.NewWriter(b)
			w.Write(line)
			w.Close()
		}
		b.WriteString("\r\n")
	}
}

func qpSafe(line []byte) bool {
	if len(line) > 76 || (len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t')) {
		return false
	}
	for _, c := range line {
		if c < ' ' || c > '~' || c == '=' {
			return false
		}
	}
	return true
}

// writeBase64 writes data base64 encoded in lines of 76 characters.
func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding
	const lineBytes = 57 // 76 encoded characters
	buf := make([]byte, enc.EncodedLen(lineBytes))
	for len(data) > 0 {
		n := min(lineBytes, len(data))
		enc.Encode(buf, data[:n])
		b.Write(buf[:enc.EncodedLen(n)])
		b.WriteString("\r\n")
		data = data[n:]
	}
}

func formatAddress(p person) string {
	if p.name == "" {
		return p.addr
	}
	var name string
	switch p.charset {
	case "":
		name = `"` + p.name + `"`
		if !strings.ContainsAny(p.name, `.,:;@"()<>[]\`) {
			name = p.name
		}
	case "UTF-8":
		name = encodeWord(p.charset, p.enc, []byte(p.name), true)
	case "ISO-8859-1":
		name = encodeWord(p.charset, p.enc, toLatin1(p.name), false)
	case "KOI8-R":
		name = encodeWord(p.charset, p.enc, toKOI8R(p.name), false)
	case "ISO-2022-JP":
		name = encodeWord(p.charset, p.enc, toISO2022JP(p.name), false)
	}
	return name + " <" + p.addr + ">"
}

func formatAddressList(ps []person) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = formatAddress(p)
	}
	return strings.Join(s, ",\r\n ")
}

// encodeWord returns raw (in charset) as RFC 2047 encoded-words, folded
// with CRLF SP. Only UTF-8 input is split into several words (at rune
// boundaries); other charsets must fit in one word.
func encodeWord(charset string, enc byte, raw []byte, isUTF8 bool) string {
	prefix := "=?" + charset + "?" + string(enc) + "?"
	maxPayload := 75 - len(prefix) - 2
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, prefix+cur.String()+"?=")
			cur.Reset()
		}
	}
	if enc == 'B' {
		maxRaw := maxPayload / 4 * 3
		for len(raw) > 0 {
			n := min(maxRaw, len(raw))
			if isUTF8 {
				for n < len(raw) && n > 0 && !utf8.RuneStart(raw[n]) {
					n--
				}
			}
			cur.WriteString(base64.StdEncoding.EncodeToString(raw[:n]))
			flush()
			raw = raw[n:]
		}
		return strings.Join(words, "\r\n ")
	}
	const hex = "0123456789ABCDEF"
	for len(raw) > 0 {
		n := 1
		if isUTF8 {
			_, n = utf8.DecodeRune(raw)
		}
		var piece strings.Builder
		for _, c := range raw[:n] {
			switch {
			case c == ' ':
				piece.WriteByte('_')
			case c > ' ' && c < 0x7f && !strings.ContainsRune("=?_()<>@,;:\"\\", rune(c)):
				piece.WriteByte(c)
			default:
				piece.WriteByte('=')
				piece.WriteByte(hex[c>>4])
				piece.WriteByte(hex[c&15])
			}
		}
		if cur.Len()+piece.Len() > maxPayload {
			flush()
		}
		cur.WriteString(piece.String())
		raw = raw[n:]
	}
	flush()
	return strings.Join(words, "\r\n ")
}

// Charset encoders for the sample texts. Characters outside the charset
// become '?'.

func toLatin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 256 {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	return b
}

var cp1252Extra = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92,
	'“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '™': 0x99, 'š': 0x9a,
	'›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}

func toWindows1252(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch c, ok := cp1252Extra[r]; {
		case ok:
			b = append(b, c)
		case r < 0x80 || (r >= 0xa0 && r < 0x100):
			b = append(b, byte(r))
		default:
			b = append(b, '?')
		}
	}
	return b
}

// koi8rLetters maps "абв...яАБВ...Я" (with ё/Ё) to KOI8-R.
const (
	koi8rCyrillic = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
	koi8rBytes    = "\xc1\xc2\xd7\xc7\xc4\xc5\xa3\xd6\xda\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd2\xd3\xd4\xd5\xc6\xc8\xc3\xde\xdb\xdd\xdf\xd9\xd8\xdc\xc0\xd1" +
		"\xe1\xe2\xf7\xe7\xe4\xe5\xb3\xf6\xfa\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf2\xf3\xf4\xf5\xe6\xe8\xe3\xfe\xfb\xfd\xff\xf9\xf8\xfc\xe0\xf1"
)

var koi8rMap = func() map[rune]byte {
	m := make(map[rune]byte, 66)
	i := 0
	for _, r := range koi8rCyrillic {
		m[r] = koi8rBytes[i]
		i++
	}
	return m
}()

func toKOI8R(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if c, ok := koi8rMap[r]; ok {
			b = append(b, c)
		} else if r < 0x80 {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	return b
}

// toISO2022JP encodes ASCII, hiragana, katakana and a few punctuation
// marks (JIS X 0208 rows 1, 4 and 5), switching with ESC $ B / ESC ( B.
func toISO2022JP(s string) []byte {
	var b []byte
	jis := false
	for _, r := range s {
		var c1, c2 byte
		switch {
		case r >= 0x3041 && r <= 0x3093:
			c1, c2 = 0x24, byte(r-0x3041+0x21)
		case r >= 0x30a1 && r <= 0x30f6:
			c1, c2 = 0x25, byte(r-0x30a1+0x21)
		case r == 'ー':
			c1, c2 = 0x21, 0x3c
		case r == '、':
			c1, c2 = 0x21, 0x22
		case r == '。':
			c1, c2 = 0x21, 0x23
		case r == '\u3000':
			c1, c2 = 0x21, 0x21
		}
		if c1 != 0 {
			if !jis {
				b = append(b, "\x1b$B"...)
				jis = true
			}
			b = append(b, c1, c2)
			continue
		}
		if jis {
			b = append(b, "\x1b(B"...)
			jis = false
		}
		if r < 0x80 {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	if jis {
		b = append(b, "\x1b(B"...)
	}
	return b
}
