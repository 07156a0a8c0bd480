//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestAppendFileNULDovecot: "imapkit append" (docs/cli.md: "appends
// FILE or stdin byte for byte") passes its *os.File to Append without
// Binary. import and copy now send literal8 when the destination has
// BINARY; append does not, and commands' nulGuard aborts the connection
// at the NUL (the file is no in-memory reader, so checkNUL does not scan
// it), with an error telling the user to "set AppendOptions.Binary",
// which the CLI has no flag for. A file holding a NUL cannot be appended
// to Dovecot, which has BINARY. Before 017d563 this test passed: Dovecot
// took the NUL from the plain literal and BINARY.PEEK[] gave the file back
// exactly (only BODY[] shows 0x80).
func TestAppendFileNULDovecot(t *testing.T) {
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

// uidDst is a destination whose INBOX numbers what is appended from
// start: an APPEND (a MULTIAPPEND too, with LITERAL+) is answered with the
// APPENDUID of its messages, and STATUS gives a UIDNEXT no greater than
// 4294967295 (a server past its last UID). appends counts the APPEND
// commands, msgs their messages.
type uidDst struct {
	mu             sync.Mutex
	next           uint64
	appends, msgs  int
	statusAfterEnd int // STATUS asked once the last UID was given
}

func startUIDDst(t *testing.T, caps string, start uint64) (*uidDst, string) {
	t.Helper()
	d := &uidDst{next: start}
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet(caps); err != nil {
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
			case "NAMESPACE":
				err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
			case "LIST":
				err = c.Lines(`* LIST () "/" INBOX`, ok)
			case "STATUS":
				d.mu.Lock()
				n := min(d.next, math.MaxUint32)
				if d.next > math.MaxUint32 {
					d.statusAfterEnd++
				}
				d.mu.Unlock()
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDNEXT %d UIDVALIDITY 9 MESSAGES 1)", n), ok)
			case "APPEND":
				lit, k := cmd.Literal, 0
				for lit >= 0 {
					if _, err := c.ReadLiteral(lit); err != nil {
						return err
					}
					k++
					rest, err := c.ReadLine()
					if err != nil {
						return err
					}
					lit = hostile.ParseCommand("x x " + rest).Literal
				}
				d.mu.Lock()
				d.appends++
				d.msgs += k
				first := d.next
				d.next += uint64(k)
				d.mu.Unlock()
				set := fmt.Sprint(first)
				if k > 1 {
					set = fmt.Sprintf("%d:%d", first, first+uint64(k)-1)
				}
				err = c.Line(fmt.Sprintf("%s OK [APPENDUID 9 %s] done", cmd.Tag, set))
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
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return d, srv.Addr()
}

// TestAppendLastUID: the appender took the UIDNEXT after an
// APPEND for the last UID it was given plus one, which at 4294967295
// wrapped to 0 ("unknown"): the next group asked STATUS (a server past its
// last UID says 4294967295 again, or renumbers) and was appended all the
// same, recorded as pending against a UIDNEXT that could not move. A
// mailbox that gave the UID 4294967295 has none left: the run stops there
// with an error naming it, what was appended before recorded as done; no
// further APPEND is sent. Both paths: APPEND one at a time (the UID of
// the first message), and MULTIAPPEND (the last of a group's APPENDUID
// set, 50 messages a group).
func TestAppendLastUID(t *testing.T) {
	for _, c := range []struct {
		name, caps string
		msgs       int
		start      uint64
	}{
		{"single", "IMAP4rev1 LITERAL+ UIDPLUS", 2, math.MaxUint32},
		{"multiappend", "IMAP4rev1 LITERAL+ UIDPLUS MULTIAPPEND", groupMessages + 1, math.MaxUint32 - groupMessages + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, addr := startUIDDst(t, c.caps, c.start)
			var msgs []string
			for i := 1; i <= c.msgs; i++ {
				msgs = append(msgs, importSourceMsg(i, ""))
			}
			path, _ := importSource(t, "maildir", msgs)
			setEnv(t, "IMAPKIT_PASSWORD", "x")
			setEnv(t, "IMAPKIT_URL", "")
			code, out, errs := runCLI(t, "", "import", "imap://alice@"+addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet")
			t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			d.mu.Lock()
			appends, sent, asked := d.appends, d.msgs, d.statusAfterEnd
			d.mu.Unlock()
			want := c.msgs - 1
			if code != exitNo || appends != 1 || sent != want || asked != 0 || !strings.Contains(errs, "4294967295") || !strings.Contains(errs, "no UID left") {
				t.Errorf("exit %d, %d APPEND of %d messages, %d STATUS after the last UID, stderr %q; want exit %d, one APPEND of %d, no STATUS, an error naming UID 4294967295", code, appends, sent, asked, errs, exitNo, want)
			}
			if e := importStateOf(t, path); e.Pending != nil || len(e.Done) != want {
				t.Errorf("state %+v; want %d done, nothing pending", e, want)
			}
		})
	}
}

// TestAppendTooBigExit1: as TestCopyTooBigExit3, for
// "imapkit append" of a message over the server's APPENDLIMIT (the
// library refuses it before sending, commands.ErrTooBig): exit 1, the
// server's stated limit refusing it, not 3.
func TestAppendTooBigExit1(t *testing.T) {
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ APPENDLIMIT=20"}
	addr := fake.start(t)
	msg := "From: x@example.org\r\nSubject: big\r\n\r\n" + strings.Repeat("x", 100) + "\r\n"
	code, out, errs := runCLI(t, msg, "append", "imap://alice@"+addr, "INBOX", "-", "--insecure-plaintext", "--timeout", "20s")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if !strings.Contains(errs, "APPENDLIMIT") {
		t.Fatalf("no APPENDLIMIT refusal reported")
	}
	if code != exitNo {
		t.Errorf("append of a message over the server's APPENDLIMIT: exit %d, want %d", code, exitNo)
	}
}

// TestAppendLastUIDNameOneLine: the error of a destination mailbox with
// no UID left names the mailbox by printable: a name holding a newline
// (a copy's, as the source listed it) was written raw, and errorLine cut
// the exit message there, losing what came after it.
func TestAppendLastUIDNameOneLine(t *testing.T) {
	a := &appender{mailbox: "Archive\nold\x1b", full: true}
	_, err := a.prepare(context.Background(), 1)
	if !errors.Is(err, errUIDsExhausted) {
		t.Fatalf("prepare past the last UID: %v; want errUIDsExhausted", err)
	}
	if msg := errorLine(err); !strings.Contains(msg, printable(a.mailbox)+" gave the UID 4294967295") || !strings.HasSuffix(msg, "nothing more is appended to it") {
		t.Errorf("prepare past the last UID: exit message %q; want it whole, the mailbox by printable", msg)
	}
}
