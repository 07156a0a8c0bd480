package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/imapkit/imapkit/internal/hostile"
)

// recordingServer starts a server that greets, answers every command
// plausibly and records each command line; the lines are returned by the
// function it returns.
func recordingServer(t *testing.T) (*hostile.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			mu.Lock()
			got = append(got, cmd.Name+" "+cmd.Args)
			mu.Unlock()
			if err := c.Answer(cmd); err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestURLOnlyFirstArgument: with $IMAPKIT_URL set, a URL among the
// command's other arguments (a search value) is an argument, not the
// server: the password goes to $IMAPKIT_URL's server only, and the other
// host is never contacted.
func TestURLOnlyFirstArgument(t *testing.T) {
	real, realGot := recordingServer(t)
	other, otherGot := recordingServer(t)
	setEnv(t, "IMAPKIT_PASSWORD", "TopSecretPW")
	setEnv(t, "IMAPKIT_URL", "imap://alice@"+real.Addr())
	code, out, errs := runCLI(t, "", "search", "INBOX", "BODY", "imap://alice@"+other.Addr())
	if code != 0 {
		t.Errorf("exit %d; stdout %q stderr %q", code, out, errs)
	}
	if n := other.Conns(); n != 0 || len(otherGot()) != 0 {
		t.Errorf("the search value's host was contacted (%d connections): %q", n, otherGot())
	}
	found := false
	for _, l := range realGot() {
		found = found || strings.Contains(l, "SEARCH") && strings.Contains(l, "imap://alice@"+other.Addr())
	}
	if !found {
		t.Errorf("$IMAPKIT_URL's server did not get the URL as the search value: %q", realGot())
	}
}

// TestURLPasswordNotPrinted: a URL holding a password is refused; when it
// is malformed too (bad port, bad escape, another scheme), the error must
// not print it, wherever it came from: the command line, $IMAPKIT_URL, an
// --accounts file.
func TestURLPasswordNotPrinted(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	dir := t.TempDir()
	acc := filepath.Join(dir, "accounts")
	os.WriteFile(acc, []byte("imaps://alice:S3cretPW@mail.example.com:99x\n"), 0o600)
	acc2 := filepath.Join(dir, "accounts2")
	os.WriteFile(acc2, []byte("imapx://alice:S3cretPW@mail.example.com\n"), 0o600)
	for _, tc := range []struct {
		env  string
		args []string
	}{
		{"", []string{"capability", "imaps://alice:S3cretPW@mail.example.com:99x"}},
		{"", []string{"capability", "imaps://alice:S3cret%zzPW@mail.example.com"}},
		{"", []string{"capability", "imaps://alice:S3cretPW@mail.example.com/path"}},
		{"imapx://alice:S3cretPW@mail.example.com", []string{"capability"}},
		{"imaps://alice:S3cretPW@mail.example.com:99x", []string{"capability"}},
		{"", []string{"export", "--accounts", acc, "INBOX", "--to", t.TempDir()}},
		{"", []string{"export", "--accounts", acc2, "INBOX", "--to", t.TempDir()}},
		{"", []string{"copy", "--accounts", acc}},
	} {
		setEnv(t, "IMAPKIT_URL", tc.env)
		code, out, errs := runCLI(t, "", tc.args...)
		if code != exitUsage && code != exitConnFail {
			t.Errorf("imapkit %q (IMAPKIT_URL=%q): exit %d", tc.args, tc.env, code)
		}
		if strings.Contains(out+errs, "S3cret") {
			t.Errorf("imapkit %q (IMAPKIT_URL=%q): exit %d, the password is printed: %q", tc.args, tc.env, code, errs)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"imaps://alice@host":              "imaps://alice@host",
		"imaps://alice:pw@host:99x":       "imaps://alice:xxxxx@host:99x",
		"imapx://alice:p%zz@w@host/x?y#z": "imapx://alice:xxxxx@host/x?y#z",
		"imaps://host:993":                "imaps://host:993",
		"imaps://host/a:b@c":              "imaps://host/a:xxxxx@c",
		"imaps://alice:pw/x?y#z@host":     "imaps://alice:xxxxx@host",
		"imaps://alice@example.com:p@w@h": "imaps://alice@example.com:xxxxx@h",
		"imaps:/alice:pw@host":            "imaps:xxxxx@host",
		"alice:pw@host":                   "alice:xxxxx@host",
		"imaps://alice@host:993":          "imaps://alice@host:993",
		"not a url":                       "not a url",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestURLPasswordUnusualCharsNotPrinted: a password holding '/', '?' or
// '#' (typed as is, not percent-encoded) or a URL with a mistyped scheme
// separator (imaps:/) is not printed, from the command line,
// $IMAPKIT_URL or an --accounts file.
func TestURLPasswordUnusualCharsNotPrinted(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	dir := t.TempDir()
	acc := filepath.Join(dir, "accounts")
	os.WriteFile(acc, []byte("imaps:/alice:S3cretPW@mail.example.com\n"), 0o600)
	acc2 := filepath.Join(dir, "accounts2")
	os.WriteFile(acc2, []byte("imaps://alice:S3cret/PW@mail.example.com\n"), 0o600)
	for _, tc := range []struct {
		env  string
		args []string
	}{
		{"", []string{"capability", "imaps://alice:S3cret/PW@mail.example.com"}},
		{"", []string{"capability", "imaps://alice:S3cret#PW@mail.example.com"}},
		{"", []string{"capability", "imaps://alice:S3cret?PW@mail.example.com"}},
		{"imaps:/alice:S3cretPW@mail.example.com", []string{"capability"}},
		{"imaps:alice:S3cretPW@mail.example.com", []string{"capability"}},
		{"imaps://alice:S3cret?PW@mail.example.com", []string{"capability"}},
		{"", []string{"export", "--accounts", acc, "INBOX", "--to", t.TempDir()}},
		{"", []string{"export", "--accounts", acc2, "INBOX", "--to", t.TempDir()}},
	} {
		setEnv(t, "IMAPKIT_URL", tc.env)
		code, out, errs := runCLI(t, "", tc.args...)
		if code != exitUsage && code != exitConnFail {
			t.Errorf("imapkit %q (IMAPKIT_URL=%q): exit %d", tc.args, tc.env, code)
		}
		if strings.Contains(out+errs, "S3cret") {
			t.Errorf("imapkit %q (IMAPKIT_URL=%q): exit %d, the password is printed: %q", tc.args, tc.env, code, errs)
		}
	}
}

// TestStreamChildNoPassword: the --stream command does not inherit
// $IMAPKIT_PASSWORD or $IMAPKIT_DST_PASSWORD, and still runs as sh -c
// would run it.
func TestStreamChildNoPassword(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "TopSecretPW")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "DstSecretPW")
	setEnv(t, "IMAPKIT_URL", "")
	setEnv(t, "IMAPKIT_OTHER", "kept")
	f := filepath.Join(t.TempDir(), "env")
	runCLI(t, "", "capability", "--stream", "env > '"+f+"'; exit 1")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "TopSecretPW") || strings.Contains(string(b), "DstSecretPW") {
		t.Errorf("the --stream child has a password in its environment")
	}
	if !strings.Contains(string(b), "IMAPKIT_OTHER=kept") {
		t.Errorf("the --stream child lost the rest of the environment: %q", b)
	}
}

// TestStreamShellEnvironNoPassword: the shell that runs the --stream
// command does not hold $IMAPKIT_PASSWORD or $IMAPKIT_DST_PASSWORD in its
// own initial environment either (/proc/$$/environ, readable by the
// command): unsetting them in the shell hid them from the command's
// children only.
func TestStreamShellEnvironNoPassword(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc/PID/environ here")
	}
	setEnv(t, "IMAPKIT_PASSWORD", "TopSecretPW")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "DstSecretPW")
	setEnv(t, "IMAPKIT_URL", "")
	setEnv(t, "IMAPKIT_OTHER", "kept")
	f := filepath.Join(t.TempDir(), "environ")
	runCLI(t, "", "capability", "--stream", "cat /proc/$$/environ > '"+f+"'; exit 1")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("TopSecretPW")) || bytes.Contains(b, []byte("DstSecretPW")) {
		t.Errorf("the --stream shell has a password in its /proc/$$/environ")
	}
	if !bytes.Contains(b, []byte("IMAPKIT_OTHER=kept")) {
		t.Errorf("the --stream shell lost the rest of the environment: %q", b)
	}
}

// stallAtSelect starts a server that logs in and then never answers
// SELECT (nor anything after it); selected is closed when SELECT arrives.
func stallAtSelect(t *testing.T) (srv *hostile.Server, selected chan struct{}) {
	t.Helper()
	selected = make(chan struct{})
	var once sync.Once
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		if _, err := c.Until("SELECT"); err != nil {
			return nil
		}
		once.Do(func() { close(selected) })
		c.Stall()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, selected
}

// TestInterruptStalledServerExitsSoon: Ctrl-C while the server stalls.
// With the default --timeout (30s), the command returns soon after the
// interrupt: its LOGOUT is bounded by logoutAfterInterrupt, not by
// another whole --timeout.
func TestInterruptStalledServerExitsSoon(t *testing.T) {
	srv, selected := stallAtSelect(t)
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	setEnv(t, "IMAPKIT_URL", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer setInterrupted(t, ctx)()
	atc := make(chan time.Time, 1)
	go func() {
		<-selected
		atc <- time.Now()
		cancel() // the user's Ctrl-C
	}()
	// --timeout of an hour, not the default 30 s: a LOGOUT that the
	// interrupt did not bound would then not end within
	// runCLIReturns's minute. That it returns is checked here, not how
	// soon (a loaded machine stretched that); the exact bound is
	// TestLogoutAfterInterruptBound's.
	code, _, errs := runCLIReturns(t, "", "select", "imap://alice@"+srv.Addr(), "INBOX", "--timeout", "1h")
	select {
	case <-atc:
	default:
		t.Fatalf("select ended before the interrupt: exit %d, stderr %q", code, errs)
	}
	if code != exitConnFail {
		t.Errorf("exit %d after an interrupt, want %d", code, exitConnFail)
	}
}

// TestInterruptDuringLogoutExitsSoon: Ctrl-C while the command's final
// LOGOUT waits on a stalled server: the LOGOUT, begun with the whole
// --timeout as its bound, is cut logoutAfterInterrupt after the
// interrupt.
func TestInterruptDuringLogoutExitsSoon(t *testing.T) {
	atLogout := make(chan struct{})
	var once sync.Once
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		if _, err := c.Until("LOGOUT"); err != nil {
			return nil
		}
		once.Do(func() { close(atLogout) })
		c.Stall()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	setEnv(t, "IMAPKIT_URL", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer setInterrupted(t, ctx)()
	atc := make(chan time.Time, 1)
	go func() {
		<-atLogout
		atc <- time.Now()
		cancel() // Ctrl-C while LOGOUT waits
	}()
	// --timeout of an hour: a LOGOUT that the interrupt did not cut
	// would not end within runCLIReturns's minute. That it returns is
	// checked here, not how soon (a loaded machine stretched that); the
	// exact bound is TestLogoutAfterInterruptBound's.
	code, _, errs := runCLIReturns(t, "", "capability", "imap://alice@"+srv.Addr(), "--timeout", "1h")
	select {
	case <-atc:
	default:
		t.Fatalf("capability ended before LOGOUT was interrupted: exit %d, stderr %q", code, errs)
	}
}

// c1Server answers with C1 controls in every server string it can: CSI
// as UTF-8 (U+009B) and as a raw 8-bit byte (0x9b), each followed by "2J"
// (clear the screen, on a terminal that honours C1 controls).
func c1Server(t *testing.T) string {
	t.Helper()
	const c1 = "\u009b2J\x9b2J"
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE LIST-STATUS"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "LIST", "LSUB":
				err = c.Lines(`* `+cmd.Name+` (\HasNoChildren \X`+c1+`) "/" "box`+c1+`"`, cmd.Tag+" OK done")
			case "SELECT", "EXAMINE":
				err = c.Lines(`* FLAGS (\Seen \Y`+c1+`)`, "* 3 EXISTS", "* 0 RECENT",
					`* OK [PERMANENTFLAGS (\Seen \Z`+c1+`)] pf`,
					"* OK [UIDVALIDITY 1] v", "* OK [UIDNEXT 4] n", cmd.Tag+" OK [READ-WRITE] done")
			case "UID STORE":
				err = c.Lines(`* 1 FETCH (UID 1 FLAGS (\Seen \W`+c1+`))`, cmd.Tag+" OK done")
			case "FETCH":
				err = c.Lines(`* 1 FETCH (BODY[HEADER.FIELDS ("`+c1+`X")] {3}`, `abc)`, cmd.Tag+" OK done")
			case "IDLE":
				err = c.Lines("+ idling", `* 2 FETCH (FLAGS (\Seen \V`+c1+`))`)
				if err == nil {
					c.ReadLine()
					err = c.Reply(cmd.Tag, "OK done")
				}
			case "STATUS":
				err = c.Lines(`* STATUS "box`+c1+`" (MESSAGES 1)`, cmd.Tag+" OK done")
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
	return "imap://alice@" + srv.Addr()
}

// noC1 fails when s holds ESC, a C1 control as UTF-8, or a byte that
// is not UTF-8 in 0x80-0x9f (an 8-bit C1 control).
func noC1(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "\x1b") {
		t.Errorf("%s holds ESC: %q", what, s)
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= 0x80 && r < 0xa0 || r == utf8.RuneError && n == 1 && s[i] >= 0x80 && s[i] < 0xa0 {
			t.Errorf("%s holds the C1 control %#x at %d: %q", what, s[i:i+n], i, s)
			return
		}
		i += n
	}
}

// TestServerC1ControlsEscaped: what a server sends reaches the terminal
// with its C1 controls (CSI as U+009B or as a raw 0x9b) shown as '?',
// as C0 controls are: list and lsub attributes, idle's FETCH flags, the
// capabilities probe prints, raw's and the shell's decoded responses
// (their text form is JSON, which must escape C1 too) and the section
// spec of a FETCH body.
func TestServerC1ControlsEscaped(t *testing.T) {
	url := c1Server(t)
	for _, args := range [][]string{
		{"capability", url},
		{"list", url},
		{"list", url, "--status"},
		{"lsub", url},
		{"shell", url},
		{"select", url, "INBOX"},
		{"store", url, "INBOX", "1", "+FLAGS", `\Seen`},
		{"idle", url, "INBOX"},
		{"probe", url},
		{"raw", url, "LIST", `""`, `*`},
		{"raw", url, "STATUS", "INBOX", "(MESSAGES)"},
		{"raw", url, "FETCH 1 BODY.PEEK[HEADER.FIELDS (X)]"},
		{"list", url, "--json"},
		{"select", url, "INBOX", "--json"},
		{"idle", url, "INBOX", "--json"},
	} {
		stdin := ""
		if args[0] == "shell" {
			stdin = "LIST \"\" *\nFETCH 1 BODY.PEEK[HEADER.FIELDS (X)]\n"
		}
		var code int
		var out, errs string
		if args[0] == "idle" {
			// Interrupted once the IDLE's FETCH is shown.
			code, out, errs = runUntilShown(t, stdin, shownAll("Seen"), args...)
		} else {
			code, out, errs = runCLI(t, stdin, args...)
		}
		what := strings.Join(args[:1], " ") + fmt.Sprintf(" (exit %d)", code)
		if code != 0 {
			t.Errorf("%s: stdout %q stderr %q", what, out, errs)
		}
		noC1(t, what+" stdout", out)
		noC1(t, what+" stderr", errs)
	}
}

// TestPrintableInvalidUTF8: printable shows each byte that is not UTF-8
// (a raw 0x9b, CSI to an 8-bit terminal) as '?', as docs/cli.md says,
// not as U+FFFD; controls become '?' and valid text, U+FFFD included,
// stays.
func TestPrintableInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"a\x9b2J":         "a?2J",
		"\xff\xfe":        "??",
		"caf\xe9 au lait": "caf? au lait",
		"x\u009b\x1by\tz": "x??y?z",
		"é \ufffd ok":     "é \ufffd ok",
		"plain":           "plain",
		"":                "",
		"\xe2\x82":        "??",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestProxyPrinterC1: the proxy's printout escapes C1 controls (as UTF-8
// and as raw bytes) as it does C0, and leaves other UTF-8 alone; a
// backslash before an 'x' is escaped, as internal/printable does.
func TestProxyPrinterC1(t *testing.T) {
	var p printer
	p.begin(false, "")
	p.add([]byte("a\u009bb\x9bc\x1bd é"))
	if got, want := string(p.buf), `a\xc2\x9bb\x9bc\x1bd é`; got != want {
		t.Errorf("printer.add: %q, want %q", got, want)
	}
	// A server's text that reads like an escape is not taken for one.
	p.begin(false, "")
	p.add([]byte(`fake \x1b \Seen`))
	if got, want := string(p.buf), `fake \x5cx1b \Seen`; got != want {
		t.Errorf("printer.add: %q, want %q", got, want)
	}
}

// TestProxyServerEchoRedacted: imapkit proxy redacts the client's
// credentials from the server's lines too: a server that echoes LOGIN's
// password (quoted, atom or literal) or AUTHENTICATE PLAIN's password in
// its answer does not put it on the proxy's output.
func TestProxyServerEchoRedacted(t *testing.T) {
	t.Parallel()
	pws := []string{"atomPW-1111", "quotedPW-2222", "literalPW-3333", "plainPW-4444"}
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 AUTH=PLAIN"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			echo := cmd.Args
			if cmd.Literal >= 0 {
				if err := c.Continue("go ahead"); err != nil {
					return err
				}
				lit, err := c.ReadLiteral(cmd.Literal)
				if err != nil {
					return err
				}
				rest, err := c.ReadLine()
				if err != nil {
					return err
				}
				echo += string(lit) + rest
			}
			switch cmd.Name {
			case "LOGOUT":
				return c.Answer(cmd)
			case "AUTHENTICATE":
				_, ir, _ := strings.Cut(cmd.Args, " ")
				dec, _ := base64.StdEncoding.DecodeString(ir)
				echo += " decoded " + strings.ReplaceAll(string(dec), "\x00", " ")
			}
			if err := c.Line("* BAD you sent " + echo); err != nil {
				return err
			}
			if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] wrong password "+echo); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	nc, br, readTagged, out := proxiedConn(t, srv.Addr())
	fmt.Fprintf(nc, "A1 LOGIN alice %s\r\n", pws[0])
	readTagged("A1")
	fmt.Fprintf(nc, "A2 LOGIN alice \"%s\"\r\n", pws[1])
	readTagged("A2")
	fmt.Fprintf(nc, "A3 LOGIN alice {%d}\r\n", len(pws[2]))
	if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+") {
		t.Fatalf("no continuation for the literal: %q %v", l, err)
	}
	fmt.Fprintf(nc, "%s\r\n", pws[2])
	readTagged("A3")
	fmt.Fprintf(nc, "A4 AUTHENTICATE PLAIN %s\r\n", base64.StdEncoding.EncodeToString([]byte("\x00alice\x00"+pws[3])))
	readTagged("A4")
	fmt.Fprintf(nc, "A5 LOGOUT\r\n")
	readTagged("A5")
	nc.Close()
	waitFor(t, out, "connection closed")
	if !strings.Contains(out.String(), "wrong password") {
		t.Fatalf("the server's answers are not in the proxy's output:\n%s", out.String())
	}
	for _, pw := range pws {
		if strings.Contains(out.String(), pw) {
			t.Errorf("the proxy's output holds the password %s:\n%s", pw, out.String())
		}
	}
	if !strings.Contains(out.String(), "decoded  alice ***") {
		t.Errorf("PLAIN's user name is redacted too, or the echo is missing:\n%s", out.String())
	}
}

// TestProxyServerEchoRedactedEscapedForms: a server that echoes LOGIN's
// arguments as they were sent shows a quoted password with its escapes
// ("pa\\ss\"word"), and the proxy prints bytes that are not UTF-8 and
// controls (a Latin-1 é, a tab) as \xNN: none of these forms of the
// password reaches the proxy's output, though the proxy records the
// password decoded.
func TestProxyServerEchoRedactedEscapedForms(t *testing.T) {
	t.Parallel()
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			if cmd.Name == "LOGOUT" {
				return c.Answer(cmd)
			}
			if err := c.Line("* BAD you sent " + cmd.Args); err != nil {
				return err
			}
			if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] wrong password "+cmd.Args); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	nc, _, readTagged, out := proxiedConn(t, srv.Addr())
	// Secret1\pw"x, quoted
	fmt.Fprintf(nc, "A1 LOGIN alice \"Secret1\\\\pw\\\"x\"\r\n")
	readTagged("A1")
	// a Latin-1 é in an atom
	fmt.Fprintf(nc, "A2 LOGIN alice Secret2\xe9pwd\r\n")
	readTagged("A2")
	// a tab, '\' and é, quoted
	fmt.Fprintf(nc, "A3 LOGIN alice \"Secret3\tpw\\\\\xe9\"\r\n")
	readTagged("A3")
	fmt.Fprintf(nc, "A4 LOGOUT\r\n")
	readTagged("A4")
	nc.Close()
	waitFor(t, out, "connection closed")
	if !strings.Contains(out.String(), "wrong password") {
		t.Fatalf("the server's answers are not in the proxy's output:\n%s", out.String())
	}
	for _, pw := range []string{"Secret1", "Secret2", "Secret3"} {
		if strings.Contains(out.String(), pw) {
			t.Errorf("the proxy's output holds the password %s...:\n%s", pw, out.String())
		}
	}
}

// TestStreamChildStderrShown: when the session over --stream fails, the
// error shows the end of the command's stderr (escaped, on the error's
// one line): why ssh could not connect, why the imapd died.
func TestStreamChildStderrShown(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	for _, tc := range []struct {
		name, stream, cmd, want string
	}{
		{"before the greeting", "echo 'ssh: Could not resolve hostname nohost' >&2; printf 'x\\033[2Jy\\n' >&2; exit 255", "capability",
			"ssh: Could not resolve hostname nohost / x?[2Jy)"},
		{"after login", `printf '* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n'; read l; echo 'imapd: out of memory' >&2; exit 1`, "list",
			"imapd: out of memory)"},
	} {
		code, out, errs := runCLI(t, "", tc.cmd, "--stream", tc.stream)
		if code != exitConnFail || !strings.HasSuffix(strings.TrimSpace(errs), tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 3 and one line ending in %q", tc.name, code, out, errs, tc.want)
		}
	}
}

// failingWriter is a stdout that cannot be written (a full disk).
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestStreamLocalErrorLogsOut: with --stream, a local error (exit 3:
// stdout cannot be written) is not a failed session: the command still
// logs out, and the child's stderr (unrelated) is not added to the error.
func TestStreamLocalErrorLogsOut(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	log := filepath.Join(t.TempDir(), "log")
	script := `echo 'motd: welcome' >&2; printf '* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n'
while IFS= read -r l; do
  echo "$l" >> '` + log + `'
  tag=${l%% *}
  case "$l" in
  *LOGOUT*) printf '* BYE bye\r\n%s OK done\r\n' "$tag"; exit 0;;
  *LIST*) printf '* LIST () "/" INBOX\r\n%s OK done\r\n' "$tag";;
  *) printf '%s OK done\r\n' "$tag";;
  esac
done`
	var errs strings.Builder
	code := run(testEnv(t), []string{"list", "--stream", script}, strings.NewReader(""), failingWriter{}, &errs)
	if code != exitConnFail || !strings.Contains(errs.String(), "no space left on device") {
		t.Errorf("exit %d, stderr %q; want exit 3 and the write error", code, errs.String())
	}
	got, _ := os.ReadFile(log)
	if !strings.Contains(string(got), "LOGOUT") {
		t.Errorf("no LOGOUT sent after a local error; the child got %q", got)
	}
	if strings.Contains(errs.String(), "motd") {
		t.Errorf("a local error is blamed on the --stream command: %q", errs.String())
	}
}

// TestTimeoutNotPositiveIsUsageError: --timeout 0 or negative is a usage
// error (exit 2), not a limit that fails every command at once with a
// misleading connection error.
func TestTimeoutNotPositiveIsUsageError(t *testing.T) {
	t.Parallel()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	for _, args := range [][]string{
		{"capability", "imaps://alice@localhost:1", "--timeout", "0"},
		{"capability", "imaps://alice@localhost:1", "--timeout", "-1s"},
		{"copy", "imaps://alice@localhost:1", "imaps://alice@localhost:2", "--timeout", "0s"},
		{"export", "--accounts", "/nonexistent", "INBOX", "--to", "/nonexistent", "--timeout", "0"},
		{"proxy", "--listen", "127.0.0.1:0", "--upstream", "imaps://localhost:1", "--timeout", "-5s"},
	} {
		// Without the check, the proxy would serve until interrupted.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		restore := setInterrupted(t, ctx)
		code, _, errs := runCLI(t, "", args...)
		restore()
		cancel()
		if code != exitUsage || !strings.Contains(errs, "must be more than 0") {
			t.Errorf("imapkit %q: exit %d, want 2 (usage); stderr %q", args, code, errs)
		}
	}
}

// TestJSONOutputEscapesC1: --json output (encoding/json escapes C0 but
// not C1) has the C1 controls escaped as \u0080-\u009f, and stays the
// same JSON.
func TestJSONOutputEscapesC1(t *testing.T) {
	var buf bytes.Buffer
	o := &output{stdout: &buf, json: true}
	in := map[string]string{"a": "x\u009b2J \u0080 é \u00a0 \u00c2 ok"}
	if err := o.emit(in); err != nil {
		t.Fatal(err)
	}
	want := `{"a":"x\u009b2J \u0080 é ` + "\u00a0" + ` Â ok"}` + "\n"
	if buf.String() != want {
		t.Errorf("emit: %q, want %q", buf.String(), want)
	}
	var back map[string]string
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back["a"] != in["a"] {
		t.Errorf("the escaped JSON does not decode to the same value: %q %v", back["a"], err)
	}
}

// TestBidiAndSeparatorsEscaped: the bidirectional controls (a
// right-to-left override making "gpj.exe" read "exe.jpg", Trojan Source
// style) and the line and paragraph separators a server sends are
// escaped wherever the CLI shows server text, as control characters are:
// '?' in tables and events, \xNN in the proxy's printout, \uNNNN in JSON
// (which decodes to the same text); fetch --text keeps them (a message's
// text, read as text).
func TestBidiAndSeparatorsEscaped(t *testing.T) {
	const in = "a\u202egpj.exe\u2028b\u2029c\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069 é"
	if got, want := printable(in), "a?gpj.exe?b?c??????????? é"; got != want {
		t.Errorf("printable: %q, want %q", got, want)
	}
	var p printer
	p.begin(false, "")
	p.add([]byte("x\u202ey\u2028z\u061c"))
	if got, want := string(p.buf), `x\xe2\x80\xaey\xe2\x80\xa8z\xd8\x9c`; got != want {
		t.Errorf("printer.add: %q, want %q", got, want)
	}
	var w bytes.Buffer
	jsonString(&w, "x\u202ey\u2028z\u2066")
	if got, want := w.String(), `"x\u202ey\u2028z\u2066"`; got != want {
		t.Errorf("jsonString: %q, want %q", got, want)
	}
	var buf bytes.Buffer
	o := &output{stdout: &buf, json: true}
	if err := o.emit(map[string]string{"a": in}); err != nil {
		t.Fatal(err)
	}
	want := `{"a":"a\u202egpj.exe\u2028b\u2029c\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069 é"}` + "\n"
	if buf.String() != want {
		t.Errorf("emit: %q, want %q", buf.String(), want)
	}
	var back map[string]string
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back["a"] != in {
		t.Errorf("the escaped JSON does not decode to the same value: %q %v", back["a"], err)
	}
	var text bytes.Buffer
	if err := writeText(&text, strings.NewReader("\u05e9\u05dc\u05d5\u05dd\u200f!\n")); err != nil || text.String() != "\u05e9\u05dc\u05d5\u05dd\u200f!\n" {
		t.Errorf("writeText changed a right-to-left mark: %q %v", text.String(), err)
	}
}

// proxiedConn starts the proxy (--once) to the upstream server at addr
// and returns a client connection through it, past the greeting, its
// reader, a function that reads up to the answer tagged tag, and the
// proxy's output.
func proxiedConn(t *testing.T, addr string) (net.Conn, *bufio.Reader, func(tag string), *syncBuffer) {
	t.Helper()
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr, "--once")
	nc, err := net.Dial("tcp", paddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(nc)
	br.ReadString('\n') // the greeting
	return nc, br, func(tag string) {
		t.Helper()
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the answer to %s: %v", tag, err)
			}
			if strings.HasPrefix(l, tag+" ") {
				return
			}
		}
	}, out
}
