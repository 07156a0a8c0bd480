package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// script plays testdata/NAME.txt as the server (see internal/transcript
// for the format) and returns the client's end of the pipe and the
// function that reports the first mismatch.
func script(t *testing.T, name string) (net.Conn, func() error) {
	t.Helper()
	return transcript.Start(t, transcript.ReadFile(t, filepath.Join("testdata", name+".txt")))
}

// waitEvents waits until done, which the caller evaluates under its own
// lock, reports true, or hangBound passes: OnUnsolicited runs on a goroutine of
// its own, so a command's end does not mean its handler has run yet
// (TestTranscriptPipeline failed so with a delay planted in the handler's
// goroutine).
func waitEvents(mu *sync.Mutex, done func() bool) {
	deadline := time.Now().Add(hangBound)
	for {
		mu.Lock()
		ok := done()
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func loginCommand(user, pass string) *session.Command {
	return &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) { e.SP().AString(user).SP().Password(pass) }}
}

func sel(mbox string) *session.Command {
	return &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox(mbox) }}
}

func TestTranscriptLoginSelect(t *testing.T) {
	conn, wait := script(t, "login_select")
	var trace bytes.Buffer
	s := transcript.Open(t, conn, &session.Options{Trace: &trace})
	ctx := hangCtx(t)
	if got := s.State(); got != session.StateNonAuth {
		t.Fatalf("after greeting: state %v; want NONAUTH", got)
	}
	if s.ProtocolVersion() != "IMAP4rev1" || !s.HasCap("AUTH=PLAIN") {
		t.Fatalf("caps %v version %q", s.Caps(), s.ProtocolVersion())
	}
	if _, err := s.Run(ctx, loginCommand("alice", "pa ss")); err != nil {
		t.Fatal(err)
	}
	if s.State() != session.StateAuth {
		t.Fatalf("after LOGIN: state %v; want AUTH", s.State())
	}
	if !s.HasCap("MOVE") || s.HasCap("AUTH=PLAIN") {
		t.Fatalf("capabilities not refreshed after LOGIN: %v", s.Caps())
	}
	r, err := s.Run(ctx, sel("INBOX"))
	if err != nil {
		t.Fatal(err)
	}
	if s.State() != session.StateSelected {
		t.Fatalf("after SELECT: %v", s.State())
	}
	var exists uint32
	for _, d := range r.Data {
		if e, ok := d.(*codec.Exists); ok {
			exists = e.Count
		}
	}
	if exists != 172 || len(r.Data) != 5 {
		t.Fatalf("SELECT data: exists %d, %d responses; want 172, 5", exists, len(r.Data))
	}
	_, err = s.Run(ctx, sel("nosuch"))
	var se *session.StatusError
	if !errors.As(err, &se) || !errors.Is(err, session.ErrNo) || se.Code().Kind != codec.CodeNonExistent {
		t.Fatalf("SELECT nosuch: err = %v; want a NO with NONEXISTENT", err)
	}
	if s.State() != session.StateAuth {
		t.Fatalf("after a failed SELECT: state %v; want AUTH", s.State())
	}
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(ctx, &session.Command{Name: "CLOSE"})
	if !errors.Is(err, session.ErrNo) || s.State() != session.StateAuth {
		t.Fatalf("CLOSE: err %v, state %v; want NO and AUTH", err, s.State())
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if s.State() != session.StateLogout {
		t.Fatalf("after LOGOUT: %v", s.State())
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(trace.String(), "pa ss") || !strings.Contains(trace.String(), "C: A1 LOGIN alice ***") {
		t.Fatalf("trace does not redact the password:\n%s", trace.String())
	}
}

// TestTranscriptStateRefusedLocally runs in a testing/synctest bubble, where the
// script's QUIET is exact: on the wall clock a line sent early could be
// missed (the player kept off the CPU past the QUIET's deadline, which
// fails the pipe's Read with the line waiting), and the test pass with
// the fault.
func TestTranscriptStateRefusedLocally(t *testing.T) {
	synctest.Test(t, testTranscriptStateRefusedLocally)
}

func testTranscriptStateRefusedLocally(t *testing.T) {
	conn, wait := script(t, "preauth")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	if s.State() != session.StateAuth {
		t.Fatalf("PREAUTH: state %v; want AUTH", s.State())
	}
	if s.ProtocolVersion() != "IMAP4rev2" {
		t.Fatalf("an IMAP4rev2-only server: version %q", s.ProtocolVersion())
	}
	_, err := s.Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1 FLAGS") }})
	var se *session.StateError
	if !errors.As(err, &se) {
		t.Fatalf("FETCH in AUTH: err = %v; want *StateError", err)
	}
	if want := "session: command FETCH illegal in state AUTH, only allowed in states SELECTED (select a mailbox first)"; err.Error() != want {
		t.Fatalf("error %q; want %q", err, want)
	}
	_, err = s.Run(ctx, loginCommand("a", "b"))
	if !errors.As(err, &se) {
		t.Fatalf("LOGIN in AUTH: err = %v; want *StateError", err)
	}
	// The script's QUIET proves that neither was sent.
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptPipeline(t *testing.T) {
	conn, wait := script(t, "pipeline")
	var mu sync.Mutex
	var events []string
	s := transcript.Open(t, conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		mu.Lock()
		defer mu.Unlock()
		switch r := r.(type) {
		case *codec.Exists:
			events = append(events, fmt.Sprintf("EXISTS %d", r.Count))
		case *codec.Expunge:
			events = append(events, fmt.Sprintf("EXPUNGE %d", r.Seq))
		default:
			events = append(events, fmt.Sprintf("%T", r))
		}
	}})
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	ps, err := s.StartBatch(ctx, []*session.Command{
		{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().SeqSet([]wire.SeqRange{{Start: 1, Stop: 0}}).SP().Raw("(FLAGS)") }},
		{Name: "NOOP"},
		{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox("Archive").SP().Raw("(MESSAGES)") }},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		r, err := p.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var data []string
		for _, d := range r.Data {
			switch d := d.(type) {
			case *codec.Fetch:
				data = append(data, fmt.Sprintf("FETCH %d", d.UID))
			case *codec.MailboxStatus:
				data = append(data, fmt.Sprintf("STATUS %d", d.Messages))
			default:
				data = append(data, fmt.Sprintf("%T", d))
			}
		}
		got = append(got, fmt.Sprintf("%s %s %v", r.Tag, r.Status.Text, data))
	}
	want := []string{"A2 FETCH done [FETCH 10 FETCH 11]", "A3 NOOP done []", "A4 STATUS done [STATUS 9]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("results\n%v\nwant\n%v", got, want)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Close does not wait for a handler it finds running (it cannot tell
	// whether it was called from it), and the handler's goroutine goes on
	// with what was queued: wait for the three events.
	waitEvents(&mu, func() bool { return len(events) >= 3 })
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"EXISTS 3", "EXISTS 4", "EXPUNGE 1"}; fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("unsolicited events %v; want %v", events, want)
	}
}

func TestTranscriptLiteralRefused(t *testing.T) {
	conn, wait := script(t, "literal_no")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	body := strings.Repeat("x", 5000)
	_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Mailbox("INBOX").SP().LiteralReader(int64(len(body)), strings.NewReader(body), false)
	}})
	var se *session.StatusError
	if !errors.As(err, &se) || se.Code().Kind != codec.CodeOverQuota {
		t.Fatalf("APPEND refused: err = %v; want NO [OVERQUOTA]", err)
	}
	r, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Literal([]byte("abc")) }})
	if err != nil || r.Status.Code.Kind != codec.CodeAppendUID {
		t.Fatalf("APPEND: %v, %+v", err, r)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptBye(t *testing.T) {
	conn, wait := script(t, "bye")
	s := transcript.Open(t, conn, nil)
	_, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
	var ae *session.AbortError
	if !errors.Is(err, session.ErrAborted) || !errors.As(err, &ae) || !strings.Contains(err.Error(), "BYE") {
		t.Fatalf("NOOP: err = %v; want an abort for BYE", err)
	}
	if len(ae.History) == 0 || !strings.Contains(strings.Join(ae.History, "\n"), "S: * BYE Server shutting down") {
		t.Fatalf("abort history %q lacks the BYE", ae.History)
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); !errors.Is(err, session.ErrAborted) {
		t.Fatalf("after abort: %v", err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptUnknownTag(t *testing.T) {
	conn, wait := script(t, "unknown_tag")
	s := transcript.Open(t, conn, nil)
	_, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
	if !errors.Is(err, session.ErrAborted) || !strings.Contains(err.Error(), "unknown tag") {
		t.Fatalf("err = %v; want an abort for an unknown tag", err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptCancel: a command whose context ends (50 ms) before its
// answer fails with the context's error. It runs in a testing/synctest
// bubble, where the 50 ms pass on the bubble's clock: on the wall clock a
// loaded machine could pass them before the command went out.
func TestTranscriptCancel(t *testing.T) { synctest.Test(t, testTranscriptCancel) }

func testTranscriptCancel(t *testing.T) {
	conn, wait := script(t, "cancel")
	s := transcript.Open(t, conn, nil)
	if _, err := s.Run(hangCtx(t), sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Run(short, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:* (UID)") }})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled command: err = %v; want context.DeadlineExceeded", err)
	}
	// NOOP goes out at once, pipelined behind the UID FETCH (the script
	// expects it before the late answer); the late answer is consumed in
	// the background and the NOOP works.
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptAuthenticateIdle: AUTHENTICATE driven by "+", then an
// IDLE during which the server sends EXISTS, which the session keeps. It
// runs in a testing/synctest bubble: once every goroutine of the bubble
// waits (synctest.Wait), the session's reader has taken the EXISTS sent
// after the "+" or never will; the test polled for it with no bound.
func TestTranscriptAuthenticateIdle(t *testing.T) {
	synctest.Test(t, testTranscriptAuthenticateIdle)
}

func testTranscriptAuthenticateIdle(t *testing.T) {
	conn, wait := script(t, "auth")
	var trace bytes.Buffer
	s := transcript.Open(t, conn, &session.Options{Trace: &trace})
	ctx := hangCtx(t)
	_, err := s.Run(ctx, &session.Command{Name: "AUTHENTICATE", Args: func(e *wire.Encoder) { e.SP().Atom("PLAIN") },
		OnContinue: func(challenge []byte) ([]byte, error) {
			return []byte(base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret"))), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if s.State() != session.StateAuth || !s.HasCap("IDLE") {
		t.Fatalf("after AUTHENTICATE: state %v caps %v", s.State(), s.Caps())
	}
	p := startIdle(t, ctx, s)
	synctest.Wait() // the script's EXISTS, sent after the "+", read
	if len(s.Responses("EXISTS")) == 0 {
		t.Fatal("no EXISTS kept once the session waits in the IDLE after the script's * 7 EXISTS")
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(trace.String(), "AGFsaWNl") {
		t.Fatalf("trace shows the AUTHENTICATE payload:\n%s", trace.String())
	}
}

func TestTranscriptReadOnly(t *testing.T) {
	conn, wait := script(t, "readonly")
	events := make(chan codec.Response, 10)
	s := transcript.Open(t, conn, &session.Options{OnUnsolicited: func(r codec.Response) { events <- r }})
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	// The mailbox turns read-only while selected: mailbox state and an
	// event, not an error for whichever command comes next.
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if _, ro := s.Mailbox(); !ro {
		t.Fatal("Mailbox() does not say read-only after * OK [READ-ONLY]")
	}
	select {
	case r := <-events:
		if st, ok := r.(*codec.Status); !ok || st.Code == nil || st.Code.Kind != codec.CodeReadOnly {
			t.Fatalf("event %#v; want * OK [READ-ONLY]", r)
		}
	case <-time.After(hangBound):
		t.Fatal("no event for * OK [READ-ONLY]")
	}
	// Selecting read-write and getting READ-ONLY is the SELECT's own
	// error, with the mailbox selected.
	r, err := s.Run(ctx, sel("INBOX"))
	if !errors.Is(err, session.ErrReadOnly) || r == nil {
		t.Fatalf("SELECT answered READ-ONLY: %v, %v; want ErrReadOnly with the result", r, err)
	}
	if s.State() != session.StateSelected {
		t.Fatalf("state %v after a read-only SELECT", s.State())
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestIdleTimeout: a server that never answers aborts the session after
// the stall timeout instead of hanging. With the defaults, in a
// testing/synctest bubble: the bubble's clock moves only when every
// goroutine waits, so the cut comes at exactly DefaultStallTimeout after
// the NOOP (a server silent from the start: no slack, see
// TestStallReadWithinSlack) however loaded the machine, in milliseconds
// of wall time. It ran with a 100 ms StallTimeout and failed past 3 s of
// wall time, which a loaded machine could reach. A session that never
// cuts fails at the caller's 10 minutes (or, with no timer left, with
// synctest.Test's deadlock).
func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := transport.Pipe()
		defer server.Close()
		go io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		go io.Copy(io.Discard, server)
		s := transcript.Open(t, client, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		d := time.Since(start) // on the bubble's clock
		var te *session.TimeoutError
		if !errors.Is(err, session.ErrAborted) || !errors.Is(err, os.ErrDeadlineExceeded) ||
			!errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Fatalf("err = %v after %v; want an abort with a stall *TimeoutError wrapping a deadline", err, d)
		}
		if d != session.DefaultStallTimeout {
			t.Fatalf("cut after %v; want exactly %v", d, session.DefaultStallTimeout)
		}
	})
}

func TestTranscriptHandlerRunsCommand(t *testing.T) {
	conn, wait := script(t, "handler_command")
	var s *session.Session
	var mu sync.Mutex
	var events []string
	handlerDone := make(chan error, 1)
	s = transcript.Open(t, conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		mu.Lock()
		switch r := r.(type) {
		case *codec.Fetch:
			events = append(events, fmt.Sprintf("FETCH %d", r.Seq))
		case *codec.Expunge:
			events = append(events, fmt.Sprintf("EXPUNGE %d", r.Seq))
		case *codec.Exists:
			events = append(events, fmt.Sprintf("EXISTS %d", r.Count))
		}
		mu.Unlock()
		if e, ok := r.(*codec.Exists); ok && e.Count == 5 {
			// A new message: fetch its UID from inside the handler.
			res, err := s.Run(hangCtx(t), &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("5 (UID)") }})
			if err == nil && (len(res.Data) != 1 || res.Data[0].(*codec.Fetch).UID != 5) {
				err = fmt.Errorf("handler's UID FETCH got %v", res.Data)
			}
			handlerDone <- err
		}
	}})
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-handlerDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the handler's command deadlocked")
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "[FETCH 3 EXPUNGE 2 FETCH 2 EXISTS 5]"; fmt.Sprint(events) != want {
		t.Fatalf("events %v; want %s", events, want)
	}
}

// TestTranscriptSeqNumBarrier: a command by sequence numbers and one
// during which the server may send EXPUNGE wait for each other, in either
// order (canStart's two rules; seqnum_barrier.txt). The pairs (UID COPY
// then FETCH, FETCH then UID COPY) share no message set and no untagged
// data, so that each is held back by one rule alone: with either planted
// out, the second command goes out during the script's QUIET. (Its only
// pair was a UID FETCH 1:* and a FETCH 1, which the message sets' overlap
// holds apart too: it passed with both rules planted out.) It runs in a
// testing/synctest bubble, where the QUIET is exact: on the wall clock a
// line sent early could be missed (the player kept off the CPU past the
// QUIET's deadline, which fails the pipe's Read with the line waiting),
// and the test pass with the fault.
func TestTranscriptSeqNumBarrier(t *testing.T) { synctest.Test(t, testTranscriptSeqNumBarrier) }

func testTranscriptSeqNumBarrier(t *testing.T) {
	conn, wait := script(t, "seqnum_barrier")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	cmd := func(name, args string) *session.Command {
		return &session.Command{Name: name, Args: func(e *wire.Encoder) { e.SP().Raw(args) }}
	}
	for _, pair := range [][2]*session.Command{
		{cmd("UID COPY", "7 Archive"), cmd("FETCH", "1 (FLAGS)")},
		{cmd("FETCH", "1 (FLAGS)"), cmd("UID COPY", "7 Archive")},
		{cmd("UID FETCH", "1:* (FLAGS)"), cmd("FETCH", "1 (FLAGS)")},
	} {
		p1, err := s.Start(ctx, pair[0])
		if err != nil {
			t.Fatal(err)
		}
		// Start blocks until the first command is done, then sends the
		// second.
		p2, err := s.Start(ctx, pair[1])
		if err != nil {
			t.Fatalf("%s after %s: %v", pair[1].Name, pair[0].Name, err)
		}
		if _, err := p1.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := p2.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptCancelDuringLiteral: a context that ends (100 ms) while
// the server has not answered a synchronizing literal's header aborts the
// session. It runs in a testing/synctest bubble: the 100 ms pass on the
// bubble's clock, once the client waits for the "+".
func TestTranscriptCancelDuringLiteral(t *testing.T) {
	synctest.Test(t, testTranscriptCancelDuringLiteral)
}

func testTranscriptCancelDuringLiteral(t *testing.T) {
	conn, wait := script(t, "literal_cancel")
	s := transcript.Open(t, conn, nil)
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s.Run(short, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Literal([]byte("abcd")) }})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the deadline", err)
	}
	if !errors.Is(s.Err(), session.ErrAborted) {
		t.Fatalf("session error %v; want an abort: the server waits for literal data", s.Err())
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptStatusOutOfOrder(t *testing.T) {
	conn, wait := script(t, "status_order")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	status := func(mbox string) *session.Command {
		return &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox(mbox).SP().Raw("(MESSAGES)") }}
	}
	ps, err := s.StartBatch(ctx, []*session.Command{status("Archive"), status("Sent Items")})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{1, 2} {
		r, err := ps[i].Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != 1 || r.Data[0].(*codec.MailboxStatus).Messages != want {
			t.Fatalf("STATUS %d: data %v; want MESSAGES %d", i, r.Data, want)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptStatusOutOfOrderUTF8Names: in UTF-8 mode (UTF8=ACCEPT
// enabled, or an IMAP4rev2-only server) the session keeps names as sent,
// so the STATUS of "R&D" and of "R&-D" (two mailboxes there) answered out
// of order each get their own mailbox's answer, with the commands' names
// raw (Args alone) or typed (Command.Mailbox too). Decoded from modified
// UTF-7, both names were "R&D" and the first STATUS took the first
// answer, the other mailbox's.
func TestTranscriptStatusOutOfOrderUTF8Names(t *testing.T) {
	for _, tc := range []struct {
		script string
		enable bool
	}{
		{"status_order_utf8", true},
		{"status_order_rev2", false},
	} {
		for _, typed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s typed %v", tc.script, typed), func(t *testing.T) {
				conn, wait := script(t, tc.script)
				s := transcript.Open(t, conn, nil)
				ctx := hangCtx(t)
				if tc.enable {
					if _, err := s.Run(ctx, &session.Command{Name: "ENABLE", Args: func(e *wire.Encoder) { e.SP().Atom("UTF8=ACCEPT") }}); err != nil {
						t.Fatal(err)
					}
				}
				status := func(mbox string) *session.Command {
					c := &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox(mbox).SP().Raw("(MESSAGES)") }}
					if typed {
						c.Mailbox = mbox
					}
					return c
				}
				ps, err := s.StartBatch(ctx, []*session.Command{status("R&D"), status("R&-D")})
				if err != nil {
					t.Fatal(err)
				}
				for i, want := range []uint32{1, 2} {
					r, err := ps[i].Wait(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if len(r.Data) != 1 || r.Data[0].(*codec.MailboxStatus).Messages != want {
						t.Errorf("STATUS %s in UTF-8 mode: data %v; want its own MESSAGES %d", []string{"R&D", "R&-D"}[i], r.Data, want)
					}
				}
				if err := wait(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestTranscriptStatusUTF8ModeAnsweredInUTF7: in UTF-8 mode a server
// that still writes names in modified UTF-7 answers the STATUS of "aé"
// with "a&AOk-": the command gets it, by the decoded name, as no command
// in flight names "a&AOk-" as sent; pipelined beside it, the STATUS of
// "R&D" and "R&-D" each get their own answer, by the exact name. Kept as
// sent only, the answer went to the unsolicited stream.
func TestTranscriptStatusUTF8ModeAnsweredInUTF7(t *testing.T) {
	conn, wait := script(t, "status_utf8_answered_utf7")
	var mu sync.Mutex
	var unsolicited []codec.Response
	s := transcript.Open(t, conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		mu.Lock()
		unsolicited = append(unsolicited, r)
		mu.Unlock()
	}})
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, &session.Command{Name: "ENABLE", Args: func(e *wire.Encoder) { e.SP().Atom("UTF8=ACCEPT") }}); err != nil {
		t.Fatal(err)
	}
	status := func(mbox string) *session.Command {
		return &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox(mbox).SP().Raw("(MESSAGES)") }}
	}
	names := []string{"aé", "R&D", "R&-D"}
	ps, err := s.StartBatch(ctx, []*session.Command{status(names[0]), status(names[1]), status(names[2])})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{1, 2, 3} {
		r, err := ps[i].Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != 1 || r.Data[0].(*codec.MailboxStatus).Messages != want {
			t.Errorf("STATUS %s in UTF-8 mode: data %v; want its own MESSAGES %d", names[i], r.Data, want)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range unsolicited {
		if st, ok := r.(*codec.MailboxStatus); ok {
			t.Errorf("STATUS %s (MESSAGES %d) went to the unsolicited stream; want it its command's", st.Mailbox, st.Messages)
		}
	}
}

func TestTranscriptUndecodableTagged(t *testing.T) {
	conn, wait := script(t, "bad_tagged")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
	var de *codec.DecodeError
	if !errors.As(err, &de) || de.Tag != "A1" {
		t.Fatalf("err = %v; want a DecodeError for tag A1", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err == nil || !strings.Contains(err.Error(), "XYZZY") {
		t.Fatalf("a tagged XYZZY: err = %v; want an error naming it", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("the next command: %v", err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTranscriptCapabilitiesOnlyFromOK: a CAPABILITY response code is
// the server's capability list only in an OK (tagged or untagged) or the
// greeting (RFC 9051 section 7.1). The session took it from a NO or a BAD
// too: a refused LOGIN's NO [CAPABILITY ...], or an untagged NO's, turned
// the server's capabilities into whatever the refusal named.
func TestTranscriptCapabilitiesOnlyFromOK(t *testing.T) {
	conn, wait := script(t, "caps_only_from_ok")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	noop := &session.Command{Name: "NOOP"}
	wantCaps := func(step string, want ...string) {
		t.Helper()
		if got := strings.Join(s.Caps(), " "); got != strings.Join(want, " ") {
			t.Errorf("after %s: capabilities %q; want %q", step, got, strings.Join(want, " "))
		}
	}
	if _, err := s.Run(ctx, loginCommand("alice", "wrong")); !errors.Is(err, session.ErrNo) {
		t.Fatalf("LOGIN refused: %v; want ErrNo", err)
	}
	wantCaps("a LOGIN refused with NO [CAPABILITY ...]", "IMAP4REV1", "AUTH=PLAIN", "LITERAL+")
	if _, err := s.Run(ctx, noop); err != nil {
		t.Fatal(err)
	}
	wantCaps("an untagged NO and BAD with [CAPABILITY ...]", "IMAP4REV1", "AUTH=PLAIN", "LITERAL+")
	if _, err := s.Run(ctx, loginCommand("alice", "pass")); err != nil {
		t.Fatal(err)
	}
	wantCaps("a LOGIN's OK [CAPABILITY ...]", "IMAP4REV1", "MOVE", "X-FROM-OK")
	if _, err := s.Run(ctx, noop); !errors.Is(err, session.ErrNo) {
		t.Fatalf("NOOP refused: %v; want ErrNo", err)
	}
	wantCaps("a NOOP refused with NO [CAPABILITY ...]", "IMAP4REV1", "MOVE", "X-FROM-OK")
	if _, err := s.Run(ctx, noop); err != nil {
		t.Fatal(err)
	}
	wantCaps("an untagged OK [CAPABILITY ...]", "IMAP4REV1", "MOVE", "X-FROM-UNTAGGED-OK")
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
