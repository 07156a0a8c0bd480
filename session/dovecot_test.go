package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/connkit"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The tests in this file run the flows of the transcript tests against a
// real Dovecot. One server serves the whole test binary: it is started on
// first use (so that tests without Dovecot do not pay for it) and stopped by
// TestMain. A missing Dovecot fails every test that needs it; nothing is
// skipped.

var dove = testserver.Shared{Prefix: "imapkit-session-", Options: &testserver.Options{Seed: dvSeedCount}}

// dvSeedCount is the number of sample messages in alice's INBOX. Tests must
// not change INBOX; they use mailboxes of their own.
const dvSeedCount = 30

func TestMain(m *testing.M) {
	code := m.Run()
	if err := dove.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping dovecot:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(leakcheck.Finish(code)) // goroutines, fds, child processes left: internal/leakcheck
}

// dovecot returns the shared server, starting it on first use. Failing to
// start it is a test failure.
func dvServer(tb testing.TB) *testserver.Server {
	tb.Helper()
	return dove.Get(tb)
}

// dvCtx returns a context that ends with the test (at most 30 s).
// dvHang bounds a wait on the real Dovecot that a passing test never
// waits out: a hang detector, not a timed assertion. A loaded machine (CI
// runs three packages' tests at once under -race on 2 cores) may be 20
// times slower than usual: the 2, 3 and 5 s bounds these waits had could
// fail a correct session.
const dvHang = time.Minute

func dvCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// dvBuffer is a bytes.Buffer safe for concurrent use, for traces.
type dvBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *dvBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *dvBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the trace lines.
func (b *dvBuffer) Lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// dvClientLines returns the "C: " lines of a trace, without the prefix.
func dvClientLines(trace string) []string {
	var out []string
	for _, l := range strings.Split(trace, "\n") {
		if c, ok := strings.CutPrefix(l, "C: "); ok {
			out = append(out, c)
		}
	}
	return out
}

// open opens a session on conn and closes it when the test ends.
func dvOpen(t testing.TB, conn net.Conn, opts *session.Options) *session.Session {
	t.Helper()
	if opts == nil {
		opts = &session.Options{}
	}
	if opts.TagPrefix == "" {
		opts.TagPrefix = "A"
	}
	s, err := session.Open(dvCtx(t), conn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dvDialPlain opens a session on the plain port, not logged in.
func dvDialPlain(t testing.TB, opts *session.Options) *session.Session {
	t.Helper()
	srv := dvServer(t)
	conn, err := transport.Dial(dvCtx(t), srv.PlainAddr, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return dvOpen(t, conn, opts)
}

// dvDialUser opens a session on the plain port and logs in as user.
func dvDialUser(t testing.TB, user string, opts *session.Options) *session.Session {
	t.Helper()
	s := dvDialPlain(t, opts)
	dvLogin(t, s, user, testserver.Password)
	return s
}

func dvLoginCmd(user, pass string) *session.Command {
	return &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) { e.SP().AString(user).SP().Password(pass) }}
}

func dvLogin(t testing.TB, s *session.Session, user, pass string) {
	t.Helper()
	if _, err := s.Run(dvCtx(t), dvLoginCmd(user, pass)); err != nil {
		t.Fatalf("LOGIN %s: %v", user, err)
	}
}

// dvMailboxCmd is a command whose only argument is a mailbox name.
func dvMailboxCmd(name, mailbox string) *session.Command {
	return &session.Command{Name: name, Args: func(e *wire.Encoder) { e.SP().Mailbox(mailbox) }}
}

// run runs a command and fails the test on any error.
func dvRun(t testing.TB, s *session.Session, cmd *session.Command) *session.Result {
	t.Helper()
	r, err := s.Run(dvCtx(t), cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Name, err)
	}
	return r
}

// dvRaw returns Args writing s with Raw after a space.
func dvRaw(s string) func(e *wire.Encoder) {
	return func(e *wire.Encoder) { e.SP().Raw(s) }
}

// dvNewMailbox creates a mailbox of user with a unique name holding msgs.
func dvNewMailbox(t testing.TB, user string, msgs [][]byte) string {
	t.Helper()
	name := fmt.Sprintf("t-%s-%d", strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()), time.Now().UnixNano())
	if err := dvServer(t).SeedMailbox(user, name, msgs); err != nil {
		t.Fatal(err)
	}
	return name
}

// dvEvents collects what OnUnsolicited receives.
type dvEvents struct {
	mu   sync.Mutex
	list []codec.Response
	ch   chan struct{}
}

func newDvEvents() *dvEvents { return &dvEvents{ch: make(chan struct{}, 1)} }

func (e *dvEvents) add(r codec.Response) {
	e.mu.Lock()
	e.list = append(e.list, r)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// take returns and forgets what was received so far.
func (e *dvEvents) take() []codec.Response {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.list
	e.list = nil
	return l
}

// waitFor waits until ok holds for what was received, and returns it.
func (e *dvEvents) waitFor(t testing.TB, d time.Duration, ok func([]codec.Response) bool) []codec.Response {
	t.Helper()
	deadline := time.After(d)
	for {
		e.mu.Lock()
		l := append([]codec.Response(nil), e.list...)
		e.mu.Unlock()
		if ok(l) {
			return l
		}
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("unsolicited responses after %v: %s", d, dvDescribe(l))
		}
	}
}

// dvDescribe summarises responses for failure messages.
func dvDescribe(l []codec.Response) string {
	var parts []string
	for _, r := range l {
		switch r := r.(type) {
		case *codec.Exists:
			parts = append(parts, fmt.Sprintf("%d EXISTS", r.Count))
		case *codec.Recent:
			parts = append(parts, fmt.Sprintf("%d RECENT", r.Count))
		case *codec.Expunge:
			parts = append(parts, fmt.Sprintf("%d EXPUNGE", r.Seq))
		case *codec.Status:
			parts = append(parts, fmt.Sprintf("%s %q", r.Kind, r.Text))
		default:
			parts = append(parts, fmt.Sprintf("%T", r))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// lastExists returns the count of the last EXISTS in l, or -1.
func lastExists(l []codec.Response) int {
	n := -1
	for _, r := range l {
		if e, ok := r.(*codec.Exists); ok {
			n = int(e.Count)
		}
	}
	return n
}

// dvMessage returns a message of about size bytes with CRLF line ends.
func dvMessage(subject string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n", subject, strings.ReplaceAll(subject, " ", "-"))
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %05d of %s: the quick brown fox jumps over the lazy dog\r\n", i, subject)
	}
	return b.Bytes()
}

// appendCmd is APPEND mailbox (\Seen) {msg}.
func appendCmd(mailbox string, msg []byte) *session.Command {
	return &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(mailbox).SP().List(func(e *wire.Encoder) { e.Atom(`\Seen`) }).SP().Literal(msg)
	}}
}

// appendedUID returns the UID of an APPENDUID code.
func appendedUID(t testing.TB, r *session.Result) uint32 {
	t.Helper()
	c := r.Status.Code
	if c == nil || c.Kind != codec.CodeAppendUID || len(c.Dst.Ranges()) != 1 {
		t.Fatalf("APPEND: no APPENDUID in %+v", r.Status)
	}
	return c.Dst.Ranges()[0].Start
}

// fetchBody returns BODY.PEEK[] of the message with the given UID in the
// selected mailbox.
func fetchBody(t testing.TB, s *session.Session, uid uint32) []byte {
	t.Helper()
	r := dvRun(t, s, &session.Command{Name: "UID FETCH", Args: dvRaw(fmt.Sprintf("%d BODY.PEEK[]", uid))})
	for _, d := range r.Data {
		if f, ok := d.(*codec.Fetch); ok && f.UID == uid && len(f.Sections) == 1 {
			return f.Sections[0].Data
		}
	}
	t.Fatalf("UID FETCH %d: no body in %s", uid, dvDescribe(r.Data))
	return nil
}

// dvRewriteConn replaces, in what the server sends, one string by another
// of the same length. It makes Dovecot's LITERAL+ look like LITERAL-, so
// that literals over 4096 bytes are synchronizing. When holdPlus is set, a
// continuation request ("+ ...") is held back until holdPlus is closed;
// sawPlus is closed when the first one arrives.
type dvRewriteConn struct {
	net.Conn
	old, new []byte
	holdPlus chan struct{}
	sawPlus  chan struct{}
	once     sync.Once
}

func (c *dvRewriteConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	b := p[:n]
	for {
		i := bytes.Index(b, c.old)
		if i < 0 {
			break
		}
		copy(b[i:], c.new)
		b = b[i+len(c.new):]
	}
	if c.holdPlus != nil && bytes.HasPrefix(p[:n], []byte("+ ")) {
		c.once.Do(func() { close(c.sawPlus) })
		<-c.holdPlus
	}
	return n, err
}

// dialLiteralMinus opens a plain session, logged in as user, on which
// Dovecot seems to announce LITERAL- instead of LITERAL+.
func dialLiteralMinus(t testing.TB, user string, opts *session.Options, conn *dvRewriteConn) *session.Session {
	t.Helper()
	raw, err := transport.Dial(dvCtx(t), dvServer(t).PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Conn, conn.old, conn.new = raw, []byte("LITERAL+"), []byte("LITERAL-")
	s := dvOpen(t, conn, opts)
	dvLogin(t, s, user, testserver.Password)
	if !s.HasCap("LITERAL-") || s.HasCap("LITERAL+") {
		t.Fatalf("capabilities %v: want LITERAL- and no LITERAL+", s.Caps())
	}
	return s
}

// dvGateConn holds back what the server sends while the gate is shut: a
// server as slow as a test needs. Close ends a held Read.
type dvGateConn struct {
	net.Conn
	mu     sync.Mutex
	open   chan struct{} // closed while the gate is open
	closed chan struct{}
	once   sync.Once
}

func newDvGateConn(c net.Conn) *dvGateConn {
	g := &dvGateConn{Conn: c, open: make(chan struct{}), closed: make(chan struct{})}
	close(g.open)
	return g
}

// shut holds back whatever the server sends from now on.
func (c *dvGateConn) shut() {
	c.mu.Lock()
	c.open = make(chan struct{})
	c.mu.Unlock()
}

// release lets it through.
func (c *dvGateConn) release() {
	c.mu.Lock()
	close(c.open)
	c.mu.Unlock()
}

func (c *dvGateConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	open := c.open
	c.mu.Unlock()
	select {
	case <-open:
		return n, err
	case <-c.closed:
		return 0, net.ErrClosed
	}
}

func (c *dvGateConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// dvDialGate opens a plain session through a dvGateConn.
func dvDialGate(t testing.TB, opts *session.Options) (*session.Session, *dvGateConn) {
	t.Helper()
	raw, err := transport.Dial(dvCtx(t), dvServer(t).PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newDvGateConn(raw)
	return dvOpen(t, g, opts), g
}

// dvParallel marks a test against the shared Dovecot to run beside the
// others (t.Parallel): it waits on the server most of its time, and shares
// nothing with them: its mailboxes are its own (dvNewMailbox) or INBOX,
// which no test changes; it sets no package variable or hook, sleeps to
// order no events and looks at nothing process-wide (goroutines, the
// heap). The tests that poll or sleep to order their steps
// (TestDovecotCloseInFlight, TestDovecotContinuationRouting,
// TestBugFlushSkippedForFailedWriter) stay serial.
func dvParallel(t *testing.T) {
	t.Helper()
	t.Parallel()
}

// ---- connecting ----

func TestDovecotGreetingPlain(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dvDialPlain(t, &session.Options{Trace: &tr})
	if got := s.State(); got != session.StateNonAuth {
		t.Errorf("State() = %v; want NONAUTH", got)
	}
	w := s.Welcome()
	if w == nil || w.Kind != codec.StatusOK || w.Code == nil || w.Code.Kind != codec.CodeCapability {
		t.Fatalf("Welcome() = %+v; want * OK [CAPABILITY ...]", w)
	}
	if got := s.ProtocolVersion(); got != "IMAP4rev1" {
		t.Errorf("ProtocolVersion() = %q; want IMAP4rev1", got)
	}
	for _, c := range []string{"IMAP4REV1", "STARTTLS", "LITERAL+", "AUTH=PLAIN", "idle"} {
		if !s.HasCap(c) {
			t.Errorf("HasCap(%q) = false; caps %v", c, s.Caps())
		}
	}
	// The greeting carried the capabilities: nothing was asked.
	if c := dvClientLines(tr.String()); len(c) != 0 {
		t.Errorf("client lines after Open: %q; want none", c)
	}
	caps, err := s.Capabilities(dvCtx(t))
	if err != nil || len(caps) == 0 {
		t.Fatalf("Capabilities() = %v, %v", caps, err)
	}
	if c := dvClientLines(tr.String()); len(c) != 0 {
		t.Errorf("Capabilities() with fresh capabilities sent %q", c)
	}
	if err := s.Logout(dvCtx(t)); err != nil {
		t.Fatalf("Logout: %v", err)
	}
}

func TestDovecotStartTLSLogin(t *testing.T) {
	dvParallel(t)
	srv := dvServer(t)
	var tr dvBuffer
	s := dvDialPlain(t, &session.Options{Trace: &tr, ServerName: srv.ServerName})
	ctx := dvCtx(t)
	if err := s.StartTLS(ctx, srv.TLSConfig()); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if s.HasCap("STARTTLS") {
		t.Errorf("STARTTLS still announced after STARTTLS: %v", s.Caps())
	}
	want := []string{"A1 STARTTLS", "A2 CAPABILITY"}
	if got := dvClientLines(tr.String()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("client lines = %q; want %q", got, want)
	}
	if err := s.StartTLS(ctx, srv.TLSConfig()); err == nil {
		t.Errorf("a second StartTLS succeeded")
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
	if s.State() != session.StateAuth {
		t.Errorf("State() after LOGIN = %v; want AUTH", s.State())
	}
	// Dovecot's LOGIN OK carries [CAPABILITY ...]: no CAPABILITY command
	// follows, and the capabilities are the new ones.
	want = append(want, "A3 LOGIN alice ***")
	if got := dvClientLines(tr.String()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("client lines = %q; want %q", got, want)
	}
	if !s.HasCap("QUOTA") || !s.HasCap("METADATA") {
		t.Errorf("capabilities after LOGIN lack QUOTA, METADATA: %v", s.Caps())
	}
	if _, err := s.Capabilities(ctx); err != nil {
		t.Fatal(err)
	}
	if got := dvClientLines(tr.String()); len(got) != len(want) {
		t.Errorf("Capabilities() after LOGIN's CAPABILITY code sent %q", got[len(want):])
	}
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	if err := s.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
}

func TestDovecotImplicitTLS(t *testing.T) {
	dvParallel(t)
	srv := dvServer(t)
	ctx := dvCtx(t)
	conn, err := transport.DialTLS(ctx, srv.TLSAddr, srv.TLSConfig(), nil)
	if err != nil {
		t.Fatalf("DialTLS: %v", err)
	}
	s := dvOpen(t, conn, nil)
	if s.State() != session.StateNonAuth || s.HasCap("STARTTLS") {
		t.Errorf("State() = %v, caps %v; want NONAUTH without STARTTLS", s.State(), s.Caps())
	}
	if err := s.StartTLS(ctx, srv.TLSConfig()); err == nil {
		t.Errorf("StartTLS on a TLS connection succeeded")
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
	r := dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	if n := lastExists(r.Data); n != dvSeedCount {
		t.Errorf("EXAMINE INBOX: %d EXISTS; want %d", n, dvSeedCount)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
}

func TestDovecotPreauthStream(t *testing.T) {
	dvParallel(t)
	srv := dvServer(t)
	ctx := dvCtx(t)
	argv := srv.StreamCommand(testserver.Alice)
	conn, err := transport.Exec(ctx, argv[0], argv[1:]...)
	if err != nil {
		t.Fatalf("Command: %v", err)
	}
	s := dvOpen(t, conn, nil)
	if w := s.Welcome(); w.Kind != codec.StatusPREAUTH {
		t.Errorf("greeting %v; want PREAUTH", w.Kind)
	}
	if s.State() != session.StateAuth {
		t.Fatalf("State() = %v; want AUTH", s.State())
	}
	// LOGIN is refused locally in AUTH.
	var se *session.StateError
	if _, err := s.Run(ctx, dvLoginCmd("alice", "pass")); !errors.As(err, &se) {
		t.Errorf("LOGIN in AUTH: %v; want *StateError", err)
	}
	r := dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	if n := lastExists(r.Data); n != dvSeedCount {
		t.Errorf("SELECT INBOX: %d EXISTS; want %d", n, dvSeedCount)
	}
	if s.State() != session.StateSelected {
		t.Errorf("State() = %v; want SELECTED", s.State())
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	select {
	case <-conn.Done():
	case <-time.After(dvHang):
		t.Errorf("the imap process is still running after Logout")
	}
}

// ---- states ----

func TestDovecotStateTransitions(t *testing.T) {
	dvParallel(t)
	s := dvDialPlain(t, nil)
	ctx := dvCtx(t)
	check := func(step string, want session.State) {
		t.Helper()
		if got := s.State(); got != want {
			t.Errorf("after %s: State() = %v; want %v", step, got, want)
		}
	}
	check("greeting", session.StateNonAuth)
	dvLogin(t, s, testserver.Alice, testserver.Password)
	check("LOGIN", session.StateAuth)
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	check("SELECT", session.StateSelected)

	_, err := s.Run(ctx, dvMailboxCmd("SELECT", "no-such-mailbox"))
	if !errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad) {
		t.Fatalf("SELECT of a missing mailbox: %v; want ErrNo", err)
	}
	var se *session.StatusError
	if !errors.As(err, &se) || se.Command != "SELECT" {
		t.Fatalf("SELECT of a missing mailbox: %#v; want *StatusError", err)
	}
	// Dovecot 2.3 sends no code here; NONEXISTENT or TRYCREATE are the
	// codes other servers send.
	if c := se.Code(); c != nil && c.Kind != codec.CodeNonExistent && c.Kind != codec.CodeTryCreate {
		t.Errorf("SELECT of a missing mailbox: code %v", c.Kind)
	}
	check("a failed SELECT", session.StateAuth)

	r := dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	check("EXAMINE", session.StateSelected)
	if r.Status.Code == nil || r.Status.Code.Kind != codec.CodeReadOnly {
		t.Errorf("EXAMINE: %+v; want OK [READ-ONLY]", r.Status)
	}
	dvRun(t, s, &session.Command{Name: "CLOSE"})
	check("CLOSE", session.StateAuth)
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	dvRun(t, s, &session.Command{Name: "UNSELECT"})
	check("UNSELECT", session.StateAuth)
	if err := s.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	check("LOGOUT", session.StateLogout)
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); !errors.Is(err, session.ErrClosed) {
		t.Errorf("NOOP after Logout: %v; want ErrClosed", err)
	}
}

func TestDovecotStateRefusedLocally(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dvDialPlain(t, &session.Options{Trace: &tr})
	ctx := dvCtx(t)
	cases := []struct {
		state session.State
		cmd   *session.Command
		msg   string
	}{
		{session.StateNonAuth, dvMailboxCmd("SELECT", "INBOX"), "command SELECT illegal in state NONAUTH, only allowed in states AUTH, SELECTED (log in first)"},
		{session.StateNonAuth, &session.Command{Name: "enable", Args: dvRaw("CONDSTORE")}, "command ENABLE illegal in state NONAUTH, only allowed in states AUTH (log in first)"},
		{session.StateAuth, &session.Command{Name: "FETCH", Args: dvRaw("1 (UID)")}, "command FETCH illegal in state AUTH, only allowed in states SELECTED (select a mailbox first)"},
		{session.StateAuth, &session.Command{Name: "UID FETCH", Args: dvRaw("1 (UID)")}, "command UID FETCH illegal in state AUTH, only allowed in states SELECTED (select a mailbox first)"},
		{session.StateAuth, dvLoginCmd("alice", "pass"), "command LOGIN illegal in state AUTH, only allowed in states NONAUTH"},
		{session.StateSelected, &session.Command{Name: "ENABLE", Args: dvRaw("CONDSTORE")}, "command ENABLE illegal in state SELECTED, only allowed in states AUTH"},
	}
	for _, c := range cases {
		switch c.state {
		case session.StateAuth:
			if s.State() == session.StateNonAuth {
				dvLogin(t, s, testserver.Alice, testserver.Password)
			}
		case session.StateSelected:
			if s.State() != session.StateSelected {
				dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
			}
		}
		before := tr.String()
		_, err := s.Run(ctx, c.cmd)
		var se *session.StateError
		if !errors.As(err, &se) {
			t.Errorf("%s in %v: %v; want *StateError", c.cmd.Name, c.state, err)
			continue
		}
		if se.State != c.state {
			t.Errorf("%s: StateError.State = %v; want %v", c.cmd.Name, se.State, c.state)
		}
		if got := strings.TrimPrefix(err.Error(), "session: "); got != c.msg {
			t.Errorf("%s in %v: %q; want imaplib's words (and a hint) %q", c.cmd.Name, c.state, got, c.msg)
		}
		if errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad) || errors.Is(err, session.ErrAborted) {
			t.Errorf("%s: StateError matches a status sentinel", c.cmd.Name)
		}
		if after := tr.String(); after != before {
			t.Errorf("%s in %v: sent %q", c.cmd.Name, c.state, strings.TrimPrefix(after, before))
		}
	}
	// AnyState lets the command go: the server answers.
	_, err := s.Run(ctx, &session.Command{Name: "ENABLE", Args: dvRaw("CONDSTORE"), AnyState: true})
	if !errors.Is(err, session.ErrBad) && !errors.Is(err, session.ErrNo) && err != nil {
		t.Errorf("ENABLE with AnyState in SELECTED: %v", err)
	}
	if !strings.Contains(tr.String(), "C: A") || !strings.Contains(tr.String(), " ENABLE CONDSTORE") {
		t.Errorf("ENABLE with AnyState was not sent")
	}
	dvRun(t, s, &session.Command{Name: "NOOP"})
}

func TestDovecotBadLogin(t *testing.T) {
	dvParallel(t)
	const pw = "Wr0ng-S3cret-pw"
	var tr, logs dvBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := dvDialPlain(t, &session.Options{Trace: &tr, Logger: logger})
	start := time.Now()
	_, err := s.Run(dvCtx(t), dvLoginCmd(testserver.Alice, pw))
	t.Logf("failed LOGIN answered in %v", time.Since(start).Round(time.Millisecond))
	if !errors.Is(err, session.ErrNo) {
		t.Fatalf("LOGIN with a wrong password: %v; want ErrNo", err)
	}
	var se *session.StatusError
	if !errors.As(err, &se) || se.Code() == nil || se.Code().Kind != codec.CodeAuthenticationFailed {
		t.Errorf("LOGIN with a wrong password: %v; want [AUTHENTICATIONFAILED]", err)
	}
	for what, text := range map[string]string{"trace": tr.String(), "error": err.Error(), "log": logs.String()} {
		if strings.Contains(text, pw) {
			t.Errorf("the password is in the %s: %q", what, text)
		}
	}
	if !strings.Contains(tr.String(), "C: A1 LOGIN alice ***") {
		t.Errorf("trace %q lacks the redacted LOGIN", tr.String())
	}
	if s.State() != session.StateNonAuth {
		t.Errorf("State() = %v; want NONAUTH", s.State())
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
	if s.State() != session.StateAuth {
		t.Errorf("State() = %v; want AUTH", s.State())
	}
}

func TestDovecotBad(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	for _, cmd := range []*session.Command{
		{Name: "XBOGUS", Args: dvRaw("1 2 3")},
		{Name: "FETCH", AnyState: true, Args: dvRaw("1:* (NO-SUCH-ITEM)")},
		{Name: "UID", AnyState: true},
	} {
		r, err := s.Run(ctx, cmd)
		if !errors.Is(err, session.ErrBad) || errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrAborted) {
			t.Errorf("%s: %v; want ErrBad", cmd.Name, err)
			continue
		}
		if r == nil || r.Status == nil || r.Status.Kind != codec.StatusBAD {
			t.Errorf("%s: result %+v; want the tagged BAD", cmd.Name, r)
		}
	}
	// The session goes on.
	dvRun(t, s, &session.Command{Name: "NOOP"})
	if s.State() != session.StateSelected || s.Err() != nil {
		t.Errorf("after BAD: State() = %v, Err() = %v", s.State(), s.Err())
	}
}

// ---- APPEND and literals ----

func TestDovecotAppendLiteralPlus(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dvDialUser(t, testserver.Alice, &session.Options{Trace: &tr})
	mbox := dvNewMailbox(t, testserver.Alice, nil)
	msg := dvMessage("literal plus", 10000)
	r := dvRun(t, s, appendCmd(mbox, msg))
	uid := appendedUID(t, r)
	trace := tr.String()
	if !strings.Contains(trace, fmt.Sprintf("{%d+}", len(msg))) {
		t.Errorf("trace %q: want a non-synchronizing literal {%d+}", trace, len(msg))
	}
	if strings.Contains(trace, "S: + ") {
		t.Errorf("the server sent a continuation request for a LITERAL+ literal")
	}
	dvRun(t, s, dvMailboxCmd("EXAMINE", mbox))
	if got := fetchBody(t, s, uid); !bytes.Equal(got, msg) {
		t.Errorf("appended message differs: %d bytes; want %d", len(got), len(msg))
	}
}

func TestDovecotAppendSynchronizingLiteral(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dialLiteralMinus(t, testserver.Alice, &session.Options{Trace: &tr}, &dvRewriteConn{})
	mbox := dvNewMailbox(t, testserver.Alice, nil)

	big := dvMessage("synchronizing", 10000) // > 4096: {n}, waits for "+"
	small := dvMessage("small", 1000)        // <= 4096: {n+}
	streamed := dvMessage("streamed", 20000) // LiteralReader, {n}
	var uids []uint32
	for _, c := range []struct {
		msg  []byte
		cmd  *session.Command
		sync bool
	}{
		{big, appendCmd(mbox, big), true},
		{small, appendCmd(mbox, small), false},
		{streamed, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox(mbox).SP().LiteralReader(int64(len(streamed)), bytes.NewReader(streamed), false)
		}}, true},
	} {
		before := tr.String()
		r := dvRun(t, s, c.cmd)
		uids = append(uids, appendedUID(t, r))
		trace := strings.TrimPrefix(tr.String(), before)
		hdr := fmt.Sprintf("{%d}", len(c.msg))
		if !c.sync {
			hdr = fmt.Sprintf("{%d+}", len(c.msg))
		}
		if !strings.Contains(trace, hdr) {
			t.Errorf("APPEND of %d bytes: trace %q lacks %s", len(c.msg), trace, hdr)
		}
		if got := strings.Contains(trace, "S: + "); got != c.sync {
			t.Errorf("APPEND of %d bytes: continuation request seen = %v; want %v (trace %q)", len(c.msg), got, c.sync, trace)
		}
	}
	dvRun(t, s, dvMailboxCmd("EXAMINE", mbox))
	for i, msg := range [][]byte{big, small, streamed} {
		if got := fetchBody(t, s, uids[i]); !bytes.Equal(got, msg) {
			t.Errorf("message %d differs: %d bytes; want %d", i, len(got), len(msg))
		}
	}
}

// TestDovecotAppendOverQuota sends a synchronizing literal that does not
// fit TinyUser's quota: whether Dovecot refuses it before or after the
// literal, the command ends with NO [OVERQUOTA] and the session goes on.
func TestDovecotAppendOverQuota(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dialLiteralMinus(t, testserver.TinyUser, &session.Options{Trace: &tr}, &dvRewriteConn{})
	msg := dvMessage("too big for tiny", 64<<10)
	_, err := s.Run(dvCtx(t), appendCmd("INBOX", msg))
	var se *session.StatusError
	if !errors.As(err, &se) || !errors.Is(err, session.ErrNo) {
		t.Fatalf("APPEND over quota: %v; want a NO", err)
	}
	if c := se.Code(); c == nil || c.Kind != codec.CodeOverQuota {
		t.Errorf("APPEND over quota: %v; want [OVERQUOTA]", err)
	}
	t.Logf("literal refused before it was sent: %v", !strings.Contains(tr.String(), "S: + "))
	dvRun(t, s, &session.Command{Name: "NOOP"})
}

// ---- pipelining ----

func TestDovecotPipelining(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	mailboxes := []string{"INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"}
	const n = 100
	cmds := make([]*session.Command, n)
	for i := range cmds {
		switch i % 3 {
		case 0:
			cmds[i] = &session.Command{Name: "UID FETCH", Args: dvRaw(fmt.Sprintf("%d (UID RFC822.SIZE)", i%dvSeedCount+1))}
		case 1:
			cmds[i] = &session.Command{Name: "NOOP"}
		case 2:
			cmds[i] = &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) {
				e.SP().Mailbox(mailboxes[i%len(mailboxes)]).SP().Raw("(MESSAGES UIDNEXT)")
			}}
		}
	}
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil || len(ps) != n {
		t.Fatalf("StartBatch: %d started, %v", len(ps), err)
	}
	sizes := map[uint32]int64{}
	for i, p := range ps {
		r, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("command %d (%s): %v", i, cmds[i].Name, err)
		}
		if r.Tag != p.Tag() || string(r.Status.Tag) != p.Tag() {
			t.Errorf("command %d: result tag %q, status tag %q; want %q", i, r.Tag, r.Status.Tag, p.Tag())
		}
		switch i % 3 {
		case 0:
			uid := uint32(i%dvSeedCount + 1)
			if len(r.Data) != 1 {
				t.Errorf("UID FETCH %d: %d responses: %s", uid, len(r.Data), dvDescribe(r.Data))
				continue
			}
			f, ok := r.Data[0].(*codec.Fetch)
			if !ok || f.UID != uid || f.Seq != uid {
				t.Errorf("UID FETCH %d: got %+v", uid, r.Data[0])
				continue
			}
			if old, seen := sizes[uid]; seen && old != f.RFC822Size {
				t.Errorf("UID %d: size %d, earlier %d", uid, f.RFC822Size, old)
			}
			sizes[uid] = f.RFC822Size
		case 1:
			if len(r.Data) != 0 {
				t.Errorf("NOOP got data: %s", dvDescribe(r.Data))
			}
		case 2:
			want := mailboxes[i%len(mailboxes)]
			if len(r.Data) != 1 {
				t.Errorf("STATUS %s: %d responses", want, len(r.Data))
				continue
			}
			st, ok := r.Data[0].(*codec.MailboxStatus)
			if !ok || string(st.Mailbox) != want || !st.Has(codec.StatusMessages) {
				t.Errorf("STATUS %s: got %+v", want, r.Data[0])
				continue
			}
			if want == "INBOX" && st.Messages != dvSeedCount {
				t.Errorf("STATUS INBOX: MESSAGES %d; want %d", st.Messages, dvSeedCount)
			}
		}
	}
	for uid, size := range sizes {
		if want := int64(len(testserver.SampleMessage(int(uid) - 1))); size != want {
			t.Errorf("UID %d: RFC822.SIZE %d; want %d", uid, size, want)
		}
	}
}

// uidWant is a Want that takes the FETCH responses of one UID: how a
// caller pipelines FETCH commands whose data the server may interleave.
func uidWant(uid uint32) func(codec.Response) bool {
	return func(r codec.Response) bool {
		f, ok := r.(*codec.Fetch)
		return ok && f.UID == uid
	}
}

// TestDovecotPipeliningWant is TestDovecotPipelining with a Want per UID
// FETCH: Dovecot runs pipelined FETCH commands in parallel and sends their
// data before the tagged OKs, so only the UID tells whose data it is.
func TestDovecotPipeliningWant(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	const n = 100
	cmds := make([]*session.Command, n)
	for i := range cmds {
		uid := uint32(i%dvSeedCount + 1)
		cmds[i] = &session.Command{Name: "UID FETCH", Args: dvRaw(fmt.Sprintf("%d (UID FLAGS)", uid)), Want: uidWant(uid)}
		if i%2 == 1 {
			cmds[i] = &session.Command{Name: "NOOP"}
		}
	}
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil || len(ps) != n {
		t.Fatalf("StartBatch: %d started, %v", len(ps), err)
	}
	for i, p := range ps {
		r, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		if i%2 == 1 {
			continue
		}
		uid := uint32(i%dvSeedCount + 1)
		if len(r.Data) != 1 || r.Data[0].(*codec.Fetch).UID != uid {
			t.Errorf("UID FETCH %d: %s", uid, dvDescribe(r.Data))
		}
	}
}

// TestDovecotConcurrentCommands runs commands from many goroutines at once.
func TestDovecotConcurrentCommands(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := 0; g < 6; g++ { // 30 distinct UIDs: a Want by UID must be unique
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				uid := uint32((g*5+i)%dvSeedCount + 1)
				r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: dvRaw(fmt.Sprintf("%d (UID)", uid)), Want: uidWant(uid)})
				if err != nil {
					errs <- err
					return
				}
				if len(r.Data) != 1 || r.Data[0].(*codec.Fetch).UID != uid {
					errs <- fmt.Errorf("UID FETCH %d: %s", uid, dvDescribe(r.Data))
				}
				if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// ---- FETCH streaming ----

func TestDovecotFetchSections(t *testing.T) {
	dvParallel(t)
	// A string limit far below the message size: only streaming works.
	s := dvDialUser(t, testserver.Alice, &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 8 << 10}})
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	const big = 5 // SampleMessage(4): about 100 KB
	want := testserver.SampleMessage(big - 1)
	if len(want) < 90_000 {
		t.Fatalf("sample message %d is %d bytes; want a large one", big-1, len(want))
	}
	bodies := map[uint32]*bytes.Buffer{}
	var calls int
	r := dvRun(t, s, &session.Command{
		Name: "UID FETCH",
		Args: dvRaw("1:10 (UID BODY.PEEK[])"),
		Sections: func(f *codec.Fetch, sec *codec.Section, r io.Reader) error {
			calls++
			if f.UID == 0 || sec.Kind != codec.SectionBody {
				return fmt.Errorf("section %v of UID %d", sec.Kind, f.UID)
			}
			b := new(bytes.Buffer)
			bodies[f.UID] = b
			_, err := io.Copy(b, r)
			return err
		},
	})
	if calls != 10 || len(r.Data) != 10 {
		t.Fatalf("handler called %d times, %d FETCH responses; want 10", calls, len(r.Data))
	}
	for _, d := range r.Data {
		f := d.(*codec.Fetch)
		if len(f.Sections) != 1 || !f.Sections[0].Streamed || f.Sections[0].Data != nil {
			t.Errorf("UID %d: sections %+v; want one streamed section", f.UID, f.Sections)
		}
	}
	for uid := uint32(1); uid <= 10; uid++ {
		b := bodies[uid]
		if b == nil || !bytes.Equal(b.Bytes(), testserver.SampleMessage(int(uid)-1)) {
			t.Errorf("UID %d: streamed body differs from the sample", uid)
		}
	}
	if bodies[big].Len() != len(want) {
		t.Errorf("large body: %d bytes; want %d", bodies[big].Len(), len(want))
	}
	dvRun(t, s, &session.Command{Name: "NOOP"})
}

// ---- unsolicited data ----

func TestDovecotUnsolicited(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	ev := newDvEvents()
	mbox := dvNewMailbox(t, testserver.Alice, testserver.SampleMessages(3))
	a := dvDialUser(t, testserver.Alice, &session.Options{OnUnsolicited: ev.add, Trace: &tr})
	b := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	r := dvRun(t, a, dvMailboxCmd("SELECT", mbox))
	if n := lastExists(r.Data); n != 3 {
		t.Fatalf("SELECT: %d EXISTS; want 3", n)
	}
	// SELECT's EXISTS and RECENT reach the stream too (mailbox state).
	ev.waitFor(t, dvHang, func(l []codec.Response) bool { return lastExists(l) == 3 })
	if l := a.Responses("EXISTS"); len(l) == 0 || l[len(l)-1].(*codec.Exists).Count != 3 {
		t.Errorf("Responses(EXISTS) after SELECT = %s", dvDescribe(l))
	}
	if l := a.Responses("exists"); len(l) != 0 {
		t.Errorf("Responses(EXISTS) did not pop: %s", dvDescribe(l))
	}
	a.Responses("RECENT")
	ev.take()

	// Another session adds two messages; NOOP brings the news.
	dvRun(t, b, appendCmd(mbox, dvMessage("news one", 500)))
	dvRun(t, b, appendCmd(mbox, dvMessage("news two", 500)))
	r = dvRun(t, a, &session.Command{Name: "NOOP"})
	got := ev.waitFor(t, dvHang, func(l []codec.Response) bool {
		if len(l) == 0 {
			return false
		}
		r, ok := l[len(l)-1].(*codec.Recent)
		return lastExists(l) == 5 && ok && r.Count == 5
	})
	// EXISTS comes before RECENT, in the server's order. RECENT counts
	// every message with \Recent: the three seeded ones too.
	iExists, iRecent := -1, -1
	for i, x := range got {
		switch x := x.(type) {
		case *codec.Exists:
			iExists = i
		case *codec.Recent:
			if x.Count == 5 {
				iRecent = i
			}
		}
	}
	if iExists < 0 || iRecent < iExists {
		t.Errorf("unsolicited %s; want 5 EXISTS then 5 RECENT", dvDescribe(got))
	}
	if len(r.Data) != 0 {
		t.Errorf("NOOP's data %s; want none (it is unsolicited)", dvDescribe(r.Data))
	}
	if l := a.Responses("EXISTS"); lastExists(l) != 5 {
		t.Errorf("Responses(EXISTS) = %s; want 5 EXISTS", dvDescribe(l))
	}
	if l := a.Responses("EXISTS"); len(l) != 0 {
		t.Errorf("second Responses(EXISTS) = %s; want none", dvDescribe(l))
	}

	// Recent: stored RECENT data first, without a command.
	before := len(dvClientLines(tr.String()))
	if l, err := a.Recent(ctx); err != nil || len(l) == 0 || l[len(l)-1].(*codec.Recent).Count != 5 {
		t.Errorf("Recent() = %s, %v; want the stored 5 RECENT", dvDescribe(l), err)
	}
	if n := len(dvClientLines(tr.String())); n != before {
		t.Errorf("Recent() with stored data sent a command")
	}
	// Nothing stored: NOOP prods the server.
	dvRun(t, b, appendCmd(mbox, dvMessage("news three", 500)))
	l, err := a.Recent(ctx)
	if err != nil || len(l) == 0 || l[len(l)-1].(*codec.Recent).Count != 6 {
		t.Errorf("Recent() = %s, %v; want 6 RECENT", dvDescribe(l), err)
	}
	if c := dvClientLines(tr.String()); len(c) != before+1 || !strings.HasSuffix(c[len(c)-1], " NOOP") {
		t.Errorf("Recent() without stored data sent %q; want one NOOP", c[before:])
	}
	ev.waitFor(t, dvHang, func(l []codec.Response) bool { return lastExists(l) == 6 })
}

// dvDeadlineConn records the read deadline the session last gave the
// connection.
type dvDeadlineConn struct {
	net.Conn
	mu   sync.Mutex
	read time.Time
	set  int // SetReadDeadline calls
}

func (c *dvDeadlineConn) SetReadDeadline(d time.Time) error {
	c.mu.Lock()
	c.read, c.set = d, c.set+1
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(d)
}

// readDeadline returns the read deadline the connection holds, and how
// many times one was set.
func (c *dvDeadlineConn) readDeadline() (time.Time, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read, c.set
}

// TestDovecotIdle: IDLE against Dovecot, a message appended by another
// session announced during it, a NOOP held until DONE. IDLE is exempt
// from the stall timeout from its "+" until DONE: the connection holds
// no read deadline meanwhile, so no stall timeout can pass (checked on
// the deadline the session gives the connection, where this test slept
// 4.5 s past a 4 s StallTimeout before; that the exemption holds over
// time is TestStallIdleAfterDone's, on the bubble's clock).
func TestDovecotIdle(t *testing.T) {
	dvParallel(t)
	ev := newDvEvents()
	mbox := dvNewMailbox(t, testserver.Alice, testserver.SampleMessages(2))
	raw, err := transport.Dial(dvCtx(t), dvServer(t).PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	dc := &dvDeadlineConn{Conn: raw}
	a := dvOpen(t, dc, &session.Options{OnUnsolicited: ev.add})
	dvLogin(t, a, testserver.Alice, testserver.Password)
	b := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	dvRun(t, a, dvMailboxCmd("SELECT", mbox))
	if d, n := dc.readDeadline(); n == 0 || !d.IsZero() {
		t.Fatalf("after SELECT: read deadline %v after %d settings; want the stall timeout set and cleared", d, n)
	}
	ev.take()
	p, err := a.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-time.After(dvHang):
		t.Fatal("no continuation request for IDLE")
	}
	// IDLE runs alone: a NOOP started now waits for DONE.
	noop := make(chan error, 1)
	go func() {
		_, err := a.Run(ctx, &session.Command{Name: "NOOP"})
		noop <- err
	}()
	dvRun(t, b, appendCmd(mbox, dvMessage("while idling", 500)))
	got := ev.waitFor(t, dvHang, func(l []codec.Response) bool { return lastExists(l) == 3 })
	t.Logf("during IDLE: %s", dvDescribe(got))
	// The "+" and the EXISTS were read and handled: the read for what
	// comes next waits with no deadline (a stall timeout would cut it).
	if d, _ := dc.readDeadline(); !d.IsZero() {
		t.Fatalf("during IDLE, after its \"+\": the connection's read deadline is %v (%v ahead); want none: IDLE is exempt from the stall timeout", d.Format(time.RFC3339Nano), time.Until(d).Round(time.Millisecond))
	}
	select {
	case err := <-noop:
		t.Fatalf("NOOP ran during IDLE: %v", err)
	default:
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	r, err := p.Wait(ctx)
	if err != nil || r.Status.Kind != codec.StatusOK {
		t.Fatalf("IDLE: %v, %v", r, err)
	}
	if err := <-noop; err != nil {
		t.Errorf("NOOP after IDLE: %v", err)
	}
	if a.State() != session.StateSelected || a.Err() != nil {
		t.Errorf("after IDLE: State() = %v, Err() = %v", a.State(), a.Err())
	}
}

// ---- cancellation and closing ----

// The server is made slow by holding back its answers (dvGateConn).

func TestDovecotCancelWait(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s, gate := dvDialGate(t, &session.Options{Trace: &tr})
	gate.shut()
	p, err := s.Start(dvCtx(t), dvLoginCmd(testserver.Alice, testserver.Password))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// What ended the wait is checked, not how long it took (a loaded
	// machine stretched that past a second): the context's own error,
	// not a stall timeout's or the session's, while the LOGIN, its
	// answer held back by the gate, has not ended. The minute is a hang
	// detector only.
	waited := make(chan error, 1)
	go func() {
		_, err := p.Wait(ctx)
		waited <- err
	}()
	select {
	case err := <-waited:
		if err == nil || err != ctx.Err() {
			t.Fatalf("Wait: %v; want the context's own error %v", err, ctx.Err())
		}
	case <-time.After(time.Minute):
		t.Fatal("Wait did not return when its context ended")
	}
	select {
	case <-p.Done():
		t.Fatal("the LOGIN ended while the gate held its answer back: Wait was not ended by its context")
	default:
	}
	// A command that must wait its turn (LOGIN runs alone) gives up
	// without being sent.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := s.Run(ctx2, &session.Command{Name: "NOOP"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("NOOP behind LOGIN: %v; want context.DeadlineExceeded", err)
	}
	// The session goes on: the late OK is consumed in the background.
	gate.release()
	select {
	case <-p.Done():
	case <-time.After(dvHang):
		t.Fatal("the cancelled LOGIN never ended")
	}
	if r, err := p.Wait(dvCtx(t)); err != nil || r.Status.Kind != codec.StatusOK {
		t.Errorf("the cancelled LOGIN ended with %v, %v; want its OK", r, err)
	}
	if s.State() != session.StateAuth || s.Err() != nil {
		t.Errorf("State() = %v, Err() = %v", s.State(), s.Err())
	}
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	want := []string{"A1 LOGIN alice ***", "A2 EXAMINE INBOX"}
	if got := dvClientLines(tr.String()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("client lines %q; want %q", got, want)
	}
}

func TestDovecotCloseInFlight(t *testing.T) {
	s, gate := dvDialGate(t, nil)
	ctx := dvCtx(t)
	gate.shut()
	p, err := s.Start(ctx, dvLoginCmd(testserver.Alice, testserver.Password))
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		queued <- err
	}()
	for deadline := time.Now().Add(hangBound); session.Waiting(s) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the NOOP waits behind LOGIN
	}
	s.Close()
	if _, err := p.Wait(ctx); !errors.Is(err, session.ErrClosed) {
		t.Errorf("LOGIN in flight at Close: %v; want ErrClosed", err)
	}
	if err := <-queued; !errors.Is(err, session.ErrClosed) {
		t.Errorf("NOOP waiting at Close: %v; want ErrClosed", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); !errors.Is(err, session.ErrClosed) || errors.Is(err, session.ErrAborted) {
		t.Errorf("NOOP after Close: %v; want ErrClosed", err)
	}
	if s.State() != session.StateLogout {
		t.Errorf("State() after Close = %v; want LOGOUT", s.State())
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// IDLE in flight.
	s = dvDialUser(t, testserver.Alice, nil)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	p, err = s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Continuations()
	s.Close()
	if _, err := p.Wait(ctx); !errors.Is(err, session.ErrClosed) {
		t.Errorf("IDLE in flight at Close: %v; want ErrClosed", err)
	}
}

func TestDovecotLogout(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dvDialUser(t, testserver.Alice, &session.Options{Trace: &tr})
	if err := s.Logout(dvCtx(t)); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if !strings.Contains(tr.String(), "S: * BYE") {
		t.Errorf("no BYE in the trace %q", tr.String())
	}
	if s.State() != session.StateLogout {
		t.Errorf("State() = %v; want LOGOUT", s.State())
	}
	// Logging out of a closed session is a no-op.
	if err := s.Logout(dvCtx(t)); err != nil && !errors.Is(err, session.ErrClosed) {
		t.Errorf("second Logout: %v; want nil or ErrClosed", err)
	}
	if _, err := s.Run(dvCtx(t), &session.Command{Name: "NOOP"}); !errors.Is(err, session.ErrClosed) || errors.Is(err, session.ErrAborted) {
		t.Errorf("NOOP after Logout: %v; want ErrClosed", err)
	}
}

// ---- extensions ----

func TestDovecotID(t *testing.T) {
	dvParallel(t)
	s := dvDialPlain(t, nil) // ID works in every state
	r := dvRun(t, s, &session.Command{Name: "ID", Args: func(e *wire.Encoder) {
		e.SP().List(func(e *wire.Encoder) { e.String("name").SP().String("imapkit-test") })
	}})
	if len(r.Data) != 1 {
		t.Fatalf("ID: %s", dvDescribe(r.Data))
	}
	id := r.Data[0].(*codec.ID)
	found := false
	for _, p := range id.Params {
		found = found || (strings.EqualFold(string(p.Name), "name") && string(p.Value) == "Dovecot")
	}
	if !found {
		t.Errorf("ID params %q; want name Dovecot", id.Params)
	}
}

func TestDovecotQuota(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.TinyUser, nil)
	r := dvRun(t, s, dvMailboxCmd("GETQUOTAROOT", "INBOX"))
	var root *codec.QuotaRoot
	var quota *codec.Quota
	for _, d := range r.Data {
		switch d := d.(type) {
		case *codec.QuotaRoot:
			root = d
		case *codec.Quota:
			quota = d
		}
	}
	if root == nil || quota == nil {
		t.Fatalf("GETQUOTAROOT: %s; want QUOTAROOT and QUOTA", dvDescribe(r.Data))
	}
	if string(root.Mailbox) != "INBOX" || len(root.Roots) == 0 || string(root.Roots[0]) != string(quota.Root) {
		t.Errorf("QUOTAROOT %q %q, QUOTA root %q", root.Mailbox, root.Roots, quota.Root)
	}
	ok := false
	for _, res := range quota.Resources {
		ok = ok || (string(res.Name) == "STORAGE" && res.Limit == testserver.TinyQuotaKiB)
	}
	if !ok {
		t.Errorf("QUOTA resources %+v; want STORAGE limit %d", quota.Resources, testserver.TinyQuotaKiB)
	}
	r = dvRun(t, s, &session.Command{Name: "GETQUOTA", Args: func(e *wire.Encoder) { e.SP().AStringBytes(quota.Root) }})
	if len(r.Data) != 1 {
		t.Errorf("GETQUOTA: %s", dvDescribe(r.Data))
	}
}

func TestDovecotMetadata(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	mbox := dvNewMailbox(t, testserver.Alice, nil)
	const entry, value = "/private/comment", "hello from imapkit\r\nsecond line"
	dvRun(t, s, &session.Command{Name: "SETMETADATA", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(mbox).SP().List(func(e *wire.Encoder) { e.AString(entry).SP().String(value) })
	}})
	get := &session.Command{Name: "GETMETADATA", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(mbox).SP().List(func(e *wire.Encoder) { e.AString(entry).SP().AString("/private/nothing") })
	}}
	r := dvRun(t, s, get)
	if len(r.Data) != 1 {
		t.Fatalf("GETMETADATA: %s", dvDescribe(r.Data))
	}
	md := r.Data[0].(*codec.Metadata)
	if string(md.Mailbox) != mbox || !md.Values || len(md.Entries) == 0 ||
		string(md.Entries[0].Name) != entry || string(md.Entries[0].Value) != value {
		t.Errorf("METADATA %q %+v", md.Mailbox, md.Entries)
	}
	// Delete it with NIL.
	dvRun(t, s, &session.Command{Name: "SETMETADATA", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(mbox).SP().List(func(e *wire.Encoder) { e.AString(entry).SP().NString(nil) })
	}})
	r = dvRun(t, s, get)
	for _, d := range r.Data {
		for _, en := range d.(*codec.Metadata).Entries {
			if string(en.Name) == entry && en.Value != nil {
				t.Errorf("entry still set: %q", en.Value)
			}
		}
	}
}

func TestDovecotEnableCondstore(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	r := dvRun(t, s, &session.Command{Name: "ENABLE", Args: dvRaw("CONDSTORE")})
	if len(r.Data) != 1 {
		t.Fatalf("ENABLE: %s", dvDescribe(r.Data))
	}
	if en := r.Data[0].(*codec.Enabled); len(en.Caps) != 1 || !strings.EqualFold(string(en.Caps[0]), "CONDSTORE") {
		t.Errorf("ENABLED %q", en.Caps)
	}
	if s.UTF8Enabled() {
		t.Errorf("UTF8Enabled() after ENABLE CONDSTORE")
	}
	r = dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	found := false
	for _, d := range r.Data {
		if st, ok := d.(*codec.Status); ok && st.Code != nil && st.Code.Kind == codec.CodeHighestModSeq {
			found = st.Code.Num > 0
		}
	}
	if !found {
		t.Errorf("EXAMINE after ENABLE CONDSTORE: no HIGHESTMODSEQ in %s", dvDescribe(r.Data))
	}
	r = dvRun(t, s, &session.Command{Name: "UID FETCH", Args: dvRaw("1 (MODSEQ)")})
	if len(r.Data) != 1 || r.Data[0].(*codec.Fetch).ModSeq == 0 {
		t.Errorf("UID FETCH MODSEQ: %s", dvDescribe(r.Data))
	}
}

// TestDovecotReadOnly selects a mailbox that bob shares with alice with
// lookup and read rights only: Dovecot grants SELECT with [READ-ONLY], and
// the SELECT itself reports imaplib's readonly, with its result; the
// mailbox is selected, read-only, and the next command is not affected.
func TestDovecotReadOnly(t *testing.T) {
	dvParallel(t)
	shared := dvNewMailbox(t, testserver.Bob, testserver.SampleMessages(2))
	bob := dvDialUser(t, testserver.Bob, nil)
	dvRun(t, bob, &session.Command{Name: "SETACL", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(shared).SP().AString(testserver.Alice).SP().AString("lr")
	}})
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	name := "shared/" + testserver.Bob + "/" + shared
	r, err := s.Run(ctx, dvMailboxCmd("SELECT", name))
	var ro *session.ReadOnlyError
	if !errors.Is(err, session.ErrReadOnly) || !errors.As(err, &ro) {
		t.Fatalf("read-only SELECT: %v; want ErrReadOnly", err)
	}
	if r == nil || r.Status.Code == nil || r.Status.Code.Kind != codec.CodeReadOnly {
		t.Fatalf("SELECT %s: %+v; want OK [READ-ONLY] with the error", name, r)
	}
	if mb, readOnly := s.Mailbox(); s.State() != session.StateSelected || mb != name || !readOnly {
		t.Fatalf("after the read-only SELECT: %v, Mailbox() = %q, %v", s.State(), mb, readOnly)
	}
	// The next command is not affected.
	dvRun(t, s, &session.Command{Name: "NOOP"})
	// EXAMINE of the same mailbox is what was asked: no error.
	dvRun(t, s, dvMailboxCmd("EXAMINE", name))
	dvRun(t, s, &session.Command{Name: "NOOP"})
}

// ---- imaplib side by side ----

// imaplibScript runs the flow of TestDovecotImaplib with Python's imaplib
// and prints what it saw as JSON.
const imaplibScript = `
import imaplib, json, sys
host, port, ro = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = {}
M = imaplib.IMAP4(host, port)
out['greeting_state'] = M.state
try:
    M.login('alice', 'Wr0ng-S3cret-pw')
except M.error as e:
    out['bad_login'] = str(e)
M.login('alice', 'pass')
out['login_state'] = M.state
try:
    M.fetch('1', '(UID)')
except M.error as e:
    out['state_error'] = str(e)
typ, dat = M.select('INBOX', readonly=True)
out['examine'] = [typ, dat[0].decode()]
typ, dat = M.fetch('1:3', '(UID)')
out['fetch'] = [typ, len(dat)]
typ, dat = M.response('FETCH')
out['response_fetch'] = len([d for d in dat if d is not None])
typ, dat = M.select('no-such-mailbox')
out['select_missing'] = [typ, M.state]
try:
    M.select(ro)
    M.noop()
    out['readonly'] = 'none'
except M.readonly as e:
    out['readonly'] = str(e)
M.response('READ-ONLY')  # imaplib raises readonly until this pops it
M.logout()
out['logout_state'] = M.state
print(json.dumps(out))
`

// TestDovecotImaplib runs one flow with Python's imaplib and with the
// session against the same Dovecot and compares what they report.
func TestDovecotImaplib(t *testing.T) {
	dvParallel(t)
	srv := dvServer(t)
	shared := dvNewMailbox(t, testserver.Bob, testserver.SampleMessages(1))
	bob := dvDialUser(t, testserver.Bob, nil)
	dvRun(t, bob, &session.Command{Name: "SETACL", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(shared).SP().AString(testserver.Alice).SP().AString("lr")
	}})
	ro := "shared/bob/" + shared
	host, port, _ := net.SplitHostPort(srv.PlainAddr)
	cmd := exec.CommandContext(dvCtx(t), "python3", "-c", imaplibScript, host, port, ro)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 imaplib: %v\n%s%s", err, out, stderr.Bytes())
	}
	var py struct {
		Greeting      string `json:"greeting_state"`
		Login         string `json:"login_state"`
		Logout        string `json:"logout_state"`
		BadLogin      string `json:"bad_login"`
		StateError    string `json:"state_error"`
		Examine       []any  `json:"examine"`
		ResponseFetch int    `json:"response_fetch"`
		SelectMissing []any  `json:"select_missing"`
		ReadOnly      string `json:"readonly"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("imaplib: %s", out)

	s := dvDialPlain(t, nil)
	ctx := dvCtx(t)
	if got := s.State().String(); got != py.Greeting {
		t.Errorf("state after the greeting: %s; imaplib %s", got, py.Greeting)
	}
	_, err = s.Run(ctx, dvLoginCmd("alice", "Wr0ng-S3cret-pw"))
	var se *session.StatusError
	if !errors.As(err, &se) || !strings.Contains(py.BadLogin, "["+string(se.Code().Name)+"]") || !strings.Contains(py.BadLogin, string(se.Status.Text)) {
		t.Errorf("bad LOGIN: %v; imaplib: %s", err, py.BadLogin)
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
	if got := s.State().String(); got != py.Login {
		t.Errorf("state after LOGIN: %s; imaplib %s", got, py.Login)
	}
	_, err = s.Run(ctx, &session.Command{Name: "FETCH", Args: dvRaw("1 (UID)")})
	// imaplib's words, then what to do (StateError's hint).
	if got := strings.TrimPrefix(fmt.Sprint(err), "session: "); got != py.StateError+" (select a mailbox first)" {
		t.Errorf("FETCH in AUTH: %q; imaplib %q and the hint", got, py.StateError)
	}
	r := dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	if got := fmt.Sprint(lastExists(r.Data)); len(py.Examine) != 2 || py.Examine[1] != got {
		t.Errorf("EXAMINE INBOX: %s EXISTS; imaplib %v", got, py.Examine)
	}
	_, err = s.Run(ctx, dvMailboxCmd("SELECT", "no-such-mailbox"))
	if len(py.SelectMissing) != 2 || !errors.Is(err, session.ErrNo) || py.SelectMissing[0] != "NO" || py.SelectMissing[1] != s.State().String() {
		t.Errorf("SELECT of a missing mailbox: %v, state %v; imaplib %v", err, s.State(), py.SelectMissing)
	}
	// imaplib raises readonly from select() ("... is not writable"); so
	// does the session's SELECT, with the mailbox selected.
	_, err = s.Run(ctx, dvMailboxCmd("SELECT", ro))
	if !errors.Is(err, session.ErrReadOnly) || py.ReadOnly == "none" {
		t.Errorf("read-only SELECT: %v; imaplib %q", err, py.ReadOnly)
	}
	if py.ResponseFetch != 0 {
		t.Errorf("imaplib's response('FETCH') after fetch() returned %d", py.ResponseFetch)
	}
	if err := s.Logout(ctx); err != nil || s.State().String() != py.Logout {
		t.Errorf("Logout: %v, state %v; imaplib %s", err, s.State(), py.Logout)
	}
}

// ---- regressions ----
//
// Each test below failed on an earlier version of session.go.

// TestDovecotPipelinedFetchRouting is TestDovecotPipelining reduced: six
// pipelined UID FETCH commands with the default routing. Dovecot runs them
// in parallel and sends "* 1 FETCH" ... "* 4 FETCH" before "A3 OK": routing
// by order gave the oldest UID FETCH the data of the others.
func TestDovecotPipelinedFetchRouting(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	var cmds []*session.Command
	for uid := 1; uid <= 6; uid++ {
		cmds = append(cmds, &session.Command{Name: "UID FETCH", Args: dvRaw(fmt.Sprintf("%d (UID)", uid))})
	}
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		r, err := p.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != 1 || r.Data[0].(*codec.Fetch).UID != uint32(i+1) {
			t.Errorf("UID FETCH %d got the data of UIDs %v", i+1, fetchUIDs(r.Data))
		}
	}
}

func fetchUIDs(l []codec.Response) []uint32 {
	var uids []uint32
	for _, r := range l {
		if f, ok := r.(*codec.Fetch); ok {
			uids = append(uids, f.UID)
		}
	}
	return uids
}

// TestDovecotRunWithCancelledContext: a command started with a context
// that is already done is not sent, and the session goes on. (It used to be
// sent anyway, and the context's AfterFunc, firing after send had reset the
// write deadline, left a deadline in the past on the connection: the next
// command aborted the session with "i/o timeout".)
func TestDovecotRunWithCancelledContext(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dvDialUser(t, testserver.Alice, &session.Options{Trace: &tr})
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := len(dvClientLines(tr.String()))
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); !errors.Is(err, context.Canceled) {
			t.Errorf("NOOP with a cancelled context: %v; want context.Canceled", err)
		}
		if c := dvClientLines(tr.String()); len(c) != before {
			t.Errorf("NOOP with a cancelled context was sent: %q", c[before:])
		}
		if _, err := s.Run(dvCtx(t), &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("the next NOOP: %v", err)
		}
	}
}

// TestDovecotStartBatchOneWrite: StartBatch writes commands that may be
// pipelined in one go (it used to flush after every command).
func TestDovecotStartBatchOneWrite(t *testing.T) {
	dvParallel(t)
	raw, err := transport.Dial(dvCtx(t), dvServer(t).PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn := &connkit.Counting{Conn: raw}
	s := dvOpen(t, conn, nil)
	dvLogin(t, s, testserver.Alice, testserver.Password)
	cmds := make([]*session.Command, 50)
	for i := range cmds {
		cmds[i] = &session.Command{Name: "NOOP"}
	}
	before := conn.Writes.Load()
	ps, err := s.StartBatch(dvCtx(t), cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if _, err := p.Wait(dvCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := conn.Writes.Load() - before; n > 2 {
		t.Errorf("StartBatch of 50 NOOPs (about 500 bytes) took %d writes; want 1", n)
	}
}

// TestDovecotContinuationRouting: the "+" for a synchronizing literal goes
// to the command sending it, not to the newest command in flight: an
// APPEND with a synchronizing literal, and a NOOP started by another
// goroutine while the "+" is on its way (registered, waiting for the write
// lock).
func TestDovecotContinuationRouting(t *testing.T) {
	conn := &dvRewriteConn{holdPlus: make(chan struct{}), sawPlus: make(chan struct{})}
	s := dialLiteralMinus(t, testserver.Alice, nil, conn)
	mbox := dvNewMailbox(t, testserver.Alice, nil)
	ctx, cancel := context.WithTimeout(context.Background(), dvHang)
	defer cancel()
	appendErr := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, appendCmd(mbox, dvMessage("misrouted", 10000)))
		appendErr <- err
	}()
	select {
	case <-conn.sawPlus:
	case <-time.After(dvHang):
		t.Fatal("no continuation request for the APPEND")
	}
	noopErr := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
		noopErr <- err
	}()
	// The NOOP registers and waits for the write lock, which the APPEND
	// holds until its "+": wait for that, so that the "+" comes with a
	// newer command in flight.
	for session.WriteWaiters(s) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the NOOP never waited for the write lock")
		}
		time.Sleep(time.Millisecond)
	}
	close(conn.holdPlus)
	if err := <-appendErr; err != nil {
		t.Errorf("APPEND: %v", err)
	}
	if err := <-noopErr; err != nil {
		t.Errorf("NOOP: %v", err)
	}
}

// TestDovecotCloseFromOnUnsolicited: Close (and so Logout) may be called
// from OnUnsolicited. (It used to wait for the event goroutine, which is
// the caller: a deadlock.)
func TestDovecotCloseFromOnUnsolicited(t *testing.T) {
	dvParallel(t)
	var sp atomic.Pointer[session.Session]
	returned := make(chan struct{})
	var once sync.Once
	conn, err := transport.Dial(dvCtx(t), dvServer(t).PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Not dvOpen: a deadlocked session cannot be closed at the end of the
	// test.
	s, err := session.Open(dvCtx(t), conn, &session.Options{OnUnsolicited: func(r codec.Response) {
		if _, ok := r.(*codec.Exists); ok {
			once.Do(func() {
				sp.Load().Close()
				close(returned)
			})
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	sp.Store(s)
	dvLogin(t, s, testserver.Alice, testserver.Password)
	s.Run(dvCtx(t), dvMailboxCmd("EXAMINE", "INBOX"))
	select {
	case <-returned:
	case <-time.After(dvHang):
		t.Fatal("Close called from OnUnsolicited did not return")
	}
}

// TestDovecotReadOnlyErrorMailbox: ReadOnlyError.Mailbox names the mailbox
// (it used to be empty: "mailbox  is read-only").
func TestDovecotReadOnlyErrorMailbox(t *testing.T) {
	dvParallel(t)
	shared := dvNewMailbox(t, testserver.Bob, testserver.SampleMessages(1))
	bob := dvDialUser(t, testserver.Bob, nil)
	dvRun(t, bob, &session.Command{Name: "SETACL", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(shared).SP().AString(testserver.Alice).SP().AString("lr")
	}})
	s := dvDialUser(t, testserver.Alice, nil)
	name := "shared/bob/" + shared
	_, err := s.Run(dvCtx(t), dvMailboxCmd("SELECT", name))
	var ro *session.ReadOnlyError
	if !errors.As(err, &ro) {
		t.Fatalf("read-only SELECT: %v", err)
	}
	if ro.Mailbox != name {
		t.Errorf("ReadOnlyError.Mailbox = %q (%v); want %q", ro.Mailbox, err, name)
	}
}

// TestDovecotOversizedBodyNotSilent: a FETCH body over MaxStringLiteral
// without a Sections handler is collected whole (imaplib's fetch(n,
// '(RFC822)') of a large message); it used to fail the response, and
// before that to vanish silently. Over MaxResultBytes, the command says so
// and the message's other attributes still arrive.
func TestDovecotOversizedBodyNotSilent(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 8 << 10}})
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	r, err := s.Run(dvCtx(t), &session.Command{Name: "UID FETCH", Args: dvRaw("4:6 (UID BODY.PEEK[])")})
	if err != nil || len(r.Data) != 3 {
		t.Fatalf("UID FETCH 4:6 of a 100 KB message 5 over an 8 KiB string limit: %v, UIDs %v; want all three", err, fetchUIDs(r.Data))
	}
	for _, d := range r.Data {
		if f := d.(*codec.Fetch); f.UID == 5 && (len(f.Sections) != 1 || int64(len(f.Sections[0].Data)) != f.Sections[0].Size || f.Sections[0].Size <= 8<<10) {
			t.Errorf("message 5's body: %d sections", len(f.Sections))
		}
	}
	small := dvDialUser(t, testserver.Alice, &session.Options{MaxResultBytes: 50 << 10})
	dvRun(t, small, dvMailboxCmd("EXAMINE", "INBOX"))
	r, err = small.Run(dvCtx(t), &session.Command{Name: "UID FETCH", Args: dvRaw("5 (UID FLAGS BODY.PEEK[])")})
	if !errors.Is(err, session.ErrResultTooLarge) || r == nil || len(r.Data) != 1 {
		t.Fatalf("over MaxResultBytes: %v, %+v; want ErrResultTooLarge with the FETCH", err, r)
	}
	if f := r.Data[0].(*codec.Fetch); f.UID != 5 || len(f.Sections) != 1 || !f.Sections[0].Missing || f.Has&codec.FetchFlags == 0 {
		t.Fatalf("over MaxResultBytes: UID %d, sections %+v; want UID 5, FLAGS and the body marked missing", f.UID, f.Sections)
	}
}

// TestDovecotResponsesSkipsCommandData: like imaplib's response(name),
// which returns data no command has taken (fetch() pops its FETCH data; see
// TestDovecotImaplib), Responses holds no copy of what a command returned:
// FETCH bodies would pile up otherwise.
func TestDovecotResponsesSkipsCommandData(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	// Message 5 is over the 64 KiB default: not fetched.
	r := dvRun(t, s, &session.Command{Name: "UID FETCH", Args: dvRaw("1:4,6:* (UID BODY.PEEK[])")})
	if len(r.Data) != dvSeedCount-1 {
		t.Errorf("UID FETCH returned %d responses; want %d", len(r.Data), dvSeedCount-1)
	}
	if l := s.Responses("FETCH"); len(l) != 0 {
		t.Errorf("Responses(FETCH) after UID FETCH returned its data: %d responses kept; imaplib keeps none", len(l))
	}
}

// ---- bugs in package session ----
//
// Each test below failed because of a bug in session.go or trace.go. The
// bugs are fixed; the tests stay as regression tests.

// TestBugTraceShowsClientLiterals: Options.Trace says literals are
// summarised as "<N bytes>" unless TraceLiterals is set (imaplib's debug
// output shows "write literal size N", never the bytes), but the bodies of
// the literals the client sends (an APPENDed message) are traced, and
// logged, in full.
func TestBugTraceShowsClientLiterals(t *testing.T) {
	dvParallel(t)
	var tr, logs dvBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := dvDialUser(t, testserver.Alice, &session.Options{Trace: &tr, Logger: logger})
	mbox := dvNewMailbox(t, testserver.Alice, nil)
	const token = "private-body-token-4711"
	msg := []byte("Subject: private\r\n\r\n" + token + "\r\n")
	dvRun(t, s, appendCmd(mbox, msg))
	streamed := dvMessage(token, 6000)
	dvRun(t, s, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Mailbox(mbox).SP().LiteralReader(int64(len(streamed)), bytes.NewReader(streamed), false)
	}})
	for what, text := range map[string]string{"trace": tr.String(), "log": logs.String()} {
		if strings.Contains(text, token) {
			t.Errorf("the %s holds the literal's bytes:\n%s", what, text)
		}
	}
	for _, want := range []string{fmt.Sprintf("<%d bytes>", len(msg)), fmt.Sprintf("<%d bytes>", len(streamed))} {
		if !strings.Contains(tr.String(), want) {
			t.Errorf("the trace lacks %s:\n%s", want, tr.String())
		}
	}
}

// TestBugUIDFetchStarRange: "*" is the largest UID in use, so UID FETCH
// 1000:* on a mailbox whose largest UID is 30 means 30:1000 and returns
// message 30 (RFC 9051 section 9, seq-range: "the range 1000:* is the same
// as *:1000"). It is the usual way to ask for new messages. Routing FETCH
// responses by message set must not drop it as unsolicited.
func TestBugUIDFetchStarRange(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	for _, set := range []string{"1000:*", "*", "*:1000", "29:*"} {
		r := dvRun(t, s, &session.Command{Name: "UID FETCH", Args: dvRaw(set + " (UID)")})
		if uids := fetchUIDs(r.Data); len(uids) == 0 || uids[len(uids)-1] != dvSeedCount {
			t.Errorf("UID FETCH %s: UIDs %v; want the last one, %d", set, uids, dvSeedCount)
		}
	}
	r := dvRun(t, s, &session.Command{Name: "FETCH", Args: dvRaw("* (UID)")})
	if uids := fetchUIDs(r.Data); len(uids) != 1 || uids[0] != dvSeedCount {
		t.Errorf("FETCH *: UIDs %v; want [%d]", uids, dvSeedCount)
	}
}

// TestBugStartBatchWaitsOnUnsent: a batch whose later command must wait
// for the earlier ones (SELECT runs alone) must send them first; otherwise
// they sit in the write buffer while the batch waits for their answers.
func TestBugStartBatchWaitsOnUnsent(t *testing.T) {
	dvParallel(t)
	s := dvDialUser(t, testserver.Alice, nil)
	// A bound against the hang of the fault (2 s before: a loaded
	// machine's Dovecot could take that long to answer).
	ctx, cancel := context.WithTimeout(context.Background(), dvHang)
	defer cancel()
	ps, err := s.StartBatch(ctx, []*session.Command{
		{Name: "NOOP"},
		dvMailboxCmd("EXAMINE", "INBOX"),
		{Name: "UID FETCH", Args: dvRaw("1 (UID)")},
	})
	if err != nil {
		t.Fatalf("StartBatch(NOOP, EXAMINE, UID FETCH): %d started, %v", len(ps), err)
	}
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBugFlushSkippedForFailedWriter: send skips the flush when another
// goroutine waits to write ("its writer flushes both"), but that writer may
// send nothing: here its arguments do not encode. The first command then
// stays in the buffer and its Run never returns.
func TestBugFlushSkippedForFailedWriter(t *testing.T) {
	s := dvDialUser(t, testserver.Alice, nil)
	// A bound against the hang of the fault (2 s before: a loaded
	// machine's Dovecot could take that long to answer).
	ctx, cancel := context.WithTimeout(context.Background(), dvHang)
	defer cancel()
	holding := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		// Args runs with the write lock held: long enough for the
		// second command to queue up behind it.
		_, err := s.Run(ctx, &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) {
			close(holding)
			// Until the second command waits for the write lock (a
			// fixed 100 ms let the first go on alone on a loaded
			// machine, and the test proved nothing).
			for session.WriteWaiters(s) == 0 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}})
		first <- err
	}()
	<-holding
	_, err := s.Run(ctx, &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Atom("not an atom") }})
	var ee *wire.EncodeError
	if !errors.As(err, &ee) {
		t.Errorf("NOOP with bad arguments: %v; want an *EncodeError", err)
	}
	if err := <-first; err != nil {
		t.Errorf("the first NOOP: %v", err)
	}
}

// syncLiteralOps is how many commands each goroutine of
// TestDovecotConcurrentSyncLiterals runs at least: four rounds of the
// three sizes.
const syncLiteralOps = 12

// waitSyncLiterals stops the goroutines counted in counts (stop) once
// each has run syncLiteralOps commands, and waits for them to end. A hang
// detector, not a bound on the time: it fails the test, with every
// goroutine's stack, only when a goroutine not yet ended has ended no
// command for dvHang.
func waitSyncLiterals(t *testing.T, wg *sync.WaitGroup, counts []*atomic.Int64, stop context.CancelFunc) {
	t.Helper()
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	lastN := make([]int64, len(counts))
	since := make([]time.Time, len(counts))
	for i := range since {
		since[i] = time.Now()
	}
	for {
		select {
		case <-ended:
			return
		case <-tick.C:
		}
		least := int64(-1)
		for i, n := range counts {
			v := n.Load()
			if least < 0 || v < least {
				least = v
			}
			if v != lastN[i] {
				lastN[i], since[i] = v, time.Now()
			} else if time.Since(since[i]) > dvHang {
				stop()
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutine %d ended no command for %v (after %d); every goroutine:\n%s", i, dvHang, v, buf[:runtime.Stack(buf, true)])
			}
		}
		if least >= syncLiteralOps {
			stop()
		}
	}
}

// TestDovecotConcurrentSyncLiterals: four goroutines append messages of
// 1,000 to 20,000 bytes on one session that sees LITERAL-, so that those
// over 4096 bytes go as synchronizing literals (each waits for its "+"),
// some from a reader; beside them, NOOP and UID FETCH run without pause.
// Each goroutine goes on until every one has done syncLiteralOps
// commands (each appending goroutine four of every size), not for a time:
// in the second they ran for before, a loaded machine could append too
// few to send a synchronizing literal. The literals of one command must
// never interleave with another command's line: every message reads back
// byte for byte, under the UID its APPENDUID gave. With the defaults.
func TestDovecotConcurrentSyncLiterals(t *testing.T) {
	dvParallel(t)
	var tr dvBuffer
	s := dialLiteralMinus(t, testserver.Alice, &session.Options{Trace: &tr}, &dvRewriteConn{})
	mbox := dvNewMailbox(t, testserver.Alice, nil)
	dvRun(t, s, dvMailboxCmd("SELECT", mbox))
	// The commands' context has no deadline: how long they take depends
	// on the machine's load; the wait below ends the test on a hang.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	want := map[uint32][]byte{}
	var wg sync.WaitGroup
	var counts []*atomic.Int64
	loop := func(what string, op func(g, i int) error) {
		for g := range 2 {
			n := new(atomic.Int64)
			counts = append(counts, n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; rctx.Err() == nil; i++ {
					if err := op(g, i); err != nil {
						if rctx.Err() == nil {
							t.Errorf("%s: %v", what, err)
						}
						stop()
						return
					}
					n.Add(1)
				}
			}()
		}
	}
	appendOne := func(streamed bool) func(g, i int) error {
		return func(g, i int) error {
			msg := dvMessage(fmt.Sprintf("g%d-%d-%v", g, i, streamed), []int{1000, 10000, 20000}[(g+i)%3])
			cmd := appendCmd(mbox, msg)
			if streamed {
				cmd = &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
					e.SP().Mailbox(mbox).SP().LiteralReader(int64(len(msg)), bytes.NewReader(msg), false)
				}}
			}
			r, err := s.Run(ctx, cmd)
			if err != nil {
				return err
			}
			c := r.Status.Code
			if c == nil || c.Kind != codec.CodeAppendUID || len(c.Dst.Ranges()) != 1 {
				return fmt.Errorf("no APPENDUID in %+v", r.Status)
			}
			mu.Lock()
			want[c.Dst.Ranges()[0].Start] = msg
			mu.Unlock()
			return nil
		}
	}
	loop("APPEND", appendOne(false))
	loop("APPEND from a reader", appendOne(true))
	loop("NOOP", func(int, int) error { _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); return err })
	loop("UID FETCH", func(int, int) error {
		_, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: dvRaw("1:* (UID FLAGS)")})
		return err
	})
	waitSyncLiterals(t, &wg, counts, stop)
	if t.Failed() {
		return
	}
	if len(want) == 0 {
		t.Fatal("nothing appended")
	}
	for uid, msg := range want {
		if got := fetchBody(t, s, uid); !bytes.Equal(got, msg) {
			t.Errorf("UID %d: %d bytes back; want %d", uid, len(got), len(msg))
		}
	}
	// Each message over LiteralMinusMax went as a synchronizing literal,
	// and waited for a continuation request of its own.
	big := 0
	for _, msg := range want {
		if len(msg) > wire.LiteralMinusMax {
			big++
		}
	}
	plus := strings.Count(tr.String(), "S: + ")
	if big == 0 || plus < big {
		t.Errorf("%d continuation requests for %d messages of over %d bytes appended: a synchronizing literal sent without waiting for one", plus, big, wire.LiteralMinusMax)
	}
	t.Logf("%d messages appended, %d over %d bytes, %d continuation requests", len(want), big, wire.LiteralMinusMax, plus)
}
