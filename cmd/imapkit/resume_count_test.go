//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// countDst is a scripted destination whose STATUS and SELECT give no
// UIDNEXT (the codec names servers that send none; no real server the
// tests start does): a pending group is then recorded at a UID floor
// (uidFloor) and looked for by UID (confirmOpen), or, recorded by an
// older imapkit, by the message count and its messages (confirmSeq). It
// keeps each message's size and INTERNALDATE (as the APPEND gave it) and
// answers EXAMINE, FETCH of sequence numbers and UID FETCH. Knobs:
// appendUID answers APPEND with APPENDUID (UIDPLUS); flagsFirst sends,
// before each message's FETCH response, one of its UID and flags alone
// (another client's flag change, RFC 3501 7.4.2, with the UID that a UID
// FETCH's responses carry: commands.Fetch yields it as a Message of its
// own); noMessages: STATUS gives UIDVALIDITY alone; split answers each
// message's RFC822.SIZE and INTERNALDATE in two responses (RFC 3501
// 7.4.2 lets a server split a message's items so); refuseExamine
// answers EXAMINE with NO; noSeqUID answers a FETCH of sequence numbers
// without UIDs; rewrite, when set, rewrites the untagged responses of the
// answer to a FETCH or a UID FETCH (cmd) before they are sent.
type countDst struct {
	caps          string
	appendUID     bool
	flagsFirst    bool
	noMessages    bool
	split         bool
	refuseExamine bool
	noSeqUID      bool
	rewrite       func(cmd string, lines []string) []string

	mu      sync.Mutex
	msgs    []countMsg
	uid     uint32 // the last UID given
	appends int
}

type countMsg struct {
	uid  uint32
	size int
	date string // as INTERNALDATE, quoted
}

// countAppended reads an APPEND's messages (readAppend) as the count
// destinations store them: a message the line dates nothing is dated on
// arrival, 01-Jan-2000.
func countAppended(c *hostile.Conn, cmd *hostile.Command) ([]countMsg, error) {
	msgs, err := readAppend(c, cmd)
	if err != nil {
		return nil, err
	}
	got := make([]countMsg, len(msgs))
	for i, m := range msgs {
		date := `"01-Jan-2000 00:00:00 +0000"`
		if m.date != "" {
			date = `"` + m.date + `"`
		}
		got[i] = countMsg{size: int(m.size), date: date}
	}
	return got, nil
}

// add adds a message of size bytes (another client's delivery when
// called by a test).
func (f *countDst) add(size int, date string) {
	f.uid++
	f.msgs = append(f.msgs, countMsg{f.uid, size, date})
}

// deliver adds another client's message, of a size and date of its own.
func (f *countDst) deliver() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.add(7, `"01-Feb-2020 00:00:00 +0000"`)
}

// expunge removes the i-th message (0-based): another client's expunge.
func (f *countDst) expunge(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs[:i:i], f.msgs[i+1:]...)
}

func (f *countDst) state() (appends int, sizes []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		sizes = append(sizes, m.size)
	}
	return f.appends, sizes
}

func (f *countDst) start(t *testing.T) string {
	t.Helper()
	srv, err := hostile.Listen(f.serve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

func (f *countDst) serve(c *hostile.Conn) error {
	if err := c.Greet(f.caps); err != nil {
		return err
	}
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		ok := cmd.Tag + " OK done"
		f.mu.Lock()
		n := len(f.msgs)
		f.mu.Unlock()
		switch cmd.Name {
		case "LOGIN", "CLOSE", "UNSELECT":
			err = c.Line(ok)
		case "CAPABILITY":
			err = c.Lines("* CAPABILITY "+f.caps, ok)
		case "NAMESPACE":
			err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
		case "LIST":
			err = c.Lines(`* LIST () "/" INBOX`, ok)
		case "STATUS":
			if f.noMessages {
				err = c.Lines("* STATUS INBOX (UIDVALIDITY 9)", ok)
				break
			}
			err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDVALIDITY 9 MESSAGES %d)", n), ok)
		case "EXAMINE", "SELECT":
			f.mu.Lock()
			refuse := f.refuseExamine
			f.mu.Unlock()
			if refuse {
				err = c.Line(cmd.Tag + " NO [UNAVAILABLE] not now")
				break
			}
			err = c.Lines(fmt.Sprintf("* %d EXISTS", n), "* OK [UIDVALIDITY 9] x", cmd.Tag+" OK [READ-ONLY] done")
		case "FETCH":
			from, to, perr := countSet(strings.Fields(cmd.Args)[0], n)
			if perr != nil {
				err = c.Line(cmd.Tag + " BAD " + perr.Error())
				break
			}
			var lines []string
			f.mu.Lock()
			for i := from; i <= to && i <= len(f.msgs); i++ {
				m := f.msgs[i-1]
				if f.noSeqUID {
					lines = append(lines, fmt.Sprintf("* %d FETCH (RFC822.SIZE %d INTERNALDATE %s)", i, m.size, m.date))
					continue
				}
				lines = append(lines, f.fetchLines(i, m)...)
			}
			if f.rewrite != nil {
				lines = f.rewrite(cmd.Name, lines)
			}
			f.mu.Unlock()
			err = c.Lines(append(lines, ok)...)
		case "UID FETCH":
			a, b, _ := strings.Cut(strings.Fields(cmd.Args)[0], ":")
			lo, _ := strconv.Atoi(a)
			hi := int64(lo)
			if b == "*" {
				hi = 1 << 32
			} else if b != "" {
				n, _ := strconv.Atoi(b)
				hi = int64(n)
			}
			var lines []string
			f.mu.Lock()
			for i, m := range f.msgs {
				// n:* holds the last message whatever its UID.
				if int(m.uid) >= lo && int64(m.uid) <= hi || b == "*" && i == len(f.msgs)-1 {
					lines = append(lines, f.fetchLines(i+1, m)...)
				}
			}
			if f.rewrite != nil {
				lines = f.rewrite(cmd.Name, lines)
			}
			f.mu.Unlock()
			err = c.Lines(append(lines, ok)...)
		case "APPEND":
			got, rerr := countAppended(c, cmd)
			if rerr != nil {
				return rerr
			}
			f.mu.Lock()
			f.appends++
			first := f.uid + 1
			for _, m := range got {
				f.add(m.size, m.date)
			}
			last := f.uid
			f.mu.Unlock()
			if f.appendUID {
				set := strconv.Itoa(int(first))
				if last != first {
					set += ":" + strconv.Itoa(int(last))
				}
				err = c.Line(cmd.Tag + " OK [APPENDUID 9 " + set + "] done")
			} else {
				err = c.Line(ok)
			}
		case "LOGOUT":
			c.Lines("* BYE bye", ok)
			return nil
		default:
			err = c.Answer(cmd)
		}
		if err != nil {
			return err
		}
	}
}

// fetchLines answers a FETCH of message i (1-based), m.
func (f *countDst) fetchLines(i int, m countMsg) []string {
	var l []string
	if f.flagsFirst {
		l = append(l, fmt.Sprintf(`* %d FETCH (UID %d FLAGS (\Seen))`, i, m.uid))
	}
	if f.split {
		return append(l, fmt.Sprintf("* %d FETCH (UID %d RFC822.SIZE %d)", i, m.uid, m.size),
			fmt.Sprintf("* %d FETCH (UID %d INTERNALDATE %s)", i, m.uid, m.date))
	}
	return append(l, fmt.Sprintf("* %d FETCH (UID %d RFC822.SIZE %d INTERNALDATE %s)", i, m.uid, m.size, m.date))
}

// countSet parses a sequence set "a", "a:b" or "a:*" of a mailbox of n
// messages.
func countSet(s string, n int) (from, to int, err error) {
	a, b, rng := strings.Cut(s, ":")
	if from, err = strconv.Atoi(a); err != nil {
		return 0, 0, err
	}
	if !rng {
		return from, from, nil
	}
	if b == "*" {
		return from, n, nil
	}
	to, err = strconv.Atoi(b)
	return min(from, to), max(from, to), err
}

// countImport runs import of path to the fake at addr, a group of one
// per message (--no-multiappend).
func countImport(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs := runCLI(t, "", "import", "imap://alice@"+addr, path, "--to", "INBOX", "--insecure-plaintext",
		"--timeout", "10s", "--quiet", "--no-multiappend")
	return code, errs
}

// resumed runs run (countImport, expungeImport) of path to addr twice:
// the first, which the test hook stops (countStopAt), must fail; with
// older, the pending record it leaves is then made an older imapkit's
// (countOlderRecord). It returns the second run's exit code and stderr.
func resumed(t *testing.T, run func(t *testing.T, addr, path string) (int, string), addr, path string, older bool) (int, string) {
	t.Helper()
	if code, errs := run(t, addr, path); code == exitOK {
		t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
	}
	setTestHook(t, nil)
	if older {
		countOlderRecord(t, path)
	}
	return run(t, addr, path)
}

// countStopAt sets the test hook (setTestHook) to stop the run at the n-th step of name,
// after doing other (another client's delivery or expunge).
func countStopAt(t *testing.T, name string, n int, other func()) {
	k := 0
	setTestHook(t, func(step string) error {
		if step == name {
			if k++; k == n {
				other()
				return fmt.Errorf("stopped by the test")
			}
		}
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })
}

// TestImportPendingCountDeliveryConfirmed (found by review): a
// destination whose STATUS gives no UIDNEXT. Run 1 records m2's APPEND
// as pending (message count 1) and stops before sending it; another
// client delivers a message. Run 2's STATUS says 2, up by the group's
// count: m2 was taken for landed and never sent, lost. Now the mailbox's
// last messages are looked at (confirmSeq): m2 is not there, and is sent.
func TestImportPendingCountDeliveryConfirmed(t *testing.T) {
	t.Parallel()
	for _, caps := range []string{"IMAP4rev1 LITERAL+", "IMAP4rev1 LITERAL+ UNSELECT"} {
		t.Run(caps, func(t *testing.T) {
			f := &countDst{caps: caps}
			addr := f.start(t)
			msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
			path, _ := importSource(t, "maildir", msgs)
			countStopAt(t, "pending", 2, f.deliver)
			code, errs := resumed(t, countImport, addr, path, false)
			appends, sizes := f.state()
			want := fmt.Sprint([]int{len(msgs[0]), 7, len(msgs[1])})
			if code != exitOK || fmt.Sprint(sizes) != want {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, %s (m2 sent after the delivery)\nstderr: %s", code, appends, sizes, want, errs)
			}
		})
	}
}

// TestImportPendingCountLandedDeliveryConfirmed (found by review): as
// above, but run 1 stops after the server took m2 (its answer not
// recorded), and another client delivers a message. Run 2's STATUS says
// 3, up by neither 0 nor 1 from the count recorded (1): it could not
// tell, exit 1 until the state file was edited. Now m2 is found among the
// messages that arrived after the record, and not sent again.
func TestImportPendingCountLandedDeliveryConfirmed(t *testing.T) {
	t.Parallel()
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	addr := f.start(t)
	msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
	path, _ := importSource(t, "maildir", msgs)
	countStopAt(t, "appended", 2, f.deliver)
	code, errs := resumed(t, countImport, addr, path, false)
	appends, sizes := f.state()
	if want := fmt.Sprint([]int{len(msgs[0]), len(msgs[1]), 7}); code != exitOK || appends != 2 || fmt.Sprint(sizes) != want {
		t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 2, %s (m2 not sent again)\nstderr: %s", code, appends, sizes, want, errs)
	}
}

// TestImportPendingCountTwinNotLost: an mbox of two messages of the same
// size and date (a source's duplicate). Run 1 records m2 and stops before
// sending it; nobody else writes. m1, already in the mailbox before the
// record, matches m2's size and date: looked for among all the mailbox's
// last messages, it was taken for m2, which was never sent (lost). Only
// the messages that arrived after the record are looked at.
func TestImportPendingCountTwinNotLost(t *testing.T) {
	t.Parallel()
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	addr := f.start(t)
	msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
	if len(msgs[0]) != len(msgs[1]) {
		t.Fatalf("the two messages differ in size (%d, %d)", len(msgs[0]), len(msgs[1]))
	}
	path, _ := importSource(t, "mbox", msgs)
	countStopAt(t, "pending", 2, func() {})
	code, errs := resumed(t, countImport, addr, path, false)
	if appends, sizes := f.state(); code != exitOK || appends != 2 || len(sizes) != 2 {
		t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 2, two messages (m2 sent)\nstderr: %s", code, appends, sizes, errs)
	}
}

// TestImportPendingCountCannotTell: more than the group's count and
// confirmSlack messages arrived after the record (another client's), and
// the group is not among the first of them: it may be further. Neither
// sent again nor taken for landed: exit 1 with the advice
// (errPendingUnknown).
func TestImportPendingCountCannotTell(t *testing.T) {
	t.Parallel()
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	addr := f.start(t)
	path, _ := importSource(t, "maildir", []string{importSourceMsg(1, "")})
	countStopAt(t, "pending", 1, func() {
		for range confirmSlack + 2 {
			f.deliver()
		}
	})
	code, errs := resumed(t, countImport, addr, path, false)
	appends, _ := f.state()
	if code != 1 || appends != 0 || !strings.Contains(errs, errPendingUnknown.Error()) || !strings.Contains(errs, "the first 201 of the messages that arrived") {
		t.Errorf("run 2: exit %d, %d APPENDs; want 1, 0, cannot tell, naming the messages looked at\nstderr: %s", code, appends, errs)
	}
}

// seqFetchLines answers a FETCH of sequence numbers (set, as the command
// gives it) of a mailbox of n messages, each told by msg (1-based): its
// UID, RFC822.SIZE and INTERNALDATE (unquoted; none when ""). For the
// scripted destinations whose STATUS gives no UIDNEXT (confirmSeq).
func seqFetchLines(set string, n int, msg func(i int) (uid uint32, size int64, date string)) ([]string, error) {
	from, to, err := countSet(set, n)
	if err != nil {
		return nil, err
	}
	var lines []string
	for i := max(from, 1); i <= min(to, n); i++ {
		uid, size, date := msg(i)
		if date != "" {
			date = ` INTERNALDATE "` + date + `"`
		}
		lines = append(lines, fmt.Sprintf("* %d FETCH (UID %d RFC822.SIZE %d%s)", i, uid, size, date))
	}
	return lines, nil
}

// countOlderRecord makes the pending group in the import state of path
// one an imapkit before the UID floor (uidFloor) recorded: no UIDNEXT
// ("dst_uidnext" dropped), the message count and the messages alone.
func countOlderRecord(t *testing.T, path string) {
	t.Helper()
	spath := importStatePath(path)
	b, err := os.ReadFile(spath)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range st["destinations"].(map[string]any) {
		if p, ok := e.(map[string]any)["pending"].(map[string]any); ok {
			delete(p, "dst_uidnext")
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d pending groups in %s; want 1", n, spath)
	}
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spath, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestImportPendingCountLandedExpungeDelivery (found by review): a
// destination whose STATUS gives no UIDNEXT. Run 1 imports m1, records
// m2 (message count 1), and the server takes m2 (its answer not
// recorded); then another client expunges m1 (read and deleted in INBOX
// during the migration) and a new message is delivered. Run 2: the
// count is 2, up by the group's. Looked for only past sequence number 1,
// where the expunge moved m2 from, m2 was "not found among all that
// arrived" and sent again: a duplicate, exit 0, nothing said. Now the
// group is recorded at a UID floor (uidFloor) and found by UID, which an
// expunge does not move; a record without one (an older imapkit's) is
// "cannot tell", exit 1.
func TestImportPendingCountLandedExpungeDelivery(t *testing.T) {
	t.Parallel()
	for _, older := range []bool{false, true} {
		t.Run(fmt.Sprintf("older=%v", older), func(t *testing.T) {
			f := &countDst{caps: "IMAP4rev1 LITERAL+"}
			addr := f.start(t)
			msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
			path, _ := importSource(t, "maildir", msgs)
			countStopAt(t, "appended", 2, func() { f.expunge(0); f.deliver() })
			code, errs := resumed(t, countImport, addr, path, older)
			appends, sizes := f.state()
			switch {
			case appends != 2:
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want m2 not sent again (2 APPENDs: [%d 7])\nstderr: %s", code, appends, sizes, len(msgs[1]), errs)
			case older && (code != 1 || !strings.Contains(errs, errPendingUnknown.Error())):
				t.Errorf("run 2 (an older record): exit %d; want 1, cannot tell\nstderr: %s", code, errs)
			case !older && code != exitOK:
				t.Errorf("run 2: exit %d; want 0 (m2 found by UID)\nstderr: %s", code, errs)
			}
		})
	}
}

// TestImportPendingRecordedUIDNextIgnored (found by review): a
// destination with UIDPLUS (APPENDUID) whose STATUS gives no UIDNEXT.
// m2's group is recorded at UIDNEXT 2 (from m1's APPENDUID: prepare keeps
// it over the STATUS's none) and lands; another client expunges m1 and
// delivers one. Run 2's STATUS gives no UIDNEXT: the UIDNEXT recorded was
// ignored for the sequence numbers past the count, which the expunge
// moved, and m2 was sent again. Now the messages from UID 2 on are
// looked at (confirmOpen): m2 is found.
func TestImportPendingRecordedUIDNextIgnored(t *testing.T) {
	t.Parallel()
	f := &countDst{caps: "IMAP4rev1 LITERAL+ UIDPLUS", appendUID: true}
	addr := f.start(t)
	msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
	path, _ := importSource(t, "maildir", msgs)
	countStopAt(t, "appended", 2, func() { f.expunge(0); f.deliver() })
	code, errs := resumed(t, countImport, addr, path, false)
	appends, sizes := f.state()
	if code != exitOK || appends != 2 {
		t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, m2 not sent again (2 APPENDs), found by the UIDNEXT recorded\nstderr: %s", code, appends, sizes, errs)
	}
}

// TestImportPendingFlagsResponseAmid (found by review): a destination
// whose STATUS gives no UIDNEXT, with MULTIAPPEND; a group of two lands
// (its answer not recorded) and nobody else writes. Run 2's FETCH is
// answered with, before each message's response, one of its UID and
// flags alone (another client marking it \Seen). Held as a message of
// the window (no size, no date), it broke "in a row": the group was not
// found and sent again whole. Now such a response is passed over, or
// merged with its message's other (look): by UID (confirmOpen) and, for
// an older record, by sequence number (confirmSeq).
func TestImportPendingFlagsResponseAmid(t *testing.T) {
	t.Parallel()
	for _, older := range []bool{false, true} {
		t.Run(fmt.Sprintf("older=%v", older), func(t *testing.T) {
			f := &countDst{caps: "IMAP4rev1 LITERAL+ MULTIAPPEND"}
			addr := f.start(t)
			msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
			path, _ := importSource(t, "maildir", msgs)
			countStopAt(t, "appended", 1, func() { f.mu.Lock(); f.flagsFirst = true; f.mu.Unlock() })
			code, errs := resumed(t, expungeImport, addr, path, older)
			appends, sizes := f.state()
			if code != exitOK || appends != 1 {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 1 APPEND (the group found, not sent again)\nstderr: %s", code, appends, sizes, errs)
			}
		})
	}
}

// TestImportPendingCountStatusWithoutMessages (found by review): a
// destination whose STATUS gives neither UIDNEXT nor MESSAGES (asked for
// both; the codec leaves Messages 0). The group was recorded at message
// count 0 whatever the mailbox held, and looked for from sequence number
// 1, among the mailbox's own messages: in an mbox of twins (same size and
// date), m2 recorded and not sent, nobody else writing, m1 was taken for
// m2, which was never sent (lost, exit 0). Now the count is EXAMINE's
// EXISTS (appender.status); the older record (no UID floor) shows it, as
// the UID floor alone would find nothing past it either way.
func TestImportPendingCountStatusWithoutMessages(t *testing.T) {
	t.Parallel()
	for _, older := range []bool{false, true} {
		t.Run(fmt.Sprintf("older=%v", older), func(t *testing.T) {
			f := &countDst{caps: "IMAP4rev1 LITERAL+", noMessages: true}
			addr := f.start(t)
			msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
			if len(msgs[0]) != len(msgs[1]) {
				t.Fatalf("the two messages differ in size (%d, %d)", len(msgs[0]), len(msgs[1]))
			}
			path, _ := importSource(t, "mbox", msgs)
			countStopAt(t, "pending", 2, func() {})
			code, errs := resumed(t, countImport, addr, path, older)
			if appends, sizes := f.state(); code != exitOK || appends != 2 || len(sizes) != 2 {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, m2 sent (2 APPENDs, two messages)\nstderr: %s", code, appends, sizes, errs)
			}
		})
	}
}

// expungeDst is a scripted destination with MULTIAPPEND, no UIDPLUS. Its
// STATUS gives UIDNEXT (as Dovecot's and Cyrus's do) unless noUIDNext.
// With expungeAfter set, a UID FETCH of several messages is answered, after
// that many FETCH responses, with "* 1 EXPUNGE" of the mailbox's first
// message (another client's expunge, which a server may announce during
// a UID FETCH: RFC 3501 7.4.1 forbids it only during FETCH, STORE and
// SEARCH by sequence numbers, RFC 9051 7.5.1 the same), and the rest of
// the answer carries the sequence numbers as they are after it.
type expungeDst struct {
	noUIDNext bool
	// expungeAfter: after this many FETCH responses of a UID FETCH,
	// "* 1 EXPUNGE" (0: never); once.
	expungeAfter int

	mu      sync.Mutex
	msgs    []countMsg
	uid     uint32
	appends int
}

func (f *expungeDst) add(size int, date string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uid++
	f.msgs = append(f.msgs, countMsg{f.uid, size, date})
}

func (f *expungeDst) state() (appends int, sizes []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		sizes = append(sizes, m.size)
	}
	return f.appends, sizes
}

func (f *expungeDst) start(t *testing.T) string {
	t.Helper()
	srv, err := hostile.Listen(f.serve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

func expungeFetchLine(seq int, m countMsg) string {
	return fmt.Sprintf("* %d FETCH (UID %d RFC822.SIZE %d INTERNALDATE %s)", seq, m.uid, m.size, m.date)
}

func (f *expungeDst) serve(c *hostile.Conn) error {
	const caps = "IMAP4rev1 LITERAL+ MULTIAPPEND UNSELECT"
	if err := c.Greet(caps); err != nil {
		return err
	}
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		ok := cmd.Tag + " OK done"
		f.mu.Lock()
		n, next := len(f.msgs), f.uid+1
		f.mu.Unlock()
		switch cmd.Name {
		case "LOGIN", "CLOSE", "UNSELECT":
			err = c.Line(ok)
		case "CAPABILITY":
			err = c.Lines("* CAPABILITY "+caps, ok)
		case "NAMESPACE":
			err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
		case "LIST":
			err = c.Lines(`* LIST () "/" INBOX`, ok)
		case "STATUS":
			if f.noUIDNext {
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDVALIDITY 9 MESSAGES %d)", n), ok)
			} else {
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDVALIDITY 9 MESSAGES %d UIDNEXT %d)", n, next), ok)
			}
		case "EXAMINE", "SELECT":
			err = c.Lines(fmt.Sprintf("* %d EXISTS", n), "* OK [UIDVALIDITY 9] x", cmd.Tag+" OK [READ-ONLY] done")
		case "FETCH":
			from, to, perr := countSet(strings.Fields(cmd.Args)[0], n)
			if perr != nil {
				err = c.Line(cmd.Tag + " BAD " + perr.Error())
				break
			}
			var lines []string
			f.mu.Lock()
			for i := from; i <= to && i <= len(f.msgs); i++ {
				lines = append(lines, expungeFetchLine(i, f.msgs[i-1]))
			}
			f.mu.Unlock()
			err = c.Lines(append(lines, ok)...)
		case "UID FETCH":
			a, b, _ := strings.Cut(strings.Fields(cmd.Args)[0], ":")
			lo, _ := strconv.Atoi(a)
			hi := int64(lo)
			if b == "*" {
				hi = 1 << 32
			} else if b != "" {
				n, _ := strconv.Atoi(b)
				hi = int64(n)
			}
			var lines []string
			f.mu.Lock()
			shift, k := 0, 0 // messages expunged amid the answer; responses
			for i := 0; i < len(f.msgs); i++ {
				m := f.msgs[i]
				if int(m.uid) < lo || int64(m.uid) > hi {
					continue
				}
				lines = append(lines, expungeFetchLine(i+1-shift, m))
				k++
				if f.expungeAfter == k && shift == 0 && hi > int64(lo) && int(f.msgs[0].uid) < lo {
					// Another client's expunge of message 1,
					// announced amid the answer.
					lines = append(lines, "* 1 EXPUNGE")
					shift = 1
				}
			}
			if shift == 1 {
				f.msgs = f.msgs[1:]
				f.expungeAfter = 0
			}
			f.mu.Unlock()
			err = c.Lines(append(lines, ok)...)
		case "APPEND":
			got, rerr := countAppended(c, cmd)
			if rerr != nil {
				return rerr
			}
			f.mu.Lock()
			f.appends++
			f.mu.Unlock()
			for _, m := range got {
				f.add(m.size, m.date)
			}
			err = c.Line(ok)
		case "LOGOUT":
			c.Lines("* BYE bye", ok)
			return nil
		default:
			err = c.Answer(cmd)
		}
		if err != nil {
			return err
		}
	}
}

func expungeImport(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, _, errs := runCLI(t, "", "import", "imap://alice@"+addr, path, "--to", "INBOX", "--insecure-plaintext",
		"--timeout", "10s", "--quiet")
	return code, errs
}

// TestImportPendingExpungeAmidLookDuplicate (found by review): look
// (d8e3c5c) merged two FETCH responses of one sequence number as one
// message's items split.
// During a UID FETCH a server may announce another client's expunge
// (RFC 3501 7.4.1), and the next message then comes with the sequence
// number the one before had: two different messages merged into one,
// the ring one message short. A MULTIAPPEND group of two landed (its OK
// not recorded) at UIDs 2 and 3, after another client's message at UID
// 1; that client expunges message 1 while run 2 looks: "* 2 FETCH (UID
// 2 ...)", "* 1 EXPUNGE", "* 2 FETCH (UID 3 ...)". The group's first
// message is overwritten by its second, the group is "not found among
// all that arrived", and it is sent again: a duplicate, exit 0, nothing
// said. Before d8e3c5c (no merge) the ring held both and the group was
// found; now responses of two UIDs are never merged (lookAnswer). On
// the UIDNEXT path (every real server's: confirm) and the
// recorded-UIDNEXT one (confirmOpen) alike.
func TestImportPendingExpungeAmidLookDuplicate(t *testing.T) {
	for _, noUIDNext := range []bool{false, true} {
		t.Run(fmt.Sprintf("noUIDNext=%v", noUIDNext), func(t *testing.T) {
			f := &expungeDst{noUIDNext: noUIDNext}
			f.add(5, `"01-Feb-2020 00:00:00 +0000"`) // another client's
			addr := f.start(t)
			msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
			path, _ := importSource(t, "maildir", msgs)
			countStopAt(t, "appended", 1, func() { f.mu.Lock(); f.expungeAfter = 1; f.mu.Unlock() })
			code, errs := resumed(t, expungeImport, addr, path, false)
			appends, sizes := f.state()
			if appends != 1 {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want the group found (1 APPEND, sizes [%d %d]): merged two messages across the EXPUNGE, sent again\nstderr: %s", code, appends, sizes, len(msgs[0]), len(msgs[1]), errs)
			}
		})
	}
}

// TestImportPendingExpungeAmidLookLoss (found by review): the same merge
// the other way. Run 1
// records a group of two (m1, m2) and stops before sending it. Another
// client then delivers three messages: a copy of m1 (its size and
// INTERNALDATE: a second migration of the same Maildir, say), one of its
// own, and a copy of m2. Run 2's UID FETCH is answered, after the second
// response, with another client's "* 1 EXPUNGE": the third message comes with the
// second's sequence number and is merged into it, so the ring holds
// (m1's copy, m2's copy) "in a row", though another message lies
// between: the group, never sent, is taken for landed. m1 and m2 are
// lost (their copies are another's, which that client may delete).
// Not merged (two UIDs: lookAnswer), they are not in a row and the
// group is sent.
func TestImportPendingExpungeAmidLookLoss(t *testing.T) {
	f := &expungeDst{}
	f.add(5, `"01-Feb-2020 00:00:00 +0000"`) // another client's
	addr := f.start(t)
	msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "x")}
	path, _ := importSource(t, "maildir", msgs)
	countStopAt(t, "pending", 1, func() {
		f.add(len(msgs[0]), `"01-Jan-2024 00:00:00 +0000"`)
		f.add(9, `"01-Mar-2020 00:00:00 +0000"`)
		f.add(len(msgs[1]), `"02-Jan-2024 00:00:00 +0000"`)
		f.mu.Lock()
		f.expungeAfter = 2
		f.mu.Unlock()
	})
	code, errs := resumed(t, expungeImport, addr, path, false)
	appends, sizes := f.state()
	if appends != 1 {
		t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want the group sent (1 APPEND): two other messages, not in a row, merged across the EXPUNGE into the group's\nstderr: %s", code, appends, sizes, errs)
	}
}

// TestImportPendingSplitResponses: a destination whose STATUS gives no
// UIDNEXT, with MULTIAPPEND, answers each message's RFC822.SIZE and
// INTERNALDATE in two FETCH responses (same sequence number, same UID:
// RFC 3501 7.4.2 lets a server split them). A group of two lands (its
// answer not recorded), nobody else writes: run 2 finds it by merging
// each message's two responses (lookAnswer), by UID (confirmOpen)
// and, for an older record, by sequence number (confirmSeq). Held as two
// messages each, neither telling both size and date, the group was not
// found and sent again.
func TestImportPendingSplitResponses(t *testing.T) {
	for _, older := range []bool{false, true} {
		t.Run(fmt.Sprintf("older=%v", older), func(t *testing.T) {
			f := &countDst{caps: "IMAP4rev1 LITERAL+ MULTIAPPEND"}
			addr := f.start(t)
			msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
			path, _ := importSource(t, "maildir", msgs)
			countStopAt(t, "appended", 1, func() { f.mu.Lock(); f.split = true; f.mu.Unlock() })
			code, errs := resumed(t, expungeImport, addr, path, older)
			if appends, sizes := f.state(); code != exitOK || appends != 1 {
				t.Errorf("run 2: exit %d, %d APPENDs in all, the mailbox holds sizes %v; want 0, 1 APPEND (the group found across split responses, not sent again)\nstderr: %s", code, appends, sizes, errs)
			}
		})
	}
}

// TestImportUIDFloorExamineRefused (found by review): a destination
// whose STATUS gives no UIDNEXT refuses EXAMINE. The UID floor
// (uidFloor) cannot be learnt: the group is recorded without one (by the
// message count) and sent, as before there was a floor. The run failed
// before sending anything, at every run.
func TestImportUIDFloorExamineRefused(t *testing.T) {
	f := &countDst{caps: "IMAP4rev1 LITERAL+", refuseExamine: true}
	addr := f.start(t)
	msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
	path, _ := importSource(t, "maildir", msgs)
	code, errs := countImport(t, addr, path)
	if appends, sizes := f.state(); code != exitOK || appends != 2 || len(sizes) != 2 {
		t.Errorf("exit %d, %d APPENDs, the mailbox holds sizes %v; want 0, both sent\nstderr: %s", code, appends, sizes, errs)
	}
}

// TestImportLastUIDUntold (found by review): a destination whose STATUS
// gives no UIDNEXT answers a FETCH of the last message without its UID.
// Looking for a pending group (confirmOpen), the error said "cannot
// tell whether the pending APPEND landed" without the advice of the
// other such exits (which field of the state file to edit): now it ends
// with it. Before a group is sent (uidFloor), it spoke of "the pending
// APPEND" when none was, and stopped the run: now the group is recorded
// without a UID floor, as when the FETCH is refused, and sent.
func TestImportLastUIDUntold(t *testing.T) {
	t.Run("pending", func(t *testing.T) {
		f := &countDst{caps: "IMAP4rev1 LITERAL+"}
		addr := f.start(t)
		msgs := []string{importSourceMsg(1, ""), importSourceMsg(2, "")}
		path, _ := importSource(t, "maildir", msgs)
		countStopAt(t, "appended", 1, func() { f.mu.Lock(); f.noSeqUID = true; f.mu.Unlock() })
		code, errs := resumed(t, countImport, addr, path, false)
		if appends, _ := f.state(); code == exitOK || appends != 1 || !strings.Contains(errs, "cannot tell whether the pending APPEND landed") ||
			!strings.Contains(errs, ".destinations[") || !strings.Contains(errs, "not sent again") {
			t.Errorf("run 2: exit %d, %d APPENDs; want an error, 1 APPEND, with the advice naming the state file's entry\nstderr: %s", code, appends, errs)
		}
	})
	t.Run("prepare", func(t *testing.T) {
		f := &countDst{caps: "IMAP4rev1 LITERAL+", noSeqUID: true}
		f.deliver() // another client's: a last message to ask the UID of
		addr := f.start(t)
		path, _ := importSource(t, "maildir", []string{importSourceMsg(1, "")})
		code, errs := countImport(t, addr, path)
		if appends, _ := f.state(); code != exitOK || appends != 1 {
			t.Errorf("exit %d, %d APPENDs; want 0, 1 APPEND (the group recorded without a UID floor, and sent: TestImportLastUIDUntoldNoFloor)\nstderr: %s", code, appends, errs)
		}
	})
}
