package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// copyPartsServer is a scripted server (PREAUTH, UIDPLUS, MOVE) for cp
// and mv of a set long enough to go in two parts: the first part's UID
// COPY or UID MOVE is answered OK [COPYUID 7 set 1000:...], the second
// OK with no COPYUID, as a server whose COPYUID went missing does (a UID
// MOVE's with its EXPUNGEs).
func copyPartsServer(t *testing.T) string {
	return preauthServer(t, "IMAP4rev1 UIDPLUS MOVE", func() scriptAnswer {
		parts := 0
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 4000 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 4001] x\r\n" + tag + " OK [READ-WRITE] done\r\n"
			case "UID COPY", "UID MOVE":
				if len(f) < 4 {
					break // no set: not a copy
				}
				set, err := codec.ParseSeqSet([]byte(f[3]))
				n, _ := set.Len()
				if err != nil || n == 0 {
					return tag + " BAD set\r\n"
				}
				if parts++; parts > 1 {
					// No COPYUID; a MOVE still sends its
					// EXPUNGEs (RFC 6851 section 3.3): without
					// them, it moved nothing.
					if cmd == "UID MOVE" {
						return strings.Repeat("* 1 EXPUNGE\r\n", int(n)) + tag + " OK done\r\n"
					}
					break
				}
				return fmt.Sprintf("%s OK [COPYUID 7 %s 1000:%d] done\r\n", tag, f[3], 1000+n-1)
			}
			return tag + " OK done\r\n"
		}
	})
}

// TestCpMvShowUnmapped: cp and mv printed the source UIDs the
// COPYUID mapped, and nothing of those copied or moved without a mapping
// (commands.CopyResult.Unmapped: a part of a long set whose answer had no
// COPYUID): the text line and --json read as if only the mapped UIDs had
// been copied, and a user could not tell which messages were copied
// without a known destination UID. Now the text adds a line naming them
// and --json has "unmapped".
func TestCpMvShowUnmapped(t *testing.T) {
	addr := copyPartsServer(t)
	var uids []string
	for i := 1; i < 4000; i += 2 {
		uids = append(uids, fmt.Sprint(i))
	}
	set := strings.Join(uids, ",") // about 9,900 bytes: two parts
	for _, c := range []struct{ cmd, verb string }{{"cp", "copied"}, {"mv", "moved"}} {
		args := []string{c.cmd, "imap://alice@" + addr, "INBOX", set, "Archive", "--insecure-plaintext", "--timeout", "20s"}
		out, errs := cli(t, "", 0, args...)
		t.Logf("%s: stdout %.300s\nstderr %s", c.cmd, out, errs)
		var j struct {
			Src, Dst, Unmapped string
		}
		jout, _ := cli(t, "", 0, append(args, "--json")...)
		if err := json.Unmarshal([]byte(jout), &j); err != nil {
			t.Fatalf("%s --json: %v: %.300s", c.cmd, err, jout)
		}
		src, _ := codec.ParseSeqSet([]byte(j.Src))
		unmapped, err := codec.ParseSeqSet([]byte(j.Unmapped))
		ns, _ := src.Len()
		nu, _ := unmapped.Len()
		if err != nil || ns == 0 || nu == 0 || ns+nu != 2000 || !strings.HasPrefix(j.Dst, "1000:") {
			t.Errorf("%s --json: src %d UIDs, unmapped %q (%d UIDs, %v), dst %q; want the 2000 UIDs between src and unmapped, both not empty", c.cmd, ns, j.Unmapped, nu, err, j.Dst)
		}
		if !strings.Contains(out, c.verb+" INBOX UID "+j.Src+" to Archive UID "+j.Dst) || !strings.Contains(out, j.Unmapped) || !strings.Contains(out, c.verb+" INBOX UID "+j.Unmapped+" to Archive, destination UID unknown") {
			t.Errorf("%s: stdout %.300s...; want the mapped UIDs and a line naming the unmapped ones (%.40s...)", c.cmd, out, j.Unmapped)
		}
	}
}
