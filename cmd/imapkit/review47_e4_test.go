//go:build linux

package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview47EInboxChildBothListedKeepsCopy (found by review): a
// destination that keeps "Inbox/Sub" and "INBOX/Sub" apart (it lists
// both; Dovecot and Cyrus cannot: both refuse the second CREATE with
// "already exists" and list only INBOX/Sub, so listing both proves the
// server tells them apart). Run 1 copies the source's "Inbox/Sub" to the
// destination's "Inbox/Sub" (listed as given, kept: dstName). Then
// "INBOX/Sub" appears on the destination (the user's own mailbox, one
// message) and the source gets a second message. Run 2: dstName, seeing
// both listed, now picks "INBOX/Sub"; copyAccount's migration rewrites
// the state's dst "Inbox/Sub" to "INBOX/Sub" (the same mailbox "on a
// server whose INBOX prefix is case-insensitive", which this one is not);
// checkDst passes (this server's UIDVALIDITY is a constant, as UW-IMAP and
// Courier may give two mailboxes created in one second) and message 2 is
// appended into the user's INBOX/Sub, next to the user's mail, while
// message 1 stays in Inbox/Sub: the source mailbox is split across two
// destination mailboxes, silently (exit 0). With distinct UIDVALIDITYs the
// same run fails errDstChanged at every run instead.
func TestReview47EInboxChildBothListedKeepsCopy(t *testing.T) {
	fake := &r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}, "Inbox/Sub": {uidNext: 1}}, statusN: map[string]int{}}
	addr := fake.start(t)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	dir := t.TempDir()
	var mu sync.Mutex
	var cur []string
	src, err := hostile.Listen(func(c *hostile.Conn) error {
		mu.Lock()
		msgs := cur
		mu.Unlock()
		return scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Inbox/Sub`}, map[string][]string{"Inbox/Sub": msgs})(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	run := func(msgs []string) (int, string) {
		mu.Lock()
		cur = msgs
		mu.Unlock()
		code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), "imap://alice@"+addr, "--insecure-plaintext", "--dst-insecure-plaintext",
			"--state-dir", dir, "--timeout", "20s", "--quiet")
		return code, errs
	}
	if code, errs := run([]string{r43Body(1, false)}); code != exitOK {
		t.Fatalf("run 1: exit %d\nstderr: %s", code, errs)
	}
	fake.mu.Lock()
	got1 := strings.Join(fake.boxes["Inbox/Sub"].ids, ",")
	// The user's own INBOX/Sub, a mailbox of its own on this server.
	fake.boxes["INBOX/Sub"] = &r42FakeBox{uidNext: 2, ids: []string{"<users-own@zz>"}}
	fake.mu.Unlock()
	if got1 != "<u1@r43>" {
		t.Fatalf("run 1: Inbox/Sub holds %q; want <u1@r43>", got1)
	}
	code, errs := run([]string{r43Body(1, false), r43Body(2, false)})
	fake.mu.Lock()
	a, b := strings.Join(fake.boxes["Inbox/Sub"].ids, ","), strings.Join(fake.boxes["INBOX/Sub"].ids, ",")
	fake.mu.Unlock()
	if code != exitOK || a != "<u1@r43>,<u2@r43>" || b != "<users-own@zz>" {
		t.Errorf("run 2: exit %d; Inbox/Sub holds %q, the user's INBOX/Sub %q; want 0, <u1@r43>,<u2@r43> and <users-own@zz> (the copy moved to another mailbox)\nstderr: %s", code, a, b, errs)
	}
}
