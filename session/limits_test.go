package session_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The tests in this file prove the bounds and defences of docs/limits.md
// and docs/security.md that no other test covers: the stores of a session
// (MaxResultBytes, MaxUnsolicited, MaxKept, MaxKeptNames), the trace
// history (History, the 240-byte line cap), command names that would end
// the line, and StartTLS on a connection that is TLS already.

const lmGreeting = "* PREAUTH [CAPABILITY IMAP4rev1] limits\r\n"

// lmOpen opens a session with opts over a fake server that answers each
// command with reply(tag, line) (written as is).
func lmOpen(t *testing.T, opts *session.Options, reply func(tag, line string) string) *session.Session {
	t.Helper()
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		for {
			line := readLine(r)
			if line == "" {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			out := reply(tag, line)
			if out == "" {
				return
			}
			io.WriteString(w, out)
		}
	})
	if opts.TagPrefix == "" {
		opts.TagPrefix = "A"
	}
	s, err := session.Open(hangCtx(t), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func lmFetchReply(n int) func(tag, line string) string {
	return func(tag, line string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen))\r\n", i, i)
		}
		return b.String() + tag + " OK done\r\n"
	}
}

func lmUIDFetch() *session.Command {
	return &session.Command{Name: "UID FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Raw("(FLAGS)") }}
}

// TestLimitMaxResultBytes: a collecting Run keeps the responses within
// Options.MaxResultBytes (bytes received + 256 each), drops the rest and
// ends with a *ResultTooLargeError (errors.Is ErrResultTooLarge) and the
// tagged OK in its Result; the default keeps an ordinary answer whole.
func TestLimitMaxResultBytes(t *testing.T) {
	if session.DefaultMaxResultBytes != 64<<20 {
		t.Errorf("DefaultMaxResultBytes = %d; docs/limits.md says 64 MiB", session.DefaultMaxResultBytes)
	}
	const n = 100
	s := lmOpen(t, &session.Options{MaxResultBytes: 10 * 300}, lmFetchReply(n))
	r, err := s.Run(hangCtx(t), lmUIDFetch())
	var tl *session.ResultTooLargeError
	if !errors.Is(err, session.ErrResultTooLarge) || !errors.As(err, &tl) {
		t.Fatalf("UID FETCH of %d responses over a 3000-byte bound: %v; want a *ResultTooLargeError", n, err)
	}
	if r == nil || r.Status == nil || r.Status.Kind != codec.StatusOK {
		t.Fatalf("Result = %+v; want the tagged OK", r)
	}
	if kept := len(r.Data); kept == 0 || kept > 10 || kept+tl.Dropped != n || tl.Limit != 10*300 {
		t.Errorf("kept %d, dropped %d, limit %d; want at most 10 kept, %d in all, limit 3000", kept, tl.Dropped, tl.Limit, n)
	}
	if s.Err() != nil {
		t.Errorf("the session ended: %v; the bound drops data, it does not abort", s.Err())
	}

	s = lmOpen(t, &session.Options{}, lmFetchReply(n))
	if r, err := s.Run(hangCtx(t), lmUIDFetch()); err != nil || len(r.Data) != n {
		t.Errorf("with the default bound: %v, %d responses; want all %d", err, len(r.Data), n)
	}
}

// TestLimitMaxUnsolicited: when OnUnsolicited falls MaxUnsolicited behind,
// new unsolicited responses are dropped and counted (DroppedUnsolicited);
// the reader never waits for the handler.
func TestLimitMaxUnsolicited(t *testing.T) {
	if session.DefaultMaxUnsolicited != 10000 {
		t.Errorf("DefaultMaxUnsolicited = %d; docs/limits.md says 10000", session.DefaultMaxUnsolicited)
	}
	const n, max = 50, 5
	release := make(chan struct{})
	var mu sync.Mutex
	got := 0
	s := lmOpen(t, &session.Options{MaxUnsolicited: max, OnUnsolicited: func(codec.Response) {
		<-release
		mu.Lock()
		got++
		mu.Unlock()
	}}, func(tag, line string) string {
		return strings.Repeat("* 3 EXISTS\r\n", n) + tag + " OK done\r\n"
	})
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP with a stuck handler: %v", err)
	}
	events, _ := s.DroppedUnsolicited()
	close(release)
	if events < n-max-1 || events > n-max {
		t.Errorf("DroppedUnsolicited events = %d; want %d or %d", events, n-max-1, n-max)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		g := got
		mu.Unlock()
		if uint64(g)+events == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handler got %d, %d dropped; want %d in all", g, events, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLimitMaxKept: Responses keeps the last MaxKept responses of a name
// and at most MaxKeptNames names (a new name past the bound is dropped);
// both count in DroppedUnsolicited's second result.
func TestLimitMaxKept(t *testing.T) {
	if session.DefaultMaxKept != 1000 || session.DefaultMaxKeptNames != 64 {
		t.Errorf("DefaultMaxKept, DefaultMaxKeptNames = %d, %d; docs/limits.md says 1000, 64", session.DefaultMaxKept, session.DefaultMaxKeptNames)
	}
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "* %d EXISTS\r\n", i)
	}
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "* XNAME%d\r\n", i) // ten new names
	}
	s := lmOpen(t, &session.Options{MaxKept: 5, MaxKeptNames: 4}, func(tag, line string) string {
		return b.String() + tag + " OK done\r\n"
	})
	// Empty the store of what the greeting left (PREAUTH, CAPABILITY).
	for _, name := range []string{"PREAUTH", "CAPABILITY", "OK"} {
		s.Responses(name)
	}
	_, kept0 := s.DroppedUnsolicited()
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	l := s.Responses("EXISTS")
	if len(l) != 5 || l[4].(*codec.Exists).Count != 20 || l[0].(*codec.Exists).Count != 16 {
		t.Errorf("Responses(EXISTS) = %d responses; want the last 5 (16 to 20)", len(l))
	}
	names := 0
	for i := 1; i <= 10; i++ {
		if len(s.Responses(fmt.Sprintf("XNAME%d", i))) > 0 {
			names++
		}
	}
	if names != 3 { // EXISTS and three XNAMEs: 4 names
		t.Errorf("%d XNAME names kept; want 3 (MaxKeptNames 4, EXISTS one of them)", names)
	}
	if _, kept := s.DroppedUnsolicited(); kept-kept0 != 15+7 {
		t.Errorf("DroppedUnsolicited kept = %d; want 22 (15 EXISTS slid out, 7 names refused)", kept-kept0)
	}
}

// TestLimitHistory: the lines kept for AbortError.History are the last
// Options.History (20 by default), each cut to 240 bytes (+ "...").
func TestLimitHistory(t *testing.T) {
	for _, tc := range []struct{ history, want int }{{0, 20}, {5, 5}} {
		s := lmOpen(t, &session.Options{History: tc.history}, func(tag, line string) string {
			if !strings.HasSuffix(line, "NOOP") {
				return tag + " OK\r\n"
			}
			return strings.Repeat("* OK "+strings.Repeat("x", 1000)+"\r\n", 30) + "Z9 OK unknown tag\r\n"
		})
		_, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
		var ae *session.AbortError
		if !errors.As(err, &ae) {
			t.Fatalf("NOOP answered with an unknown tag: %v; want an *AbortError", err)
		}
		if len(ae.History) != tc.want {
			t.Errorf("History %d: %d lines kept; want %d", tc.history, len(ae.History), tc.want)
		}
		for _, l := range ae.History {
			if len(l) > len("S: ")+240+len("...") {
				t.Errorf("a history line of %d bytes; want at most 246: %.60q...", len(l), l)
			}
		}
	}
}

// TestInjectionCommandName: a command name or argument that would end the
// line (CR, LF, NUL) is refused before anything is sent: the server never
// sees a second command.
func TestInjectionCommandName(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	s := lmOpen(t, &session.Options{}, func(tag, line string) string {
		mu.Lock()
		lines = append(lines, line)
		mu.Unlock()
		return tag + " OK done\r\n"
	})
	for _, cmd := range []*session.Command{
		{Name: "NOOP\r\nX1 LOGOUT"},
		{Name: "NOOP\nX1 LOGOUT"},
		{Name: "NOOP\x00"},
		{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX\r\nX2 LOGOUT") }},
		{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Raw("INBOX\r\nX3 LOGOUT") }},
		{Name: "LOGIN", Args: func(e *wire.Encoder) { e.SP().AString("u").SP().Password("p\x00w") }},
	} {
		if _, err := s.Run(hangCtx(t), cmd); err == nil {
			t.Errorf("%q was sent", cmd.Name)
		}
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after the refused commands: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || !strings.HasSuffix(lines[0], " NOOP") {
		t.Errorf("the server read %q; want the last NOOP only", lines)
	}
}

// TestStartTLSActive: StartTLS on a connection that is TLS already is
// refused with ErrTLSActive, and nothing is sent.
func TestStartTLSActive(t *testing.T) {
	srvCfg, cliCfg := hsTLS(t)
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tc := tls.Server(server, srvCfg)
		defer tc.Close()
		io.WriteString(tc, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] tls\r\n")
		r := bufio.NewReader(tc)
		if line := readLine(r); line != "" {
			t.Errorf("the server read %q; want nothing", line)
		}
	}()
	tc := tls.Client(client, cliCfg)
	s, err := session.Open(hangCtx(t), tc, &session.Options{TagPrefix: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartTLS(hangCtx(t), cliCfg); !errors.Is(err, session.ErrTLSActive) {
		t.Errorf("StartTLS over TLS: %v; want ErrTLSActive", err)
	}
	s.Close()
	<-done
}

// TestLimitMaxStringLiteral: a FETCH body over the tokenizer's
// MaxStringLiteral (64 KiB by default) never fails the response: a
// collecting Run keeps it whole (within MaxResultBytes) with the rest of
// the FETCH, and the session stays in step; with Command.Sections the same
// body streams whole.
func TestLimitMaxStringLiteral(t *testing.T) {
	body := strings.Repeat("x", wire.DefaultMaxStringLiteral+1)
	s := lmOpen(t, &session.Options{}, func(tag, line string) string {
		if strings.HasSuffix(line, "NOOP") {
			return tag + " OK\r\n"
		}
		return fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n%s FLAGS (\\Seen))\r\n%s OK done\r\n", len(body), body, tag)
	})
	cmd := func(sections codec.SectionHandler) *session.Command {
		return &session.Command{Name: "UID FETCH", AnyState: true, Sections: sections,
			Args: func(e *wire.Encoder) { e.SP().Raw("1").SP().Raw("(BODY.PEEK[])") }}
	}
	r, err := s.Run(hangCtx(t), cmd(nil))
	if err != nil {
		t.Fatalf("collecting a %d-byte body: %v", len(body), err)
	}
	if len(r.Data) != 1 {
		t.Fatalf("collecting: %d responses", len(r.Data))
	}
	f := r.Data[0].(*codec.Fetch)
	if len(f.Sections) != 1 || string(f.Sections[0].Data) != body || len(f.Flags) != 1 || f.UID != 1 {
		t.Fatalf("collected FETCH: UID %d, %d sections, flags %v", f.UID, len(f.Sections), f.Flags)
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Errorf("NOOP afterwards: %v; want the session in step", err)
	}
	var n int64
	_, err = s.Run(hangCtx(t), cmd(func(_ *codec.Fetch, _ *codec.Section, r io.Reader) error {
		m, err := io.Copy(io.Discard, r)
		n += m
		return err
	}))
	if err != nil || n != int64(len(body)) {
		t.Errorf("streaming the body: %v, %d bytes; want %d", err, n, len(body))
	}
}

// TestLimitCommandTimeout: a server that trickles bytes for ever (never
// quiet long enough for StallTimeout) is ended by CommandTimeout, which
// bounds a command's whole run when its context has no deadline: the
// session aborts with a "command" *TimeoutError, exactly at the bound.
// Default options, in a testing/synctest bubble (stallBubble): a byte
// every half stall timeout for DefaultCommandTimeout's 15 minutes on the
// bubble's clock (it set a 300 ms CommandTimeout on the wall clock and
// allowed 5 s past it).
func TestLimitCommandTimeout(t *testing.T) {
	stallBubble(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		readLine(r)
		io.WriteString(w, "* OK ")
		trickleEvery(w, "x", session.DefaultStallTimeout/2)
	}, func(t *testing.T, s *session.Session, _ context.Context) {
		start := time.Now()
		_, err := s.Run(context.Background(), &session.Command{Name: "NOOP"})
		d := time.Since(start)
		var te *session.TimeoutError
		if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutCommand || !errors.Is(err, session.ErrTimeout) {
			t.Fatalf("NOOP to a trickling server: %v after %v; want an abort with a command *TimeoutError", err, d)
		}
		if d != session.DefaultCommandTimeout {
			t.Errorf("ended after %v; want exactly %v", d, session.DefaultCommandTimeout)
		}
	})
}

// trickleEvery writes s every d until the connection fails.
func trickleEvery(w io.Writer, s string, d time.Duration) {
	for {
		if _, err := io.WriteString(w, s); err != nil {
			return
		}
		time.Sleep(d)
	}
}

// TestStartTLSServerName: Session.StartTLS with a config that names no
// server verifies the certificate against Options.ServerName: the right
// name succeeds, a wrong one fails the handshake (and aborts the session).
func TestStartTLSServerName(t *testing.T) {
	scfg, ccfg := hsTLS(t)
	for _, tc := range []struct {
		name string
		ok   bool
	}{{ccfg.ServerName, true}, {"wrong.example.org", false}} {
		t.Run(tc.name, func(t *testing.T) {
			hsRun(t, func(c *hostile.Conn) error {
				if err := c.Greet(hsPreTLSCaps); err != nil {
					return err
				}
				cmd, err := c.Expect("STARTTLS")
				if err != nil {
					return err
				}
				if err := c.Reply(cmd.Tag, "OK begin TLS now"); err != nil {
					return err
				}
				if err := c.StartTLS(scfg); err != nil {
					return fmt.Errorf("%w: %v", hostile.ErrGone, err) // the client refused the certificate
				}
				c.Caps = "IMAP4rev1 AUTH=PLAIN"
				return c.Serve()
			}, 0, 0, func(c *hsCase, conn net.Conn) {
				s := c.open(conn, &session.Options{TagPrefix: "A", ServerName: tc.name})
				if s == nil {
					return
				}
				cfg := ccfg.Clone()
				cfg.ServerName = ""
				err := s.StartTLS(context.Background(), cfg)
				if tc.ok && err != nil {
					c.t.Errorf("StartTLS with ServerName %q: %v", tc.name, err)
				}
				if !tc.ok && err == nil {
					c.t.Errorf("StartTLS verified a certificate against the wrong name %q", tc.name)
				}
				c.outcome = fmt.Sprintf("StartTLS: %v", err)
			})
		})
	}
}

// TestCommandTimeoutPacedByCaller: the command bound of a pulled command
// whose context has no deadline counts only the time its caller waits in
// Next for the server. A loop whose body takes longer in all than
// CommandTimeout over a server that answers at once runs to its end, and
// so do OnData handlers that take as long; a caller that waits for a
// trickling server is still ended by the bound, and so is the rest of an
// answer read for nobody after Wait.
//
// With the defaults (DefaultCommandTimeout, 15 minutes), each case in a
// testing/synctest bubble: the caller's sleeps, the server's trickle (a
// byte a second, never quiet for DefaultStallTimeout) and the bound run
// on the bubble's clock, so the cut is exact however loaded the machine
// (it ran a 300 ms bound on the wall clock: 1.8 s, a 5 s window for the
// cut).
func TestCommandTimeoutPacedByCaller(t *testing.T) {
	const bound = session.DefaultCommandTimeout
	const n = 8
	open := func(t *testing.T, trickling bool) *session.Session {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			readCommand(r, w)
			for i := 1; i <= n; i++ {
				fmt.Fprintf(w, "* %d FETCH (UID %d)\r\n", i, i)
			}
			if !trickling {
				io.WriteString(w, "A1 OK done\r\n")
				io.Copy(io.Discard, r)
				return
			}
			io.WriteString(w, "* 9 FETCH (UID ")
			trickleEvery(w, "9", time.Second)
		})
		s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("slow caller", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := open(t, false)
			ctx := context.Background()
			p, err := s.Start(ctx, pullFetch("(UID)"))
			if err != nil {
				t.Fatal(err)
			}
			start, got := time.Now(), 0
			for {
				_, err := p.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d responses and %v: %v", got, time.Since(start), err)
				}
				got++
				time.Sleep(2 * bound / n) // the loop's body: 2 bounds in all
			}
			if _, err := p.Wait(ctx); err != nil || got != n {
				t.Fatalf("%d responses, Wait: %v", got, err)
			}
			if d := time.Since(start); d != 2*bound {
				t.Fatalf("the loop took %v; want exactly %v, to outlast the bound", d, 2*bound)
			}
			if err := s.Err(); err != nil {
				t.Fatalf("the session ended: %v", err)
			}
		})
	})
	t.Run("slow OnData", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Not pulled: the handler runs on the reader, and its time
			// is the caller's too.
			s := open(t, false)
			got := 0
			cmd := pullFetch("(UID)")
			cmd.Pull = false
			cmd.OnData = func(codec.Response) {
				got++
				time.Sleep(2 * bound / n)
			}
			start := time.Now()
			if _, err := s.Run(context.Background(), cmd); err != nil || got != n {
				t.Fatalf("%d responses after %v: %v", got, time.Since(start), err)
			}
			if d := time.Since(start); d != 2*bound {
				t.Fatalf("the handlers took %v; want exactly %v, to outlast the bound", d, 2*bound)
			}
		})
	})
	for _, stop := range []bool{false, true} {
		name := map[bool]string{false: "trickling server", true: "trickling server after Wait"}[stop]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := open(t, true)
				ctx := context.Background()
				p, err := s.Start(ctx, pullFetch("(UID)"))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				if stop {
					_, err = p.Wait(ctx)
				} else {
					for err == nil {
						_, err = p.Next(ctx)
					}
				}
				d := time.Since(start) // on the bubble's clock
				var te *session.TimeoutError
				if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutCommand {
					t.Fatalf("got %v after %v; want an abort with a command *TimeoutError", err, d)
				}
				if d != bound {
					t.Errorf("ended after %v; want exactly %v", d, bound)
				}
			})
		})
	}
}

// slowReader yields its bytes a few at a time, sleeping before each read:
// a slow source of an APPEND's message.
type slowReader struct {
	left  int
	sleep time.Duration
}

func (r *slowReader) Read(b []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.sleep)
	n := min(len(b), r.left, 4)
	for i := range b[:n] {
		b[i] = 'x'
	}
	r.left -= n
	return n, nil
}

// TestCommandTimeoutCallerBody: the time spent reading a literal body
// the caller gave (an APPEND's message from its io.Reader) is the
// caller's, not the server's: an APPEND whose source takes two bounds to
// read succeeds; an APPEND whose server never answers after the body
// (an untagged OK every half stall timeout, so that the stall timeout
// does not end it first) is still cut at the bound (and the body's upload
// allowance, uploadRate).
//
// With the defaults (DefaultCommandTimeout, 15 minutes), each case in a
// testing/synctest bubble: the source's sleeps and the bound run on the
// bubble's clock, so the cut is exact however loaded the machine (it ran
// a 300 ms bound on the wall clock: 0.9 s, a 5 s window for the cut).
func TestCommandTimeoutCallerBody(t *testing.T) {
	const bound = session.DefaultCommandTimeout
	const size = 40 // 10 reads of 4 bytes
	// The bound and the upload allowance of the body, as the session
	// computes it (a second per 16 KiB, in whole nanoseconds per byte).
	const grown = bound + size*(time.Second/(16<<10))
	for _, answer := range []bool{true, false} {
		t.Run(map[bool]string{true: "slow source", false: "unanswered"}[answer], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				conn := fake(t, func(r *bufio.Reader, w io.Writer) {
					io.WriteString(w, lmGreeting)
					readCommand(r, w)
					if !answer {
						// Never answers the APPEND, but is not quiet
						// for DefaultStallTimeout: the command bound,
						// not the stall timeout, is what ends it.
						trickleEvery(w, "* OK still here\r\n", session.DefaultStallTimeout/2)
						return
					}
					io.WriteString(w, "A1 OK appended\r\n")
					io.Copy(io.Discard, r)
				})
				s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				sleep := 2 * bound / 10
				if !answer {
					sleep = 0
				}
				body := &slowReader{left: size, sleep: sleep}
				start := time.Now()
				_, err = s.Run(context.Background(), &session.Command{Name: "APPEND", AnyState: true, Args: func(e *wire.Encoder) {
					e.SP().Atom("INBOX").SP().LiteralReader(size, body, false)
				}})
				d := time.Since(start) // on the bubble's clock
				if answer {
					if err != nil || d != 2*bound {
						t.Fatalf("APPEND from a slow source: %v after %v; want success after exactly %v", err, d, 2*bound)
					}
					return
				}
				var te *session.TimeoutError
				if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutCommand {
					t.Fatalf("got %v after %v; want an abort with a command *TimeoutError", err, d)
				}
				if d != grown {
					t.Errorf("ended after %v; want exactly %v", d, grown)
				}
			})
		})
	}
}

// sleepyWriter sleeps before each write: a slow sink for a body.
type sleepyWriter struct{ sleep time.Duration }

func (w sleepyWriter) Write(b []byte) (int, error) {
	time.Sleep(w.sleep)
	return len(b), nil
}

// TestCommandTimeoutSections: a Sections handler's time is the caller's
// but for its reads of the body: a handler that takes two bounds to
// write the body out (through the body's WriteTo, or after reading it
// whole) runs on; one that waits for a body the server trickles is cut
// at the bound.
//
// With the defaults (DefaultCommandTimeout, 15 minutes), each case in a
// testing/synctest bubble: the handler's sleeps, the server's pacing and
// the bound run on the bubble's clock, which moves only when every
// goroutine waits, so "after two bounds" and "cut at the bound" are exact
// however loaded the machine (it ran a 300 ms bound on the wall clock,
// where a loaded machine could delay the server's answer past it).
func TestCommandTimeoutSections(t *testing.T) {
	const bound = session.DefaultCommandTimeout
	// Trickled a byte a second (never quiet for DefaultStallTimeout),
	// the body outlasts the bound: 4000 s.
	body := strings.Repeat("b", 4000)
	run := func(t *testing.T, trickling bool, handle func(r io.Reader) error) error {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			readCommand(r, w)
			if trickling {
				fmt.Fprintf(w, "* 1 FETCH (BODY[] {%d}\r\nbb", len(body))
				trickleEvery(w, "b", time.Second)
				return
			}
			fmt.Fprintf(w, "* 1 FETCH (BODY[] {%d}\r\n%s)\r\nA1 OK done\r\n", len(body), body)
			io.Copy(io.Discard, r)
		})
		s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		cmd := pullFetch("(BODY[])")
		cmd.Pull = false
		cmd.Sections = func(_ *codec.Fetch, _ *codec.Section, r io.Reader) error { return handle(r) }
		_, err = s.Run(context.Background(), cmd)
		return err
	}
	for _, c := range []struct {
		name   string
		handle func(r io.Reader) error
	}{
		{"WriteTo", func(r io.Reader) error {
			_, err := io.Copy(sleepyWriter{2 * bound}, r)
			return err
		}},
		{"Read", func(r io.Reader) error {
			_, err := io.ReadAll(r)
			time.Sleep(2 * bound)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				err := run(t, false, c.handle)
				if d := time.Since(start); err != nil || d < 2*bound {
					t.Fatalf("a handler of two bounds: %v after %v; want success after over %v", err, d, 2*bound)
				}
			})
		})
	}
	for _, c := range []struct {
		name   string
		handle func(r io.Reader) error
	}{
		{"trickling body, WriteTo", func(r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		}},
		{"trickling body, Read", func(r io.Reader) error {
			_, err := io.ReadAll(r)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				err := run(t, true, c.handle)
				d := time.Since(start)
				var te *session.TimeoutError
				if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutCommand {
					t.Fatalf("got %v after %v; want an abort with a command *TimeoutError", err, d)
				}
				if d != bound {
					t.Errorf("ended after %v; want exactly %v", d, bound)
				}
			})
		})
	}
}

// TestCommandTimeoutSlowUpload: the command bound grows with the literal
// bodies the caller sends, by a second per 16 KiB (uploadRate): a 16 KiB
// APPEND that a server takes in over the bound and half a second ends
// well; one taken in over the bound and four seconds is cut at the bound
// and the second the body adds. The connection is synchronous
// (net.Pipe): a write waits for the server to read.
//
// With the defaults (DefaultCommandTimeout, 15 minutes), each case in a
// testing/synctest bubble: the server's pacing and the bound run on the
// bubble's clock, so the cut is exact however loaded the machine (it ran
// a 300 ms bound on the wall clock: 1.9 s).
func TestCommandTimeoutSlowUpload(t *testing.T) {
	const bound = session.DefaultCommandTimeout
	const size = 16 << 10
	// The bound and the second the body adds, as the session computes it
	// (a second per 16 KiB, in whole nanoseconds per byte).
	const grown = bound + size*(time.Second/(16<<10))
	for _, upload := range []time.Duration{bound + time.Second/2, bound + 4*time.Second} {
		t.Run(fmt.Sprintf("taken in over %v", upload), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, server := net.Pipe()
				done := make(chan struct{})
				go func() {
					defer close(done)
					defer server.Close()
					io.WriteString(server, lmGreeting)
					r := bufio.NewReaderSize(server, 16)
					line, _ := r.ReadString('\n')
					if strings.HasSuffix(line, "}\r\n") && !strings.HasSuffix(line, "+}\r\n") {
						io.WriteString(server, "+ go ahead\r\n")
					}
					buf := make([]byte, 256)
					step := upload / (size / time.Duration(len(buf)))
					for n := 0; n < size; {
						time.Sleep(step)
						k, err := io.ReadFull(r, buf[:min(len(buf), size-n)])
						if err != nil {
							return
						}
						n += k
					}
					r.ReadString('\n')
					io.WriteString(server, "A1 OK appended\r\n")
					io.Copy(io.Discard, r)
				}()
				t.Cleanup(func() { client.Close(); server.Close(); <-done })
				s, err := session.Open(hangCtx(t), client, &session.Options{TagPrefix: "A"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				start := time.Now()
				_, err = s.Run(context.Background(), &session.Command{Name: "APPEND", AnyState: true, Args: func(e *wire.Encoder) {
					e.SP().Atom("INBOX").SP().LiteralReader(size, strings.NewReader(strings.Repeat("x", size)), false)
				}})
				d := time.Since(start) // on the bubble's clock
				if upload < grown {
					if err != nil || d < upload {
						t.Fatalf("APPEND over a slow link: %v after %v; want success after %v", err, d, upload)
					}
					return
				}
				var te *session.TimeoutError
				if !errors.As(err, &te) || te.What != session.TimeoutCommand {
					t.Fatalf("APPEND to a server that takes it in over %v: %v after %v; want a command *TimeoutError", upload, err, d)
				}
				if d != grown {
					t.Errorf("cut after %v; want exactly %v", d, grown)
				}
			})
		})
	}
}

// TestStallTimeoutWrite: the stall timeouts while the session writes. A
// server that takes an APPEND's 1.5 MiB message in slowly (256 KiB every
// 2/3 of the stall timeout; transport.Pipe wakes the writer once 512 KiB
// of its 1 MiB are free, and its buffer is still draining when the last
// write ends), for several stall timeouts in all, sending nothing, is cut
// by neither (before, the read side's stall timeout cut it: no byte came
// while the message went out); one that stops taking it in (its reads
// stop, the pipe is full) ends the command with a write *TimeoutError
// after about four stall timeouts.
func TestStallTimeoutWrite(t *testing.T) {
	const stall = 300 * time.Millisecond
	writeStall{
		open: func(t *testing.T, conn net.Conn) (*session.Session, error) {
			return session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A", StallTimeout: stall})
		},
		pace: 2 * stall / 3, minSlow: 3 * stall, cut: 4 * stall,
	}.run(t)
}

// writeStall is a run of TestStallTimeoutWrite or
// TestStallTimeoutWriteDefault: an APPEND of 1.5 MiB (past
// transport.Pipe's 1 MiB buffer) to a server that takes it in slowly (256
// KiB after each pace), then to one that stops taking it in.
type writeStall struct {
	open    func(t *testing.T, conn net.Conn) (*session.Session, error) // t: the bubble's
	pace    time.Duration                                               // the slow server's wait before each 256 KiB it reads
	minSlow time.Duration                                               // the slow APPEND must take longer: it was not cut
	cut     time.Duration                                               // when the APPEND the server stopped taking in is cut
	after   time.Duration                                               // that *TimeoutError's After (0: not checked)
}

func (ws writeStall) run(t *testing.T) {
	const size = 3 << 19
	// The message is made once, outside Args: Args runs while the
	// command is in flight (the read side's stall timeout armed), twice
	// per command (at Start and when it is written), and building 1.5 MiB
	// there took up to 600 ms on a loaded machine under -race.
	msg := strings.Repeat("x", size)
	for _, reads := range []bool{true, false} {
		t.Run(map[bool]string{true: "slow reader", false: "no reader"}[reads], func(t *testing.T) {
			// In a synctest bubble: the server's pacing and the
			// stall timeouts run on the bubble's clock, which moves
			// only when every goroutine waits, so the run is exact
			// however loaded the machine (it took 2 to 4 s of wall
			// time, and needed retries under load), and takes
			// milliseconds.
			synctest.Test(t, func(t *testing.T) {
				if err := ws.try(t, reads, msg); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

// try is one attempt of a writeStall run (reads: the server takes the
// message in slowly; otherwise it stops taking it in): its failure, nil
// when it passed.
func (ws writeStall) try(t *testing.T, reads bool, msg string) error {
	size := len(msg)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		line, _ := r.ReadString('\n')       // APPEND INBOX {size}
		tag, _, _ := strings.Cut(line, " ") // random with nil Options
		io.WriteString(w, "+ go ahead\r\n")
		if !reads {
			time.Sleep(2 * ws.cut) // past the cut: it ends the test
			return
		}
		buf := make([]byte, 256<<10)
		for got := 0; got < size; {
			time.Sleep(ws.pace)
			n, err := io.ReadFull(r, buf)
			got += n
			if err != nil {
				return
			}
		}
		io.WriteString(w, tag+" OK appended\r\n")
		io.Copy(io.Discard, r)
	})
	s, err := ws.open(t, conn)
	if err != nil {
		return err
	}
	defer s.Close() // the next attempt's server is another
	start := time.Now()
	_, err = s.Run(context.Background(), &session.Command{Name: "APPEND", AnyState: true, Args: func(e *wire.Encoder) {
		e.SP().Atom("INBOX").SP().LiteralReader(int64(size), strings.NewReader(msg), false)
	}})
	d := time.Since(start)
	if reads {
		if err != nil || d < ws.minSlow {
			return fmt.Errorf("APPEND taken in slowly: %v after %v; want success after more than %v", err, d, ws.minSlow)
		}
		return nil
	}
	var te *session.TimeoutError
	if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutWrite ||
		!errors.Is(err, session.ErrTimeout) || ws.after != 0 && te.After != ws.after {
		return fmt.Errorf("APPEND to a server that stopped reading: %v after %v; want an abort with a write *TimeoutError", err, d)
	}
	// The bubble's clock is exact: the write deadline is set 1/16
	// further than the bound (stallSlack, docs/limits.md), no more.
	if d < ws.cut || d > ws.cut+ws.cut/16 {
		return fmt.Errorf("cut after %v; want about %v", d, ws.cut)
	}
	return nil
}

// TestStallTimeoutWriteDefault is TestStallTimeoutWrite with the
// defaults (nil Options): the write side's stall timeout is four
// DefaultStallTimeouts (4 minutes), on the clock of a synctest bubble (see
// writeStall.run). A server that stops taking an APPEND's message in ends
// the command with a write *TimeoutError after 4 minutes, the session
// aborted; one that takes it in slowly (256 KiB every minute, a quarter
// of the write stall timeout: transport.Pipe wakes the writer once two
// reads freed half its buffer), sending nothing, is cut by neither side,
// though the message takes more than one write stall timeout. (The read
// side's excuse for a draining send buffer is not tested here: at this
// pace the buffer drains within half of it;
// TestSlowUploadNotCutAfterLastWrite tests it.)
// Before the bubble, the test ran the session's stall clock 200 times
// faster (session.StallSpeed) on the wall clock, with retries under load;
// before that, only the connection's write deadlines ran faster (a
// wrapping net.Conn): the session reckoned with its own four minutes and
// did not move the deadline its first write set, so the slow reader
// passed only if a write was under way and had made progress when that
// deadline came (about one run in 16 failed at load 13-17 under -race).
func TestStallTimeoutWriteDefault(t *testing.T) {
	bound := 4 * session.DefaultStallTimeout
	writeStall{
		open: func(t *testing.T, conn net.Conn) (*session.Session, error) {
			return session.Open(hangCtx(t), conn, nil)
		},
		pace: bound / 4, minSlow: bound, cut: bound, after: bound,
	}.run(t)
}

// TestHugeTimeouts: timeouts as long as a time.Duration goes
// (math.MaxInt64) mean "practically none", not an overflow: four stall
// timeouts on the write side wrapped into a deadline in the past and every
// write failed at once ("took no byte in -1620095h"; the review of
// 2026-12-04).
func TestHugeTimeouts(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasSuffix(strings.TrimSpace(rest), "}") {
				io.WriteString(w, "+ go ahead\r\n")
				io.CopyN(io.Discard, r, 1<<20)
				r.ReadString('\n')
			}
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	huge := time.Duration(math.MaxInt64)
	s, err := session.Open(hangCtx(t), conn, &session.Options{StallTimeout: huge, CommandTimeout: huge, GreetingTimeout: huge})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Run(context.Background(), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	const size = 1 << 20
	if _, err := s.Run(context.Background(), &session.Command{Name: "APPEND", AnyState: true, Args: func(e *wire.Encoder) {
		e.SP().Atom("INBOX").SP().LiteralReader(size, strings.NewReader(strings.Repeat("x", size)), false)
	}}); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
}

// TestSlowUploadNotCutAfterLastWrite: an APPEND over a link that takes
// the message in slowly but steadily (256 KiB every 1.8 stall timeouts:
// transport.Pipe wakes the writer once half its 1 MiB is free) is not cut
// by the read side while the send buffer the last write filled drains:
// that takes up to two of the write side's bounds (a full buffer is two
// half-drains), and the read side excused one: the 1.2 MiB APPEND was cut
// with "no byte from the server" (the second review of 2026-12-04).
//
// With the defaults (DefaultStallTimeout), each size in a
// testing/synctest bubble: the server's pacing and the stall timeouts
// run on the bubble's clock, which moves only when every goroutine waits,
// so the run is exact however loaded the machine. It ran a 300 ms stall
// timeout on the wall clock, up to three tries, 3 s a size.
func TestSlowUploadNotCutAfterLastWrite(t *testing.T) {
	const stall = session.DefaultStallTimeout
	for _, size := range []int{3 << 19, 3<<19 - 300<<10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			msg := strings.Repeat("x", size)
			synctest.Test(t, func(t *testing.T) {
				conn := fake(t, func(r *bufio.Reader, w io.Writer) {
					io.WriteString(w, lmGreeting)
					line, _ := r.ReadString('\n')
					tag, _, _ := strings.Cut(line, " ")
					io.WriteString(w, "+ go ahead\r\n")
					buf := make([]byte, 256<<10)
					for got := 0; got < size; {
						time.Sleep(9 * 4 * stall / 10 / 2)
						n, err := io.ReadFull(r, buf[:min(len(buf), size-got)])
						got += n
						if err != nil {
							return
						}
					}
					io.WriteString(w, tag+" OK appended\r\n")
					io.Copy(io.Discard, r)
				})
				s, err := session.Open(hangCtx(t), conn, &session.Options{TagPrefix: "A"})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				start := time.Now()
				_, err = s.Run(context.Background(), &session.Command{Name: "APPEND", AnyState: true, Args: func(e *wire.Encoder) {
					e.SP().Atom("INBOX").SP().LiteralReader(int64(size), strings.NewReader(msg), false)
				}})
				if err != nil {
					t.Fatalf("APPEND taken in slowly but steadily: %v after %v", err, time.Since(start))
				}
			})
		})
	}
}

// TestLineAtBoundSession: with the default options, a response
// line of exactly wire.DefaultMaxLineLength bytes (CRLF not counted, as
// docs/limits.md and the tokenizer count it) is read; one byte longer
// aborts the session with wire.ErrLineTooLong. Before, the tokenizer's
// buffer, grown by doubling to exactly 1 MiB, could not take the line's
// CRLF, and the session aborted on a line within the documented bound.
func TestLineAtBoundSession(t *testing.T) {
	max := wire.DefaultMaxLineLength
	line := func(prefix string, n int, suffix string) string {
		return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix + "\r\n"
	}
	for _, c := range []struct {
		name           string
		prefix, suffix string
	}{
		{"text", "* OK [ALERT] ", ""},
		{"flags", "* 1 FETCH (FLAGS (", "))"},
		{"quoted", "* LIST () \"/\" \"", "\""},
	} {
		for _, n := range []int{max, max + 1} {
			s := scriptedOpen(t, nil, func(tag, cmd string) string {
				if strings.HasPrefix(cmd, "NOOP") {
					return line(c.prefix, n, c.suffix) + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			r, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP", Want: func(codec.Response) bool { return true }})
			if n == max {
				if err != nil {
					t.Errorf("%s: a line of %d bytes (the bound): %v; want it read", c.name, n, err)
				} else if len(r.Data) != 1 {
					t.Errorf("%s: a line of %d bytes: %d responses; want 1", c.name, n, len(r.Data))
				}
				continue
			}
			if !errors.Is(err, session.ErrAborted) || !errors.Is(err, wire.ErrLineTooLong) {
				t.Errorf("%s: a line of %d bytes (one past the bound): %v; want an abort matching wire.ErrLineTooLong", c.name, n, err)
			}
		}
	}
}
