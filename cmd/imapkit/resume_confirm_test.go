package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestImportOldStateKeyOtherSpelling (found by review): an older imapkit
// ran import --to Inbox/Sub (state keyed ".../Inbox/Sub"); the user now
// runs --to INBOX/Sub, the canonical name, as the docs and copy spell it.
// The migration looked for the old entry under the spelling given this
// time only: not found, everything was imported again.
func TestImportOldStateKeyOtherSpelling(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ca := writeCA(t, b)
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, "")})
	t.Setenv("IMAPKIT_PASSWORD", testserver.Password)
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
	run := func(n int, to string) {
		t.Helper()
		code, out, errs := runCLI(t, "", "import", bURL, path, "--to", to, "--ca-file", ca, "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Fatalf("run %d: exit %d; want 0\nstdout: %s\nstderr: %s", n, code, out, errs)
		}
	}
	run(1, "INBOX/Sub")
	// The state as an imapkit before the naming wrote it for --to
	// Inbox/Sub.
	spath := importStatePath(path)
	data, err := os.ReadFile(spath)
	if err != nil {
		t.Fatal(err)
	}
	old := strings.ReplaceAll(string(data), `/INBOX/Sub"`, `/Inbox/Sub"`)
	if old == string(data) {
		t.Fatalf("no entry for INBOX/Sub recorded: %s", data)
	}
	if err := os.WriteFile(spath, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	run(2, "INBOX/Sub")
	if got := r48bSubjects(t, c, "INBOX/Sub"); got != "m1" {
		t.Errorf("INBOX/Sub holds %q after --to INBOX/Sub on a state an older imapkit keyed Inbox/Sub; want m1 (once)", got)
	}
	data, err = os.ReadFile(spath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `/Inbox/Sub"`) {
		t.Errorf("the old entry is still in the state: %s", data)
	}
}

// TestImportStateKeyBothSpellings: a state holding an entry under both
// spellings of one mailbox (an older imapkit's "Inbox/Sub" and this one's
// "INBOX/Sub", made by a run before the old entry was taken over). The
// entry with the most progress is kept, the other dropped with a warning;
// when the one dropped has a pending APPEND, the run stops (exit 1) and
// says which to remove, rather than leave the group unresolved.
func TestImportStateKeyBothSpellings(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ca := writeCA(t, b)
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, ""), r44ImportMsg(2, "")})
	t.Setenv("IMAPKIT_PASSWORD", testserver.Password)
	t.Setenv("IMAPKIT_URL", "")
	noTTY(t)
	run := func(to string) (int, string) {
		t.Helper()
		code, _, errs := runCLI(t, "", "import", bURL, path, "--to", to, "--ca-file", ca, "--timeout", "20s", "--quiet")
		return code, errs
	}
	if code, errs := run("INBOX/Sub"); code != exitOK {
		t.Fatalf("run 1: exit %d\n%s", code, errs)
	}
	spath := importStatePath(path)
	var st importState
	data, err := os.ReadFile(spath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	var key string
	for k := range st.Dests {
		key = k
	}
	full := st.Dests[key]
	if len(full.Done) != 2 {
		t.Fatalf("run 1 recorded %+v", full)
	}
	// The old spelling's entry: less progress (one file), and a pending
	// group.
	oldKey := strings.TrimSuffix(key, "INBOX/Sub") + "Inbox/Sub"
	less := *full
	less.Done = full.Done[:1]
	less.Pending = &pendingAppend{DstUIDValidity: full.DstUIDValidity, DstUIDNext: 2, Count: 1}
	less.PendingDone = full.Done[1:]
	st.Dests[oldKey] = &less
	write := func() {
		t.Helper()
		data, err := json.Marshal(&st)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(spath, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write()
	code, errs := run("INBOX/Sub")
	if code != 1 || !strings.Contains(errs, "pending APPEND") || !strings.Contains(errs, `Inbox/Sub"`) {
		t.Errorf("a dropped entry with a pending group: exit %d; want 1, naming it\n%s", code, errs)
	}
	// Without its pending group: the entry with the most progress is
	// kept, nothing imported again.
	less.Pending, less.PendingDone = nil, nil
	write()
	code, errs = run("Inbox/Sub")
	if code != exitOK || !strings.Contains(errs, "warning") {
		t.Errorf("exit %d; want 0 with a warning\n%s", code, errs)
	}
	if got := r48bSubjects(t, c, "INBOX/Sub"); got != "m1,m2" {
		t.Errorf("INBOX/Sub holds %q; want m1,m2 (once each)", got)
	}
	data, err = os.ReadFile(spath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `/Inbox/Sub"`) {
		t.Errorf("the dropped entry is still in the state: %s", data)
	}
}

// TestCopyWrongRFC822SizeInterrupted (found by review): a source whose
// RFC822.SIZE is not the size of the BODY[] it sends (Exchange's;
// TestCopyWrongRFC822Size says copy must work with one). A run stops after
// the server took the last group's APPEND and before the state moved: the
// commonest interruption, and no other client touches the mailbox. The
// pending record held the source's RFC822.SIZE, the destination reports
// the literal's: the next run's confirmation never found the group and
// sent it again, a duplicate. Now the first literal of another size takes
// the sizes out of the record (saved before it is sent), and the group is
// found by its dates. With MULTIAPPEND (one group of two, the lie found at
// the first message) and without (groups of one, the second recorded
// after the lie was found).
func TestCopyWrongRFC822SizeInterrupted(t *testing.T) {
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	ca := writeCA(t, b)
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	for _, tc := range []struct {
		name, mailbox string
		args          []string
		stopAt        int
	}{
		{"single", "INBOX", []string{"--no-multiappend"}, 2},
		{"multi", "Multi", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			boxes := map[string][]string{tc.mailbox: {r43Body(1, false), r43Body(2, false)}}
			src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" ` + tc.mailbox}, boxes,
				sourceOpts{size: func(b string) int { return len(b) + 7 }}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { src.Close() })
			t.Setenv("IMAPKIT_PASSWORD", "x")
			t.Setenv("IMAPKIT_DST_PASSWORD", testserver.Password)
			t.Setenv("IMAPKIT_URL", "")
			noTTY(t)
			dir := t.TempDir()
			run := func() (int, string) {
				args := append([]string{"copy", "imap://alice@" + src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca,
					"--state-dir", dir, "--timeout", "20s", "--quiet"}, tc.args...)
				code, _, errs := runCLI(t, "", args...)
				return code, errs
			}
			appended := 0
			testHook = func(step string) error {
				if step == "appended" {
					if appended++; appended == tc.stopAt {
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
			if got := r48bSubjects(t, c, tc.mailbox); code != exitOK || got != "u1,u2" {
				t.Errorf("run 2: exit %d, %s holds %s; want 0, u1,u2 (the group landed, nobody else wrote)\nstderr: %s", code, tc.mailbox, got, errs)
			}
		})
	}
}
