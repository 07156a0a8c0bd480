package wire_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// TestDialogSASLNeedsChallenge: during AUTHENTICATE a client line is a
// SASL response only when it answers a server challenge ("+"). A client
// that pipelines a command after AUTHENTICATE with an initial response
// (SASL-IR) had it classified as SASL: a filter let "a2 DELETE x" through
// (the server, which had sent no challenge, ran it as a command) and a
// tracer printed it as [SASL] (the proxy-writer audit of 2026-12-04).
func TestDialogSASLNeedsChallenge(t *testing.T) {
	var d wire.Dialog
	steps := []struct {
		client bool
		line   string
		want   wire.Event
	}{
		{true, "a1 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a1", Command: "AUTHENTICATE"}},
		{true, "a2 DELETE x\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a2", Command: "DELETE"}},
		{false, "a1 OK done\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "a1", Command: "AUTHENTICATE", Status: "OK"}},
		// A multi-step exchange: each response answers a challenge.
		{true, "b1 AUTHENTICATE SCRAM-SHA-256 biwsbj1hbGljZQ==\r\n", wire.Event{Kind: wire.LineCommand, Tag: "b1", Command: "AUTHENTICATE"}},
		{false, "+ cj1mb28=\r\n", wire.Event{Kind: wire.LineSASL}},
		{true, "Yz1iaXdz\r\n", wire.Event{Kind: wire.LineSASL, Raw: true}},
		{true, "b2 DELETE y\r\n", wire.Event{Kind: wire.LineCommand, Tag: "b2", Command: "DELETE"}},
		// The server reads the line already sent ("b2 DELETE y") as the
		// response to this challenge: the client's next line answers
		// none, and is a command as the server reads it; it may be the
		// client's (empty) response all the same: MaybeSASL, and
		// LikelySASL (sent during the exchange).
		{false, "+ dj1iYXI=\r\n", wire.Event{Kind: wire.LineSASL}},
		{true, "\r\n", wire.Event{Kind: wire.LineCommand, MaybeSASL: true, LikelySASL: true}},
		{false, "b1 OK done\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "b1", Command: "AUTHENTICATE", Status: "OK"}},
		// After the completion, "+" is a continuation again.
		{false, "+ go ahead\r\n", wire.Event{Kind: wire.LineContinuation, Stray: true}},
	}
	for i, s := range steps {
		toks, err := wire.NewTokenizer(strings.NewReader(s.line), nil).AppendLine(nil)
		if err != nil {
			t.Fatal(err)
		}
		var got wire.Event
		if s.client {
			got = d.Client(toks)
		} else {
			got = d.Server(toks)
		}
		if got != s.want {
			t.Fatalf("step %d %q: %+v; want %+v", i, s.line, got, s.want)
		}
	}
}

// TestDialogRefusedLiteral: a client announces a synchronizing literal and
// the server refuses the command (APPEND to a missing mailbox: a tagged NO
// [TRYCREATE] instead of "+"), so the client never sends the body and its
// next line is a new command. A relay that went on to read the announced
// bytes as the body took "a2 DELETE Victim" for literal data: it was never
// classified (a filter let it through; the server ran it) and the relay
// stayed out of step (the proxy-writer audit of 2026-12-04, against
// Dovecot). With ExpectContinuation, WaitContinuation and RefuseLiteral the
// relay sees the DELETE as a command; with the server's "+" the body is
// relayed as before.
func TestDialogRefusedLiteral(t *testing.T) {
	for _, c := range []struct {
		name, client, server string
		goAhead              bool
		next                 string // the command after the APPEND
	}{
		{"refused", "a1 APPEND Missing {16}\r\na2 DELETE Victim\r\n", "a1 NO [TRYCREATE] no such mailbox\r\n", false, "DELETE"},
		{"go-ahead", "a1 APPEND INBOX {16}\r\na2 DELETE Victim\r\na3 NOOP\r\n", "+ go ahead\r\n", true, "NOOP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d wire.Dialog
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tk := wire.NewTokenizer(strings.NewReader(c.client), nil)
			var up bytes.Buffer
			w := bufio.NewWriter(&up)
			line, err := tk.AppendUntilLiteral(nil)
			if err != nil {
				t.Fatal(err)
			}
			if ev := d.Client(line); ev.Command != "APPEND" {
				t.Fatalf("first line: %+v", ev)
			}
			last := line[len(line)-1]
			if last.Kind != wire.KindLiteral || last.Literal().NonSync {
				t.Fatalf("the line does not end with a synchronizing literal: %v", last.Kind)
			}
			d.ExpectContinuation(last.Literal())
			if _, err := tk.Forward(w); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			// The server direction, meanwhile.
			go func() {
				toks, err := wire.NewTokenizer(strings.NewReader(c.server), nil).AppendLine(nil)
				if err == nil {
					d.Server(toks)
				}
			}()
			ok, err := d.WaitContinuation(ctx)
			if err != nil || ok != c.goAhead {
				t.Fatalf("WaitContinuation: %v %v; want %v", ok, err, c.goAhead)
			}
			if ok {
				if _, err := tk.ForwardLiteral(w); err != nil {
					t.Fatal(err)
				}
				line, err = tk.AppendUntilLiteral(line[:0]) // the rest of the APPEND line
				if err != nil {
					t.Fatal(err)
				}
				tk.Forward(w)
			} else if err := tk.RefuseLiteral(); err != nil {
				t.Fatal(err)
			}
			line, err = tk.AppendUntilLiteral(line[:0])
			if err != nil {
				t.Fatal(err)
			}
			if ev := d.Client(line); ev.Kind != wire.LineCommand || ev.Command != c.next {
				t.Fatalf("the line after the APPEND: %+v; want the command %s", ev, c.next)
			}
			tk.Forward(w)
			w.Flush()
			if up.String() != c.client {
				t.Fatalf("relayed %q; want %q", up.String(), c.client)
			}
		})
	}
}

// TestDialogWaitContinuationEnds: WaitContinuation returns at once without
// ExpectContinuation, and with ctx's error when ctx ends first.
func TestDialogWaitContinuationEnds(t *testing.T) {
	var d wire.Dialog
	if ok, err := d.WaitContinuation(context.Background()); ok || err != nil {
		t.Fatalf("without ExpectContinuation: %v %v", ok, err)
	}
	d.ExpectContinuation(wire.LiteralInfo{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if ok, err := d.WaitContinuation(ctx); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with ctx ended: %v %v", ok, err)
	}
	if err := wire.NewTokenizer(strings.NewReader("a NOOP\r\n"), nil).RefuseLiteral(); !errors.Is(err, wire.ErrLiteralPending) {
		t.Fatalf("RefuseLiteral with no literal open: %v", err)
	}
}

// TestDialogRawLines: the server reads a SASL response, and the line that
// answers an accepted IDLE, to its end as text: a "{20+}" at its end is no
// literal header there. A proxy that relayed the next 20 bytes as a body
// hid the command the server reads in them ("abc {20+}" as a SASL
// response, then "a2 DELETE Victim": Dovecot fails the AUTHENTICATE and
// runs the DELETE). Event.Raw tells the proxy to end such a line at the
// header (Tokenizer.RefuseLiteral); this relay then sees the DELETE.
func TestDialogRawLines(t *testing.T) {
	for _, c := range []struct {
		name, start, plus, end string
	}{
		{"sasl", "a1 AUTHENTICATE PLAIN\r\n", "+ \r\n", "a1 NO [AUTHENTICATIONFAILED] bad\r\n"},
		{"idle", "a1 IDLE\r\n", "+ idling\r\n", "a1 BAD expected DONE\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d wire.Dialog
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client := c.start + "abc {18+}\r\na2 DELETE Victim\r\n"
			tk := wire.NewTokenizer(strings.NewReader(client), nil)
			server := func(l string) {
				toks, err := wire.NewTokenizer(strings.NewReader(l), nil).AppendLine(nil)
				if err != nil {
					t.Fatal(err)
				}
				d.Server(toks)
			}
			var up bytes.Buffer
			line, _ := tk.AppendUntilLiteral(nil)
			d.Client(line)
			tk.Forward(&up)
			server(c.plus)
			line, _ = tk.AppendUntilLiteral(line[:0])
			ev, err := d.ClientWait(ctx, line)
			if err != nil || !ev.Raw {
				t.Fatalf("the line after %q: %+v %v; want Raw", c.plus, ev, err)
			}
			if last := line[len(line)-1]; last.Kind != wire.KindLiteral {
				t.Fatalf("the line does not end with what looks like a literal header")
			}
			tk.Forward(&up)
			if err := tk.RefuseLiteral(); err != nil {
				t.Fatal(err)
			}
			server(c.end)
			line, _ = tk.AppendUntilLiteral(line[:0])
			if ev, err := d.ClientWait(ctx, line); err != nil || ev.Kind != wire.LineCommand || ev.Command != "DELETE" {
				t.Fatalf("the next line: %+v %v; want the command DELETE", ev, err)
			}
			tk.Forward(&up)
			if up.String() != client {
				t.Fatalf("relayed %q; want %q", up.String(), client)
			}
		})
	}
}

// TestDialogClientWait: a line the client sends during AUTHENTICATE before
// the server's challenge, or after IDLE before its "+", waits in
// ClientWait for the server's word, which decides how the server reads it.
func TestDialogClientWait(t *testing.T) {
	toks := func(s string) []wire.Token {
		line, err := wire.NewTokenizer(strings.NewReader(s), nil).AppendUntilLiteral(nil)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	for _, c := range []struct {
		name, cmd, ahead, word string
		want                   wire.Event
	}{
		{"challenge", "a1 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=\r\n", "b {5+}\r\n", "+ more\r\n", wire.Event{Kind: wire.LineSASL, Raw: true}},
		{"completion", "a1 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=\r\n", "a2 DELETE x\r\n", "a1 OK done\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a2", Command: "DELETE"}},
		{"idle accepted", "a1 IDLE\r\n", "DONE\r\n", "+ idling\r\n", wire.Event{Kind: wire.LineDone, Raw: true}},
		{"idle refused", "a1 IDLE\r\n", "a2 DELETE x\r\n", "a1 NO no idle\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a2", Command: "DELETE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d wire.Dialog
			d.Client(toks(c.cmd))
			got := make(chan wire.Event, 1)
			go func() {
				ev, err := d.ClientWait(context.Background(), toks(c.ahead))
				if err != nil {
					t.Error(err)
				}
				got <- ev
			}()
			select {
			case ev := <-got:
				t.Fatalf("ClientWait told %+v before the server's word", ev)
			case <-time.After(50 * time.Millisecond):
			}
			d.Server(toks(c.word))
			select {
			case ev := <-got:
				if ev != c.want {
					t.Fatalf("after %q: %+v; want %+v", c.word, ev, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ClientWait still waiting after the server's word")
			}
		})
	}
	var d wire.Dialog
	d.Client(toks("a1 IDLE\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := d.ClientWait(ctx, toks("DONE\r\n")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ClientWait with ctx ended: %v", err)
	}
}

// TestDialogUnspaced: Dialog.Server sets Event.Unspaced for a
// tagged OK that the codec does not read as OK (no SP after the status
// word, or a line that begins with a space), the rule the proxy kept to
// itself (okUnspaced) so that a STARTTLS or COMPRESS completion a server
// may switch on, while an imapkit client does not, closes the connection:
// any embedder of wire now gets it. The line's tokens are those read up
// to its end, its first literal, or a syntax error, as a proxy has them.
func TestDialogUnspaced(t *testing.T) {
	for _, c := range []struct {
		line string
		want bool
	}{
		{"a1 OK done\r\n", false},
		{"a1 OK\r\n", false}, // no text: an OK
		{"a1 ok begin TLS\r\n", false},
		{"a1 OK [CAPABILITY IMAP4rev1] x\r\n", false},
		{"a[1] OK x\r\n", false}, // a tag of several tokens
		{"a1 OK{5}\r\nhello\r\n", true},
		{"a1 OK(x)\r\n", true},
		{"a1 OK[ALERT] x\r\n", true},
		{"a1 OK\"x\"\r\n", true},
		{"a1 OK\"x\r\n", true}, // a syntax error after OK: tokens a1 SP OK
		{"a[1] OK[x]\r\n", true},
		{" a1 OK x\r\n", true},
		{"a1 NO[x]\r\n", false},      // not an OK: nothing to switch on
		{"a1 BAD(x)\r\n", false},     // idem
		{"* OK[ALERT] x\r\n", false}, // untagged
	} {
		tk := wire.NewTokenizer(strings.NewReader(c.line), nil)
		toks, err := tk.AppendUntilLiteral(nil)
		if len(toks) == 0 {
			t.Fatalf("%q: no token (%v)", c.line, err)
		}
		var d wire.Dialog
		if ev := d.Server(toks); ev.Unspaced != c.want {
			t.Errorf("%q: Unspaced %v, want %v (%+v)", c.line, ev.Unspaced, c.want, ev)
		}
	}
}

func dialogLine(t *testing.T, s string) []wire.Token {
	t.Helper()
	tk := wire.NewTokenizer(strings.NewReader(s), nil)
	toks, err := tk.AppendUntilLiteral(nil)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return toks
}

// TestDialogRefusalAnswerCompletesOlder: docs/proxy.md
// ("Refusing a command") said to pass the proxy's own answer to d.Server
// so that a refused IDLE or AUTHENTICATE does not leave the Dialog in IDLE
// or SASL mode. With an older command of the same tag still pending
// upstream, the answer completed that one instead: the Dialog stayed in
// SASL mode for an AUTHENTICATE the server never saw, and the older
// command's real completion was named after the refused command (in
// imapkit proxy, taken for a COMPRESS accepted). Answered completes the
// refused command by its own entry.
func TestDialogRefusalAnswerCompletesOlder(t *testing.T) {
	var d wire.Dialog
	d.Client(dialogLine(t, "z NOOP\r\n"))               // relayed
	d.Client(dialogLine(t, "z AUTHENTICATE PLAIN\r\n")) // refused by the proxy
	d.Answered()                                        // the proxy's "z NO refused by the proxy"
	if ev := d.Server(dialogLine(t, "+ \r\n")); ev.Kind == wire.LineSASL {
		t.Errorf("after the refused AUTHENTICATE's answer, a '+' is still a SASL challenge (%+v)", ev)
	}

	var d2 wire.Dialog
	d2.Client(dialogLine(t, "z NOOP\r\n"))             // relayed
	d2.Client(dialogLine(t, "z COMPRESS DEFLATE\r\n")) // refused by a proxy
	d2.Answered()                                      // the proxy's "z BAD refused by the proxy"
	if ev := d2.Server(dialogLine(t, "z OK NOOP completed\r\n")); ev.Command != "NOOP" {
		t.Errorf("the NOOP's completion is named %q", ev.Command)
	}
}

// TestDialogForgottenEndsIdle: Client remembers 1,024 pending
// commands and forgets the oldest beyond: its completion was then matched
// to the next pending command with the same tag, an IDLE, which ended
// before the server had accepted it (its "+" then Stray, or a literal's
// go-ahead). ClientWait, which a proxy calls, waits for room instead of
// forgetting: the NOOP's completion is the NOOP's, and the IDLE's "+" is
// the IDLE's.
func TestDialogForgottenEndsIdle(t *testing.T) {
	var d wire.Dialog
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.ClientWait(ctx, dialogLine(t, "z NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1023; i++ {
		if _, err := d.ClientWait(ctx, dialogLine(t, "y NOOP\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if ev, err := d.ClientWait(short, dialogLine(t, "z IDLE\r\n")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a command with 1,024 pending: %+v %v; want it to wait", ev, err)
	}
	idle := make(chan wire.Event, 1)
	go func() {
		ev, _ := d.ClientWait(ctx, dialogLine(t, "z IDLE\r\n"))
		idle <- ev
	}()
	if ev := d.Server(dialogLine(t, "z OK NOOP completed\r\n")); ev.Command != "NOOP" {
		t.Fatalf("the NOOP's completion: %+v", ev)
	}
	if ev := <-idle; ev.Command != "IDLE" {
		t.Fatalf("the IDLE, once there is room: %+v", ev)
	}
	if ev := d.Server(dialogLine(t, "+ idling\r\n")); ev.Stray || ev.Kind != wire.LineContinuation {
		t.Errorf("the IDLE's '+' after an earlier command's completion: %+v", ev)
	}
}

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
