//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// bigMessage is a message larger than TinyUser's 20 KiB quota.
func bigMessage(subject string) []byte {
	return []byte("From: a@example.com\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject + "@audit>\r\n\r\n" +
		strings.Repeat("a line of the big message that does not fit the quota\r\n", 600))
}

// TestCopyNoLeavesPendingThenSkipped: an APPEND the destination
// refuses (NO [OVERQUOTA]) left the group recorded as pending. Mail
// delivered to the destination mailbox before the next run moved its
// UIDNEXT, and the next run took the refused group for landed: it skipped
// the message for good and exited 0. Fixed: a NO or BAD to the APPEND drops
// the pending record at once (notAppendedError), so the next run sends the
// message again (and fails again on the quota, exit 1).
func TestCopyNoLeavesPendingThenSkipped(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 0)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	bURL = strings.Replace(bURL, "alice@", testserver.TinyUser+"@", 1)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ac.AppendBytes(ctx, "INBOX", bigMessage("big"), nil); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", state, "--timeout", "20s", "--quiet"}
	code, _, errs := runCLI(t, "", args...)
	if code != 1 || !strings.Contains(errs, "OVERQUOTA") && !strings.Contains(strings.ToLower(errs), "quota") {
		t.Fatalf("first copy: exit %d, stderr %q; want 1 and a quota refusal", code, errs)
	}
	// The mailbox's failure is reported once, then summed up (it was
	// printed a second time as the exit status's message).
	if n := strings.Count(errs, "INBOX: "); n != 1 || !strings.Contains(errs, "imapkit copy: 1 of 1 mailboxes failed") {
		t.Errorf("first copy: stderr %q; want the INBOX failure once, then \"1 of 1 mailboxes failed\"", errs)
	}
	// Ordinary mail reaches the destination's INBOX meanwhile.
	bc := client(t, b.TLSAddr, b, testserver.TinyUser, testserver.Password)
	if _, err := bc.AppendBytes(ctx, "INBOX", []byte("From: x@example.com\r\nSubject: delivered\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", args...)
	got := mailOf(t, bc, "INBOX")
	has := false
	for _, m := range got {
		if strings.Contains(m.body, "Subject: big") {
			has = true
		}
	}
	if code == 0 && !has {
		t.Fatalf("second copy: exit 0 (%q %q), but the refused message was never copied: the destination holds %d messages, none of them it", out, errs, len(got))
	}
}

// TestCopyFlagsLostAfterInterruptedFirstRun: the source's
// HIGHESTMODSEQ was recorded only when a run completed. A first run stopped
// after some messages were copied left it 0, so the next run took itself
// for "the first run with CONDSTORE" and carried no flag change; changes
// made between the two runs to the mail copied by the first were never
// carried. Fixed two ways, one per subtest: a first run records the
// HIGHESTMODSEQ of its EXAMINE before its first group ("stopped": the state
// holds it after the stop, and the next run carries the change by
// CHANGEDSINCE); and a state with mail copied but no HIGHESTMODSEQ (written
// by a version before the fix: "old-state") makes the next run compare the
// flags of every copy once (flag_sync "full").
func TestCopyFlagsLostAfterInterruptedFirstRun(t *testing.T) {
	t.Parallel()
	for _, oldState := range []bool{false, true} {
		name := "stopped"
		if oldState {
			name = "old-state"
		}
		t.Run(name, func(t *testing.T) { copyFlagsAfterStop(t, oldState) })
	}
}

func copyFlagsAfterStop(t *testing.T, oldState bool) {
	a, cf := dovecot(t, 3)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	stateDir := t.TempDir()
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", stateDir, "--timeout", "20s", "--no-multiappend"}
	seen := 0
	setTestHook(t, func(s string) error {
		if s == "pending" {
			if seen++; seen == 2 {
				return errors.New("stopped by the test")
			}
		}
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })
	cli(t, "", 3, args...) // UID 1 copied, then stopped
	setTestHook(t, nil)

	paths, err := filepath.Glob(filepath.Join(stateDir, "copy-*.json"))
	if err != nil || len(paths) != 1 {
		t.Fatalf("state files %v (%v); want one", paths, err)
	}
	var st copyState
	if _, err := loadJSON(paths[0], &st); err != nil {
		t.Fatal(err)
	}
	box := st.Mailboxes["INBOX"]
	if box == nil || box.LastUID != 1 {
		t.Fatalf("state after the stopped run: %+v; want INBOX with last UID 1", box)
	}
	if oldState {
		box.HighestModSeq = 0 // as the version before the fix left it
		if err := saveJSON(paths[0], &st); err != nil {
			t.Fatal(err)
		}
	} else if box.HighestModSeq == 0 {
		t.Fatalf("the stopped first run recorded no HIGHESTMODSEQ: %+v", box)
	}

	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ac.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	r := copyReport(t, 0, args...)["INBOX"]
	if want := map[bool]string{false: "condstore", true: "full"}[oldState]; r.FlagSync != want || r.FlagsUpdated != 1 {
		t.Errorf("second run: flag_sync %q, flags_updated %d; want %q and 1", r.FlagSync, r.FlagsUpdated, want)
	}
	copyReport(t, 0, args...)
	want := mailOf(t, ac, "INBOX")
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	if len(got) != 3 {
		t.Fatalf("%d messages copied; want 3", len(got))
	}
	if got[0].flags != want[0].flags {
		t.Fatalf("UID 1: flags %q on the destination after two complete runs; the source has %q", got[0].flags, want[0].flags)
	}
}

// TestCopySharedNamespaceCopied: a source whose shared namespace has
// the prefix "" (Cyrus without altnamespace: NAMESPACE (("INBOX." "."))
// (("user." ".")) (("" "."))) had its shared folders copied as if they were
// the user's own, and a shared folder "Sent" landed in the user's Sent next
// to "INBOX.Sent". docs/cli.md: "Copies every selectable mailbox of the
// source's personal namespace". Fixed: a mailbox is of the namespace whose
// prefix is its longest (isPersonal), and only personal ones are copied;
// INBOX and INBOX.Sent still are.
func TestCopySharedNamespaceCopied(t *testing.T) {
	t.Parallel()
	src, err := hostile.Listen(scriptedSource(`(("INBOX." ".")) (("user." ".")) (("" "."))`,
		[]string{`(\HasChildren) "." INBOX`, `(\HasNoChildren) "." INBOX.Sent`, `(\HasNoChildren) "." Sent`},
		map[string][]string{
			"INBOX":      {"From: a@example.com\r\nSubject: in\r\n\r\nin\r\n"},
			"INBOX.Sent": {"From: a@example.com\r\nSubject: mine\r\n\r\nmine\r\n"},
			"Sent":       {"From: all@example.com\r\nSubject: shared announcement\r\n\r\nto everyone\r\n"},
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet")
	t.Logf("exit %d\n%s%s", code, out, errs)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	got := mailOf(t, bc, "Sent")
	for _, m := range got {
		if strings.Contains(m.body, "shared announcement") {
			t.Fatalf("the source's shared folder \"Sent\" was copied into the user's own Sent (%d messages there)", len(got))
		}
	}
	if code != 0 || len(got) != 1 || !strings.Contains(got[0].body, "Subject: mine") || len(mailOf(t, bc, "INBOX")) != 1 {
		t.Fatalf("exit %d, %d messages in Sent; want 0, and INBOX and INBOX.Sent copied", code, len(got))
	}
}

// TestIsPersonal: which namespace a name is of, on the servers'
// usual layouts.
func TestIsPersonal(t *testing.T) {
	cyrus := []srcNamespace{{"INBOX.", ".", true}, {"user.", ".", false}, {"", ".", false}}
	cyrusAlt := []srcNamespace{{"", "/", true}, {"Other Users/", "/", false}, {"Shared Folders/", "/", false}}
	dovecot := []srcNamespace{{"", "/", true}, {"shared/", "/", false}}
	for _, c := range []struct {
		ns   []srcNamespace
		name string
		want bool
	}{
		{cyrus, "INBOX", true},
		{cyrus, "inbox", true},
		{cyrus, "INBOX.Sent", true},
		{cyrus, "INBOX.a.b", true},
		{cyrus, "Sent", false},
		{cyrus, "user.bob.Sent", false},
		{cyrus, "user", false},
		{cyrusAlt, "Sent", true},
		{cyrusAlt, "Shared Folders/news", false},
		{cyrusAlt, "Other Users/bob", false},
		{dovecot, "Archive/2024", true},
		{dovecot, "shared/bob/INBOX", false},
		{nil, "anything", true},
		{[]srcNamespace{{"INBOX.", ".", true}}, "Elsewhere", true}, // in no namespace
	} {
		if got := isPersonal(c.name, c.ns); got != c.want {
			t.Errorf("isPersonal(%q, %v) = %v; want %v", c.name, c.ns, got, c.want)
		}
	}
}

// TestCopyExpungedMidCopy: a message expunged on the source after
// copy fetched the batch's metadata but before its body (another client
// emptying the Trash, say). Dovecot sends its body as NIL, which copy
// appended as 0 bytes: refused, the run failed. Fixed: without MULTIAPPEND
// the message is skipped once the source confirms it gone (NOOP, UID
// SEARCH), reported, and the run goes on (exit 0, the 4 others copied).
func TestCopyExpungedMidCopy(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 5)
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
	if os.Getenv("AUDIT_DEBUG") != "" {
		args = append(args, "--debug")
	}
	done := false
	setTestHook(t, func(s string) error {
		if s == "pending" && !done {
			done = true
			if _, err := ac.Store(ctx, commands.UIDs(3), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
				return err
			}
			if _, err := ac.Expunge(ctx, nil); err != nil {
				return err
			}
		}
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })
	code, out, errs := runCLI(t, "", args...)
	setTestHook(t, nil)
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	t.Logf("exit %d %q %q; %d messages on the destination", code, out, errs, len(got))
	if code != 0 || len(got) != 4 || !strings.Contains(errs, "UID 3 was expunged on the source during the copy: skipped") {
		t.Errorf("a message expunged during the copy: exit %d, %d of the 4 remaining messages copied, stderr %q", code, len(got), errs)
	}
}

// TestCopyExpungeThenDeliveryLosesGroup chains the two with real
// servers and routine events: a message of the source expunged mid-copy
// (its body came back NIL, appended as 0 bytes) made the destination
// refuse the whole MULTIAPPEND group; the group stayed "pending"; one new
// mail delivered to the destination's INBOX before the next run, and the
// next run took the group for landed: the 4 messages of it that still
// existed were never copied, and the run exited 0. Fixed: the refused
// group's pending record is dropped, so the next run copies the 4; and
// since the NIL body is no longer sent, the first run abandons the
// MULTIAPPEND mid-way instead (closing the connection: nothing of it is
// appended), drops its pending record the same way, and exits 3.
func TestCopyExpungeThenDeliveryLosesGroup(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 5)
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
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	done := false
	setTestHook(t, func(s string) error {
		if s == "pending" && !done { // between the metadata FETCH and the bodies
			done = true
			if _, err := ac.Store(ctx, commands.UIDs(3), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
				return err
			}
			if _, err := ac.Expunge(ctx, nil); err != nil {
				return err
			}
		}
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })
	code, _, errs := runCLI(t, "", args...)
	setTestHook(t, nil)
	t.Logf("first run: exit %d %q", code, errs)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if _, err := bc.AppendBytes(ctx, "INBOX", []byte("From: x@example.com\r\nSubject: delivered\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", args...)
	got := mailOf(t, bc, "INBOX")
	if want := 4 + 1; len(got) != want {
		t.Fatalf("second run: exit %d %q %q; the destination holds %d messages; want the source's 4 and the delivered one", code, out, errs, len(got))
	}
}
