package main

import (
	"strings"
	"sync"
	"testing"

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
