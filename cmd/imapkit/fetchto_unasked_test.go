package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unaskedFetchServer is a scripted server whose answer to a FETCH or UID
// FETCH, whatever its set, is a FETCH response for each of uids in order,
// at sequence numbers from 1, with the body of the same index (a UID twice
// is sent twice).
func unaskedFetchServer(t *testing.T, uids []int, bodies []string) string {
	return preauthServer(t, "IMAP4rev1", func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 100] x\r\n" + tag + " OK [READ-ONLY] done\r\n"
			case "UID FETCH", "FETCH":
				var b strings.Builder
				for i, u := range uids {
					fmt.Fprintf(&b, "* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", i+1, u, len(bodies[i]), bodies[i])
				}
				return b.String() + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
}

// TestFetchToUnasked: fetch --to wrote every message the server's
// answer held to DIR/UID.eml: a UID sent twice (by UID, or at two
// sequence numbers) was written twice, the second body, of the server's
// choosing, replacing the first, and counted twice. Now the second is not
// written, and stderr says so. A message outside the set (7.eml, the
// user's) is left out by the library (commands.Fetch cuts a UID set's
// answer to it, and a sequence set's): checked here too.
func TestFetchToUnasked(t *testing.T) {
	bodies := []string{"Subject: one\r\n\r\nfirst\r\n", "Subject: evil\r\n\r\nnot asked\r\n", "Subject: one again\r\n\r\nsecond\r\n"}
	for _, c := range []struct {
		name string
		set  []string
		uids []int
		errs []string
	}{
		{"uid", []string{"1:2"}, []int{1, 7, 1}, []string{"UID 1", "twice"}},
		{"seq", []string{"1:2", "--seq"}, []int{1, 1, 7}, []string{"UID 1", "twice"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := unaskedFetchServer(t, c.uids, bodies)
			dir := t.TempDir()
			mine := filepath.Join(dir, "7.eml")
			if err := os.WriteFile(mine, []byte("the user's own 7.eml\r\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"fetch", "imap://alice@" + addr, "INBOX"}, c.set...)
			out, errs := cli(t, "", 0, append(args, "--to", dir, "--insecure-plaintext", "--timeout", "20s")...)
			if b, _ := os.ReadFile(mine); string(b) != "the user's own 7.eml\r\n" {
				t.Errorf("7.eml, outside the set, holds %q after the fetch; want the user's file left alone", b)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "1.eml")); string(b) != bodies[0] {
				t.Errorf("1.eml holds %q; want the first body the server sent for UID 1, not replaced by a second", b)
			}
			if !strings.Contains(out, "fetched 1 messages") {
				t.Errorf("stdout %q; want one message fetched", out)
			}
			for _, w := range c.errs {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q; want %q in it", errs, w)
				}
			}
		})
	}
}

// TestFetchSectionSentTwice: a server that sends the section asked for
// twice in one FETCH response, and the message again in a second
// response, had fetch write all three bodies, one after the other, to
// stdout (fetch UID > msg.eml: three messages in one file, exit 0), and
// fetch --to write the response's two into UID.eml. Now the first body
// is written, and stderr says the server sent more.
func TestFetchSectionSentTwice(t *testing.T) {
	const first, second = "Subject: a\r\n\r\nfirst\r\n", "Subject: b\r\n\r\nsecond\r\n"
	addr := preauthServer(t, "IMAP4rev1", func() scriptAnswer {
		return func(tag, cmd string, f []string) string {
			switch cmd {
			case "SELECT", "EXAMINE":
				return "* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 100] x\r\n" + tag + " OK [READ-ONLY] done\r\n"
			case "UID FETCH", "FETCH":
				return fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n%s BODY[] {%d}\r\n%s)\r\n* 1 FETCH (UID 1 BODY[] {%d}\r\n%s)\r\n",
					len(first), first, len(second), second, len(second), second) + tag + " OK done\r\n"
			}
			return tag + " OK done\r\n"
		}
	})
	common := []string{"--insecure-plaintext", "--timeout", "20s"}
	for _, seq := range []bool{false, true} {
		args := append([]string{"fetch", "imap://alice@" + addr, "INBOX", "1"}, common...)
		if seq {
			args = append(args, "--seq")
		}
		out, errs := cli(t, "", 0, args...)
		if out != first || !strings.Contains(errs, "more than once") {
			t.Errorf("fetch 1 (--seq %v) to stdout: %q, stderr %q; want the first body alone, and a warning", seq, out, errs)
		}
	}
	dir := t.TempDir()
	_, errs := cli(t, "", 0, append([]string{"fetch", "imap://alice@" + addr, "INBOX", "1", "--to", dir}, common...)...)
	if b, _ := os.ReadFile(filepath.Join(dir, "1.eml")); string(b) != first || !strings.Contains(errs, "twice in one response") {
		t.Errorf("fetch 1 --to: 1.eml holds %q, stderr %q; want the first body alone, and a warning", b, errs)
	}
}
