//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/transport"
)

// storedMsg is what a test compares of a message: its bytes, flags and
// internal date.
type storedMsg struct {
	body  string
	flags string
	date  time.Time
}

func (m storedMsg) String() string {
	return fmt.Sprintf("{%d bytes, flags %q, date %v}", len(m.body), m.flags, m.date)
}

// client logs in to addr (TLS when tlsServer is set, else plain loopback).
func client(t *testing.T, addr string, tlsServer *testserver.Server, user, pass string) *commands.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var c *commands.Client
	var err error
	if tlsServer != nil {
		nc, derr := transport.DialTLS(ctx, addr, tlsServer.TLSConfig(), nil)
		if derr != nil {
			t.Fatal(derr)
		}
		c, err = commands.Open(ctx, nc, nil)
	} else {
		nc, derr := transport.Dial(ctx, addr, nil)
		if derr != nil {
			t.Fatal(derr)
		}
		c, err = commands.Open(ctx, nc, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatalf("LOGIN %s at %s: %v", user, addr, err)
	}
	return c
}

// mailOf returns the messages of a mailbox in UID order.
func mailOf(t *testing.T, c *commands.Client, mailbox string) []storedMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := c.Examine(ctx, mailbox)
	if err != nil {
		t.Fatalf("EXAMINE %s: %v", mailbox, err)
	}
	if ms.Exists == 0 {
		return nil
	}
	meta, err := c.FetchAll(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Flags: true, InternalDate: true})
	if err != nil {
		t.Fatal(err)
	}
	byUID := map[uint32]*commands.Message{}
	for _, m := range meta {
		byUID[m.UID] = m
	}
	var out []storedMsg
	var uids []uint32
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		md := byUID[m.UID]
		var fl []string
		for _, f := range md.Flags {
			if !strings.EqualFold(f, `\Recent`) {
				fl = append(fl, strings.ToLower(f))
			}
		}
		slices.Sort(fl)
		out = append(out, storedMsg{body: string(b), flags: strings.Join(fl, " "), date: md.InternalDate.UTC()})
		uids = append(uids, m.UID)
	}
	if !slices.IsSorted(uids) {
		t.Fatalf("FETCH answered out of UID order: %v", uids)
	}
	return out
}

// sameMail fails unless two mailboxes hold the same messages.
func sameMail(t *testing.T, what string, got, want []storedMsg) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages; want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].body != want[i].body {
			t.Errorf("%s: message %d differs in its bytes (%d and %d bytes)", what, i+1, len(got[i].body), len(want[i].body))
		}
		if got[i].flags != want[i].flags || !got[i].date.Equal(want[i].date) {
			t.Errorf("%s: message %d is %v; want %v", what, i+1, got[i], want[i])
		}
	}
}

// cyrusAlice starts a Cyrus with alice's mailboxes created, and returns
// its imap:// URL for alice.
func cyrusAlice(t *testing.T) (string, *commands.Client) {
	cy := testserver.StartCyrusT(t)
	admin := client(t, cy.Addr, nil, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	return "imap://alice@" + cy.Addr, client(t, cy.Addr, nil, testserver.Alice, testserver.Password)
}

// copyReport runs copy with --json and returns its objects by mailbox.
func copyReport(t *testing.T, code int, args ...string) map[string]copyResult {
	t.Helper()
	rs, _ := copyReportErr(t, code, args...)
	return rs
}

// copyReportErr is copyReport that also returns what copy wrote to stderr.
func copyReportErr(t *testing.T, code int, args ...string) (map[string]copyResult, string) {
	t.Helper()
	out, errs := cli(t, "", code, append(args, "--json", "--quiet")...)
	rs := map[string]copyResult{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r copyResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("copy --json: %v in %q", err, out)
		}
		rs[r.Mailbox] = r
	}
	return rs, errs
}

func TestCopyDovecotCyrusDovecot(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 12)
	b := testserver.StartT(t, nil)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, aURL := urls(a)
	_, bURL := urls(b)
	cyURL, cyAlice := cyrusAlice(t)
	ca := cf[1]

	// Mail beyond INBOX: a nested folder, flags, keywords.
	archive := testserver.SampleMessages(20)[12:]
	if err := a.SeedMailbox(testserver.Alice, "Archive/2024", archive); err != nil {
		t.Fatal(err)
	}
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := ac.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct {
		set   commands.Set
		flags []string
	}{
		{commands.UIDs(1, 3, 5), []string{`\Seen`}},
		{commands.UIDs(2), []string{`\Flagged`, `\Answered`}},
		{commands.UIDs(7, 8), []string{`$Label1`, `\Seen`}},
		{commands.UIDRange(10, 12), []string{`\Draft`}},
	} {
		if _, err := ac.Store(ctx, st.set, commands.AddFlags, st.flags, &commands.StoreOptions{Silent: true}); err != nil {
			t.Fatal(err)
		}
	}
	wantInbox := mailOf(t, ac, "INBOX")
	wantArchive := mailOf(t, ac, "Archive/2024")

	state := t.TempDir()
	// Dovecot -> Cyrus (this Cyrus has altnamespace and "/": the same
	// names; TestMapName covers prefixes and delimiters).
	cyArgs := []string{"copy", aURL, cyURL, "--ca-file", ca, "--state-dir", state, "--timeout", "20s"}
	rs := copyReport(t, 0, cyArgs...)
	if rs["INBOX"].Copied != 12 || rs["Archive/2024"].Copied != 8 || rs["Archive/2024"].DstMailbox != "Archive/2024" {
		t.Fatalf("copy to Cyrus: %+v", rs)
	}
	sameMail(t, "Cyrus INBOX", mailOf(t, cyAlice, "INBOX"), wantInbox)
	sameMail(t, "Cyrus Archive/2024", mailOf(t, cyAlice, "Archive/2024"), wantArchive)

	// A second run copies nothing.
	for name, r := range copyReport(t, 0, cyArgs...) {
		if r.Copied != 0 {
			t.Errorf("second run copied %d messages of %s", r.Copied, name)
		}
	}
	sameMail(t, "Cyrus INBOX after the second run", mailOf(t, cyAlice, "INBOX"), wantInbox)

	// New mail: only it goes.
	cli(t, "From: n@example.com\r\nSubject: new\r\n\r\nnew\r\n", 0, "append", aURL, "INBOX", "--ca-file", ca)
	wantInbox = mailOf(t, ac, "INBOX")
	rs = copyReport(t, 0, append(cyArgs, "INBOX")...)
	if len(rs) != 1 || rs["INBOX"].Copied != 1 || rs["INBOX"].LastUID != 13 {
		t.Errorf("copy after new mail: %+v", rs)
	}

	// Cyrus -> another Dovecot: the names come back.
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	bCA := writeCA(t, b)
	back := []string{"copy", cyURL, bURL, "--dst-ca-file", bCA, "--state-dir", state, "--timeout", "20s"}
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	rs = copyReport(t, 0, back...)
	if rs["Archive/2024"].DstMailbox != "Archive/2024" || rs["INBOX"].Copied != 13 {
		t.Fatalf("copy back to Dovecot: %+v", rs)
	}
	sameMail(t, "Dovecot B INBOX", mailOf(t, bc, "INBOX"), wantInbox)
	sameMail(t, "Dovecot B Archive/2024", mailOf(t, bc, "Archive/2024"), wantArchive)
	for name, r := range copyReport(t, 0, back...) {
		if r.Copied != 0 {
			t.Errorf("second run back copied %d messages of %s", r.Copied, name)
		}
	}
}

// writeCA writes a server's CA certificate to a file for --ca-file.
func writeCA(t *testing.T, s *testserver.Server) string {
	f := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(f, s.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCopyFlagRefusal: a destination that refuses a flag change (Cyrus
// takes at most 128 keywords in a mailbox) does not stop the copy of new
// mail, says so on stderr and in "flags_refused", and leaves the change to be tried again by the
// next run (the source's HIGHESTMODSEQ is not recorded past it); once the
// source's flags fit, the next run carries them.
func TestCopyFlagRefusal(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 3)
	cyURL, cy := cyrusAlice(t)
	_, aURL := urls(a)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	args := []string{"copy", aURL, cyURL, "INBOX", "--ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s"}
	if r := copyReport(t, 0, args...)["INBOX"]; r.Copied != 3 || r.FlagSync != "condstore" {
		t.Fatalf("first copy: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	if _, err := ac.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var many []string
	for i := range 140 {
		many = append(many, fmt.Sprintf("kw%d", i))
	}
	if _, err := ac.Store(ctx, commands.UIDs(1), commands.AddFlags, many, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.AppendBytes(ctx, "INBOX", testserver.SampleMessage(7), nil); err != nil {
		t.Fatal(err)
	}
	for run := 2; run <= 3; run++ {
		rs, errs := copyReportErr(t, 0, args...)
		if r := rs["INBOX"]; r.Copied != 3-run || r.FlagsUpdated != 0 || !strings.Contains(r.FlagsRefused, "Too many user flags") {
			t.Fatalf("run %d: %+v", run, r)
		}
		if !strings.Contains(errs, "flag changes not carried") || !strings.Contains(errs, "Too many user flags") {
			t.Fatalf("run %d: stderr %q does not report the refusal", run, errs)
		}
	}
	if _, err := ac.Store(ctx, commands.UIDs(1), commands.ReplaceFlags, []string{`\Flagged`, "kw1"}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	rs, errs := copyReportErr(t, 0, args...)
	if r := rs["INBOX"]; r.Copied != 0 || r.FlagsUpdated != 1 || r.FlagsRefused != "" || strings.Contains(errs, "not carried") {
		t.Fatalf("after the flags fit: %+v, stderr %q", r, errs)
	}
	got := mailOf(t, cy, "INBOX")
	if len(got) != 4 || got[0].flags != `\flagged kw1` {
		t.Fatalf("Cyrus INBOX: %d messages, the first with flags %q", len(got), got[0].flags)
	}
}

// TestCopyResume stops copies at the two moments that matter, before an
// APPEND is sent and after the server accepted it but before the state says
// so, and checks that the next run leaves the destination with every
// message once.
func TestCopyResume(t *testing.T) {
	t.Parallel()
	for _, multi := range []bool{true, false} {
		t.Run(fmt.Sprintf("multiappend=%v", multi), func(t *testing.T) {
			a, cf := dovecot(t, 130)
			b := testserver.StartT(t, nil)
			setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
			_, aURL := urls(a)
			_, bURL := urls(b)
			args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", t.TempDir(), "--timeout", "20s"}
			if !multi {
				args = append(args, "--no-multiappend")
			}
			stopAt := func(step string, n int) {
				seen := 0
				setTestHook(t, func(s string) error {
					if s == step {
						if seen++; seen == n {
							return errors.New("stopped by the test at " + step)
						}
					}
					return nil
				})
			}
			t.Cleanup(func() { setTestHook(t, nil) })
			// The first group lands, but the state does not say so.
			stopAt("appended", 1)
			cli(t, "", 3, args...)
			// The run finds it landed, copies the second group (50
			// messages with MULTIAPPEND, else one) and stops with the
			// third recorded as pending but not sent.
			stopAt("pending", 2)
			cli(t, "", 3, args...)
			setTestHook(t, nil)
			copyReport(t, 0, args...)
			ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
			bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
			sameMail(t, "after the interrupted runs", mailOf(t, bc, "INBOX"), mailOf(t, ac, "INBOX"))
			// The group that landed unrecorded is in the UID map too
			// (from the UIDNEXT it moved).
			var st copyState
			if _, err := loadJSON(filepath.Join(args[9], mustOne(t, args[9])), &st); err != nil {
				t.Fatal(err)
			}
			for u := uint32(1); u <= 130; u++ {
				if st.Mailboxes["INBOX"].UIDMap.lookup(u) != u {
					t.Fatalf("UID map %v: UID %d not mapped to itself", st.Mailboxes["INBOX"].UIDMap, u)
				}
			}
		})
	}
}

func TestMapName(t *testing.T) {
	tests := []struct {
		name, srcPrefix, srcDelim, dstPrefix, dstDelim, want string
	}{
		{"INBOX", "", "/", "INBOX.", ".", "INBOX"},
		{"inbox", "", "/", "INBOX.", ".", "INBOX"},
		{"Archive/2024", "", "/", "INBOX.", ".", "INBOX.Archive.2024"},
		{"INBOX.Archive.2024", "INBOX.", ".", "", "/", "Archive/2024"},
		{"a.b/c", "", "/", "", ".", "a_b.c"},
		{"Sent", "", "/", "", "", "Sent"},
		{"x/y", "", "/", "", "", "x_y"},
		{"Grüße/日本", "", "/", "INBOX/", "/", "INBOX/Grüße/日本"},
	}
	for _, tt := range tests {
		if got := mapName(tt.name, tt.srcPrefix, tt.srcDelim, tt.dstPrefix, tt.dstDelim); got != tt.want {
			t.Errorf("mapName(%q, %q %q -> %q %q) = %q; want %q", tt.name, tt.srcPrefix, tt.srcDelim, tt.dstPrefix, tt.dstDelim, got, tt.want)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestAsSent: cp and mv print a COPYUID's sets in the server's order,
// which pairs them; sorted, "3,1,2" -> "10:12" read as 1 -> 10.
func TestAsSent(t *testing.T) {
	for in, want := range map[string]string{"3,1,2": "3,1,2", "5:7,1": "5:7,1", "1:3": "1:3", "9:8": "8:9"} {
		s, err := codec.ParseSeqSet([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := asSent(s); got != want {
			t.Errorf("asSent(%s) = %s; want %s", in, got, want)
		}
	}
}
