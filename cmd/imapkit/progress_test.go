//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/ptytest"
)

// TestHelperIMAPKit is not a test: run as a child by the tests below (with
// $IMAPKIT_TEST_ARGS), it is the imapkit program.
func TestHelperIMAPKit(t *testing.T) {
	args := os.Getenv("IMAPKIT_TEST_ARGS")
	if args == "" {
		return
	}
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(osEnv, argv, os.Stdin, os.Stdout, os.Stderr))
}

// imapkitCmd returns a command running imapkit with args in this test
// binary, with t's environment (setEnv).
func imapkitCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIMAPKit$")
	b, _ := json.Marshal(args)
	cmd.Env = append(append(os.Environ(), testEnvList(t)...), "IMAPKIT_TEST_ARGS="+string(b))
	return cmd
}

// TestProgressTerminal: on a terminal export draws a bar (count, rate,
// ETA, bytes); on a pipe it prints plain lines.
func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 300)
	_, url := urls(srv)
	dir := t.TempDir()

	term, err := ptytest.Start(imapkitCmd(t, append([]string{"export", url, "INBOX", "--to", filepath.Join(dir, "tty.mbox")}, cf...)...))
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Wait(60 * time.Second); err != nil {
		t.Fatalf("export on a terminal: %v\n%s", err, term.Output())
	}
	out := term.Output()
	for _, want := range []string{"export INBOX", "300/300", "msg/s", "MiB", "\r", "exported 300 messages"} {
		if !strings.Contains(out, want) {
			t.Errorf("export on a terminal: no %q in %q", want, out)
		}
	}
	if strings.Contains(out, "300/300 messages,") {
		t.Errorf("export on a terminal printed the plain lines: %q", out)
	}

	cmd := imapkitCmd(t, append([]string{"export", url, "INBOX", "--to", filepath.Join(dir, "pipe.mbox")}, cf...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("export on a pipe: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "export INBOX: 300/300 messages, ") || strings.ContainsAny(stderr.String(), "\r\x1b") {
		t.Errorf("export on a pipe: stderr %q; want plain lines", stderr.String())
	}
}

// TestProgressBar draws the bar into a buffer taken for a terminal.
func TestProgressBar(t *testing.T) {
	old := isTerminal
	isTerminal = func(w any) bool { return true }
	defer func() { isTerminal = old }()
	var b bytes.Buffer
	p := newProgress(&b, false, "copy INBOX", 4)
	for range 4 {
		p.add(3 << 20)
	}
	p.done()
	for _, want := range []string{"copy INBOX", "4/4", "12.0 MiB", "msg/s", "100%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("bar: no %q in %q", want, b.String())
		}
	}
	b.Reset()
	q := newProgress(&b, true, "copy INBOX", 4)
	q.add(1)
	q.done()
	if b.Len() != 0 {
		t.Errorf("quiet progress wrote %q", b.String())
	}
}

// TestExportInterrupted stops an export in the middle of a batch (after
// 130 of 250 messages were written, 100 of them recorded) and checks the
// resumed export equals an uninterrupted one.
func TestExportInterrupted(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 250)
	_, url := urls(srv)
	dir := t.TempDir()
	for _, format := range []string{"mbox", "maildir"} {
		whole, stopped := filepath.Join(dir, "whole."+format), filepath.Join(dir, "stopped."+format)
		cli(t, "", 0, append([]string{"export", url, "INBOX", "--to", whole, "--format", format, "--quiet"}, cf...)...)
		n := 0
		setTestHook(t, func(step string) error {
			if step == "exported" {
				if n++; n == 130 {
					return errors.New("stopped by the test")
				}
			}
			return nil
		})
		cli(t, "", 3, append([]string{"export", url, "INBOX", "--to", stopped, "--format", format, "--quiet"}, cf...)...)
		setTestHook(t, nil)
		out, _ := cli(t, "", 0, append([]string{"export", url, "INBOX", "--to", stopped, "--format", format, "--quiet"}, cf...)...)
		if format == "mbox" {
			if !strings.Contains(out, "exported 150 messages") {
				t.Errorf("resumed mbox export: %q", out)
			}
			a, _ := os.ReadFile(whole)
			b, _ := os.ReadFile(stopped)
			if !bytes.Equal(a, b) {
				t.Errorf("the resumed mbox differs from the whole one (%d and %d bytes)", len(b), len(a))
			}
			continue
		}
		if !strings.Contains(out, "exported 120 messages") {
			t.Errorf("resumed Maildir export: %q", out)
		}
		a, _ := filepath.Glob(filepath.Join(whole, "cur", "*"))
		b, _ := filepath.Glob(filepath.Join(stopped, "cur", "*"))
		if len(a) != 250 || len(b) != 250 {
			t.Errorf("Maildirs hold %d and %d messages; want 250", len(a), len(b))
		}
		for i := range min(len(a), len(b)) {
			x, _ := os.ReadFile(a[i])
			y, _ := os.ReadFile(b[i])
			if filepath.Base(a[i]) != filepath.Base(b[i]) || !bytes.Equal(x, y) {
				t.Errorf("Maildir file %s differs from %s", b[i], a[i])
			}
		}
	}
	t.Cleanup(func() { setTestHook(t, nil) })
}
