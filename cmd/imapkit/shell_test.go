package main

import (
	"encoding/json"
	"errors"
	"github.com/imapkit/imapkit/internal/hostile"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// encodeTyped is the wire form of a typed command, tag A1, as the session
// would send it with synchronizing literals.
func encodeTyped(t *testing.T, line string, more ...string) (string, error) {
	t.Helper()
	tc, err := parseTyped(line, func() (string, error) {
		if len(more) == 0 {
			return "", io.EOF
		}
		l := more[0]
		more = more[1:]
		return l, nil
	})
	if err != nil || tc == nil {
		return "", err
	}
	e := wire.NewEncoder(nil)
	e.Begin("A1").SP().Raw(tc.name)
	tc.args(e)
	enc, err := e.End()
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	if _, err := enc.WriteTo(&sb, func() error { return nil }); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func TestParseTyped(t *testing.T) {
	long := strings.Repeat("x", 2000)
	tests := []struct {
		line string
		more []string
		want string
		err  string
	}{
		{line: "noop", want: "A1 NOOP\r\n"},
		{line: "  select   INBOX", want: "A1 SELECT INBOX\r\n"},
		{line: "uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])", want: "A1 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"},
		{line: `SEARCH SUBJECT "a \"b\" c"`, want: `A1 SEARCH SUBJECT "a \"b\" c"` + "\r\n"},
		{line: `SEARCH CHARSET UTF-8 SUBJECT "grüße"`, want: "A1 SEARCH CHARSET UTF-8 SUBJECT {7}\r\ngrüße\r\n"},
		{line: `SEARCH CHARSET UTF-8 (SUBJECT grüße)`, want: "A1 SEARCH CHARSET UTF-8 (SUBJECT {7}\r\ngrüße)\r\n"},
		{line: `SEARCH BODY "` + long + `"`, want: "A1 SEARCH BODY {2000}\r\n" + long + "\r\n"},
		{line: "APPEND Drafts {14}", more: []string{"Subject: x", ""}, want: "A1 APPEND Drafts {14}\r\nSubject: x\r\n\r\n\r\n"},
		{line: "APPEND Drafts {13}", more: []string{"Subject: x", ""}, err: "ends between a CR and its LF"},
		{line: "LOGIN {5}", more: []string{"alice pass"}, want: "A1 LOGIN {5}\r\nalice pass\r\n"},
		{line: "APPEND Drafts (\\Seen) {3+}", more: []string{"abc"}, want: "A1 APPEND Drafts (\\Seen) {3}\r\nabc\r\n"},
		{line: "", want: ""},
		{line: "APPEND Drafts {100}", more: []string{"short"}, err: "input ended inside the literal {100}"},
		{line: "SELECT {x}", err: "'{' starts a literal"},
		{line: "SELECT {3} INBOX", err: "'{' starts a literal"},
		{line: `SEARCH SUBJECT "open`, err: "unterminated"},
		{line: "UID", err: "UID needs a command"},
		{line: "FETCH 1 (FLAGS", err: "list"},
		{line: "FETCH 1 FLAGS)", err: "invalid raw syntax"},
		{line: `"SELECT" INBOX`, err: "not a command name"},
	}
	for _, tt := range tests {
		got, err := encodeTyped(t, tt.line, tt.more...)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v; want one saying %q (got %q)", tt.line, err, tt.err, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q:\n got %q (%v)\nwant %q", tt.line, got, err, tt.want)
		}
	}
}

func TestRawDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 3)
	_, tls := urls(srv)
	runCases(t, tls, cf, []cliCase{
		{args: []string{"raw", "NOOP"}, stdout: []string{" OK ", "NOOP completed"}},
		{args: []string{"raw", "CAPABILITY"}, stdout: []string{"* CAPABILITY ", "IMAP4rev1", " OK "}},
		{args: []string{"raw", "LIST", `""`, "*"}, stdout: []string{`* LIST {"LSUB":false,"Attrs":[`, `"Mailbox":"INBOX"`, " OK List completed"}},
		{args: []string{"raw", "--select", "INBOX", "UID FETCH 2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"}, stdout: []string{"* FETCH", `"UID": 2`, "  BODY[HEADER.FIELDS (SUBJECT)] (", "  | Subject: ", " OK "}},
		{args: []string{"raw", "--select", "INBOX", "UID SEARCH ALL", "--json"}, stdout: []string{`{"type":"SEARCH","response":{"Nums":[1,2,3]`, `{"type":"OK","response":{"Tag":"`}},
		{args: []string{"raw", "SELECT", "NoSuchBox"}, code: 1, stdout: []string{" NO "}},
		{args: []string{"raw", "FROBNICATE"}, code: 1, stdout: []string{" BAD "}},
		{args: []string{"raw", "FETCH 1 (FLAGS"}, code: 2, stderr: "imapkit raw:"},
		{args: []string{"raw", "STARTTLS"}, code: 2, stderr: "not sent from here"},
		{args: []string{"raw", "LOGOUT"}, code: 2, stderr: "not sent from here"},
		{args: []string{"raw", "APPEND", "Drafts", "{24}"}, stdin: "Subject: raw\r\n\r\nliteral\r\n", code: 2, stderr: "ends between a CR and its LF"},
		{args: []string{"raw", "APPEND", "Drafts", "{25}"}, stdin: "Subject: raw\r\n\r\nliteral\r\n", stdout: []string{"[APPENDUID ", " 1]"}},
		{args: []string{"raw", "STATUS", "Entwürfe", "(MESSAGES)"}, code: 1, stdout: []string{" NO "}},
	})
}

// TestShellScriptedDovecot feeds a session to the shell on stdin (no
// terminal): commands, a typed literal, an error, and QUIT.
func TestShellScriptedDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 4)
	_, tls := urls(srv)
	script := strings.Join([]string{
		"select INBOX",
		"uid search subject invoice",
		"uid store 1 +flags (\\Flagged)",
		"APPEND Drafts (\\Draft) {32}",
		"Subject: typed",
		"",
		"in the shell",
		"status Drafts (messages)",
		"fetch 1 (flags",
		"examine NoSuchBox",
		"",
		"noop",
		"quit",
		"noop", // not read
	}, "\n") + "\n"
	out, errs := cli(t, script, 1, append([]string{"shell", tls}, cf...)...)
	for _, want := range []string{
		"> select INBOX\n", "* EXISTS {\"Count\":4}", "[READ-WRITE]",
		"> uid search subject invoice\n", "* SEARCH ",
		"> uid store 1 +flags (\\Flagged)\n", "* FETCH ", `"\\Flagged"`,
		"> APPEND Drafts (\\Draft) {32}\n", "[APPENDUID ",
		"> status Drafts (messages)\n", `* STATUS {"Mailbox":"Drafts"`, `"Messages":1`,
		"> fetch 1 (flags\n",
		"> examine NoSuchBox\n", " NO ",
		"> noop\n", " OK NOOP completed",
	} {
		i := strings.Index(out, want)
		if i < 0 {
			t.Fatalf("shell output has no %q (in order):\n%s\nstderr:\n%s", want, out, errs)
		}
		out = out[i+len(want):]
	}
	if strings.Contains(out, "> noop") {
		t.Errorf("the shell went on after quit:\n%s", out)
	}
	if !strings.Contains(errs, "imapkit shell: ") || !strings.Contains(errs, "2 of 9: commands failed") {
		t.Errorf("stderr: %q", errs)
	}

	// The message typed as a literal is there, byte for byte.
	got, _ := cli(t, "", 0, append([]string{"fetch", tls, "Drafts", "1"}, cf...)...)
	if got != "Subject: typed\r\n\r\nin the shell\r\n" {
		t.Errorf("the typed literal: %q", got)
	}

	// With --json, each response is one object; a clean script exits 0.
	out, _ = cli(t, "examine INBOX\nuid search all\n", 0, append([]string{"shell", tls, "--json"}, cf...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct {
		Type     string
		Response struct{ Nums []uint32 }
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("not a JSON line: %q", l)
		}
		var o struct{ Type string }
		json.Unmarshal([]byte(l), &o)
		if o.Type == "SEARCH" {
			json.Unmarshal([]byte(l), &last)
		}
	}
	if len(last.Response.Nums) != 4 {
		t.Errorf("shell --json: no SEARCH of 4 UIDs in\n%s", out)
	}
}

func TestShellEndsOnLostConnection(t *testing.T) {
	// A usage error in the shell is not the end; a command answered BYE
	// (LOGOUT sent raw is refused, so use the server's own BYE) is.
	err := shellEnd(0, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := shellEnd(1, 3, false); !errors.Is(err, errShellFailed) {
		t.Fatalf("shellEnd with a failure: %v", err)
	}
	if err := shellEnd(1, 3, true); err != nil {
		t.Fatalf("an interactive shell ends with 0: %v", err)
	}
}

// TestShellQuote: the --map advice of copy's errors is pasted
// into a shell. It showed the name as it is: "My Work" was two words, a
// quote opened a string. shellQuote's word, given to bash, must come back
// as the name exactly.
func TestShellQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Work=OTHER", "Work=OTHER"},
		{"Sent/2024=OTHER", "Sent/2024=OTHER"},
		{"My Work=OTHER", "'My Work=OTHER'"},
		{"it's=OTHER", `'it'\''s=OTHER'`},
		{"$HOME;rm=NAME", "'$HOME;rm=NAME'"},
		{"Entwürfe=NAME", "'Entwürfe=NAME'"},
		{"a\u200fb=OTHER", `$'a\u200fb=OTHER'`},
		{"a\x01'\\b=OTHER", `$'a\x01\'\\b=OTHER'`},
		{"", "''"},
	} {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to read the words back")
	}
	for _, in := range []string{"My Work", "it's \"x\"", "a\u200fb\u202e", "a\x01'\\b", "ü ' \\ $x `y`", "\x7f\x85"} {
		out, err := exec.Command(bash, "-c", "printf %s "+shellQuote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("bash read %s back as %q (%v); want %q", shellQuote(in), out, err, in)
		}
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

// TestRawHidesEchoedPassword: raw (and the shell, which prints through
// the same respPrinter) hides the password a hostile server echoes in an
// untagged status or a response the codec does not know, as the session
// does in its errors and in the tagged answer it prints: "* NO [ALERT]
// S3cret-pw" and "* XECHO S3cret-pw" were printed as sent, text and
// --json, beside "OK ***".
func TestRawHidesEchoedPassword(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	const pw = "S3cret-pw"
	addr := jsonServer(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "NOOP":
				err = c.Lines("* NO [ALERT] you typed "+pw, "* XECHO "+pw, cmd.Tag+" OK "+pw)
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	setEnv(t, "IMAPKIT_PASSWORD", pw)
	for _, extra := range [][]string{nil, {"--json"}} {
		code, out, errs := runCLI(t, "", append([]string{"raw", "imap://alice@" + addr, "NOOP"}, extra...)...)
		if code != 0 {
			t.Fatalf("raw NOOP %q: exit %d: %s", extra, code, errs)
		}
		if strings.Contains(out+errs, "S3cret") {
			t.Errorf("raw NOOP %q printed the password:\n%s%s", extra, out, errs)
		}
		if !strings.Contains(out, "you typed") || !strings.Contains(out, "XECHO") {
			t.Errorf("raw NOOP %q: %q; want the responses, the password hidden", extra, out)
		}
	}
}
