//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// importSourceMsg is message i of an import source; kind "big" makes it
// larger than an APPENDLIMIT of 300, "nul" puts a NUL in its body,
// "nulhdr" one in its Subject header.
func importSourceMsg(i int, kind string) string {
	subject, body := fmt.Sprintf("m%d", i), "hi"
	switch kind {
	case "big":
		body = strings.Repeat("x", 1000)
	case "nul":
		body = "h\x00i"
	case "nulhdr":
		subject = fmt.Sprintf("m\x00%d", i)
	}
	return fmt.Sprintf("From: a@example.com\r\nSubject: %s\r\nMessage-ID: <m%d@r44>\r\n\r\n%s\r\n", subject, i, body)
}

// importDst is a Dovecot of the test's own for an import (or a copy) to
// write to, and what a run needs to reach it.
type importDst struct {
	srv *testserver.Server
	url string           // imaps:// URL of alice (urls)
	c   *commands.Client // logged in as alice, for the test's checks
	ca  string           // the server's CA certificate, for --ca-file
}

// startImportDst starts a Dovecot for the test, logs a client in as
// alice, writes its CA certificate, and gives the test's runs alice's
// password (IMAPKIT_PASSWORD) and no IMAPKIT_URL (setEnv).
func startImportDst(t *testing.T) importDst {
	t.Helper()
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	d := importDst{srv: b, url: bURL, c: client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), ca: writeCA(t, b)}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	return d
}

// importSource writes msgs as a Maildir (files 1.r44.host to n.r44.host
// in cur, oldest first) or an mbox (LF line ends), and returns its path
// and how each message is named in import's messages.
func importSource(t *testing.T, format string, msgs []string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var names []string
	if format == "maildir" {
		md := filepath.Join(dir, "md")
		for _, d := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(md, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		for i, m := range msgs {
			name := fmt.Sprintf("%d.r44.host", i+1)
			p := filepath.Join(md, "cur", name+":2,S")
			if err := os.WriteFile(p, []byte(m), 0o600); err != nil {
				t.Fatal(err)
			}
			tm := time.Date(2024, 1, i+1, 0, 0, 0, 0, time.UTC)
			if err := os.Chtimes(p, tm, tm); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		return md, names
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("From a@example.com Sat Jan  3 01:05:34 2026\n")
		b.WriteString(strings.ReplaceAll(m, "\r\n", "\n"))
		b.WriteString("\n")
		names = append(names, fmt.Sprintf("ending at offset %d", b.Len()))
	}
	p := filepath.Join(dir, "box.mbox")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, names
}

// importStateEntry is what the tests read of import's state entry.
type importStateEntry struct {
	Offset         int64    `json:"offset"`
	Done           []string `json:"done"`
	Skipped        []string `json:"skipped"`
	SkippedOffsets []int64  `json:"skipped_offsets"`
	Pending        any      `json:"pending"`
}

// importStateOf returns the only entry of the import state of path.
func importStateOf(t *testing.T, path string) *importStateEntry {
	t.Helper()
	var st struct {
		Dests map[string]*importStateEntry `json:"destinations"`
	}
	if _, err := loadJSON(importStatePath(path), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Dests) != 1 {
		t.Fatalf("state destinations %v", st.Dests)
	}
	for _, e := range st.Dests {
		return e
	}
	return nil
}

// TestImportSkipUnsendable: import had no --skip-unsendable. A
// message the destination cannot take stopped the import at it at every
// run: one over APPENDLIMIT (named), one holding a NUL for a destination
// without BINARY (in a MULTIAPPEND group, the group was abandoned mid-way,
// the error named no message, and the messages before it were not
// imported either), one holding a NUL the destination refuses even as
// literal8 (a scripted BINARY destination with Cyrus 3.6's recorded
// answer, "NO Message contains NUL characters"). Without the option the
// run stops at it naming it and the option (exit 1), the messages before
// it imported; with it the message is skipped with a warning naming it,
// recorded in the state, counted ("1 skipped", --json "skipped"), and
// the rest imported, once over two runs.
func TestImportSkipUnsendable(t *testing.T) {
	for _, c := range []struct {
		name, caps, kind, refuseNUL string
	}{
		{"appendlimit", "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=300", "big", ""},
		{"nul-without-binary", "IMAP4rev1 LITERAL+ MULTIAPPEND", "nul", ""},
		{"nul-refused-as-literal8", "IMAP4rev1 LITERAL+ MULTIAPPEND BINARY", "nulhdr", "NO Message contains NUL characters"},
	} {
		for _, format := range []string{"maildir", "mbox"} {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				fake := newRetryDst(c.caps, 0, false)
				fake.refuseNUL = c.refuseNUL
				addr := fake.start(t)
				path, names := importSource(t, format, []string{importSourceMsg(1, ""), importSourceMsg(2, c.kind), importSourceMsg(3, "")})
				args := []string{"import", "imap://alice@" + addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet"}
				code, out, errs := runCLI(t, "", args...)
				t.Logf("without the option: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
				if got := retryDstIDs(fake); code != exitNo || got != "<m1@r44>" || !strings.Contains(errs, names[1]) || !strings.Contains(errs, "--skip-unsendable") {
					t.Errorf("without the option: exit %d, the destination got %q, stderr %q; want 1, m1, and the error naming %q and --skip-unsendable", code, got, errs, names[1])
				}
				for run := 1; run <= 2; run++ {
					code, out, errs := runCLI(t, "", append(args, "--skip-unsendable", "--json")...)
					t.Logf("run %d with the option: exit %d\nstdout: %s\nstderr: %s", run, code, out, errs)
					if got := retryDstIDs(fake); code != 0 || got != "<m1@r44> <m3@r44>" {
						t.Errorf("run %d with the option: exit %d, the destination got %q; want 0, m1 and m3 once each", run, code, got)
					}
					var rep struct {
						Imported, Skipped int
					}
					if err := json.Unmarshal([]byte(out), &rep); err != nil {
						t.Errorf("run %d: --json %q: %v", run, out, err)
					}
					if want := 2 - run; rep.Skipped != want || rep.Imported != want {
						t.Errorf("run %d: --json %+v; want imported and skipped %d", run, rep, want)
					}
					if run == 1 && (!strings.Contains(errs, "warning") || !strings.Contains(errs, names[1])) {
						t.Errorf("run 1: stderr %q; want a warning naming %q", errs, names[1])
					}
					e := importStateOf(t, path)
					ok := e.Pending == nil
					if format == "maildir" {
						ok = ok && len(e.Skipped) == 1 && e.Skipped[0] == names[1]
					} else {
						ok = ok && len(e.SkippedOffsets) == 1 && strings.HasSuffix(names[1], fmt.Sprint(e.SkippedOffsets[0]))
					}
					if !ok {
						t.Errorf("run %d: state %+v; want %q recorded as skipped, nothing pending", run, e, names[1])
					}
				}
				code, out, _ = runCLI(t, "", append(args, "--skip-unsendable")...)
				if code != 0 || !strings.Contains(out, "imported 0 messages") {
					t.Errorf("text summary of a run with nothing new: exit %d, stdout %q", code, out)
				}
			})
		}
	}
}

// TestImportSkippedStaysSkipped: a message skipped by
// --skip-unsendable is not sent again by a later run, with or without the
// option, even one that imports the whole PATH again because the mailbox
// was deleted since (the state's offset and names of what was imported
// are reset then, the skipped ones are not).
func TestImportSkippedStaysSkipped(t *testing.T) {
	for _, format := range []string{"maildir", "mbox"} {
		t.Run(format, func(t *testing.T) {
			fake := newRetryDst("IMAP4rev1 LITERAL+ MULTIAPPEND", 0, false)
			addr := fake.start(t)
			path, names := importSource(t, format, []string{importSourceMsg(1, ""), importSourceMsg(2, "nul"), importSourceMsg(3, "")})
			args := []string{"import", "imap://alice@" + addr, path, "--to", "Q", "--insecure-plaintext", "--timeout", "20s", "--quiet"}
			code, out, errs := runCLI(t, "", append(args, "--skip-unsendable")...)
			t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			if code != 0 || !strings.Contains(out, "imported 2 messages") || !strings.Contains(out, "1 skipped") {
				t.Fatalf("exit %d, stdout %q; want 0, 2 imported and 1 skipped", code, out)
			}
			fake.mu.Lock()
			delete(fake.boxes, "Q") // deleted by another client
			fake.mu.Unlock()
			code, out, errs = runCLI(t, "", args...)
			t.Logf("after the mailbox was deleted: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			fake.mu.Lock()
			got := strings.Join(fake.boxes["Q"].ids, " ")
			fake.mu.Unlock()
			if code != 0 || got != "<m1@r44> <m3@r44>" || strings.Contains(errs, names[1]) {
				t.Errorf("after the mailbox was deleted: exit %d, Q holds %q, stderr %q; want 0, m1 and m3 imported again, the skipped message neither sent nor named", code, got, errs)
			}
		})
	}
}

// TestImportCyrusNULHeaderSkipped (real Cyrus 3.6): an mbox
// message with a NUL in a header goes as literal8 (Cyrus has BINARY), and
// Cyrus refuses it ("NO Message contains NUL characters"): the import
// stopped there at every run. With --skip-unsendable it is skipped and
// the rest imported.
func TestImportCyrusNULHeaderSkipped(t *testing.T) {
	t.Parallel()
	dstURL, ac := cyrusAlice(t)
	path, names := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "nulhdr"), importSourceMsg(3, "")})
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	args := []string{"import", dstURL, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("without the option: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if code != exitNo || !strings.Contains(errs, names[1]) || !strings.Contains(errs, "--skip-unsendable") {
		t.Errorf("without the option: exit %d, stderr %q; want 1 and the error naming %q and the option", code, errs, names[1])
	}
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", append(args, "--skip-unsendable")...)
		t.Logf("run %d: exit %d\nstdout: %s\nstderr: %s", run, code, out, errs)
		got := strings.Join(storedSubjects(mailOf(t, ac, "INBOX")), " ")
		if code != 0 || got != "m1 m3" {
			t.Errorf("run %d: exit %d, INBOX holds %q; want 0, m1 m3 once each", run, code, got)
		}
		if run == 1 && (!strings.Contains(errs, "warning: "+"the message "+names[1]) || !strings.Contains(out, "1 skipped")) {
			t.Errorf("run 1: stderr %q, stdout %q; want a warning naming %q and \"1 skipped\"", errs, out, names[1])
		}
	}
}
