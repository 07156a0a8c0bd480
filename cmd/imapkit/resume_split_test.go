//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The look for a pending group's messages (appender.look, lookAnswer) when
// the destination splits a message's RFC822.SIZE and INTERNALDATE over
// several FETCH responses: interleaved with another message's, or with
// the UID left off a part; and the UID floor when the last message's UID
// is not told (uidFloor). On countDst, whose STATUS gives no UIDNEXT.

// splitResume runs import of two messages to a countDst with MULTIAPPEND
// (a pending group of two), stopped after the group landed (its answer
// not recorded); from then on the destination splits each message's size
// and date over two responses, which rewrite (when not nil) rewrites.
// With other, the mailbox holds another client's message before the
// group (UID 1; the group's are 2 and 3); with older, the pending record
// is made an older imapkit's (no UID floor: the group is looked for by
// sequence number, confirmSeq). It returns the second run's exit code and
// stderr, the APPENDs in all, and the sizes the mailbox holds.
func splitResume(t *testing.T, other, older bool, rewrite func(cmd string, lines []string) []string) (code int, errs string, appends int, sizes []int) {
	t.Helper()
	f := &countDst{caps: "IMAP4rev1 LITERAL+ MULTIAPPEND"}
	if other {
		f.deliver()
	}
	addr := f.start(t)
	path, _ := importSource(t, "maildir", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	countStopAt(t, "appended", 1, func() { f.mu.Lock(); f.split, f.rewrite = true, rewrite; f.mu.Unlock() })
	code, errs = resumed(t, expungeImport, addr, path, older)
	appends, sizes = f.state()
	return code, errs, appends, sizes
}

// interleaved answers each message's size first, then each one's date:
// "* 1 FETCH (UID 1 RFC822.SIZE ..)", "* 2 FETCH (UID 2 RFC822.SIZE ..)",
// "* 1 FETCH (UID 1 INTERNALDATE ..)", "* 2 FETCH (UID 2 INTERNALDATE ..)".
func interleaved(_ string, lines []string) []string {
	var sizes, rest []string
	for _, l := range lines {
		if strings.Contains(l, "RFC822.SIZE") {
			sizes = append(sizes, l)
		} else {
			rest = append(rest, l)
		}
	}
	return append(sizes, rest...)
}

var uidItem = regexp.MustCompile(`UID \d+ `)

// noUIDOn returns a rewrite that leaves the UID off the responses of a
// UID FETCH telling item (RFC822.SIZE or INTERNALDATE).
func noUIDOn(item string) func(cmd string, lines []string) []string {
	return func(cmd string, lines []string) []string {
		if cmd != "UID FETCH" {
			return lines
		}
		out := make([]string, len(lines))
		for i, l := range lines {
			if strings.Contains(l, item) {
				l = uidItem.ReplaceAllString(l, "")
			}
			out[i] = l
		}
		return out
	}
}

// TestImportPendingSplitInterleaved (found by review): a group of two
// lands (its answer not recorded); run 2's FETCH answers each message's
// size and date in two responses with the other message's between them.
// Joined only when back to back, neither message was told whole: by UID
// (confirmOpen) the group was "not among all that arrived" and sent
// again, a duplicate said nowhere; by sequence number (an older record,
// confirmSeq) the count moved and it could not tell. Now parts are
// joined by message wherever they come (lookAnswer): found, not sent
// again.
func TestImportPendingSplitInterleaved(t *testing.T) {
	t.Parallel()
	for _, older := range []bool{false, true} {
		t.Run(fmt.Sprintf("older=%v", older), func(t *testing.T) {
			code, errs, appends, sizes := splitResume(t, false, older, interleaved)
			if code != exitOK || appends != 1 {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 1 APPEND (the group found across interleaved responses)\nstderr: %s", code, appends, sizes, errs)
			}
		})
	}
}

// TestImportPendingSplitNoUID (found by review): as above, the parts back
// to back, but the server leaves the UID off one of each message's two
// responses to the UID FETCH (RFC 3501 requires it in each; a quirk). The
// part without it was dropped (asked by UID), its size or date lost: the
// group that landed was "not among all that arrived" and sent again, a
// duplicate said nowhere. Now it is tied to the UID its sequence number's
// other response tells: found.
func TestImportPendingSplitNoUID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		rewrite func(cmd string, lines []string) []string
	}{
		{"date", noUIDOn("INTERNALDATE")},
		{"size", noUIDOn("RFC822.SIZE")},
		{"interleaved", func(cmd string, lines []string) []string {
			return interleaved(cmd, noUIDOn("INTERNALDATE")(cmd, lines))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, errs, appends, sizes := splitResume(t, false, false, c.rewrite)
			if code != exitOK || appends != 1 {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 1 APPEND (the group found, the part without a UID tied by its sequence number)\nstderr: %s", code, appends, sizes, errs)
			}
		})
	}
}

// TestImportPendingSplitNoUIDUntied (found by review): a part without its
// UID that no response ties to one: of a sequence number no other
// response names, or told after another client's EXPUNGE amid the answer
// renumbered the messages (its number may be another message's now).
// Dropped, the group was "not among all that arrived" and sent again (a
// duplicate, unsaid); tied by the numbers as they were before the
// EXPUNGE, another message's date would be taken for the group's. Now it
// cannot tell: exit 1, nothing sent, the advice given. The mailbox holds
// another client's message at UID 1 (sequence number 1); the group's are
// UIDs 2 and 3, the UID FETCH asks 2:3, answered split (lines: 2's size,
// 2's date, 3's size, 3's date).
func TestImportPendingSplitNoUIDUntied(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		rewrite func(l []string) []string
		says    string
	}{
		// 2's date as message 1's, without a UID: no response tells
		// message 1's UID.
		{"unnamed", func(l []string) []string {
			return []string{l[0], strings.Replace(uidItem.ReplaceAllString(l[1], ""), "* 2 FETCH", "* 1 FETCH", 1), l[2], l[3]}
		}, "without its UID"},
		// 2's date without a UID, after "* 1 EXPUNGE": message 2 is
		// UID 3 then, not UID 2, which its number told before.
		{"expunge", func(l []string) []string {
			return []string{l[0], l[2], l[3], "* 1 EXPUNGE", uidItem.ReplaceAllString(l[1], "")}
		}, "without its UID"},
		// A hostile answer: parts without a UID for more sequence
		// numbers than messages asked for (2 + confirmSlack): not
		// held without bound.
		{"flood", func(l []string) []string {
			for i := range confirmSlack + 3 {
				l = append(l, fmt.Sprintf(`* %d FETCH (RFC822.SIZE 5)`, 10+i))
			}
			return l
		}, "more than the 202 messages asked for"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, errs, appends, sizes := splitResume(t, true, false, func(cmd string, lines []string) []string {
				if cmd != "UID FETCH" || len(lines) != 4 {
					return lines
				}
				return c.rewrite(lines)
			})
			if code != 1 || appends != 1 || !strings.Contains(errs, errPendingUnknown.Error()) || !strings.Contains(errs, c.says) ||
				!strings.Contains(errs, ".destinations[") {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 1, 1 APPEND (cannot tell, with the advice)\nstderr: %s", code, appends, sizes, errs)
			}
		})
	}
}

// TestImportLastUIDUntoldNoFloor (found by review): a destination whose
// STATUS gives no UIDNEXT answers the FETCH of the last message's UID
// without it. The run stopped before sending anything, at every run;
// now the group is recorded without a UID floor (as when that FETCH is
// refused) and sent, and a run stopped before or after the group landed
// is told by the message count and the messages past it (confirmSeq).
func TestImportLastUIDUntoldNoFloor(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"pending", "appended"} {
		t.Run(step, func(t *testing.T) {
			f := &countDst{caps: "IMAP4rev1 LITERAL+", noSeqUID: true}
			f.deliver() // another client's: a last message to ask the UID of
			addr := f.start(t)
			msg := importSourceMsg(1, "")
			path, _ := importSource(t, "maildir", []string{msg})
			countStopAt(t, step, 1, func() {})
			code, errs := resumed(t, countImport, addr, path, false)
			appends, sizes := f.state()
			if want := fmt.Sprint([]int{7, len(msg)}); code != exitOK || appends != 1 || fmt.Sprint(sizes) != want {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 1 APPEND, %s\nstderr: %s", code, appends, sizes, want, errs)
			}
		})
	}
}

// TestImportPendingSplitItemNeverTold (found by review): a group of two
// lands (its answer not recorded); run 2's FETCH splits each message's
// items over two responses but never sends the second message's (UID 2)
// INTERNALDATE, or its RFC822.SIZE, or tells only its flags. The message
// was held half told (lookAnswer kept a message that told a size or a
// date; one that told only its flags was passed over), did not match (a
// missing date is the zero time, a missing size 0), and the group, which
// is in the mailbox, was "not among all that arrived": sent again, exit
// 0, a duplicate said nowhere. A message of the window whose answer
// leaves out an item the record looks for may be the group's: now it
// cannot tell (exit 1, the advice), never "not landed".
func TestImportPendingSplitItemNeverTold(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, drop, add string }{
		{"INTERNALDATE", "* 2 FETCH (UID 2 INTERNALDATE", ""},
		{"RFC822.SIZE", "* 2 FETCH (UID 2 RFC822.SIZE", ""},
		{"RFC822.SIZE nor INTERNALDATE (flags only)", "* 2 FETCH (UID 2 ", `* 2 FETCH (UID 2 FLAGS (\Seen))`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, errs, appends, sizes := splitResume(t, false, false, func(cmd string, lines []string) []string {
				if cmd != "UID FETCH" {
					return lines
				}
				var out []string
				for _, l := range lines {
					if !strings.HasPrefix(l, c.drop) {
						out = append(out, l)
					}
				}
				if c.add != "" {
					out = append(out, c.add)
				}
				return out
			})
			if code != 1 || appends != 1 || !strings.Contains(errs, errPendingUnknown.Error()) || !strings.Contains(errs, "UID 2 told no "+strings.TrimSuffix(c.name, " (flags only)")) ||
				!strings.Contains(errs, ".destinations[") {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 1, 1 APPEND (cannot tell: UID 2 told no %s; the advice)\nstderr: %s", code, appends, sizes, c.name, errs)
			}
		})
	}
}

// TestImportPendingSeqExpungeAmid (found by review; hostile input: RFC
// 3501 7.4.1 forbids an EXPUNGE amid a FETCH by sequence numbers, but
// nothing checks it): on confirmSeq's path (an older record, or one
// without a UID floor) a message's split parts are joined by sequence
// number alone, and lookAnswer checked session.Renumbered only for the
// UID-less parts of the UID paths. A group of one is recorded and never
// sent; another client delivers X (of the group's size, another date)
// and Y (another size, the group's date); run 2's FETCH 2:3 is answered
// split, with another client's message 1 expunged amid it: 2's (X's)
// size, "* 1 EXPUNGE", the new 2's (Y's) date and size, the new 1's (X's)
// date. X's size and Y's date were joined under number 2 and taken for
// the group, which was never sent: exit 0, no APPEND, a loss. The client
// saw the renumbering: now it cannot tell (exit 1, the advice).
func TestImportPendingSeqExpungeAmid(t *testing.T) {
	t.Parallel()
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	f.deliver() // m0, another client's, UID 1
	addr := f.start(t)
	path, _ := importSource(t, "maildir", []string{importSourceMsg(1, "")})
	countStopAt(t, "pending", 1, func() {
		// The group is recorded, not sent. Another client delivers X
		// (of the group's size, another date) and Y (another size, the
		// group's date).
		b, err := os.ReadFile(importStatePath(path))
		if err != nil {
			t.Error(err)
			return
		}
		var st struct {
			Destinations map[string]struct {
				Pending *struct {
					Messages []struct {
						Size int64 `json:"size"`
						Date int64 `json:"date"`
					} `json:"messages"`
				} `json:"pending"`
			} `json:"destinations"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Error(err)
			return
		}
		var size, date int64
		for _, e := range st.Destinations {
			if e.Pending != nil && len(e.Pending.Messages) == 1 {
				size, date = e.Pending.Messages[0].Size, e.Pending.Messages[0].Date
			}
		}
		if size == 0 || date == 0 {
			t.Errorf("no pending message with a size and date in %s", b)
			return
		}
		f.mu.Lock()
		f.add(int(size), `"01-Mar-2020 00:00:00 +0000"`)
		f.add(7, `"`+time.Unix(date, 0).UTC().Format("02-Jan-2006 15:04:05 -0700")+`"`)
		f.noSeqUID = true // FETCH by sequence numbers answered without UIDs
		f.rewrite = func(cmd string, lines []string) []string {
			// FETCH 2:3, answered split: 2's size, then m0 expunged
			// (3 is 2 now), then the new 2's (Y's) date and size,
			// then the new 1's (X's) date.
			if cmd != "FETCH" || len(lines) != 2 || !strings.HasPrefix(lines[0], "* 2 FETCH") {
				return lines
			}
			x, y := f.msgs[1], f.msgs[2]
			f.msgs = f.msgs[1:] // m0 expunged (f.mu is held)
			f.rewrite = nil
			return []string{
				fmt.Sprintf("* 2 FETCH (RFC822.SIZE %d)", x.size),
				"* 1 EXPUNGE",
				fmt.Sprintf("* 2 FETCH (INTERNALDATE %s)", y.date),
				fmt.Sprintf("* 2 FETCH (RFC822.SIZE %d)", y.size),
				fmt.Sprintf("* 1 FETCH (INTERNALDATE %s)", x.date),
			}
		}
		f.mu.Unlock()
	})
	code, errs := resumed(t, countImport, addr, path, true)
	appends, sizes := f.state()
	if code != 1 || appends != 0 || !strings.Contains(errs, errPendingUnknown.Error()) || !strings.Contains(errs, "renumbered") ||
		!strings.Contains(errs, ".destinations[") {
		t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 1, no APPEND (cannot tell: renumbered amid the FETCH; the advice): X's size and Y's date joined across the EXPUNGE were taken for the message, never sent\nstderr: %s", code, appends, sizes, errs)
	}
}
