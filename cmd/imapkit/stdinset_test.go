package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestSetFromStdinDovecot pipes sets through stdin ("-"), as a shell
// pipes search's output: 2,000 scattered UIDs (about 10 KB, past the
// library's 8,000-byte limit on a set in one command, so each command
// goes in parts) to store, mv and fetch --to; an empty stdin moves
// nothing; bad input is a usage error.
func TestSetFromStdinDovecot(t *testing.T) {
	t.Parallel()
	const m = 4000
	srv, cf := dovecot(t, 0)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	msgs := make([][]byte, m)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "Subject: %d\r\n\r\nmessage %d\r\n", i+1, i+1)
	}
	if err := srv.SeedMailbox("alice", "Big", msgs); err != nil {
		t.Fatal(err)
	}
	cli(t, "", 0, with("create", tls, "Odd")...)
	var odd strings.Builder
	for i := 1; i < m; i += 2 {
		fmt.Fprintln(&odd, i)
	}
	cli(t, odd.String(), 0, with("store", tls, "Big", "-", "+FLAGS", `\Flagged`, "--silent")...)
	flagged, _ := cli(t, "", 0, with("search", tls, "Big", "FLAGGED")...)
	if flagged != odd.String() {
		t.Fatalf("search FLAGGED after store - : %d lines, want the %d odd UIDs", strings.Count(flagged, "\n"), m/2)
	}
	out, _ := cli(t, flagged, 0, with("mv", tls, "Big", "-", "Odd", "--json")...)
	var j jsonCopy
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("mv --json: %v: %.200s", err, out)
	}
	src, err := codec.ParseSeqSet([]byte(j.Src))
	want, _ := codec.ParseSeqSet([]byte(strings.ReplaceAll(strings.TrimSpace(odd.String()), "\n", ",")))
	if err != nil || !src.Equal(want) || j.Dst != "1:2000" {
		t.Fatalf("mv --json: COPYUID %.80s... to %s", j.Src, j.Dst)
	}
	for mb, want := range map[string]int{"Big": m / 2, "Odd": m / 2} {
		all, _ := cli(t, "", 0, with("search", tls, mb)...)
		if got := strings.Count(all, "\n"); got != want {
			t.Fatalf("%s holds %d messages after mv; want %d", mb, got, want)
		}
	}
	// Commas and ranges, as a set is written, across lines.
	dir := t.TempDir()
	out, _ = cli(t, "2,4\n6:8,\n", 0, with("fetch", tls, "Big", "-", "--to", dir, "--json")...)
	if got := strings.Count(out, "\n"); got != 4 {
		t.Fatalf("fetch - --to with 2,4,6:8 (6 and 8 there, 7 moved): %d files\n%s", got, out)
	}
	_, errs := cli(t, "", 0, with("mv", tls, "Big", "-", "Odd")...)
	if !strings.Contains(errs, "no message") {
		t.Fatalf("mv with an empty stdin: stderr %q", errs)
	}
	_, errs = cli(t, "1\nx7\n", 2, with("store", tls, "Big", "-", "+FLAGS", `\Seen`)...)
	if !strings.Contains(errs, `"x7"`) {
		t.Fatalf("store with a bad stdin set: stderr %q", errs)
	}
}
