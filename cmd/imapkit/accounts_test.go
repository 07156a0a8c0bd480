//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestShards: every account is in exactly one shard, whatever n and the
// order of the file.
func TestShards(t *testing.T) {
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("imaps://user%d@mail%d.example.com imaps://user%d@new.example.com password-file=/run/secrets/u%d", i, i%7, i, i))
	}
	for n := 1; n <= 9; n++ {
		count := map[string]int{}
		sizes := make([]int, n)
		for i := 1; i <= n; i++ {
			for _, l := range lines {
				if inShard(l, i, n) {
					count[l]++
					sizes[i-1]++
				}
			}
		}
		for _, l := range lines {
			if count[l] != 1 {
				t.Fatalf("n=%d: %q is in %d shards", n, l, count[l])
			}
		}
		for i, s := range sizes {
			if n > 1 && (s == 0 || s > 2*len(lines)/n) {
				t.Errorf("n=%d: shard %d has %d of %d accounts: unbalanced", n, i+1, s, len(lines))
			}
		}
	}
	// The file's order and surrounding blanks do not matter.
	f := filepath.Join(t.TempDir(), "accounts")
	shuffled := append([]string{}, lines...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	os.WriteFile(f, []byte("# fleet\n\n  "+strings.Join(shuffled, "  \n")+"\n"), 0o600)
	accts, err := parseAccounts(f)
	if err != nil || len(accts) != len(lines) {
		t.Fatalf("parseAccounts: %d, %v", len(accts), err)
	}
	for _, a := range accts {
		if a.dst == "" || !strings.HasPrefix(a.srcPasswordFile, "/run/secrets/") {
			t.Fatalf("line %d parsed as %+v", a.line, a)
		}
		for i := 1; i <= 4; i++ {
			if inShard(a.text, i, 4) != inShard(strings.TrimSpace(a.text), i, 4) {
				t.Fatal("blanks change the shard")
			}
		}
	}
	for _, bad := range []string{"0/3", "4/3", "1/0", "x", "1/", "-1/2"} {
		if _, _, err := parseShard(bad); err == nil {
			t.Errorf("parseShard(%q): no error", bad)
		}
	}
	os.WriteFile(f, []byte("imaps://a@b frob=1\n"), 0o600)
	if _, err := parseAccounts(f); err == nil {
		t.Errorf("parseAccounts with an unknown field: no error")
	}
}

// TestAccountsDovecot: export and copy over an accounts file in two
// shards do each account once; a rerun does nothing.
func TestAccountsDovecot(t *testing.T) {
	// Waits on a Dovecot of its own and on the runs.
	t.Parallel()
	srv, cf := dovecot(t, 5)
	if err := srv.SeedMailbox(testserver.Bob, "INBOX", testserver.SampleMessages(8)[:3]); err != nil {
		t.Fatal(err)
	}
	dst := testserver.StartT(t, nil)
	_, tlsURL := urls(srv)
	_, dstURL := urls(dst)
	port := tlsURL[strings.LastIndex(tlsURL, ":")+1:]
	dport := dstURL[strings.LastIndex(dstURL, ":")+1:]
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte(testserver.Password+"\n"), 0o600)
	unsetEnv(t, "IMAPKIT_PASSWORD")
	accounts := filepath.Join(dir, "accounts")
	os.WriteFile(accounts, []byte(fmt.Sprintf("# test fleet\nimaps://alice@localhost:%s imaps://alice@localhost:%s password-file=%s dst-password-file=%s\nimaps://bob@localhost:%s imaps://bob@localhost:%s password-file=%s dst-password-file=%s\n",
		port, dport, pw, pw, port, dport, pw, pw)), 0o600)
	out := filepath.Join(dir, "out")
	for _, shard := range []string{"1/2", "2/2"} {
		cli(t, "", 0, append([]string{"export", "--accounts", accounts, "--shard", shard, "INBOX", "--to", out, "--quiet"}, cf...)...)
	}
	for user, n := range map[string]int{"alice": 5, "bob": 3} {
		b, err := os.ReadFile(filepath.Join(out, user+"@localhost_"+port, "INBOX.mbox"))
		if err != nil || strings.Count(string(b), "From MAILER-DAEMON ") != n {
			t.Errorf("export of %s: %d messages (%v); want %d", user, strings.Count(string(b), "From MAILER-DAEMON "), err, n)
		}
	}
	state := filepath.Join(dir, "state")
	copied := map[string]int{}
	for _, shard := range []string{"1/2", "2/2"} {
		o, _ := cli(t, "", 0, append([]string{"copy", "--accounts", accounts, "--shard", shard, "INBOX", "--dst-ca-file", writeCA(t, dst), "--state-dir", state, "--quiet", "--json"}, cf...)...)
		for _, l := range strings.Split(strings.TrimSpace(o), "\n") {
			if l == "" {
				continue
			}
			var r copyResult
			if err := jsonUnmarshal(l, &r); err != nil {
				t.Fatal(err)
			}
			copied[r.Src] += r.Copied
		}
	}
	if copied["imaps://alice@localhost:"+port] != 5 || copied["imaps://bob@localhost:"+port] != 3 || len(copied) != 2 {
		t.Errorf("copy --accounts over two shards: %v", copied)
	}
	// Again, whole: nothing left to do.
	o, _ := cli(t, "", 0, append([]string{"copy", "--accounts", accounts, "INBOX", "--dst-ca-file", writeCA(t, dst), "--state-dir", state, "--quiet"}, cf...)...)
	if strings.Count(o, "copied 0 messages") != 2 {
		t.Errorf("rerun: %q", o)
	}
}
