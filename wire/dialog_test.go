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
		{true, "Yz1iaXdz\r\n", wire.Event{Kind: wire.LineSASL}},
		{true, "b2 DELETE y\r\n", wire.Event{Kind: wire.LineCommand, Tag: "b2", Command: "DELETE"}},
		// The server reads the line already sent ("b2 DELETE y") as the
		// response to this challenge: the client's next line answers
		// none, and is a command as the server reads it.
		{false, "+ dj1iYXI=\r\n", wire.Event{Kind: wire.LineSASL}},
		{true, "\r\n", wire.Event{Kind: wire.LineCommand}},
		{false, "b1 OK done\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "b1", Command: "AUTHENTICATE", Status: "OK"}},
		// After the completion, "+" is a continuation again.
		{false, "+ go ahead\r\n", wire.Event{Kind: wire.LineContinuation}},
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
			d.ExpectContinuation()
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
	d.ExpectContinuation()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if ok, err := d.WaitContinuation(ctx); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with ctx ended: %v %v", ok, err)
	}
	if err := wire.NewTokenizer(strings.NewReader("a NOOP\r\n"), nil).RefuseLiteral(); !errors.Is(err, wire.ErrLiteralPending) {
		t.Fatalf("RefuseLiteral with no literal open: %v", err)
	}
}
