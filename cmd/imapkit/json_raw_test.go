package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	esc "github.com/imapkit/imapkit/internal/printable"
)

// rawText is server text with a right-to-left mark (as Hebrew and Arabic
// text carries) and a C1 control (CSI): --json must give it back as sent,
// escaped; the text output must show neither.
const rawText = "\u05e9\u05dc\u05d5\u05dd\u200f\u009b2J!"

// noUnsafeText fails when s, a text output, holds a control character
// (but a line end or tab), a separator or bidirectional control, or a
// byte that is not UTF-8: what printable replaces.
func noUnsafeText(t *testing.T, what, s string) {
	t.Helper()
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r != '\n' && r != '\t' && esc.Unsafe(r) {
			t.Errorf("%s holds %q at %d: %q", what, s[i:i+n], i, s)
			return
		}
		i += n
	}
}

// decodeLines decodes the JSON Lines of out into objects of type T.
func decodeLines[T any](t *testing.T, what, out string) []T {
	t.Helper()
	var l []T
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v in %q", what, err, out)
		}
		l = append(l, v)
	}
	return l
}

// jsonServer starts a scripted server and sets the environment for
// runCLI; it returns the server's address.
func jsonServer(t *testing.T, s hostile.Scenario) string {
	t.Helper()
	srv, err := hostile.Listen(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "pw")
	setEnv(t, "IMAPKIT_URL", "")
	return srv.Addr()
}

// answering is a scripted server that greets with caps and gives each
// command to answer, which returns handled false for those hostile's
// Answer is to take (CAPABILITY, LOGIN, SELECT, LOGOUT, ...).
func answering(caps string, answer func(c *hostile.Conn, cmd *hostile.Command) (handled bool, err error)) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet(caps); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			handled, err := answer(c, cmd)
			if !handled {
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	}
}

// TestJSONKeepsServerText: every --json field built from a server's text
// holds it as sent (docs/cli.md: escaped, \u200f and \u009b, decoding to
// the same text), not with printable's '?' (what 0eaad10 did for headers
// and idle --new): probe's greeting and ID fields, idle's status text and
// its --notify mailbox names, attributes and old names, and copy's
// flags_refused. Their text output still shows no control or
// bidirectional character, and a byte that is not UTF-8 becomes U+FFFD
// in JSON ('?' in text).
func TestJSONKeepsServerText(t *testing.T) {
	t.Run("probe", func(t *testing.T) {
		addr := jsonServer(t, func(c *hostile.Conn) error {
			c.Caps = "IMAP4rev1 ID"
			if err := c.Line("* OK [CAPABILITY IMAP4rev1 ID] hello " + rawText); err != nil {
				return err
			}
			for {
				cmd, err := c.ReadCommand()
				if err != nil {
					return nil
				}
				switch cmd.Name {
				case "ID":
					err = c.Lines(`* ID ("name" "`+rawText+`" "k`+rawText+`" "v" "bad" "a`+"\x9b"+`b")`, cmd.Tag+" OK done")
				default:
					err = c.Answer(cmd)
				}
				if err != nil || cmd.Name == "LOGOUT" {
					return nil
				}
			}
		})
		url := "imap://alice@" + addr
		code, out, errs := runCLI(t, "", "probe", url, "--json")
		if code != 0 {
			t.Fatalf("probe --json: exit %d: %s", code, errs)
		}
		var r probeResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("probe --json: %v in %q", err, out)
		}
		if want := "hello " + rawText; r.Greeting != want {
			t.Errorf("probe --json greeting %q; want %q as sent", r.Greeting, want)
		}
		if r.ID["name"] != rawText || r.ID["k"+rawText] != "v" {
			t.Errorf("probe --json id %q; want the name %q and the key %q as sent", r.ID, rawText, "k"+rawText)
		}
		if r.ID["bad"] != "a\ufffdb" {
			t.Errorf("probe --json id bad %q; want the byte that is not UTF-8 as U+FFFD", r.ID["bad"])
		}
		if !strings.Contains(out, `\u200f\u009b2J`) {
			t.Errorf("probe --json: %q; want the marks escaped", out)
		}
		code, out, errs = runCLI(t, "", "probe", url)
		if code != 0 {
			t.Fatalf("probe: exit %d: %s", code, errs)
		}
		noUnsafeText(t, "probe stdout", out)
		noUnsafeText(t, "probe stderr", errs)
		if !strings.Contains(out, "\u05e9\u05dc\u05d5\u05dd??2J!") || !strings.Contains(out, "a?b") {
			t.Errorf("probe: %q; want the marks and the bad byte shown as '?'", out)
		}
	})

	t.Run("idle", func(t *testing.T) {
		name, old := codec.EncodeMailbox("box"+rawText), codec.EncodeMailbox("old"+rawText)
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
						`* STATUS "`+name+`" (MESSAGES 2 UNSEEN 1 UIDNEXT 9)`,
						`* LIST (\HasNoChildren \X`+rawText+`) "/" "`+name+`" ("OLDNAME" ("`+old+`"))`,
						"* OK [ALERT] "+rawText)
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
		// Each run interrupted once the last event (the ALERT) is shown.
		args := []string{"idle", "imap://alice@" + addr, "INBOX", "--notify"}
		code, out, errs := runUntilShown(t, "", shownAll("ALERT"), append(args, "--json")...)
		if code != 0 {
			t.Fatalf("idle --json: exit %d: %s", code, errs)
		}
		evs := map[string]jsonEvent{}
		for _, ev := range decodeLines[jsonEvent](t, "idle --json", out) {
			evs[ev.Event] = ev
		}
		if ev := evs["mailbox"]; ev.Mailbox != "box"+rawText {
			t.Errorf("idle --json mailbox event %+v; want the name %q as sent", ev, "box"+rawText)
		}
		if ev := evs["list"]; ev.Mailbox != "box"+rawText || ev.OldName != "old"+rawText || len(ev.Attributes) != 2 || ev.Attributes[1] != `\X`+rawText {
			t.Errorf("idle --json list event %+v; want the names and attributes as sent", ev)
		}
		if ev := evs["status"]; ev.Text != "[ALERT] "+rawText {
			t.Errorf("idle --json status event %+v; want the text %q as sent", ev, "[ALERT] "+rawText)
		}
		code, out, errs = runUntilShown(t, "", shownAll("ALERT"), args...)
		if code != 0 {
			t.Fatalf("idle: exit %d: %s", code, errs)
		}
		noUnsafeText(t, "idle stdout", out)
		noUnsafeText(t, "idle stderr", errs)
		for _, want := range []string{"MAILBOX box\u05e9\u05dc\u05d5\u05dd??2J!", "renamed from old\u05e9", "OK [ALERT] \u05e9\u05dc\u05d5\u05dd??2J!"} {
			if !strings.Contains(out, want) {
				t.Errorf("idle: %q; want %q", out, want)
			}
		}
	})

	t.Run("copy", func(t *testing.T) {
		// The source's message 1 is \Seen; its copy (UID 1 on the
		// destination, in the state file) is not, and the destination
		// refuses the change.
		src := jsonServer(t, func(c *hostile.Conn) error {
			if err := c.Greet("IMAP4rev1"); err != nil {
				return err
			}
			for {
				cmd, err := c.ReadCommand()
				if err != nil {
					return nil
				}
				switch cmd.Name {
				case "UID FETCH":
					err = c.Lines(`* 1 FETCH (UID 1 FLAGS (\Seen))`, cmd.Tag+" OK done")
				case "UID SEARCH":
					err = c.Lines("* SEARCH 1", cmd.Tag+" OK done")
				default:
					err = c.Answer(cmd)
				}
				if err != nil || cmd.Name == "LOGOUT" {
					return nil
				}
			}
		})
		dst := jsonServer(t, func(c *hostile.Conn) error {
			if err := c.Greet("IMAP4rev1"); err != nil {
				return err
			}
			for {
				cmd, err := c.ReadCommand()
				if err != nil {
					return nil
				}
				switch cmd.Name {
				case "UID FETCH":
					err = c.Lines(`* 1 FETCH (UID 1 FLAGS ())`, cmd.Tag+" OK done")
				case "STATUS":
					// copy checks the destination mailbox is the one
					// the state speaks of (UIDVALIDITY 1, as recorded).
					err = c.Lines(`* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 1)`, cmd.Tag+" OK done")
				case "UID STORE", "STORE":
					err = c.Reply(cmd.Tag, "NO [LIMIT] refused "+rawText)
				default:
					err = c.Answer(cmd)
				}
				if err != nil || cmd.Name == "LOGOUT" {
					return nil
				}
			}
		})
		srcURL, dstURL := "imap://alice@"+src, "imap://bob@"+dst
		dir := t.TempDir()
		st, err := parseURL(srcURL)
		if err != nil {
			t.Fatal(err)
		}
		dt, err := parseURL(dstURL)
		if err != nil {
			t.Fatal(err)
		}
		state := &copyState{Version: 1, Src: accountKey(st, "alice"), Dst: accountKey(dt, "bob"), Mailboxes: map[string]*copyBox{
			"INBOX": {Dst: "INBOX", UIDValidity: 1, LastUID: 1, Copied: 1, DstUIDValidity: 1, UIDMap: uidMap{{1, 1, 1}}},
		}}
		if err := saveJSON(copyStatePath(dir, state.Src, state.Dst), state); err != nil {
			t.Fatal(err)
		}
		args := []string{"copy", srcURL, dstURL, "INBOX", "--sync-flags", "--state-dir", dir, "--quiet"}
		code, out, errs := runCLI(t, "", append(args, "--json")...)
		if code != 0 {
			t.Fatalf("copy --json: exit %d: %s", code, errs)
		}
		rs := decodeLines[copyResult](t, "copy --json", out)
		if len(rs) != 1 || !strings.Contains(rs[0].FlagsRefused, "refused "+rawText) {
			t.Errorf("copy --json: %+v; want flags_refused with %q as sent", rs, "refused "+rawText)
		}
		noUnsafeText(t, "copy --json stderr", errs)
		code, out, errs = runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("copy: exit %d: %s", code, errs)
		}
		noUnsafeText(t, "copy stdout", out)
		noUnsafeText(t, "copy stderr", errs)
		if !strings.Contains(errs, "refused \u05e9\u05dc\u05d5\u05dd"+`\xe2\x80\x8f\xc2\x9b2J!`) {
			t.Errorf("copy: stderr %q; want the refusal with its marks escaped (\\xNN) as before", errs)
		}
	})
}
