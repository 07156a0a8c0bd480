package wire_test

import (
	"context"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestDialogMaybeSASL: Event.MaybeSASL marks the client lines that may be
// SASL responses though the server reads them as commands: the response
// to a challenge the server left unanswered when it completed the
// AUTHENTICATE (whatever its shape), the one-word lines after an
// exchange ended (by the server's completion, or by Answered: a response
// sent ahead of a refusal) up to the first line of two words, and, for
// Client, a line told during the exchange before a challenge. No other
// line has it: a pipelined command after the exchange, a response that
// answers a challenge (a LineSASL), lines when no AUTHENTICATE was sent.
// LikelySASL marks, of those, the response owed to an unanswered challenge
// and the line told during the exchange: not the one-word lines after it.
func TestDialogMaybeSASL(t *testing.T) {
	const resp = "AHVzZXIAc2VjcmV0cHc=\r\n"
	type step struct {
		server bool   // a server's line (else the client's, told by ClientWait)
		line   string // "" on the client's side: Answered
		kind   wire.LineKind
		maybe  bool
		likely bool // LikelySASL
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"challenge unanswered at the completion", []step{
			{line: "a1 AUTHENTICATE PLAIN\r\n", kind: wire.LineCommand},
			{server: true, line: "+ \r\n"},
			{server: true, line: "a1 NO too slow\r\n"},
			{line: resp, kind: wire.LineCommand, maybe: true, likely: true},
			{line: "a2 NOOP\r\n", kind: wire.LineCommand},
			{line: resp, kind: wire.LineCommand},
		}},
		{"the owed line whatever its shape", []step{
			{line: "a1 AUTHENTICATE PLAIN\r\n", kind: wire.LineCommand},
			{server: true, line: "+ \r\n"},
			{server: true, line: "a1 NO too slow\r\n"},
			{line: "x y\r\n", kind: wire.LineCommand, maybe: true, likely: true},
			{line: resp, kind: wire.LineCommand},
		}},
		{"responses sent ahead of a refusal", []step{
			{line: "a1 AUTHENTICATE LOGIN\r\n", kind: wire.LineCommand},
			{server: true, line: "a1 NO [AUTHENTICATIONFAILED] no\r\n"},
			{line: "YWxpY2U=\r\n", kind: wire.LineCommand, maybe: true},
			{line: "c2VjcmV0cHc=\r\n", kind: wire.LineCommand, maybe: true},
			{line: "*\r\n", kind: wire.LineCommand, maybe: true},
			{line: "\r\n", kind: wire.LineCommand, maybe: true},
			{line: "a2 LOGOUT\r\n", kind: wire.LineCommand},
			{line: resp, kind: wire.LineCommand},
		}},
		{"a response sent ahead of the proxy's own answer", []step{
			{line: "a1 AUTHENTICATE PLAIN\r\n", kind: wire.LineCommand},
			{line: ""}, // Answered
			{line: resp, kind: wire.LineCommand, maybe: true},
		}},
		{"a completed exchange", []step{
			{line: "a1 AUTHENTICATE PLAIN\r\n", kind: wire.LineCommand},
			{server: true, line: "+ \r\n"},
			{line: resp, kind: wire.LineSASL},
			{server: true, line: "a1 OK done\r\n"},
			{line: "a2 SELECT INBOX\r\n", kind: wire.LineCommand},
			{line: "a3\r\n", kind: wire.LineCommand},
		}},
		{"a command typed without its tag after the exchange", []step{
			{line: "a1 AUTHENTICATE PLAIN\r\n", kind: wire.LineCommand},
			{server: true, line: "+ \r\n"},
			{line: resp, kind: wire.LineSASL},
			{server: true, line: "a1 OK done\r\n"},
			{line: "CAPABILITY\r\n", kind: wire.LineCommand, maybe: true},
		}},
		{"with SASL-IR, a pipelined command", []step{
			{line: "a1 AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0cHc=\r\n", kind: wire.LineCommand},
			{server: true, line: "a1 OK done\r\n"},
			{line: "a2 SELECT INBOX\r\n", kind: wire.LineCommand},
		}},
		{"no AUTHENTICATE", []step{
			{line: "a1\r\n", kind: wire.LineCommand},
			{line: resp, kind: wire.LineCommand},
			{line: " LOGIN alice secret\r\n", kind: wire.LineCommand},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d wire.Dialog
			for i, s := range c.steps {
				var ev wire.Event
				switch {
				case s.server:
					d.Server(dialogLine(t, s.line))
					continue
				case s.line == "":
					d.Answered()
					continue
				default:
					var err error
					if ev, err = d.ClientWait(context.Background(), dialogLine(t, s.line)); err != nil {
						t.Fatal(err)
					}
				}
				if ev.Kind != s.kind || ev.MaybeSASL != s.maybe || ev.LikelySASL != s.likely {
					t.Errorf("step %d %q: %v MaybeSASL %v LikelySASL %v, want %v MaybeSASL %v LikelySASL %v",
						i, s.line, ev.Kind, ev.MaybeSASL, ev.LikelySASL, s.kind, s.maybe, s.likely)
				}
			}
		})
	}
}

// TestDialogMaybeSASLClientAhead: Client (a tracer's, which does not
// wait) calls a line sent during AUTHENTICATE before a challenge a
// command, with MaybeSASL: the server reads it as a response if a
// challenge comes. ClientWait waits for the server's word instead.
func TestDialogMaybeSASLClientAhead(t *testing.T) {
	var d wire.Dialog
	d.Client(dialogLine(t, "a1 AUTHENTICATE PLAIN\r\n"))
	ev := d.Client(dialogLine(t, "AHVzZXIAc2VjcmV0cHc=\r\n"))
	if ev.Kind != wire.LineCommand || !ev.MaybeSASL || !ev.LikelySASL {
		t.Fatalf("a line sent ahead of the challenge: %v MaybeSASL %v LikelySASL %v, want a command, MaybeSASL, LikelySASL",
			ev.Kind, ev.MaybeSASL, ev.LikelySASL)
	}
	d.Server(dialogLine(t, "+ \r\n")) // answered by the line sent ahead
	d.Server(dialogLine(t, "a1 OK done\r\n"))
	if ev := d.Client(dialogLine(t, "a2 NOOP\r\n")); ev.MaybeSASL {
		t.Fatalf("a command after the exchange: MaybeSASL")
	}
}

// TestDialogMaybeSASLAfterUntrackedAuthenticate: an AUTHENTICATE that
// begins no exchange, as the line has no tag ("a%1 AUTHENTICATE PLAIN", "
// a1 AUTHENTICATE PLAIN"), was typed without one ("AUTHENTICATE PLAIN":
// the server reads the tag "AUTHENTICATE") or was sent as the answer to
// an accepted IDLE (the server reads it as text), is answered BAD, but
// its client may send its response ahead all the same: the lines of one
// word after it are MaybeSASL (not LikelySASL) up to the first of two
// words, as after an exchange that ended. Before, they were plain
// commands, and a proxy printed the response and echoed it as the tag
// of its BAD.
func TestDialogMaybeSASLAfterUntrackedAuthenticate(t *testing.T) {
	for _, first := range []string{
		"a%1 AUTHENTICATE PLAIN\r\n",
		" a1 AUTHENTICATE PLAIN\r\n",
		"AUTHENTICATE PLAIN\r\n",
		"authenticate LOGIN\r\n",
		"* AUTHENTICATE PLAIN\r\n",
	} {
		var d wire.Dialog
		if ev := dialogTell(t, &d, first); ev.MaybeSASL {
			t.Errorf("%q: MaybeSASL", first)
		}
		d.Answered() // the proxy's BAD, or the server's (a line without a tag is no pending command)
		checkMaybeSASLAfter(t, &d, first)
	}
	var d wire.Dialog
	dialogTell(t, &d, "a1 IDLE\r\n")
	d.Server(dialogLine(t, "+ idling\r\n"))
	if ev := dialogTell(t, &d, "a2 AUTHENTICATE PLAIN\r\n"); !ev.Raw {
		t.Fatalf("a line sent as IDLE's answer: Raw false")
	}
	d.Server(dialogLine(t, "a1 BAD expected DONE\r\n"))
	checkMaybeSASLAfter(t, &d, "a2 AUTHENTICATE PLAIN\r\n (IDLE's answer)")
}

// dialogTell tells d the client's line (ClientWait).
func dialogTell(t *testing.T, d *wire.Dialog, line string) wire.Event {
	t.Helper()
	ev, err := d.ClientWait(context.Background(), dialogLine(t, line))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// checkMaybeSASLAfter checks the client's lines after an AUTHENTICATE
// that began no exchange (first): those of one word are MaybeSASL, not
// LikelySASL, up to the first of two words.
func checkMaybeSASLAfter(t *testing.T, d *wire.Dialog, first string) {
	t.Helper()
	const resp = "AHVzZXIAc2VjcmV0cHc=\r\n"
	for i, s := range []struct {
		line  string
		maybe bool
	}{{resp, true}, {"c2VjcmV0cHc=\r\n", true}, {"a3 NOOP\r\n", false}, {resp, false}} {
		if ev := dialogTell(t, d, s.line); ev.Kind != wire.LineCommand || ev.MaybeSASL != s.maybe || ev.LikelySASL {
			t.Errorf("after %q, line %d %q: %v MaybeSASL %v LikelySASL %v; want a command, MaybeSASL %v, LikelySASL false",
				first, i, s.line, ev.Kind, ev.MaybeSASL, ev.LikelySASL, s.maybe)
		}
	}
}
