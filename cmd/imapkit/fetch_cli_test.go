//go:build linux

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// nilBodyServer is a server whose message UID 7 (sequence number 1) was
// expunged by another session: like Dovecot, it still answers a FETCH of
// its body, but with NIL. BODYSTRUCTURE is that of a one-part
// base64 attachment.
func nilBodyServer(t *testing.T) string {
	t.Helper()
	addr := jsonServer(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE UIDPLUS"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch {
			case cmd.Name == "UID FETCH" && strings.Contains(strings.ToUpper(cmd.Args), "BODYSTRUCTURE"):
				err = c.Lines(`* 1 FETCH (UID 7 BODYSTRUCTURE ("application" "octet-stream" NIL NIL NIL "base64" 8 NIL NIL NIL NIL))`, cmd.Tag+" OK done")
			case cmd.Name == "UID FETCH":
				sec := "BODY[]"
				if strings.Contains(cmd.Args, "[1]") {
					sec = "BODY[1]"
				}
				err = c.Lines("* 1 FETCH (UID 7 "+sec+" NIL)", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	return "imap://alice@" + addr
}

// TestFetchNILBodyExitsZero: "imapkit fetch URL INBOX 7 > msg.eml"
// of a message the server answers NIL for (expunged meanwhile: Dovecot
// does this) writes nothing and exits 0, silently: the NIL section counts
// as found. fetch --to says so on stderr and does not count it
// (docs/cli.md:71); docs/cli.md:540 has exit 1 for a fetch of a UID that
// is not there. A script that fetches then deletes keeps an empty file.
func TestFetchNILBodyExitsZero(t *testing.T) {
	u := nilBodyServer(t)
	code, out, errs := runCLI(t, "", "fetch", u, "INBOX", "7")
	if code != 1 || errs == "" {
		t.Errorf("fetch of a message sent as NIL: exit %d, stdout %q, stderr %q; want exit 1 and an error", code, out, errs)
	}
}

// TestFetchDecodeNILPartExitsZero: the same with --section 1
// --decode (and so --text, through oneMessage.part): the part sent as NIL
// is taken for an empty part, exit 0 with no byte written.
func TestFetchDecodeNILPartExitsZero(t *testing.T) {
	u := nilBodyServer(t)
	code, out, errs := runCLI(t, "", "fetch", u, "INBOX", "7", "--section", "1", "--decode")
	if code != 1 || errs == "" {
		t.Errorf("fetch --section 1 --decode of a part sent as NIL: exit %d, stdout %q, stderr %q; want exit 1 and an error", code, out, errs)
	}
}

// TestFetchMissingExtensionExit3: docs/cli.md:540 gives exit 1 for "an
// extension the server lacks" (namespace does: ErrUnsupported), and 3 is
// for a connection, TLS, protocol or local I/O error (docs/cli.md:542).
// list --status on a server without LIST-STATUS, idle on one without IDLE
// and idle --notify on one without NOTIFY exit 3: their errors are plain
// errors.New, which exitCode maps to 3. A script retrying on 3 (the
// connection broke) retries forever.
func TestFetchMissingExtensionExit3(t *testing.T) {
	server := func(caps string) string {
		return "imap://alice@" + jsonServer(t, func(c *hostile.Conn) error {
			if err := c.Greet(caps); err != nil {
				return err
			}
			return c.Serve()
		})
	}
	u, withIdle := server("IMAP4rev1"), server("IMAP4rev1 IDLE")
	for _, args := range [][]string{
		{"namespace", u}, // exit 1: the reference
		{"list", u, "--status"},
		{"idle", u, "INBOX", "--for", "1s"},
		{"idle", withIdle, "INBOX", "--for", "1s", "--notify"},
	} {
		code, _, errs := runCLI(t, "", args...)
		if code != 1 {
			t.Errorf("imapkit %s (the server lacks the extension): exit %d, want 1 (stderr %q)", args[0]+" "+strings.Join(args[2:], " "), code, errs)
		}
	}
}

// emptyPartsServer answers every body FETCH with the given section value.
func emptyPartsServer(t *testing.T, value string) string {
	t.Helper()
	addr := jsonServer(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 UIDPLUS"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch {
			case strings.Contains(cmd.Name, "FETCH") && strings.Contains(strings.ToUpper(cmd.Args), "BODYSTRUCTURE"):
				err = c.Lines(`* 1 FETCH (UID 7 BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))`, cmd.Tag+" OK done")
			case strings.Contains(cmd.Name, "FETCH"):
				sec := "BODY[]"
				up := strings.ToUpper(cmd.Args)
				switch {
				case strings.Contains(up, "[TEXT]"):
					sec = "BODY[TEXT]"
				case strings.Contains(up, "[1]"):
					sec = "BODY[1]"
				}
				err = c.Lines("* 1 FETCH (UID 7 "+sec+" "+value+")", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	return "imap://alice@" + addr
}

// TestFetchEmptySection: a section that is legitimately empty
// ("" or {0}, not NIL) is found: exit 0.
func TestFetchEmptySection(t *testing.T) {
	for _, v := range []string{`""`, "{0}\r\n"} {
		u := emptyPartsServer(t, v)
		for _, args := range [][]string{
			{"fetch", u, "INBOX", "7", "--section", "TEXT"},
			{"fetch", u, "INBOX", "1", "--seq", "--section", "TEXT"},
			{"fetch", u, "INBOX", "7", "--text"},
			{"fetch", u, "INBOX", "7", "--section", "1", "--decode"},
		} {
			code, out, errs := runCLI(t, "", args...)
			if code != 0 {
				t.Errorf("%q %v: exit %d stdout %q stderr %q", v, args[3:], code, out, errs)
			}
		}
	}
}

// TestFetchDovecotEmptyParts: Dovecot's answers for empty sections and
// parts (a message with no body; a multipart whose text part is empty).
func TestFetchDovecotEmptyParts(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := t.TempDir()
	msgs := []string{
		"From: a@example.org\r\nSubject: nobody\r\n\r\n",
		"From: a@example.org\r\nSubject: mp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--XX--\r\n",
	}
	for i, m := range msgs {
		f := dir + "/m" + string(rune('0'+i)) + ".eml"
		if err := writeFile600(f, m); err != nil {
			t.Fatal(err)
		}
		cli(t, "", 0, with("append", tls, "INBOX", f)...)
	}
	for _, args := range [][]string{
		{"fetch", tls, "INBOX", "1", "--section", "TEXT"},
		{"fetch", tls, "INBOX", "1", "--text"},
		{"fetch", tls, "INBOX", "1", "--section", "1"},
		{"fetch", tls, "INBOX", "1", "--section", "1", "--decode"},
		{"fetch", tls, "INBOX", "2", "--section", "1"},
		{"fetch", tls, "INBOX", "2", "--text"},
		{"fetch", tls, "INBOX", "2", "--section", "2", "--decode"},
		{"fetch", tls, "INBOX", "2", "--section", "2.MIME"},
		{"fetch", tls, "INBOX", "2", "--seq", "--section", "1"},
		{"fetch", tls, "INBOX", "2", "--section", "HEADER.FIELDS (X-NONE)"},
		{"fetch", tls, "INBOX", "2", "--section", "3"},
	} {
		code, out, errs := runCLI(t, "", with(args...)...)
		t.Logf("%v: exit %d stdout %q stderr %q", args[3:], code, out, errs)
		if code != 0 && args[len(args)-1] != "3" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args[3:], code, out, errs)
		}
	}
}

func writeFile600(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }
