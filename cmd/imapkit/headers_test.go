package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/width"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestHeadersDovecot: headers lists the newest messages with decoded
// subjects (the sample corpus writes them in eight charsets), a set by UID
// or sequence number, and JSON.
func TestHeadersDovecot(t *testing.T) {
	t.Parallel()
	const n = 25
	srv, cf := dovecot(t, n)
	_, tls := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	out, _ := cli(t, "", 0, with("headers", tls, "INBOX")...)
	t.Logf("headers:\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 21 || !strings.HasPrefix(lines[0], "UID") {
		t.Fatalf("headers: %d lines; want a heading and 20", len(lines))
	}
	// The columns line up on a terminal: the last column (FLAGS) starts at
	// the same display column on every line, Japanese subjects and names
	// (two columns a character) included.
	col := -1
	for _, l := range lines {
		c := termColumns(l[:strings.LastIndex(l, "  ")+2])
		if col >= 0 && c != col {
			t.Errorf("%q: its last column starts at %d, the others' at %d", l, c, col)
		}
		col = c
	}
	for i, l := range lines[1:] {
		uid := n - 20 + 1 + i
		info := testserver.SampleInfo(uid - 1)
		if !strings.HasPrefix(l, strconv.Itoa(uid)+" ") || !strings.Contains(l, printable(info.Subject)) ||
			!strings.Contains(l, info.From) || !strings.Contains(l, info.Date.Local().Format("2006-01-02 15:04")) {
			t.Errorf("line of UID %d: %q; want its subject %q, sender %s, date %s", uid, l, info.Subject, info.From, info.Date)
		}
	}
	out, _ = cli(t, "", 0, with("headers", tls, "INBOX", "--last", "3")...)
	if got := strings.Count(out, "\n"); got != 4 || !strings.Contains(out, "\n23 ") || !strings.Contains(out, "\n25 ") {
		t.Errorf("headers --last 3:\n%s", out)
	}
	out, _ = cli(t, "", 0, with("headers", tls, "INBOX", "2:3,7", "--json")...)
	var uids []uint32
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h jsonHeader
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("headers --json: %q: %v", l, err)
		}
		if info := testserver.SampleInfo(int(h.UID) - 1); h.Subject != info.Subject || h.Seq != h.UID || h.Size == 0 || h.Flags == nil {
			t.Errorf("headers --json: %+v; want subject %q", h, info.Subject)
		}
		uids = append(uids, h.UID)
	}
	if len(uids) != 3 || uids[0] != 2 || uids[2] != 7 {
		t.Errorf("headers 2:3,7: UIDs %v", uids)
	}
	out, _ = cli(t, "", 0, with("headers", tls, "INBOX", "4", "--seq")...)
	if !strings.Contains(out, "\n4 ") {
		t.Errorf("headers 4 --seq:\n%s", out)
	}
	if out, _ = cli(t, "", 0, with("headers", tls, "Trash")...); out != "" {
		t.Errorf("headers of an empty mailbox: %q", out)
	}
	cli(t, "", 2, with("headers", tls, "INBOX", "--last", "0")...)
	cli(t, "", 2, with("headers", tls, "INBOX", "x:y")...)
}

// termColumns counts the terminal columns of s as the test's own oracle:
// two for East Asian wide and fullwidth characters, one for the others
// (the corpus's subjects hold no combining marks).
func termColumns(s string) int {
	n := 0
	for _, r := range s {
		n++
		if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
			n++
		}
	}
	return n
}
