//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview38RevImportCTEBinaryRewrittenDovecot: import (and copy) now send
// every message as literal8 when the destination has BINARY. A server
// given a literal8 APPEND converts each MIME part declared
// "Content-Transfer-Encoding: binary" to base64 (Dovecot's binary
// converter; Cyrus does the same): a message with no NUL at all, which a
// plain literal stored byte for byte before 581fc90, is now stored
// rewritten. copy_append.go says "Dovecot and Cyrus store the other bytes
// the same either way", which is false.
func TestReview38RevImportCTEBinaryRewrittenDovecot(t *testing.T) {
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
	got := r38Bodies(t, client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password), "CTEBin", false)
	if len(got) != 1 || !bytes.Equal(got[0], msg) {
		t.Fatalf("stored %q\nwant (the file) %q", got, msg)
	}
}

// zzRev38NULSource is a source whose INBOX holds one message (UID 5)
// with a NUL in its body, as a server that stores NUL (Cyrus, from a
// literal8) hands it out.
func zzRev38NULSource(body string) hostile.Scenario {
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

// TestReview38RevIdleNewExpungeAndArrivalDuringFetch: idle --new now loops
// its UID FETCH while the session's message count moved during it
// (mail.go runIdle: "if now == before break"). But the count is no
// measure of arrivals: a message expunged and another delivered while
// the FETCH of a new message runs leave it unchanged. Their EXPUNGE and
// EXISTS come with the FETCH's answer, to the session, not to Idle's
// handler; the loop stops, and the delivered message (UID 112) is never
// reported. The fix's own case (an arrival during the FETCH) with an
// expunge beside it. Comparing UIDNEXT, or looping until a UID FETCH
// finds nothing new, would catch it.
func TestReview38RevIdleNewExpungeAndArrivalDuringFetch(t *testing.T) {
	out := runIdleNew(t, func(uids []int) ([]int, []string) {
		// During the FETCH of 111: message 3 is expunged, and message
		// UID 112 is delivered.
		uids = append(append(uids[:2:2], uids[3:]...), 112)
		return uids, []string{"* 3 EXPUNGE", fmt.Sprintf("* %d EXISTS", len(uids))}
	})
	if !strings.Contains(out, "msg 111") {
		t.Fatalf("message 111 not reported")
	}
	if !strings.Contains(out, "msg 112") {
		t.Errorf("idle --new: message UID 112, delivered (with an EXPUNGE beside it) while the FETCH of 111 ran, was never reported")
	}
}

// TestReview38RevAppendFileNULDovecot: "imapkit append" (docs/cli.md: "appends
// FILE or stdin byte for byte") passes its *os.File to Append without
// Binary. import and copy now send literal8 when the destination has
// BINARY; append does not, and commands' nulGuard aborts the connection
// at the NUL (the file is no in-memory reader, so checkNUL does not scan
// it), with an error telling the user to "set AppendOptions.Binary",
// which the CLI has no flag for. A file holding a NUL cannot be appended
// to Dovecot, which has BINARY. Before 017d563 this test passed: Dovecot
// took the NUL from the plain literal and BINARY.PEEK[] gave the file back
// exactly (only BODY[] shows 0x80).
func TestReview38RevAppendFileNULDovecot(t *testing.T) {
	t.Parallel()
	msg := []byte("From: a@example.org\r\nSubject: nul\r\n\r\nbefore\x00after\r\n")
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	f := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(f, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", append([]string{"append", url, "INBOX", f}, cf...)...)
	if code != 0 {
		t.Fatalf("imapkit append of a file holding a NUL to Dovecot (BINARY): exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Examine(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{{Binary: true}}}) {
		if err != nil {
			t.Fatal(err)
		}
		s, _ := m.NextSection()
		b, _ := io.ReadAll(s)
		if !bytes.Equal(b, msg) {
			t.Errorf("stored %q, want %q", b, msg)
		}
	}
}
