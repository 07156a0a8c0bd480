package testserver

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

func TestSampleMessagesDeterministic(t *testing.T) {
	t.Parallel()
	msgs := SampleMessages(120)
	again := SampleMessages(120)
	minSize, maxSize := 1<<30, 0
	for i, m := range msgs {
		if !bytes.Equal(m, again[i]) || !bytes.Equal(m, SampleMessage(i)) {
			t.Fatalf("message %d is not deterministic", i)
		}
		if bytes.Contains(bytes.ReplaceAll(m, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(m, []byte("\r\n"), nil), []byte("\r")) {
			t.Errorf("message %d has a bare CR or LF", i)
		}
		minSize, maxSize = min(minSize, len(m)), max(maxSize, len(m))

		info := SampleInfo(i)
		pm, err := mail.ReadMessage(bytes.NewReader(m))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		h := pm.Header
		if got := h.Get("Message-Id"); got != info.MessageID {
			t.Errorf("message %d: Message-ID %q, want %q", i, got, info.MessageID)
		}
		date, err := h.Date()
		if err != nil || !date.Equal(info.Date) {
			t.Errorf("message %d: Date %v (%v), want %v", i, date, err, info.Date)
		}
		from, err := addrParser.Parse(unfold(h.Get("From")))
		if err != nil || from.Address != info.From {
			t.Errorf("message %d: From %q: %v %v", i, h.Get("From"), from, err)
		} else if from.Name != info.FromName {
			t.Errorf("message %d: From name %q, want %q", i, from.Name, info.FromName)
		}
		subj, err := decoder.DecodeHeader(unfold(h.Get("Subject")))
		if err != nil || subj != info.Subject {
			t.Errorf("message %d: Subject %q decodes to %q (%v), want %q", i, h.Get("Subject"), subj, err, info.Subject)
		}
		to, err := addrParser.ParseList(unfold(h.Get("To")))
		if err != nil || len(to) != len(info.To) {
			t.Errorf("message %d: To %q: %v", i, h.Get("To"), err)
		}
		if got := h.Get("In-Reply-To"); got != info.InReplyTo {
			t.Errorf("message %d: In-Reply-To %q, want %q", i, got, info.InReplyTo)
		}
		body, _ := io.ReadAll(pm.Body)
		if !bytes.Contains(body, []byte(info.Token)) {
			t.Errorf("message %d: body lacks %s", i, info.Token)
		}
		if got := h.Get("X-Imapkit-Index"); got != fmt.Sprint(i) {
			t.Errorf("message %d: X-Imapkit-Index %q", i, got)
		}
		if (info.Kind == SampleInvoice) != strings.HasPrefix(info.Subject, "Invoice INV-") {
			t.Errorf("message %d: kind %s subject %q", i, info.Kind, info.Subject)
		}
	}
	if minSize < 700 || maxSize < 90_000 || maxSize > 130_000 {
		t.Errorf("sizes from %d to %d bytes, want ~1 KB to ~100 KB", minSize, maxSize)
	}
	t.Logf("sizes from %d to %d bytes", minSize, maxSize)
}

func unfold(s string) string { return strings.NewReplacer("\r\n ", " ", "\r\n\t", " ").Replace(s) }

// decoder decodes the charsets used by the samples, reusing the package's
// encoders in reverse.
var decoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var table map[rune]byte
	switch strings.ToLower(charset) {
	case "koi8-r":
		table = koi8rMap
	case "windows-1252":
		table = map[rune]byte{}
		for r, c := range cp1252Extra {
			table[r] = c
		}
		for c := 0xa0; c < 0x100; c++ {
			table[rune(c)] = byte(c)
		}
	case "iso-2022-jp":
		return strings.NewReader(decodeISO2022JP(b)), nil
	default:
		return nil, fmt.Errorf("unexpected charset %s", charset)
	}
	rev := map[byte]rune{}
	for r, c := range table {
		rev[c] = r
	}
	var s strings.Builder
	for _, c := range b {
		if r, ok := rev[c]; ok {
			s.WriteRune(r)
		} else {
			s.WriteByte(c)
		}
	}
	return strings.NewReader(s.String()), nil
}}

func decodeISO2022JP(b []byte) string {
	var s strings.Builder
	jis := false
	for i := 0; i < len(b); i++ {
		switch {
		case bytes.HasPrefix(b[i:], []byte("\x1b$B")):
			jis = true
			i += 2
		case bytes.HasPrefix(b[i:], []byte("\x1b(B")):
			jis = false
			i += 2
		case jis && i+1 < len(b):
			c1, c2 := b[i], b[i+1]
			i++
			switch c1 {
			case 0x24:
				s.WriteRune(rune(c2) - 0x21 + 0x3041)
			case 0x25:
				s.WriteRune(rune(c2) - 0x21 + 0x30a1)
			case 0x21:
				s.WriteRune(map[byte]rune{0x3c: 'ー', 0x22: '、', 0x23: '。', 0x21: '\u3000'}[c2])
			}
		default:
			s.WriteByte(b[i])
		}
	}
	return s.String()
}

// TestCharsetEncoders compares with Python's codecs.
func TestCharsetEncoders(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		enc  func(string) []byte
		in   string
		want string
	}{
		{toKOI8R, "Отчёт за квартал", "\xef\xd4\xde\xa3\xd4 \xda\xc1 \xcb\xd7\xc1\xd2\xd4\xc1\xcc"},
		{toKOI8R, "Дмитрий Петров", "\xe4\xcd\xc9\xd4\xd2\xc9\xca \xf0\xc5\xd4\xd2\xcf\xd7"},
		{toISO2022JP, "ミーティングのおしらせ", "\x1b$B%_!<%F%#%s%0$N$*$7$i$;\x1b(B"},
		{toISO2022JP, "ヤマダ タロウ", "\x1b$B%d%^%@\x1b(B \x1b$B%?%m%&\x1b(B"},
		{toWindows1252, "“Quoted” price: 5 €", "\x93Quoted\x94 price: 5 \x80"},
		{toWindows1252, "Fees – “final” notice", "Fees \x96 \x93final\x94 notice"},
		{toLatin1, "Smørrebrød for lunch", "Sm\xf8rrebr\xf8d for lunch"},
	} {
		if got := string(c.enc(c.in)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSampleKindsMix(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		SampleInvoice:     "application/pdf",
		SamplePlain:       "text/plain; charset=us-ascii",
		SampleAlternative: "multipart/alternative",
		SampleUTF8:        "charset=utf-8",
		SampleImage:       "image/png",
		SampleLatin1:      "charset=iso-8859-1",
		SampleForward:     "message/rfc822",
		SampleJapanese:    "charset=iso-2022-jp",
		SampleRussian:     "charset=koi8-r",
		SampleWindows1252: "charset=windows-1252",
	}
	for i := 0; i < 10; i++ {
		m := string(SampleMessage(i + 10))
		if k := SampleInfo(i + 10).Kind; !strings.Contains(m, want[k]) {
			t.Errorf("message %d (%s) lacks %q", i+10, k, want[k])
		}
	}
}

var addrParser = &mail.AddressParser{WordDecoder: decoder}

// TestSampleAttachments decodes the base64 attachments.
func TestSampleAttachments(t *testing.T) {
	t.Parallel()
	for _, i := range []int{0, 4, 10, 14, 54, 104, 990} {
		info := SampleInfo(i)
		pm, err := mail.ReadMessage(bytes.NewReader(SampleMessage(i)))
		if err != nil {
			t.Fatal(err)
		}
		_, params, err := mime.ParseMediaType(pm.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(pm.Body, params["boundary"])
		var found bool
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if p.FileName() == "" {
				continue
			}
			found = true
			if p.FileName() != info.Attachment {
				t.Errorf("message %d: attachment %q, want %q", i, p.FileName(), info.Attachment)
			}
			data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			if err != nil {
				t.Fatalf("message %d: base64: %v", i, err)
			}
			switch info.Kind {
			case SampleInvoice:
				if !bytes.HasPrefix(data, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) {
					t.Errorf("message %d: not PDF-like: %q...%q", i, data[:20], data[len(data)-10:])
				}
			case SampleImage:
				if !bytes.HasPrefix(data, pngHeader) {
					t.Errorf("message %d: not PNG-like", i)
				}
				if i%50 == 4 && len(data) < 70000 {
					t.Errorf("message %d: PNG only %d bytes", i, len(data))
				}
			}
		}
		if !found {
			t.Errorf("message %d: no attachment", i)
		}
	}
}
