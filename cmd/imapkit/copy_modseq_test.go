//go:build linux

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopyStoredModSeqPastBound (real Dovecot, to itself under
// another name): a copy state holding a HIGHESTMODSEQ past 2^63-1 (an
// older imapkit wrote what a server sent) was asked for in every later
// run's FETCH CHANGEDSINCE, which the library refuses (commands.ErrModSeq,
// nothing sent): the mailbox failed at every run, its new mail never
// copied. Such a stored value is taken as unknown: a warning, a full flag
// comparison once (the change made meanwhile is carried), and the next
// run is an ordinary one.
//
// The server also runs copyPastModSeqNothingCopied (the same warning
// with nothing copied before, on an empty mailbox), which started a
// Dovecot of its own: most of what either test cost, under -race, was the
// server's start.
func TestCopyStoredModSeqPastBound(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 3)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, url := urls(a)
	c := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Create(ctx, "Empty", nil); err != nil {
		t.Fatal(err)
	}
	t.Run("NothingCopied", func(t *testing.T) { copyPastModSeqNothingCopied(t, url, cf[1], "Empty") })
	state := t.TempDir()
	args := []string{"copy", url, url, "INBOX", "--map", "INBOX=Dst", "--ca-file", cf[1], "--dst-ca-file", cf[1], "--state-dir", state, "--timeout", "20s"}
	if r := copyReport(t, 0, args...)["INBOX"]; r.Copied != 3 {
		t.Fatalf("first run: %+v", r)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(state, mustOne(t, state))
	var st copyState
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	st.Mailboxes["INBOX"].HighestModSeq = 1 << 63
	if err := saveJSON(path, &st); err != nil {
		t.Fatal(err)
	}
	rs, errs := copyReportErr(t, 0, args...)
	if r := rs["INBOX"]; r.FlagSync != "full" || r.FlagsUpdated != 1 || !strings.Contains(errs, "9223372036854775808") {
		t.Errorf("run with the stored HIGHESTMODSEQ past 2^63-1: %+v, stderr %q; want a full flag sync updating 1 copy, and a warning naming the value", r, errs)
	}
	rs, errs = copyReportErr(t, 0, args...)
	if r := rs["INBOX"]; r.FlagsUpdated != 0 || r.FlagSync == "full" || strings.Contains(errs, "9223372036854775808") {
		t.Errorf("the run after: %+v, stderr %q; want an ordinary run", r, errs)
	}
}

// copyPastModSeqNothingCopied (real Dovecot, the one of
// TestCopyStoredModSeqPastBound, which runs it: one server start
// for both, where it had a Dovecot of its own until d3c1978): the warning for a stored HIGHESTMODSEQ past
// 2^63-1 said "the flags of the mail copied before are compared in full",
// also when no mail was copied before (or the source has no CONDSTORE:
// flagSyncOff). It says what follows from the plan now. url is alice's
// imaps:// URL, ca the CA file, box an empty mailbox of hers, copied to
// box+"Dst".
func copyPastModSeqNothingCopied(t *testing.T, url, ca, box string) {
	state := t.TempDir()
	args := []string{"copy", url, url, box, "--map", box + "=" + box + "Dst", "--ca-file", ca, "--dst-ca-file", ca, "--state-dir", state, "--timeout", "20s"}
	if r := copyReport(t, 0, args...)[box]; r.Copied != 0 {
		t.Fatalf("first run: %+v", r)
	}
	path := filepath.Join(state, mustOne(t, state))
	var st copyState
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	mb := st.Mailboxes[box]
	if mb == nil || mb.LastUID != 0 {
		t.Fatalf("state after the first run: %+v", mb)
	}
	mb.HighestModSeq = 1 << 63
	if err := saveJSON(path, &st); err != nil {
		t.Fatal(err)
	}
	_, errs := copyReportErr(t, 0, args...)
	if !strings.Contains(errs, "9223372036854775808") || !strings.Contains(errs, "taken as unknown; no mail was copied before") || strings.Contains(errs, "compared in full") {
		t.Errorf("stderr %q; want the warning naming the value, taken as unknown, with no mail copied before (no full comparison)", errs)
	}
}
