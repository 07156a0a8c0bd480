package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"

	"golang.org/x/text/width"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestHeadersDovecot: headers lists the newest messages with decoded
// subjects (the sample corpus writes them in eight charsets), a set by UID
// or sequence number, and JSON.
func TestHeadersDovecot(t *testing.T) {
	t.Parallel()
	const n = 25
	srv, cf := dovecot(t, n)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	out, _ := cli(t, "", 0, with("headers", tls, "INBOX")...)
	t.Logf("headers:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 21 || !strings.HasPrefix(lines[0], "UID") {
		t.Fatalf("headers: %d lines; want a heading and 20", len(lines))
	}
	// The columns line up on a terminal: the last column (FLAGS) starts at
	// the same display column on every line, Japanese subjects and names
	// (two columns a character) included.
	col := -1
	for _, l := range lines {
		c := termColumns(l[:strings.LastIndex(l, "  ")+2])
		if col >= 0 && c != col {
			t.Errorf("%q: its last column starts at %d, the others' at %d", l, c, col)
		}
		col = c
	}
	for i, l := range lines[1:] {
		uid := n - 20 + 1 + i
		info := testserver.SampleInfo(uid - 1)
		if !strings.HasPrefix(l, strconv.Itoa(uid)+" ") || !strings.Contains(l, printable(info.Subject)) ||
			!strings.Contains(l, info.From) || !strings.Contains(l, info.Date.Local().Format("2006-01-02 15:04")) {
			t.Errorf("line of UID %d: %q; want its subject %q, sender %s, date %s", uid, l, info.Subject, info.From, info.Date)
		}
	}
	out, _ = cli(t, "", 0, with("headers", tls, "INBOX", "--last", "3")...)
	if got := strings.Count(out, "\n"); got != 4 || !strings.Contains(out, "\n23 ") || !strings.Contains(out, "\n25 ") {
		t.Errorf("headers --last 3:\n%s", out)
	}
	out, _ = cli(t, "", 0, with("headers", tls, "INBOX", "2:3,7", "--json")...)
	var uids []uint32
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h jsonHeader
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("headers --json: %q: %v", l, err)
		}
		if info := testserver.SampleInfo(int(h.UID) - 1); h.Subject != info.Subject || h.Seq != h.UID || h.Size == 0 || h.Flags == nil {
			t.Errorf("headers --json: %+v; want subject %q", h, info.Subject)
		}
		uids = append(uids, h.UID)
	}
	if len(uids) != 3 || uids[0] != 2 || uids[2] != 7 {
		t.Errorf("headers 2:3,7: UIDs %v", uids)
	}
	out, _ = cli(t, "", 0, with("headers", tls, "INBOX", "4", "--seq")...)
	if !strings.Contains(out, "\n4 ") {
		t.Errorf("headers 4 --seq:\n%s", out)
	}
	if out, _ = cli(t, "", 0, with("headers", tls, "Trash")...); out != "" {
		t.Errorf("headers of an empty mailbox: %q", out)
	}
	cli(t, "", 2, with("headers", tls, "INBOX", "--last", "0")...)
	cli(t, "", 2, with("headers", tls, "INBOX", "x:y")...)
}

// termColumns counts the terminal columns of s as the test's own oracle:
// two for East Asian wide and fullwidth characters, one for the others
// (the corpus's subjects hold no combining marks).
func termColumns(s string) int {
	n := 0
	for _, r := range s {
		n++
		if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
			n++
		}
	}
	return n
}

// TestHeadersJSONKeepsBidiMarks: a Hebrew subject with a right-to-left
// mark (U+200F), as right-to-left mail clients write them, comes back in
// headers --json as sent (docs/cli.md: JSON strings hold the server's
// text, escaped), and as '?' in the table, where the mark could reorder
// the terminal's line. The escaping of bidirectional controls (f10d667)
// turned it into '?' in the JSON too (the review of 2026-12-04).
func TestHeadersJSONKeepsBidiMarks(t *testing.T) {
	const subj = "\u05e9\u05dc\u05d5\u05dd\u200f!"
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "SELECT", "EXAMINE":
				err = c.Lines("* 1 EXISTS", "* OK [UIDVALIDITY 1] v", "* OK [UIDNEXT 2] n", cmd.Tag+" OK [READ-ONLY] done")
			case "FETCH", "UID FETCH":
				err = c.Lines(`* 1 FETCH (UID 1 FLAGS () INTERNALDATE "01-Jan-2024 00:00:00 +0000" RFC822.SIZE 10 ENVELOPE ("Mon, 1 Jan 2024 00:00:00 +0000" "`+subj+`" (("A" NIL "a" "x.org")) NIL NIL NIL NIL NIL NIL NIL))`, cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "headers", "imap://alice@"+srv.Addr(), "INBOX", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var h jsonHeader
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &h); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if h.Subject != subj {
		t.Errorf("headers --json subject %q; want %q as sent", h.Subject, subj)
	}
	if !strings.Contains(out, `\u200f`) {
		t.Errorf("headers --json: %q; want the mark escaped as \\u200f", out)
	}
	code, out, errs = runCLI(t, "", "headers", "imap://alice@"+srv.Addr(), "INBOX")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.ContainsRune(out, '\u200f') || !strings.Contains(out, "\u05e9\u05dc\u05d5\u05dd?!") {
		t.Errorf("headers table: %q; want the mark shown as '?'", out)
	}
}
