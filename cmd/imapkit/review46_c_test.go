//go:build linux

package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview46CSectionFieldNames: parseSection took any word of a
// HEADER.FIELDS list for a field name, so "HEADER.FIELDS (a:b)" passed the
// argument check and was refused by commands only after the connection
// and the login (exit 1, a runtime error). A field name is RFC 5322's
// ftext (printable US-ASCII but ':'), without the characters commands
// refuses: anything else is a usage error at once (exit 2, as the other
// bad --section values), before any connection.
func TestReview46CSectionFieldNames(t *testing.T) {
	for _, name := range []string{"a:b", "Subject:", ":", "x\x7fy", "caf\u00e9", "a\"b", "a\\b", "a%", "a*", "a{1}", "a[b]"} {
		spec := "HEADER.FIELDS (FROM " + name + ")"
		_, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v; want a usage error", spec, err)
		}
	}
	for _, spec := range []string{"HEADER.FIELDS (FROM X-Spam-Score List-Id)", "1.HEADER.FIELDS.NOT (Received DKIM-Signature X-a.b_c!#$&'+/=?^`|~)"} {
		if _, err := parseSection(spec); err != nil {
			t.Errorf("%q: %v; want it taken", spec, err)
		}
	}
	// The CLI: exit 2 before connecting (nothing listens on port 1), as
	// for another bad --section.
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	for _, sec := range []string{"HEADER.FIELDS (a:b)", "HEADER.FIELDS ((a))"} {
		for _, extra := range [][]string{nil, {"--to", t.TempDir()}} {
			args := append([]string{"fetch", "imap://alice@127.0.0.1:1", "INBOX", "1", "--section", sec, "--insecure-plaintext", "--timeout", "5s"}, extra...)
			code, _, errs := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(errs, "bad --section") {
				t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the bad --section", args, code, errs)
			}
		}
	}
}

// r46CUIDDst is a destination whose INBOX numbers what is appended from
// start: an APPEND (a MULTIAPPEND too, with LITERAL+) is answered with the
// APPENDUID of its messages, and STATUS gives a UIDNEXT no greater than
// 4294967295 (a server past its last UID). appends counts the APPEND
// commands, msgs their messages.
type r46CUIDDst struct {
	mu             sync.Mutex
	next           uint64
	appends, msgs  int
	statusAfterEnd int // STATUS asked once the last UID was given
}

func r46CStartUIDDst(t *testing.T, caps string, start uint64) (*r46CUIDDst, string) {
	t.Helper()
	d := &r46CUIDDst{next: start}
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet(caps); err != nil {
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
				d.mu.Lock()
				n := min(d.next, math.MaxUint32)
				if d.next > math.MaxUint32 {
					d.statusAfterEnd++
				}
				d.mu.Unlock()
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDNEXT %d UIDVALIDITY 9 MESSAGES 1)", n), ok)
			case "APPEND":
				lit, k := cmd.Literal, 0
				for lit >= 0 {
					if _, err := c.ReadLiteral(lit); err != nil {
						return err
					}
					k++
					rest, err := c.ReadLine()
					if err != nil {
						return err
					}
					lit = hostile.ParseCommand("x x " + rest).Literal
				}
				d.mu.Lock()
				d.appends++
				d.msgs += k
				first := d.next
				d.next += uint64(k)
				d.mu.Unlock()
				set := fmt.Sprint(first)
				if k > 1 {
					set = fmt.Sprintf("%d:%d", first, first+uint64(k)-1)
				}
				err = c.Line(fmt.Sprintf("%s OK [APPENDUID 9 %s] done", cmd.Tag, set))
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
	return d, srv.Addr()
}

// TestReview46CAppendLastUID: the appender took the UIDNEXT after an
// APPEND for the last UID it was given plus one, which at 4294967295
// wrapped to 0 ("unknown"): the next group asked STATUS (a server past its
// last UID says 4294967295 again, or renumbers) and was appended all the
// same, recorded as pending against a UIDNEXT that could not move. A
// mailbox that gave the UID 4294967295 has none left: the run stops there
// with an error naming it, what was appended before recorded as done; no
// further APPEND is sent. Both paths: APPEND one at a time (the UID of
// the first message), and MULTIAPPEND (the last of a group's APPENDUID
// set, 50 messages a group).
func TestReview46CAppendLastUID(t *testing.T) {
	for _, c := range []struct {
		name, caps string
		msgs       int
		start      uint64
	}{
		{"single", "IMAP4rev1 LITERAL+ UIDPLUS", 2, math.MaxUint32},
		{"multiappend", "IMAP4rev1 LITERAL+ UIDPLUS MULTIAPPEND", groupMessages + 1, math.MaxUint32 - groupMessages + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, addr := r46CStartUIDDst(t, c.caps, c.start)
			var msgs []string
			for i := 1; i <= c.msgs; i++ {
				msgs = append(msgs, r44ImportMsg(i, ""))
			}
			path, _ := r44ImportSource(t, "maildir", msgs)
			setEnv(t, "IMAPKIT_PASSWORD", "x")
			setEnv(t, "IMAPKIT_URL", "")
			code, out, errs := runCLI(t, "", "import", "imap://alice@"+addr, path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "20s", "--quiet")
			t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
			d.mu.Lock()
			appends, sent, asked := d.appends, d.msgs, d.statusAfterEnd
			d.mu.Unlock()
			want := c.msgs - 1
			if code != exitNo || appends != 1 || sent != want || asked != 0 || !strings.Contains(errs, "4294967295") || !strings.Contains(errs, "no UID left") {
				t.Errorf("exit %d, %d APPEND of %d messages, %d STATUS after the last UID, stderr %q; want exit %d, one APPEND of %d, no STATUS, an error naming UID 4294967295", code, appends, sent, asked, errs, exitNo, want)
			}
			if e := r44ImportState(t, path); e.Pending != nil || len(e.Done) != want {
				t.Errorf("state %+v; want %d done, nothing pending", e, want)
			}
		})
	}
}

// TestReview46CFetchToUserPartKept: fetch --to's sweep of stale temporary
// files removed every file of DIR matching ".fetch-*.part" whose lock it
// could take, so a user's own ".fetch-notes.part" (or an older imapkit's
// file, which held no lock) was deleted. The temporary files now have
// imapkit's mark and an exact form (".imapkit-fetch-" and 16 lowercase
// hexadecimal digits, ".part"), and the sweep takes only those: the
// user's files survive, whatever they look like; a stale file of ours
// goes; and every file a run creates is of the form the sweep knows.
func TestReview46CFetchToUserPartKept(t *testing.T) {
	if !stateLocking {
		t.Skip("no flock(2) here: nothing is swept")
	}
	dir := t.TempDir()
	user := []string{".fetch-notes.part", ".fetch-1234.part", ".imapkit-fetch-notes.part",
		".imapkit-fetch-0123456789ABCDEF.part", ".imapkit-fetch-0123456789abcdef0.part", ".imapkit-fetch-0123456789abcde.part"}
	for _, n := range user {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stale := filepath.Join(dir, ".imapkit-fetch-0123456789abcdef.part")
	if err := os.WriteFile(stale, []byte("From: half a mess"), 0o600); err != nil {
		t.Fatal(err)
	}
	var created []string
	old := testFetchTempCreated
	testFetchTempCreated = func(name string) { created = append(created, name) }
	t.Cleanup(func() { testFetchTempCreated = old })
	bodies := []string{r43Body(1, false), r43Body(2, false)}
	addr := r43Source(t, bodies)
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	code, out, errs := runCLI(t, "", "fetch", "imap://alice@"+addr, "INBOX", "1:2", "--to", dir, "--insecure-plaintext", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("fetch --to: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	for _, n := range user {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != "mine" {
			t.Errorf("the user's %s: %q, %v; want it kept", n, b, err)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file of a killed run is still there (%v)", err)
	}
	if len(created) != len(bodies) {
		t.Errorf("created %q; want one temporary file a message", created)
	}
	for _, n := range created {
		if !isFetchTempName(filepath.Base(n)) {
			t.Errorf("created %s, which the sweep does not take for its own", n)
		}
	}
	for i, want := range bodies {
		if got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i+1))); err != nil || string(got) != want {
			t.Errorf("%d.eml: %q, %v; want %q", i+1, got, err, want)
		}
	}
}
