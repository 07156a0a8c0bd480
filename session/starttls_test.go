package session_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestStartTLSDeadlineCalledStall: ba7293e runs the handshake with the
// caller's deadline when it is later than transport.DefaultHandshakeTimeout
// (30 s), and dropped the ctx.Err() == nil guard of the mapping of a
// timeout to a stall: a handshake that a frozen network holds until the
// caller's deadline (35 s here, before the 60 s stall timeout) fails with
// context.DeadlineExceeded, whose Timeout() is true, and the session ends
// with *TimeoutError{What: "stall", After: 60s}: "no byte came within the
// stall timeout of 1m0s" after 35 s, which is not what happened (the
// caller's deadline passed). Every later command reports it (AbortError).
// And StartTLS itself returns the bare context.DeadlineExceeded, which
// docs/errors.md (and ba7293e's message) say leaves the session going on,
// while the session is aborted at that instant: ba7293e's fix covers
// deadlines under 30 s only. Fixed: the handshake's bound is the caller's
// deadline plus DefaultHandshakeTimeout, so the caller's context always
// ends first (StartTLS returns its error, the session goes on until the
// stall timeout cuts the handshake at 60 s, named so).
//
// It runs in a testing/synctest bubble, with the defaults as they are
// (no StallSpeed): the caller's deadline at 35 s, the stall timeout at
// 60 s, the handshake's bound at 65 s, the session's end waited for
// (Done, a bound of two stall timeouts against a hang), all on
// the bubble's clock, which moves only when every goroutine waits, so
// the order of the events is exact however loaded the machine, and the
// test takes milliseconds (it ran the stall clock 10 times faster on the
// wall clock: 4 s). The session ending before the stall timeout could
// have fired (60 s from the start at the earliest) is the fault.
func TestStartTLSDeadlineCalledStall(t *testing.T) {
	_, cliCfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		conn, srv := hostile.Pipe(func(c *hostile.Conn) error {
			c.Greet("IMAP4rev1 STARTTLS")
			cmd, err := c.Until("STARTTLS")
			if err != nil {
				return err
			}
			c.Reply(cmd.Tag, "OK begin TLS")
			return c.Stall()
		})
		defer srv.Close()
		start := time.Now() // before Open: the stall clock starts later
		s, err := session.Open(context.Background(), conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		d := transport.DefaultHandshakeTimeout + 5*time.Second
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		serr := s.StartTLS(ctx, cliCfg)
		// The session's end comes with the handshake's: at the caller's
		// deadline with the fault, at the stall timeout without it.
		// Waited for as an event (Done), up to twice the stall timeout
		// of the bubble's clock, a bound on a hang.
		select {
		case <-s.Done():
		case <-time.After(2 * session.DefaultStallTimeout):
			t.Fatalf("the session still runs %v after the start, StartTLS: %v", time.Since(start), serr)
		}
		end := s.Err()
		seen := time.Since(start)
		// No stall can have fired before the stall timeout has passed
		// since start.
		stall := session.DefaultStallTimeout
		t.Logf("after %v (the stall timeout: %v): StartTLS: %v; session: %v", seen, stall, serr, end)
		if serr != nil && !errors.Is(serr, session.ErrAborted) && end != nil && seen < stall {
			t.Errorf("StartTLS returned %v, not session.ErrAborted (by docs/errors.md and ba7293e: the session goes on), yet the session ended at the same instant: %v. The handshake's deadline is the caller's own, so the caller's context error and the handshake's failure come together: ba7293e's fix holds only for deadlines under %v", serr, end, transport.DefaultHandshakeTimeout)
		}
		for _, e := range []error{serr, end} {
			var te *session.TimeoutError
			if errors.As(e, &te) && te.What == session.TimeoutStall && seen < te.After {
				t.Errorf("the handshake ended at the caller's deadline (%v), but the error says the stall timeout of %v fired: %v", d, te.After, e)
			}
		}
	})
}

// TestStartTLSDialledHost: imaplib's IMAP4(host).starttls()
// verifies the certificate against host; transport.Dial + session.Open +
// StartTLS refused with transport.ErrNoServerName unless the caller
// repeated the host in Options.ServerName or the tls.Config. A connection
// from Dial now remembers the host it was dialled as, and StartTLS
// verifies against it (real Dovecot, dialled as "localhost", a config
// with the server's CA and no ServerName, no Options.ServerName).
func TestStartTLSDialledHost(t *testing.T) {
	srv := dvServer(t)
	_, port, err := net.SplitHostPort(srv.PlainAddr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := transport.Dial(dvCtx(t), net.JoinHostPort("localhost", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := transport.ServerName(conn); got != "localhost" {
		t.Fatalf("transport.ServerName = %q, want localhost", got)
	}
	s := dvOpen(t, conn, nil)
	cfg := srv.TLSConfig()
	cfg.ServerName = ""
	if err := s.StartTLS(dvCtx(t), cfg); err != nil {
		t.Fatalf("StartTLS on a connection dialled as localhost: %v", err)
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
}

// closeAtFinishedConn is the client's connection: once armed (before
// StartTLS), its third write (after STARTTLS and the ClientHello) is the TLS client's last flight; right after it
// goes out, Close is called on another goroutine, and the write returns
// only a moment later, so that the handshake completes while Close runs.
type closeAtFinishedConn struct {
	net.Conn
	armed  atomic.Bool
	writes atomic.Int32
	s      atomic.Pointer[session.Session]
	wg     sync.WaitGroup
}

func (c *closeAtFinishedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.armed.Load() && c.writes.Add(1) == 3 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.s.Load().Close()
		}()
		time.Sleep(100 * time.Millisecond)
	}
	return n, err
}

// TestCloseDuringStartTLSRace: Close called (from another
// goroutine, a watchdog, a ctx.AfterFunc) while STARTTLS's handshake
// completes on the reader goroutine. abortWith read s.conn without a lock
// while the upgrade replaced it under the write lock: a data race on an
// interface value (two words: a torn read may call Close through a wrong
// method table). Run with -race; before the fix it failed with "race
// detected during execution of test".
func TestCloseDuringStartTLSRace(t *testing.T) {
	srvCfg, cliCfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.Until("STARTTLS")
		if err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS")
		if err := c.StartTLS(srvCfg); err != nil {
			return err
		}
		c.Serve()
		return nil
	})
	defer srv.Close()
	conn := &closeAtFinishedConn{Conn: raw}
	ctx := hangCtx(t)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.s.Store(s)
	conn.armed.Store(true)
	err = s.StartTLS(ctx, cliCfg)
	t.Logf("StartTLS: %v", err)
	conn.wg.Wait()
	s.Close()
}

// startTLSCerts is the test certificate of FuzzStartTLS, made once
// per process (a key and a certificate per exec would cost more than the
// exec).
var startTLSCerts struct {
	once     sync.Once
	srv, cli *tls.Config
	now      time.Time // when it was made
	err      error
}

func startTLSConfigs(t testing.TB) (srv, cli *tls.Config) {
	startTLSCerts.once.Do(func() {
		dir, err := os.MkdirTemp("", "startTLSFuzz")
		if err != nil {
			startTLSCerts.err = err
			return
		}
		defer os.RemoveAll(dir) // the configs hold the certificate in memory
		startTLSCerts.now = time.Now()
		startTLSCerts.srv, startTLSCerts.cli, startTLSCerts.err = testserver.TLSConfigs(dir)
	})
	if startTLSCerts.err != nil {
		t.Fatal(startTLSCerts.err)
	}
	srv, cli = startTLSCerts.srv.Clone(), startTLSCerts.cli.Clone()
	// The exec's synctest bubble has its own clock, which starts in 2000:
	// the certificate is checked at the real time it was made.
	now := startTLSCerts.now
	srv.Time = func() time.Time { return now }
	cli.Time = srv.Time
	return srv, cli
}

// startTLSMarker is a capability only the bytes before the switch to TLS
// may hold: the scripted server takes it out of what it sends over TLS, so
// the session seeing it after a StartTLS that succeeded read bytes received
// in clear as if they came over TLS (the STARTTLS buffered-data
// injection).
const startTLSMarker = "XINJ"

// startTLSExecBound is how long an exec's StartTLS may run: the script's
// server hangs up well before, and no timeout of the library is shortened.
const startTLSExecBound = 4 * time.Second

// startTLSExec runs one exec of FuzzStartTLS: a session
// with the library's defaults (nil Options: the server name comes from the
// client's tls.Config) opened on pre (the greeting and anything after it),
// then StartTLS. The server answers a command other than STARTTLS before
// the switch with a CAPABILITY that has STARTTLS, STARTTLS with answer
// (%T its tag: its OK, and bytes after it that must be thrown away), then
// runs the TLS handshake and answers the first command over TLS with post
// (%T the tag), its TLS records made hostile as ctl says (startTLSFault),
// then hangs up.
//
// The exec runs in a synctest bubble: its clock moves only when every
// goroutine of the exec waits, so the server's "client quiet for
// startTLSQuietFor" means the client waits for it (never that the client
// was slow under load), and the waits that end an exec (the quiet client,
// the server's startTLSExecBound, the watchdog) cost no wall time. The
// library's timeouts are not shortened; they are simply later than the
// script's. A goroutine of the exec left after Close is reported with its
// stack (bubbleGoroutinesLeft); one that waits for good also makes synctest.Test
// fail.
//
// The bubble's clock stops while a goroutine of the exec waits on what is
// not durably blocking (a sync.Mutex, a syscall, I/O outside the pipe) or
// spins: the watchdogs, ctx and the leak check's allowance above are on
// that clock and never fire. The exec runs under a real-clock guard
// (startTLSGuarded): past startTLSRealGuard it fails with every stack.
func startTLSExec(t *testing.T, pre, answer, post, ctl []byte) {
	srvCfg, cliCfg := startTLSConfigs(t)
	post = bytes.ReplaceAll(post, []byte(startTLSMarker), []byte("XXXX"))
	fault := parseStartTLSFault(ctl)
	if stacks, _ := startTLSGuarded(t, func(t *testing.T) {
		startTLSBubble(t, srvCfg, cliCfg, pre, answer, post, fault)
	}); stacks != nil {
		t.Fatalf("the exec still running after %v of real time (waiting on what the bubble's clock does not see: a sync.Mutex, a syscall; or spinning)\n%s", startTLSRealGuard, stacks)
	}
}

// startTLSRealGuard is how long (real time) an exec may run: well past the
// seconds the slowest seed takes under -race on a loaded machine, and
// below the 10 s after which Go's fuzzing engine kills a worker without
// the exec's stacks. A variable, so that the tests of the guard
// (TestStartTLSExecGuard*) need not wait for it.
var startTLSRealGuard = 8 * time.Second

// startTLSGuarded runs exec in a synctest bubble (synctest.Test) and
// returns nil once it ended, or every goroutine's stack when it still
// runs after startTLSRealGuard of real time; ended is closed when it ends
// (never, for a hang). A panic of synctest.Test (a bubble whose main
// goroutine ended with others blocked) is the caller's.
func startTLSGuarded(t *testing.T, exec func(t *testing.T)) (stacks []byte, ended <-chan struct{}) {
	done := make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		synctest.Test(t, exec)
	}()
	timer := time.NewTimer(startTLSRealGuard)
	defer timer.Stop()
	select {
	case <-done:
		if panicked != nil {
			panic(panicked)
		}
		return nil, done
	case <-timer.C:
		return fuzzseed.Stacks(), done
	}
}

func startTLSBubble(t *testing.T, srvCfg, cliCfg *tls.Config, pre, answer, post []byte, fault startTLSFault) {
	cc, sc := transport.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer sc.Close()
		// The server ends by itself: its connection's deadline, and a
		// client quiet for startTLSQuietFor (waiting for what this
		// script will never send) is hung up on.
		end := time.Now().Add(startTLSExecBound)
		sc.SetDeadline(end)
		if _, err := sc.Write(pre); err != nil {
			return
		}
		br := bufio.NewReader(&quietConn{Conn: sc, end: end})
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if !strings.HasPrefix(strings.ToUpper(rest), "STARTTLS") {
				if _, err := sc.Write([]byte("* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + " OK done\r\n")); err != nil {
					return
				}
				continue
			}
			if _, err := sc.Write(bytes.ReplaceAll(answer, []byte("%T"), []byte(tag))); err != nil {
				return
			}
			break
		}
		// Whatever the answer said: the handshake, which fails when the
		// client did not switch.
		rec := &recordsConn{Conn: &restConn{Conn: &quietConn{Conn: sc, end: end}, r: br}}
		tc := tls.Server(rec, srvCfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		tr := bufio.NewReader(tc)
		line, err := tr.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		// Then the answer's records, made hostile, and the hang-up: the
		// pipe keeps what the client has not read yet.
		fault.write(sc, tc, rec, bytes.ReplaceAll(post, []byte("%T"), []byte(tag)))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), startTLSExecBound)
	defer cancel()
	done := make(chan error, 1)
	var s *session.Session
	go func() {
		var err error
		s, err = session.Open(ctx, cc, nil)
		if err == nil {
			err = s.StartTLS(ctx, cliCfg)
		}
		done <- err
	}()
	// Whatever a check below decides (t.Fatalf ends this function), the
	// exec's goroutines end before the bubble does: one left blocked
	// makes synctest.Test panic, which ends the whole test binary.
	var err error
	returned := false
	defer func() {
		cc.Close()
		if !returned {
			select {
			case err = <-done:
				returned = true
			case <-time.After(startTLSExecBound):
			}
		}
		if returned && s != nil {
			s.Close()
		}
		waited := make(chan struct{})
		go func() { wg.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(startTLSExecBound):
		}
	}()
	select {
	case err = <-done:
		returned = true
	case <-time.After(startTLSExecBound + 2*time.Second):
		t.Fatalf("StartTLS still running %v after the server's deadline\n%s", 2*time.Second, fuzzseed.Stacks())
	}
	if s != nil {
		fzCheckPanics(t, err, s.Err())
	} else {
		fzCheckPanics(t, err)
	}
	if err == nil {
		for _, c := range s.Caps() {
			if strings.Contains(strings.ToUpper(c), startTLSMarker) {
				t.Fatalf("after STARTTLS the session has the capability %q, which only the bytes before the handshake held: %v", c, s.Caps())
			}
		}
		if !s.TLS() {
			t.Fatal("StartTLS succeeded but TLS() is false")
		}
	} else {
		if msg := err.Error(); fuzzseed.Unsafe(msg) {
			t.Fatalf("error with unsafe bytes: %q", msg)
		}
		if !startTLSTyped(err) {
			t.Fatalf("StartTLS failed with an error of no documented kind: %v (%T)", err, err)
		}
	}
	if s != nil {
		s.Close()
	}
	cc.Close()
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(startTLSExecBound + 2*time.Second):
		t.Fatalf("the server did not end\n%s", fuzzseed.Stacks())
	}
	// Every goroutine of the exec has ended or waits: those still there
	// are left behind, unless a timer of theirs ends them within 2 s.
	synctest.Wait()
	for deadline := time.Now().Add(2 * time.Second); ; {
		left := bubbleGoroutinesLeft()
		if len(left) == 0 {
			break
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("goroutines of the module left:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startTLSTyped reports whether a failed StartTLS's error is of a kind
// the session documents: a status (NO, BAD), a BYE, a bad greeting, no
// STARTTLS, a protocol violation, a timeout, an aborted or closed session
// (the handshake's or a record's failure, a hang-up), the wrong state, an
// answer that could not be decoded; from Open, the greeting's bad kind or
// bound, or the connection's end before it. A variable, so that a test of
// the harness (TestStartTLSExecFailedCheckEnds) can make it fail.
var startTLSTyped = func(err error) bool {
	for _, e := range []error{session.ErrNo, session.ErrBad, session.ErrBye, session.ErrGreeting,
		session.ErrStartTLSUnavailable, session.ErrProtocol, session.ErrTimeout, session.ErrAborted,
		session.ErrClosed, session.ErrNotIMAP4,
		// Open: the connection's read error (a hang-up) before the
		// greeting ended.
		io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	var se *session.StateError // STARTTLS after a PREAUTH greeting
	var de *codec.DecodeError  // an OK whose answer held what cannot be decoded
	var le *wire.LimitError    // Open: a greeting past a bound
	return errors.As(err, &se) || errors.As(err, &de) || errors.As(err, &le)
}

// bubbleGoroutinesLeft returns the stacks of the goroutines of the module in the
// calling goroutine's synctest bubble, but for the caller's.
func bubbleGoroutinesLeft() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
	var bubble string // ", synctest bubble N]" of the caller's header, first
	for i, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if i == 0 {
			if j := strings.Index(header, ", synctest bubble "); j >= 0 {
				bubble = header[j:]
			}
			continue
		}
		if bubble == "" || !strings.HasSuffix(header, bubble) || strings.Contains(header, "[synctest.Run") {
			continue // another bubble's (an earlier exec's), synctest.Test's own
		}
		if strings.Contains(g, leakcheck.Module) {
			left = append(left, g)
		}
	}
	return left
}

// startTLSFault is what the server does to its TLS records after the
// handshake, read from the fuzzed ctl bytes (all optional):
//
//	ctl[0]     plaintext bytes per record (0: the answer in one Write;
//	           1: a record per byte), for its first splitFirstBytes
//	           bytes
//	ctl[1]     bytes per write to the connection (0: all at once; 1: the
//	           records split at every byte), for the first
//	           splitFirstBytes bytes
//	ctl[2]%6   the fault: 0 none; 1 the records cut after pos bytes;
//	           2 the byte at pos XORed with x[0] (a bad record: MAC,
//	           header or padding); 3 the bytes x inserted raw at pos (a
//	           record of garbage, an alert, a header alone); 4 a
//	           close_notify after pos bytes of the answer (mid-line),
//	           nothing after it; 5 a line at the session's line bound
//	           (pos odd) or one byte over it (pos even) before the answer,
//	           a CAPABILITY of 16-byte atoms (pos%4 >= 2) or an OK's text
//	ctl[3:5]   pos, little-endian
//	ctl[5:]    x
type startTLSFault struct {
	recSize, chunk int
	kind           byte
	pos            int
	x              []byte
}

func parseStartTLSFault(ctl []byte) startTLSFault {
	var f startTLSFault
	at := func(i int) byte {
		if i < len(ctl) {
			return ctl[i]
		}
		return 0
	}
	f.recSize = int(at(0))
	f.chunk = int(at(1))
	f.kind = at(2) % 6
	f.pos = int(at(3)) | int(at(4))<<8
	if len(ctl) > 5 {
		f.x = ctl[5:]
	}
	return f
}

// write sends body over tc as f says, then the server hangs up.
func (f startTLSFault) write(sc net.Conn, tc *tls.Conn, rec *recordsConn, body []byte) {
	if f.kind == 5 {
		var line []byte
		if f.pos%4 >= 2 {
			line = []byte("* CAPABILITY IMAP4rev1")
			for len(line) < wire.DefaultMaxLineLength-16 {
				line = append(line, " XXXXXXXXXXXXXXX"...)
			}
		} else {
			line = []byte("* OK ")
		}
		n := wire.DefaultMaxLineLength + 1 - f.pos%2 // the bound, or one over
		line = append(line, bytes.Repeat([]byte("x"), n-len(line))...)
		body = append(append(line, "\r\n"...), body...)
	}
	rec.capture = true
	records := func(b []byte) {
		for off := 0; len(b) > 0; {
			n := len(b)
			if f.recSize > 0 && f.recSize < n && off < splitFirstBytes {
				n = f.recSize
			}
			off += n
			if _, err := tc.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
	}
	if f.kind == 4 {
		records(body[:f.pos%(len(body)+1)])
		tc.CloseWrite() // close_notify
	} else {
		records(body)
	}
	raw := rec.out
	switch f.kind {
	case 1:
		raw = raw[:f.pos%(len(raw)+1)]
	case 2:
		if len(raw) > 0 {
			x := byte(0x80)
			if len(f.x) > 0 && f.x[0] != 0 {
				x = f.x[0]
			}
			raw[f.pos%len(raw)] ^= x
		}
	case 3:
		i := f.pos % (len(raw) + 1)
		raw = append(raw[:i:i], append(f.x, raw[i:]...)...)
	}
	for off := 0; len(raw) > 0; {
		n := len(raw)
		if f.chunk > 0 && f.chunk < n && off < splitFirstBytes {
			n = f.chunk
		}
		off += n
		if _, err := sc.Write(raw[:n]); err != nil {
			return
		}
		raw = raw[n:]
	}
}

// splitFirstBytes is how many bytes of the answer (and of its records)
// startTLSFault splits into small records (writes); the rest goes whole, so
// that a long answer (a line at the line bound, 1 MiB) split a byte at a
// time does not cost a million records (writes) per exec.
const splitFirstBytes = 4 << 10

// recordsConn is the connection under the server's TLS: once capture
// is set, what the TLS layer writes (its records) is kept in out instead
// of sent, for startTLSFault to spoil.
type recordsConn struct {
	net.Conn
	capture bool
	out     []byte
}

func (c *recordsConn) Write(p []byte) (int, error) {
	if c.capture {
		c.out = append(c.out, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// quietConn is the server's connection before the switch and for the
// handshake: a read waits startTLSQuietFor at most (the connection's
// deadline still bounds it), so that an exec whose client waits for the
// server ends at once instead of at startTLSExecBound. It is no check: a
// server hanging up early only makes an exec shorter.
type quietConn struct {
	net.Conn
	end time.Time
}

// startTLSQuietFor: in the exec's bubble, the client has waited for the
// server this long (on the bubble's clock, which moves only when every
// goroutine of the exec waits).
const startTLSQuietFor = 150 * time.Millisecond

func (c *quietConn) Read(p []byte) (int, error) {
	d := time.Now().Add(startTLSQuietFor)
	if d.After(c.end) {
		d = c.end
	}
	c.Conn.SetReadDeadline(d)
	return c.Conn.Read(p)
}

// restConn is the server's connection for the handshake: the bytes its
// line reader had read past STARTTLS first (a client that pipelined its
// ClientHello behind STARTTLS), then the connection.
type restConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *restConn) Read(p []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

// FuzzStartTLS fuzzes the client's STARTTLS (session.StartTLS)
// with the server's bytes before the switch (the greeting, the answer to
// STARTTLS and what follows its OK in the same stream: the buffered-data
// injection of CVE-2011-0411's kind, here against the client) and after it
// (the answer to the CAPABILITY the session asks for over TLS, in TLS
// records the server spoils as the fourth input says: startTLSFault), over
// an in-memory pipe with a real crypto/tls handshake (the certificate made
// once per process), each exec in a synctest bubble. Checks, with the
// library's defaults: no panic (nor one the session recovered: an error
// matching ErrDecoderPanic or ErrPanicked, fzCheckPanics); StartTLS returns within 2 s of the
// server's hang-up (4 s, on the bubble's clock); a capability only the
// clear bytes held (startTLSMarker) is never seen after a StartTLS that
// succeeded; a failed StartTLS's error is of a documented kind
// (startTLSTyped) and holds no unsafe bytes; no goroutine of the module
// left; every fzMemEvery execs, the heap in use grown by at most
// fzMaxHeapGrowth.
func FuzzStartTLS(f *testing.F) {
	greet := "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n"
	caps := "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\n%T OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
	for _, s := range []struct{ pre, answer, post string }{
		// Dovecot 2.3 (codec/testdata/quirks/dovecot.txt's greeting).
		{greet, "%T OK Begin TLS negotiation now.\r\n", caps},
		// The greeting without capabilities: the session asks first.
		{"* OK Dovecot ready.\r\n", "%T OK Begin TLS negotiation now.\r\n", caps},
		// Injection: capabilities, a FETCH and a forged completion of
		// the command the session sends next, behind the OK.
		{greet, "%T OK Begin TLS now\r\n* CAPABILITY IMAP4rev1 XINJ AUTH=PLAIN\r\n* 1 FETCH (UID 1)\r\nA2 OK [CAPABILITY IMAP4rev1 XINJ] done\r\n", caps},
		{greet, "%T OK [CAPABILITY IMAP4rev1 XINJ] Begin TLS now\r\n", caps},
		{greet, "* CAPABILITY IMAP4rev1 XINJ\r\n%T OK Begin TLS now\r\n", caps},
		// Refusals and hostile answers.
		{greet, "%T NO TLS unavailable\r\n", caps},
		{greet, "%T BAD\r\n", caps},
		{greet, "* BYE going away\r\n", caps},
		{greet, "+ \r\n%T OK go\r\n", caps},
		{greet, "%T OK {5}\r\nXINJ \r\n", caps},
		{greet, "%T OK Begin TLS now\r\n\x16\x03\x01\x00\x05hello", caps},
		{"* OK [CAPABILITY IMAP4rev1] no starttls\r\n", "%T OK go\r\n", caps},
		{"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in\r\n", "%T OK go\r\n", caps},
		// After the switch: hostile answers over TLS.
		{greet, "%T OK go\r\n", "* CAPABILITY IMAP4rev1 XINJ\r\n%T OK\r\n"},
		{greet, "%T OK go\r\n", "* BYE\r\n"},
		{greet, "%T OK go\r\n", "%T NO no capabilities\r\n"},
		{greet, "%T OK go\r\n", "* CAPABILITY {3}\r\nABC\r\n%T OK\r\n"},
		{greet, "%T OK go\r\n", ""},
	} {
		f.Add([]byte(s.pre), []byte(s.answer), []byte(s.post), []byte(nil))
	}
	// After the switch: hostile records (startTLSFault).
	for _, ctl := range [][]byte{
		{1},                    // a record per byte
		{0, 1},                 // the records written a byte at a time
		{1, 1},                 // both
		{0, 0, 1, 30},          // the records cut after 30 bytes
		{0, 0, 1, 6},           // cut in a record's header
		{7, 3, 1, 200},         // small records, cut further on
		{0, 0, 2, 40, 0, 0x01}, // a byte of a record flipped (bad MAC)
		{0, 0, 2, 0, 0, 0x06},  // the content type of the first record
		{0, 0, 2, 3, 0, 0xff},  // its length
		{0, 0, 3, 0, 0, 0x17, 0x03, 0x03, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'}, // a record of garbage
		{0, 0, 3, 0, 0, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28},              // a fatal alert
		{0, 0, 3, 0, 0, 0x17, 0x03, 0x03, 0x40, 0x01},                          // a header announcing 16 KiB + 1
		{0, 0, 3, 0, 0, 'A', '1', ' ', 'O', 'K', '\r', '\n'},                   // clear text over TLS
		{0, 0, 4, 10}, // close_notify mid-line
		{1, 0, 4, 40}, // the same, a record per byte
		{0, 0, 4, 0},  // close_notify at once
		{0, 0, 5, 0},  // an OK one byte over the line bound
		{0, 0, 5, 1},  // an OK at the bound
		{0, 0, 5, 2},  // a CAPABILITY one byte over the bound
		// A CAPABILITY at the bound ({0, 0, 5, 3}) costs 0.35 s under -race: left to the fuzzer.
	} {
		f.Add([]byte(greet), []byte("%T OK go\r\n"), []byte(caps), ctl)
	}
	var execs atomic.Int64
	var heap0 atomic.Uint64
	f.Fuzz(func(t *testing.T, pre, answer, post, ctl []byte) {
		if len(pre)+len(answer)+len(post)+len(ctl) > 64<<10 {
			return
		}
		// The heap's baseline is taken at the first exec (a seed),
		// checked every fzMemEvery execs after, as the other session
		// targets do. It catches growth across execs: the input it fails
		// on is only the one being run when the growth was seen.
		if execs.Add(1)%fzMemEvery == 1 {
			fzCheckHeap(t, &heap0)
		}
		startTLSExec(t, pre, answer, post, ctl)
	})
}
