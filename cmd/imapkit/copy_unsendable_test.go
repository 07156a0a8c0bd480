//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopyZeroByteMessageBlocksMailbox: a 0-byte message on the source
// was appended as a 0-byte literal, which Dovecot refuses; every run
// stopped there, and the messages after it were never copied. Fixed as
// import does it ("APPEND needs a byte"): it is appended as a blank line,
// and reported on stderr (and in --json's "empty").
func TestCopyZeroByteMessageBlocksMailbox(t *testing.T) {
	t.Parallel()
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"",
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	for _, multi := range []bool{true, false} {
		args := []string{"copy", "imap://alice@" + src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
		if !multi {
			args = append(args, "--no-multiappend")
		}
		var code int
		var errs string
		for range 2 {
			code, _, errs = runCLI(t, "", args...)
		}
		got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
		third := false
		for _, m := range got {
			third = third || strings.Contains(m.body, "Subject: three")
		}
		if !third {
			t.Errorf("multiappend=%v: after two runs (last exit %d, stderr %q) the message after the 0-byte one was never copied", multi, code, errs)
		}
	}
}

// TestCopyNULByte: a message holding a NUL byte (which only a
// literal8 can carry; the destination offers BINARY). Not fixed (finding
// 7): since stop 38 the commands layer refuses a NUL in a plain literal as
// it streams, so the group fails explicitly (nothing appended, the
// connection to the destination closed, not left pending; docs/cli.md
// says so) instead of being stored with 0x80 in place of the NUL. Copying
// it byte for byte needs a literal8 retry on a new connection, or knowing
// before the APPEND: not done. Skipped until then.
func TestCopyNULByte(t *testing.T) {
	t.Parallel()
	t.Skip("review 37 finding 7 (a NUL byte from the source fails its group; no literal8 retry) is not fixed yet")
	bodies := []string{
		"From: a@example.com\r\nSubject: nul\r\n\r\nbefore\x00after\r\n",
		"From: c@example.com\r\nSubject: next\r\n\r\nnext\r\n",
	}
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet")
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	t.Logf("exit %d %q %q; %d messages", code, out, errs, len(got))
	if len(got) != 2 || got[0].body != bodies[0] {
		for _, m := range got {
			t.Logf("%q", m.body)
		}
		t.Fatalf("NUL message not copied byte for byte")
	}
}

// copySourceBody is a small source message; nul puts a NUL byte in its body.
func copySourceBody(i int, nul bool) string {
	body := "hi"
	if nul {
		body = "h\x00i"
	}
	return fmt.Sprintf("From: a@example.com\r\nSubject: u%d\r\nMessage-ID: <u%d@r43>\r\n\r\n%s\r\n", i, i, body)
}

// unsendableSource starts a scripted source holding bodies in INBOX and returns
// its address.
func unsendableSource(t *testing.T, bodies []string) string {
	t.Helper()
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src.Addr()
}

// copyToFake runs copy from the scripted source at srcAddr to a scripted
// destination fake (fakeDst) at addr with state in state.
func copyToFake(t *testing.T, srcAddr string, fake *fakeDst, addr, state string, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"copy", "imap://alice@" + srcAddr, "imap://alice@" + addr, "INBOX", "--insecure-plaintext", "--dst-insecure-plaintext",
		"--state-dir", state, "--timeout", "20s", "--quiet"}, extra...)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "x")
	code, out, errs := runCLI(t, "", args...)
	t.Logf("copy %q: exit %d\nstdout: %s\nstderr: %s", extra, code, out, errs)
	return code, out, errs
}

func fakeDstIDs(fake *fakeDst) string {
	fake.mu.Lock()
	defer fake.mu.Unlock()
	return strings.Join(fake.boxes["INBOX"].ids, " ")
}

// stateBox is the state of copy's INBOX in the state directory state.
func stateBox(t *testing.T, state string) *copyBox {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "copy-*.json"))
	if len(files) != 1 {
		t.Fatalf("state files %q", files)
	}
	var st copyState
	if _, err := loadJSON(files[0], &st); err != nil {
		t.Fatal(err)
	}
	return st.Mailboxes["INBOX"]
}

// TestCopyNULSkipUnsendable: a source message holding a NUL
// copied to a destination without BINARY stopped its mailbox at every
// run (its MULTIAPPEND group abandoned, nothing of it copied), with no way
// forward but deleting the message, and an error that named neither it nor
// a way out. Without an option it still fails, naming its UID and
// --skip-unsendable; with the option it is skipped with a warning,
// recorded in the state, counted in the summary, and the rest is copied
// (once: a third run copies nothing).
func TestCopyNULSkipUnsendable(t *testing.T) {
	bodies := []string{copySourceBody(1, false), copySourceBody(2, true), copySourceBody(3, false)}
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND"}
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	code, _, errs := copyToFake(t, srcAddr, fake, addr, state)
	if code == 0 || !strings.Contains(errs, "UID 2") || !strings.Contains(errs, "--skip-unsendable") {
		t.Errorf("without the option: exit %d, stderr %q; want a failure naming UID 2 and --skip-unsendable", code, errs)
	}
	for run := 1; run <= 2; run++ {
		code, out, errs := copyToFake(t, srcAddr, fake, addr, state, "--skip-unsendable")
		if code != 0 {
			t.Errorf("run %d with --skip-unsendable: exit %d, want 0", run, code)
		}
		if got := fakeDstIDs(fake); got != "<u1@r43> <u3@r43>" {
			t.Fatalf("run %d with --skip-unsendable: the destination got %q, want u1 and u3 once each", run, got)
		}
		if run == 1 && (!strings.Contains(errs, "UID 2") || !strings.Contains(out, "1 skipped")) {
			t.Errorf("run 1 with --skip-unsendable: stderr %q, stdout %q: want a warning naming UID 2, and \"1 skipped\"", errs, out)
		}
		if box := stateBox(t, state); box == nil || len(box.Skipped) != 1 || box.Skipped[0] != 2 || box.Pending != nil {
			t.Errorf("run %d: state %+v, want UID 2 recorded as skipped, nothing pending", run, box)
		}
	}
}

// TestCopyNULBinaryDestination: to a destination with BINARY, a
// source message holding a NUL goes as literal8 (APPEND ~{n}): it was
// refused like one to a destination without BINARY, at every run.
func TestCopyNULBinaryDestination(t *testing.T) {
	bodies := []string{copySourceBody(1, false), copySourceBody(2, true), copySourceBody(3, false)}
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND BINARY"}
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	code, _, _ := copyToFake(t, srcAddr, fake, addr, state)
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if got := fakeDstIDs(fake); got != "<u1@r43> <u2@r43> <u3@r43>" {
		t.Fatalf("the destination got %q, want u1 u2 u3 once each", got)
	}
	code, _, _ = copyToFake(t, srcAddr, fake, addr, state)
	if got := fakeDstIDs(fake); code != 0 || got != "<u1@r43> <u2@r43> <u3@r43>" {
		t.Fatalf("second run: exit %d, the destination got %q, want u1 u2 u3 once each", code, got)
	}
}

// TestCopyAppendLimitSkipUnsendable: a message over the
// destination's APPENDLIMIT stopped its mailbox at every run. With
// --skip-unsendable it is skipped, recorded, and the rest copied; without,
// the error's hint names the option.
func TestCopyAppendLimitSkipUnsendable(t *testing.T) {
	big := "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@r43>\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n"
	bodies := []string{copySourceBody(1, false), big, copySourceBody(3, false)}
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=300"}
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	code, _, errs := copyToFake(t, srcAddr, fake, addr, state)
	if code != exitNo || !strings.Contains(errs, "UID 2") || !strings.Contains(errs, "--skip-unsendable") {
		t.Errorf("without the option: exit %d, stderr %q; want 1, naming UID 2 and --skip-unsendable", code, errs)
	}
	code, out, errs := copyToFake(t, srcAddr, fake, addr, state, "--skip-unsendable")
	if code != 0 || fakeDstIDs(fake) != "<u1@r43> <u3@r43>" || !strings.Contains(errs, "UID 2") || !strings.Contains(out, "1 skipped") {
		t.Errorf("with --skip-unsendable: exit %d, destination %q, stderr %q, stdout %q; want 0, u1 and u3, a warning naming UID 2, \"1 skipped\"", code, fakeDstIDs(fake), errs, out)
	}
	if box := stateBox(t, state); box == nil || len(box.Skipped) != 1 || box.Skipped[0] != 2 {
		t.Errorf("state %+v, want UID 2 recorded as skipped", box)
	}
}

// TestCopyNULNoBinaryCopiesBefore: a message holding a NUL byte
// (UID 2), copied to a destination with MULTIAPPEND and without BINARY,
// without --skip-unsendable, is met in the middle of its group's APPEND,
// which aborts the group: before, the mailbox failed naming UID 2 and
// u1, which came before it in the group, was never copied, at any run.
// Now u1 is copied (once over the two runs), and each run fails naming
// UID 2 and the option (exit 1 since TestCopyNULNoBinaryExit1: a
// refusal, no more a lost connection).
func TestCopyNULNoBinaryCopiesBefore(t *testing.T) {
	bodies := []string{copySourceBody(1, false), copySourceBody(2, true), copySourceBody(3, false)}
	fake := newRetryDst("IMAP4rev1 MULTIAPPEND", 0, false)
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, bodies)
	for run := 1; run <= 2; run++ {
		code, _, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state)
		if got := retryDstIDs(fake); code != exitNo || got != "<u1@r43>" || !strings.Contains(errs, "UID 2: not appended") || !strings.Contains(errs, "NUL") || !strings.Contains(errs, "--skip-unsendable") {
			t.Errorf("run %d: exit %d, destination %q, stderr %q; want 1, u1 copied once, and the error naming UID 2, its NUL and the option", run, code, got, errs)
		}
	}
}

// TestCopyNULNoBinaryDestLost: copy from a source holding a NUL to
// a destination without BINARY. commands now refuses the NUL in the plain
// literal as it streams (nulGuard) and aborts the session: nothing was
// appended. But the error is no *notAppendedError (srcReader read the
// source fine, so "abandoned" stays false; refusedAppend is false), so
// the group's pending record stays in the state; the next run takes it
// for landed as soon as anything else moved the destination's UIDNEXT
// (new mail in INBOX), records the message as copied, and it is never
// copied: lost, silently, the very case copy_append.go's "abandoned"
// exists for.
func TestCopyNULNoBinaryDestLost(t *testing.T) {
	body := "From: a@example.com\r\nSubject: nul\r\n\r\nbefore\x00after\r\n"
	src, err := hostile.Listen(nulSource(body))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var mu sync.Mutex
	uidnext, appended := 1, 0
	dst, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 LITERAL+ UIDPLUS NAMESPACE"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			ok := cmd.Tag + " OK done"
			switch cmd.Name {
			case "LOGIN":
				err = c.Line(ok)
			case "NAMESPACE":
				err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
			case "LIST":
				err = c.Lines(`* LIST () "/" INBOX`, ok)
			case "STATUS":
				mu.Lock()
				n := uidnext
				mu.Unlock()
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDNEXT %d UIDVALIDITY 9)", n), ok)
			case "APPEND":
				if !cmd.NonSync {
					if err = c.Continue("go"); err != nil {
						return err
					}
				}
				if _, err = c.ReadLiteral(cmd.Literal); err != nil {
					return err
				}
				if _, err = c.ReadLine(); err != nil {
					return err
				}
				mu.Lock()
				appended++
				u := uidnext
				uidnext++
				mu.Unlock()
				err = c.Line(fmt.Sprintf("%s OK [APPENDUID 9 %d] done", cmd.Tag, u))
			case "LOGOUT":
				c.Lines("* BYE bye", ok)
				return nil
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_URL", "")
	state := t.TempDir()
	args := []string{"copy", "imap://alice@" + src.Addr(), "imap://alice@" + dst.Addr(), "INBOX", "--state-dir", state, "--timeout", "10s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("run 1: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	// New mail reaches the destination's INBOX between the runs.
	mu.Lock()
	uidnext++
	mu.Unlock()
	code, out, errs = runCLI(t, "", args...)
	t.Logf("run 2: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	mu.Lock()
	n := appended
	mu.Unlock()
	if n == 0 && code == 0 {
		t.Errorf("run 2 succeeded and the message was never appended: the group aborted on its NUL in run 1 stayed pending and was taken for landed (lost)")
	}
	ents, _ := os.ReadDir(state)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(state, e.Name()))
		t.Logf("state %s: %s", e.Name(), b)
	}
}

// TestCopyBinaryRefusedSkipUnsendable (real Cyrus 3.6): a source
// message with a NUL in a header is recorded as "binary" and sent alone
// as literal8, and Cyrus refuses it even so ("NO Message contains NUL
// characters", no response code). --skip-unsendable did not skip it: the
// mailbox stopped at UID 2 at every run (exit 1), and u3 was never
// copied. Now it is skipped with a warning naming it, recorded in the
// state as skipped, counted ("1 skipped"), and the rest is copied, once
// over two runs.
func TestCopyBinaryRefusedSkipUnsendable(t *testing.T) {
	t.Parallel()
	nulHdr := "From: a@example.com\r\nSubject: u\x002\r\nMessage-ID: <u2@r43>\r\n\r\nhi\r\n"
	bodies := []string{copySourceBody(1, false), nulHdr, copySourceBody(3, false)}
	dstURL, ac := cyrusAlice(t)
	srcAddr := unsendableSource(t, bodies)
	state := t.TempDir()
	for run := 1; run <= 2; run++ {
		code, out, errs := retryCopyTo(t, srcAddr, dstURL, state, "--skip-unsendable")
		got := strings.Join(storedSubjects(mailOf(t, ac, "INBOX")), " ")
		if code != 0 || got != "u1 u3" {
			t.Errorf("run %d: exit %d, the destination holds %q; want 0 and u1 u3 (once each)", run, code, got)
		}
		if run == 1 && (!strings.Contains(errs, "warning: UID 2") || !strings.Contains(out, "1 skipped")) {
			t.Errorf("run 1: stderr %q, stdout %q; want a warning naming UID 2 and \"1 skipped\"", errs, out)
		}
		if box := stateBox(t, state); box == nil || len(box.Skipped) != 1 || box.Skipped[0] != 2 || box.Pending != nil {
			t.Errorf("run %d: state %+v; want UID 2 recorded as skipped, nothing pending", run, box)
		}
	}
}

// TestCopyBinaryRefusalKinds: which refusals of a message
// holding a NUL, sent alone as literal8, --skip-unsendable skips. The
// scripted destination (BINARY) answers every APPEND it reads whole with
// refusal: Cyrus 3.6's answer to a NUL in a header ("NO Message contains
// NUL characters", recorded from the real server by
// TestCopyBinaryRefusedSkipUnsendable) is skipped, and so is a
// [PARSE]; Cyrus's uncoded "NO Over quota" and a [OVERQUOTA] are about the
// mailbox, not the message: the mailbox stops at it, nothing skipped.
func TestCopyBinaryRefusalKinds(t *testing.T) {
	for _, c := range []struct {
		refusal string
		skip    bool
	}{
		{"NO Message contains NUL characters", true},
		{"NO [PARSE] cannot parse the message", true},
		{"NO Over quota", false},
		{"NO [OVERQUOTA] Quota exceeded", false},
	} {
		fake := newRetryDst("IMAP4rev1 LITERAL+ BINARY", 0, false)
		fake.refuse = c.refusal
		addr := fake.start(t)
		state := t.TempDir()
		srcAddr := unsendableSource(t, []string{copySourceBody(1, true)})
		code, out, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--skip-unsendable")
		box := stateBox(t, state)
		if c.skip {
			if code != 0 || !strings.Contains(errs, "warning: UID 1") || !strings.Contains(out, "1 skipped") || box == nil || len(box.Skipped) != 1 {
				t.Errorf("%q: exit %d, stdout %q, stderr %q, state %+v; want 0, UID 1 skipped with a warning and recorded", c.refusal, code, out, errs, box)
			}
			continue
		}
		if code != exitNo || !strings.Contains(errs, "UID 1: not appended") || box == nil || len(box.Skipped) != 0 {
			t.Errorf("%q: exit %d, stderr %q, state %+v; want 1, the error naming UID 1, nothing skipped", c.refusal, code, errs, box)
		}
	}
}

// lastIsLogout reports whether the destination's last command was a
// LOGOUT (its last session ended cleanly).
func lastIsLogout(f *retryDst) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log) > 0 && strings.Contains(f.log[len(f.log)-1], " LOGOUT")
}

// TestCopyNULNoBinaryExit1: a source message holding a NUL byte
// (UID 2), copied without --skip-unsendable to a destination without
// BINARY (with MULTIAPPEND, and with LITERAL+ too), stops its mailbox
// naming UID 2 and the option with exit 1 (the destination can never
// take it: a refusal, as import's errNeedsBinary), not 3 (a lost
// connection, which scripts retry for ever); u1, before it, is copied
// once over two runs, and each run ends with a LOGOUT. The second run
// starts at UID 2 (its group's first): it failed so too, its session
// aborted, with no logout.
func TestCopyNULNoBinaryExit1(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 MULTIAPPEND", "IMAP4rev1 LITERAL+ MULTIAPPEND", "IMAP4rev1"} {
		t.Run(caps, func(t *testing.T) {
			bodies := []string{copySourceBody(1, false), copySourceBody(2, true), copySourceBody(3, false)}
			fake := newRetryDst(caps, 0, false)
			addr := fake.start(t)
			state := t.TempDir()
			srcAddr := unsendableSource(t, bodies)
			for run := 1; run <= 2; run++ {
				code, _, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state)
				if got := retryDstIDs(fake); code != exitNo || got != "<u1@r43>" || !strings.Contains(errs, "UID 2: not appended") || !strings.Contains(errs, "NUL") || !strings.Contains(errs, "--skip-unsendable") {
					t.Errorf("run %d: exit %d, destination %q, stderr %q; want 1, u1 copied once, and the error naming UID 2, its NUL and the option", run, code, got, errs)
				}
				if !lastIsLogout(fake) {
					t.Errorf("run %d: the destination's last command was not a LOGOUT", run)
				}
			}
		})
	}
}

// TestImportTransientRefusalSkippedForever: a message holding a
// NUL, sent alone as literal8 to a BINARY server, refused by a NO with no
// response code that says nothing of the message ("NO Server shutting
// down, try again later"; Cyrus's IMAP_IOERROR, "NO System I/O error",
// has no code) was taken by binaryRefusal for a message the server can
// never take: with --skip-unsendable it was recorded as skipped, and no
// later run sent it, though the server, back to health, takes it. Now only
// a refusal that speaks of the message ([PARSE], [CANNOT], or an uncoded
// text naming a NUL) skips it; the others stop the import, and the next
// run imports it. [UNAVAILABLE] and [SERVERBUG] were never skipped and are
// checked alongside.
func TestImportTransientRefusalSkippedForever(t *testing.T) {
	for _, refusal := range []string{"NO Server shutting down, try again later", "NO System I/O error", "NO [UNAVAILABLE] try later", "NO [SERVERBUG] oops"} {
		t.Run(refusal, func(t *testing.T) {
			fake := newRetryDst("IMAP4rev1 LITERAL+ MULTIAPPEND BINARY", 0, false)
			fake.refuseNUL = refusal
			addr := fake.start(t)
			path, names := importSource(t, "maildir", []string{importSourceMsg(1, ""), importSourceMsg(2, "nul"), importSourceMsg(3, "")})
			args := []string{"import", "imap://alice@" + addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet", "--skip-unsendable"}
			code, out, errs := runCLI(t, "", args...)
			t.Logf("run 1 (server refusing %q): exit %d\nstdout: %s\nstderr: %s", refusal, code, out, errs)
			if code != exitNo || !strings.Contains(errs, "not appended") {
				t.Errorf("run 1, refused %q: exit %d, stderr %q; want 1 and the error naming the message", refusal, code, errs)
			}
			fake.refuseNUL = "" // the server is well again
			code, out, errs = runCLI(t, "", args...)
			t.Logf("run 2 (server well): exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			e := importStateOf(t, path)
			if got := retryDstIDs(fake); !strings.Contains(got, "<m2@r44>") || len(e.Skipped) != 0 {
				t.Errorf("after a transient refusal %q: the destination holds %q, state skipped %q; want %s imported by the second run, nothing recorded as unsendable", refusal, got, e.Skipped, names[1])
			}
		})
	}
}

// TestCopyTransientRefusalSkippedForever: copy's side of
// TestImportTransientRefusalSkippedForever (the same
// binaryRefusal): a NUL message, sent alone as literal8, refused "NO
// System I/O error" (no code: Cyrus's IMAP_IOERROR) was recorded skipped
// with --skip-unsendable, and a later run, the destination well, never
// copied it. Now the mailbox stops at it (exit 1) and the next run copies
// it.
func TestCopyTransientRefusalSkippedForever(t *testing.T) {
	fake := newRetryDst("IMAP4rev1 LITERAL+ BINARY", 0, false)
	fake.refuseNUL = "NO System I/O error"
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := unsendableSource(t, []string{copySourceBody(1, false), copySourceBody(2, true), copySourceBody(3, false)})
	code, _, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--skip-unsendable")
	if code != exitNo || !strings.Contains(errs, "UID 2: not appended") {
		t.Errorf("run 1, refused \"NO System I/O error\": exit %d, stderr %q; want 1 and the error naming UID 2", code, errs)
	}
	fake.refuseNUL = "" // well again
	copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--skip-unsendable")
	box := stateBox(t, state)
	if got := retryDstIDs(fake); !strings.Contains(got, "<u2@r43>") || len(box.Skipped) != 0 {
		t.Errorf("after a transient uncoded NO: the destination holds %q, state skipped %v; want u2 copied by the second run, nothing recorded as unsendable", got, box.Skipped)
	}
}

// TestBinaryRefusalWords: which refusals of a NUL message sent
// alone as literal8 binaryRefusal takes for the message's own (a
// permanent skip with --skip-unsendable).
func TestBinaryRefusalWords(t *testing.T) {
	for _, c := range []struct {
		refusal string
		skip    bool
	}{
		{"NO Message contains NUL characters", true}, // Cyrus 3.6
		{"NO message contains nul bytes", true},
		{"NO [PARSE] cannot parse the message", true},
		{"NO [CANNOT] never", true},
		{"NO System I/O error", false},
		{"NO Server shutting down, try again later", false},
		{"NO Over quota", false},
		{"NO [OVERQUOTA] Quota exceeded", false},
		{"NO [UNAVAILABLE] Message contains NUL characters", false},
		{"NO Message contains NULL characters", false},
		{"NO Annulled", false},
	} {
		fake := newRetryDst("IMAP4rev1 LITERAL+ BINARY", 0, false)
		fake.refuseNUL = c.refusal
		addr := fake.start(t)
		state := t.TempDir()
		srcAddr := unsendableSource(t, []string{copySourceBody(1, true)})
		code, _, errs := copyToFake(t, srcAddr, &fake.fakeDst, addr, state, "--skip-unsendable")
		box := stateBox(t, state)
		skipped := box != nil && len(box.Skipped) == 1
		if skipped != c.skip || (c.skip && code != 0) || (!c.skip && code != exitNo) {
			t.Errorf("%q: exit %d, stderr %q, state %+v; want skipped %v", c.refusal, code, errs, box, c.skip)
		}
	}
}

// TestExitTableImportSkipUnsendable: docs/cli.md's exit status
// table said of a message over APPENDLIMIT "copy --skip-unsendable skips
// it instead, exit 0", and listed "a NUL" only under 2. import has
// --skip-unsendable too (exit 0), and an import's message holding a NUL
// for a server without BINARY exits 1 (errNeedsBinary): the table, where
// scripts look, said neither.
func TestExitTableImportSkipUnsendable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "## Exit status")
	row1 := ""
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "| 1 |") {
			row1 = l
			break
		}
	}
	if !strings.Contains(row1, "import --skip-unsendable") && !strings.Contains(row1, "`import`) skip") {
		t.Errorf("exit status 1 row does not say import --skip-unsendable skips (exit 0): %q", row1)
	}
	if !strings.Contains(row1, "NUL") {
		t.Errorf("exit status 1 row does not list a message holding a NUL for a server without BINARY (import exits 1 for it): %q", row1)
	}
}
