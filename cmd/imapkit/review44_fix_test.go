//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
)

// TestReview44HImportTransientRefusalSkippedForever: a message holding a
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
func TestReview44HImportTransientRefusalSkippedForever(t *testing.T) {
	for _, refusal := range []string{"NO Server shutting down, try again later", "NO System I/O error", "NO [UNAVAILABLE] try later", "NO [SERVERBUG] oops"} {
		t.Run(refusal, func(t *testing.T) {
			fake := r43NNewDst("IMAP4rev1 LITERAL+ MULTIAPPEND BINARY", 0, false)
			fake.refuseNUL = refusal
			addr := fake.start(t)
			path, names := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, ""), r44ImportMsg(2, "nul"), r44ImportMsg(3, "")})
			args := []string{"import", "imap://alice@" + addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet", "--skip-unsendable"}
			code, out, errs := runCLI(t, "", args...)
			t.Logf("run 1 (server refusing %q): exit %d\nstdout: %s\nstderr: %s", refusal, code, out, errs)
			if code != exitNo || !strings.Contains(errs, "not appended") {
				t.Errorf("run 1, refused %q: exit %d, stderr %q; want 1 and the error naming the message", refusal, code, errs)
			}
			fake.refuseNUL = "" // the server is well again
			code, out, errs = runCLI(t, "", args...)
			t.Logf("run 2 (server well): exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			e := r44ImportState(t, path)
			if got := r43NIDs(fake); !strings.Contains(got, "<m2@r44>") || len(e.Skipped) != 0 {
				t.Errorf("after a transient refusal %q: the destination holds %q, state skipped %q; want %s imported by the second run, nothing recorded as unsendable", refusal, got, e.Skipped, names[1])
			}
		})
	}
}

// TestReview44HCopyTransientRefusalSkippedForever: copy's side of
// TestReview44HImportTransientRefusalSkippedForever (the same
// binaryRefusal): a NUL message, sent alone as literal8, refused "NO
// System I/O error" (no code: Cyrus's IMAP_IOERROR) was recorded skipped
// with --skip-unsendable, and a later run, the destination well, never
// copied it. Now the mailbox stops at it (exit 1) and the next run copies
// it.
func TestReview44HCopyTransientRefusalSkippedForever(t *testing.T) {
	fake := r43NNewDst("IMAP4rev1 LITERAL+ BINARY", 0, false)
	fake.refuseNUL = "NO System I/O error"
	addr := fake.start(t)
	state := t.TempDir()
	srcAddr := r43Source(t, []string{r43Body(1, false), r43Body(2, true), r43Body(3, false)})
	code, _, errs := r43Copy(t, srcAddr, &fake.r42FakeDst, addr, state, "--skip-unsendable")
	if code != exitNo || !strings.Contains(errs, "UID 2: not appended") {
		t.Errorf("run 1, refused \"NO System I/O error\": exit %d, stderr %q; want 1 and the error naming UID 2", code, errs)
	}
	fake.refuseNUL = "" // well again
	r43Copy(t, srcAddr, &fake.r42FakeDst, addr, state, "--skip-unsendable")
	box := r43Box(t, state)
	if got := r43NIDs(fake); !strings.Contains(got, "<u2@r43>") || len(box.Skipped) != 0 {
		t.Errorf("after a transient uncoded NO: the destination holds %q, state skipped %v; want u2 copied by the second run, nothing recorded as unsendable", got, box.Skipped)
	}
}

// TestReview44HBinaryRefusalWords: which refusals of a NUL message sent
// alone as literal8 binaryRefusal takes for the message's own (a
// permanent skip with --skip-unsendable).
func TestReview44HBinaryRefusalWords(t *testing.T) {
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
		fake := r43NNewDst("IMAP4rev1 LITERAL+ BINARY", 0, false)
		fake.refuseNUL = c.refusal
		addr := fake.start(t)
		state := t.TempDir()
		srcAddr := r43Source(t, []string{r43Body(1, true)})
		code, _, errs := r43Copy(t, srcAddr, &fake.r42FakeDst, addr, state, "--skip-unsendable")
		box := r43Box(t, state)
		skipped := box != nil && len(box.Skipped) == 1
		if skipped != c.skip || (c.skip && code != 0) || (!c.skip && code != exitNo) {
			t.Errorf("%q: exit %d, stderr %q, state %+v; want skipped %v", c.refusal, code, errs, box, c.skip)
		}
	}
}

// r44HNoCopyUIDServer is a scripted server (PREAUTH, capabilities caps)
// whose INBOX holds exists messages; every other command (UID COPY, UID
// MOVE) is answered OK, with no COPYUID.
func r44HNoCopyUIDServer(t *testing.T, exists int, caps string) string {
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
			out := tag + " OK done\r\n"
			switch cmd {
			case "SELECT", "EXAMINE":
				out = fmt.Sprintf("* %d EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT %d] x\r\n", exists, exists+1) + tag + " OK [READ-WRITE] done\r\n"
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

// TestReview44HCpMvEmptyResultSilent: cp or mv --seq 1:* of an empty
// mailbox sends nothing (the library's empty CopyResult, not nil); the
// text output printed the mapped line only when Src was not empty and
// the unmapped one only when Unmapped was not: with both empty, nothing
// at all, exit 0, where an empty set says "no message in the set". Now it
// says that.
func TestReview44HCpMvEmptyResultSilent(t *testing.T) {
	addr := r44HNoCopyUIDServer(t, 0, "IMAP4rev1 UIDPLUS MOVE")
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

// TestReview44HCpAllPartsUnmappedJSON: a UID set copied to a server with
// UIDPLUS, every part answered OK without COPYUID: every UID was copied
// with no destination UID known, which docs/cli.md says a line of its own
// and --json's "unmapped" list. Only when some other part had a COPYUID
// did they: with none (the library's nil result) "unmapped" was missing
// and the text line was the plain one, and a script reading "unmapped"
// found nothing unmapped where everything was. Now they are listed, in
// one part or two, for cp and mv; a --seq set (no UIDs to name) and a
// server without UIDPLUS (no COPYUID to miss) keep the plain line.
func TestReview44HCpAllPartsUnmappedJSON(t *testing.T) {
	addr := r44HNoCopyUIDServer(t, 4000, "IMAP4rev1 UIDPLUS MOVE")
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
	plain := r44HNoCopyUIDServer(t, 4000, "IMAP4rev1 MOVE")
	code, out, _ = runCLI(t, "", "cp", "imap://alice@"+plain, "INBOX", "4:7", "Archive", "--insecure-plaintext", "--timeout", "20s")
	if code != 0 || out != "copied INBOX 4:7 to Archive\n" {
		t.Errorf("cp to a server without UIDPLUS: exit %d, %q; want the plain line", code, out)
	}
}

// TestReview44HExitTableImportSkipUnsendable: docs/cli.md's exit status
// table said of a message over APPENDLIMIT "copy --skip-unsendable skips
// it instead, exit 0", and listed "a NUL" only under 2. import has
// --skip-unsendable too (exit 0), and an import's message holding a NUL
// for a server without BINARY exits 1 (errNeedsBinary): the table, where
// scripts look, said neither.
func TestReview44HExitTableImportSkipUnsendable(t *testing.T) {
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
