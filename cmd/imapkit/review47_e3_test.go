//go:build linux

package main

import (
	"context"
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
	t.Setenv("IMAPKIT_PASSWORD", "x")
	t.Setenv("IMAPKIT_DST_PASSWORD", "x")
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
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
	boxes := map[string][]string{"Foo": {r43Body(1, false)}, "foo": {r43Body(2, false)}}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Foo`, `() "/" foo`}, boxes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	u, cy := cyrusAlice(t)
	t.Setenv("IMAPKIT_PASSWORD", "x")
	t.Setenv("IMAPKIT_DST_PASSWORD", testserver.Password)
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
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

