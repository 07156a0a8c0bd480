//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview46HSectionFieldSeparators: with HEADER.FIELDS split on SP
// and TAB only (TestReview46HSectionFieldNameUnicodeSpace), a list apart
// by runs of spaces or by tabs still gives its names, and the last part
// number there is (4294967295) is still taken.
func TestReview46HSectionFieldSeparators(t *testing.T) {
	sec, err := parseSection("HEADER.FIELDS (From\tTo   Subject )")
	if err != nil || !slices.Equal(sec.Fields, []string{"From", "To", "Subject"}) {
		t.Errorf("fields %q, %v; want From, To, Subject", sec.Fields, err)
	}
	sec, err = parseSection("1.4294967295.MIME")
	if err != nil || !slices.Equal(sec.Part, []int{1, 4294967295}) {
		t.Errorf("part %v, %v; want 1.4294967295", sec.Part, err)
	}
}

// r46HAppendServer is a destination that answers STATUS with UIDNEXT
// uidnext always (4294967295: it cannot move past it; 0: unknown) and
// MESSAGES the count of APPENDs it took; the first APPEND is taken and
// its answer lost (the connection drops), later ones are answered OK.
// appends counts them.
func r46HAppendServer(t *testing.T, uidnext uint32) (addr string, appends func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	var stored []l46Msg // for EXAMINE and FETCH
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 LITERAL+ UIDPLUS"); err != nil {
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
			case "NAMESPACE":
				err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
			case "LIST":
				err = c.Lines(`* LIST () "/" INBOX`, ok)
			case "STATUS":
				mu.Lock()
				m := n
				mu.Unlock()
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDNEXT %d UIDVALIDITY 9 MESSAGES %d)", uidnext, m), ok)
			case "APPEND":
				if _, err := c.ReadLiteral(cmd.Literal); err != nil {
					return err
				}
				if _, err := c.ReadLine(); err != nil {
					return err
				}
				m := l46Msg{size: cmd.Literal}
				if d := l46Date.FindStringSubmatch(cmd.Line); d != nil {
					m.date = d[1]
				}
				mu.Lock()
				stored = append(stored, m)
				n++
				first := n == 1
				mu.Unlock()
				if first {
					return nil // taken; the answer is lost
				}
				err = c.Line(ok)
			case "EXAMINE":
				// For the pending group that UIDNEXT cannot
				// tell, looked for by its messages
				// (appender.confirmSeq).
				mu.Lock()
				m := n
				mu.Unlock()
				err = c.Lines(fmt.Sprintf("* %d EXISTS", m), "* OK [UIDVALIDITY 9] ok", cmd.Tag+" OK [READ-ONLY] done")
			case "FETCH", "UID FETCH": // a UID is its sequence number here (nothing is expunged): confirmOpen
				mu.Lock()
				lines, ferr := seqFetchLines(strings.Fields(cmd.Args)[0], len(stored), func(i int) (uint32, int64, string) {
					return uint32(i), stored[i-1].size, stored[i-1].date
				})
				mu.Unlock()
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
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// TestReview46HPendingAtUnknownUIDNextResent: a server that gives UIDNEXT
// 0 (unknown) in STATUS. A group was recorded pending at UIDNEXT 0, and
// the next run took it for landed only if UIDNEXT then moved past 0: at
// 0 still, it was sent again (a duplicate of a message the server took).
// The message count recorded with it decides now.
func TestReview46HPendingAtUnknownUIDNextResent(t *testing.T) {
	addr, appends := r46HAppendServer(t, 0)
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, "")})
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	args := []string{"import", "imap://alice@" + addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "10s", "--quiet"}
	if code, out, errs := runCLI(t, "", args...); code != exitConnFail {
		t.Fatalf("run 1: exit %d; want 3 (the answer lost)\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "", args...); code != exitOK {
		t.Errorf("run 2: exit %d; want 0 (the pending message landed: the count moved by 1)\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if n := appends(); n != 1 {
		t.Errorf("%d APPENDs of the one message; want 1 (the pending group at UIDNEXT 0 was sent again)", n)
	}
}

// TestReview46HPendingAtLastUIDUnchangedResent: a group recorded pending
// at UIDNEXT 4294967295 whose run stopped before sending it: UIDNEXT
// cannot tell, and the message count did not move. It was refused
// (errPendingUnknown, exit 1 until the user edited the state file), since
// an unchanged count is no proof the group did not land (another client
// may have expunged a message meanwhile). By the lead's decision
// (review46 L) it is taken for not landed now, and sent again: at worst a
// duplicate, never a loss, and this interruption (a kill between saving
// the pending record and sending, a Ctrl-C mid-literal) is the common
// one. A count moved otherwise is still refused
// (TestReview46LImportPendingHintNamesEntry).
func TestReview46HPendingAtLastUIDUnchangedResent(t *testing.T) {
	addr, appends := r46HAppendServer(t, 4294967295)
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, "")})
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	args := []string{"import", "imap://alice@" + addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "10s", "--quiet"}
	testHook = func(step string) error {
		if step == "pending" {
			return errors.New("stopped by the test")
		}
		return nil
	}
	t.Cleanup(func() { testHook = nil })
	runCLI(t, "", args...)
	testHook = nil
	if n := appends(); n != 0 {
		t.Fatalf("run 1: %d APPENDs; want none (stopped before sending)", n)
	}
	// Sent again; the server takes it and its answer is lost.
	if code, out, errs := runCLI(t, "", args...); code != exitConnFail || appends() != 1 {
		t.Fatalf("run 2: exit %d, %d APPENDs; want 3 (the answer lost), 1 (the count unchanged: sent again)\nstdout: %s\nstderr: %s", code, appends(), out, errs)
	}
	// The count moved by 1 now: landed, not sent again.
	if code, out, errs := runCLI(t, "", args...); code != exitOK || appends() != 1 {
		t.Errorf("run 3: exit %d, %d APPENDs; want 0, 1 (the count moved by 1: landed)\nstdout: %s\nstderr: %s", code, appends(), out, errs)
	}
	var st importState
	if _, err := loadJSON(importStatePath(path), &st); err != nil || len(st.Dests) != 1 {
		t.Fatalf("state: %+v, %v", st, err)
	}
	for _, e := range st.Dests {
		if e.Imported != 1 || e.Pending != nil || len(e.Done) != 1 {
			t.Errorf("state: %+v; want 1 imported, none pending", e)
		}
	}
}

// TestReview46HCopyPendingAtLastUIDResent: copy's pending path, as
// TestReview46HPendingAtLastUIDResent is import's: the one message
// appended at UIDNEXT 4294967295 (its answer lost) was sent again by the
// next run, which took it for not landed since UIDNEXT could not move.
// Now the count tells it landed: one APPEND, the message recorded copied.
func TestReview46HCopyPendingAtLastUIDResent(t *testing.T) {
	addr, appends := r46HAppendServer(t, 4294967295)
	src := r43Source(t, []string{r43Body(1, false)})
	state := t.TempDir()
	setEnv(t, "IMAPKIT_URL", "")
	if code, _, _ := r43Copy(t, src, nil, addr, state); code != exitConnFail {
		t.Fatalf("run 1: exit %d; want 3 (the answer lost)", code)
	}
	if code, _, _ := r43Copy(t, src, nil, addr, state); code != exitOK {
		t.Errorf("run 2: exit %d; want 0", code)
	}
	if n := appends(); n != 1 {
		t.Errorf("%d APPENDs of the one message; want 1", n)
	}
	if box := r43Box(t, state); box.LastUID != 1 || box.Pending != nil {
		t.Errorf("state: last UID %d, pending %+v; want 1, none", box.LastUID, box.Pending)
	}
}

// TestReview46HPendingUIDs: the UIDs a landed pending group is mapped to.
// A group recorded at UIDNEXT 0 (unknown) was mapped from UID 0 (no UID)
// when UIDNEXT was its count now, and the uint32 difference wrapped.
func TestReview46HPendingUIDs(t *testing.T) {
	for _, c := range []struct {
		from, next uint32
		count      int
		want       []uint32
	}{
		{5, 8, 3, []uint32{5, 6, 7}},
		{5, 7, 3, nil},
		{5, 0, 3, nil},
		{0, 3, 3, nil},
		{4294967295, 0, 1, []uint32{4294967295}},
		{4294967295, 4294967295, 1, []uint32{4294967295}},
		{4294967295, 0, 2, nil},
		{4294967294, 0, 2, []uint32{4294967294, 4294967295}},
		{4294967294, 4294967295, 2, []uint32{4294967294, 4294967295}},
		{4294967294, 4294967295, 1, []uint32{4294967294}},
		{4294967294, 0, 1, nil},
		{4294967294, 0, 3, nil},
	} {
		got := pendingUIDs(&pendingAppend{DstUIDNext: c.from, Count: c.count}, c.next)
		if !slices.Equal(got, c.want) {
			t.Errorf("pending %d at UIDNEXT %d, now %d: %v; want %v", c.count, c.from, c.next, got, c.want)
		}
	}
}

// TestReview46HFetchToRenameHoldsLock: writeFetched closed its temporary
// file (dropping its lock) before renaming it to UID.eml, so another
// run's removeFetchTemps could take the lock in between and remove the
// file: the rename failed ("no such file or directory") and the run
// exited 3. The rename comes while the lock is held now. Deterministic:
// the other run's sweep runs in the hook just before the rename.
func TestReview46HFetchToRenameHoldsLock(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2) here: nothing is swept")
	}
	dir := t.TempDir()
	swept := 0
	testFetchTempRename = func(name string) {
		swept++
		removeFetchTemps(dir) // another run's sweep, as it starts
	}
	t.Cleanup(func() { testFetchTempRename = nil })
	bodies := []string{r43Body(1, false), r43Body(2, false)}
	addr := r43Source(t, bodies)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1:2", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("fetch --to: exit %d; want 0\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if swept != len(bodies) {
		t.Errorf("the hook ran %d times; want %d", swept, len(bodies))
	}
	for i, want := range bodies {
		if got, err := os.ReadFile(fmt.Sprintf("%s/%d.eml", dir, i+1)); err != nil || string(got) != want {
			t.Errorf("%d.eml: %q, %v; want %q", i+1, got, err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, fetchTempPattern)); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}
