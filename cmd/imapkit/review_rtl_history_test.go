package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

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

// TestShellHistoryOldFileLiteral: an older imapkit's history (readline's
// own saving) holds a LOGIN typed with a literal and, on the next line,
// the literal: the password. Rewriting the file dropped the LOGIN line and
// kept the password line, and loaded it into the history (the review of
// 2026-12-04). The literal's lines go with their command now, and what
// follows the literal on its last line too.
func TestShellHistoryOldFileLiteral(t *testing.T) {
	name := t.TempDir() + "/hist"
	old := "SELECT INBOX\nLOGIN alice {6}\nsecret\nNOOP\n" +
		"a1 login {5}\nalice {7}\nhunter2\nLIST \"\" *\n" +
		"AUTHENTICATE PLAIN\nNOOP\n"
	if err := os.WriteFile(name, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	var loaded savedLines
	f, err := openHistory(&loaded, name)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(name)
	if want := "SELECT INBOX\nNOOP\nLIST \"\" *\nNOOP\n"; string(b) != want {
		t.Errorf("history file after openHistory: %q; want %q", b, want)
	}
	if want := []string{"SELECT INBOX", "NOOP", `LIST "" *`, "NOOP"}; !slices.Equal(loaded, want) {
		t.Errorf("history loaded: %q; want %q", loaded, want)
	}
}

// savedLines stands for readline's history in openHistory's tests (a
// readline.Instance closed at once races with its own terminal goroutine).
type savedLines []string

func (s *savedLines) SaveHistory(l string) error {
	*s = append(*s, l)
	return nil
}
