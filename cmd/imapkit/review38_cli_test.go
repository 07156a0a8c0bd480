//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview38CliHeadersJSONZoneOffset: a message whose Date header carries a
// zone offset past 23 hours ("+9900": any sender can write it; the date
// parser takes it) makes "headers --json" fail with exit 3 on the first
// such message (encoding/json refuses a time.Time whose offset RFC 3339
// cannot write), and the messages after it are never listed. docs/cli.md
// (headers row: "--json: an object per message"; JSON section) promises an
// object per message; the plain table lists the same mailbox fine.
func TestReview38CliHeadersJSONZoneOffset(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := t.TempDir()
	for i, date := range []string{"Mon, 1 Jan 2024 10:00:00 +0000", "Mon, 1 Jan 2024 10:00:00 +9900", "Mon, 1 Jan 2024 11:00:00 +0000"} {
		f := filepath.Join(dir, "m.eml")
		msg := "From: a@example.org\r\nDate: " + date + "\r\nSubject: m" + string(rune('1'+i)) + "\r\n\r\nbody\r\n"
		if err := os.WriteFile(f, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		cli(t, "", 0, with("append", tls, "INBOX", f)...)
	}
	out, _ := cli(t, "", 0, with("headers", tls, "INBOX")...)
	if strings.Count(out, "\n") != 4 {
		t.Fatalf("headers (table): %q; want a heading and 3 lines", out)
	}
	code, out, errs := runCLI(t, "", with("headers", tls, "INBOX", "--json")...)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h jsonHeader
		if l != "" && json.Unmarshal([]byte(l), &h) == nil {
			n++
		}
	}
	if code != 0 || n != 3 {
		t.Errorf("headers --json: exit %d, %d objects (want 0 and 3)\nstdout: %s\nstderr: %s", code, n, out, errs)
	}
}

// cli38NILServer is a server whose message UID 7 (sequence number 1) was
// expunged by another session: like Dovecot, it still answers a FETCH of
// its body, but with NIL. BODYSTRUCTURE is that of a one-part
// base64 attachment.
func cli38NILServer(t *testing.T) string {
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

// TestReview38CliFetchNILBodyExitsZero: "imapkit fetch URL INBOX 7 > msg.eml"
// of a message the server answers NIL for (expunged meanwhile: Dovecot
// does this) writes nothing and exits 0, silently: the NIL section counts
// as found. fetch --to says so on stderr and does not count it
// (docs/cli.md:71); docs/cli.md:540 has exit 1 for a fetch of a UID that
// is not there. A script that fetches then deletes keeps an empty file.
func TestReview38CliFetchNILBodyExitsZero(t *testing.T) {
	u := cli38NILServer(t)
	code, out, errs := runCLI(t, "", "fetch", u, "INBOX", "7")
	if code != 1 || errs == "" {
		t.Errorf("fetch of a message sent as NIL: exit %d, stdout %q, stderr %q; want exit 1 and an error", code, out, errs)
	}
}

// TestReview38CliFetchDecodeNILPartExitsZero: the same with --section 1
// --decode (and so --text, through oneMessage.part): the part sent as NIL
// is taken for an empty part, exit 0 with no byte written.
func TestReview38CliFetchDecodeNILPartExitsZero(t *testing.T) {
	u := cli38NILServer(t)
	code, out, errs := runCLI(t, "", "fetch", u, "INBOX", "7", "--section", "1", "--decode")
	if code != 1 || errs == "" {
		t.Errorf("fetch --section 1 --decode of a part sent as NIL: exit %d, stdout %q, stderr %q; want exit 1 and an error", code, out, errs)
	}
}

// TestReview38CliMissingExtensionExit3: docs/cli.md:540 gives exit 1 for "an
// extension the server lacks" (namespace does: ErrUnsupported), and 3 is
// for a connection, TLS, protocol or local I/O error (docs/cli.md:542).
// list --status on a server without LIST-STATUS, idle on one without IDLE
// and idle --notify on one without NOTIFY exit 3: their errors are plain
// errors.New, which exitCode maps to 3. A script retrying on 3 (the
// connection broke) retries forever.
func TestReview38CliMissingExtensionExit3(t *testing.T) {
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
