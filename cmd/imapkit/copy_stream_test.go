//go:build linux

package main

import (
	"cmp"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
)

// expungedNIL in scriptedSource's boxes is a message whose body FETCH
// answers NIL, as Dovecot does once it was expunged by another session.
const expungedNIL = "\x00NIL"

// scriptedSource is a read-only source server: NAMESPACE answers ns, LIST
// answers list (lines after "* LIST "), and boxes holds each selectable
// mailbox's messages (UIDs from 1). A body expungedNIL is answered NIL, as
// Dovecot answers for a message expunged meanwhile.
func scriptedSource(ns string, list []string, boxes map[string][]string) hostile.Scenario {
	return scriptedSourceWith(ns, list, boxes, sourceOpts{})
}

// sourceOpts are the quirks and faults of a scriptedSourceWith.
type sourceOpts struct {
	flags string                // every message's FLAGS ("" for none)
	size  func(body string) int // the RFC822.SIZE it claims; nil: the body's
	cut   func(uid int) bool    // true: half the body is sent, then the connection closed
	// omit: true leaves the message out of a body FETCH's answer (no
	// NIL); with omitGone it is expunged too (a later SEARCH does not
	// find it), else it stays.
	omit     func(uid int) bool
	omitGone bool
	// twice: true sends the message's body twice in a body FETCH's
	// answer, the second time with a header of its own first
	// (twiceHeader), as a broken or hostile server may.
	twice func(uid int) bool
	// item is the FETCH item a body is sent as ("" for BODY[]): a
	// broken server's BODY[HEADER], say.
	item string
}

// twiceHeader starts the second body of a message sourceOpts.twice sends
// twice.
const twiceHeader = "X-Sent: twice\r\n"

// scriptedSourceWith is scriptedSource with o's quirks and faults.
func scriptedSourceWith(ns string, list []string, boxes map[string][]string, o sourceOpts) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 NAMESPACE"); err != nil {
			return err
		}
		var cur []string
		gone := map[int]bool{} // UIDs whose body came back NIL: expunged, so not found by a later SEARCH
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
				err = c.Lines("* NAMESPACE "+ns, ok)
			case "LIST":
				var l []string
				for _, x := range list {
					l = append(l, "* LIST "+x)
				}
				err = c.Lines(append(l, ok)...)
			case "EXAMINE", "SELECT":
				name := strings.Trim(cmd.Args, `"`)
				if cmd.Literal >= 0 {
					// A name sent as a literal (one listed
					// with bytes that are not UTF-8).
					if !cmd.NonSync {
						c.Continue("go")
					}
					lit, lerr := c.ReadLiteral(cmd.Literal)
					if lerr != nil {
						return lerr
					}
					c.ReadLine() // the line's end after it
					name = string(lit)
				}
				b, found := boxes[name]
				if !found {
					err = c.Line(cmd.Tag + " NO no such mailbox")
					break
				}
				cur = b
				err = c.Lines(fmt.Sprintf("* %d EXISTS", len(b)), "* OK [UIDVALIDITY 7] x", fmt.Sprintf("* OK [UIDNEXT %d] x", len(b)+1), cmd.Tag+" OK [READ-ONLY] done")
			case "UID SEARCH":
				var l []string
				for i := range cur {
					if !gone[i+1] {
						l = append(l, fmt.Sprint(i+1))
					}
				}
				err = c.Lines("* SEARCH "+strings.Join(l, " "), ok)
			case "UID FETCH":
				set, _, _ := strings.Cut(cmd.Args, " ")
				want := map[int]bool{}
				for _, p := range strings.Split(set, ",") {
					lo, hi, isRange := strings.Cut(p, ":")
					var a, z int
					fmt.Sscan(lo, &a)
					z = a
					if isRange {
						if hi == "*" {
							z = len(cur)
						} else {
							fmt.Sscan(hi, &z)
						}
					}
					for i := min(a, z); i <= max(a, z); i++ {
						want[i] = true
					}
				}
				for i, b := range cur {
					if err != nil {
						break
					}
					if !want[i+1] {
						continue
					}
					if !strings.Contains(cmd.Args, "BODY") {
						size := len(b)
						if o.size != nil {
							size = o.size(b)
						}
						err = c.Linef(`* %d FETCH (UID %d FLAGS (%s) INTERNALDATE "01-Feb-2024 10:00:00 +0000" RFC822.SIZE %d)`, i+1, i+1, o.flags, size)
					} else if o.omit != nil && o.omit(i+1) {
						if o.omitGone {
							gone[i+1] = true
						}
					} else if b == expungedNIL {
						// As Dovecot answers for a message expunged by
						// another session since this one last heard.
						err = c.Linef("* %d FETCH (UID %d BODY[] NIL)", i+1, i+1)
						gone[i+1] = true
						ok = cmd.Tag + " OK [EXPUNGEISSUED] Some messages were already expunged"
					} else if err = c.Linef("* %d FETCH (UID %d %s {%d}", i+1, i+1, cmp.Or(o.item, "BODY[]"), len(b)); err == nil {
						if o.cut != nil && o.cut(i+1) {
							c.WriteString(b[:len(b)/2])
							return c.Close()
						}
						_, err = c.Copy(strings.NewReader(b + ")\r\n"))
						if err == nil && o.twice != nil && o.twice(i+1) {
							again := twiceHeader + b
							if err = c.Linef("* %d FETCH (UID %d BODY[] {%d}", i+1, i+1, len(again)); err == nil {
								_, err = c.Copy(strings.NewReader(again + ")\r\n"))
							}
						}
					}
				}
				if err == nil {
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
}

// TestCopyWrongRFC822Size copies from a source whose RFC822.SIZE lies into
// a Dovecot with MULTIAPPEND: the messages arrive whole and byte-identical.
func TestCopyWrongRFC822Size(t *testing.T) {
	t.Parallel()
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\n" + strings.Repeat("second body line\r\n", 5000),
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	// RFC822.SIZE wrong for every message (1 byte), as some servers'
	// are for messages stored with bare LF: copy must append each body
	// with the size of its FETCH literal.
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies},
		sourceOpts{flags: `\Seen`, size: func(string) int { return 1 }}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	rs := copyReport(t, 0, "copy", "imap://alice@"+src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s")
	if rs["INBOX"].Copied != 3 {
		t.Fatalf("copied %+v", rs)
	}
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	if len(got) != len(bodies) {
		t.Fatalf("%d messages on the destination; want %d", len(got), len(bodies))
	}
	for i := range bodies {
		if got[i].body != bodies[i] || got[i].flags != `\seen` {
			t.Errorf("message %d: %v; want %d bytes, \\Seen", i+1, got[i], len(bodies[i]))
		}
	}
	if err := src.Err(); err != nil {
		t.Error(err)
	}
}

// TestCopyUnsettableSourceFlags copies from a source whose messages carry
// flags no APPEND may set: \Recent and a system-flag extension (\Foo, a
// quirky or hostile server's). They are left out, the rest kept: commands
// refuses an APPEND with them before sending it (Dovecot answers BAD before
// reading the message, then reads the message as commands), which failed
// the mailbox at every run.
func TestCopyUnsettableSourceFlags(t *testing.T) {
	t.Parallel()
	bodies := []string{"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n"}
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies},
		sourceOpts{flags: `\Seen \Recent \Foo $Label`}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	rs := copyReport(t, 0, "copy", "imap://alice@"+src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s")
	if rs["INBOX"].Copied != 1 {
		t.Fatalf("copied %+v", rs)
	}
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	if len(got) != 1 || got[0].body != bodies[0] || got[0].flags != `$label \seen` {
		t.Fatalf("destination %v; want the message with $Label and \\Seen", got)
	}
}
