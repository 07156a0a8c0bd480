package commands_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// mimeBody is one leaf of a generated message: its text (or bytes), the
// charset and the transfer encoding it is written in.
type mimeBody struct {
	ctype, charset, cte, disposition string
	text                             string // in UTF-8, or the bytes of a non-text part
}

// encodePart writes a leaf's headers and body.
func encodePart(b *bytes.Buffer, p mimeBody) {
	raw := []byte(p.text)
	if p.charset != "" {
		var enc encoding.Encoding
		switch p.charset {
		case "iso-8859-1":
			enc = charmap.ISO8859_1
		case "windows-1252":
			enc = charmap.Windows1252
		case "koi8-r":
			enc = charmap.KOI8R
		case "shift_jis":
			enc = japanese.ShiftJIS
		case "iso-2022-jp":
			enc = japanese.ISO2022JP
		}
		if enc != nil {
			var err error
			if raw, err = enc.NewEncoder().Bytes(raw); err != nil {
				panic(err)
			}
		}
		fmt.Fprintf(b, "Content-Type: %s; charset=%q\r\n", p.ctype, p.charset)
	} else {
		fmt.Fprintf(b, "Content-Type: %s\r\n", p.ctype)
	}
	if p.disposition != "" {
		fmt.Fprintf(b, "Content-Disposition: %s\r\n", p.disposition)
	}
	fmt.Fprintf(b, "Content-Transfer-Encoding: %s\r\n\r\n", p.cte)
	switch p.cte {
	case "base64":
		s := base64.StdEncoding.EncodeToString(raw)
		for len(s) > 76 {
			b.WriteString(s[:76] + "\r\n")
			s = s[76:]
		}
		b.WriteString(s + "\r\n")
	case "quoted-printable":
		w := quotedprintable.NewWriter(b)
		w.Write(raw)
		w.Close()
		b.WriteString("\r\n")
	default:
		b.Write(raw)
		b.WriteString("\r\n")
	}
}

// mimeMessage builds a message of parts: one part alone, or a
// multipart/mixed whose first element may be a multipart/alternative of
// alt.
func mimeMessage(subject string, alt []mimeBody, parts ...mimeBody) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a@example.org\r\nTo: b@example.org\r\nSubject: %s\r\nMIME-Version: 1.0\r\n", subject)
	if alt == nil && len(parts) == 1 {
		encodePart(&b, parts[0])
		return b.Bytes()
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n")
	if alt != nil {
		b.WriteString("--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n")
		for _, p := range alt {
			b.WriteString("--alt\r\n")
			encodePart(&b, p)
		}
		b.WriteString("--alt--\r\n")
	}
	for _, p := range parts {
		b.WriteString("--outer\r\n")
		encodePart(&b, p)
	}
	b.WriteString("--outer--\r\n")
	return b.Bytes()
}

// pyDecodeScript decodes every message of its input with Python's email
// package: for each leaf part, its payload with the transfer encoding
// undone (get_payload(decode=True)) and, for text, that payload in its
// charset; and the text get_body finds for plain and html.
const pyDecodeScript = `
import base64, email, email.policy, json, sys
out = []
for raw in json.load(sys.stdin):
    msg = email.message_from_bytes(base64.b64decode(raw), policy=email.policy.default)
    parts = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        data = p.get_payload(decode=True)
        text = None
        if p.get_content_maintype() == "text":
            text = data.decode(p.get_content_charset() or "us-ascii", errors="replace")
        parts.append({"type": p.get_content_type(), "data": base64.b64encode(data).decode(), "text": text})
    body = {}
    for sub in ("plain", "html"):
        b = msg.get_body(preferencelist=(sub,))
        body[sub] = b.get_content() if b is not None and b.get_content_subtype() == sub else None
    out.append({"parts": parts, "body": body})
json.dump(out, sys.stdout)
`

// TestDecodePartsDovecotPython appends messages of many encodings and
// charsets (made here, and the sample corpus) to Dovecot, reads each leaf part's BODY[part] through
// BodyStructure.Decode and its BINARY[part] (decoded by Dovecot) through
// DecodeCharset, and finds the text with TextPart: each must agree with
// Python's email package on the same message, byte for byte, and with the
// text the message was made of.
func TestDecodePartsDovecotPython(t *testing.T) {
	// Waits on Dovecot and python3's imaplib, in mailboxes of its own (dvMailbox).
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 not found (%v): .ci/install-deps installs it", err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	blob := make([]byte, 5000)
	for i := range blob {
		blob[i] = byte(rng.Uint32())
	}
	long := strings.Repeat("Grüße aus Köln, naïve café = 5 ½; ", 12) // lines over 76: soft breaks
	msgs := [][]byte{
		mimeMessage("latin1 qp", nil, mimeBody{ctype: "text/plain", charset: "iso-8859-1", cte: "quoted-printable", text: long + "\r\nEnde.\r\n"}),
		mimeMessage("alternative", []mimeBody{
			{ctype: "text/plain", charset: "utf-8", cte: "base64", text: "Привет, 世界! déjà vu\r\n"},
			{ctype: "text/html", charset: "utf-8", cte: "quoted-printable", text: "<p>Привет, <b>世界</b> = déjà vu</p>\r\n"},
		}, mimeBody{ctype: "application/octet-stream", cte: "base64", disposition: "attachment; filename=blob.bin", text: string(blob)}),
		mimeMessage("mixed", nil,
			mimeBody{ctype: "text/plain", charset: "koi8-r", cte: "8bit", text: "Съешь же ещё этих мягких французских булок\r\n"},
			mimeBody{ctype: "text/plain", charset: "shift_jis", cte: "base64", text: "日本語のテキストです。\r\n", disposition: "attachment; filename=ja.txt"},
			mimeBody{ctype: "text/plain", charset: "iso-2022-jp", cte: "7bit", text: "こんにちは、世界。\r\n"}),
		mimeMessage("cp1252", nil, mimeBody{ctype: "text/plain", charset: "windows-1252", cte: "quoted-printable", text: "“Quoted” – dash € sign\r\n"}),
		mimeMessage("plain ascii", nil, mimeBody{ctype: "text/plain", cte: "7bit", text: "Just ASCII =41 text.\r\n"}),
	}
	// And the sample corpus: every kind of it (UTF-8, ISO-8859-1 and
	// windows-1252 in quoted-printable, ISO-2022-JP, KOI8-R, alternatives,
	// attachments, a forwarded message), twice.
	msgs = append(msgs, testserver.SampleMessages(2*len(testserver.SampleKinds))...)
	js, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", pyDecodeScript)
	cmd.Stdin = bytes.NewReader(js)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outJS, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var want []struct {
		Parts []struct {
			Type string  `json:"type"`
			Data []byte  `json:"data"`
			Text *string `json:"text"`
		} `json:"parts"`
		Body map[string]*string `json:"body"`
	}
	if err := json.Unmarshal(outJS, &want); err != nil || len(want) != len(msgs) {
		t.Fatalf("python3 output: %v (%d messages)", err, len(want))
	}

	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 0)
	for _, m := range msgs {
		if _, err := c.AppendBytes(ctx, mb, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	leaves, texts := 0, 0
	structures := map[uint32]*codec.BodyStructure{}
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{BodyStructure: true}) {
		if err != nil {
			t.Fatal(err)
		}
		structures[m.SeqNum] = m.BodyStructure
	}
	for i := range msgs {
		seq := uint32(i + 1)
		bs := structures[seq]
		var paths [][]int
		bs.Walk(func(path []int, p *codec.BodyStructure) bool {
			// Leaves, as Python's walk sees them: an attached message is
			// not one, its body is.
			if !p.IsMultipart() && p.Body == nil {
				paths = append(paths, slices.Clone(path))
			}
			return true
		})
		w := want[i]
		if len(paths) != len(w.Parts) {
			t.Fatalf("message %d: %d leaf parts; Python found %d", seq, len(paths), len(w.Parts))
		}
		var secs []commands.FetchSection
		for _, p := range paths {
			secs = append(secs, commands.FetchSection{Part: p}, commands.FetchSection{Part: p, Binary: true})
		}
		for m, err := range c.Fetch(ctx, commands.SeqNums(seq), &commands.FetchItems{Sections: secs}) {
			if err != nil {
				t.Fatal(err)
			}
			for j, path := range paths {
				part := bs.Part(path...)
				wp := w.Parts[j]
				if got := strings.ToLower(string(part.Type) + "/" + string(part.Subtype)); got != wp.Type {
					t.Fatalf("message %d part %v: %s; Python %s", seq, path, got, wp.Type)
				}
				body, _ := m.NextSection()
				r, err := codec.DecodeTransfer(string(part.Encoding), body)
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(data, wp.Data) {
					t.Errorf("message %d part %v: BODY[] decoded %q, %v;\nPython %q", seq, path, trunc(data), err, trunc(wp.Data))
				}
				bin, _ := m.NextSection()
				binData, err := io.ReadAll(bin)
				if err != nil || !bytes.Equal(binData, wp.Data) {
					t.Errorf("message %d part %v: BINARY[] %q, %v;\nPython %q", seq, path, trunc(binData), err, trunc(wp.Data))
				}
				leaves++
				if wp.Text == nil {
					continue
				}
				texts++
				r, err = part.Decode(bytes.NewReader(rawSection(t, c, seq, path)))
				if err != nil {
					t.Fatal(err)
				}
				text, _ := io.ReadAll(r)
				r, err = codec.DecodeCharset(part.Charset(), bytes.NewReader(binData))
				if err != nil {
					t.Fatal(err)
				}
				binText, _ := io.ReadAll(r)
				if string(text) != *wp.Text || string(binText) != *wp.Text {
					t.Errorf("message %d part %v: text %q, from BINARY %q;\nPython %q", seq, path, text, binText, *wp.Text)
				}
			}
		}
		for _, sub := range []string{"plain", "html"} {
			path, part := bs.TextPart(sub)
			wb := w.Body[sub]
			if (part == nil) != (wb == nil) {
				t.Fatalf("message %d: TextPart(%q) = %v; Python's get_body found %v", seq, sub, path, wb != nil)
			}
			if part == nil {
				continue
			}
			r, err := part.Decode(bytes.NewReader(rawSection(t, c, seq, path)))
			if err != nil {
				t.Fatal(err)
			}
			text, _ := io.ReadAll(r)
			if string(text) != *wb {
				t.Errorf("message %d: TextPart(%q) %v: %q;\nPython's get_body %q", seq, sub, path, text, *wb)
			}
		}
	}
	t.Logf("%d messages: %d leaf parts, %d of them text, agree with Python", len(msgs), leaves, texts)
	// And the texts the messages were made of.
	// (a single part's body ends with the CRLF that ends the message)
	if s := *want[0].Body["plain"]; s != long+"\r\nEnde.\r\n\r\n" {
		t.Errorf("latin1 text: %q", s)
	}
}

// rawSection fetches BODY.PEEK[path] of message seq whole.
func rawSection(t *testing.T, c *commands.Client, seq uint32, path []int) []byte {
	t.Helper()
	for m, err := range c.Fetch(dvCtx(t), commands.SeqNums(seq), &commands.FetchItems{Sections: []commands.FetchSection{{Part: path}}}) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("message %d: no FETCH response", seq)
	return nil
}

// trunc shortens b for a failure message.
func trunc(b []byte) []byte { return b[:min(len(b), 120)] }
