//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestCopyRestartMailbox: a source mailbox whose UIDVALIDITY changed (the
// server rebuilt it) was refused, and the advice was to delete the
// destination mailbox and remove .mailboxes["NAME"] from the state file
// by hand, while the map journal may hold that mailbox's lines too.
// --restart-mailbox NAME does it, against Dovecot (source and destination
// one account, as TestCopyStateAdvice; Beta renumbered by deleting it and
// creating it again):
//   - a NAME the source does not list (exit 1), or one not among the
//     mailboxes named (a usage error, exit 2): the state file untouched,
//     no journal;
//   - Alpha, whose UIDVALIDITY did not change: refused (exit 1) without
//     --restart-unchanged;
//   - Beta while BetaDst still holds the old copies (the same run):
//     refused (exit 1), naming the deletion and --map, nothing appended,
//     its entry as it was;
//   - Beta once BetaDst is deleted: copied from its start, each message
//     once, and its entry is the new mailbox's; mid-run (at its first
//     group's pending save, Alpha's save having opened the journal with
//     Beta's old map) the journal holds no line of the old map, and a
//     second run of the job is refused by the lock (exit 3);
//   - Alpha with --restart-unchanged and --map to another mailbox: copied
//     whole there, Beta not copied again.
//
// Four runs that connect (a run each took 0.2-0.6 s under -race): the
// refusals share one.
func TestCopyRestartMailbox(t *testing.T) {
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
	fill("Alpha", 1)
	fill("Beta", 2)
	// alphaTo is Alpha's --map target (a second --map of Alpha is a
	// usage error: TestCopyMapSameSourceTwice).
	alphaTo := "AlphaDst"
	run := func(step string, want int, extra ...string) string {
		t.Helper()
		args := append([]string{"copy", url, url, "Alpha", "Beta", "--map", "Alpha=" + alphaTo, "--map", "Beta=BetaDst",
			"--dst-ca-file", cf[1], "--state-dir", stateDir, "--quiet"}, cf...)
		code, out, errs := runCLI(t, "", append(args, extra...)...)
		if code != want {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", step, code, want, out, errs)
		}
		return errs
	}
	run("first run", 0)
	states, _ := filepath.Glob(filepath.Join(stateDir, "copy-*.json"))
	if len(states) != 1 || held("BetaDst") != 2 {
		t.Fatalf("first run: state files %q, %d messages in BetaDst", states, held("BetaDst"))
	}
	spath, jpath := states[0], mapJournalPath(states[0])
	read := func() (raw []byte, st copyState) {
		t.Helper()
		raw, err := os.ReadFile(spath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		return raw, st
	}
	_, first := read()
	oldBeta := first.Mailboxes["Beta"]
	if oldBeta == nil || len(oldBeta.UIDMap) == 0 {
		t.Fatalf("first run: Beta's entry %+v, want one with a UID map", oldBeta)
	}

	// Beta renumbered.
	if err := c.Delete(ctx, "Beta"); err != nil {
		t.Fatal(err)
	}
	fill("Beta", 3)

	// A name the state does not record.
	before, _ := read()
	all := func(restart string) []string {
		return append([]string{"copy", url, url, "--dst-ca-file", cf[1], "--state-dir", stateDir, "--quiet", "--restart-mailbox", restart}, cf...)
	}
	code, _, errs := runCLI(t, "", all("Nope")...)
	if code != exitNo {
		t.Errorf("unknown name: exit %d, want %d", code, exitNo)
	}
	wantInOutput(t, "unknown name", errs, []string{"--restart-mailbox Nope: not restarted: the source lists no such mailbox: nothing done"}, nil)
	errs = run("not named", exitUsage, "--restart-mailbox", "Gamma")
	wantInOutput(t, "not named", errs, []string{"--restart-mailbox Gamma: not among the mailboxes named (Alpha Beta)"}, nil)
	if after, _ := read(); !bytes.Equal(before, after) {
		t.Errorf("unknown name: the state file changed:\n%s\nnow:\n%s", before, after)
	}
	if _, err := os.Stat(jpath); !os.IsNotExist(err) {
		t.Errorf("unknown name: a map journal is left: %v", err)
	}

	// Alpha's UIDVALIDITY did not change; BetaDst still holds the old
	// copies.
	errs = run("refused", exitNo, "--restart-mailbox", "Alpha", "--restart-mailbox", "Beta")
	wantInOutput(t, "unchanged", errs, []string{"Alpha: not restarted: its UIDVALIDITY", "has not changed", "--restart-unchanged"}, nil)
	wantInOutput(t, "old copies there", errs, []string{"Beta: not restarted: the destination mailbox BetaDst", "holds 2 messages", "twice", "delete BetaDst on the destination", "--map Beta=OTHER", "the state is unchanged"}, nil)
	if a, b := held("AlphaDst"), held("BetaDst"); a != 1 || b != 2 {
		t.Errorf("refused: AlphaDst and BetaDst hold %d and %d messages, want 1 and 2 (nothing appended)", a, b)
	}
	_, st := read()
	if !reflect.DeepEqual(st.Mailboxes["Beta"], oldBeta) {
		t.Errorf("old copies there: Beta's entry %+v, want it as it was, %+v", st.Mailboxes["Beta"], oldBeta)
	}

	// As advised: BetaDst deleted. Mid-run, at Beta's first group, the
	// journal holds none of Beta's old map, and the lock refuses a
	// second run.
	if err := c.Delete(ctx, "BetaDst"); err != nil {
		t.Fatal(err)
	}
	var journal []byte
	var second string
	setTestHook(t, func(step string) error {
		if step != "pending" || journal != nil {
			return nil
		}
		var err error
		if journal, err = os.ReadFile(jpath); err != nil {
			return err
		}
		code, _, errs := runCLI(t, "", all("Beta")...)
		second = fmt.Sprintf("exit %d: %s", code, errs)
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })
	errs = run("restart", 0, "--restart-mailbox", "Beta")
	setTestHook(t, nil)
	wantInOutput(t, "restart", errs, []string{"Beta: restarted (--restart-mailbox)"}, nil)
	if n := held("BetaDst"); n != 3 {
		t.Errorf("restart: BetaDst holds %d messages, want 3", n)
	}
	if journal == nil {
		t.Fatal("restart: no pending group seen")
	}
	for _, l := range strings.Split(strings.TrimSpace(string(journal)), "\n") {
		var r mapRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("journal line %q: %v", l, err)
		}
		if r.Box == "Beta" && (r.V == oldBeta.DstUIDValidity || len(r.Map) > 0) {
			t.Errorf("mid-run, the map journal holds a line of Beta's old map (UIDVALIDITY %d): %s\njournal:\n%s", oldBeta.DstUIDValidity, l, journal)
		}
	}
	if !strings.HasPrefix(second, fmt.Sprintf("exit %d: ", exitConnFail)) || !strings.Contains(second, "another imapkit is using it") {
		t.Errorf("a second run during the restart: %s; want exit %d, the state busy", second, exitConnFail)
	}
	_, st = read()
	if b := st.Mailboxes["Beta"]; b == nil || b.UIDValidity == oldBeta.UIDValidity || b.LastUID != 3 || b.Copied != 3 || b.UIDMap.lookup(3) == 0 {
		t.Errorf("restart: Beta's entry %+v, want the new mailbox's, 3 copied", b)
	}

	// Alpha, unchanged, copied whole to another mailbox on purpose
	// (--restart-unchanged, --map): AlphaDst keeps its copy; Beta is
	// not copied again.
	alphaTo = "AlphaNew"
	errs = run("unchanged, confirmed", 0, "--restart-mailbox", "Alpha", "--restart-unchanged")
	wantInOutput(t, "unchanged, confirmed", errs, []string{"Alpha: restarted (--restart-mailbox)"}, []string{"Beta: restarted"})
	if a, n, b := held("AlphaDst"), held("AlphaNew"), held("BetaDst"); a != 1 || n != 1 || b != 3 {
		t.Errorf("unchanged, confirmed: AlphaDst, AlphaNew and BetaDst hold %d, %d and %d messages; want 1, 1 and 3", a, n, b)
	}
}

// TestCopyRestartDropBoxJournal: dropBox, mid-run (the journal open,
// Beta's map in it, and a group's pairs not journaled yet), leaves on
// disk a journal without a line of Beta and a state file without its
// entry; read back, the other mailbox's map is whole. Without a server.
func TestCopyRestartDropBoxJournal(t *testing.T) {
	path, st := alphaBetaState(t)
	if err := st.save(path); err != nil { // the run's first save: the journal written whole
		t.Fatal(err)
	}
	st.Mailboxes["Alpha"].mapAppended(7, []uint32{3}, []uint32{3})
	st.Mailboxes["Alpha"].LastUID = 3
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	st.Mailboxes["Beta"].mapAppended(8, []uint32{4}, []uint32{8}) // not saved yet
	if err := st.dropBox(context.Background(), path, "Beta"); err != nil {
		t.Fatal(err)
	}
	defer st.compact(path)
	j, err := os.ReadFile(mapJournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), `"box":"Beta"`) {
		t.Errorf("the journal holds lines of the mailbox dropped:\n%s", j)
	}
	back := readCopyState(t, path)
	if back.Mailboxes["Beta"] != nil {
		t.Errorf("the state file holds the entry dropped: %+v", back.Mailboxes["Beta"])
	}
	if a := back.Mailboxes["Alpha"]; a == nil || a.LastUID != 3 || a.UIDMap.lookup(3) != 3 || a.UIDMap.lookup(1) != 1 {
		t.Errorf("Alpha read back: %+v", a)
	}
}

// restartEnv is a Dovecot account (source and destination alike, as
// TestCopyRestartMailbox) with helpers for the restart tests that came
// from a review.
type restartEnv struct {
	t        *testing.T
	ctx      context.Context
	c        *commands.Client
	url      string
	cf       []string
	stateDir string
}

func restartSetup(t *testing.T) *restartEnv {
	t.Helper()
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &restartEnv{t: t, ctx: ctx, c: client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password), url: url, cf: cf, stateDir: t.TempDir()}
}

// fill creates box (INBOX is there already: not created) and appends n
// messages to it, their subjects tag0, tag1, ...
func (e *restartEnv) fill(box, tag string, n int) {
	e.t.Helper()
	if box != "INBOX" {
		if err := e.c.Create(e.ctx, box, nil); err != nil {
			e.t.Fatal(err)
		}
	}
	for i := range n {
		msg := fmt.Sprintf("From: a@example.com\r\nSubject: %s%d\r\n\r\nhi\r\n", tag, i)
		if _, err := e.c.AppendBytes(e.ctx, box, []byte(msg), nil); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *restartEnv) del(box string) {
	e.t.Helper()
	if err := e.c.Delete(e.ctx, box); err != nil {
		e.t.Fatal(err)
	}
}

func (e *restartEnv) run(args ...string) (int, string) {
	e.t.Helper()
	a := append([]string{"copy", e.url, e.url, "--dst-ca-file", e.cf[1], "--state-dir", e.stateDir, "--quiet"}, e.cf...)
	code, _, errs := runCLI(e.t, "", append(a, args...)...)
	return code, errs
}

// mustRun runs args and stops the test unless the run exits 0; step
// names the run in the failure.
func (e *restartEnv) mustRun(step string, args ...string) {
	e.t.Helper()
	if code, errs := e.run(args...); code != exitOK {
		e.t.Fatalf("%s: exit %d\n%s", step, code, errs)
	}
}

// restartBegunToNew makes what a --restart-mailbox INBOX to New an older
// imapkit began and stopped after its first message leaves on the
// server: New created, holding i0. It returns New's UIDVALIDITY.
func (e *restartEnv) restartBegunToNew() uint32 {
	e.t.Helper()
	e.fill("New", "i", 1)
	ns, err := e.c.Status(e.ctx, "New", commands.StatusUIDValidity)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns.UIDValidity
}

// recordTwice edits the state file as an older imapkit that copied name
// twice, once under each name, left it: its entry under other too.
func (e *restartEnv) recordTwice(name, other string) {
	e.t.Helper()
	editCopyState(e.t, e.statePath(), func(st map[string]any) {
		boxes := st["mailboxes"].(map[string]any)
		boxes[other] = boxes[name]
	})
}

// stateFile reads the state file back: its bytes and what they hold.
func (e *restartEnv) stateFile() ([]byte, copyState) {
	e.t.Helper()
	var st copyState
	raw, err := os.ReadFile(e.statePath())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		e.t.Fatal(err)
	}
	return raw, st
}

func (e *restartEnv) statePath() string {
	e.t.Helper()
	states, _ := filepath.Glob(filepath.Join(e.stateDir, "copy-*.json"))
	if len(states) != 1 {
		e.t.Fatalf("state files %q, want one", states)
	}
	return states[0]
}

// TestCopyRestartIntoRenamedDestination (found by review): the user
// renames the destination mailbox (BetaDst to Projects, on the
// destination) and changes the --map to follow it (--map Beta=Projects).
// The run refuses ("it was copied to BetaDst before, not Projects") and
// its advice names --restart-mailbox Beta --restart-unchanged. Followed,
// every message was twice in Projects: restartMailbox looked at the
// destination only when it was the recorded one by name. Now any
// destination mailbox that holds messages refuses the restart of an
// entry that records copies (restartDstEmpty). The changed --map's
// refusal exits 1 (errMapChanged; it was 3, an I/O error that scripts
// retry, found by review too).
func TestCopyRestartIntoRenamedDestination(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("Beta", "b", 2)
	e.mustRun("first run", "Beta", "--map", "Beta=BetaDst")
	if err := e.c.Rename(e.ctx, "BetaDst", "Projects"); err != nil {
		t.Fatal(err)
	}
	code, errs := e.run("Beta", "--map", "Beta=Projects")
	if code != exitNo || !strings.Contains(errs, "--restart-mailbox Beta --restart-unchanged") {
		// Exit 1 (errMapChanged): it was 3, an I/O error to scripts
		// (found by review, 222f29b: its test shares this run).
		t.Fatalf("changed --map: exit %d, want %d and the advice naming --restart-mailbox Beta --restart-unchanged\n%s", code, exitNo, errs)
	}
	// As advised.
	code, errs = e.run("Beta", "--map", "Beta=Projects", "--restart-mailbox", "Beta", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "Projects"); got != "b0,b1" {
		t.Errorf("advice followed (Projects is BetaDst renamed): exit %d, Projects holds %s; want b0,b1 (each once; refused is fine)\nstderr: %s", code, got, errs)
	}
}

// TestCopyTypedInboxCaseOneEntry (found by review): INBOX is
// case-insensitive, but a mailbox name typed on the command line was the
// state's key as typed: "copy SRC DST inbox --map inbox=InDst" recorded
// .mailboxes["inbox"], and a later run naming INBOX found no entry and
// copied INBOX whole again (InDst: i0,i1,i0,i1). Typed names, --map
// sources and --restart-mailbox are now INBOX in any case (inboxName),
// and a state an older imapkit wrote under "inbox" is found too
// (foldInbox): run 2 reads such a state, --restart-mailbox inbox
// --restart-unchanged names the same entry (refused: InDst holds the
// copies).
func TestCopyTypedInboxCaseOneEntry(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX", "i", 2)
	e.mustRun("run 1 (inbox)", "inbox", "--map", "inbox=InDst")
	// As an older imapkit recorded it: under the name typed.
	editCopyState(t, e.statePath(), func(st map[string]any) {
		boxes := st["mailboxes"].(map[string]any)
		if boxes["INBOX"] == nil {
			t.Fatalf("run 1 (inbox): the state records %v, want INBOX", boxes)
		}
		boxes["inbox"] = boxes["INBOX"]
		delete(boxes, "INBOX")
	})
	code, errs := e.run("INBOX", "--map", "INBOX=InDst")
	if got := subjectsOf(t, e.c, "InDst"); code != exitOK || got != "i0,i1" {
		t.Errorf("run 2 (INBOX, the same mailbox): exit %d, InDst holds %s; want 0, i0,i1 (nothing new)\nstderr: %s", code, got, errs)
	}
	code, errs = e.run("Inbox", "--map", "INBOX=InDst", "--restart-mailbox", "inbox", "--restart-unchanged")
	if got := subjectsOf(t, e.c, "InDst"); code != exitNo || got != "i0,i1" || !strings.Contains(errs, "INBOX: not restarted: the destination mailbox InDst") {
		t.Errorf("--restart-mailbox inbox: exit %d, InDst holds %s; want %d, i0,i1, refused (InDst holds the copies)\nstderr: %s", code, got, exitNo, errs)
	}
}

// TestCopyRestartSharedDestination (found by review): two source
// mailboxes copied into one destination mailbox (--map A=X --map B=X, a
// merge). A renumbered, its restart refused while X holds messages: the
// advice offered to delete X, which holds B's copies too; followed, the
// rerun could not end well: B found X holding A's new copies and was
// refused (errDstChanged, whose advice was to hand-edit the state), and
// with both renumbered and restarted into the deleted X, the second found
// the first's new copies and was refused as holding the old ones. Now
// the advice offers --map only, and a destination mailbox this run
// created holds none of the copies earlier runs made (mailboxTry.dstFresh):
// a restart into it is not refused, and another mailbox's entry that
// records copies there starts over. One account for both cases (the
// two a review found, 76df157).
func TestCopyRestartSharedDestination(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("A", "a", 2)
	e.fill("B", "b", 2)
	args := []string{"A", "B", "--map", "A=X", "--map", "B=X"}
	e.mustRun("first run", args...)
	e.del("A")
	e.fill("A", "n", 2)
	code, errs := e.run(append(args, "--restart-mailbox", "A")...)
	if code != exitNo || strings.Contains(errs, "delete X") || !strings.Contains(errs, "X holds the copies of B too") {
		t.Fatalf("restart while X holds the copies: exit %d, want %d, --map offered, not to delete X (B's copies are there)\n%s", code, exitNo, errs)
	}
	held := func(step string, want map[string]int) {
		t.Helper()
		have := map[string]int{}
		for _, s := range strings.Split(subjectsOf(t, e.c, "X"), ",") {
			have[s]++
		}
		if fmt.Sprint(have) != fmt.Sprint(want) {
			t.Errorf("%s: X holds %v; want %v", step, have, want)
		}
		// X is deleted next: Dovecot ends a session that has it selected.
		if err := e.c.Unselect(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	// X deleted all the same: A's restart and B copied whole again in
	// one run, each message once.
	e.del("X")
	code, errs = e.run(append(args, "--restart-mailbox", "A")...)
	if code != exitOK {
		t.Errorf("X deleted, A restarted: exit %d, want 0\nstderr: %s", code, errs)
	}
	held("X deleted, A restarted", map[string]int{"n0": 1, "n1": 1, "b0": 1, "b1": 1})

	// Both renumbered, X deleted, both restarted in one run.
	e.del("A")
	e.fill("A", "p", 1)
	e.del("B")
	e.fill("B", "q", 1)
	e.del("X")
	code, errs = e.run(append(args, "--restart-mailbox", "A", "--restart-mailbox", "B")...)
	if code != exitOK {
		t.Errorf("both restarted into the deleted X: exit %d, want 0\nstderr: %s", code, errs)
	}
	held("both restarted", map[string]int{"p0": 1, "q0": 1})
}

// TestCopyRestartRerunAfterKill (found by review): a --restart-mailbox
// run killed after its commit is run again as it was typed (the shell's
// history). It was refused:
//   - killed right after the commit, before the new entry's first save
//     (the state on disk: no entry; made here by removing the entry, what
//     dropBox's commit leaves): exit 2, "the state file ... records no
//     such source mailbox", every other mailbox refused too; now a note,
//     and the mailbox copied as a first run;
//   - killed after the new copy's first group landed (the state on disk
//     at "appended"): exit 1, "its UIDVALIDITY (...) has not changed";
//     now the entry records that a restart began it (restarted), and
//     the same command goes on with it, each message once.
func TestCopyRestartRerunAfterKill(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("Alpha", "a", 1)
	e.fill("Beta", "b", 2)
	maps := []string{"Alpha", "Beta", "--map", "Alpha=AlphaDst", "--map", "Beta=BetaDst"}
	e.mustRun("first run", maps...)
	spath := e.statePath()
	// Beta renumbered, BetaDst deleted as advised.
	e.del("Beta")
	e.fill("Beta", "n", 3)
	e.del("BetaDst")

	t.Run("killed after the commit", func(t *testing.T) {
		onDisk := stateSnapshot(t, e.stateDir)
		defer stateRestore(t, e.stateDir, onDisk)
		// What the restart's commit leaves on disk (its rename), the
		// run killed before Beta's first save.
		editCopyState(t, spath, func(st map[string]any) {
			delete(st["mailboxes"].(map[string]any), "Beta")
		})
		code, errs := e.run(append(maps, "--restart-mailbox", "Beta")...)
		if code != exitOK {
			t.Errorf("rerun of the same command after a kill past the commit: exit %d, want 0 (the restart is done: copy Beta as a first run)\nstderr: %s", code, errs)
		}
		if got := subjectsOf(t, e.c, "BetaDst"); got != "n0,n1,n2" {
			t.Errorf("rerun after a kill past the commit: BetaDst holds %q, want n0,n1,n2", got)
		}
		// For the next case (unselected first: Dovecot ends a session
		// whose selected mailbox is deleted).
		if err := e.c.Unselect(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.del("BetaDst")
	})

	t.Run("killed after a group", func(t *testing.T) {
		var onDisk map[string][]byte
		setTestHook(t, func(step string) error {
			if step == "appended" && onDisk == nil {
				onDisk = stateSnapshot(t, e.stateDir)
				return fmt.Errorf("stopped by the test")
			}
			return nil
		})
		code, errs := e.run(append(maps, "--restart-mailbox", "Beta", "--no-multiappend")...)
		setTestHook(t, nil)
		if code == exitOK || onDisk == nil {
			t.Fatalf("restart run: exit %d, snapshot %v; want it stopped at the first group\n%s", code, onDisk != nil, errs)
		}
		stateRestore(t, e.stateDir, onDisk)
		code, errs = e.run(append(maps, "--restart-mailbox", "Beta", "--no-multiappend")...)
		got := subjectsOf(t, e.c, "BetaDst")
		if code != exitOK || got != "n0,n1,n2" {
			t.Errorf("rerun of the same command after a kill mid-restart: exit %d, BetaDst holds %q; want 0, n0,n1,n2\nstderr: %s", code, got, errs)
		}
	})
}

// TestCopyRestartDropBoxKilled (found by review): dropBox wrote the map
// journal anew without Beta's lines, then the state file without its
// entry (the commit). Mid-run (a mailbox before Beta saved: the state
// file on disk is lean, the maps are in the journal), a kill between the
// two left Beta's entry without its UID map: the state not as it was,
// though the restart was not committed (for --restart-unchanged, a
// mailbox whose map is good, the flag changes were then carried by
// Message-ID searches, or not at all). Now the state file is written
// first: killed at the step between ("restart-committed"), the files
// read back hold no Beta, and Alpha's map whole, the pairs not journaled
// yet included. Without a server. (The review's test of d7e9d08 built
// the files of the old order by hand; this one stops dropBox itself.)
func TestCopyRestartDropBoxKilled(t *testing.T) {
	path, st := alphaBetaState(t)
	if err := st.save(path); err != nil { // Alpha's turn: the run's first save
		t.Fatal(err)
	}
	defer func() {
		if st.journal != nil {
			st.journal.Close()
		}
	}()
	st.Mailboxes["Alpha"].mapAppended(7, []uint32{3}, []uint32{4}) // not saved yet
	st.Mailboxes["Alpha"].LastUID = 3
	killed := errors.New("killed by the test")
	ctx := context.WithValue(context.Background(), testHookKey{}, func(step string) error {
		if step == "restart-committed" {
			return killed
		}
		return nil
	})
	if err := st.dropBox(ctx, path, "Beta"); !errors.Is(err, killed) {
		t.Fatalf("dropBox: %v, want it stopped at restart-committed", err)
	}
	back := readCopyState(t, path)
	if b := back.Mailboxes["Beta"]; b != nil && b.UIDMap.lookup(3) != 7 {
		t.Errorf("killed mid-restart: Beta's entry %+v; want it gone, or as it was (its map whole, 3 -> 7)", b)
	}
	if a := back.Mailboxes["Alpha"]; a == nil || a.LastUID != 3 || a.UIDMap.lookup(1) != 1 || a.UIDMap.lookup(3) != 4 {
		t.Errorf("killed mid-restart: Alpha's entry %+v; want last UID 3, its map whole (1 -> 1, 3 -> 4)", a)
	}
}

// TestCopyRestartRefusedCreatesNothing (found by review): a refused --restart-mailbox is
// documented as "refuses, with nothing removed ... the state unchanged",
// but the destination mailbox was created (nameMapper.ensure, in
// copyAccount) before copyMailbox got to restartMailbox's refusal: a
// restart refused because the UIDVALIDITY did not change, with a --map
// whose name is mistyped, left an empty "Alhpa" on the destination. Now
// restartCheck decides before the CREATE. (errSrcUIDValidity, with no
// --restart-mailbox, still creates it: it is told after the SELECT.)
func TestCopyRestartRefusedCreatesNothing(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("Alpha", "a", 1)
	e.mustRun("first run", "Alpha", "--map", "Alpha=AlphaDst")
	code, errs := e.run("Alpha", "--map", "Alpha=Alhpa", "--restart-mailbox", "Alpha")
	if code != exitNo {
		t.Fatalf("restart of an unchanged mailbox: exit %d, want %d\n%s", code, exitNo, errs)
	}
	if _, err := e.c.Status(e.ctx, "Alhpa", commands.StatusMessages); err == nil {
		t.Errorf("a refused restart created the destination mailbox Alhpa\nstderr: %s", errs)
	}
}

// TestCopyTypedTwiceOnce (found by review): a mailbox named twice on the
// command line, into a destination mailbox the run creates. The second
// turn took the first's copies in X for another mailbox's (X created by
// this run: mailboxTry.dstFresh) and copied A whole again next to them:
// every message twice. Now a name is copied once (inboxNames), and a
// source mailbox copied to X in this run keeps its entry there.
func TestCopyTypedTwiceOnce(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("A", "a", 2)
	code, errs := e.run("A", "A", "--map", "A=X")
	if got := subjectsOf(t, e.c, "X"); got != "a0,a1" || code != exitOK {
		t.Errorf("A named twice into a new X: exit %d, X holds %s; want exit 0, a0,a1 (each once)\nstderr: %s", code, got, errs)
	}
}

// TestCopyTypedInboxTwoCasesOnce (found by review): the same through
// inboxName: "INBOX" and "inbox" typed are one name, copied once.
func TestCopyTypedInboxTwoCasesOnce(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX", "i", 2)
	code, errs := e.run("INBOX", "inbox", "--map", "INBOX=InDst")
	if got := subjectsOf(t, e.c, "InDst"); got != "i0,i1" || strings.Contains(errs, "created by this run") {
		t.Errorf("INBOX and inbox typed: exit %d, InDst holds %s; want i0,i1 (each once)\nstderr: %s", code, got, errs)
	}
}

// TestInboxNamesOnce: the typed names through inboxName, each once, in
// the order typed (no server: the de-duplication alone).
func TestInboxNamesOnce(t *testing.T) {
	in := []string{"B", "inbox", "A", "INBOX", "B", "Inbox/x"}
	if got, want := inboxNames(in), []string{"B", "INBOX", "A", "Inbox/x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("inboxNames(%q) = %q, want %q", in, got, want)
	}
}

// TestCopyFoldInboxKilledFirstSave (found by review): a state an older
// imapkit wrote under "inbox", killed before its end (the state file
// lean, the UID map in the journal, under "inbox"). The run folds the
// entry to "INBOX" and its first save writes the journal anew, the map
// under "INBOX", then the state file (save: logMaps, then saveJSON).
// Killed between the two, the state file said "inbox" and the journal
// "INBOX": the next load skipped the journal's lines (no entry "INBOX"
// yet) before the fold, and the map was gone for good at the next save.
// Now loadCopyState folds before the replay, and a journal line under
// either name finds the entry.
func TestCopyFoldInboxKilledFirstSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy-x.json")
	st := &copyState{Version: 1, Src: "s", Dst: "d", Mailboxes: map[string]*copyBox{}}
	b := &copyBox{Dst: "InDst", UIDValidity: 7, LastUID: 3, Copied: 3}
	b.addPairs(9, []uint32{1, 2, 3}, []uint32{1, 2, 3})
	st.Mailboxes["inbox"] = b
	// An older run killed: the state file lean, the map in the journal.
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	st.journal.Close()
	// The run: load (and fold), its first save killed after the
	// journal's write.
	run := readCopyState(t, path)
	// A no-op now; the fold a run did after the load, before (the
	// fault: the next load's replay came before it).
	run.foldInbox()
	// The next run.
	next := killedFirstSave(t, path, run)
	next.foldInbox()
	got := next.Mailboxes["INBOX"]
	if got == nil || got.UIDMap.lookup(2) != 2 || got.DstUIDValidity != 9 || next.Mailboxes["inbox"] != nil {
		t.Fatalf("after a kill inside the first save after the fold: INBOX's entry %+v (entries %v); want its UID map (1:1..3:3, DSTUIDVALIDITY 9) kept under INBOX", got, next.boxNames())
	}
}

// TestCopyTypedInboxChildCase (found by review): inboxName folds INBOX
// typed in another case but not INBOX's children: "copy SRC DST
// inbox/Sub --map inbox/Sub=SubDst" recorded .mailboxes["inbox/Sub"]
// (Dovecot selects it: its INBOX prefix is case-insensitive), and a later
// run naming "INBOX/Sub" (or none: the source lists "INBOX/Sub") found
// no entry and copied it whole again next to the copies made before.
// Now a typed name, a --map source and a state entry are named as the
// source lists them (nameMapper.foldInboxChildren); an entry an older
// imapkit recorded under "inbox/Sub" is moved too (the third run).
// The destination is a mailbox of the source's account (restartSetup).
func TestCopyTypedInboxChildCase(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX/Sub", "s", 2)
	e.mustRun("run 1 (inbox/Sub)", "inbox/Sub", "--map", "inbox/Sub=SubDst")
	code, errs := e.run("INBOX/Sub", "--map", "INBOX/Sub=SubDst")
	if got := subjectsOf(t, e.c, "SubDst"); got != "s0,s1" || code != exitOK {
		t.Fatalf("run 2 (INBOX/Sub, the same mailbox): exit %d, SubDst holds %s; want exit 0, s0,s1 (nothing new)\nstderr: %s", code, got, errs)
	}
	// A state an older imapkit wrote: the entry under "inbox/Sub".
	path := e.statePath()
	st := readCopyState(t, path)
	if st.Mailboxes["INBOX/Sub"] == nil || st.Mailboxes["inbox/Sub"] != nil {
		t.Fatalf("the state's entries %v; want INBOX/Sub only", st.boxNames())
	}
	st.Mailboxes["inbox/Sub"] = st.Mailboxes["INBOX/Sub"]
	delete(st.Mailboxes, "INBOX/Sub")
	if err := saveJSON(path, st); err != nil {
		t.Fatal(err)
	}
	// Named (the account is the source and the destination: all its
	// mailboxes would copy SubDst into itself).
	code, errs = e.run("INBOX/Sub", "--map", "INBOX/Sub=SubDst")
	if got := subjectsOf(t, e.c, "SubDst"); got != "s0,s1" || code != exitOK {
		t.Errorf("run 3 (INBOX/Sub, the entry under inbox/Sub): exit %d, SubDst holds %s; want exit 0, s0,s1 (nothing new)\nstderr: %s", code, got, errs)
	}
}

// TestCopyInboxChildJournalVariant: a journal line under "INBOX/Sub" (the
// entry folded by nameMapper.foldInboxChildren, the journal written anew)
// with the state file still under "inbox/Sub" (a kill between the two
// writes of the first save) finds the entry; with the two names both
// recorded, each line goes to its own.
func TestCopyInboxChildJournalVariant(t *testing.T) {
	path := writeOldState(t, map[string]*copyBox{"inbox/Sub": {Dst: "SubDst", UIDValidity: 7, LastUID: 2, Copied: 2}}, "")
	run := &copyState{Mailboxes: map[string]*copyBox{}}
	b := &copyBox{Dst: "SubDst", UIDValidity: 7, LastUID: 2, Copied: 2}
	b.addPairs(9, []uint32{1, 2}, []uint32{5, 6})
	run.Mailboxes["INBOX/Sub"] = b
	next := killedFirstSave(t, path, run)
	if got := next.Mailboxes["inbox/Sub"]; got == nil || got.UIDMap.lookup(2) != 6 || got.DstUIDValidity != 9 {
		t.Errorf("inbox/Sub's entry after the replay of INBOX/Sub's line: %+v; want its map (1:5, 2:6, DSTUIDVALIDITY 9)", got)
	}
	// Two: a line under the name they fold to goes to the one the fold
	// keeps (TestCopyStateInboxVariantsKilledFirstSave); under another,
	// to none.
	two := &copyState{Mailboxes: map[string]*copyBox{"inbox/Sub": {}, "Inbox/Sub": {}}}
	if next.inboxVariant("INBOX/Sub") == nil || two.inboxVariant("INBOX/Sub") != two.Mailboxes["Inbox/Sub"] || two.inboxVariant("inBox/Sub") != nil {
		t.Errorf("inboxVariant: want the one variant; when two, the first for INBOX/Sub, none for inBox/Sub")
	}
	two.Mailboxes["inbox/Sub"].LastUID = 1
	if two.inboxVariant("INBOX/Sub") != two.Mailboxes["inbox/Sub"] {
		t.Errorf("inboxVariant: two, inbox/Sub recording copies: want it for INBOX/Sub")
	}
}

// TestCopyRestartedClearedAtEnd (found by review): "restarted": true
// stayed in the entry once the restart had finished, so any later
// --restart-mailbox of the same UIDVALIDITY to the same destination,
// --restart-unchanged given, was taken for "the same command run again
// after a kill": it did nothing ("already restarted ... going on where
// it stopped", exit 0) instead of refusing while X holds the copies
// (restartDstEmpty), as it does for an entry a plain run began.
func TestCopyRestartedClearedAtEnd(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("A", "a", 1)
	e.mustRun("run 1", "A", "--map", "A=X")
	e.del("A")
	e.fill("A", "n", 1)
	e.del("X")
	e.mustRun("restart", "A", "--map", "A=X", "--restart-mailbox", "A")
	if got := subjectsOf(t, e.c, "X"); got != "n0" {
		t.Fatalf("after the restart X holds %s, want n0", got)
	}
	// Long after, a deliberate restart of the unchanged mailbox to X,
	// which holds its copies: refused, as for any entry recording copies.
	code, errs := e.run("A", "--map", "A=X", "--restart-mailbox", "A", "--restart-unchanged")
	if code != exitNo || strings.Contains(errs, "already restarted") {
		t.Errorf("a later --restart-mailbox A --restart-unchanged into X holding the copies: exit %d, want %d (refused: X holds messages), not taken for a rerun after a kill\nstderr: %s", code, exitNo, errs)
	}
	if got := subjectsOf(t, e.c, "X"); got != "n0" {
		t.Errorf("after the refused restart X holds %s, want n0", got)
	}
}
