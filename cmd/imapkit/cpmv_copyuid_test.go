package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
)

// copyUIDNotSentServer is a scripted server with UIDPLUS (and MOVE when
// move is set) whose UID COPY and UID MOVE answer OK [COPYUID 7 1,3
// 10:11], whatever the set: UIDs not sent for a set of 5.
func copyUIDNotSentServer(t *testing.T, move bool) string {
	caps := "IMAP4rev1 UIDPLUS ESEARCH"
	if move {
		caps += " MOVE"
	}
	return serveTCP(t, func(c net.Conn) {
		defer c.Close()
		r := bufio.NewReader(c)
		io.WriteString(c, "* PREAUTH [CAPABILITY "+caps+"] fake\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				return
			}
			tag, cmd := f[0], strings.ToUpper(f[1])
			if cmd == "UID" && len(f) > 2 {
				cmd += " " + strings.ToUpper(f[2])
			}
			out := tag + " OK done\r\n"
			switch cmd {
			case "SELECT", "EXAMINE":
				out = "* 5 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 6] x\r\n" + tag + " OK [READ-WRITE] done\r\n"
			case "UID SEARCH":
				out = "* ESEARCH (TAG \"" + tag + "\") UID ALL 5\r\n" + tag + " OK done\r\n"
			case "UID COPY", "UID MOVE":
				out = tag + " OK [COPYUID 7 1,3 10:11] done\r\n"
			case "LOGOUT":
				io.WriteString(c, "* BYE bye\r\n"+tag+" OK done\r\n")
				return
			}
			if _, err := io.WriteString(c, out); err != nil {
				return
			}
		}
	})
}

// TestCpMvCopyUIDNotSentReported: "imapkit cp INBOX 5 Archive" (and mv,
// by MOVE or by the COPY fallback) answered [COPYUID 7 1,3 10:11], naming
// UIDs not sent: the server copied (moved) UID 5, it said, and the
// library returns a *commands.CopyUIDError with no result. cp and mv
// printed nothing on stdout (the error alone, on stderr): what was copied
// or moved, and what was left, must be said there and in --json, exit 1.
func TestCpMvCopyUIDNotSentReported(t *testing.T) {
	for _, c := range []struct {
		name, cmd string
		move      bool
		want      []string // lines of stdout
		left      string   // --json "left"
	}{
		{"cp", "cp", false, []string{"copied INBOX UID 5 to Archive, destination UID unknown"}, ""},
		{"cp MOVE server", "cp", true, []string{"copied INBOX UID 5 to Archive, destination UID unknown"}, ""},
		{"mv MOVE", "mv", true, []string{"moved INBOX UID 5 to Archive, destination UID unknown"}, ""},
		{"mv fallback", "mv", false, []string{"copied (the move did not finish) INBOX UID 5 to Archive, destination UID unknown", "left in INBOX UID 5 "}, "5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := copyUIDNotSentServer(t, c.move)
			args := []string{c.cmd, "imap://alice@" + addr, "INBOX", "5", "Archive", "--insecure-plaintext", "--timeout", "20s"}
			code, out, errs := runCLI(t, "", args...)
			t.Logf("exit %d\nstdout %s\nstderr %s", code, out, errs)
			if code != exitNo || !strings.Contains(errs, "not among those sent") {
				t.Errorf("%s: exit %d, stderr %q; want exit %d and the COPYUID's error", c.cmd, code, errs, exitNo)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s: stdout %q; want a line with %q", c.cmd, out, w)
				}
			}
			code, out, errs = runCLI(t, "", append(args, "--json")...)
			var j struct{ Unmapped, Left, Src string }
			if err := json.Unmarshal([]byte(out), &j); err != nil || code != exitNo || j.Unmapped != "5" || j.Left != c.left || j.Src != "" {
				t.Errorf("%s --json: exit %d, stdout %q (%v), stderr %q; want exit %d, \"unmapped\":\"5\", \"left\":%q, no \"src\"", c.cmd, code, out, err, errs, exitNo, c.left)
			}
		})
	}
}
