//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// fiveBodies are the messages of the refused FETCH tests (UIDs 1 to 5,
// subjects m1 to m5).
var fiveBodies = func() []string {
	l := make([]string, 5)
	for i := range l {
		l[i] = fmt.Sprintf("From: a@example.com\r\nSubject: m%d\r\n\r\nbody %d\r\n", i+1, i+1)
	}
	return l
}()

// exportedSubjects returns the subjects (m1...) of the messages of the
// export to to (mbox or Maildir) with how often each is there.
func exportedSubjects(t *testing.T, to, format string) string {
	t.Helper()
	return subjectCounts(t, to, format, "m1", "m2", "m3", "m4", "m5")
}

// subjectCounts returns those of subjects that the messages of the
// export to to (mbox or Maildir) have, each with how often it is there
// ("one×1 three×2").
func subjectCounts(t *testing.T, to, format string, subjects ...string) string {
	t.Helper()
	var all []byte
	if format == "mbox" {
		all, _ = os.ReadFile(to)
	} else {
		files, _ := filepath.Glob(filepath.Join(to, "cur", "*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			all = append(all, b...)
		}
	}
	var l []string
	for _, s := range subjects {
		if n := strings.Count(string(all), "Subject: "+s+"\n") + strings.Count(string(all), "Subject: "+s+"\r\n"); n > 0 {
			l = append(l, fmt.Sprintf("%s×%d", s, n))
		}
	}
	return strings.Join(l, " ")
}

// TestExportRefusedMessageKeptForRetry: a server that answers a FETCH
// holding one message with a tagged NO (Dovecot with a corrupt message
// file: "NO Mailbox is in inconsistent state", "NO [SERVERBUG] Internal
// error occurred"), whether it sent the messages before that one first
// or none, for the body or for the flags, has export go on: the others
// are exported, that UID is kept to try again and named, and the run
// exits 3 as any export that left messages out; the next run, the
// server answering right, exports it, each message once. Before, the NO
// stopped the export with none of its batch kept, at every run: the
// export never got past the message.
func TestExportRefusedMessageKeptForRetry(t *testing.T) {
	const bad = 3
	for _, tc := range []struct {
		name, status string
		sendFirst    bool // the messages before the bad one come before the NO
		meta         bool // the flags FETCH is refused, not the body's
	}{
		{name: "inconsistent after the others", status: "NO Mailbox is in inconsistent state", sendFirst: true},
		{name: "serverbug alone", status: "NO [SERVERBUG] Internal error occurred. Refer to server log for more information."},
		{name: "flags refused", status: "NO [SERVERBUG] Internal error occurred.", meta: true},
	} {
		for _, format := range []string{"mbox", "maildir"} {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				var broken atomic.Bool
				broken.Store(true)
				answer := func(body bool, uids []int) (string, string) {
					refused := broken.Load() && slices.Contains(uids, bad) && body != tc.meta
					if !body {
						if refused {
							return "", tc.status
						}
						return "", "OK done"
					}
					var b strings.Builder
					for _, u := range uids {
						if refused && (u == bad || !tc.sendFirst) {
							break
						}
						b.WriteString(fullBody(fiveBodies, u))
					}
					if refused {
						return b.String(), tc.status
					}
					return b.String(), "OK done"
				}
				url := bodyStatusURL(t, fiveBodies, answer, nil)
				to := filepath.Join(t.TempDir(), "x")
				args := []string{"export", url, "INBOX", "--to", to, "--format", format, "--quiet"}
				code, out, errs := runCLI(t, "", args...)
				if code != exitConnFail || !strings.Contains(out, "exported 4 messages") || !strings.Contains(errs, "UID 3 not exported") ||
					!strings.Contains(errs, "1 messages not exported (UID 3;") || !strings.Contains(errs, strings.TrimPrefix(tc.status, "NO ")) {
					t.Errorf("first run: exit %d %q %q; want exit %d, 4 exported, UID 3 not exported with the server's refusal", code, out, errs, exitConnFail)
				}
				if got := exportedSubjects(t, to, format); got != "m1×1 m2×1 m4×1 m5×1" {
					t.Errorf("after the first run: %q; want all but m3, once each", got)
				}
				if st, err := loadState(statePath(to)); err != nil || st == nil || !slices.Equal(st.Retry, []uint32{bad}) || st.LastUID != 5 {
					t.Errorf("state after the first run: %+v (%v); want last UID 5, UID 3 kept to try again", st, err)
				}
				broken.Store(false)
				code, out, errs = runCLI(t, "", args...)
				if code != 0 || !strings.Contains(out, "exported 1 messages") {
					t.Errorf("second run: exit %d %q %q; want 0 and UID 3 exported", code, out, errs)
				}
				if got := exportedSubjects(t, to, format); got != "m1×1 m2×1 m3×1 m4×1 m5×1" {
					t.Errorf("after the second run: %q; want each message once", got)
				}
			})
		}
	}
}

// TestExportRefusedExpungedSkipped: a server that answers the FETCH of a
// message expunged meanwhile with a tagged NO (as RFC 2180 lets it) has
// export skip that message once a UID SEARCH confirms it gone, as one
// sent as NIL: the others are exported, exit 0, nothing kept to try
// again.
func TestExportRefusedExpungedSkipped(t *testing.T) {
	answer := func(body bool, uids []int) (string, string) {
		if !body {
			return "", "OK done"
		}
		var b strings.Builder
		for _, u := range uids {
			if u == 3 {
				return b.String(), "NO [EXPUNGEISSUED] Some of the requested messages no longer exist"
			}
			b.WriteString(fullBody(fiveBodies, u))
		}
		return b.String(), "OK done"
	}
	url := bodyStatusURL(t, fiveBodies, answer, map[int]bool{3: true})
	to := filepath.Join(t.TempDir(), "x.mbox")
	code, out, errs := runCLI(t, "", "export", url, "INBOX", "--to", to)
	if code != 0 || !strings.Contains(out, "exported 4 messages") || !strings.Contains(errs, "UID 3 was expunged during the export: skipped") {
		t.Errorf("export: exit %d %q %q; want 0, 4 exported, UID 3 skipped as expunged", code, out, errs)
	}
	if !strings.Contains(errs, "export INBOX: 4/4 messages") {
		t.Errorf("export: progress %q; want a total of 4 (UID 3 not counted)", errs)
	}
	if st, err := loadState(statePath(to)); err != nil || st == nil || len(st.Retry) != 0 || st.LastUID != 5 {
		t.Errorf("state: %+v (%v); want last UID 5, nothing to try again", st, err)
	}
	if got := exportedSubjects(t, to, "mbox"); got != "m1×1 m2×1 m4×1 m5×1" {
		t.Errorf("mbox: %q; want all but m3, once each", got)
	}
}

// TestExportRefusedServerWideStops: a FETCH refused with a response code
// that RFC 5530 gives to a condition of the server or the session, not
// of a message ([UNAVAILABLE]: a backend down; [LIMIT]: a bandwidth or
// command limit reached), stops the export at once, as a NO did before
// this stop (exit 1, none of the batch kept): no message is kept to try
// again for it. Before, every message was fetched again alone, confirmed
// with a NOOP and a UID SEARCH, and kept, up to the 1,000 the state
// keeps: some 6,000 commands at every run while the server stayed down.
func TestExportRefusedServerWideStops(t *testing.T) {
	for _, status := range []string{"NO [UNAVAILABLE] Backend down", "NO [LIMIT] Bandwidth limit exceeded"} {
		t.Run(status, func(t *testing.T) {
			var fetches atomic.Int64
			answer := func(body bool, uids []int) (string, string) {
				fetches.Add(1)
				return "", status
			}
			url := bodyStatusURL(t, fiveBodies, answer, nil)
			to := filepath.Join(t.TempDir(), "x.mbox")
			code, out, errs := runCLI(t, "", "export", url, "INBOX", "--to", to, "--quiet")
			st, err := loadState(statePath(to))
			if code != exitNo || !strings.Contains(errs, strings.TrimPrefix(status, "NO ")) || fetches.Load() != 1 || err != nil || st == nil || len(st.Retry) != 0 || st.LastUID != 0 {
				t.Errorf("export, every FETCH refused %q: exit %d %q %q, %d FETCHes, state %+v (%v); want exit %d naming the refusal, 1 FETCH, nothing kept to try again", status, code, out, errs, fetches.Load(), st, err, exitNo)
			}
		})
	}
}
