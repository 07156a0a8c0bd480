package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestHeadersDovecot: headers lists the newest messages with decoded
// subjects (the sample corpus writes them in eight charsets), a set by UID
// or sequence number, and JSON.
func TestHeadersDovecot(t *testing.T) {
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
