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

// TestCopyFlagChanges checks that flag changes of mail copied before reach
// the copies: by CONDSTORE, by Message-ID when the state has no UID map,
// and by --sync-flags after the copies' flags were changed on the
// destination. Dovecot to Cyrus and Dovecot to Dovecot.
func TestCopyFlagChanges(t *testing.T) {
	t.Parallel()
	for _, to := range []string{"cyrus", "dovecot"} {
		t.Run(to, func(t *testing.T) {
			a, cf := dovecot(t, 12)
			setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
			_, aURL := urls(a)
			state := t.TempDir()
			args := []string{"copy", aURL, "", "INBOX", "--ca-file", cf[1], "--state-dir", state, "--timeout", "20s"}
			var dc *commands.Client
			if to == "cyrus" {
				args[2], dc = cyrusAlice(t)
			} else {
				b := testserver.StartT(t, nil)
				_, args[2] = urls(b)
				args = append(args, "--dst-ca-file", writeCA(t, b))
				dc = client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
			}
			ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			store := func(c *commands.Client, op commands.StoreOp, flags []string, uids ...uint32) {
				t.Helper()
				if _, err := c.Select(ctx, "INBOX", nil); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Store(ctx, commands.UIDs(uids...), op, flags, &commands.StoreOptions{Silent: true}); err != nil {
					t.Fatal(err)
				}
			}
			run := func(want int, extra ...string) copyResult {
				t.Helper()
				r := copyReport(t, 0, append(args, extra...)...)["INBOX"]
				if r.FlagsUpdated != want || r.FlagsUnmatched != 0 {
					t.Errorf("run %q: %d copies' flags updated, %d not found; want %d, 0 (%+v)", extra, r.FlagsUpdated, r.FlagsUnmatched, want, r)
				}
				sameMail(t, "after the run", mailOf(t, dc, "INBOX"), mailOf(t, ac, "INBOX"))
				return r
			}

			if r := run(0); r.Copied != 12 || r.FlagSync != "condstore" {
				t.Fatalf("first run: %+v", r)
			}
			// Changes on the source: 1 and 3 differ, 2 changes back.
			store(ac, commands.AddFlags, []string{`\Seen`}, 1, 2, 3)
			store(ac, commands.AddFlags, []string{`$Work`, `\Flagged`}, 3)
			store(ac, commands.RemoveFlags, []string{`\Seen`}, 2)
			store(ac, commands.AddFlags, []string{`\Answered`}, 12)
			cli(t, "From: n@example.com\r\nMessage-ID: <new@x>\r\n\r\nnew\r\n", 0, "append", aURL, "INBOX", "--ca-file", cf[1])
			if r := run(3); r.Copied != 1 {
				t.Errorf("second run copied %d", r.Copied)
			}
			run(0) // nothing changed

			// Without the UID map, the copy is found by Message-ID.
			path := filepath.Join(state, mustOne(t, state))
			var st copyState
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			if m := st.Mailboxes["INBOX"].UIDMap; len(m) != 1 || m.lookup(13) == 0 {
				t.Errorf("UID map %v: want one run up to UID 13", m)
			}
			st.Mailboxes["INBOX"].UIDMap = nil
			if err := saveJSON(path, &st); err != nil {
				t.Fatal(err)
			}
			store(ac, commands.AddFlags, []string{`\Draft`}, 5, 13)
			run(2)

			// Changes on the destination: only --sync-flags sees them.
			store(dc, commands.AddFlags, []string{`\Flagged`}, 7)
			store(dc, commands.RemoveFlags, []string{`\Seen`}, 1)
			r := copyReport(t, 0, args...)["INBOX"]
			if r.FlagsUpdated != 0 {
				t.Errorf("a run without --sync-flags updated %d", r.FlagsUpdated)
			}
			if r := run(2, "--sync-flags"); r.FlagSync != "full" {
				t.Errorf("--sync-flags: flag_sync %q", r.FlagSync)
			}
		})
	}
}

// mustOne returns the name of the one state file in dir.
func mustOne(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	if len(names) != 1 {
		t.Fatalf("state files %v: want one", names)
	}
	return names[0]
}

func TestUIDMap(t *testing.T) {
	var m uidMap
	for u := uint32(1); u <= 5; u++ {
		m.add(u, u+100)
	}
	m.add(8, 200)
	m.add(7, 199) // joins the run of 8 from below
	m.add(6, 106) // extends 1..5; not joined with 7 (199)
	m.add(3, 50)  // splits 1..6
	want := uidMap{{1, 101, 2}, {3, 50, 1}, {4, 104, 3}, {7, 199, 2}}
	if len(m) != len(want) {
		t.Fatalf("map %v; want %v", m, want)
	}
	for i := range want {
		if m[i] != want[i] {
			t.Fatalf("map %v; want %v", m, want)
		}
	}
	for src, dst := range map[uint32]uint32{1: 101, 2: 102, 3: 50, 4: 104, 6: 106, 7: 199, 8: 200, 9: 0, 0: 0} {
		if got := m.lookup(src); got != dst {
			t.Errorf("lookup(%d) = %d; want %d", src, got, dst)
		}
	}
	b, err := json.Marshal(m)
	if err != nil || string(b) != "[[1,101,2],[3,50,1],[4,104,3],[7,199,2]]" {
		t.Errorf("JSON %s, %v", b, err)
	}
	var back uidMap
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 4 {
		t.Errorf("back %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte("[[1,4294967295,2]]"), &back); err == nil {
		t.Error("an overflowing run was accepted")
	}
}
