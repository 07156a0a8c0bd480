package wire_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// dialogStep is a line seen by a Dialog: from the client, from the server,
// or the client direction announcing a synchronizing literal ("expect").
type dialogStep struct {
	who  byte // 'C', 'S', 'E' (ExpectContinuation)
	line string
}

func runDialog(t *testing.T, d *wire.Dialog, steps []dialogStep) []wire.Event {
	t.Helper()
	var evs []wire.Event
	for _, s := range steps {
		if s.who == 'E' {
			d.ExpectContinuation(wire.LiteralInfo{})
			continue
		}
		toks, err := wire.NewTokenizer(strings.NewReader(s.line), nil).AppendUntilLiteral(nil)
		if err != nil {
			t.Fatalf("%q: %v", s.line, err)
		}
		if s.who == 'C' {
			evs = append(evs, d.Client(toks))
		} else {
			evs = append(evs, d.Server(toks))
		}
	}
	return evs
}

// waitVerdict returns WaitContinuation's answer, or "none" when the Dialog
// has none yet (the server has not given its word).
func waitVerdict(d *wire.Dialog) string {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ok, err := d.WaitContinuation(ctx)
	switch {
	case err != nil:
		return "none"
	case ok:
		return "go-ahead"
	}
	return "refused"
}

// TestDialogVerdictBeforeWait: the server's word may come before the
// client direction calls WaitContinuation (docs/proxy.md: Forward, Flush,
// then WaitContinuation; the server's "+" can be read and passed to Server
// in between, on a busy machine or a fast link). Server dropped the
// channel with the verdict, and WaitContinuation then answered false, "no
// ExpectContinuation": the proxy called RefuseLiteral and read the body
// the client sends after the "+" as commands, out of step with the server
// (a "x NOOP {20+}" in that body hides, as a literal, the command the
// server reads after the body).
func TestDialogVerdictBeforeWait(t *testing.T) {
	for _, c := range []struct{ server, want string }{
		{"+ OK\r\n", "go-ahead"},
		{"a1 NO [TRYCREATE] no such mailbox\r\n", "refused"},
	} {
		var d wire.Dialog
		runDialog(t, &d, []dialogStep{
			{'C', "a1 APPEND INBOX {13}\r\n"},
			{'E', ""},
			{'S', c.server},
		})
		if got := waitVerdict(&d); got != c.want {
			t.Errorf("%q before WaitContinuation: %s; want %s", c.server, got, c.want)
		}
	}
}

// TestDialogIdlePlusIsNotGoAhead: the "+" that accepts an IDLE is not the
// go-ahead of a later command's synchronizing literal. A client pipelines
// "a1 IDLE", "DONE" and "a2 APPEND Missing {18}"; the proxy forwards them
// (flushed only at the literal's header: ShouldFlush is false while more is
// buffered) and waits. The server answers "+ idling", "a1 OK" and "a2 NO
// [TRYCREATE]", in that order: the "+" reaches WaitContinuation first, the
// proxy relays the client's next 18 bytes ("a3 DELETE Victim\r\n") as the
// literal's body, and the server, which refused the APPEND, runs them as a
// command no filter saw.
func TestDialogIdlePlusIsNotGoAhead(t *testing.T) {
	var d wire.Dialog
	runDialog(t, &d, []dialogStep{
		{'C', "a1 IDLE\r\n"},
		{'C', "DONE\r\n"},
		{'C', "a2 APPEND Missing {18}\r\n"},
		{'E', ""},
		{'S', "+ idling\r\n"},
		{'S', "a1 OK Idle completed\r\n"},
		{'S', "a2 NO [TRYCREATE] Mailbox doesn't exist\r\n"},
	})
	if got := waitVerdict(&d); got != "refused" {
		t.Fatalf("WaitContinuation: %s; want refused (the \"+\" was IDLE's)", got)
	}
}

// TestDialogSASLEarlyResponse: a client sends its SASL response without
// waiting for the server's "+" ("a1 AUTHENTICATE PLAIN\r\n<response>\r\n"
// in one write: the Dialog sees the response before the challenge, and
// takes it for a command). The server reads it as the response to its "+".
// Once the client has the "+", which answers nothing the client will send,
// its next line is a command for the server (run after a1's completion:
// Dovecot delays a failed authentication 2 s); the Dialog took it for SASL.
func TestDialogSASLEarlyResponse(t *testing.T) {
	var d wire.Dialog
	evs := runDialog(t, &d, []dialogStep{
		{'C', "a1 AUTHENTICATE PLAIN\r\n"},
		{'C', "AGFsaWNlAHdyb25n\r\n"},
		{'S', "+ \r\n"},
		{'C', "a2 LOGIN alice pass\r\n"},
	})
	if ev := evs[3]; ev.Kind != wire.LineCommand || ev.Command != "LOGIN" {
		t.Fatalf("the line after the answered challenge: %+v; want the command LOGIN", ev)
	}
}

// TestDialogReusedTagLiteral: a client reuses a pending tag ("a1 NOOP"
// then "a1 APPEND INBOX {13}"). The server completes the NOOP ("a1 OK"),
// then lets the literal come ("+ OK"): the Dialog took the NOOP's
// completion for the APPEND's refusal, so the proxy reads the body as
// commands (a "x NOOP {20+}" there swallows, as a literal, the
// "a3 DELETE Victim" the server then reads as a command).
func TestDialogReusedTagLiteral(t *testing.T) {
	var d wire.Dialog
	runDialog(t, &d, []dialogStep{
		{'C', "a1 NOOP\r\n"},
		{'C', "a1 APPEND INBOX {13}\r\n"},
		{'E', ""},
		{'S', "a1 OK NOOP completed\r\n"},
		{'S', "+ OK\r\n"},
	})
	if got := waitVerdict(&d); got != "go-ahead" {
		t.Fatalf("WaitContinuation: %s; want go-ahead (a1 OK completed the NOOP)", got)
	}
}

// TestDialogTagOnlyLineLiteral: a tagged line without a command name
// ("a1" alone) is pending too: the server completes it ("a1 BAD"), and
// that completion is not the refusal of a later "a1 APPEND INBOX {13}"'s
// literal. Dialog did not count such a line, so the BAD read as the
// refusal and the body the client sends after "+" was read as commands.
func TestDialogTagOnlyLineLiteral(t *testing.T) {
	var d wire.Dialog
	runDialog(t, &d, []dialogStep{
		{'C', "a1\r\n"},
		{'C', "a1 APPEND INBOX {13}\r\n"},
		{'E', ""},
		{'S', "a1 BAD missing command\r\n"},
		{'S', "+ OK\r\n"},
	})
	if got := waitVerdict(&d); got != "go-ahead" {
		t.Fatalf("WaitContinuation: %s; want go-ahead (a1 BAD completed the line without a command)", got)
	}
	// The same order with the literal refused: the second a1 completion.
	runDialog(t, &d, []dialogStep{
		{'S', "a1 OK appended\r\n"}, // the first APPEND, done
		{'C', "a1\r\n"},
		{'C', "a1 APPEND Missing {13}\r\n"},
		{'E', ""},
		{'S', "a1 BAD missing command\r\n"},
		{'S', "a1 NO [TRYCREATE] no such mailbox\r\n"},
	})
	if got := waitVerdict(&d); got != "refused" {
		t.Fatalf("WaitContinuation: %s; want refused", got)
	}
}

// TestDialogLostPendingLiteral: once more commands are pending than the
// Dialog remembers (1,024), it cannot tell whose completion a reused tag's
// is, so only the server's "+" ends a literal's wait: a completion tagged
// like the literal's command is not taken for its refusal (which, wrong,
// would make the proxy read the body as commands). Once every remembered
// command is complete, it counts again.
func TestDialogLostPendingLiteral(t *testing.T) {
	var d wire.Dialog
	var steps []dialogStep
	for range 1100 {
		steps = append(steps, dialogStep{'C', "a1 NOOP\r\n"})
	}
	steps = append(steps, dialogStep{'C', "a1 APPEND INBOX {13}\r\n"}, dialogStep{'E', ""})
	for range 1100 {
		steps = append(steps, dialogStep{'S', "a1 OK done\r\n"})
	}
	// 1,100 completions of a1 for 1,101 commands tagged a1: none is the
	// APPEND's; its "+" comes next. The first word is the one kept.
	steps = append(steps, dialogStep{'S', "+ OK\r\n"})
	runDialog(t, &d, steps)
	if got := waitVerdict(&d); got != "go-ahead" {
		t.Fatalf("WaitContinuation: %s; want go-ahead (a completion of an earlier a1 was taken for the refusal)", got)
	}
	// The APPEND completes; nothing is pending: in step again.
	runDialog(t, &d, []dialogStep{
		{'S', "a1 OK appended\r\n"},
		{'C', "a2 APPEND Missing {13}\r\n"},
		{'E', ""},
		{'S', "a2 NO [TRYCREATE] no such mailbox\r\n"},
	})
	if got := waitVerdict(&d); got != "refused" {
		t.Fatalf("WaitContinuation after the pending list emptied: %s; want refused", got)
	}
}

// TestDialogIdleAnswerEndsIdle: the server reads one line as the answer to
// an accepted IDLE (DONE, or anything else, answered BAD) and the next as a
// command, before its completion of the IDLE reaches the proxy. The Dialog
// kept the IDLE running until that completion: a client that sent "DONE"
// and "a2 LOGIN alice secret" in one go had the LOGIN classified as a Raw
// LineCommand without tag or name (imapkit proxy relayed it in plaintext
// and printed the password); after "abc {18+}" as the answer, the
// "a2 DELETE Victim" the server runs was hidden the same way. Found by
// FuzzDialogRelay (its seeds "IDLE raw line" and "IDLE DONE APPEND").
func TestDialogIdleAnswerEndsIdle(t *testing.T) {
	toks := func(s string) []wire.Token {
		line, err := wire.NewTokenizer(strings.NewReader(s), nil).AppendUntilLiteral(nil)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	for _, c := range []struct {
		answer string
		want   wire.Event
	}{
		{"DONE\r\n", wire.Event{Kind: wire.LineDone, Raw: true}},
		{"abc {18+}\r\n", wire.Event{Kind: wire.LineCommand, Raw: true}},
	} {
		var d wire.Dialog
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.Client(toks("a1 IDLE\r\n"))
		d.Server(toks("+ idling\r\n"))
		if ev, err := d.ClientWait(ctx, toks(c.answer)); err != nil || ev != c.want {
			t.Fatalf("%q: %+v %v; want %+v", c.answer, ev, err, c.want)
		}
		// a1's completion has not come yet.
		want := wire.Event{Kind: wire.LineCommand, Tag: "a2", Command: "LOGIN"}
		if ev, err := d.ClientWait(ctx, toks("a2 LOGIN alice secret\r\n")); err != nil || ev != want {
			t.Fatalf("the line after %q: %+v %v; want %+v", c.answer, ev, err, want)
		}
		cancel()
		if ev := d.Server(toks("a1 OK idle done\r\n")); ev.Command != "IDLE" {
			t.Fatalf("the IDLE's completion: %+v", ev)
		}
	}
}

// TestDialogTagAsServerReadsIt: a server reads a command's tag up to the
// first space: Dovecot takes "NIL", "a[1" or "]" for tags, which the
// tokenizer cuts (NIL is a KindNIL, '[' and ']' tokens of their own). The
// Dialog took the first token alone for the tag: "NIL AUTHENTICATE PLAIN"
// had no tag, so no SASL exchange began, and the response "abc {18+}"
// after the server's challenge was a command whose literal hid the
// "a2 DELETE Victim" the server runs; "a[1 LOGIN alice secret" had tag
// "a" and no name (imapkit proxy relayed it in plaintext and printed the
// password). Found by FuzzDialogRelay ("] A").
func TestDialogTagAsServerReadsIt(t *testing.T) {
	toks := func(s string) []wire.Token {
		line, err := wire.NewTokenizer(strings.NewReader(s), nil).AppendUntilLiteral(nil)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var d wire.Dialog
	if ev := d.Client(toks("NIL AUTHENTICATE PLAIN\r\n")); ev.Tag != "NIL" || ev.Command != "AUTHENTICATE" {
		t.Fatalf("NIL AUTHENTICATE: %+v", ev)
	}
	d.Server(toks("+ \r\n"))
	if ev, err := d.ClientWait(ctx, toks("abc {18+}\r\n")); err != nil || ev != (wire.Event{Kind: wire.LineSASL, Raw: true}) {
		t.Fatalf("the response: %+v %v; want a Raw LineSASL", ev, err)
	}
	if ev := d.Server(toks("NIL NO [AUTHENTICATIONFAILED] bad\r\n")); ev.Command != "AUTHENTICATE" {
		t.Fatalf("the completion: %+v", ev)
	}
	for _, c := range []struct{ line, tag, command string }{
		{"a[1 LOGIN alice secret\r\n", "a[1", "LOGIN"},
		// Dovecot refuses "]" in a tag ("* BAD Invalid tag"): no tag, the
		// command still named.
		{"] UID EXPUNGE 1\r\n", "", "UID EXPUNGE"},
		{"a1[x] DELETE Victim\r\n", "", "DELETE"},
	} {
		want := wire.Event{Kind: wire.LineCommand, Tag: c.tag, Command: c.command}
		if ev, err := d.ClientWait(ctx, toks(c.line)); err != nil || ev != want {
			t.Fatalf("%q: %+v %v; want %+v", c.line, ev, err, want)
		}
		if c.tag == "" {
			continue // no completion comes: the server answers "* BAD"
		}
		if ev := d.Server(toks(c.tag + " OK done\r\n")); ev.Tag != c.tag || ev.Command != c.command {
			t.Fatalf("the completion of %q: %+v", c.line, ev)
		}
	}
}

// TestDialogReusedTagIdleSASL: a completion ends the AUTHENTICATE or IDLE
// in progress only when it is theirs: with a tag reused ("<1>" alone, then
// "<1> IDLE"), the earlier line's "<1> BAD" ended the IDLE, so the line
// after the server's "+ idling", which the server reads as text (and
// answers BAD, ending the IDLE), was a command whose "{8}" the proxy took
// for a literal, hiding the command the server reads after it. Found by
// FuzzDialogRelay (testdata/fuzz/FuzzDialogRelay/a01f3cc3ffc363f0).
func TestDialogReusedTagIdleSASL(t *testing.T) {
	for _, c := range []struct{ name, cmd, plus string }{
		{"idle", "<1> IDLE\r\n", "+ idling\r\n"},
		{"sasl", "<1> AUTHENTICATE PLAIN\r\n", "+ \r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d wire.Dialog
			evs := runDialog(t, &d, []dialogStep{
				{'C', "<1>\r\n"},
				{'C', c.cmd},
				{'S', "<1> BAD missing command\r\n"},
				{'S', c.plus},
				{'C', "x {8}\r\n"},
			})
			if ev := evs[len(evs)-1]; !ev.Raw {
				t.Fatalf("the line after %q: %+v; want Raw (the earlier <1>'s BAD did not end the %s)", c.plus, ev, c.name)
			}
		})
	}
}

// TestDialogCommandNameAsServerReadsIt: a command name is what the server
// reads as one, "NIL" or digits too (KindNIL, KindNumber to the
// tokenizer): Dialog named no command for "0 NIL 0", where the model
// server of FuzzDialogRelay read the (unknown) command NIL
// (testdata/fuzz/FuzzDialogRelay/2bfa230df8f1dfc0).
func TestDialogCommandNameAsServerReadsIt(t *testing.T) {
	var d wire.Dialog
	evs := runDialog(t, &d, []dialogStep{
		{'C', "0 NIL 0\r\n"},
		{'C', "a1 123\r\n"},
		{'C', "a2 uid nil 1\r\n"},
	})
	for i, want := range []string{"NIL", "123", "UID NIL"} {
		if evs[i].Command != want {
			t.Errorf("line %d: command %q; want %q", i, evs[i].Command, want)
		}
	}
}
