//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
)

// noCopyUIDServer is a scripted server (PREAUTH, capabilities caps)
// whose INBOX holds exists messages; every other command (UID COPY, UID
// MOVE) is answered OK, with no COPYUID (a UID MOVE with the EXPUNGEs of
// its set, RFC 6851 section 3.3: without them it moved nothing); a UID
// SEARCH UID SET finds the UIDs of SET from 1 to exists.
func noCopyUIDServer(t *testing.T, exists int, caps string) string {
	return preauthServer(t, caps, func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			if cmd == "UID SEARCH" && len(f) == 5 && strings.EqualFold(f[3], "UID") {
				set, _ := codec.ParseSeqSet([]byte(f[4]))
				var b strings.Builder
				b.WriteString("* SEARCH")
				for u := 1; u <= exists; u++ {
					if set.Contains(uint32(u)) {
						fmt.Fprintf(&b, " %d", u)
					}
				}
				return b.String() + "\r\n" + tag + " OK done\r\n"
			}
			if cmd == "SELECT" || cmd == "EXAMINE" {
				return fmt.Sprintf("* %d EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT %d] x\r\n", exists, exists+1) + tag + " OK [READ-WRITE] done\r\n"
			}
			if cmd == "UID MOVE" && len(f) > 3 {
				set, _ := codec.ParseSeqSet([]byte(f[3]))
				n, _ := set.Len()
				return strings.Repeat("* 1 EXPUNGE\r\n", int(n)) + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
}

// TestCpMvEmptyResultSilent: cp or mv --seq 1:* of an empty
// mailbox sends nothing (the library's empty CopyResult, not nil); the
// text output printed the mapped line only when Src was not empty and
// the unmapped one only when Unmapped was not: with both empty, nothing
// at all, exit 0, where an empty set says "no message in the set". Now it
// says that.
func TestCpMvEmptyResultSilent(t *testing.T) {
	addr := noCopyUIDServer(t, 0, "IMAP4rev1 UIDPLUS MOVE")
	for _, cmd := range []string{"cp", "mv"} {
		code, out, errs := runCLI(t, "", cmd, "imap://alice@"+addr, "INBOX", "1:*", "Archive", "--seq", "--insecure-plaintext", "--timeout", "20s")
		t.Logf("%s: exit %d\nstdout: %q\nstderr: %q", cmd, code, out, errs)
		if code != 0 || out != "" || errs != "imapkit "+cmd+": no message in the set\n" {
			t.Errorf("%s --seq 1:* of an empty mailbox: exit %d, stdout %q, stderr %q; want 0 and \"no message in the set\"", cmd, code, out, errs)
		}
		code, out, _ = runCLI(t, "", cmd, "imap://alice@"+addr, "INBOX", "1:*", "Archive", "--seq", "--json", "--insecure-plaintext", "--timeout", "20s")
		var j map[string]any
		if err := json.Unmarshal([]byte(out), &j); code != 0 || err != nil || j["src"] != nil || j["unmapped"] != nil {
			t.Errorf("%s --json of an empty mailbox: exit %d, %q; want 0 and one object with no src nor unmapped", cmd, code, out)
		}
	}
}

// TestCpAllPartsUnmappedJSON: a UID set copied to a server with
// UIDPLUS, every part answered OK without COPYUID: every UID was copied
// with no destination UID known, which docs/cli.md says a line of its own
// and --json's "unmapped" list. Only when some other part had a COPYUID
// did they: with none (the library's nil result) "unmapped" was missing
// and the text line was the plain one, and a script reading "unmapped"
// found nothing unmapped where everything was. Now they are listed, in
// one part or two, for cp and mv; a --seq set (no UIDs to name) and a
// server without UIDPLUS (no COPYUID to miss) keep the plain line.
func TestCpAllPartsUnmappedJSON(t *testing.T) {
	addr := noCopyUIDServer(t, 4000, "IMAP4rev1 UIDPLUS MOVE")
	var uids []string
	for i := 1; i < 4000; i += 2 {
		uids = append(uids, fmt.Sprint(i))
	}
	long := strings.Join(uids, ",") // two parts
	for _, c := range []struct{ cmd, verb, set string }{
		{"cp", "copied", long}, {"mv", "moved", long}, {"cp", "copied", "4:7"}, {"mv", "moved", "4:7"},
	} {
		args := []string{c.cmd, "imap://alice@" + addr, "INBOX", c.set, "Archive", "--insecure-plaintext", "--timeout", "20s"}
		code, out, errs := runCLI(t, "", append(args, "--json")...)
		t.Logf("exit %d\nstdout: %.300s\nstderr: %s", code, out, errs)
		var j map[string]any
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("%s --json: %v", c.cmd, err)
		}
		if u, _ := j["unmapped"].(string); u == "" || u != j["set"] {
			t.Errorf("%s --json %.200s...: \"unmapped\" %.80q; want every UID of the set, %.40q..., no part having had a COPYUID", c.cmd, out, u, j["set"])
		}
		code, out, _ = runCLI(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, c.verb+" INBOX UID ") || !strings.Contains(out, " to Archive, destination UID unknown") || strings.Count(out, "\n") != 1 {
			t.Errorf("%s %.40s: exit %d, stdout %.200q; want one line naming the UIDs, destination UID unknown", c.cmd, c.set, code, out)
		}
	}
	// --seq: sequence numbers, not UIDs: the plain line, no "unmapped".
	code, out, _ := runCLI(t, "", "cp", "imap://alice@"+addr, "INBOX", "4:7", "Archive", "--seq", "--json", "--insecure-plaintext", "--timeout", "20s")
	if code != 0 || strings.Contains(out, "unmapped") {
		t.Errorf("cp --seq --json: exit %d, %q; want no \"unmapped\" (the set holds no UIDs)", code, out)
	}
	// No UIDPLUS: no COPYUID was to come; the plain line.
	plain := noCopyUIDServer(t, 4000, "IMAP4rev1 MOVE")
	code, out, _ = runCLI(t, "", "cp", "imap://alice@"+plain, "INBOX", "4:7", "Archive", "--insecure-plaintext", "--timeout", "20s")
	if code != 0 || out != "copied INBOX 4:7 to Archive\n" {
		t.Errorf("cp to a server without UIDPLUS: exit %d, %q; want the plain line", code, out)
	}
}

// TestMvInPartsDovecotNamesNoneNotMoved: against Dovecot (UIDPLUS,
// MOVE), an mv of a long set (several parts) of which only the first
// part's UIDs are in the mailbox: the moved part's COPYUID names what
// moved, the others are answered "OK No messages found." with no COPYUID.
// It prints the moved UIDs and their destination UIDs, exit 0, and no
// "not moved" line: that line names the parts of a move whose every
// answer lacked a COPYUID (a server without UIDPLUS, or one that left it
// out), where nothing else names what moved; a COPYUID does.
func TestMvInPartsDovecotNamesNoneNotMoved(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 5)
	_, url := urls(srv)
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Create(ctx, "Archive", nil); err != nil {
		t.Fatal(err)
	}
	uids := []string{"1:5"}
	for i := 11; i < 40000; i += 2 {
		uids = append(uids, fmt.Sprint(i))
	}
	args := append([]string{"mv", url, "INBOX", strings.Join(uids, ","), "Archive"}, cf...)
	out, errs := cli(t, "", 0, args...)
	if !strings.HasPrefix(out, "moved INBOX UID 1:5 to Archive UID ") || strings.Count(out, "\n") != 1 || strings.Contains(out, "not moved") {
		t.Errorf("mv in parts, the first part's UIDs there: stdout %.300q, stderr %q; want one line: the 5 moved, mapped", out, errs)
	}
	if got := mailOf(t, c, "Archive"); len(got) != 5 {
		t.Errorf("Archive holds %d messages after the mv; want 5", len(got))
	}
}
