package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	noTTY(t)
	t.Setenv("IMAPKIT_PASSWORD", "TopSecretPW")
	t.Setenv("IMAPKIT_URL", "imap://alice@"+real.Addr())
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
	noTTY(t)
	t.Setenv("IMAPKIT_PASSWORD", "x")
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
		t.Setenv("IMAPKIT_URL", tc.env)
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
		"imaps://host/a:b@c":              "imaps://host/a:b@c",
		"not a url":                       "not a url",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStreamChildNoPassword: the --stream command does not inherit
// $IMAPKIT_PASSWORD or $IMAPKIT_DST_PASSWORD, and still runs as sh -c
// would run it.
func TestStreamChildNoPassword(t *testing.T) {
	noTTY(t)
	t.Setenv("IMAPKIT_PASSWORD", "TopSecretPW")
	t.Setenv("IMAPKIT_DST_PASSWORD", "DstSecretPW")
	t.Setenv("IMAPKIT_URL", "")
	t.Setenv("IMAPKIT_OTHER", "kept")
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
	t.Setenv("IMAPKIT_PASSWORD", "pw")
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := interrupted
	interrupted = ctx
	defer func() { interrupted = old }()
	atc := make(chan time.Time, 1)
	go func() {
		<-selected
		atc <- time.Now()
		cancel() // the user's Ctrl-C
	}()
	code, _, errs := runCLI(t, "", "select", "imap://alice@"+srv.Addr(), "INBOX")
	var at time.Time
	select {
	case at = <-atc:
	default:
		t.Fatalf("select ended before the interrupt: exit %d, stderr %q", code, errs)
	}
	if d := time.Since(at); d > logoutAfterInterrupt+3*time.Second {
		t.Errorf("select returned %v after the interrupt, exit %d, stderr %q", d.Round(time.Millisecond), code, errs)
	}
	if code != exitConnFail {
		t.Errorf("exit %d after an interrupt, want %d", code, exitConnFail)
	}
}
