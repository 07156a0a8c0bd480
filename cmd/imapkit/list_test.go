package main

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// listNames are the names a server lists as it sends them, and whether
// the decoded name alone gives them back: a Latin-1 name (raw bytes, not
// UTF-8), a name a client that does not encode made ("R&D") beside the
// one that decodes alike ("R&-D"), modified UTF-7 the server broke (a
// shift not closed), one holding a NUL ("&AAA-", which no command takes
// from a user), and two that round trip.
var listNames = []struct {
	wire      string
	roundTrip bool
}{
	{"Caf\xe9", false},
	{"R&D", false},
	{"R&-D", true},
	{"&Jjo", false},
	{"a&AAA-b", false},
	{"&AOk-t&AOk-", true},
	{"INBOX", true},
}

// TestListJSONGivesNameAsSent: list --json and lsub --json give, beside the
// decoded "name", the name's bytes as the server sent them ("name_base64")
// whenever the decoded name would not give them back (not UTF-8, a NUL,
// or not encoding back to what was sent), so that two mailboxes whose
// names decode alike, or one whose name is not UTF-8, can still be told
// apart and named exactly; a name that round trips has no such field.
// Before, "Caf\xe9" came as "Caf\ufffd" and "R&D" and "R&-D" both as
// "R&D", and nothing told what the server had sent.
func TestListJSONGivesNameAsSent(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	addr := jsonServer(t, answering("IMAP4rev1", func(c *hostile.Conn, cmd *hostile.Command) (bool, error) {
		if cmd.Name != "LIST" && cmd.Name != "LSUB" {
			return false, nil
		}
		for _, n := range listNames {
			if err := c.Line("* " + cmd.Name + ` () "/" "` + n.wire + `"`); err != nil {
				return true, err
			}
		}
		return true, c.Reply(cmd.Tag, "OK done")
	}))
	url := "imap://alice@" + addr
	for _, verb := range []string{"list", "lsub"} {
		code, out, errs := runCLI(t, "", verb, url, "--json")
		if code != 0 {
			t.Fatalf("%s --json: exit %d: %s", verb, code, errs)
		}
		type box struct {
			Name       string  `json:"name"`
			NameBase64 *string `json:"name_base64"`
		}
		boxes := decodeLines[box](t, verb+" --json", out)
		if len(boxes) != len(listNames) {
			t.Fatalf("%s --json: %d mailboxes, want %d: %s", verb, len(boxes), len(listNames), out)
		}
		seen := map[string]bool{}
		for i, b := range boxes {
			n := listNames[i]
			if n.roundTrip {
				if b.NameBase64 != nil {
					t.Errorf("%s --json: %q round trips, yet has name_base64 %q", verb, n.wire, *b.NameBase64)
				}
				seen[n.wire] = true
				continue
			}
			if b.NameBase64 == nil {
				t.Errorf("%s --json: %q listed as %q with no name_base64: the name as sent is lost", verb, n.wire, b.Name)
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(*b.NameBase64)
			if err != nil || string(raw) != n.wire {
				t.Errorf("%s --json: name_base64 %q of %q gives %q (%v); want the name as sent", verb, *b.NameBase64, b.Name, raw, err)
			}
			seen[string(raw)] = true
		}
		if !seen["R&D"] || !seen["R&-D"] {
			t.Errorf("%s --json: R&D and R&-D cannot be told apart: %s", verb, out)
		}
	}
}

// TestIdleNotifyGivesNameAsSent: idle --notify --json's mailbox and list
// events give a name's bytes as sent ("mailbox_base64",
// "old_name_base64") when the decoded name does not give them back, as
// list --json does; a name that round trips has none.
func TestIdleNotifyGivesNameAsSent(t *testing.T) {
	// Waits on a scripted server over TCP.
	t.Parallel()
	addr := jsonServer(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 IDLE NOTIFY"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "IDLE":
				err = c.Lines("+ idling",
					`* STATUS "Caf`+"\xe9"+`" (MESSAGES 2)`,
					`* LIST () "/" "R&D" ("OLDNAME" ("&Jjo"))`,
					`* LIST () "/" "&AOk-t&AOk-"`)
				if err == nil {
					c.ReadLine()
					err = c.Reply(cmd.Tag, "OK done")
				}
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
	// Interrupted once the three events are shown (a line each).
	threeLines := func(out string) bool { return strings.Count(out, "\n") >= 3 }
	code, out, errs := runUntilShown(t, "", threeLines, "idle", "imap://alice@"+addr, "INBOX", "--notify", "--json")
	if code != 0 {
		t.Fatalf("idle --json: exit %d: %s", code, errs)
	}
	type ev struct {
		Event         string `json:"event"`
		MailboxBase64 string `json:"mailbox_base64"`
		OldNameBase64 string `json:"old_name_base64"`
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	want := []ev{{"mailbox", b64("Caf\xe9"), ""}, {"list", b64("R&D"), b64("&Jjo")}, {"list", "", ""}}
	got := decodeLines[ev](t, "idle --json", out)
	if len(got) != len(want) {
		t.Fatalf("idle --json: %s; want %d events", out, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("idle --json event %d: %+v; want %+v", i, got[i], want[i])
		}
	}
}
