//go:build linux

package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// countDst is a scripted destination whose STATUS and SELECT give no
// UIDNEXT (the codec names servers that send none; no real server the
// tests start does): a pending group is then told landed or not by the
// message count (appender.landed's count path), and by its messages
// (confirmSeq). It keeps each message's size and INTERNALDATE (as the
// APPEND gave it) and answers EXAMINE and FETCH of sequence numbers.
type countDst struct {
	caps string

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

var countDate = regexp.MustCompile(`"(\d{1,2}-[A-Za-z]{3}-\d{4} \d\d:\d\d:\d\d [+-]\d{4})"`)

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
			err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDVALIDITY 9 MESSAGES %d)", n), ok)
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
				m := f.msgs[i-1]
				lines = append(lines, fmt.Sprintf("* %d FETCH (UID %d RFC822.SIZE %d INTERNALDATE %s)", i, m.uid, m.size, m.date))
			}
			f.mu.Unlock()
			err = c.Lines(append(lines, ok)...)
		case "APPEND":
			line, lit, nonSync := cmd.Line, cmd.Literal, cmd.NonSync
			var got []countMsg
			for lit >= 0 {
				if !nonSync {
					if err := c.Continue("go"); err != nil {
						return err
					}
				}
				if _, err := c.ReadLiteral(lit); err != nil {
					return err
				}
				date := `"01-Jan-2000 00:00:00 +0000"` // dated on arrival
				if m := countDate.FindStringSubmatch(line); m != nil {
					date = `"` + m[1] + `"`
				}
				got = append(got, countMsg{size: int(lit), date: date})
				rest, err := c.ReadLine()
				if err != nil {
					return err
				}
				next := hostile.ParseCommand("x APPEND " + rest)
				line, lit, nonSync = rest, next.Literal, next.NonSync
			}
			f.mu.Lock()
			f.appends++
			for _, m := range got {
				f.add(m.size, m.date)
			}
			f.mu.Unlock()
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

// countStopAt sets testHook to stop the run at the n-th step of name,
// after doing other (another client's delivery or expunge).
func countStopAt(t *testing.T, name string, n int, other func()) {
	k := 0
	testHook = func(step string) error {
		if step == name {
			if k++; k == n {
				other()
				return fmt.Errorf("stopped by the test")
			}
		}
		return nil
	}
	t.Cleanup(func() { testHook = nil })
}

// TestImportPendingCountDeliveryConfirmed (found by review): a
// destination whose STATUS gives no UIDNEXT. Run 1 records m2's APPEND
// as pending (message count 1) and stops before sending it; another
// client delivers a message. Run 2's STATUS says 2, up by the group's
// count: m2 was taken for landed and never sent, lost. Now the mailbox's
// last messages are looked at (confirmSeq): m2 is not there, and is sent.
func TestImportPendingCountDeliveryConfirmed(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 LITERAL+", "IMAP4rev1 LITERAL+ UNSELECT"} {
		t.Run(caps, func(t *testing.T) {
			f := &countDst{caps: caps}
			addr := f.start(t)
			msgs := []string{r44ImportMsg(1, ""), r44ImportMsg(2, "")}
			path, _ := r44ImportSource(t, "maildir", msgs)
			countStopAt(t, "pending", 2, f.deliver)
			if code, errs := countImport(t, addr, path); code == exitOK {
				t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
			}
			testHook = nil
			code, errs := countImport(t, addr, path)
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
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	addr := f.start(t)
	msgs := []string{r44ImportMsg(1, ""), r44ImportMsg(2, "")}
	path, _ := r44ImportSource(t, "maildir", msgs)
	countStopAt(t, "appended", 2, f.deliver)
	if code, errs := countImport(t, addr, path); code == exitOK {
		t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
	}
	testHook = nil
	code, errs := countImport(t, addr, path)
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
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	addr := f.start(t)
	msgs := []string{r44ImportMsg(1, ""), r44ImportMsg(2, "")}
	if len(msgs[0]) != len(msgs[1]) {
		t.Fatalf("the two messages differ in size (%d, %d)", len(msgs[0]), len(msgs[1]))
	}
	path, _ := r44ImportSource(t, "mbox", msgs)
	countStopAt(t, "pending", 2, func() {})
	if code, errs := countImport(t, addr, path); code == exitOK {
		t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
	}
	testHook = nil
	code, errs := countImport(t, addr, path)
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
	f := &countDst{caps: "IMAP4rev1 LITERAL+"}
	addr := f.start(t)
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, "")})
	countStopAt(t, "pending", 1, func() {
		for range confirmSlack + 2 {
			f.deliver()
		}
	})
	if code, errs := countImport(t, addr, path); code == exitOK {
		t.Fatalf("run 1: exit 0; want it stopped\nstderr: %s", errs)
	}
	testHook = nil
	code, errs := countImport(t, addr, path)
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
