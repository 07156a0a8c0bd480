//go:build linux

package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestImportSpellingChildLeavesInbox: a state holding an older
// imapkit's entries for "Inbox/Sub" (the child, another spelling) and
// for "Inbox" (INBOX itself, another job of the same file). A run with
// --to INBOX/Sub takes over the child's entry and leaves INBOX's alone:
// takeOverSpellings' child loop never sees INBOX's own key (it had a
// branch for it, unreachable, removed; with coverage, this and the other
// spelling tests never reached it).
func TestImportSpellingChildLeavesInbox(t *testing.T) {
	d := startImportDst(t)
	path, _ := importSource(t, "maildir", []string{importSourceMsg(1, "")})
	run := func(n int) {
		t.Helper()
		code, out, errs := runCLI(t, "", "import", d.url, path, "--to", "INBOX/Sub", "--ca-file", d.ca, "--timeout", "20s", "--quiet")
		if code != exitOK {
			t.Fatalf("run %d: exit %d; want 0\nstdout: %s\nstderr: %s", n, code, out, errs)
		}
	}
	run(1)
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
	prefix := strings.TrimSuffix(key, "INBOX/Sub")
	child := st.Dests[key]
	delete(st.Dests, key)
	st.Dests[prefix+"Inbox/Sub"] = child
	inbox := &importEntry{DstUIDValidity: child.DstUIDValidity, Done: []string{"other"}, Imported: 1}
	st.Dests[prefix+"Inbox"] = inbox
	if data, err = json.Marshal(&st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run(2)
	if got := subjectsOf(t, d.c, "INBOX/Sub"); got != "m1" {
		t.Errorf("INBOX/Sub holds %q; want m1 (once)", got)
	}
	st = importState{}
	if _, err := loadJSON(spath, &st); err != nil {
		t.Fatal(err)
	}
	if e := st.Dests[prefix+"Inbox"]; e == nil || len(e.Done) != 1 || e.Done[0] != "other" {
		t.Errorf("INBOX's entry (another job's) is %+v; want it left as it was", e)
	}
	if st.Dests[prefix+"INBOX/Sub"] == nil || st.Dests[prefix+"Inbox/Sub"] != nil {
		t.Errorf("entries %v; want the child's taken over as INBOX/Sub", st.Dests)
	}
}
