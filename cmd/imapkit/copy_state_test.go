//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopyStateQuadratic: copy keeps a source-UID ->
// destination-UID map in its state, as runs of consecutive UIDs, and
// saved the whole state file (MarshalIndent, fsync) twice per APPEND group
// of 50 messages (copyBatch). A run needs consecutive source UIDs, so a
// source mailbox with a gap after every message (UIDs 1, 3, 5...: mail was
// deleted in between, an ordinary history) has one run per message, and
// each save cost O(messages copied so far): copying n messages cost O(n^2)
// in state writes (100,000 messages: minutes; 1,000,000: hours). This
// replays what copyBatch does for each group (the pending save, then
// mapAppended and the save that moves past the group) up to 10,000
// messages and counts the bytes the two saves of one group write (state
// file and map journal) at 2,500, 5,000 and 10,000 messages: they must
// not grow with the messages copied so far. Then, as after a kill, the
// state is read back from the files and must map every message; and once
// compacted (the end of a run) the state file holds the map whole and the
// journal is gone.
//
// The audit's version asserted that the map held one run per APPEND group
// at most, as copy_flags.go said; the map still holds a run per message
// for such a source (its information cannot take less), and the comment
// now says so: what is bounded is the work of each save.
func TestCopyStateQuadratic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	jpath := mapJournalPath(path)
	box := &copyBox{Dst: "INBOX", UIDValidity: 1}
	st := &copyState{Version: 1, Src: "imap://a@src", Dst: "imap://a@dst", Mailboxes: map[string]*copyBox{"INBOX": box}}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	// group copies messages first..first+49 and returns the bytes its two
	// saves wrote.
	group := func(first int) int64 {
		src := make([]uint32, 0, groupMessages)
		dst := make([]uint32, 0, groupMessages)
		for i := first; i < first+groupMessages; i++ {
			src = append(src, uint32(2*i+1)) // a gap after every message
			dst = append(dst, uint32(i+1))   // the destination's UIDs follow each other
		}
		j0 := size(jpath)
		box.Pending, box.PendingUID, box.PendingSrc = &pendingAppend{DstUIDValidity: 9, DstUIDNext: dst[0], Count: len(src)}, src[len(src)-1], src
		if err := st.save(path); err != nil {
			t.Fatal(err)
		}
		written := size(path)
		box.mapAppended(9, src, dst)
		box.LastUID, box.Pending, box.PendingUID, box.PendingSrc = src[len(src)-1], nil, 0, nil
		box.Copied += int64(len(src))
		if err := st.save(path); err != nil {
			t.Fatal(err)
		}
		return written + size(path) + size(jpath) - j0
	}
	start := time.Now()
	var per []int64
	copied := 0
	for _, n := range []int{2500, 5000, 10000} {
		for copied+groupMessages < n {
			group(copied)
			copied += groupMessages
		}
		per = append(per, group(copied))
		copied += groupMessages
		t.Logf("%6d messages copied: %d runs in the UID map; the two saves of one group wrote %d bytes", copied, len(box.UIDMap), per[len(per)-1])
	}
	t.Logf("%d groups saved in %v", copied/groupMessages, time.Since(start))
	if per[2] > 2*per[0] {
		t.Errorf("the saves of one APPEND group wrote %d bytes at 2,500 messages copied, %d at 10,000: the state written per group grows with the messages copied, O(n^2) for a copy of n", per[0], per[2])
	}
	want := func(st *copyState, when string) {
		t.Helper()
		b := st.Mailboxes["INBOX"]
		if b == nil || b.DstUIDValidity != 9 || b.LastUID != uint32(2*copied-1) || b.Copied != int64(copied) {
			t.Fatalf("%s: box %+v", when, b)
		}
		for i := 0; i < copied; i++ {
			if d := b.UIDMap.lookup(uint32(2*i + 1)); d != uint32(i+1) {
				t.Fatalf("%s: UID %d maps to %d, want %d", when, 2*i+1, d, i+1)
			}
		}
	}
	// As after a kill: the state file and the journal, its last line cut
	// short by the kill.
	f, err := os.OpenFile(jpath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"box":"INBOX","v":9,"pairs":[[99`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	killed := &copyState{}
	if err := loadCopyState(path, killed); err != nil {
		t.Fatal(err)
	}
	want(killed, "read back after a kill")
	if err := st.compact(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(jpath); !os.IsNotExist(err) {
		t.Fatalf("the map journal is left after the end of the run: %v", err)
	}
	var whole copyState
	if _, err := loadJSON(path, &whole); err != nil {
		t.Fatal(err)
	}
	want(&whole, "the state file after the run")
	// Killed after the compaction but before the journal's removal: the
	// journal replays over the compacted state to the same map.
	if err := writeFileAtomic(jpath, []byte(`{"box":"INBOX","v":9,"pairs":[[1,1],[3,2]]}`+"\n")); err != nil {
		t.Fatal(err)
	}
	again := &copyState{}
	if err := loadCopyState(path, again); err != nil {
		t.Fatal(err)
	}
	want(again, "the journal replayed over the compacted state")
}

// TestCopyKilledRunJournal: a copy killed mid-run leaves its
// state file without the UID maps and the map journal; the next run reads
// both and ends with the maps whole in the state file, no journal, and no
// duplicate. The kill is taken as the files are when the second group has
// landed and the state does not say so yet (a snapshot of the state
// directory at the "appended" hook).
func TestCopyKilledRunJournal(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 130)
	b := testserver.StartT(t, nil)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, aURL := urls(a)
	_, bURL := urls(b)
	stateDir, killedDir := t.TempDir(), t.TempDir()
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", stateDir, "--timeout", "20s"}
	seen := 0
	setTestHook(t, func(s string) error {
		if s != "appended" {
			return nil
		}
		if seen++; seen < 2 {
			return nil
		}
		ents, err := os.ReadDir(stateDir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join(stateDir, e.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(killedDir, e.Name()), data, 0o600); err != nil {
				return err
			}
		}
		return errors.New("stopped by the test")
	})
	t.Cleanup(func() { setTestHook(t, nil) })
	cli(t, "", 3, args...)
	setTestHook(t, nil)
	name := mustOne(t, killedDir)
	if _, err := os.Stat(filepath.Join(killedDir, name+".uidmap")); err != nil {
		t.Fatalf("no map journal in the state directory mid-run: %v", err)
	}
	var lean copyState
	if _, err := loadJSON(filepath.Join(killedDir, name), &lean); err != nil {
		t.Fatal(err)
	}
	if m := lean.Mailboxes["INBOX"].UIDMap; len(m) != 0 {
		t.Errorf("the state file mid-run holds the UID map %v: it is rewritten at each save", m)
	}
	args[9] = killedDir
	copyReport(t, 0, args...)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	sameMail(t, "after the killed run and the next", mailOf(t, bc, "INBOX"), mailOf(t, ac, "INBOX"))
	if _, err := os.Stat(filepath.Join(killedDir, name+".uidmap")); !os.IsNotExist(err) {
		t.Errorf("the map journal is left after a complete run: %v", err)
	}
	var st copyState
	if _, err := loadJSON(filepath.Join(killedDir, name), &st); err != nil {
		t.Fatal(err)
	}
	for u := uint32(1); u <= 130; u++ {
		if d := st.Mailboxes["INBOX"].UIDMap.lookup(u); d != u {
			t.Fatalf("UID map %v: UID %d maps to %d, not itself", st.Mailboxes["INBOX"].UIDMap, u, d)
		}
	}
}

// editCopyState loads the JSON state file path, lets edit change it as a
// user following the advice would, and writes it back.
func editCopyState(t *testing.T, path string, edit func(st map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantInOutput fails the test unless s holds each of want and none of dont.
func wantInOutput(t *testing.T, step, s string, want, dont []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s: the advice does not say %q\nstderr: %s", step, w, s)
		}
	}
	for _, d := range dont {
		if strings.Contains(s, d) {
			t.Errorf("%s: the advice says %q\nstderr: %s", step, d, s)
		}
	}
}

// TestCopyStateAdvice: copy's advice for a state that needs the
// user, against Dovecot, followed as written.
//
//   - errPendingUnknown (a pending group recorded at UIDNEXT 0, no count:
//     an older imapkit's) told to remove "pending" from "the entry of Alpha
//     in PATH", but the entries are under "mailboxes": now it names the
//     JSON path, .mailboxes["Alpha"].pending, and deleting that key lets
//     the next run go on.
//   - A pending group recorded for another destination UIDVALIDITY than
//     the mailbox's now said "remove the state file" (exit 3): the next run
//     would copy every mailbox again, duplicates of all. Now it is
//     errPendingUnknown (exit 1) with the same advice.
//   - A destination mailbox deleted and created again holding a message
//     (errDstChanged) exited 3, a connection error by the exit table, which
//     scripts retry for ever: now 1, as the table's other states needing
//     the user; the advice names .mailboxes["Alpha"] and says what removing
//     it alone costs (what is there already is there twice).
//   - The source mailbox's UIDVALIDITY changed: the advice was "remove
//     its entry from PATH to copy it whole", which copies it whole next
//     to the copies made before (exit 3). Now exit 1, and the advice
//     (delete the destination mailbox and remove the entry), followed,
//     leaves the destination with each message once.
//
// The cases are set on three source mailboxes (Alpha, Beta, Gamma), a
// run meeting several at once (each mailbox fails on its own, the others
// go on): 5 CLI runs, where one mailbox took 8 (3.4-6.3 s under -race).
// The exit code is the first failed mailbox's (Alpha's); the others' are
// told by their messages (errPendingUnknown's and errSrcUIDValidity's
// texts, exit 1 by the table).
func TestCopyStateAdvice(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	stateDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	fill := func(box string, n int) {
		t.Helper()
		if err := c.Create(ctx, box, nil); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			msg := fmt.Sprintf("From: a@example.com\r\nSubject: %s %d\r\n\r\nhi\r\n", box, i)
			if _, err := c.AppendBytes(ctx, box, []byte(msg), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	held := func(box string) int {
		t.Helper()
		st, err := c.Status(ctx, box, commands.StatusMessages)
		if err != nil {
			t.Fatal(err)
		}
		return int(st.Messages)
	}
	fill("Alpha", 3)
	fill("Beta", 2)
	fill("Gamma", 1)
	gammaTo := "GammaDst"
	run := func(step string, want int) map[string]string {
		t.Helper()
		args := append([]string{"copy", url, url, "Alpha", "Beta", "Gamma", "--map", "Alpha=AlphaDst", "--map", "Beta=BetaDst", "--map", "Gamma=" + gammaTo,
			"--dst-ca-file", cf[1], "--state-dir", stateDir, "--quiet"}, cf...)
		code, out, errs := runCLI(t, "", args...)
		if code != want {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", step, code, want, out, errs)
		}
		// Each mailbox's error line, by its "imapkit copy: NAME: " prefix.
		lines := map[string]string{}
		for _, l := range strings.Split(errs, "\n") {
			for _, box := range []string{"Alpha", "Beta", "Gamma"} {
				if strings.HasPrefix(l, "imapkit copy: "+box+": ") {
					lines[box] += l + "\n"
				}
			}
		}
		return lines
	}
	run("first run", 0)
	states, _ := filepath.Glob(filepath.Join(stateDir, "copy-*.json"))
	if len(states) != 1 || held("AlphaDst") != 3 || held("BetaDst") != 2 || held("GammaDst") != 1 {
		t.Fatalf("first run: state files %q, %d %d %d messages", states, held("AlphaDst"), held("BetaDst"), held("GammaDst"))
	}
	spath := states[0]
	entry := func(st map[string]any, box string) map[string]any {
		return st["mailboxes"].(map[string]any)[box].(map[string]any)
	}
	// Alpha: a pending group at UIDNEXT 0, no count (an older
	// imapkit's). Beta: one for another destination UIDVALIDITY. Gamma:
	// another --map than before.
	editCopyState(t, spath, func(st map[string]any) {
		e := entry(st, "Alpha")
		e["pending"] = map[string]any{"dst_uidvalidity": e["dst_uidvalidity"], "dst_uidnext": 0, "count": 1}
		e["pending_uid"] = e["last_uid"]
		e = entry(st, "Beta")
		e["pending"] = map[string]any{"dst_uidvalidity": e["dst_uidvalidity"].(float64) + 1, "dst_uidnext": 4, "count": 1}
		e["pending_uid"] = e["last_uid"]
	})
	gammaTo = "Elsewhere"
	lines := run("pending; another --map", exitNo)
	wantInOutput(t, "pending", lines["Alpha"], []string{"cannot tell whether the pending APPEND landed", `remove .mailboxes["Alpha"].pending from ` + spath, `set .mailboxes["Alpha"].last_uid to`}, []string{"the entry of"})
	wantInOutput(t, "pending, UIDVALIDITY", lines["Beta"], []string{"cannot tell whether the pending APPEND landed", `remove .mailboxes["Beta"].pending from `}, []string{"remove the state file"})
	// The advice said "remove its entry", no key a user could find; it
	// names the --map that goes on, and the JSON path.
	wantInOutput(t, "other --map", lines["Gamma"], []string{"copied to GammaDst before, not Elsewhere", "--map Gamma=GammaDst", "--restart-mailbox Gamma --restart-unchanged"}, []string{"its entry", "remove .mailboxes"})
	// As advised (the groups did not land), and the same --map: the run
	// goes on.
	editCopyState(t, spath, func(st map[string]any) {
		delete(entry(st, "Alpha"), "pending")
		delete(entry(st, "Beta"), "pending")
	})
	gammaTo = "GammaDst"
	run("pending removed as advised", 0)

	// Alpha's destination deleted and created again, holding a message.
	if err := c.Delete(ctx, "AlphaDst"); err != nil {
		t.Fatal(err)
	}
	fill("AlphaDst", 1)
	// Beta's source renumbered: deleted and created again with 2 messages.
	if err := c.Delete(ctx, "Beta"); err != nil {
		t.Fatal(err)
	}
	fill("Beta", 2)
	lines = run("destination changed; source UIDVALIDITY changed", exitNo)
	wantInOutput(t, "destination changed", lines["Alpha"], []string{"not the one earlier runs appended to", "delete it to copy the mailbox whole again", "--restart-mailbox Alpha --restart-unchanged --map Alpha=OTHER"}, []string{"the entry of", "remove .mailboxes"})
	wantInOutput(t, "source changed", lines["Beta"], []string{"UIDVALIDITY changed", "delete it", "--restart-mailbox Beta", "--map Beta=OTHER"}, []string{"remove its entry from", "remove .mailboxes"})
	// As advised: each destination deleted, its entry removed.
	for _, box := range []string{"Alpha", "Beta"} {
		if err := c.Delete(ctx, box+"Dst"); err != nil {
			t.Fatal(err)
		}
	}
	editCopyState(t, spath, func(st map[string]any) {
		delete(st["mailboxes"].(map[string]any), "Alpha")
		delete(st["mailboxes"].(map[string]any), "Beta")
	})
	run("advice followed", 0)
	if a, b := held("AlphaDst"), held("BetaDst"); a != 3 || b != 2 {
		t.Errorf("advice followed: %d messages in AlphaDst, %d in BetaDst; want 3 and 2 (each message once)", a, b)
	}
}

// TestImportDstChangedExit: import's errDstChanged exited 3 (a
// connection error by the exit table) and named "its entry": now exit 1.
// Its advice then told the user to remove .destinations["KEY"] from the
// state file by hand, importing everything again next to what the
// mailbox held; now, as copy's, it offers a mailbox that does not exist
// yet (--to OTHER), which imports the file whole once (found by review).
func TestImportDstChangedExit(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	path, _ := importSource(t, "mbox", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
	args := append([]string{"import", url, path, "--to", "Imp", "--quiet"}, cf...)
	if code, out, errs := runCLI(t, "", args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	if err := c.Delete(ctx, "Imp"); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, "Imp", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendBytes(ctx, "Imp", []byte("Subject: other\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "", args...)
	if code != exitNo {
		t.Errorf("exit %d; want 1\nstderr: %s", code, errs)
	}
	wantInOutput(t, "import", errs, []string{"not the one earlier runs appended to", "delete it to import", "a mailbox that does not exist yet (--to OTHER"}, []string{"its entry", "remove .destinations", "there twice"})
	// As advised: the file whole, once, to the new mailbox.
	args[len(args)-len(cf)-2] = "ImpNew"
	if code, _, errs := runCLI(t, "", args...); code != exitOK {
		t.Errorf("--to ImpNew: exit %d\nstderr: %s", code, errs)
	}
	if st, err := c.Status(ctx, "ImpNew", commands.StatusMessages); err != nil || st.Messages != 2 {
		t.Errorf("--to ImpNew: STATUS %+v, %v; want 2 messages", st, err)
	}
}

// stateDst is a scripted destination holding one mailbox, INBOX, whose
// STATUS gives UIDNEXT only when uidnext says so (no real server omits
// it: Dovecot and Cyrus always give it), and which counts STATUS
// commands. answer is the tagged answer to the k-th APPEND ("" takes
// the messages and closes the connection: the answer lost).
type stateDst struct {
	caps    string
	uidnext func(call int) bool
	answer  func(k int) string

	mu       sync.Mutex
	held     int
	next     uint32
	appends  int
	statuses int
	// stored are the messages APPENDed (size, date), for EXAMINE and
	// FETCH (appender.confirmSeq); those of held past them are another
	// client's, taken to come after them.
	stored []pendingMessage
}

func (f *stateDst) start(t *testing.T) string {
	t.Helper()
	f.next = 1
	srv, err := hostile.Listen(f.serve)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

func (f *stateDst) counts() (appends, held, statuses int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.appends, f.held, f.statuses
}

func (f *stateDst) serve(c *hostile.Conn) error {
	if err := c.Greet(f.caps); err != nil {
		return err
	}
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		ok := cmd.Tag + " OK done"
		switch cmd.Name {
		case "LOGIN":
			err = c.Line(ok)
		case "CAPABILITY":
			err = c.Lines("* CAPABILITY "+f.caps, ok)
		case "NAMESPACE":
			err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
		case "LIST":
			err = c.Lines(`* LIST () "/" INBOX`, ok)
		case "STATUS":
			f.mu.Lock()
			f.statuses++
			items := fmt.Sprintf("UIDVALIDITY 9 MESSAGES %d", f.held)
			if f.uidnext(f.statuses) {
				items = fmt.Sprintf("UIDNEXT %d %s", f.next, items)
			}
			f.mu.Unlock()
			err = c.Lines(fmt.Sprintf("* STATUS INBOX (%s)", items), ok)
		case "APPEND":
			msgs, rerr := readAppend(c, cmd)
			if rerr != nil {
				return rerr
			}
			n := len(msgs)
			f.mu.Lock()
			f.appends++
			a := f.answer(f.appends)
			first := f.next
			if a == "" || strings.HasPrefix(a, "OK") {
				f.stored = append(f.stored, msgs...)
				f.held += n
				f.next += uint32(n)
			}
			f.mu.Unlock()
			if a == "" {
				return nil // taken; the answer is lost
			}
			if strings.Contains(a, "%d") {
				a = fmt.Sprintf(a, first, first+uint32(n-1))
			}
			err = c.Line(cmd.Tag + " " + a)
		case "EXAMINE":
			f.mu.Lock()
			held := f.held
			f.mu.Unlock()
			err = c.Lines(fmt.Sprintf("* %d EXISTS", held), "* OK [UIDVALIDITY 9] ok", cmd.Tag+" OK [READ-ONLY] done")
		case "FETCH", "UID FETCH": // a UID is its sequence number here (nothing is expunged): confirmOpen
			f.mu.Lock()
			lines, ferr := seqFetchLines(strings.Fields(cmd.Args)[0], f.held, func(i int) (uint32, int64, string) {
				if i <= len(f.stored) {
					return uint32(i), f.stored[i-1].size, f.stored[i-1].date
				}
				return uint32(i), 1, "" // another client's
			})
			f.mu.Unlock()
			if ferr != nil {
				err = c.Line(cmd.Tag + " BAD " + ferr.Error())
				break
			}
			err = c.Lines(append(lines, ok)...)
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

// TestImportStatusNoUIDNext: on a destination whose STATUS gives no
// UIDNEXT, import asks a STATUS before every group (for a fresh message
// count), but the first group asked one more right after the STATUS of
// checkDst: 3 groups of one asked 4. Now 3: checkDst's serves the first
// group. (c983c96 made it 1, keeping the count itself; that count went
// stale when another client delivered mid-run, and a group was taken for
// landed and lost: TestCountStaleAfterDelivery. The per-group
// STATUS, which keeps the count fresh, is back.) 4 since a STATUS is
// asked right before every group, the first too, so that a delivery
// after checkDst's is counted (TestUIDNextStaleAfterDeliveryDovecot).
func TestImportStatusNoUIDNext(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"} {
		t.Run(caps, func(t *testing.T) {
			f := &stateDst{caps: caps, uidnext: func(int) bool { return false },
				answer: func(int) string { return "OK [APPENDUID 9 %d:%d] done" }}
			if !strings.Contains(caps, "UIDPLUS") {
				f.answer = func(int) string { return "OK done" }
			}
			addr := f.start(t)
			path, _ := importSource(t, "maildir", []string{importSourceMsg(1, ""), importSourceMsg(2, ""), importSourceMsg(3, "")})
			setEnv(t, "IMAPKIT_PASSWORD", "x")
			setEnv(t, "IMAPKIT_URL", "")
			code, _, errs := runCLI(t, "", "import", "imap://alice@"+addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "10s", "--quiet", "--no-multiappend")
			appends, held, statuses := f.counts()
			if code != exitOK || appends != 3 || held != 3 || statuses != 4 {
				t.Errorf("exit %d, %d APPENDs, %d held, %d STATUS; want 0, 3, 3, 4\nstderr: %s", code, appends, held, statuses, errs)
			}
			var st importState
			if _, err := loadJSON(importStatePath(path), &st); err != nil {
				t.Fatal(err)
			}
			for _, e := range st.Dests {
				if e.Imported != 3 || e.Pending != nil {
					t.Errorf("state: %+v; want 3 imported, none pending", e)
				}
			}
		})
	}
}

// TestStatusUIDNextSometimes: a destination whose STATUS gives
// UIDNEXT only sometimes (here, the first run's and not the second's).
// The first run recorded its group with UIDNEXT and no message count; it
// stopped before the answer. The second run's STATUS gave no UIDNEXT, and
// with no count recorded it could not tell whether the group landed:
// exit 1 (errPendingUnknown) at every run. Now a group recorded right
// after a STATUS (here the only one, after checkDst's) records the count,
// fresh: the group not sent is sent again, the one whose answer was lost
// is taken for landed, both exit 0 with each message once. (Every group
// now asks a STATUS right before it and records the count:
// TestUIDNextStaleAfterDeliveryDovecot; a count kept without a
// STATUS goes stale, TestCountStaleAfterDelivery.)
func TestStatusUIDNextSometimes(t *testing.T) {
	t.Parallel()
	for _, lost := range []bool{false, true} {
		t.Run(fmt.Sprintf("landed=%v", lost), func(t *testing.T) {
			f := &stateDst{caps: "IMAP4rev1 LITERAL+ UIDPLUS", uidnext: func(call int) bool { return call == 1 },
				answer: func(k int) string {
					if lost && k == 1 {
						return ""
					}
					return "OK [APPENDUID 9 %d:%d] done"
				}}
			addr := f.start(t)
			path, _ := importSource(t, "maildir", []string{importSourceMsg(1, "")})
			if !lost {
				setTestHook(t, func(step string) error {
					if step == "pending" {
						return fmt.Errorf("stopped by the test")
					}
					return nil
				})
				t.Cleanup(func() { setTestHook(t, nil) })
			}
			if code, _, _ := pendingImport(t, addr, path); code == exitOK {
				t.Fatal("run 1: exit 0; want it stopped")
			}
			setTestHook(t, nil)
			code, _, errs := pendingImport(t, addr, path)
			appends, held, _ := f.counts()
			// Stopped before sending: sent by run 2. Lost answer:
			// landed, not sent again. One APPEND either way.
			if code != exitOK || appends != 1 || held != 1 {
				t.Errorf("run 2: exit %d, %d APPENDs, %d held; want 0, 1, 1\nstderr: %s", code, appends, held, errs)
			}
		})
	}
}

// TestCountStaleAfterDelivery (found by review): on a destination whose STATUS gives no
// UIDNEXT (the message count alone tells whether a pending group landed),
// the appender now keeps the count itself from the run's first STATUS. A
// message another client (delivery into INBOX during a migration) adds
// mid-run is not in it: the second group is recorded with dst_messages 1
// where the mailbox holds 2. The run stops before that group is sent; the
// next run's STATUS says 2 = 1 + 1, "landed", and the message is never
// sent: lost, exit 0. Before c983c96 prepare asked a STATUS before each
// group on such a server (dst_messages 2: "unchanged", sent again).
// Unlike UIDNEXT taken from APPENDUID (re-synced by every group's
// APPENDUID), the kept count never learns of another client's message.
func TestCountStaleAfterDelivery(t *testing.T) {
	t.Parallel()
	for _, caps := range []string{"IMAP4rev1 LITERAL+", "IMAP4rev1 LITERAL+ UIDPLUS"} {
		t.Run(caps, func(t *testing.T) {
			f := &stateDst{caps: caps, uidnext: func(int) bool { return false },
				answer: func(int) string { return "OK [APPENDUID 9 %d:%d] done" }}
			if !strings.Contains(caps, "UIDPLUS") {
				f.answer = func(int) string { return "OK done" }
			}
			addr := f.start(t)
			path, _ := importSource(t, "maildir", []string{importSourceMsg(1, ""), importSourceMsg(2, "")})
			pendings := 0
			setTestHook(t, func(step string) error {
				switch step {
				case "appended":
					// Another client delivers a message.
					f.mu.Lock()
					f.held++
					f.next++
					f.mu.Unlock()
				case "pending":
					pendings++
					if pendings == 2 {
						return fmt.Errorf("stopped by the test")
					}
				}
				return nil
			})
			t.Cleanup(func() { setTestHook(t, nil) })
			if code, _, _ := pendingImport(t, addr, path); code == exitOK {
				t.Fatal("run 1: exit 0; want it stopped")
			}
			setTestHook(t, nil)
			code, _, errs := pendingImport(t, addr, path)
			appends, held, _ := f.counts()
			// 2 of ours + 1 delivered = 3 held, 2 APPENDs; or exit 1
			// (cannot tell) would be safe too. Exit 0 with 1 APPEND
			// is message 2 lost.
			if code == exitOK && appends != 2 {
				t.Errorf("run 2: exit 0 with %d APPENDs, %d held: message 2 taken for landed, never sent (lost)\nstderr: %s", appends, held, errs)
			}
		})
	}
}

// TestStateKeyPathUnsafeRunes (found by review): stateKeyPath shows the key JSON-quoted,
// then printable: a rune json leaves raw but printable hides (C1
// controls, U+200E/U+200F, U+061C, U+202A-U+202E, U+2066-U+2069) becomes
// '?', and the path names a key the state file does not hold:
// del(.mailboxes["a?b"]) in jq removes nothing. A Hebrew or Arabic
// mailbox name may well hold U+200F. Such runes can be written \uXXXX,
// which JSON and jq read back.
func TestStateKeyPathUnsafeRunes(t *testing.T) {
	for _, key := range []string{"a\u200fb", "a\u0085b", "x\u202ey", "q\"\\\x01"} {
		p := stateKeyPath("mailboxes", key)
		inner, ok := strings.CutPrefix(p, ".mailboxes[")
		inner, ok2 := strings.CutSuffix(inner, "]")
		var got string
		if !ok || !ok2 || json.Unmarshal([]byte(inner), &got) != nil || got != key {
			t.Errorf("stateKeyPath(%q) = %s, which names the key %q; want a path to %q", key, p, got, key)
		}
	}
}
