//go:build linux

package main

import (
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// copySyncedSaves copies n messages from a scripted source (whose
// RFC822.SIZE is 7 bytes more than the body it sends when lie) to a
// mailbox of Dovecot's, with MULTIAPPEND (groups of 50), and returns how
// many synced state saves the run made.
func copySyncedSaves(t *testing.T, b *testserver.Server, mailbox string, n int, lie bool) int64 {
	t.Helper()
	_, bURL := urls(b)
	ca := writeCA(t, b)
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = r43Body(i+1, false)
	}
	o := sourceOpts{}
	if lie {
		o.size = func(b string) int { return len(b) + 7 }
	}
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" ` + mailbox}, map[string][]string{mailbox: bodies}, o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	var saves atomic.Int64
	testSynced = func(string) { saves.Add(1) }
	t.Cleanup(func() { testSynced = nil })
	code, _, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "--insecure-plaintext", "--dst-ca-file", ca,
		"--state-dir", t.TempDir(), "--timeout", "60s", "--quiet")
	testSynced = nil
	if code != exitOK {
		t.Fatalf("copy: exit %d\nstderr: %s", code, errs)
	}
	return saves.Load()
}

// TestCopyWrongRFC822SizeSavesPerGroup: a source whose RFC822.SIZE
// differs from every body it sends (Exchange's) made copy save the state,
// synced, once for each message (sizeDiffers recorded each literal's size
// and saved it before the message went out): 60 messages in 2 groups
// cost 60 synced saves more than from an honest source. Now the sizes
// are saved once a group, before the last bytes of its last message
// (bareLFsEnded): at most one more save a group.
// IMAPKIT_SAVES_MESSAGES sets the count (the measurement: 2000).
func TestCopyWrongRFC822SizeSavesPerGroup(t *testing.T) {
	n := 60
	if s := os.Getenv("IMAPKIT_SAVES_MESSAGES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	b := testserver.StartT(t, nil)
	honest := copySyncedSaves(t, b, "Honest", n, false)
	lying := copySyncedSaves(t, b, "Lying", n, true)
	groups := int64((n + groupMessages - 1) / groupMessages)
	t.Logf("%d messages, %d groups: %d synced saves from an honest source, %d from a lying one", n, groups, honest, lying)
	if lying > honest+groups {
		t.Errorf("%d synced saves from a source whose RFC822.SIZE lies, %d from an honest one; want at most %d more (one a group)", lying, honest, groups)
	}
}
