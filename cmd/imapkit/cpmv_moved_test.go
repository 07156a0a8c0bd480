package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// moveAnswerServer is a scripted server (PREAUTH, 5 messages in INBOX)
// with the capabilities caps whose UID MOVE is answered with answer (the
// lines before the tagged one, then the tagged one's status and text).
func moveAnswerServer(t *testing.T, caps, lines, tagged string) string {
	return preauthServer(t, caps, func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 5 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 6] x\r\n" + tag + " OK [READ-WRITE] done\r\n"
			case "UID MOVE":
				return lines + tag + " " + tagged + "\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
}

// TestMvRefusedAfterMovingSome: a UID MOVE the server answers NO after it
// moved some messages (RFC 6851 section 3.3 lets a move fail part-way:
// their COPYUID and EXPUNGEs came first) says which moved, on stdout and
// in --json, beside the NO (exit 1). Before, only the NO was printed, as
// if nothing had moved: a user who ran mv again found the moved messages
// missing from the source and could not tell where they went.
func TestMvRefusedAfterMovingSome(t *testing.T) {
	// Waits on scripted servers over TCP.
	t.Parallel()
	moved := "* OK [COPYUID 7 1:2 100:101] moved\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"
	addr := moveAnswerServer(t, "IMAP4rev1 UIDPLUS MOVE", moved, "NO [OVERQUOTA] quota exceeded")
	args := []string{"mv", "imap://alice@" + addr, "INBOX", "1:4", "Archive", "--insecure-plaintext"}
	code, out, errs := runCLI(t, "", args...)
	if code != exitNo || !strings.Contains(out, "moved INBOX UID 1:2 to Archive UID 100:101") || !strings.Contains(errs, "quota exceeded") {
		t.Errorf("mv refused after moving UIDs 1:2: exit %d, stdout %q, stderr %q; want exit %d, UIDs 1:2 moved to 100:101, and the NO", code, out, errs, exitNo)
	}
	code, out, errs = runCLI(t, "", append(args, "--json")...)
	var j struct{ Src, Dst string }
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != exitNo || j.Src != "1:2" || j.Dst != "100:101" {
		t.Errorf("mv --json refused after moving UIDs 1:2: exit %d, stdout %q (%v), stderr %q; want exit %d and src 1:2, dst 100:101", code, out, err, errs, exitNo)
	}

	// Without UIDPLUS: no COPYUID, only the EXPUNGEs say how many moved.
	addr = moveAnswerServer(t, "IMAP4rev1 MOVE", "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n", "NO [OVERQUOTA] quota exceeded")
	args = []string{"mv", "imap://alice@" + addr, "INBOX", "1:4", "Archive", "--insecure-plaintext"}
	code, out, errs = runCLI(t, "", args...)
	if code != exitNo || !strings.Contains(out, "moved 2 messages of INBOX UID 1:4 to Archive") {
		t.Errorf("mv refused after 2 EXPUNGEs: exit %d, stdout %q, stderr %q; want exit %d and 2 messages moved", code, out, errs, exitNo)
	}
	code, out, errs = runCLI(t, "", append(args, "--json")...)
	var k struct {
		Removed int `json:"removed_count"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || code != exitNo || k.Removed != 2 {
		t.Errorf("mv --json refused after 2 EXPUNGEs: exit %d, stdout %q (%v), stderr %q; want exit %d and \"removed_count\": 2", code, out, err, errs, exitNo)
	}
}

// TestMvOKWithNothingNotMoved: a UID MOVE answered OK with no COPYUID,
// EXPUNGE or VANISHED moved nothing (the UIDs were not there: Dovecot's
// "OK No messages found."): mv says so and exits 1, as fetch of a UID
// that does not exist does; --json names no UID moved. Before, it
// printed "moved INBOX UID 9 to Archive, destination UID unknown" (and
// --json "unmapped": "9") and exited 0. A COPYUID alone still says
// moved: the EXPUNGEs of a MOVE may go to another command pipelined
// beside it (an IDLE's polling NOOP), the COPYUID never.
func TestMvOKWithNothingNotMoved(t *testing.T) {
	// Waits on scripted servers over TCP.
	t.Parallel()
	addr := moveAnswerServer(t, "IMAP4rev1 UIDPLUS MOVE", "", "OK No messages found.")
	args := []string{"mv", "imap://alice@" + addr, "INBOX", "9", "Archive", "--insecure-plaintext"}
	code, out, errs := runCLI(t, "", args...)
	if code != exitNo || out != "" || !strings.Contains(errs, "nothing moved: no message of UID 9 is in INBOX") {
		t.Errorf("mv answered OK with nothing: exit %d, stdout %q, stderr %q; want exit %d, nothing on stdout, and nothing moved said", code, out, errs, exitNo)
	}
	code, out, errs = runCLI(t, "", append(args, "--json")...)
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != exitNo || j["unmapped"] != nil || j["src"] != nil {
		t.Errorf("mv --json answered OK with nothing: exit %d, stdout %q (%v), stderr %q; want exit %d and no UID said moved", code, out, err, errs, exitNo)
	}
	// Without UIDPLUS either: no EXPUNGE, nothing moved.
	addr = moveAnswerServer(t, "IMAP4rev1 MOVE", "", "OK done")
	code, out, errs = runCLI(t, "", "mv", "imap://alice@"+addr, "INBOX", "9", "Archive", "--insecure-plaintext")
	if code != exitNo || strings.Contains(out, "moved") {
		t.Errorf("mv answered OK with nothing, no UIDPLUS: exit %d, stdout %q, stderr %q; want exit %d and nothing said moved", code, out, errs, exitNo)
	}
	// A COPYUID and its EXPUNGE: moved, exit 0.
	addr = moveAnswerServer(t, "IMAP4rev1 UIDPLUS MOVE", "* OK [COPYUID 7 1 100] moved\r\n* 1 EXPUNGE\r\n", "OK done")
	code, out, errs = runCLI(t, "", "mv", "imap://alice@"+addr, "INBOX", "1:4", "Archive", "--insecure-plaintext")
	if code != 0 || !strings.Contains(out, "moved INBOX UID 1 to Archive UID 100") {
		t.Errorf("mv of 1:4 moving UID 1: exit %d, stdout %q, stderr %q; want 0 and UID 1 moved", code, out, errs)
	}
}

// TestMvWithoutUIDPLUSSaysSo: an mv to a server without UIDPLUS, which
// never sends COPYUID, says what happened in those words: moved, the
// destination UIDs unknown because the server lacks UIDPLUS, exit 0 (and
// --json lists the UIDs moved as "unmapped"); the parts answered OK with
// nothing to say they moved (no EXPUNGE) are named on a line of their own
// ("not moved", --json "not_moved": with "unmapped", the whole set; until
// stop 62 they were named nowhere, as if never asked for); refused after moving some,
// exit 1, how many moved and why which is unknown. Before, it said "the
// server's COPYUID for them was missing or unusable" and "it sent no
// COPYUID", as if the server had left out what it never sends. (Scripted:
// Dovecot always has UIDPLUS.) A server with UIDPLUS keeps the words
// "missing or unusable".
func TestMvWithoutUIDPLUSSaysSo(t *testing.T) {
	// Waits on scripted servers over TCP.
	t.Parallel()
	var uids []string
	for i := 1; i < 40000; i += 2 {
		uids = append(uids, fmt.Sprint(i))
	}
	long := strings.Join(uids, ",") // two parts or more
	// The first part moved (an EXPUNGE), the others nothing; the part
	// refuse (from 1; 0: none) answered NO.
	partsServer := func(caps string, refuse int) string {
		return preauthServer(t, caps, func() scriptAnswer {
			n := 0
			return func(tag, cmd string, f []string) string {
				switch cmd {
				case "SELECT", "EXAMINE":
					return "* 50000 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 60000] x\r\n" + tag + " OK [READ-WRITE] done\r\n"
				case "UID MOVE":
					if n++; n == 1 {
						return "* 1 EXPUNGE\r\n" + tag + " OK done\r\n"
					} else if n == refuse {
						return tag + " NO refused\r\n"
					}
				}
				return tag + " OK done\r\n"
			}
		})
	}
	const lacks = "destination UID unknown (the server lacks UIDPLUS, whose COPYUID would name them)\n"
	args := []string{"mv", "imap://alice@" + partsServer("IMAP4rev1 MOVE", 0), "INBOX", long, "Archive", "--insecure-plaintext"}
	const notMoved = " (the server answered their parts OK with no EXPUNGE or VANISHED (and no COPYUID: the server lacks UIDPLUS): they are not in INBOX)\n"
	code, out, errs := runCLI(t, "", args...)
	moved, rest, _ := strings.Cut(out, "\n")
	if code != exitOK || !strings.HasPrefix(moved, "moved INBOX UID 1,3,") || !strings.HasSuffix(moved+"\n", " to Archive, "+lacks) || strings.Contains(out, "missing") {
		t.Errorf("mv in parts without UIDPLUS: exit %d, stdout %.80q...%q, stderr %q; want %d and first: moved, %q", code, out, out[max(0, len(out)-120):], errs, exitOK, lacks)
	}
	if !strings.HasPrefix(rest, "not moved: INBOX UID ") || !strings.HasSuffix(rest, notMoved) || strings.Count(rest, "\n") != 1 {
		t.Errorf("mv in parts without UIDPLUS, parts that moved nothing: stdout after the first line %.80q...%q; want one line naming them: \"not moved: INBOX UID ...%s\"", rest, rest[max(0, len(rest)-160):], notMoved)
	}
	code, out, errs = runCLI(t, "", append(args, "--json")...)
	var j struct {
		Unmapped string
		NotMoved string `json:"not_moved"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != exitOK || !strings.HasPrefix(j.Unmapped, "1,3,") {
		t.Errorf("mv --json in parts without UIDPLUS: exit %d, stdout %.200q (%v), stderr %q; want %d and the UIDs moved as \"unmapped\"", code, out, err, errs, exitOK)
	}
	if set, err := codec.ParseSeqSet([]byte(j.NotMoved)); err != nil || set.IsEmpty() || !strings.Contains(rest, " UID "+j.NotMoved+" ") {
		t.Errorf("mv --json in parts without UIDPLUS: \"not_moved\" %.80q (%v); want the UIDs of the parts that moved nothing, as the line names them", j.NotMoved, err)
	} else {
		all, _ := codec.ParseSeqSet([]byte(j.Unmapped))
		if set.Overlaps(all) {
			t.Errorf("mv --json in parts without UIDPLUS: \"not_moved\" and \"unmapped\" share UIDs")
		}
		all.AddRanges(set.Ranges()...)
		if all.String() != long {
			t.Errorf("mv --json in parts without UIDPLUS: \"unmapped\" and \"not_moved\" together %.80q...; want the set", all.String())
		}
	}
	// Stopped at the third part: the second, answered OK with no
	// EXPUNGE, moved nothing; the rest was not sent (the error says so).
	stopped := append([]string{}, args...)
	stopped[1] = "imap://alice@" + partsServer("IMAP4rev1 MOVE", 3)
	code, out, errs = runCLI(t, "", append(stopped, "--json")...)
	j.Unmapped, j.NotMoved = "", ""
	if err := json.Unmarshal([]byte(out), &j); err != nil || code == exitOK || !strings.HasPrefix(j.Unmapped, "1,3,") {
		t.Errorf("mv --json in parts without UIDPLUS, stopped at the third: exit %d, stdout %.200q (%v), stderr %q; want an error and the UIDs moved as \"unmapped\"", code, out, err, errs)
	} else {
		// The parts are sent one after the other, each answered:
		// the third's refused (neither moved nor "not moved"),
		// the others' OK with nothing moved ("not_moved").
		moved, _ := codec.ParseSeqSet([]byte(j.Unmapped))
		not, err := codec.ParseSeqSet([]byte(j.NotMoved))
		all, _ := codec.ParseSeqSet([]byte(long))
		refused := all.Clone()
		refused.Remove(moved)
		refused.Remove(not)
		nr, _ := refused.Len()
		if err != nil || not.IsEmpty() || not.Overlaps(moved) || nr == 0 || refused.Ranges()[0].Start <= moved.Ranges()[len(moved.Ranges())-1].Stop {
			t.Errorf("mv --json in parts without UIDPLUS, stopped at the third: \"not_moved\" %.80q (%v), \"unmapped\" %.80q; want the parts answered OK with nothing moved, the refused part in neither (%d UIDs left: %.80q)", j.NotMoved, err, j.Unmapped, nr, refused.String())
		}
	}
	args[1] = "imap://alice@" + partsServer("IMAP4rev1 MOVE UIDPLUS", 0)
	if code, out, errs := runCLI(t, "", args...); code != exitOK || !strings.Contains(out, "destination UID unknown (the server's COPYUID for them was missing or unusable)\nnot moved: INBOX UID ") || !strings.HasSuffix(out, " (the server answered their parts OK with no COPYUID, EXPUNGE or VANISHED: they are not in INBOX)\n") {
		t.Errorf("mv in parts with UIDPLUS, no COPYUID: exit %d, stdout ...%q, stderr %q; want %d, the COPYUID said missing, the parts that moved nothing named", code, out[max(0, len(out)-240):], errs, exitOK)
	}

	addr := moveAnswerServer(t, "IMAP4rev1 MOVE", "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n", "NO [OVERQUOTA] quota exceeded")
	code, out, errs = runCLI(t, "", "mv", "imap://alice@"+addr, "INBOX", "1:4", "Archive", "--insecure-plaintext")
	if want := "moved 2 messages of INBOX UID 1:4 to Archive before the server refused the rest (which ones is unknown: the server lacks UIDPLUS, whose COPYUID would name them)\n"; code != exitNo || out != want {
		t.Errorf("mv without UIDPLUS refused after 2 EXPUNGEs: exit %d, stdout %q, stderr %q; want %d and %q", code, out, errs, exitNo, want)
	}
}
