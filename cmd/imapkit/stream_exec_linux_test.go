//go:build linux

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStreamCommandOutlivesImapkit: docs/cli.md (--stream, the
// example `--stream 'ssh mail.example.com /usr/lib/dovecot/imap'`) says
// that on Linux "the shell (or what it executed, such as ssh) is killed
// when imapkit dies without closing the connection (a second Ctrl-C, a
// SIGKILL)", and 90e23b0 was made for "a --stream child (ssh host
// /usr/lib/dovecot/imap on a stalled network) [that] went on running,
// reparented to init, after imapkit had exited". But the parent-death
// signal is set on the shell only, and /bin/sh (dash here) forks a simple
// command such as ssh instead of executing it: the shell dies, the
// command it runs lives on. TestSecondSignalNoTerminal passes
// only because its script ends in "exec sleep", which makes the shell
// itself the stalled process.
//
// Here the --stream command is one simple command, as ssh is: a script
// run by /bin/sh that speaks IMAP and stalls at SELECT (a stalled
// network: it does not end on end of file). imapkit is killed by its
// second SIGINT; the command must not outlive it.
func TestStreamCommandOutlivesImapkit(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	server := filepath.Join(dir, "fake-imapd")
	script := `echo $$ > '` + pidFile + `'
printf '* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n'
while IFS= read -r l; do
  tag=${l%% *}
  case "$l" in
  *SELECT*) exec sleep 120;;
  *) printf '%s OK done\r\n' "$tag";;
  esac
done
`
	if err := os.WriteFile(server, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	// One simple command, like "ssh host /usr/lib/dovecot/imap".
	secondSigintEndsStreamChild(t, "/bin/sh "+server, pidFile,
		"the --stream command, forked by the shell (reparented to init if only the shell got the parent-death signal),")
}

// TestExecSimple: which --stream commands are run with exec.
func TestExecSimple(t *testing.T) {
	for cmd, want := range map[string]bool{
		"ssh mail.example.com /usr/lib/dovecot/imap":              true,
		"  ssh -o 'ServerAliveInterval=5' host imapd 2>/dev/null": true,
		"/bin/sh fake-imapd":                           true,
		`"/usr/lib/dovecot/imap" -c /etc/dovecot.conf`: true,
		"cd /tmp; imapd":                               false,
		"ssh host imapd | tee log":                     false,
		"ssh host imapd &":                             false,
		"(ssh host imapd)":                             false,
		"ssh $(cat host) imapd":                        false,
		"ssh `cat host` imapd":                         false,
		"HOME=/x ssh host imapd":                       false,
		"exec ssh host imapd":                          false,
		"cd /tmp":                                      false,
		"ssh host\nimapd":                              false,
		"":                                             false,
		`ssh host 'imapd; true'`:                       false,
	} {
		if got := execSimple(cmd); got != want {
			t.Errorf("execSimple(%q) = %v, want %v", cmd, got, want)
		}
	}
}
