//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// r38Bodies returns BINARY.PEEK[] (or BODY.PEEK[]) of every message of
// mailbox, in UID order.
func r38Bodies(t *testing.T, c *commands.Client, mailbox string, binary bool) [][]byte {
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

// TestReview38ImportNULDovecot: a Maildir message holding a NUL,
// imported into Dovecot (which has BINARY). It went in a plain literal,
// which may not carry a NUL, and Dovecot stored 0x80 in its place; and
// since commands refuses a NUL in a plain literal as it streams, it would
// now abort the connection. The CLI appends as literal8 when the
// destination has BINARY: the stored message (BINARY.PEEK[]) is the file.
// (Dovecot's BODY[] still shows the NUL as 0x80, so export, which fetches
// BODY.PEEK[], writes 0x80: a known gap.)
func TestReview38ImportNULDovecot(t *testing.T) {
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
	got := r38Bodies(t, client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password), "NulIn", true)
	if len(got) != 1 || !bytes.Equal(got[0], msg) {
		t.Fatalf("stored %q; want %q", got, msg)
	}
}
