//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopyFailedPendingSaveLosesMail: copy records an APPEND group as
// pending in its state file before sending it. When that save fails (the
// disk full for a moment: ENOSPC), copyBatch returns at once, the APPEND is
// never sent, but box.Pending stays set in memory; copyAccount goes on with
// the next mailbox and its saves (and the run's final compact) write the
// stale record to the state file. The next run takes it for an APPEND whose
// answer was lost and asks the destination whether its UIDNEXT moved: any
// mail delivered to that mailbox meanwhile makes the group count as landed,
// and its messages are never copied.
//
// Here the state file's place is made unwritable (a directory stands where
// the file is renamed to) exactly between the save that records message 1
// of A as copied and the save that records message 2 as pending, and made
// writable again when mailbox B's copy begins. Then one message is
// delivered to A's destination, and copy run again.
func TestCopyFailedPendingSaveLosesMail(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, srcURL := urls(srv)
	ac := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, mb := range []string{"A", "B"} {
		if err := ac.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 2; i++ {
			msg := fmt.Sprintf("From: x@example.org\r\nSubject: %s%d\r\nMessage-ID: <%s%d@zz>\r\n\r\nbody\r\n", mb, i, mb, i)
			if _, err := ac.AppendBytes(ctx, mb, []byte(msg), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	stateDir := t.TempDir()
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}}
	var statePath string
	broken := false
	fake.onStatus = func(box string, n int) {
		if statePath == "" {
			ents, _ := os.ReadDir(stateDir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".json") {
					statePath = filepath.Join(stateDir, e.Name())
				}
			}
		}
		switch {
		case box == "A" && n == 2 && statePath != "":
			// The state file cannot be replaced: its save fails.
			if err := os.Rename(statePath, statePath+".aside"); err != nil {
				t.Error(err)
			}
			os.Mkdir(statePath, 0o700)
			os.WriteFile(filepath.Join(statePath, "x"), nil, 0o600)
			broken = true
		case box == "B" && broken:
			os.RemoveAll(statePath)
			if err := os.Rename(statePath+".aside", statePath); err != nil {
				t.Error(err)
			}
			broken = false
		}
	}
	addr := fake.start(t)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	args := []string{"copy", srcURL, "imap://alice@" + addr, "A", "B", "--ca-file", cf[1], "--dst-insecure-plaintext",
		"--state-dir", stateDir, "--timeout", "20s", "--no-multiappend", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("run 1: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if code == 0 {
		t.Fatalf("run 1: exit 0; the state save was to fail")
	}
	b, _ := os.ReadFile(statePath)
	if strings.Contains(string(b), `"pending"`) {
		t.Errorf("after run 1 the state file holds a pending APPEND that was never sent:\n%s", b)
	}
	// Mail arrives in A's destination meanwhile (the new server is live).
	fake.mu.Lock()
	fake.boxes["A"].uidNext++
	fake.onStatus = nil
	fake.mu.Unlock()
	code, out, errs = runCLI(t, "", args...)
	t.Logf("run 2: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	fake.mu.Lock()
	got := strings.Join(fake.boxes["A"].ids, " ")
	fake.mu.Unlock()
	if got != "<A1@zz> <A2@zz>" {
		t.Errorf("A's destination holds %q after two runs, want <A1@zz> <A2@zz>: message A2 was lost", got)
	}
}

// TestCopyTooBigBlocksLaterMailboxes: a destination with APPENDLIMIT (Gmail
// has APPENDLIMIT=35651584) and MULTIAPPEND. Source mailbox A holds a small
// message and one larger than the limit; B a small one. copy puts A's two
// messages in one MULTIAPPEND group; commands checks APPENDLIMIT only when
// the big message's turn comes (AppendMany's Open), in the middle of the
// command, which aborts the session: the connection to the destination is
// closed. copy then goes on with B over the closed connection, which fails
// too ("creating B on the destination: ..."), and so does every mailbox
// after A, at every run, since A's group is the same each time. One message
// the destination cannot take must fail its own mailbox (at most), not
// every later one, forever. (By the code, a message with a NUL byte going
// to a server without BINARY should abort the session the same way,
// wire.ErrNUL from the nulGuard mid-literal; not exercised here.)
func TestCopyTooBigBlocksLaterMailboxes(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, srcURL := urls(srv)
	ac := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg := func(id string, size int) []byte {
		m := fmt.Sprintf("From: x@example.org\r\nSubject: %s\r\nMessage-ID: <%s@zz>\r\n\r\n", id, id)
		for len(m) < size {
			m += strings.Repeat("y", 70) + "\r\n"
		}
		return []byte(m)
	}
	for mb, sizes := range map[string][]int{"A": {100, 5000}, "B": {100}} {
		if err := ac.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
		for i, n := range sizes {
			if _, err := ac.AppendBytes(ctx, mb, msg(fmt.Sprintf("%s%d", mb, i+1), n), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{},
		caps: "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=2000"}
	addr := fake.start(t)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	args := []string{"copy", srcURL, "imap://alice@" + addr, "A", "B", "--ca-file", cf[1], "--dst-insecure-plaintext",
		"--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	var lastErrs string
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", args...)
		t.Logf("run %d: exit %d\nstdout: %s\nstderr: %s", run, code, out, errs)
		lastErrs = errs
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if b := fake.boxes["B"]; b == nil || strings.Join(b.ids, " ") != "<B1@zz>" {
		t.Errorf("after two runs B's destination holds %v, want <B1@zz>: A's message over APPENDLIMIT closed the connection, and every mailbox after A failed, at every run", b)
	}
	// Added to the auditor's test: the message before the big one is
	// copied (the big one is never sent, so nothing is aborted), and the
	// failure names the big one's UID.
	if a := fake.boxes["A"]; a == nil || strings.Join(a.ids, " ") != "<A1@zz>" {
		t.Errorf("after two runs A's destination holds %v, want <A1@zz>", a)
	}
	if !strings.Contains(lastErrs, "A: UID 2: ") {
		t.Errorf("A's failure does not name UID 2: %s", lastErrs)
	}
}

// TestCopyDestinationEndedReconnects: when the destination's
// session ends with one mailbox (here the server drops the connection at
// A's APPEND; a message the library refuses mid-command, such as one with a
// NUL for a server without BINARY, ends it the same way), copy connects
// again for the next mailboxes: B is copied, and no "creating B on the
// destination" failure is reported over the closed connection.
func TestCopyDestinationEndedReconnects(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, srcURL := urls(srv)
	ac := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, mb := range []string{"A", "B"} {
		if err := ac.Create(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprintf("From: x@example.org\r\nSubject: %s1\r\nMessage-ID: <%s1@zz>\r\n\r\nbody\r\n", mb, mb)
		if _, err := ac.AppendBytes(ctx, mb, []byte(msg), nil); err != nil {
			t.Fatal(err)
		}
	}
	fake := &fakeDst{boxes: map[string]*fakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, dropAppend: "A"}
	addr := fake.start(t)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	code, out, errs := runCLI(t, "", "copy", srcURL, "imap://alice@"+addr, "A", "B", "--ca-file", cf[1], "--dst-insecure-plaintext",
		"--state-dir", t.TempDir(), "--timeout", "20s", "--quiet")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if code == 0 || !strings.Contains(errs, "imapkit copy: A: ") {
		t.Errorf("exit %d: want A reported failed", code)
	}
	if strings.Contains(errs, "creating B") || !strings.Contains(out, "B -> B: copied 1 messages") {
		t.Errorf("B was not copied after A's APPEND ended the destination's session")
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if b := fake.boxes["B"]; b == nil || strings.Join(b.ids, " ") != "<B1@zz>" {
		t.Errorf("B's destination holds %v, want <B1@zz>", b)
	}
}

// TestImportMaildirLeaksFiles: import opens each Maildir message's file
// when its turn in the APPEND comes (lazyReader) and closes it only when a
// Read returns an error; but the APPEND reads exactly the message's size
// (an io.LimitedReader in wire's encoder) and never asks for the EOF, so
// every file stays open until the garbage collector finalizes it. A
// MULTIAPPEND group (50 messages) holds its 50 files open at once, and
// more pile up across groups between collections: under a descriptor limit
// of 40 (as a container or a shared account may have; the process needs
// about 10 for itself) the import aborts "too many open files" at the 30th
// message, at every run. One file at a time is all it needs.
func TestImportMaildirLeaksFiles(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) not found")
	}
	srv, cf := dovecot(t, 0)
	_, u := urls(srv)
	md := filepath.Join(t.TempDir(), "md")
	for _, s := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, s), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	const n = 60
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("From: x@example.org\r\nSubject: %d\r\nMessage-ID: <%d@zz>\r\n\r\nbody %d\r\n", i, i, i)
		if err := os.WriteFile(filepath.Join(md, "cur", fmt.Sprintf("%d.M%d.host:2,S", 1700000000+i, i)), []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"import", u, md, "--to", "Imported", "--quiet"}, cf...)
	cmd := exec.Command("prlimit", append([]string{"--nofile=40:40", imapkitBinary(t)}, args...)...)
	cmd.Env = append(os.Environ(), imapkitEnv, "IMAPKIT_PASSWORD="+testserver.Password)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		t.Fatalf("import of %d Maildir messages with 40 file descriptors: %v\nstdout: %s\nstderr: %s", n, err, o.String(), e.String())
	}
	if !strings.Contains(o.String(), fmt.Sprintf("imported %d messages", n)) {
		t.Fatalf("import: %s", o.String())
	}
}

// endlessReader is standard input that never ends (a capture being written):
// a server line again and again, until stop is closed.

type endlessReader struct {
	stop <-chan struct{}
	line []byte
	off  int
}

func (r *endlessReader) Read(p []byte) (int, error) {
	select {
	case <-r.stop:
		return 0, io.EOF
	default:
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

// fullWriter is an output on a full disk: every Write fails.
type fullWriter struct{}

func (fullWriter) Write(p []byte) (int, error) {
	return 0, fmt.Errorf("write out.jsonl: %w", errNoSpace)
}

// TestDecodeIgnoresOutputErrors: decode writes its JSON through a
// bufio.Writer and looks at the write error only once every input has been
// read to its end (the final Flush). With its output on a full disk (or a
// file over RLIMIT_FSIZE) it goes on reading and decoding, writing
// nothing and saying nothing, for as long as its input lasts: forever for
// a capture being written ("imapkit proxy ... | imapkit decode -trace >
// out.jsonl"), hours for a large one. It should stop at the first failed
// write with "imapkit decode: ...: no space left on device" and exit 1.
func TestDecodeIgnoresOutputErrors(t *testing.T) {
	stop := make(chan struct{})
	in := &endlessReader{stop: stop, line: []byte("* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n")}
	var errs strings.Builder
	done := make(chan int, 1)
	go func() { done <- runDecode(in, nil, fullWriter{}, &errs) }()
	select {
	case code := <-done:
		if code == 0 || !strings.Contains(errs.String(), "no space left") {
			t.Fatalf("decode: exit %d, stderr %q; want exit 1 and the write error", code, errs.String())
		}
	case <-time.After(10 * time.Second):
		close(stop)
		<-done
		t.Fatalf("decode went on reading for 10 s after its output failed, saying nothing (stderr %q)", errs.String())
	}
}

var errNoSpace = syscall.ENOSPC

// TestWriteFileAtomicRemovesTemp: a save whose rename fails (a
// directory stands where the state file goes, as in
// TestCopyFailedPendingSaveLosesMail) leaves no PATH.*.tmp
// behind; one whose write fails removed its own already.
func TestWriteFileAtomicRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := writeFileAtomic(path, []byte("{}\n")); err == nil {
			t.Fatal("writeFileAtomic over a non-empty directory succeeded")
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("a failed writeFileAtomic left %s behind", e.Name())
		}
	}
	// And a save that works still leaves only the file.
	os.RemoveAll(path)
	if err := writeFileAtomic(path, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("after a save the directory holds %d entries, want 1", len(ents))
	}
}
