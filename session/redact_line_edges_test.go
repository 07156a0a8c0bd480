package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// echoAtLogin is a server that answers a LOGIN (its password literal
// read) with lines ("TAG" standing for its tag), a CR LF in one of them
// making two lines of it, then serves.
func echoAtLogin(lines ...string) hostile.Scenario {
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := c.Expect("LOGIN")
		if err != nil {
			return err
		}
		if cmd.Literal >= 0 {
			if err := c.Continue("go ahead"); err != nil {
				return err
			}
			if _, err := c.ReadLiteral(cmd.Literal); err != nil {
				return err
			}
			if _, err := c.ReadLine(); err != nil {
				return err
			}
		}
		return tagged(c, cmd.Tag, lines)
	}
}

// TestRedactEchoAcrossLineEnd: a server echoes the password across a
// line end in its NO to LOGIN, each of the two lines holding a part of
// it and neither a whole form: a password with a line break in it (sent
// as a literal) echoed as sent, and one the server breaks in two. The
// trace writer, the slog records, AbortError.History, LOGIN's error (the
// NO's text ends with the first part) and the abort's (the second line's
// first word, the rest, read as a tag) showed the parts, each line being
// redacted alone. Defaults (a trace writer and a logger set).
func TestRedactEchoAcrossLineEnd(t *testing.T) {
	redactEchoAcrossLineEnd(t, 0, true, false)
}

// TestRedactEchoAcrossCutLineEnd: as TestRedactEchoAcrossLineEnd, the
// first line longer than the trace keeps of a line (its capture: 496
// bytes with the history alone, the defaults; 64 KiB with a trace
// writer and a logger), so that it is cut, and the password's first
// part lies in its end past the cut. That part is not shown, but the
// line's end is the stream's all the same: the second line opens with
// the rest of the password, which history and the trace showed ("S:
// horse-battery-staple is wrong"), the carry being emptied after a cut
// line.
func TestRedactEchoAcrossCutLineEnd(t *testing.T) {
	redactEchoAcrossLineEnd(t, 600, false, false)
	redactEchoAcrossLineEnd(t, 70<<10, true, false)
}

// TestRedactEchoAcrossLiteralLineEnd: as TestRedactEchoAcrossLineEnd,
// the password's first part sent as a literal that ends the first line
// ("TAG NO bad password {15}" CR LF "hunter2-correct" CR LF
// "horse-battery-staple is wrong"). The trace shows the literal as "<15
// bytes>", not its bytes, but they are the stream's all the same: the
// second line opens with the rest of the password, which history showed,
// the carry holding the line as shown ("<15 bytes>").
func TestRedactEchoAcrossLiteralLineEnd(t *testing.T) {
	redactEchoAcrossLineEnd(t, 0, false, true)
	redactEchoAcrossLineEnd(t, 0, true, true)
	redactEchoAcrossLineEnd(t, 600, false, true)
}

// TestRedactEchoAcrossLineEndAfterLiteral: a line with a literal whose
// text after it holds a long password's first part (44 bytes, past the
// 32 bytes the tracer keeps of a line as received) before the line end:
// the line's end is traced as sent, and its carry, of up to the longest
// secret's length, finds the rest that opens the next line.
func TestRedactEchoAcrossLineEndAfterLiteral(t *testing.T) {
	const first, rest = "correct-horse-battery-staple-and-more-words-", "second-half-of-it"
	echo := "TAG NO {3}\r\nabc you sent " + first + "\r\n" + rest + " is wrong"
	hsRun(t, echoAtLogin(echo), 0, 0, func(hc *hsCase, conn net.Conn) {
		if hc.open(conn, hsOpts()) == nil {
			return
		}
		if _, err := hc.run(loginCommand("alice", first+"\r\n"+rest)); err == nil {
			hc.t.Fatalf("LOGIN: no error")
		}
		_, err := hc.run(hsNoop())
		var ae *session.AbortError
		if !errors.As(err, &ae) {
			hc.t.Fatalf("NOOP: %v; want an AbortError (the echo's second line is no response)", err)
		}
		if h := strings.Join(ae.History, "\n"); strings.Contains(h, "second-half") || strings.Contains(h, "battery") {
			hc.t.Errorf("AbortError.History shows the password: %q", h)
		}
		hc.s.Close()
	})
}

// redactEchoAcrossLineEnd runs TestRedactEchoAcrossLineEnd's cases with
// pad bytes of text before the echo, with a trace writer and a logger
// (traced) or the history alone, the echo's first line ending in a
// literal of the password's first part when lit.
func redactEchoAcrossLineEnd(t *testing.T, pad int, traced, lit bool) {
	for _, c := range []struct {
		name, pw, echo string
		parts          []string // what must not show
	}{
		{"line break in the password", "hunter2-correct\r\nhorse-battery-staple",
			"hunter2-correct\r\nhorse-battery-staple is wrong",
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
		{"password broken in two", "hunter2-correct-horse-battery-staple",
			"hunter2-correct-hor\r\nse-battery-staple is wrong",
			[]string{"hunter2", "correct", "-hor", "se-bat", "battery", "staple"}},
		{"line break in the password, not a status", "hunter2-correct\r\nhorse-battery-staple",
			"TAG XBAD bad password hunter2-correct\r\nhorse-battery-staple is wrong",
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
		{"line break in the password, a name alone", "hunter2-correct\r\nhorse-battery-staple",
			"TAG hunter2-correct\r\nhorse-battery-staple is wrong",
			[]string{"hunter2", "correct", "horse", "battery", "staple"}},
	} {
		t.Run(fmt.Sprintf("%s, %d bytes before, traced %v, literal %v", c.name, pad, traced, lit), func(t *testing.T) {
			echo := "TAG NO bad password " + strings.Repeat("x", pad)
			if lit {
				echo += fmt.Sprintf("{%d}\r\n", strings.Index(c.echo, "\r\n"))
			}
			echo += c.echo
			echoAtLoginHidden(t, echo, c.pw, c.parts, traced)
		})
	}
}

// TestRedactUnknownResponseLineEnd: a response the codec does not know
// runs to its line's end, as a status's text does: a password with a
// line break in it, echoed as sent, ends it with its part before the
// break ("* XECHO you sent hunter2-correct"), which the kept copies
// (Responses) and Redacted hid for a status's text (RedactLineEnd) but
// showed for such a response's. Its rest (or its name, when it has no
// rest) is redacted as a status's text now, and so is the error of a
// command answered with such a response as its tagged one.
func TestRedactUnknownResponseLineEnd(t *testing.T) {
	const pw = "hunter2-correct\r\nhorse-battery-staple"
	hsRun(t, echoAtLogin("* XECHO you sent hunter2-correct", "TAG OK in"), 0, 0, func(hc *hsCase, conn net.Conn) {
		s := hc.open(conn, hsOpts())
		if s == nil {
			return
		}
		if _, err := hc.run(loginCommand("alice", pw)); err != nil {
			hc.t.Fatalf("LOGIN: %v", err)
		}
		shows := func(what string, r codec.Response) {
			u, _ := r.(*codec.Unknown)
			if u == nil {
				hc.t.Fatalf("%s: %T; want a *codec.Unknown", what, r)
			}
			if got := string(u.Name) + " " + string(u.Rest); strings.Contains(got, "correct") {
				hc.t.Errorf("%s: %q; want the password's first part hidden", what, got)
			}
		}
		kept := s.Responses("XECHO")
		if len(kept) == 0 {
			hc.t.Fatalf("Responses(\"XECHO\") is empty")
		}
		shows("Responses(\"XECHO\")", kept[0])
		shows("Redacted of one with a rest", s.Redacted(&codec.Unknown{Tag: codec.Bytes("*"), Name: codec.Bytes("XECHO"), Rest: codec.Bytes("you sent hunter2-correct")}))
		shows("Redacted of one without", s.Redacted(&codec.Unknown{Tag: codec.Bytes("*"), Name: codec.Bytes("hunter2-correct")}))
		hc.s.Close()
	})
	// The same as LOGIN's tagged answer: its error quotes it.
	hsRun(t, echoAtLogin("TAG XECHO you sent hunter2-correct"), 0, 0, func(hc *hsCase, conn net.Conn) {
		if hc.open(conn, hsOpts()) == nil {
			return
		}
		_, err := hc.run(loginCommand("alice", pw))
		if err == nil || strings.Contains(err.Error(), "correct") {
			hc.t.Errorf("LOGIN answered XECHO: %v; want an error with the password's first part hidden", err)
		}
		hc.s.Close()
	})
}

// TestRedactStatusTextNotCutAtTwoBytes: a command's Result holds its
// completion's text as the server sent it when no credential is in it: a
// text ending with a password's first 2 bytes ("completed", password
// "edward-secret") is no echo. The text's end was redacted from 2 bytes
// (the edge of a credential a server breaks in two), and every "NOOP
// completed" read "NOOP complet***" for that password; a text's end is
// redacted from 4 bytes (redact.RedactLineEnd), the trace's from 2.
func TestRedactStatusTextNotCutAtTwoBytes(t *testing.T) {
	hsRun(t, echoAtLogin("TAG OK Logged in"), 0, 0, func(hc *hsCase, conn net.Conn) {
		if hc.open(conn, hsOpts()) == nil {
			return
		}
		if _, err := hc.run(loginCommand("alice", "edward-secret")); err != nil {
			hc.t.Fatalf("LOGIN: %v", err)
		}
		r, err := hc.run(hsNoop())
		if err != nil || r.Status == nil {
			hc.t.Fatalf("NOOP: %v", err)
		}
		if got := string(r.Status.Text); !strings.HasSuffix(got, "completed") {
			hc.t.Errorf("NOOP's Result.Status.Text = %q; want the server's text (\"... completed\")", got)
		}
		hc.s.Close()
	})
}

// TestRedactedUnknownNameRestAsOneLine: the name and rest of a response
// the codec does not know are what the line holds after its tag, to its
// end, and are redacted as one text (Session.Redacted, and so Responses,
// OnUnsolicited, a Catch, IDLE's events; a tagged one's error as
// TestRedactEchoAcrossLineEnd shows): a password with a space in it
// echoed from the name on, and the start of one with a line break that
// ends the rest, or the name when there is no rest. Each was redacted
// alone, of whole forms only: all of "correct horse battery staple"
// showed, and "hunter2-correct" of "hunter2-correct" CR LF "horse".
func TestRedactedUnknownNameRestAsOneLine(t *testing.T) {
	client, server := transport.Pipe()
	defer server.Close()
	go io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.AddSecret([]byte("correct horse battery staple"))
	s.AddSecret([]byte("hunter2-correct\r\nhorse"))
	for _, c := range []struct{ name, rest string }{
		{"correct", "horse battery staple is wrong"},
		{"XECHO", "you sent hunter2-correct"},
		{"hunter2-correct", ""},
		{"XECHO", "correct horse battery staple"},
	} {
		u := &codec.Unknown{Tag: codec.Bytes("*"), Name: codec.Bytes(c.name), Rest: codec.Bytes(c.rest)}
		r, _ := s.Redacted(u).(*codec.Unknown)
		if r == nil {
			t.Fatalf("Redacted(%q %q) is no *codec.Unknown", c.name, c.rest)
		}
		got := string(r.Name) + " " + string(r.Rest)
		for _, p := range []string{"hunter2", "correct", "horse", "battery", "staple"} {
			if strings.Contains(got, p) {
				t.Errorf("Redacted(%q %q) = %q %q: it shows %q of a password", c.name, c.rest, r.Name, r.Rest, p)
			}
		}
		if string(u.Name) != c.name || string(u.Rest) != c.rest {
			t.Errorf("Redacted changed the response it was given: %q %q", u.Name, u.Rest)
		}
	}
	if r := s.Redacted(&codec.Unknown{Tag: codec.Bytes("*"), Name: codec.Bytes("XECHO"), Rest: codec.Bytes("nothing (secret) here")}).(*codec.Unknown); string(r.Name) != "XECHO" || string(r.Rest) != "nothing (secret) here" {
		t.Errorf("Redacted(XECHO, a rest with no password) = %q %q; want them as they were", r.Name, r.Rest)
	}
}

// echoAtLoginHidden runs a LOGIN with the password pw against a server
// that answers it with echo (echoAtLogin), then a NOOP, which the echo's
// second line aborts, with a trace writer and a logger set (traced) or
// the history alone, the defaults otherwise, and checks that none of
// parts shows in LOGIN's error, the abort's, AbortError.History, the
// trace or the slog records.
func echoAtLoginHidden(t *testing.T, echo, pw string, parts []string, traced bool) {
	t.Helper()
	echoAtLoginHiddenLiterals(t, echo, pw, parts, traced, false)
}

// echoAtLoginHiddenLiterals is echoAtLoginHidden with literals traced
// (Options.TraceLiterals) when literals.
func echoAtLoginHiddenLiterals(t *testing.T, echo, pw string, parts []string, traced, literals bool) {
	t.Helper()
	var trace, logbuf bytes.Buffer
	var mu sync.Mutex
	hsRun(t, echoAtLogin(echo), 0, 0, func(hc *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.TraceLiterals = literals
		if traced {
			opts.Trace = &hsSyncWriter{w: &trace, mu: &mu}
			opts.Logger = slog.New(slog.NewTextHandler(&hsSyncWriter{w: &logbuf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		if hc.open(conn, opts) == nil {
			return
		}
		shows := func(what, s string) {
			for _, p := range parts {
				if strings.Contains(s, p) {
					hc.t.Errorf("traced %v, literals traced %v: %s shows %q of the password: %q", traced, literals, what, p, s)
				}
			}
		}
		_, err := hc.run(loginCommand("alice", pw))
		if err == nil {
			hc.t.Fatalf("LOGIN: no error")
		}
		shows("LOGIN's error", err.Error())
		_, err = hc.run(hsNoop())
		var ae *session.AbortError
		if !errors.As(err, &ae) {
			hc.t.Fatalf("NOOP: %v; want an AbortError (the echo's second line is no response)", err)
		}
		shows("the abort's error", err.Error())
		shows("AbortError.History", strings.Join(ae.History, "\n"))
		hc.s.Close()
		mu.Lock()
		defer mu.Unlock()
		shows("the trace", trace.String())
		shows("the slog records", logbuf.String())
	})
}
