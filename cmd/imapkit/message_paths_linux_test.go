//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// oddDir is a directory name holding a terminal escape (clear the
// screen) and a newline: what a path printed raw in a message shows.
const oddDir = "odd\x1b[2J\nname"

// checkOneLine fails the test unless stderr is one line that names path
// as printable shows it and holds want after it, with no control
// character: a path printed raw broke the line (the rest of the message
// lost, exitCode prints the first line) or drove the terminal.
func checkOneLine(t *testing.T, what, stderr, path, want string) {
	t.Helper()
	line, rest, _ := strings.Cut(stderr, "\n")
	i := strings.Index(line, printable(path))
	switch {
	case rest != "" || strings.ContainsFunc(line, func(r rune) bool { return r < ' ' || r == 0x7f }):
		t.Errorf("%s: stderr %q; want one line without control characters", what, stderr)
	case i < 0 || !strings.Contains(line[i:], want):
		t.Errorf("%s: stderr %q; want %q named (printable), then %q", what, stderr, printable(path), want)
	}
}

// TestMessagePathsPrintable walks the messages that name a file (state
// files, export's and import's files, the lock, an accounts file, a
// --ca-file, and the file system's own errors wrapped in them) with
// every path under a directory whose name holds an escape and a newline:
// each is printed as one line, the path by printable. Before, the state
// files' parse errors, export's "holds an export of" and "exists and is
// not from an export", import's "records an import of" and its usage
// errors, the busy lock's and the accounts file's messages printed the
// path raw (the escape reached the terminal, the newline cut the message
// there), and so did the errors of package os exitCode printed.
func TestMessagePathsPrintable(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 3)
	_, url := urls(srv)
	with := func(args ...string) []string { return append(append([]string{}, args...), cf...) }
	dir := filepath.Join(t.TempDir(), oddDir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(what string, wantCode int, path, want string, args ...string) {
		t.Helper()
		code, _, stderr := runCLI(t, "", with(args...)...)
		if code != wantCode {
			t.Errorf("%s: exit %d (stderr %q); want %d", what, code, stderr, wantCode)
		}
		checkOneLine(t, what, stderr, path, want)
	}

	// export's state file that is not JSON.
	mbox := filepath.Join(dir, "a.mbox")
	write(statePath(mbox), "{")
	run("export's state not JSON", exitConnFail, statePath(mbox), ": unexpected end of JSON input",
		"export", url, "INBOX", "--to", mbox, "--quiet")
	// export's state of another mailbox.
	write(statePath(mbox), `{"version":1,"mailbox":"Other","format":"mbox"}`)
	run("export's state of another mailbox", exitUsage, statePath(mbox), " holds an export of Other as mbox, not of INBOX as mbox",
		"export", url, "INBOX", "--to", mbox, "--quiet")
	// export to an mbox with no state.
	other := filepath.Join(dir, "b.mbox")
	write(other, "From x\n\nnot exported\n")
	run("export to a file not from an export", exitConnFail, other, " exists and is not from an export (no b.mbox.imapkit-export.json)",
		"export", url, "INBOX", "--to", other, "--quiet")
	// export while another run holds the lock.
	locked := filepath.Join(dir, "c.mbox")
	l, err := lockExport(locked)
	if err != nil {
		t.Fatal(err)
	}
	run("export while locked", exitConnFail, statePath(locked), ": another imapkit is using it",
		"export", url, "INBOX", "--to", locked, "--quiet")
	l.unlock()

	// import's state that is not JSON.
	src := filepath.Join(dir, "src.mbox")
	write(src, "From x Thu Jan  1 00:00:00 2024\nSubject: x\n\nhi\n")
	write(importStatePath(src), "{")
	run("import's state not JSON", exitConnFail, importStatePath(src), ": unexpected end of JSON input",
		"import", url, src, "--to", "FromOdd", "--quiet")
	// import's state of the source as another format.
	if err := os.Remove(importStatePath(src)); err != nil {
		t.Fatal(err)
	}
	cli(t, "", 0, with("import", url, src, "--to", "FromOdd", "--quiet")...)
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	run("import's state of another format", exitUsage, importStatePath(src), " records an import of "+printable(src)+" as mbox, not maildir",
		"import", url, src, "--to", "FromOdd", "--quiet")
	// import's usage errors.
	noCur := filepath.Join(dir, "nocur")
	if err := os.Mkdir(noCur, 0o700); err != nil {
		t.Fatal(err)
	}
	run("import of a directory without cur/", exitUsage, noCur, " is a directory without cur/",
		"import", url, noCur, "--to", "FromOdd", "--quiet")
	notMbox := filepath.Join(dir, "not.mbox")
	write(notMbox, "Subject: x\n\nhi\n")
	run("import of a file not an mbox", exitUsage, notMbox, ` does not start with "From "`,
		"import", url, notMbox, "--to", "FromOdd", "--quiet")
	// the file system's own error (package os's, by exitCode).
	missing := filepath.Join(dir, "missing.mbox")
	run("import of a missing file", exitConnFail, missing, ": no such file or directory",
		"import", url, missing, "--to", "FromOdd", "--quiet")

	// copy's state that is not JSON.
	stateDir := filepath.Join(dir, "state")
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tg, err := parseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	copyState := copyStatePath(stateDir, accountKey(tg, tg.user), accountKey(tg, tg.user))
	write(copyState, "{")
	run("copy's state not JSON", exitConnFail, copyState, ": unexpected end of JSON input",
		"copy", url, url, "--dst-ca-file", cf[1], "--state-dir", stateDir, "--quiet")
	// an accounts file's line.
	accounts := filepath.Join(dir, "accounts")
	write(accounts, "not-a-url\n")
	run("an accounts file's bad line", exitUsage, accounts, " line 1: ",
		"copy", "--accounts", accounts, "--state-dir", stateDir, "--quiet")
	// a --ca-file without a certificate.
	noPEM := filepath.Join(dir, "ca.pem")
	write(noPEM, "no certificate\n")
	code, _, stderr := runCLI(t, "", "capability", url, "--ca-file", noPEM, "--timeout", "20s")
	if code == 0 {
		t.Errorf("--ca-file without a certificate: exit 0")
	}
	checkOneLine(t, "--ca-file without a certificate", stderr, noPEM, ": no PEM certificate in it")
	// Not a path, but the user's word, printed so too.
	code, _, stderr = runCLI(t, "", with("capability", url, "--sasl", oddDir)...)
	if code != exitUsage {
		t.Errorf("--sasl of an unknown mechanism: exit %d; want %d", code, exitUsage)
	}
	checkOneLine(t, "--sasl of an unknown mechanism", stderr, strings.ToUpper(oddDir), ": unknown mechanism") // (named in upper case)
}

// TestErrorLinePathsPrintable: errorLine, the line exitCode prints, shows
// the paths of package os's errors by printable wherever they are
// wrapped (errors.Join included), the message after them kept.
func TestErrorLinePathsPrintable(t *testing.T) {
	p := "/tmp/" + oddDir + "/f"
	pe := &fs.PathError{Op: "open", Path: p, Err: syscall.ENOENT}
	le := &os.LinkError{Op: "rename", Old: p, New: p + ".new", Err: syscall.EXDEV}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a path error", pe, "open " + printable(p) + ": no such file or directory"},
		{"wrapped", fmt.Errorf("import: %w: nothing done", pe), "import: open " + printable(p) + ": no such file or directory: nothing done"},
		{"a link error, joined", errors.Join(le, errors.New("second")), "rename " + printable(p) + " " + printable(p+".new") + ": invalid cross-device link"},
		{"a link error", fmt.Errorf("moving: %w", le), "moving: rename " + printable(p) + " " + printable(p+".new") + ": invalid cross-device link"},
	} {
		if got := errorLine(c.err); got != c.want {
			t.Errorf("%s: %q; want %q", c.name, got, c.want)
		}
	}
}

// TestFetchToLinesPrintable: fetch --to's line for each message written
// ("UID N: DIR/N.eml (B bytes)") shows DIR by printable, as its last line
// ("fetched ... to DIR") does: the path was printed raw, and a directory
// whose name holds an escape and a newline drove the terminal and broke
// the line in two.
func TestFetchToLinesPrintable(t *testing.T) {
	t.Parallel()
	addr := unaskedFetchServer(t, []int{1}, []string{"Subject: one\r\n\r\nfirst\r\n"})
	dir := filepath.Join(t.TempDir(), oddDir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, _ := cli(t, "", 0, "fetch", "imap://alice@"+addr, "INBOX", "1", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	want := "UID 1: " + printable(filepath.Join(dir, "1.eml")) + " (23 bytes)\nfetched 1 messages (23 bytes) to " + printable(dir) + "\n"
	if out != want {
		t.Errorf("stdout %q; want %q: each path by printable, one line a message", out, want)
	}
}

// TestDirectoryNotMadeNamed: a directory a run must make that cannot be
// made (here a regular file is in its way) stops the run with a message
// naming it by printable, and what it is for: a state file's
// (writeFileAtomic), an export's Maildir, an export --accounts' account
// directory, fetch --to's directory. Exit 1: a retry finds the same file
// in the way. Before, MkdirAll's error came alone ("mkdir PATH: not a
// directory", the one above it failed to make), the directory wanted
// not named, exit 3.
func TestDirectoryNotMadeNamed(t *testing.T) {
	t.Parallel() // waits on a scripted server over TCP
	dir := filepath.Join(t.TempDir(), oddDir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(what string, code int, stderr, want string) {
		t.Helper()
		checkOneLine(t, what, stderr, want, ": ")
		if !strings.Contains(stderr, "making ") {
			t.Errorf("%s: stderr %q; want it to say which directory it was making", what, stderr)
		}
		if code != exitNo {
			t.Errorf("%s: exit %d; want %d (a retry finds the same file in the way)", what, code, exitNo)
		}
	}
	run := func(err error) (int, string) {
		var stderr strings.Builder
		code := exitCode(nil, &stderr, "export", err)
		return code, stderr.String()
	}
	stateDir := filepath.Join(blocker, "a", "b")
	code, stderr := run(writeFileAtomic(filepath.Join(stateDir, "st.json"), []byte("{}")))
	check("writeFileAtomic", code, stderr, stateDir)
	md := filepath.Join(blocker, "md")
	_, err := openMaildir(md, 1, io.Discard)
	code, stderr = run(err)
	check("openMaildir", code, stderr, filepath.Join(md, "tmp"))

	addr := unsendableSource(t, []string{copySourceBody(1, false)})
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	to := filepath.Join(blocker, "to")
	code, _, stderr = runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1", "--to", to, "--insecure-plaintext", "--timeout", "20s")
	check("fetch --to", code, stderr, to)

	pw := filepath.Join(t.TempDir(), "pw")
	accounts := filepath.Join(t.TempDir(), "accounts")
	if err := os.WriteFile(pw, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(accounts, []byte("imap://alice@"+addr+" password-file="+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(blocker, "out")
	code, _, stderr = runCLI(t, "", "export", "--accounts", accounts, "INBOX", "--to", out, "--insecure-plaintext", "--timeout", "20s", "--quiet")
	// The account's line, then the run's count of accounts that failed.
	first, _, _ := strings.Cut(stderr, "\n")
	check("export --accounts", code, first+"\n", out)
	if !strings.Contains(stderr, "1 of 1 accounts failed") {
		t.Errorf("export --accounts: stderr %q; want the count of accounts that failed after the account's line", stderr)
	}
}
