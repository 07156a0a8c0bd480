package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// commandRecorder is a server that answers every command OK and keeps the
// command lines.
func commandRecorder(t *testing.T, caps string) (addr string, lines func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet(caps); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			mu.Lock()
			got = append(got, cmd.Line)
			mu.Unlock()
			switch cmd.Name {
			case "SELECT", "EXAMINE":
				err = c.Lines("* 5 EXISTS", "* OK [UIDVALIDITY 1] v", "* OK [UIDNEXT 6] n", cmd.Tag+" OK [READ-ONLY] done")
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
	return srv.Addr(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestInputMetadataMaxSizeTruncated: metadata get --maxsize is a
// flag.Uint (64 bits on amd64) converted with uint32(): --maxsize
// 4294967297 (just over 4 GiB) sends MAXSIZE 1, leaving out every value
// longer than one byte, and 4294967296 sends no MAXSIZE at all; no
// error says the number is out of range.
func TestInputMetadataMaxSizeTruncated(t *testing.T) {
	addr, lines := commandRecorder(t, "IMAP4rev1 METADATA")
	code, _, _ := runCLI(t, "", "metadata", "imap://alice@"+addr, "--insecure-plaintext", "--maxsize", "4294967297", "get", "INBOX", "/private/comment")
	for _, l := range lines() {
		if strings.Contains(l, "GETMETADATA") && strings.Contains(l, "MAXSIZE 1)") {
			t.Errorf("--maxsize 4294967297: exit %d, sent %q", code, l)
		}
	}
}

// TestInputHeadersLastTruncated: headers --last is a flag.Int, checked
// >= 1 and then converted with uint32(): --last 4294967297 shows the one
// newest message, not every message, and --last 4294967296 (0 once
// truncated) asks for the sequence numbers 5:6 of a mailbox of 5 (the
// last message and one past it, which servers answer BAD).
func TestInputHeadersLastTruncated(t *testing.T) {
	addr, lines := commandRecorder(t, "IMAP4rev1")
	code, _, errs := runCLI(t, "", "headers", "imap://alice@"+addr, "--insecure-plaintext", "--last", "4294967297", "INBOX")
	for _, l := range lines() {
		if strings.Contains(l, "FETCH") && !strings.Contains(l, "FETCH 1:5 ") && !strings.Contains(l, "FETCH 1:* ") {
			t.Errorf("--last 4294967297 on 5 messages: exit %d (%q), sent %q; want all five", code, errs, l)
		}
	}
}
