//go:build linux

package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview46HSectionFieldNameUnicodeSpace: parseSection splits the
// HEADER.FIELDS list with strings.Fields, which splits on Unicode spaces
// too (U+00A0 NO-BREAK SPACE, U+0085 NEL): "From<NBSP>To" is taken as the
// two names From and To, and imapkit asks for two fields the user did not
// write, exit 0, instead of the usage error (exit 2) a name holding a
// non-ASCII byte gets.
//
// Found by review (review46 C, c0a8b9f).
func TestReview46HSectionFieldNameUnicodeSpace(t *testing.T) {
	for _, spec := range []string{"HEADER.FIELDS (From\u00a0To)", "HEADER.FIELDS (From\u0085To)"} {
		sec, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: fields %q, %v; want a usage error (no such field name)", spec, sec.Fields, err)
		}
	}
}

// TestReview46HSectionPartPastUint32: a part number past 4294967295 passes
// parseSection and is refused by commands only once connected (the same
// late refusal 94e5b5e fixed for field names): exit 3 against an address
// nothing listens on, where a bad --section is exit 2 before connecting.
//
// Found by review (review46 C, c0a8b9f).
func TestReview46HSectionPartPastUint32(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	for _, sec := range []string{"4294967296", "1.4294967296.MIME"} {
		args := []string{"fetch", "imap://alice@127.0.0.1:1", "INBOX", "1", "--section", sec, "--insecure-plaintext", "--timeout", "5s"}
		code, _, errs := runCLI(t, "", args...)
		if code != exitUsage || !strings.Contains(errs, "--section") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the bad --section", sec, code, errs)
		}
	}
}

// TestReview46HPendingAtLastUIDResent: a group recorded as pending when the
// destination's UIDNEXT was 4294967295 (the last UID there is: one left)
// lands at that UID, and its answer is lost (the connection drops). The
// next run asks whether it landed by UIDNEXT moving past 4294967295,
// which it cannot (a server says 4294967295 again, or 0: unknown), so it
// takes the group for not landed and appends it again: the message is
// duplicated (or, at a server that refuses, the run fails at every run
// with no word of why). The same bound e786a0c handles for an answered
// APPEND; a pending record at it cannot be decided by UIDNEXT.
//
// Found by review (review46 C, c0a8b9f).
func TestReview46HPendingAtLastUIDResent(t *testing.T) {
	var mu sync.Mutex
	appends, runs := 0, 0
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
				mu.Lock()
				runs++
				mu.Unlock()
				err = c.Line(ok)
			case "NAMESPACE":
				err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, ok)
			case "LIST":
				err = c.Lines(`* LIST () "/" INBOX`, ok)
			case "STATUS":
				mu.Lock()
				n := appends
				mu.Unlock()
				// UIDNEXT cannot move past the last UID.
				err = c.Lines(fmt.Sprintf("* STATUS INBOX (UIDNEXT %d UIDVALIDITY 9 MESSAGES %d)", uint32(math.MaxUint32), n), ok)
			case "APPEND":
				if _, err := c.ReadLiteral(cmd.Literal); err != nil {
					return err
				}
				if _, err := c.ReadLine(); err != nil {
					return err
				}
				mu.Lock()
				appends++
				first := appends == 1
				mu.Unlock()
				if first {
					return nil // appended at UID 4294967295; the answer is lost
				}
				err = c.Line(cmd.Tag + " NO [LIMIT] no UID left")
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
	path, _ := r44ImportSource(t, "maildir", []string{r44ImportMsg(1, "")})
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	args := []string{"import", "imap://alice@" + srv.Addr(), path, "--to", "INBOX", "--insecure-plaintext", "--timeout", "10s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("run 1: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	code, out, errs = runCLI(t, "", args...)
	t.Logf("run 2: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	mu.Lock()
	defer mu.Unlock()
	if appends != 1 {
		t.Errorf("%d APPENDs of the one message over %d runs; want 1: the pending group at UIDNEXT 4294967295 cannot be told landed or not by UIDNEXT, and was sent again", appends, runs)
	}
}
