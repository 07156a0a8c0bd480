//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview42CBCopyDstRecreatedSkipsSilently: copy INBOX to Archive on the
// destination; another client deletes Archive on the destination (and
// the next run creates it again, with a new UIDVALIDITY). The second run
// says "copied 0 messages" and exits 0: the destination mailbox is empty
// while the state (which recorded the destination's UIDVALIDITY with its
// UID map) believes the 3 source messages are there. Mail is silently
// missing on the destination; it should be copied again or the run
// should refuse as it does for a changed source UIDVALIDITY.
func TestReview42CBCopyDstRecreatedSkipsSilently(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 3)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	args := []string{"copy", aURL, bURL, "INBOX", "--map", "INBOX=Archive", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("first run: exit %d %q %q", code, out, errs)
	}
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if got := mailOf(t, bc, "Archive"); len(got) != 3 {
		t.Fatalf("first run: %d messages on the destination", len(got))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bc.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := bc.Delete(ctx, "Archive"); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "", args...)
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "Archive")
	t.Logf("second run: exit %d %q %q; %d messages on the destination", code, out, errs, len(got))
	if code == 0 && len(got) != 3 {
		t.Errorf("destination mailbox recreated: the second run exits 0 (%q) and the destination holds %d of the source's 3 messages: the copies are silently gone", strings.TrimSpace(out), len(got))
	}
}

// TestReview42CBCopyDstRecreatedNotEmptyRefused: as
// TestReview42CBCopyDstRecreatedSkipsSilently, but the recreated
// destination mailbox already holds a message when the next run comes:
// whether it holds the copies cannot be told, so the run refuses the
// mailbox (exit not 0, the mailbox named) and appends nothing, rather
// than skip the mail copied before or copy it twice.
func TestReview42CBCopyDstRecreatedNotEmptyRefused(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 3)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	args := []string{"copy", aURL, bURL, "INBOX", "--map", "INBOX=Archive", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	if code, out, errs := runCLI(t, "", args...); code != 0 {
		t.Fatalf("first run: exit %d %q %q", code, out, errs)
	}
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bc.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := bc.Delete(ctx, "Archive"); err != nil {
		t.Fatal(err)
	}
	if err := bc.Create(ctx, "Archive", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.AppendBytes(ctx, "Archive", []byte("From: x@example.com\r\nSubject: other\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", args...)
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "Archive")
	t.Logf("second run: exit %d %q %q; %d messages on the destination", code, out, errs, len(got))
	if code == 0 || !strings.Contains(errs, "not the one earlier runs appended to") || len(got) != 1 {
		t.Errorf("recreated destination holding another message: exit %d, stderr %q, %d messages on the destination; want a refusal and 1 message", code, errs, len(got))
	}
}

// TestReview42CBImportDstRecreated: import shares copy's appender and
// had the same gap: an mbox imported to a mailbox that is then deleted
// was never imported again (its state's offset trusted). The next run
// creates the mailbox and imports the mbox whole again, with a warning.
func TestReview42CBImportDstRecreated(t *testing.T) {
	t.Parallel()
	b, cf := dovecot(t, 0)
	_, bURL := urls(b)
	mbox := filepath.Join(t.TempDir(), "in.mbox")
	var mb strings.Builder
	for i := range 3 {
		mb.WriteString("From a@example.com Thu Feb  1 10:00:00 2024\nFrom: a@example.com\nSubject: m" + string(rune('0'+i)) + "\n\nbody\n\n")
	}
	if err := os.WriteFile(mbox, []byte(mb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"import", bURL, mbox, "--to", "Imported", "--quiet"}, cf...)
	if code, out, errs := runCLI(t, "", args...); code != 0 {
		t.Fatalf("first import: exit %d %q %q", code, out, errs)
	}
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if got := mailOf(t, bc, "Imported"); len(got) != 3 {
		t.Fatalf("first import: %d messages", len(got))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bc.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := bc.Delete(ctx, "Imported"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", args...)
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "Imported")
	t.Logf("second import: exit %d %q %q; %d messages", code, out, errs, len(got))
	if code != 0 || len(got) != 3 {
		t.Errorf("mailbox deleted after the import: the next import exits %d with %d of the 3 messages in it", code, len(got))
	}
}

// TestReview42CCCopyExpungedBeforeMetaFetchFails: docs/cli.md promises that a
// message expunged on the source during the copy is skipped (once
// confirmed gone) and the run goes on. Another client expunges a message
// of the second batch while copy appends the last message of the first
// (after the first batch's body UID FETCH ended, before the second
// batch's metadata UID FETCH). Dovecot answers that metadata FETCH with
// the expunged message still listed (this session was not told yet) and
// sends its EXPUNGE at the end; the body UID FETCH then leaves it out.
// pulledBody.open takes the next message for it and fails the mailbox:
// "UID 202: not in the FETCH answer (expunged meanwhile?)", exit 3.
func TestReview42CCCopyExpungedBeforeMetaFetchFails(t *testing.T) {
	a, cf := dovecot(t, 205)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ac.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet", "--no-multiappend"}
	appended := 0
	testHook = func(s string) error {
		if s == "appended" {
			if appended++; appended == 200 { // the first batch's last message
				if _, err := ac.Store(ctx, commands.UIDs(202), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
					return err
				}
				if _, err := ac.Expunge(ctx, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	t.Cleanup(func() { testHook = nil })
	code, out, errs := runCLI(t, "", args...)
	testHook = nil
	n := 0
	if ms, err := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password).Examine(ctx, "INBOX"); err == nil {
		n = int(ms.Exists)
	}
	t.Logf("exit %d %q %q; %d messages on the destination", code, out, errs, n)
	if code != 0 || n != 204 {
		t.Errorf("a message expunged during the copy (before its batch's metadata FETCH): exit %d, %d of the 204 remaining messages copied; stderr %q", code, n, errs)
	}
}

// TestReview42CDIdleNewEventsAfterDoneOutOfOrder (audit 42 C; fixed by
// 9d74fc2, which runs --new's FETCH between two Idle calls): "imapkit idle --new --json".
// IDLE reports "* 11 EXISTS"; the handler fetches the new message, which
// ends the IDLE (DONE). Another client expunged message 3 just before:
// the server reports "* 3 EXPUNGE" after DONE, before the IDLE's tagged
// OK (Dovecot syncs there), then answers the UID FETCH with the new
// message at its new number, "* 10 FETCH (UID 111 ...)". The EXPUNGE is
// queued for the IDLE's handler, busy in the FETCH, and printed after the
// "new" event: the stream says exists 11, new seq 10, expunge 3, so a
// consumer that follows the numbers puts UID 111 at 9. The server sent
// the EXPUNGE first; it must be printed first.
func TestReview42CDIdleNewEventsAfterDoneOutOfOrder(t *testing.T) {
	env := `ENVELOPE ("Thu, 1 Feb 2024 10:00:00 +0000" "msg 111" (("A" NIL "a" "example.com")) NIL NIL NIL NIL NIL NIL "<111@x>")`
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		idles := 0
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "EXAMINE", "SELECT":
				err = c.Lines("* 10 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 111] x", cmd.Tag+" OK [READ-ONLY] done")
			case "IDLE":
				idles++
				lines := []string{"+ idling"}
				if idles == 1 {
					lines = append(lines, "* 11 EXISTS")
				}
				if err = c.Lines(lines...); err != nil {
					return err
				}
				if _, err = c.ReadLine(); err != nil { // DONE
					return err
				}
				if idles == 1 {
					err = c.Lines("* 3 EXPUNGE", cmd.Tag+" OK Idle completed")
				} else {
					err = c.Line(cmd.Tag + " OK Idle completed")
				}
			case "UID FETCH":
				err = c.Lines(fmt.Sprintf("* 10 FETCH (UID 111 %s)", env), cmd.Tag+" OK done")
			case "LOGOUT":
				c.Lines("* BYE bye", cmd.Tag+" OK done")
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
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "idle", "imap://alice@"+src.Addr(), "INBOX", "--new", "--json", "--for", "1500ms")
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	ex := strings.Index(out, `"event":"expunge"`)
	nw := strings.Index(out, `"event":"new"`)
	if ex < 0 || nw < 0 {
		t.Fatalf("missing events: expunge at %d, new at %d", ex, nw)
	}
	if nw < ex {
		t.Errorf("idle --new printed the new message (seq 10) before the EXPUNGE 3 the server sent before it: events out of order")
	}
}
