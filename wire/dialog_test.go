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
		// none, and is a command as the server reads it.
		{false, "+ dj1iYXI=\r\n", wire.Event{Kind: wire.LineSASL}},
		{true, "\r\n", wire.Event{Kind: wire.LineCommand}},
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
