package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoTour runs the tour of make demo, short: every step succeeds and
// the message appended during IDLE shows up, then in the export. The idle
// ends once it has shown the new message; -idle (its --for) is only a
// bound against a hang. It lasted -idle on the wall clock before, 6 s here:
// with 1.5 s, at a load of 13 the new message's FETCH had not ended when
// --for did (a CI run: "the tour has no \"new: UID 6 ...\"").
func TestDemoTour(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "")
	setEnv(t, "IMAPKIT_URL", "")
	out, errs := cli(t, "", 0, "demo", "-messages", "5", "-idle", "1m")
	for _, want := range []string{
		"$ imapkit capability imap://alice@localhost:", "IDLE\n",
		"$ imapkit list ", "INBOX    5 ",
		"$ imapkit status ", "messages       5",
		"$ imapkit headers ", "UID  DATE", "\n5 ",
		"$ imapkit search ", "INBOX SUBJECT invoice\n1\n2\n",
		"$ imapkit fetch ", "\nSubject: ",
		"$ imapkit fetch ", "--parts", "application/pdf", "base64", "attachment", "invoice-",
		"$ imapkit idle ", "EXISTS 6", "new: UID 6 from demo@example.com: hello while you idle",
		"appended 111 bytes to INBOX: UID 6",
		"$ imapkit export ", "exported 6 messages",
		"$ imapkit export ", "exported 0 messages",
		"Tour done",
	} {
		i := strings.Index(out, want)
		if i < 0 {
			t.Fatalf("the tour has no %q (in order):\n%s\nstderr: %s", want, out, errs)
		}
		out = out[i+len(want):]
	}
	cli(t, "", 2, "demo", "-idle", "10ms")
}

// TestDemoTempDirErrorPrintable: demo's error when its temporary
// directory cannot be made ($TMPDIR a directory that is not there, its
// name holding an escape) is one line with the path by printable
// (errorLine): it was printed raw, the escape driving the terminal.
func TestDemoTempDirErrorPrintable(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "gone\x1b[2J")
	setEnv(t, "TMPDIR", tmp)
	_, errs := cli(t, "", 1, "demo", "-messages", "1")
	if strings.Contains(errs, "\x1b") || !strings.HasPrefix(errs, "imapkit demo: ") || !strings.Contains(errs, printable(tmp)+": no such file or directory") || strings.Count(errs, "\n") != 1 {
		t.Errorf("demo with $TMPDIR %q not there: stderr %q; want one line naming it by printable", tmp, errs)
	}
}
