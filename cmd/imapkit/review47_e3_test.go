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

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestReview47ECaseVariantsSecondRunRefused (found by review): a destination that keeps
// "Foo" and "foo" as two mailboxes (case-sensitive, as Dovecot and Cyrus)
// but offers no OBJECTID and gives two mailboxes the same UIDVALIDITY (a
// constant one here; UW-IMAP and Courier derive it from the creation
// time, which run 1 makes equal by creating both within a second). Run 1
// copies both (foo is empty when its CREATE is checked): exit 0. Run 2,
// with nothing new, finds both listed, asks oneMailbox of each, sees the
// same count (1), UIDNEXT (2) and UIDVALIDITY, and refuses both as "one
// mailbox": exit 1, at every run from then on, though nothing was merged.
// docs/cli.md says "once a server has taken both names as one, both fail";
// this server never did. A re-run after a full success must not fail.
func TestReview47ECaseVariantsSecondRunRefused(t *testing.T) {
	boxes := map[string][]string{"Foo": {r43Body(1, false)}, "foo": {r43Body(2, false)}}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Foo`, `() "/" foo`}, boxes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	fake := &r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}}
	addr := fake.start(t)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	dir := t.TempDir()
	run := func() (int, string) {
		code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), "imap://alice@"+addr, "--insecure-plaintext", "--dst-insecure-plaintext",
			"--state-dir", dir, "--timeout", "20s", "--quiet")
		return code, errs
	}
	if code, errs := run(); code != exitOK {
		t.Fatalf("run 1: exit %d; want 0\nstderr: %s", code, errs)
	}
	fake.mu.Lock()
	foo, Foo := strings.Join(fake.boxes["foo"].ids, ","), strings.Join(fake.boxes["Foo"].ids, ",")
	fake.mu.Unlock()
	if foo != "<u2@r43>" || Foo != "<u1@r43>" {
		t.Fatalf("run 1: Foo %q, foo %q; want one message each", Foo, foo)
	}
	if code, errs := run(); code != exitOK {
		t.Errorf("run 2 (nothing new, the two mailboxes separate): exit %d; want 0\nstderr: %s", code, errs)
	}
}

// TestReview47EUIDNextStaleAfterDeliveryDovecot (found by review): acc1fe6 fixed
// TestReview47ECountStaleAfterDelivery (a count kept across groups misses a
// message another client delivers mid-run) and says UIDNEXT from APPENDUID
// does not have the flaw ("re-synced by every group's APPENDUID"). It has:
// APPENDUID re-syncs with the group before, not with a delivery after it.
// Real Dovecot (UIDPLUS, UIDNEXT in STATUS), import into INBOX one
// message per APPEND: message 1 lands (APPENDUID -> next 2); another client
// delivers a message (UID 2, UIDNEXT 3); message 2 is recorded pending at
// UIDNEXT 2 and the run stops before sending it. Run 2: UIDNEXT 3 > 2,
// "landed": message 2 is never sent, exit 0. The very loss acc1fe6 fixed
// for the count, on the common server, with no STATUS gap to blame.
//
// Fixed by the minimum: a STATUS right before every group (also the
// first: after checkDst's STATUS the source is read, which takes time),
// so a delivery BEFORE the pending record is written is counted; this
// test asserts that, for a later group (the run) and the first (the
// appender, at the end). A delivery after the record is written, while
// the group is not sent (the run stopped before the APPEND), and before
// the next run's STATUS, is still taken for the group: docs/cli.md,
// Resuming, says so. Confirming by UID FETCH was not done.
func TestReview47EUIDNextStaleAfterDeliveryDovecot(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ca := writeCA(t, b)
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, ""), r44ImportMsg(2, "")})
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	run := func() (int, string) {
		code, _, errs := runCLI(t, "", "import", bURL, path, "--to", "INBOX", "--ca-file", ca, "--no-multiappend",
			"--timeout", "20s", "--quiet")
		return code, errs
	}
	pendings := 0
	testHook = func(step string) error {
		switch step {
		case "appended":
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			msg := "From: b@example.com\r\nSubject: delivered\r\nMessage-ID: <delivered@zz>\r\n\r\nnew mail\r\n"
			if _, err := c.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), nil); err != nil {
				return fmt.Errorf("delivery: %w", err)
			}
		case "pending":
			pendings++
			if pendings == 2 {
				return fmt.Errorf("stopped by the test")
			}
		}
		return nil
	}
	t.Cleanup(func() { testHook = nil })
	if code, errs := run(); code == exitOK {
		t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
	}
	testHook = nil
	code, errs := run()
	var subjects []string
	for _, m := range mailOf(t, c, "INBOX") {
		if i := strings.Index(m.body, "Subject: "); i >= 0 {
			s, _, _ := strings.Cut(m.body[i+9:], "\r\n")
			subjects = append(subjects, s)
		}
	}
	got := strings.Join(subjects, ",")
	if code != exitOK || got != "m1,delivered,m2" {
		t.Errorf("run 2: exit %d, INBOX holds %s; want 0, m1,delivered,m2 (m2 taken for landed when UIDNEXT moved by the delivery: lost)\nstderr: %s", code, got, errs)
	}
	// The first group: a delivery after checkDst's STATUS (the
	// appender's first), before the group is prepared.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ap := newAppender(c, "INBOX", true)
	if _, err := ap.checkDst(ctx, 0, false, false, ""); err != nil {
		t.Fatal(err)
	}
	before := ap.next
	msg := "From: b@example.com\r\nSubject: delivered 2\r\n\r\nnew mail\r\n"
	if _, err := c.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), nil); err != nil {
		t.Fatal(err)
	}
	p, err := ap.prepare(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.DstUIDNext != before+1 || p.DstMessages == nil || *p.DstMessages != 4 {
		t.Errorf("first group recorded at UIDNEXT %d (before the delivery %d), count %v; want %d, 4", p.DstUIDNext, before, p.DstMessages, before+1)
	}
}

// TestReview47ECaseVariantsCyrus (found by review): Cyrus 3.6.1 (Debian 12's, the one
// internal/testserver starts) offers OBJECTID, and answers STATUS ...
// MAILBOXID with raw bytes, no atom: `* STATUS Foo (MESSAGES 0 MAILBOXID
// (\x9d:\xb7#\xd5U))`, which the codec cannot decode. oneMailbox asks
// MAILBOXID whenever OBJECTID is offered, and an error of that STATUS
// fails the mailbox: copying "Foo" and "foo" (two mailboxes on Cyrus, as
// docs/cli.md says) fails "foo" at run 1 and both at every later run,
// exit 3 ("part of the answer could not be decoded"). Before a1237e3 both
// were copied.
func TestReview47ECaseVariantsCyrus(t *testing.T) {
	t.Parallel()
	boxes := map[string][]string{"Foo": {r43Body(1, false)}, "foo": {r43Body(2, false)}}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Foo`, `() "/" foo`}, boxes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	u, cy := cyrusAlice(t)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	dir := t.TempDir()
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), u, "--insecure-plaintext", "--dst-insecure-plaintext",
			"--state-dir", dir, "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Errorf("run %d: exit %d; want 0 (Foo and foo are two mailboxes on Cyrus)\nstdout: %s\nstderr: %s", run, code, out, errs)
		}
	}
	// MAILBOXID asked alone decodes on real Cyrus: the check goes by
	// the MAILBOXIDs, not the counts fallback.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := &nameMapper{dst: cy}
	a, err := m.mailboxID(ctx, "Foo")
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.mailboxID(ctx, "foo")
	if err != nil {
		t.Fatal(err)
	}
	if a == "" || b == "" || a == b {
		t.Errorf("MAILBOXIDs of Foo and foo on Cyrus: %q, %q; want two, decoded", a, b)
	}
	if why, err := m.oneMailbox(ctx, "foo", "Foo", false, true); err != nil || why != "" {
		t.Errorf("oneMailbox(foo, Foo) on Cyrus: %q, %v; want two mailboxes", why, err)
	}
}

// TestReview47EInboxChildCaseDovecot (found by review): a source that lists INBOX as
// "Inbox" and its children as "Inbox/Sub" (Outlook.com / Microsoft 365
// do). mapName sends "Inbox" to INBOX but keeps "Inbox/Sub". Dovecot
// creates it as "INBOX/Sub" (INBOX is case-insensitive, its children's
// prefix too) and lists it so. Run 2 does not find "Inbox/Sub" in LIST,
// finds the case variant "INBOX/Sub", CREATEs "Inbox/Sub" again: NO
// [ALREADYEXISTS], the mailbox fails (exit 1) at every run after the
// first. (The CREATE of an unlisted name predates this stop; ensure's
// new case-variant code sees the variant and still CREATEs.)
func TestReview47EInboxChildCaseDovecot(t *testing.T) {
	t.Parallel()
	// Only the child is listed: the scripted source would not EXAMINE
	// "Inbox" as its INBOX.
	boxes := map[string][]string{"Inbox/Sub": {r43Body(2, false)}}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Inbox/Sub`}, boxes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	dir := t.TempDir()
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca,
			"--state-dir", dir, "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Errorf("run %d: exit %d; want 0\nstdout: %s\nstderr: %s", run, code, out, errs)
		}
		if run != 1 {
			continue
		}
		// A state file of a run before the fix: the same key (the
		// source's name), the destination recorded as "Inbox/Sub".
		// Run 2 must take it for INBOX/Sub: nothing copied again, no
		// "it was copied to Inbox/Sub before" refusal.
		files, _ := filepath.Glob(filepath.Join(dir, "copy-*.json"))
		if len(files) != 1 {
			t.Fatalf("state files: %v", files)
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		old := strings.ReplaceAll(string(data), `"dst":"INBOX/Sub"`, `"dst":"Inbox/Sub"`)
		old = strings.ReplaceAll(old, `"dst": "INBOX/Sub"`, `"dst": "Inbox/Sub"`)
		if old == string(data) {
			t.Errorf("run 1 recorded no destination INBOX/Sub: %s", data)
			continue
		}
		if err := os.WriteFile(files[0], []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if ms := mailOf(t, c, "INBOX/Sub"); len(ms) != 1 {
		t.Errorf("INBOX/Sub holds %d messages after two runs; want 1", len(ms))
	}
}

// TestReview47EInboxChildName (found by review): the INBOX<delim>
// prefix in any case is written INBOX<delim>, also of a --map target;
// a destination that lists the name as given (and not the other) keeps
// it.
func TestReview47EInboxChildName(t *testing.T) {
	for _, c := range [][3]string{
		{"Inbox/Sub", "/", "INBOX/Sub"},
		{"inbox.a.b", ".", "INBOX.a.b"},
		{"INBOX/Sub", "/", "INBOX/Sub"},
		{"Inboxes/Sub", "/", "Inboxes/Sub"},
		{"Inbox", "/", "Inbox"},
		{"Inbox/", "/", "Inbox/"},
		{"Inbox/Sub", "", "Inbox/Sub"},
		{"Inbox/Sub", ".", "Inbox/Sub"},
	} {
		if got := inboxChild(c[0], c[1]); got != c[2] {
			t.Errorf("inboxChild(%q, %q) = %q; want %q", c[0], c[1], got, c[2])
		}
	}
	m := &nameMapper{srcDelim: "/", dstDelim: "/", maps: map[string]string{"x": "inbox/x"}, have: map[string]bool{}}
	if got := m.dstName("Inbox/Sub"); got != "INBOX/Sub" {
		t.Errorf("dstName(Inbox/Sub) = %q; want INBOX/Sub", got)
	}
	if got := m.dstName("x"); got != "INBOX/x" {
		t.Errorf("dstName(x) with --map x=inbox/x = %q; want INBOX/x", got)
	}
	m.have["Inbox/Sub"] = true
	if got := m.dstName("Inbox/Sub"); got != "Inbox/Sub" {
		t.Errorf("dstName(Inbox/Sub), the destination listing Inbox/Sub = %q; want it kept", got)
	}
	m.have["INBOX/Sub"] = true
	if got := m.dstName("Inbox/Sub"); got != "Inbox/Sub" {
		// A server listing both keeps them apart: the name as given is
		// the mailbox copied to before (found by review).
		t.Errorf("dstName(Inbox/Sub), the destination listing both = %q; want Inbox/Sub", got)
	}
}
