package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// fakeServer is a scripted server for this package's tests: it greets with
// PREAUTH and caps, runs the handler on names for a command named there,
// answers SELECT and EXAMINE, when exists is set, with "* <exists> EXISTS"
// and a READ-WRITE OK (with exists 0, as hostile's Answer does: FLAGS,
// "* 3 EXISTS", UIDVALIDITY 1, UIDNEXT 4), and any other command as
// hostile's Answer does. A handler's error (the connection
// gone) ends the server.
type fakeServer struct {
	caps   string
	exists int
	on     handlers
	// each, when set, sees every command before it is answered.
	each func(cmd *hostile.Command)
}

// handlers answer the commands of the names they are keyed by.
type handlers = map[string]func(c *hostile.Conn, cmd *hostile.Command) error

func (sc fakeServer) serve(c *hostile.Conn) error {
	c.PreAuth(sc.caps)
	for {
		cmd, err := c.ReadCommand()
		if err != nil {
			return err
		}
		if sc.each != nil {
			sc.each(cmd)
		}
		switch h := sc.on[cmd.Name]; {
		case h != nil:
			err = h(c, cmd)
		case sc.exists > 0 && (cmd.Name == "SELECT" || cmd.Name == "EXAMINE"):
			err = c.Lines("* "+strconv.Itoa(sc.exists)+" EXISTS", cmd.Tag+" OK [READ-WRITE] done")
		default:
			err = c.Answer(cmd)
		}
		if err != nil {
			return err
		}
	}
}

// fakeClient opens a Client (session defaults) on sc and selects
// INBOX; the context it returns ends after 10 s or with the test.
func fakeClient(t *testing.T, sc fakeServer) (context.Context, *commands.Client) {
	t.Helper()
	return selectInbox(t, hostileClient(t, sc.serve))
}

// fakeSession is fakeClient with the session's options opts; it
// returns the session too.
func fakeSession(t *testing.T, sc fakeServer, opts *session.Options) (context.Context, *session.Session, *commands.Client) {
	t.Helper()
	ctx, c := selectInbox(t, hostileClientOpts(t, opts, sc.serve))
	return ctx, c.Session(), c
}

func selectInbox(t *testing.T, c *commands.Client) (context.Context, *commands.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	t.Cleanup(cancel)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return ctx, c
}

// idleAnswer answers an IDLE: "+ idling", lines, and once the DONE is
// read, the tagged OK.
func idleAnswer(lines ...string) func(c *hostile.Conn, cmd *hostile.Command) error {
	return func(c *hostile.Conn, cmd *hostile.Command) error {
		c.Continue("idling")
		for _, l := range lines {
			c.Line(l)
		}
		if _, err := c.ReadLine(); err != nil { // DONE
			return err
		}
		return c.Line(cmd.Tag + " OK IDLE terminated")
	}
}

// responseLog records the responses a callback (OnUnsolicited, onEvent)
// is given, from any goroutine.
type responseLog struct {
	mu sync.Mutex
	rs []codec.Response
}

func (l *responseLog) add(r codec.Response) {
	l.mu.Lock()
	l.rs = append(l.rs, r)
	l.mu.Unlock()
}

// hasFetch says whether a FETCH was recorded.
func (l *responseLog) hasFetch() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.rs {
		if _, ok := r.(*codec.Fetch); ok {
			return true
		}
	}
	return false
}

// copyUIDParts answers a UID COPY of the part "1:2" with a valid COPYUID
// and any other part with "OK "+code: the second part of a set split by
// SetMaxSetLength(3).
func copyUIDParts(code string) func(c *hostile.Conn, cmd *hostile.Command) error {
	return func(c *hostile.Conn, cmd *hostile.Command) error {
		if strings.HasPrefix(cmd.Args, "1:2 ") {
			return c.Reply(cmd.Tag, "OK [COPYUID 7 1:2 10:11] done")
		}
		return c.Reply(cmd.Tag, "OK "+code+" done")
	}
}

// record answers OK and appends what of its arguments keep returns to
// *to, under mu.
func record(mu *sync.Mutex, to *[]string, keep func(args string) string) func(c *hostile.Conn, cmd *hostile.Command) error {
	return func(c *hostile.Conn, cmd *hostile.Command) error {
		mu.Lock()
		*to = append(*to, keep(cmd.Args))
		mu.Unlock()
		return c.Reply(cmd.Tag, "OK done")
	}
}

// answer answers with lines and the tagged OK, in one write.
func answer(lines ...string) func(c *hostile.Conn, cmd *hostile.Command) error {
	return func(c *hostile.Conn, cmd *hostile.Command) error {
		return c.Lines(append(lines[:len(lines):len(lines)], cmd.Tag+" OK done")...)
	}
}

// enableQResyncSelect enables QRESYNC on c and selects mailbox (with
// no QRESYNC parameters: a first sync), failing the test on an error,
// and returns the select's state: the set-up of the tests of QRESYNC and
// VANISHED.
func enableQResyncSelect(t *testing.T, ctx context.Context, c *commands.Client, mailbox string) *commands.MailboxState {
	t.Helper()
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatalf("ENABLE QRESYNC: %v", err)
	}
	st, err := c.Select(ctx, mailbox, nil)
	if err != nil {
		t.Fatalf("SELECT %s after ENABLE QRESYNC: %v", mailbox, err)
	}
	return st
}

// qresyncSelected opens a Client, with the defaults, on a fakeServer with
// caps and 3 messages that answers the command cmd with lines (and a
// tagged OK), and returns it with QRESYNC enabled and INBOX selected,
// and the context to run it under.
func qresyncSelected(t *testing.T, caps, cmd string, lines ...string) (*commands.Client, context.Context) {
	t.Helper()
	c := hostileClient(t, fakeServer{caps: caps, exists: 3, on: handlers{
		"ENABLE": answer("* ENABLED QRESYNC"),
		cmd:      answer(lines...),
	}}.serve)
	ctx := dvCtx(t)
	enableQResyncSelect(t, ctx, c, "INBOX")
	return c, ctx
}

// hostileClient opens a Client, with the defaults, on a scripted server.
func hostileClient(t *testing.T, sc hostile.Scenario) *commands.Client {
	t.Helper()
	return hostileClientOpts(t, nil, sc)
}

// hostileClientOpts opens a Client, with the session's options opts, on
// the scripted server sc (over hostile.Pipe); the session and the server
// end with the test.
func hostileClientOpts(t *testing.T, opts *session.Options, sc hostile.Scenario) *commands.Client {
	t.Helper()
	conn, srv := hostile.Pipe(sc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, opts)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); srv.Close() })
	return commands.New(s)
}

// delayConn delays what the server sends by delay (after each Read), once on,
// and signals wrote the first time a written line contains trigger.
type delayConn struct {
	net.Conn
	on      atomic.Bool
	delay   time.Duration
	mu      sync.Mutex
	trigger []byte
	wrote   chan struct{}
	// rtrigger: the first time what is read contains it, rgot is closed
	// before the bytes are handed on (after delay).
	rtrigger []byte
	rgot     chan struct{}
	// noMove hides MOVE from the capabilities the server sends.
	noMove bool
	// beforeWrite, when set, runs before a write containing its key is
	// passed on (once), and may replace the bytes written.
	beforeWrite map[string]func(p []byte) []byte
}

func (c *delayConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if c.rtrigger != nil && n > 0 && bytes.Contains(p[:n], c.rtrigger) {
		c.rtrigger = nil
		close(c.rgot)
	}
	c.mu.Unlock()
	if c.on.Load() {
		time.Sleep(c.delay)
	}
	if c.noMove && n > 0 {
		copy(p[:n], bytes.ReplaceAll(p[:n], []byte(" MOVE"), []byte(" XMOV")))
	}
	return n, err
}

func (c *delayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.trigger != nil && bytes.Contains(p, c.trigger) {
		c.trigger = nil
		close(c.wrote)
	}
	var hook func([]byte) []byte
	for k, f := range c.beforeWrite {
		if bytes.Contains(p, []byte(k)) {
			hook = f
			delete(c.beforeWrite, k)
			break
		}
	}
	c.mu.Unlock()
	if hook != nil {
		if q := hook(p); q != nil {
			if _, err := c.Conn.Write(q); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// delayClient is dvClient over a delayConn.
func delayClient(t *testing.T, user string, trigger string) (*commands.Client, *delayConn) {
	return delayClientWith(t, user, trigger, nil)
}

func delayClientWith(t *testing.T, user string, trigger string, setup func(*delayConn)) (*commands.Client, *delayConn) {
	t.Helper()
	srv := dvServer(t)
	ctx := dvCtx(t)
	raw, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	zc := &delayConn{Conn: raw, delay: 30 * time.Millisecond, trigger: []byte(trigger), wrote: make(chan struct{})}
	if setup != nil {
		setup(zc)
	}
	c, err := commands.Open(ctx, zc, &auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, user, testserver.Password); err != nil {
		t.Fatal(err)
	}
	return c, zc
}

// dvFlagged returns the UIDs of mailbox that carry flag, read by a fresh
// session.
func dvFlagged(t *testing.T, mailbox, flag string) []uint32 {
	t.Helper()
	ctx := dvCtx(t)
	c := dvClient(t, "alice", nil)
	if _, err := c.Examine(ctx, mailbox); err != nil {
		t.Fatal(err)
	}
	ms, err := c.FetchAll(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Flags: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []uint32
	for _, m := range ms {
		if slices.Contains(m.Flags, flag) {
			out = append(out, m.UID)
		}
	}
	return out
}

// dvExpungeElsewhere expunges uid of mailbox from another session (another
// mail client of the user).
func dvExpungeElsewhere(t *testing.T, mailbox string, uid uint32) {
	t.Helper()
	ctx := dvCtx(t)
	b := dvClient(t, "alice", nil)
	if _, err := b.Select(ctx, mailbox, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store(ctx, commands.UIDs(uid), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Expunge(ctx, &commands.Set{UID: true, Nums: commands.UIDs(uid).Nums}); err != nil {
		t.Fatal(err)
	}
	b.Logout(ctx)
}

// dvUIDsIn returns the UIDs of mailbox, read by a fresh session.
func dvUIDsIn(t *testing.T, mailbox string) []uint32 {
	t.Helper()
	ctx := dvCtx(t)
	c := dvClient(t, "alice", nil)
	if _, err := c.Examine(ctx, mailbox); err != nil {
		t.Fatal(err)
	}
	ms, err := c.FetchAll(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []uint32
	for _, m := range ms {
		out = append(out, m.UID)
	}
	return out
}

// litCmd is one command the fake server read: its text (literal bodies
// replaced by <L0>, <L1>, ...) and its literal bodies, byte for byte.
type litCmd struct {
	Tag, Text string
	Lits      [][]byte
	Sync      []bool
}

// litServer is a fake IMAP server on a pipe: it reads whole commands,
// literals included (sending "+" for synchronizing ones, or answering
// with refuse's line instead), records them, and answers with answer.
type litServer struct {
	mu     sync.Mutex
	cmds   []litCmd
	answer func(c litCmd) string
	// refuse, when set, is asked before a synchronizing literal's "+": a
	// non-empty answer is sent instead and the command is over.
	refuse func(c litCmd, n int64) string
	raw    bytes.Buffer // everything the client sent
	done   chan struct{}
}

var litServerRE = regexp.MustCompile(`(~?)\{(\d+)(\+?)\}\r\n$`)

func litServerStart(t *testing.T, caps string, answer func(c litCmd) string) (*commands.Client, *litServer, context.Context) {
	t.Helper()
	client, server := transport.Pipe()
	s := &litServer{answer: answer, done: make(chan struct{})}
	go s.serve(server, caps)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close(); server.Close() })
	return c, s, ctx
}

func (s *litServer) serve(conn io.ReadWriteCloser, caps string) {
	defer close(s.done)
	defer conn.Close()
	r := bufio.NewReader(io.TeeReader(conn, &lockedBuf{s: s}))
	fmt.Fprintf(conn, "* PREAUTH [CAPABILITY IMAP4rev1 %s] ready\r\n", caps)
	for {
		var c litCmd
		refused := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if c.Tag == "" {
				c.Tag, _, _ = strings.Cut(line, " ")
			}
			m := litServerRE.FindStringSubmatch(line)
			if m == nil {
				c.Text += strings.TrimSuffix(line, "\r\n")
				break
			}
			n, _ := strconv.ParseInt(m[2], 10, 64)
			sync := m[3] == ""
			c.Text += line[:len(line)-len(m[0])] + fmt.Sprintf("<L%d:%s{%d%s}>", len(c.Lits), m[1], n, m[3])
			if sync {
				if s.refuse != nil {
					if a := s.refuse(c, n); a != "" {
						io.WriteString(conn, a)
						refused = true
						break
					}
				}
				io.WriteString(conn, "+ go\r\n")
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				c.Lits = append(c.Lits, b)
				s.mu.Lock()
				s.cmds = append(s.cmds, c)
				s.mu.Unlock()
				return
			}
			c.Lits = append(c.Lits, b)
			c.Sync = append(c.Sync, sync)
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, c)
		s.mu.Unlock()
		if refused {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(c.Text), c.Tag+" LOGOUT") {
			io.WriteString(conn, "* BYE bye\r\n"+c.Tag+" OK bye\r\n")
			return
		}
		a := ""
		if s.answer != nil {
			a = s.answer(c)
		}
		if a == "" {
			a = c.Tag + " OK done\r\n"
		}
		io.WriteString(conn, a)
	}
}

type lockedBuf struct{ s *litServer }

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.raw.Write(p)
}

func (s *litServer) commands() []litCmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]litCmd(nil), s.cmds...)
}

// litAppendUID answers APPEND with APPENDUID 7 and consecutive UIDs.
func litAppendUID() func(c litCmd) string {
	next := 100
	return func(c litCmd) string {
		if strings.Contains(c.Text, " APPEND ") {
			n := len(c.Lits)
			first := next
			next += n
			set := strconv.Itoa(first)
			if n > 1 {
				set += ":" + strconv.Itoa(first+n-1)
			}
			return fmt.Sprintf("%s OK [APPENDUID 7 %s] appended\r\n", c.Tag, set)
		}
		return ""
	}
}

// rawCmd is one command the fake server read: its tag and its raw bytes,
// literal headers and bodies included, as they came.
type rawCmd struct {
	Tag string
	Raw []byte
}

// rawServer is a scripted server: it greets with PREAUTH and caps, reads
// each command whole (answering "+ go" to each synchronizing literal
// header), records it, and writes what answer returns for it.
type rawServer struct {
	mu   sync.Mutex
	cmds []rawCmd
}

func (f *rawServer) commands() []rawCmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rawCmd(nil), f.cmds...)
}

var rawLitRE = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

func rawClient(t *testing.T, caps string, answer func(c rawCmd) string) (*commands.Client, context.Context, *rawServer) {
	t.Helper()
	return rawClientHook(t, caps, nil, answer)
}

// rawClientHook is rawClient with beforeCont, when not nil, run
// when a synchronizing literal's header has arrived, before the "+" that
// lets its bytes go.
func rawClientHook(t *testing.T, caps string, beforeCont func(), answer func(c rawCmd) string) (*commands.Client, context.Context, *rawServer) {
	t.Helper()
	f := &rawServer{}
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		if _, err := io.WriteString(server, "* PREAUTH [CAPABILITY "+caps+"] fake\r\n"); err != nil {
			return
		}
		for {
			var raw []byte
			for {
				line, err := r.ReadBytes('\n')
				raw = append(raw, line...)
				if err != nil {
					return
				}
				m := rawLitRE.FindSubmatch(line)
				if m == nil {
					break
				}
				n, _ := strconv.Atoi(string(m[1]))
				if len(m[2]) == 0 {
					if beforeCont != nil {
						beforeCont()
					}
					if _, err := io.WriteString(server, "+ go\r\n"); err != nil {
						return
					}
				}
				body := make([]byte, n)
				if _, err := io.ReadFull(r, body); err != nil {
					return
				}
				raw = append(raw, body...)
			}
			tag, _, _ := bytes.Cut(raw, []byte(" "))
			c := rawCmd{Tag: string(tag), Raw: raw}
			f.mu.Lock()
			f.cmds = append(f.cmds, c)
			f.mu.Unlock()
			out := ""
			if answer != nil {
				out = answer(c)
			}
			if out == "" {
				out = c.Tag + " OK done\r\n"
			}
			if _, err := io.WriteString(server, out); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Session().Close()
		select {
		case <-done:
		case <-time.After(hangBound):
			t.Errorf("fake server did not stop in %v", hangBound)
		}
	})
	return c, ctx, f
}

// rawAppends returns the APPEND commands the fake server read.
func rawAppends(f *rawServer) []rawCmd {
	var out []rawCmd
	for _, c := range f.commands() {
		if bytes.Contains(c.Raw[:min(len(c.Raw), 40)], []byte(" APPEND ")) {
			out = append(out, c)
		}
	}
	return out
}

// zzServer is a fake IMAP server that records every command the client
// sends (with its literals) and answers it OK.
type zzServer struct {
	mu   sync.Mutex
	cmds []string
	// extra, when set, gives untagged lines to send before the tagged OK
	// of a command (its bytes as sent, tag first).
	extra func(cmd string) []string
}

// sent returns the commands received so far.
func (s *zzServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

// literalSize returns n of a line ending in a literal header {n}, {n+}
// or ~{n}, and whether it is synchronizing.
func literalSize(line string) (n int, sync, ok bool) {
	l := strings.TrimSuffix(line, "\r\n")
	if !strings.HasSuffix(l, "}") {
		return 0, false, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false, false
	}
	num := l[i+1 : len(l)-1]
	sync = true
	if strings.HasSuffix(num, "+") {
		num, sync = num[:len(num)-1], false
	}
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, false, false
	}
	return v, sync, true
}

func (s *zzServer) serve(conn io.ReadWriteCloser, greeting string) {
	defer conn.Close()
	w := bufio.NewWriter(conn)
	r := bufio.NewReader(conn)
	w.WriteString(greeting + "\r\n")
	w.Flush()
	for {
		var cmd strings.Builder
		for {
			line, err := r.ReadString('\n')
			cmd.WriteString(line)
			if err != nil {
				return
			}
			n, sync, ok := literalSize(line)
			if !ok {
				break
			}
			if sync {
				w.WriteString("+ go\r\n")
				w.Flush()
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			cmd.Write(buf)
		}
		c := cmd.String()
		s.mu.Lock()
		s.cmds = append(s.cmds, c)
		s.mu.Unlock()
		tag, rest, _ := strings.Cut(strings.TrimSuffix(c, "\r\n"), " ")
		name := strings.ToUpper(rest)
		if i := strings.IndexByte(name, ' '); i >= 0 {
			name = name[:i]
		}
		switch name {
		case "AUTHENTICATE":
			w.WriteString("+ \r\n")
			w.Flush()
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		case "IDLE":
			w.WriteString("+ idling\r\n")
			w.Flush()
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		case "LOGOUT":
			w.WriteString("* BYE bye\r\n" + tag + " OK bye\r\n")
			w.Flush()
			return
		case "SELECT", "EXAMINE":
			w.WriteString("* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4] x\r\n")
		}
		if s.extra != nil {
			for _, l := range s.extra(c) {
				w.WriteString(l + "\r\n")
			}
		}
		w.WriteString(tag + " OK done\r\n")
		w.Flush()
	}
}

// zzClient opens a Client on a fake server whose greeting announces caps;
// preauth makes it a PREAUTH greeting (state AUTH).
func zzClient(t *testing.T, caps string, preauth bool) (*commands.Client, *zzServer, context.Context) {
	t.Helper()
	client, server := transport.Pipe()
	srv := &zzServer{}
	kind := "OK"
	if preauth {
		kind = "PREAUTH"
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.serve(server, "* "+kind+" [CAPABILITY IMAP4rev1 "+caps+"] ready")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	c, err := commands.Open(ctx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		c.Session().Close()
		server.Close()
		<-done
	})
	return c, srv, ctx
}

// zzSelected is zzClient with INBOX selected.
func zzSelected(t *testing.T, caps string) (*commands.Client, *zzServer, context.Context) {
	t.Helper()
	c, srv, ctx := zzClient(t, caps, true)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c, srv, ctx
}

// zzSentSince returns the commands the server received after the first n.
func (s *zzServer) since(n int) []string {
	l := s.sent()
	if n > len(l) {
		return nil
	}
	return l[n:]
}

// zzRefused fails the test unless the call returned an error and sent
// nothing: the right answer to an argument that cannot be sent as asked.
func zzRefused(t *testing.T, srv *zzServer, what string, call func() error) {
	t.Helper()
	n := len(srv.sent())
	err := call()
	sent := srv.since(n)
	if err == nil {
		t.Errorf("%s: no error; sent %q", what, sent)
	} else if len(sent) > 0 {
		t.Errorf("%s: error %v, but sent %q", what, err, sent)
	}
}

// runInChild runs body in a child process (this test binary, the one test)
// and returns its output, and whether it ended within limit. A body that
// spins without end (allocating) is thus killed without taking the test
// binary's memory with it.
func runInChild(t *testing.T, limit time.Duration, body func(t *testing.T)) (out string, ended bool) {
	t.Helper()
	if os.Getenv("IMAPKIT_RUN_IN_CHILD") == t.Name() {
		// A watchdog: the child reports its heap and leaves at the limit.
		go func() {
			time.Sleep(limit)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("CHILD-HUNG after %v, heap %d MiB\n", limit, ms.HeapAlloc>>20)
			os.Exit(3)
		}()
		defer fmt.Println("CHILD-ENDED") // also after a t.Fatal of body's
		body(t)
		return "", true
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "IMAPKIT_RUN_IN_CHILD="+t.Name())
	b, _ := cmd.CombinedOutput()
	out = string(b)
	if strings.Contains(out, "--- FAIL") {
		t.Fatalf("child failed:\n%s", out)
	}
	return out, strings.Contains(out, "CHILD-ENDED")
}

// Helpers: a scripted server for these tests.

// zqVerbs are the command names zqClient's scripts are keyed by, longest
// first.
var zqVerbs = []string{"UID FETCH", "UID STORE", "UID SEARCH", "UID COPY", "UID MOVE", "UID EXPUNGE", "SELECT", "EXAMINE", "FETCH", "STORE", "SEARCH", "NOOP", "LIST", "STATUS", "LOGIN", "CAPABILITY", "IDLE", "ENABLE", "NAMESPACE", "CHECK", "EXPUNGE", "COPY", "MOVE", "LSUB", "ID", "GETQUOTAROOT", "SORT", "THREAD", "LOGOUT", "APPEND", "CREATE", "AUTHENTICATE"}

// zqServer is a scripted server: greeting is its first line (without
// CRLF); script maps a command verb (zqVerbs) to the lines it answers
// with, @T@ replaced by the command's tag; the tagged OK is added when no
// line holds "@T@ " (the tag placeholder). "<CLOSE>" at the end of an answer closes the
// connection after writing it. Each command's raw line goes to seen.
func zqServer(t *testing.T, greeting string, script map[string]string, seen chan<- string) net.Conn {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		if _, err := io.WriteString(server, greeting+"\r\n"); err != nil {
			return
		}
		idleTag := ""
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if m := rawLitRE.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				if m[2] == "" {
					io.WriteString(server, "+ go\r\n")
				}
				body := make([]byte, n)
				if _, err := io.ReadFull(r, body); err != nil {
					return
				}
				rest, _ := r.ReadString('\n')
				line += string(body) + rest
			}
			if seen != nil {
				select {
				case seen <- line:
				default:
				}
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.TrimSpace(line) == "DONE" {
				out := script["DONE"]
				if !strings.Contains(out, "@T@ ") {
					out += "@T@ OK idle done\r\n"
				}
				if _, err := io.WriteString(server, strings.ReplaceAll(out, "@T@", idleTag)); err != nil {
					return
				}
				continue
			}
			out := ""
			found := false
			up := strings.ToUpper(strings.TrimRight(rest, "\r\n"))
			for _, verb := range zqVerbs {
				if strings.HasPrefix(up, verb+" ") || up == verb {
					out, found = script[verb]
					break
				}
			}
			if !found {
				out = ""
			}
			if strings.HasPrefix(up, "IDLE") {
				idleTag = tag
			}
			out = strings.ReplaceAll(out, "@T@", tag)
			closeAfter := strings.HasSuffix(out, "<CLOSE>")
			out = strings.TrimSuffix(out, "<CLOSE>")
			if !strings.Contains(out, tag+" ") && !strings.HasPrefix(up, "IDLE") {
				out += tag + " OK done\r\n"
			}
			if _, err := io.WriteString(server, out); err != nil {
				return
			}
			if closeAfter {
				return
			}
		}
	}()
	t.Cleanup(func() {
		client.Close()
		select {
		case <-done:
		case <-time.After(hangBound):
			t.Errorf("fake server did not stop in %v", hangBound)
		}
	})
	return client
}

// zqOpen opens a Client on a zqServer.
func zqOpen(t *testing.T, greeting string, script map[string]string, seen chan<- string) (*commands.Client, context.Context) {
	t.Helper()
	conn := zqServer(t, greeting, script, seen)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, conn, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Session().Close() })
	return c, ctx
}

// zqClient is zqOpen with a PREAUTH greeting advertising caps, and INBOX
// selected (script["SELECT"] answers it; 3 messages by default).
func zqClient(t *testing.T, caps string, script map[string]string) (*commands.Client, context.Context) {
	t.Helper()
	if _, ok := script["SELECT"]; !ok {
		script["SELECT"] = "* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n"
	}
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY "+caps+"] fake", script, nil)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
	return c, ctx
}

// zqAlive checks the session still runs commands.
func zqAlive(t *testing.T, c *commands.Client, ctx context.Context) {
	t.Helper()
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("the session did not survive: NOOP: %v", err)
	}
}

// relayClient logs in through the relay with the library's defaults.
func relayClient(t testing.TB, r *faultrelay.Relay) *commands.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, r.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, conn, &auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, testserver.Alice, testserver.Password); err != nil {
		t.Fatal(err)
	}
	return c
}

// relayBigMsg is a message of about size bytes of incompressible text.
func relayBigMsg(i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a@example.org\r\nTo: b@example.org\r\nSubject: big %d\r\nMessage-ID: <zz%d-%d@x>\r\n\r\n", i, i, time.Now().UnixNano())
	// Lines of base64 of random bytes: a block of 256 KiB of them made
	// once, then copied to the size. DEFLATE (COMPRESS) looks back 32 KiB
	// at most, so the repeats do not compress. Encoding all 20 MiB, a
	// line at a time, took seconds under -race.
	const blockLines = 3360 // 78 bytes each: 262,080
	raw := make([]byte, 57*blockLines)
	rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}).Read(raw)
	block := make([]byte, 78*blockLines)
	for l := range blockLines {
		o := block[78*l:]
		base64.StdEncoding.Encode(o[:76], raw[57*l:57*l+57])
		o[76], o[77] = '\r', '\n'
	}
	lines := max(size-b.Len()+77, 0) / 78
	out := make([]byte, b.Len()+78*lines)
	n := copy(out, b.Bytes())
	for n < len(out) {
		n += copy(out[n:], block)
	}
	_ = strings.Repeat
	return out
}

func relayBigMailbox(t *testing.T, n, size int) string {
	name := fmt.Sprintf("zz-%s-%d", sanitize(t.Name()), time.Now().UnixNano())
	var msgs [][]byte
	for i := 0; i < n; i++ {
		msgs = append(msgs, relayBigMsg(i, size))
	}
	if err := dvServer(t).SeedMailbox(testserver.Alice, name, msgs); err != nil {
		t.Fatal(err)
	}
	return name
}

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// serveClient opens a client, with the library's defaults, over
// transport.Pipe to serve, greeted with caps.
func serveClient(t *testing.T, caps string, serve func(server net.Conn)) *commands.Client {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY " + caps + "] ready\r\n"))
		serve(server)
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		server.Close()
		<-done
	})
	return commands.New(s)
}

// okLiteralServer answers every command OK, reading each literal (of
// either kind) as it comes.
func okLiteralServer(server net.Conn) {
	r := bufio.NewReaderSize(server, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		for {
			i := strings.LastIndexByte(line, '{')
			if i < 0 || !strings.HasSuffix(line, "}\r\n") {
				break
			}
			num := strings.TrimSuffix(strings.TrimSuffix(line[i+1:], "\r\n"), "}")
			plus := strings.HasSuffix(num, "+")
			n, _ := strconv.ParseInt(strings.TrimSuffix(num, "+"), 10, 64)
			if !plus {
				server.Write([]byte("+ go\r\n"))
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if line, err = r.ReadString('\n'); err != nil {
				return
			}
		}
		server.Write([]byte(tag + " OK [APPENDUID 1 1] done\r\n"))
	}
}

// hangBound bounds a test's context only to stop a real hang: CI runs
// three packages' tests at once under -race on 2 cores, and a loaded
// machine may be 20 times slower than usual, so work that takes a second
// there may take most of a minute.
// Not more: a regression that hangs many tests one after another must
// not take the test binary past its 30 minutes (go test -timeout), which
// loses every other test's result (revP56).
const hangBound = 2 * time.Minute

// hangCtx returns a context ended hangBound after the call: a hang
// detector, never a bound on the test's work. (It was ctx20c, when the
// bound was 20 s.)
func hangCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	t.Cleanup(cancel)
	return ctx
}

// appendDiscardServer answers every command OK with [APPENDUID 1 1],
// reading and discarding the literal (non-synchronizing: it sends no "+")
// at the end of a command's line. It serves the Append benchmarks
// (pipeClient's serve).
func appendDiscardServer(server net.Conn) {
	r := bufio.NewReaderSize(server, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		if i := strings.LastIndexByte(line, '{'); i >= 0 {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSuffix(line[i+1:], "\r\n"), "+}"), 10, 64)
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			r.ReadString('\n')
		}
		server.Write([]byte(tag + " OK [APPENDUID 1 1] done\r\n"))
	}
}

// noopWatchServer returns a serve function (for serveClient) that
// answers nothing: it reads the client's lines until the connection ends
// and closes gotNoop when one holds NOOP (once: a second NOOP would
// panic).
func noopWatchServer(gotNoop chan struct{}) func(server net.Conn) {
	return func(server net.Conn) {
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, "NOOP") {
				close(gotNoop)
			}
		}
	}
}

// appendManyServer starts the fake server of AppendMany's Open tests on
// the far end of a transport.Pipe: it greets with PREAUTH and caps and
// answers OK to every command until one whose line holds APPEND, which it
// records in sawAppend; then (goOn: with a "+ go on" first when that line
// ends in a literal header, of either kind) it reads and discards all the
// client writes until the connection ends. served is closed when it
// returns.
func appendManyServer(caps string, goOn bool, sawAppend *atomic.Bool) (client, server net.Conn, served chan struct{}) {
	client, server = transport.Pipe()
	served = make(chan struct{})
	go func() {
		defer close(served)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY " + caps + "] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, "APPEND") {
				sawAppend.Store(true)
				if goOn && strings.HasSuffix(line, "}\r\n") {
					server.Write([]byte("+ go on\r\n"))
				}
				io.Copy(io.Discard, r)
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			server.Write([]byte(tag + " OK done\r\n"))
		}
	}()
	return client, server, served
}
