package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// dovecot starts a Dovecot with n sample messages and returns it with the
// connection flags a test passes: the CA file, the password in the test's
// environment (setEnv; its runs have no terminal).
func dovecot(t *testing.T, n int) (*testserver.Server, []string) {
	t.Helper()
	srv := testserver.StartT(t, &testserver.Options{Seed: n})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	return srv, []string{"--ca-file", ca, "--timeout", "20s"}
}

// urls returns the imap:// (STARTTLS) and imaps:// URLs of alice.
func urls(srv *testserver.Server) (plain, tls string) {
	_, pp, _ := strings.Cut(srv.PlainAddr, ":")
	_, tp, _ := strings.Cut(srv.TLSAddr, ":")
	return "imap://alice@localhost:" + pp, "imaps://alice@localhost:" + tp
}

// cli runs imapkit with args and checks the exit code.
func cli(t *testing.T, stdin string, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, stdin, args...)
	if code != wantCode {
		t.Fatalf("imapkit %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout, stderr)
	}
	return stdout, stderr
}

func TestServerCommandsDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 12)
	plain, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }

	t.Run("capability", func(t *testing.T) {
		for _, u := range []string{plain, tls} {
			out, errs := cli(t, "", 0, with("capability", u)...)
			if !strings.Contains(strings.ToUpper(out), "IMAP4REV1\n") || !strings.Contains(out, "IDLE\n") || strings.Contains(out, "STARTTLS") || errs != "" {
				t.Errorf("capability %s: stdout %q stderr %q", u, out, errs)
			}
		}
		out, _ := cli(t, "", 0, with("capability", tls, "--json")...)
		var j struct{ Capabilities []string }
		if err := json.Unmarshal([]byte(out), &j); err != nil || len(j.Capabilities) < 5 {
			t.Errorf("capability --json: %q (%v)", out, err)
		}
	})

	t.Run("list", func(t *testing.T) {
		out, _ := cli(t, "", 0, with("list", tls)...)
		for _, want := range []string{"MAILBOX", "INBOX", "Sent", `\Sent`, `\Trash`} {
			if !strings.Contains(out, want) {
				t.Errorf("list: no %q in\n%s", want, out)
			}
		}
		out, _ = cli(t, "", 0, with("list", tls, "INBOX", "--status", "--json")...)
		var m jsonMailbox
		if err := json.Unmarshal([]byte(out), &m); err != nil || m.Name != "INBOX" || m.Messages == nil || *m.Messages != 12 || m.Delimiter != "/" {
			t.Errorf("list INBOX --status --json: %q (%v)", out, err)
		}
	})

	t.Run("status", func(t *testing.T) {
		out, _ := cli(t, "", 0, with("status", plain, "INBOX")...)
		if f := strings.Fields(out); len(f) < 10 || f[0] != "mailbox" || f[1] != "INBOX" || f[2] != "messages" || f[3] != "12" || f[6] != "uidnext" || f[7] != "13" {
			t.Errorf("status: %q", out)
		}
		var j jsonStatus
		out, _ = cli(t, "", 0, with("status", tls, "INBOX", "--json")...)
		if err := json.Unmarshal([]byte(out), &j); err != nil || j.Messages != 12 || j.UIDNext != 13 || j.UIDValidity == 0 {
			t.Errorf("status --json: %q (%v)", out, err)
		}
		_, errs := cli(t, "", 1, with("status", tls, "NoSuchBox")...)
		if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "imapkit status: ") {
			t.Errorf("status of a missing mailbox: stderr %q; want one line", errs)
		}
	})

	t.Run("search", func(t *testing.T) {
		var want []string
		for i := range 12 {
			if strings.Contains(strings.ToLower(testserver.SampleInfo(i).Subject), "invoice") {
				want = append(want, itoa(i+1))
			}
		}
		if len(want) == 0 {
			t.Fatal("no invoice among the samples")
		}
		out, _ := cli(t, "", 0, with("search", tls, "INBOX", "SUBJECT", "invoice")...)
		if got := strings.Fields(out); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("search SUBJECT invoice: %q; want %q", got, want)
		}
		out, _ = cli(t, "", 0, with("search", tls, "INBOX", "--json")...)
		var j struct{ UIDs []uint32 }
		if err := json.Unmarshal([]byte(out), &j); err != nil || len(j.UIDs) != 12 {
			t.Errorf("search ALL --json: %q (%v)", out, err)
		}
		out, _ = cli(t, "", 0, with("search", tls, "INBOX", "SUBJECT", "no such subject ünïcode")...)
		if out != "" {
			t.Errorf("search for a missing non-ASCII subject: %q", out)
		}
		_, errs := cli(t, "", 1, with("search", tls, "INBOX", "FROBNICATE")...)
		if !strings.Contains(errs, "imapkit search:") {
			t.Errorf("search with a bad key: %q", errs)
		}
	})

	t.Run("fetch", func(t *testing.T) {
		msgs := testserver.SampleMessages(12)
		out, _ := cli(t, "", 0, with("fetch", tls, "INBOX", "3")...)
		if out != string(msgs[2]) {
			t.Errorf("fetch INBOX 3: %d bytes, want the %d of sample 3", len(out), len(msgs[2]))
		}
		out, _ = cli(t, "", 0, with("fetch", tls, "INBOX", "3", "--section", "HEADER.FIELDS (SUBJECT)")...)
		if !strings.HasPrefix(out, "Subject:") {
			t.Errorf("fetch --section HEADER.FIELDS (SUBJECT): %q", out)
		}
		_, errs := cli(t, "", 1, with("fetch", tls, "INBOX", "999")...)
		if !strings.Contains(errs, "no message with UID 999") {
			t.Errorf("fetch of a missing UID: %q", errs)
		}
		cli(t, "", 2, with("fetch", tls, "INBOX", "zero")...)
		cli(t, "", 2, with("fetch", tls, "INBOX", "1", "--section", "BOGUS")...)
		// The fetch did not set \Seen.
		out, _ = cli(t, "", 0, with("search", tls, "INBOX", "SEEN")...)
		if out != "" {
			t.Errorf("fetch set \\Seen: SEEN matches %q", out)
		}
	})

	t.Run("append", func(t *testing.T) {
		msg := "From: a@example.com\r\nSubject: appended by the CLI\r\n\r\nhello\r\n"
		out, _ := cli(t, msg, 0, with("append", tls, "Drafts", "-", "--flags", `\Seen,\Draft`, "--json")...)
		var j struct {
			UID  uint32
			Size int64
		}
		if err := json.Unmarshal([]byte(out), &j); err != nil || j.UID == 0 || j.Size != int64(len(msg)) {
			t.Fatalf("append --json: %q (%v)", out, err)
		}
		got, _ := cli(t, "", 0, with("fetch", tls, "Drafts", itoa(int(j.UID)))...)
		if got != msg {
			t.Errorf("fetch of the appended message: %q", got)
		}
		f := filepath.Join(t.TempDir(), "m.eml")
		os.WriteFile(f, []byte(msg), 0o600)
		out, _ = cli(t, "", 0, with("append", tls, "Drafts", f)...)
		if !strings.HasPrefix(out, "appended ") {
			t.Errorf("append FILE: %q", out)
		}
		cli(t, "", 1, with("append", tls, "NoSuchBox", f)...)
		cli(t, "", 2, with("append", tls, "Drafts", "-")...) // empty stdin
	})

	t.Run("idle", func(t *testing.T) {
		out := idleUntil(t, with("idle", tls, "Trash", "--for", "60s", "--json", "--new"), func() {
			cli(t, "From: x@example.com\r\nSubject: idle\r\n\r\nx\r\n", 0, with("append", tls, "Trash")...)
		}, `{"event":"exists","count":1}`, `"subject":"idle"}`)
		if !strings.Contains(out, `{"event":"exists","count":1}`) {
			t.Errorf("idle saw no EXISTS 1: %q", out)
		}
		if !strings.Contains(out, `{"event":"new","seq":1,"uid":1,"from":"x@example.com","subject":"idle"}`) {
			t.Errorf("idle --new did not report the message: %q", out)
		}
	})

	t.Run("probe", func(t *testing.T) {
		out, _ := cli(t, "", 0, with("probe", plain)...)
		for _, want := range []string{"tls", "starttls", "capabilities (greeting)", "STARTTLS", "capabilities (after login)", `special-use \Sent`, "namespace (personal)"} {
			if !strings.Contains(out, want) {
				t.Errorf("probe: no %q in\n%s", want, out)
			}
		}
		out, _ = cli(t, "", 0, with("probe", tls, "--json")...)
		var r probeResult
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.TLS != "implicit" || len(r.SpecialUse) < 4 || r.Namespaces == nil {
			t.Errorf("probe --json: %q (%v)", out, err)
		}
	})
}

// idleUntil runs "imapkit ARGS --debug" (an idle command; --debug puts
// the IMAP exchange on stderr), calls act once the server has answered
// the IDLE with its continuation request, and interrupts the command (as
// Ctrl-C would) once its stdout holds every string of want, or a minute
// after act (a bound on a hang: the caller's checks then fail). It returns the command's stdout. The idle tests slept a fixed
// 1.5 s for the command to be idling, and had its --for window (3 or 4
// s, counted from before the IDLE) hold the other command's run too: a
// loaded machine could miss either.
func idleUntil(t *testing.T, args []string, act func(), want ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer setInterrupted(t, ctx)()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(testEnv(t), append(append([]string{}, args...), "--debug"), strings.NewReader(""), stdout, stderr)
	}()
	defer func() { cancel(); <-done }() // also when act fails the test
	idling := func() bool {
		_, after, ok := strings.Cut(stderr.String(), " IDLE\n")
		return ok && strings.Contains(after, "S: + ")
	}
	for deadline := time.Now().Add(time.Minute); !idling(); time.Sleep(10 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("imapkit %q ended before idling:\nstdout: %s\nstderr: %s", args, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("imapkit %q not idling after a minute:\nstderr: %s", args, stderr.String())
		}
	}
	act()
	has := func() bool {
		out := stdout.String()
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(time.Minute); !has() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	return stdout.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestExportDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 12)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := t.TempDir()
	msgs := testserver.SampleMessages(12)

	t.Run("mbox", func(t *testing.T) {
		mbox := filepath.Join(dir, "inbox.mbox")
		out, errs := cli(t, "", 0, with("export", tls, "INBOX", "--to", mbox)...)
		if !strings.Contains(out, "exported 12 messages") || !strings.Contains(errs, "12/12 messages") {
			t.Fatalf("export: stdout %q stderr %q", out, errs)
		}
		full, _ := os.ReadFile(mbox)
		if n := bytes.Count(full, []byte("\nFrom MAILER-DAEMON ")) + 1; !bytes.HasPrefix(full, []byte("From MAILER-DAEMON ")) || n != 12 {
			t.Fatalf("mbox has %d From lines; want 12", n)
		}
		// The first message, LF line ends, then a blank line.
		first := strings.ReplaceAll(string(msgs[0]), "\r\n", "\n")
		if _, rest, _ := strings.Cut(string(full), "\n"); !strings.HasPrefix(rest, first+"\n") {
			t.Errorf("the first message in the mbox is not sample 1 with LF line ends")
		}

		// A second run exports nothing and leaves the file alone.
		out, _ = cli(t, "", 0, with("export", tls, "INBOX", "--to", mbox, "--json")...)
		var j struct{ Exported, LastUID int }
		if err := json.Unmarshal([]byte(out), &j); err != nil || j.Exported != 0 {
			t.Errorf("second export: %q (%v)", out, err)
		}
		if again, _ := os.ReadFile(mbox); !bytes.Equal(again, full) {
			t.Errorf("second export changed the mbox")
		}

		// New mail: only it is exported.
		cli(t, "From: n@example.com\r\nSubject: new\r\n\r\nFrom here on\r\n", 0, with("append", tls, "INBOX")...)
		out, _ = cli(t, "", 0, with("export", tls, "INBOX", "--to", mbox)...)
		if !strings.Contains(out, "exported 1 messages") || !strings.Contains(out, "last UID 13") {
			t.Errorf("third export: %q", out)
		}
		grown, _ := os.ReadFile(mbox)
		if !bytes.HasPrefix(grown, full) || !bytes.HasSuffix(grown, []byte("\n>From here on\n\n")) {
			t.Errorf("third export: the mbox did not grow by the new message, From-quoted:\n%q", grown[len(full):])
		}

		// An interrupted run: the state says 5 messages, the file holds
		// them and part of the sixth. The resumed run cuts the part and
		// gives the same file as an uninterrupted one.
		off := 0
		for range 5 {
			off += bytes.Index(grown[off+1:], []byte("\nFrom MAILER-DAEMON ")) + 2
		}
		mbox2 := filepath.Join(dir, "resumed.mbox")
		os.WriteFile(mbox2, grown[:off+200], 0o600)
		st := exportState{Version: 1, Mailbox: "INBOX", Format: "mbox", UIDValidity: uidValidity(t, tls, cf), LastUID: 5, Size: int64(off), Messages: 5}
		if err := st.save(statePath(mbox2)); err != nil {
			t.Fatal(err)
		}
		out, _ = cli(t, "", 0, with("export", tls, "INBOX", "--to", mbox2)...)
		if !strings.Contains(out, "exported 8 messages") {
			t.Errorf("resumed export: %q", out)
		}
		if resumed, _ := os.ReadFile(mbox2); !bytes.Equal(resumed, grown) {
			t.Errorf("the resumed mbox differs from the uninterrupted one (%d and %d bytes)", len(resumed), len(grown))
		}

		// An mbox that no export wrote is not touched.
		foreign := filepath.Join(dir, "foreign.mbox")
		os.WriteFile(foreign, []byte("From x\n\nmine\n"), 0o600)
		cli(t, "", 3, with("export", tls, "INBOX", "--to", foreign)...)
		if b, _ := os.ReadFile(foreign); string(b) != "From x\n\nmine\n" {
			t.Errorf("export changed a foreign mbox")
		}
	})

	t.Run("maildir", func(t *testing.T) {
		md := filepath.Join(dir, "Maildir")
		cli(t, "", 0, with("export", tls, "INBOX", "--to", md, "--format", "maildir", "--quiet")...)
		files, _ := filepath.Glob(filepath.Join(md, "cur", "*"))
		if len(files) != 13 {
			t.Fatalf("maildir holds %d messages; want 13", len(files))
		}
		sort.Strings(files)
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if strings.Contains(f, ".U1.V") && !bytes.Equal(b, msgs[0]) {
				t.Errorf("%s differs from sample 1", f)
			}
		}
		// The state falls behind the files (an interruption between a
		// file and the state): nothing is written twice.
		st, err := loadState(statePath(md))
		if err != nil || st == nil || st.LastUID != 13 {
			t.Fatalf("state %+v (%v)", st, err)
		}
		st.LastUID = 4
		st.save(statePath(md))
		out, _ := cli(t, "", 0, with("export", tls, "INBOX", "--to", md, "--format", "maildir")...)
		if !strings.Contains(out, "exported 0 messages") {
			t.Errorf("export after a lagging state: %q", out)
		}
		if again, _ := filepath.Glob(filepath.Join(md, "cur", "*")); len(again) != 13 {
			t.Errorf("maildir holds %d messages after the rerun; want 13", len(again))
		}
		// The state belongs to maildir: asking for mbox is a usage error.
		cli(t, "", 2, with("export", tls, "INBOX", "--to", md, "--format", "mbox")...)
	})
}

// uidValidity returns INBOX's UIDVALIDITY through the CLI.
func uidValidity(t *testing.T, url string, cf []string) uint32 {
	out, _ := cli(t, "", 0, append([]string{"status", url, "INBOX", "--json"}, cf...)...)
	var j jsonStatus
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	return j.UIDValidity
}

func TestConnectPolicyDovecot(t *testing.T) {
	// Waits on a Dovecot of its own and on the runs.
	t.Parallel()
	srv, cf := dovecot(t, 1)
	plain, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }

	// The password never shows: not in the trace, not in errors.
	for _, mech := range []string{"PLAIN", "LOGIN", "SCRAM-SHA-256", ""} {
		args := with("capability", plain, "--debug")
		if mech != "" {
			args = append(args, "--sasl", mech)
		}
		out, errs := cli(t, "", 0, args...)
		if !strings.Contains(errs, "C: ") || !strings.Contains(errs, "AUTHENTICATE") || !strings.Contains(out, "IDLE") {
			t.Errorf("--sasl %q --debug: no trace or no output:\n%s", mech, errs)
		}
		if (mech == "PLAIN" || mech == "LOGIN") && !strings.Contains(errs, "***") {
			t.Errorf("--sasl %s: the trace does not show the redacted response:\n%s", mech, errs)
		}
		for _, secret := range []string{`"pass"`, " pass\r", " pass\n", "cGFzcw==", "AGFsaWNlAHBhc3M=", "\x00pass"} {
			if strings.Contains(errs+out, secret) {
				t.Errorf("--sasl %q: the password shows as %q:\n%s", mech, secret, errs)
			}
		}
	}
	setEnv(t, "IMAPKIT_PASSWORD", "wrong-secret-1234")
	_, errs := cli(t, "", 1, with("capability", tls, "--debug")...)
	if strings.Contains(errs, "wrong-secret-1234") {
		t.Errorf("a failed login shows the password:\n%s", errs)
	}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)

	// --password-file: its first line.
	pwf := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwf, []byte(testserver.Password+"\nignored\n"), 0o600)
	setEnv(t, "IMAPKIT_PASSWORD", "wrong")
	cli(t, "", 0, with("capability", tls, "--password-file", pwf)...)
	unsetEnv(t, "IMAPKIT_PASSWORD")

	// No password and no terminal: a usage error, before connecting.
	_, errs = cli(t, "", 2, with("capability", tls)...)
	if !strings.Contains(errs, "no password") {
		t.Errorf("no password: %q", errs)
	}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)

	// A password in the URL is refused; so are other schemes.
	_, port, _ := strings.Cut(srv.TLSAddr, ":")
	cli(t, "", 2, with("capability", "imaps://alice:pass@localhost:"+port)...)
	cli(t, "", 2, with("capability", "http://localhost:"+port)...)
	cli(t, "", 2, with("capability")...)

	// STARTTLS against an unknown CA fails: exit 3, one line, no fallback.
	_, errs = cli(t, "", 3, "capability", plain, "--timeout", "10s")
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "STARTTLS") {
		t.Errorf("STARTTLS with an unknown CA: %q", errs)
	}
	cli(t, "", 0, "capability", tls, "--insecure-skip-verify")

	// Nothing listens: exit 3.
	cli(t, "", 3, with("capability", "imaps://alice@127.0.0.1:1")...)

	// The --user flag overrides the URL's user.
	cli(t, "", 0, with("capability", "imaps://nobody@localhost:"+port, "--user", "alice")...)

	// --stream: a pre-authenticated child process.
	argv := srv.StreamCommand(testserver.Alice)
	for i, a := range argv {
		argv[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	out, _ := cli(t, "", 0, "status", "INBOX", "--stream", strings.Join(argv, " "), "--json")
	if !strings.Contains(out, `"messages":1`) {
		t.Errorf("status over --stream: %q", out)
	}
}
