package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// traceServer is what the server sends in sessionTrace, one S: line of the
// transcript each: a control byte, 8-bit text and text that reads like an
// escape ("\x1b": escaped as \x5cx1b), and literals (one with
// a CRLF inside, two in one response, one empty).
var traceServer = []string{
	"* PREAUTH [CAPABILITY IMAP4rev1] hi",
	"* 2 EXISTS",
	"* OK [ALERT] a\tb \u00e9t\u00e9 \\x1b is text",
	"A1 OK [READ-WRITE] done",
	"* 1 FETCH (UID 7 BODY[] {12}",
	"Hello",
	"world)",
	"* 2 FETCH (UID 8 BODY[1] {3}",
	"abc BODY[2] {2}",
	"xy BODY[3] {0}",
	")",
	"* LIST () \"/\" \"{5} x\"",
	"A2 OK done",
}

// syncBuffer is a bytes.Buffer safe for the session's reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// sessionTrace runs a session against traceServer and returns its trace.
func sessionTrace(t *testing.T, literals bool) string {
	t.Helper()
	script := "S: " + strings.Join(traceServer[:1], "\nS: ") + "\nC: A1 SELECT INBOX\nS: " +
		strings.Join(traceServer[1:4], "\nS: ") + "\nC: A2 UID FETCH 7 (UID BODY[])\nS: " +
		strings.Join(traceServer[4:], "\nS: ")
	conn, wait := transcript.Start(t, script)
	var tr syncBuffer
	s := transcript.Open(t, conn, &session.Options{Trace: &tr, TraceLiterals: literals})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("7 (UID BODY[])") }}); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return tr.String()
}

// responses decodes with args and returns the "response" and "type" of
// each object, and the positions ("line" or "offset").
func responses(t *testing.T, input string, args ...string) (resp []any, pos []float64) {
	t.Helper()
	code, stdout, stderr := runCLI(t, input, append([]string{"decode"}, args...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("decode %q: exit %d, stderr %q", args, code, stderr)
	}
	for _, o := range jsonLines(t, stdout) {
		resp = append(resp, []any{o["type"], o["response"]})
		p, ok := o["line"].(float64)
		if !ok {
			p, _ = o["offset"].(float64)
		}
		pos = append(pos, p)
	}
	return resp, pos
}

// TestDecodeTrace: a session's own trace decodes, with -trace, to the same
// responses as the bytes the server sent; with literals summarised, their
// bodies come out as '.'.
func TestDecodeTrace(t *testing.T) {
	raw := strings.Join(traceServer, "\r\n") + "\r\n"
	want, _ := responses(t, raw)
	if len(want) != 8 {
		t.Fatalf("the server's bytes decode to %d responses; want 8", len(want))
	}

	inline := sessionTrace(t, true)
	got, lines := responses(t, inline, "-trace")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode -trace of a trace with TraceLiterals (-raw +trace):\n%s\ntrace:\n%s", diff, inline)
	}
	// Each response names the trace line it starts on.
	tl := strings.Split(inline, "\n")
	for i, l := range lines {
		if l < 1 || int(l) > len(tl) || !strings.HasPrefix(tl[int(l)-1], "S: ") {
			t.Errorf("response %d: line %v is not an S: line of the trace", i, l)
		}
	}
	if int(lines[4]) < 1 || !strings.HasPrefix(tl[int(lines[4])-1], "S: * 1 FETCH (UID 7 BODY[] {12} Hello\\x0d\\x0aworld)") {
		t.Errorf("the first FETCH is at line %v: %q", lines[4], tl[int(lines[4])-1])
	}

	summarised := sessionTrace(t, false)
	got, _ = responses(t, summarised, "-trace")
	// The bodies are summarised: expect dots of the same sizes.
	wantSum, _ := responses(t, strings.NewReplacer("Hello\r\nworld)", "............)", "{3}\r\nabc", "{3}\r\n...", "{2}\r\nxy", "{2}\r\n..").Replace(raw))
	if diff := cmp.Diff(wantSum, got); diff != "" {
		t.Errorf("decode -trace of a trace with summaries (-want +got):\n%s\ntrace:\n%s", diff, summarised)
	}
	if !strings.Contains(summarised, "{12} <12 bytes>)") {
		t.Errorf("the trace format changed: no literal summary in\n%s", summarised)
	}
}

func TestDecodeTraceErrors(t *testing.T) {
	code, _, stderr := runCLI(t, "S: * 1 EXISTS\nnot a trace line\nS: * 2 EXISTS\nS: * BAD(\n", "decode", "-trace")
	if code != 1 || !strings.Contains(stderr, "line 4: cannot decode") || !strings.Contains(stderr, "line 2: not a trace line (1 such lines skipped)") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
