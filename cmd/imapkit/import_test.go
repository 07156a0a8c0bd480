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

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestImportRoundTripDovecot: export -> import gives the same messages,
// byte for byte; from a Maildir with their flags and dates too.
func TestImportRoundTripDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 110)
	_, url := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.UIDRange(3, 9), commands.AddFlags, []string{`\Seen`, `\Answered`}, nil); err != nil {
		t.Fatal(err)
	}
	// Keywords go through the Maildir's dovecot-keywords file.
	if _, err := c.Store(ctx, commands.UIDRange(5, 12), commands.AddFlags, []string{"$Work", "Project"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.UIDs(2), commands.AddFlags, []string{"Later"}, nil); err != nil {
		t.Fatal(err)
	}
	want := mailOf(t, c, "INBOX")
	dir := t.TempDir()

	t.Run("maildir", func(t *testing.T) {
		md := filepath.Join(dir, "Maildir")
		cli(t, "", 0, with("export", url, "INBOX", "--to", md, "--format", "maildir", "--quiet")...)
		out, _ := cli(t, "", 0, with("import", url, md, "--to", "FromMaildir", "--json")...)
		var j struct{ Imported int }
		if err := json.Unmarshal([]byte(out), &j); err != nil || j.Imported != len(want) {
			t.Fatalf("import --json: %q (%v)", out, err)
		}
		if kw, err := os.ReadFile(filepath.Join(md, "dovecot-keywords")); err != nil || string(kw) != "0 Later\n1 $Work\n2 Project\n" {
			t.Errorf("dovecot-keywords: %q, %v", kw, err)
		}
		sameMail(t, "imported from the Maildir", mailOf(t, c, "FromMaildir"), want)
		// A second run imports nothing.
		out, _ = cli(t, "", 0, with("import", url, md, "--to", "FromMaildir")...)
		if !strings.HasPrefix(out, "imported 0 messages") {
			t.Errorf("second import: %q", out)
		}
		sameMail(t, "after the second import", mailOf(t, c, "FromMaildir"), want)
	})

	t.Run("mbox", func(t *testing.T) {
		mbox := filepath.Join(dir, "inbox.mbox")
		cli(t, "", 0, with("export", url, "INBOX", "--to", mbox, "--quiet")...)
		for _, multi := range []bool{true, false} {
			box := "FromMbox"
			args := with("import", url, mbox, "--to", box, "--quiet")
			if !multi {
				box = "FromMboxSingle"
				args = with("import", url, mbox, "--to", box, "--quiet", "--no-multiappend")
			}
			// Stopped twice: after a group landed unrecorded, and with
			// a group recorded but not sent.
			steps := []struct {
				step string
				n    int
			}{{"appended", 1}, {"pending", 2}}
			for _, s := range steps {
				seen := 0
				setTestHook(t, func(step string) error {
					if step == s.step {
						if seen++; seen == s.n {
							return errors.New("stopped by the test")
						}
					}
					return nil
				})
				cli(t, "", 3, args...)
			}
			setTestHook(t, nil)
			cli(t, "", 0, args...)
			got := mailOf(t, c, box)
			if len(got) != len(want) {
				t.Fatalf("%s: %d messages; want %d", box, len(got), len(want))
			}
			for i := range want {
				// mbox keeps the bytes and the date; export writes no
				// flags to it.
				if got[i].body != want[i].body || !got[i].date.Equal(want[i].date) {
					t.Errorf("%s: message %d: %v; want %v", box, i+1, got[i], want[i])
				}
			}
		}
	})
	t.Cleanup(func() { setTestHook(t, nil) })
}

// TestScanMbox: boundaries, >From unquoting, CRLF, flags and dates.
func TestScanMbox(t *testing.T) {
	mbox := "From alice@example.com Thu Feb  1 10:00:00 2024\n" +
		"Status: RO\nX-Status: AF\nSubject: one\n\n" +
		">From the start\n>>From quoted\nFrom-not-a-separator\n\n" +
		"From MAILER-DAEMON Fri Mar 15 08:30:05 2024\r\n" +
		"Subject: two\r\n\r\nbody\r\n\r\n" +
		"From x Sat Mar 16 00:00:00 2024\n" +
		"Subject: three\n\nno final newline"
	f := filepath.Join(t.TempDir(), "m.mbox")
	os.WriteFile(f, []byte(mbox), 0o600)
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	msgs, err := scanMbox(fh, 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("scanMbox: %d messages, %v", len(msgs), err)
	}
	wantBody := []string{
		"Status: RO\r\nX-Status: AF\r\nSubject: one\r\n\r\nFrom the start\r\n>From quoted\r\nFrom-not-a-separator\r\n",
		"Subject: two\r\n\r\nbody\r\n",
		"Subject: three\r\n\r\nno final newline",
	}
	wantFlags := []string{`\Seen \Answered \Flagged`, "", ""}
	wantDate := []time.Time{
		time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 15, 8, 30, 5, 0, time.UTC),
		time.Date(2024, 3, 16, 0, 0, 0, 0, time.UTC),
	}
	for i, m := range msgs {
		if err := m.measure(); err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(m.open())
		if string(b) != wantBody[i] || m.size != int64(len(b)) {
			t.Errorf("message %d: %q (size %d); want %q", i+1, b, m.size, wantBody[i])
		}
		if fl := strings.Join(m.flags, " "); fl != wantFlags[i] {
			t.Errorf("message %d: flags %q; want %q", i+1, fl, wantFlags[i])
		}
		if !m.date.Equal(wantDate[i]) {
			t.Errorf("message %d: date %v; want %v", i+1, m.date, wantDate[i])
		}
	}
	// Resuming from the second message's offset.
	rest, err := scanMbox(fh, msgs[0].end)
	if err != nil || len(rest) != 2 || rest[1].end != int64(len(mbox)) {
		t.Errorf("scanMbox from %d: %d messages, %v", msgs[0].end, len(rest), err)
	}
	// Not an mbox.
	os.WriteFile(f, []byte("Subject: x\n\nhello\n"), 0o600)
	fh2, _ := os.Open(f)
	defer fh2.Close()
	if _, err := scanMbox(fh2, 0); err == nil {
		t.Errorf("scanMbox of a non-mbox: no error")
	}
}

// TestMaildirKeywords: letters a to z for the first 26 keywords (case
// folded), kept across runs through dovecot-keywords, the rest left out.
func TestMaildirKeywords(t *testing.T) {
	dir := t.TempDir()
	md, err := openMaildir(dir, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := md.keywordLetters([]string{`\Seen`, "Beta", "alpha", "BETA"})
	if err != nil || got != "ab" {
		t.Fatalf("letters %q, %v; want \"ab\"", got, err)
	}
	var many []string
	for i := 0; i < 30; i++ {
		many = append(many, fmt.Sprintf("k%02d", i))
	}
	if _, err := md.keywordLetters(many); err != nil {
		t.Fatal(err)
	}
	if len(md.keywords) != 26 || len(md.dropped) != 6 {
		t.Fatalf("%d keywords, %d dropped; want 26 and 6", len(md.keywords), len(md.dropped))
	}
	// A second run reads the file: the same letters.
	md2, err := openMaildir(dir, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(md2.keywords, md.keywords) {
		t.Fatalf("reread %q; want %q", md2.keywords, md.keywords)
	}
	if got, _ := md2.keywordLetters([]string{"ALPHA", "k00"}); got != "bc" {
		t.Fatalf("letters %q; want \"bc\"", got)
	}
}
