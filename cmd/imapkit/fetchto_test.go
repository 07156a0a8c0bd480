package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestFetchToDovecot: fetch of sets of messages to files, by UID and by
// sequence number, whole or a section, with table and JSON output.
func TestFetchToDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 6)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	msgs := testserver.SampleMessages(6)
	// files returns the names in dir, sorted.
	files := func(dir string) []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		return names
	}
	same := func(file string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(file)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes (%v); want the %d of the sample", file, len(got), err, len(want))
		}
	}

	dir := filepath.Join(t.TempDir(), "out", "inbox")
	out, _ := cli(t, "", 0, with("fetch", tls, "INBOX", "2:4,6", "--to", dir)...)
	if got := strings.Join(files(dir), " "); got != "2.eml 3.eml 4.eml 6.eml" {
		t.Fatalf("fetch 2:4,6 --to: files %q", got)
	}
	for _, u := range []int{2, 3, 4, 6} {
		same(filepath.Join(dir, itoa(u)+".eml"), msgs[u-1])
	}
	if !strings.Contains(out, "UID 3: "+filepath.Join(dir, "3.eml")) || !strings.Contains(out, "fetched 4 messages") {
		t.Errorf("fetch --to output: %q", out)
	}

	// Again, all of them, as JSON: the files are replaced whole, no
	// temporary file stays behind.
	out, _ = cli(t, "", 0, with("fetch", tls, "INBOX", "1:*", "--to", dir, "--json")...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("fetch 1:* --json: %d lines: %q", len(lines), out)
	}
	for i, l := range lines {
		var j jsonFetched
		if err := json.Unmarshal([]byte(l), &j); err != nil || j.UID != uint32(i+1) || j.Seq != uint32(i+1) || j.Size != int64(len(msgs[i])) || j.File != filepath.Join(dir, itoa(i+1)+".eml") {
			t.Errorf("line %d: %q (%v)", i, l, err)
		}
		same(j.File, msgs[i])
	}
	if got := len(files(dir)); got != 6 {
		t.Errorf("%d files after the second fetch: %q", got, files(dir))
	}

	// A section.
	hdir := filepath.Join(t.TempDir(), "headers")
	cli(t, "", 0, with("fetch", tls, "INBOX", "5", "--to", hdir, "--section", "HEADER")...)
	head, _, _ := bytes.Cut(msgs[4], []byte("\r\n\r\n"))
	same(filepath.Join(hdir, "5.eml"), append(head, "\r\n\r\n"...))

	// A large message goes through the streaming path.
	big := append([]byte("From: big@example.com\r\nSubject: big\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?\r\n"), 40000)...)
	cli(t, string(big), 0, with("append", tls, "Archive")...)
	bdir := filepath.Join(t.TempDir(), "big")
	cli(t, "", 0, with("fetch", tls, "Archive", "1:*", "--to", bdir)...)
	same(filepath.Join(bdir, "1.eml"), big)

	// Sequence numbers: after UID 1 is expunged, 1:2 are UIDs 2 and 3.
	cli(t, "", 0, with("store", tls, "INBOX", "1", "+FLAGS", `\Deleted`)...)
	cli(t, "", 0, with("expunge", tls, "INBOX")...)
	sdir := filepath.Join(t.TempDir(), "seq")
	out, _ = cli(t, "", 0, with("fetch", tls, "INBOX", "1:2", "--seq", "--to", sdir, "--json")...)
	if got := strings.Join(files(sdir), " "); got != "2.eml 3.eml" {
		t.Errorf("fetch --seq 1:2: files %q", got)
	}
	if !strings.Contains(out, `{"uid":2,"seq":1,`) {
		t.Errorf("fetch --seq --json: %q", out)
	}
	same(filepath.Join(sdir, "2.eml"), msgs[1])
	out, _ = cli(t, "", 0, with("fetch", tls, "INBOX", "1", "--seq")...)
	if out != string(msgs[1]) {
		t.Errorf("fetch --seq 1 to stdout: %d bytes; want sample 2", len(out))
	}

	// Nothing there: exit 1. A set without --to, or a bad set: exit 2.
	_, errs := cli(t, "", 1, with("fetch", tls, "INBOX", "100:200", "--to", sdir)...)
	if !strings.Contains(errs, "no message of 100:200") {
		t.Errorf("fetch of missing UIDs: %q", errs)
	}
	_, errs = cli(t, "", 2, with("fetch", tls, "INBOX", "1:3")...)
	if !strings.Contains(errs, "--to DIR") {
		t.Errorf("fetch of a set to stdout: %q", errs)
	}
	cli(t, "", 2, with("fetch", tls, "INBOX", "1:x", "--to", sdir)...)
	if got := strings.Join(files(sdir), " "); got != "2.eml 3.eml" {
		t.Errorf("files after the failed fetches: %q", got)
	}
}

// TestFetchTextDovecot: fetch --text prints a message's text decoded to
// UTF-8: the text/plain part of an alternative, else the HTML part (with a
// note), and fails plainly for a message without text. It is for reading:
// line ends become LF, a text that does not end its last line (the CRLF
// before a MIME boundary is the boundary's) gets one, and control
// characters that could drive the terminal are shown as '?'.
func TestFetchTextDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	alt := "From: a@example.org\r\nSubject: alt\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Gr=FC=DFe aus K=F6ln, a long line that the encoder has broken in two with a=\r\n soft break.\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+R3LDvMOfZTwvcD4=\r\n--b--\r\n"
	html := "From: a@example.org\r\nSubject: html\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/html; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>\xf0\xd2\xc9\xd7\xc5\xd4</p>\r\n"
	image := "From: a@example.org\r\nSubject: image\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
	// Terminal escapes, in ESC and in C1 (U+009B, CSI), a bare CR and a
	// BEL: none reaches the terminal.
	hostile := "From: a@example.org\r\nSubject: escapes\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"=1B[31mred=1B[0m =C2=9B2J over=0Dwritten=07\ttab\r\nlast\r\n"
	for i, m := range []string{alt, html, image, hostile} {
		out, _ := cli(t, m, 0, with("append", tls, "INBOX", "-")...)
		if !strings.Contains(out, "UID "+strconv.Itoa(i+1)+" ") {
			t.Fatalf("append: %q", out)
		}
	}
	out, errs := cli(t, "", 0, with("fetch", tls, "INBOX", "1", "--text")...)
	if want := "Grüße aus Köln, a long line that the encoder has broken in two with a soft break.\n"; out != want || errs != "" {
		t.Errorf("fetch --text of the alternative: %q (stderr %q); want %q", out, errs, want)
	}
	out, errs = cli(t, "", 0, with("fetch", tls, "INBOX", "2", "--seq", "--text")...)
	if out != "<p>Привет</p>\n" || !strings.Contains(errs, "text/html part 1") {
		t.Errorf("fetch --text of the HTML message: %q (stderr %q)", out, errs)
	}
	_, errs = cli(t, "", 1, with("fetch", tls, "INBOX", "3", "--text")...)
	if !strings.Contains(errs, "no text part") {
		t.Errorf("fetch --text of the image: %q", errs)
	}
	out, _ = cli(t, "", 0, with("fetch", tls, "INBOX", "4", "--text")...)
	if want := "?[31mred?[0m ?2J over?written?\ttab\nlast\n"; out != want {
		t.Errorf("fetch --text of escapes: %q; want %q", out, want)
	}
	_, errs = cli(t, "", 1, with("fetch", tls, "INBOX", "9", "--text")...)
	if !strings.Contains(errs, "no message with UID 9") {
		t.Errorf("fetch --text of a missing UID: %q", errs)
	}
	cli(t, "", 2, with("fetch", tls, "INBOX", "1", "--text", "--section", "1")...)
}

// TestFetchPartsDovecot: fetch --parts lists a message's parts, and
// --section N --decode writes one with its transfer encoding undone: the
// photo of a sample message, byte for byte what its base64 holds; the
// forwarded message's parts are listed inside it.
func TestFetchPartsDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 10)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	// Sample 4 (UID 5) is a photo; sample 6 (UID 7) a forwarded message.
	info := testserver.SampleInfo(4)
	if info.Kind != testserver.SampleImage {
		t.Fatalf("sample 4 is %s", info.Kind)
	}
	out, _ := cli(t, "", 0, with("fetch", tls, "INBOX", "5", "--parts")...)
	t.Logf("fetch --parts:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "PART") ||
		!strings.Contains(lines[1], "text/plain") || !strings.Contains(lines[1], "us-ascii") ||
		!strings.Contains(lines[2], "image/png") || !strings.Contains(lines[2], "base64") ||
		!strings.Contains(lines[2], "attachment") || !strings.HasSuffix(lines[2], info.Attachment) {
		t.Errorf("fetch --parts:\n%s", out)
	}
	out, _ = cli(t, "", 0, with("fetch", tls, "INBOX", "7", "--parts", "--json")...)
	var parts []jsonPart
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var p jsonPart
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("fetch --parts --json: %q: %v", l, err)
		}
		parts = append(parts, p)
	}
	var got []string
	for _, p := range parts {
		got = append(got, p.Part+" "+p.Type)
	}
	if g := strings.Join(got, ", "); g != "1 text/plain, 2 message/rfc822, 2.1 text/plain" {
		t.Errorf("fetch --parts --json of the forward: %s", g)
	}

	raw, _ := cli(t, "", 0, with("fetch", tls, "INBOX", "5", "--section", "2")...)
	want, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(strings.TrimSpace(raw), "\r\n", ""))
	if err != nil {
		t.Fatalf("the raw part is not base64: %v", err)
	}
	photo, _ := cli(t, "", 0, with("fetch", tls, "INBOX", "5", "--section", "2", "--decode")...)
	if photo != string(want) || !strings.HasPrefix(photo, "\x89PNG") {
		t.Errorf("fetch --decode: %d bytes %q...; want the %d of the part", len(photo), photo[:min(8, len(photo))], len(want))
	}
	_, errs := cli(t, "", 1, with("fetch", tls, "INBOX", "5", "--section", "3", "--decode")...)
	if !strings.Contains(errs, "no single part 3") {
		t.Errorf("fetch --decode of a missing part: %q", errs)
	}
	cli(t, "", 2, with("fetch", tls, "INBOX", "5", "--section", "HEADER", "--decode")...)
	cli(t, "", 2, with("fetch", tls, "INBOX", "5", "--parts", "--text")...)
}

// TestFetchTextHostile: a server that names a part in an unknown transfer
// encoding and charset (with a terminal escape in its name) gets the part
// printed as it is, with a warning whose name is escaped; one that answers
// the FETCH of the part without it is an error, not empty output.
func TestFetchTextHostile(t *testing.T) {
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			uid, _, _ := strings.Cut(cmd.Args, " ")
			enc := "X-ROT13"
			if uid == "7" {
				enc = "BASE64"
			}
			switch {
			case cmd.Name == "UID FETCH" && strings.Contains(cmd.Args, "BODYSTRUCTURE"):
				err = c.Lines(`* 1 FETCH (UID `+uid+` BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "x-`+"\x1b[2J"+`klingon") NIL NIL "`+enc+`" 7 1 NIL NIL NIL NIL))`,
					cmd.Tag+" OK done")
			case cmd.Name == "UID FETCH" && uid == "5":
				err = c.Lines("* 1 FETCH (UID 5)", cmd.Tag+" OK done") // no BODY[1]
			case cmd.Name == "UID FETCH" && uid == "6":
				err = c.Lines("* 1 FETCH (UID 6 BODY[1] {6}", "qnQnu!)", cmd.Tag+" OK done")
			case cmd.Name == "UID FETCH":
				err = c.Lines("* 1 FETCH (UID 7 BODY[1] {4}", "aGk=)", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	url := "imap://alice@" + srv.Addr()
	out, errs := cli(t, "", 0, "fetch", url, "INBOX", "6", "--text")
	if out != "qnQnu!\n" || !strings.Contains(errs, `unknown content transfer encoding "X-ROT13"`) {
		t.Errorf("fetch --text of an unknown encoding: %q, stderr %q", out, errs)
	}
	out, errs = cli(t, "", 0, "fetch", url, "INBOX", "7", "--text")
	if out != "hi\n" || !strings.Contains(errs, `unknown charset "x-\x1b[2Jklingon"`) {
		t.Errorf("fetch --text of an unknown charset: %q, stderr %q", out, errs)
	}
	if strings.ContainsRune(errs, 0x1b) {
		t.Errorf("a terminal escape reached stderr: %q", errs)
	}
	_, errs = cli(t, "", 1, "fetch", url, "INBOX", "5", "--text")
	if !strings.Contains(errs, "sent no part 1 of UID 5") {
		t.Errorf("fetch --text without the part: %q", errs)
	}
}

// TestIdleNotifyDovecot: idle --notify reports new mail in another
// mailbox (with its counts) and a mailbox created meanwhile, as text and
// as JSON.
func TestIdleNotifyDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	for _, json := range []bool{false, true} {
		box := "Fresh" + strconv.FormatBool(json)
		args := with("idle", tls, "INBOX", "--notify", "--for", "60s")
		if json {
			args = append(args, "--json")
		}
		wantStatus, wantList := "MAILBOX Trash messages ", "LIST "+box+" ()"
		if json {
			wantStatus, wantList = `{"event":"mailbox","mailbox":"Trash","messages":`, `{"event":"list","mailbox":"`+box+`"}`
		}
		out := idleUntil(t, args, func() {
			cli(t, "From: x@example.com\r\nSubject: elsewhere\r\n\r\nx\r\n", 0, with("append", tls, "Trash")...)
			cli(t, "", 0, with("create", tls, box)...)
		}, wantStatus, wantList)
		if !strings.Contains(out, wantStatus) || !strings.Contains(out, wantList) {
			t.Errorf("idle --notify (json %v): no %q or %q in\n%s", json, wantStatus, wantList, out)
		}
	}
}
