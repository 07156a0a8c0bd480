//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// wrongSizeSource is a source server whose RFC822.SIZE is wrong for every
// message (1 byte), as some servers' are for messages stored with bare LF:
// copy must append each body with the size of its FETCH literal.
func wrongSizeSource(bodies []string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			ok := cmd.Tag + " OK done"
			switch cmd.Name {
			case "LOGIN":
				err = c.Line(ok)
			case "LIST":
				err = c.Lines(`* LIST (\Noselect) "/" ""`, ok)
			case "EXAMINE":
				err = c.Lines(fmt.Sprintf("* %d EXISTS", len(bodies)), "* OK [UIDVALIDITY 7] x", fmt.Sprintf("* OK [UIDNEXT %d] x", len(bodies)+1), cmd.Tag+" OK [READ-ONLY] done")
			case "UID SEARCH":
				var l []string
				for i := range bodies {
					l = append(l, fmt.Sprint(i+1))
				}
				err = c.Lines("* SEARCH "+strings.Join(l, " "), ok)
			case "UID FETCH":
				for i, b := range bodies {
					if err != nil {
						break
					}
					if strings.Contains(cmd.Args, "RFC822.SIZE") {
						err = c.Linef(`* %d FETCH (UID %d FLAGS (\Seen) INTERNALDATE "01-Feb-2024 10:00:00 +0000" RFC822.SIZE 1)`, i+1, i+1)
					} else if err = c.Linef("* %d FETCH (UID %d BODY[] {%d}", i+1, i+1, len(b)); err == nil {
						_, err = c.Copy(strings.NewReader(b + ")\r\n"))
					}
				}
				if err == nil {
					err = c.Line(ok)
				}
			case "LOGOUT":
				c.Lines("* BYE bye", ok)
				return nil
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	}
}

// TestCopyWrongRFC822Size copies from a source whose RFC822.SIZE lies into
// a Dovecot with MULTIAPPEND: the messages arrive whole and byte-identical.
func TestCopyWrongRFC822Size(t *testing.T) {
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\n" + strings.Repeat("second body line\r\n", 5000),
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	src, err := hostile.Listen(wrongSizeSource(bodies))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	t.Setenv("IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	rs := copyReport(t, 0, "copy", "imap://alice@"+src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s")
	if rs["INBOX"].Copied != 3 {
		t.Fatalf("copied %+v", rs)
	}
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	if len(got) != len(bodies) {
		t.Fatalf("%d messages on the destination; want %d", len(got), len(bodies))
	}
	for i := range bodies {
		if got[i].body != bodies[i] || got[i].flags != `\seen` {
			t.Errorf("message %d: %v; want %d bytes, \\Seen", i+1, got[i], len(bodies[i]))
		}
	}
	if err := src.Err(); err != nil {
		t.Error(err)
	}
}
