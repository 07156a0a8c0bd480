//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// mailboxBodies returns BINARY.PEEK[] (or BODY.PEEK[]) of every message of
// mailbox, in UID order.
func mailboxBodies(t *testing.T, c *commands.Client, mailbox string, binary bool) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Examine(ctx, mailbox)
	if err != nil {
		t.Fatalf("EXAMINE %s: %v", mailbox, err)
	}
	if st.Exists == 0 {
		return nil
	}
	var out [][]byte
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{Binary: binary}}}) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestImportNULDovecot: a Maildir message holding a NUL,
// imported into Dovecot (which has BINARY). It went in a plain literal,
// which may not carry a NUL, and Dovecot stored 0x80 in its place; and
// since commands refuses a NUL in a plain literal as it streams, it would
// now abort the connection. The CLI appends as literal8 when the
// destination has BINARY: the stored message (BINARY.PEEK[]) is the file.
// (Dovecot's BODY[] still shows the NUL as 0x80, so export, which fetches
// BODY.PEEK[], writes 0x80: a known gap.)
func TestImportNULDovecot(t *testing.T) {
	t.Parallel()
	msg := []byte("From: a@example.org\r\nSubject: nul\r\n\r\nbefore\x00after\r\n")
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	src := filepath.Join(t.TempDir(), "src")
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "cur", "1700000000.M1P1.host:2,S"), msg, 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, "", 0, append([]string{"import", url, src, "--to", "NulIn", "--format", "maildir", "--quiet"}, cf...)...)
	got := mailboxBodies(t, client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password), "NulIn", true)
	if len(got) != 1 || !bytes.Equal(got[0], msg) {
		t.Fatalf("stored %q; want %q", got, msg)
	}
}

// TestImportCTEBinaryRewrittenDovecot: import (and copy) now send
// every message as literal8 when the destination has BINARY. A server
// given a literal8 APPEND converts each MIME part declared
// "Content-Transfer-Encoding: binary" to base64 (Dovecot's binary
// converter; Cyrus does the same): a message with no NUL at all, which a
// plain literal stored byte for byte before 581fc90, is now stored
// rewritten. copy_append.go says "Dovecot and Cyrus store the other bytes
// the same either way", which is false.
func TestImportCTEBinaryRewrittenDovecot(t *testing.T) {
	t.Parallel()
	msg := []byte("From: a@example.org\r\nSubject: bin\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: binary\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n")
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	src := filepath.Join(t.TempDir(), "src")
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "cur", "1700000000.M1P1.host:2,S"), msg, 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, "", 0, append([]string{"import", url, src, "--to", "CTEBin", "--format", "maildir", "--quiet"}, cf...)...)
	got := mailboxBodies(t, client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password), "CTEBin", false)
	if len(got) != 1 || !bytes.Equal(got[0], msg) {
		t.Fatalf("stored %q\nwant (the file) %q", got, msg)
	}
}

// nulSource is a source whose INBOX holds one message (UID 5)
// with a NUL in its body, as a server that stores NUL (Cyrus, from a
// literal8) hands it out.
func nulSource(body string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 NAMESPACE"); err != nil {
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
			case "EXAMINE", "SELECT":
				err = c.Lines("* 1 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 6] x", cmd.Tag+" OK [READ-ONLY] done")
			case "UID SEARCH":
				err = c.Lines("* SEARCH 5", ok)
			case "UID FETCH":
				if strings.Contains(cmd.Args, "BODY") {
					if err = c.Linef("* 1 FETCH (UID 5 BODY[] {%d}", len(body)); err == nil {
						err = c.WriteString(body + ")\r\n")
					}
				} else {
					err = c.Linef(`* 1 FETCH (UID 5 FLAGS (\Seen) INTERNALDATE "01-Feb-2024 10:00:00 +0000" RFC822.SIZE %d)`, len(body))
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
