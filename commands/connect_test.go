package commands_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/transport"
)

// FuzzConnectAuthCompress fuzzes what FuzzClient leaves fixed: the greeting,
// authentication (LOGIN and every SASL mechanism of package auth, over a
// commands.Client made by commands.Open) and COMPRESS=DEFLATE, followed by
// SELECT, a FETCH iteration, IDLE and LOGOUT on the compressed stream.
//
// Inputs: the greeting, written as it is; mech, which picks the
// authentication (cnAuth); raw, which makes the server write its answers
// after COMPRESS's OK as they are rather than deflated (garbage and
// hand-made deflate streams for the client's inflater); and a script of
// answers split at 0x1E. The server (over transport.Pipe) answers every
// line it reads from the client (a command, a SASL response, DONE) with
// the next answer, "%T" replaced by the tag of the last command and "%L" by
// the line it just read (a server that echoes what it decoded), and hangs
// up when the answers run out or the client has been quiet for cnQuiet.
// Once an answer to COMPRESS holds "<tag> OK", both directions are deflate
// streams. The client runs with the library's defaults (commands.Open with
// nil options: the pipe counts as local, so passwords may go in the clear).
//
// Each exec runs in a testing/synctest bubble (cnGuarded): the server's
// "client quiet" and the bounds below are on the bubble's clock, which
// moves only when every goroutine of the exec waits, so they cost no wall
// time and a loaded machine cuts no flow short. (On the real clock the
// quiet was 5 ms while fuzzing: each exec that ended on it waited so, and
// a 20 s run spent most of its time re-running the cached corpus.)
//
// Per exec it fails on a panic, on operations still running fcBound after
// the hang-up, on an error that holds a control byte or invalid UTF-8 or
// the password or token, and on a goroutine of the library left behind;
// every 500 execs on a heap grown by more than 128 MiB; and, on the real
// clock, on an exec still running after cnRealGuard (a wait the bubble's
// clock does not see: a sync.Mutex held, a spin).
func FuzzConnectAuthCompress(f *testing.F) {
	for _, s := range cnSeeds {
		f.Add([]byte(s.greeting), s.mech, s.raw, []byte(strings.Join(s.answers, "\x1e")))
	}
	f.Fuzz(func(t *testing.T, greeting []byte, mech byte, raw bool, script []byte) {
		cnExec(t, greeting, mech, raw, bytes.Split(script, []byte{0x1e}), cnQuiet)
	})
}

const (
	cnPassword = "pw-r46-Zq7"
	cnToken    = "tok-r46-Lm3xyzzy"
	cnDovecot  = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 " +
		"AUTH=SCRAM-SHA-256 AUTH=XOAUTH2 AUTH=OAUTHBEARER COMPRESS=DEFLATE] Dovecot ready.\r\n"
	cnCyrus = "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 " +
		"COMPRESS=DEFLATE] localhost Cyrus IMAP 3.6.1 server ready\r\n"
	cnAfter = "* CAPABILITY IMAP4rev1 ID ENABLE IDLE LITERAL+ COMPRESS=DEFLATE CONDSTORE\r\n"
)

// cnAuth are the authentications mech picks (mech % len).
var cnAuth = []func(ctx context.Context, c *commands.Client) error{
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewPlain("", "alice", cnPassword))
	},
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewLogin("alice", cnPassword))
	},
	func(ctx context.Context, c *commands.Client) error { return c.LoginCRAMMD5(ctx, "alice", cnPassword) },
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewSCRAMSHA256("", "alice", cnPassword))
	},
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewXOAuth2("alice", cnToken))
	},
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewOAuthBearer("alice", cnToken, "localhost", 143))
	},
	func(ctx context.Context, c *commands.Client) error { return c.Login(ctx, "alice", cnPassword) },
	func(ctx context.Context, c *commands.Client) error {
		_, err := c.Session().Capabilities(ctx)
		if err != nil {
			return err
		}
		ac := auth.Credentials{Username: "alice", Password: cnPassword}
		_, err = authBest(ctx, c, &ac)
		return err
	},
	func(ctx context.Context, c *commands.Client) error {
		n := 0
		return c.AuthenticateFunc(ctx, "X-R46", func(ch []byte) ([]byte, error) {
			n++
			if n > 3 {
				return nil, io.ErrUnexpectedEOF
			}
			return []byte(cnPassword), nil
		})
	},
}

// authBest runs auth.Client.AuthenticateBest on c's session, as a
// commands.Open client's owner would through auth.
func authBest(ctx context.Context, c *commands.Client, cred *auth.Credentials) (string, error) {
	name, m, err := auth.Choose(c.Session().Caps(), cred, true)
	if err != nil {
		return "", err
	}
	return name, c.Authenticate(ctx, m)
}

// cnOps run after the authentication, in order, whatever it gave.
var cnOps = []fcOp{
	{"Capability", func(ctx context.Context, c *commands.Client) error { _, err := c.Capability(ctx); return err }},
	{"Compress", func(ctx context.Context, c *commands.Client) error { return c.Compress(ctx, nil) }},
	{"Select", func(ctx context.Context, c *commands.Client) error { _, err := c.Select(ctx, "INBOX", nil); return err }},
	{"Fetch", func(ctx context.Context, c *commands.Client) error {
		items := &commands.FetchItems{Envelope: true, Flags: true, BodyStructure: true, Sections: []commands.FetchSection{{}}}
		for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), items) {
			if err != nil {
				return err
			}
			if m.BodyStructure != nil {
				m.BodyStructure.Filename()
			}
		}
		return nil
	}},
	{"Idle", func(ctx context.Context, c *commands.Client) error {
		return c.Idle(ctx, nil, func(codec.Response) bool { return false })
	}},
	{"Logout", func(ctx context.Context, c *commands.Client) error { return c.Logout(ctx) }},
}

// cnSeed is a seed of FuzzConnectAuthCompress.
type cnSeed struct {
	greeting string
	mech     byte
	raw      bool
	answers  []string
}

// cnRest answers the operations after authentication: CAPABILITY,
// COMPRESS, SELECT, FETCH, IDLE ("+", an EXISTS, then OK after DONE),
// LOGOUT.
var cnRest = []string{
	cnAfter + "%T OK done\r\n",
	"%T OK DEFLATE active\r\n",
	"* 2 EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 3] ok\r\n%T OK [READ-WRITE] selected\r\n",
	"* 1 FETCH (FLAGS (\\Seen) ENVELOPE (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1) BODY[] {3}\r\nabc)\r\n%T OK done\r\n",
	"+ idling\r\n* 3 EXISTS\r\n",
	"%T OK idle done\r\n",
	"* BYE bye\r\n%T OK done\r\n",
}

func cnWith(greeting string, mech byte, raw bool, auth ...string) cnSeed {
	return cnSeed{greeting, mech, raw, append(append([]string{}, auth...), cnRest...)}
}

var cnSeeds = []cnSeed{
	cnWith(cnDovecot, 0, false, "%T OK Logged in\r\n"),
	// Capabilities in the OK: Capability sends nothing.
	{cnDovecot, 0, false, append([]string{"%T OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] Logged in\r\n"}, cnRest[1:]...)},
	cnWith(cnCyrus, 1, false, "+ VXNlcm5hbWU6\r\n", "+ UGFzc3dvcmQ6\r\n", "%T OK Success\r\n"),
	cnWith(cnDovecot, 2, false, "+ PDEyMzQ1QGhvc3Q+\r\n", "%T OK done\r\n"),
	cnWith(cnDovecot, 3, false, "+ cj1ub25jZSxzPVFTWENSK1E2c2VrOGJmOTJQLGk9NDA5Ng==\r\n", "%T NO [AUTHENTICATIONFAILED] nonce\r\n"),
	cnWith(cnDovecot, 4, false, "+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJ0b2stcjQ2LUxtM3h5enp5In0=\r\n", "%T NO [AUTHENTICATIONFAILED] tok-r46-Lm3xyzzy\r\n"),
	cnWith(cnDovecot, 5, false, "%T OK done\r\n"),
	cnWith(cnDovecot, 6, false, "%T NO [AUTHENTICATIONFAILED] bad password %L\r\n"),
	cnWith(cnCyrus, 7, false, "+ \r\n", "%T OK done\r\n"),
	cnWith(cnDovecot, 8, false, "+ cGFzcw==\r\n", "+ \r\n", "%T NO no such mechanism %L\r\n"),
	// Raw after COMPRESS: the server's bytes are not a deflate stream.
	cnWith(cnDovecot, 0, true, "%T OK Logged in\r\n"),
	// A pre-authenticated greeting and one that hangs up.
	{"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] ready\r\n", 6, false, cnRest[1:]},
	{"* BYE [ALERT] \x1b[31mgo away\r\n", 0, false, nil},
	{"* OK [CAPABILITY " + strings.Repeat("X ", 3000) + "] long\r\n", 0, false, cnRest},
}

// cnQuiet is how long, on the bubble's clock, the server waits for the
// client's next line before it hangs up: the client waits for the server
// that long (the bubble's clock moves only then), never merely slow.
const cnQuiet = 500 * time.Millisecond

// cnRealGuard is how long (real time) an exec may run: far past what the
// slowest takes on a loaded machine, and below the 10 s after which Go's
// fuzzing engine kills a worker without the exec's stacks.
const cnRealGuard = 8 * time.Second

// cnExec runs one exec of FuzzConnectAuthCompress in a synctest bubble,
// under the real-clock guard cnRealGuard, and returns the errors of Open,
// the authentication and the operations (and the session's end).
func cnExec(t *testing.T, greeting []byte, mech byte, raw bool, chunks [][]byte, quiet time.Duration) []error {
	t.Helper()
	var errs []error
	if stacks := cnGuarded(t, func(t *testing.T) {
		errs = cnBubble(t, greeting, mech, raw, chunks, quiet)
	}); stacks != nil {
		t.Fatalf("the exec still running after %v of real time (waiting on what the bubble's clock does not see: a sync.Mutex, a syscall; or spinning)\n%s", cnRealGuard, stacks)
	}
	return errs
}

// cnGuarded runs exec in a synctest bubble (synctest.Test) and returns nil
// once it ended, or every goroutine's stack when it still runs after
// cnRealGuard of real time. A panic of synctest.Test (a bubble whose main
// goroutine ended with others blocked: a goroutine left behind) goes on.
func cnGuarded(t *testing.T, exec func(t *testing.T)) (stacks []byte) {
	done := make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		synctest.Test(t, exec)
	}()
	timer := time.NewTimer(cnRealGuard)
	defer timer.Stop()
	select {
	case <-done:
		if panicked != nil {
			panic(panicked)
		}
		return nil
	case <-timer.C:
		return fuzzseed.Stacks()
	}
}

// cnBubble is one exec, in its bubble.
func cnBubble(t *testing.T, greeting []byte, mech byte, raw bool, chunks [][]byte, quiet time.Duration) []error {
	client, server := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		cnServe(server, greeting, raw, chunks, quiet)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make([]error, len(cnOps)+2)
	var c *commands.Client
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		c, err = commands.Open(ctx, client, nil)
		if errs[0] = err; err != nil {
			return
		}
		errs[1] = cnAuth[int(mech)%len(cnAuth)](ctx, c)
		for i, op := range cnOps {
			errs[i+2] = op.run(ctx, c)
		}
	}()
	select {
	case <-done:
	case <-srvDone:
		select {
		case <-done:
		case <-time.After(fcBound):
			t.Errorf("operations still running %v after the server hung up; goroutines:\n%s", fcBound, fuzzseed.Stacks())
			cancel()
			closed := make(chan struct{})
			go func() {
				client.Close()
				<-done
				close(closed)
			}()
			select {
			case <-closed:
				t.FailNow()
			case <-time.After(fcBound / 2):
				t.Fatalf("Close did not return within %v either", fcBound/2)
			}
		}
	}
	if c != nil {
		if err := c.Session().Err(); err != nil {
			errs = append(errs, err)
		}
		c.Session().Close()
	}
	client.Close()
	<-srvDone
	for i, err := range errs {
		if err == nil {
			continue
		}
		msg := err.Error()
		if fuzzseed.Unsafe(msg) {
			t.Errorf("error %d: it carries control bytes or invalid UTF-8: %q", i, msg)
		}
		// The authentication's error must not show the secret it sent,
		// whatever the server echoes; a server's text elsewhere may hold
		// any bytes.
		secret := cnPassword
		if m := int(mech) % len(cnAuth); m == 4 || m == 5 {
			secret = cnToken
		}
		if i == 1 && strings.Contains(msg, secret) {
			t.Errorf("the authentication's error shows the secret it sent: %q", msg)
		}
	}
	fcCheckPanics(t, errs...)
	cnCheckGoroutines(t)
	cnCheckHeap(t)
	return errs
}

// cnCheckGoroutines fails the exec when a goroutine of the library is
// left in its bubble once every other goroutine of the bubble waits, for
// 1 s of the bubble's clock (a timer of the library's may still end one).
// Other tests' goroutines, outside the bubble, are not looked at.
func cnCheckGoroutines(t *testing.T) {
	synctest.Wait()
	for deadline := time.Now().Add(time.Second); ; {
		left := cnLeft()
		if len(left) == 0 {
			return
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("%d goroutines of the library left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cnLeft returns the stacks of the goroutines in the calling goroutine's
// synctest bubble, but for the caller's, that run code of the library's
// session, transport or commands packages.
func cnLeft() []string {
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
	var bubble string // ", synctest bubble N]" of the caller's header
	for i, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if i == 0 {
			if j := strings.Index(header, ", synctest bubble "); j >= 0 {
				bubble = header[j:]
			}
			continue
		}
		if bubble == "" || !strings.HasSuffix(header, bubble) || strings.Contains(header, "[synctest.Run") {
			continue
		}
		for _, p := range []string{"imapkit/session.", "imapkit/transport.", "imapkit/commands."} {
			if strings.Contains(g, "github.com/imapkit/"+p) {
				left = append(left, g)
				break
			}
		}
	}
	return left
}

// cnHeap counts execs for cnCheckHeap.
var cnHeap struct {
	sync.Mutex
	execs uint64
	base  uint64
}

// cnCheckHeap fails, every 500 execs, when the heap in use after a GC
// has grown by more than 128 MiB since the first check.
func cnCheckHeap(t *testing.T) {
	cnHeap.Lock()
	defer cnHeap.Unlock()
	cnHeap.execs++
	if cnHeap.execs%500 != 1 {
		return
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if cnHeap.base == 0 {
		cnHeap.base = ms.HeapInuse
		return
	}
	if ms.HeapInuse > cnHeap.base+128<<20 {
		t.Errorf("heap in use %d MiB, %d MiB at the first check", ms.HeapInuse>>20, cnHeap.base>>20)
	}
}

// cnServe is FuzzConnectAuthCompress's server.
func cnServe(conn net.Conn, greeting []byte, raw bool, chunks [][]byte, quiet time.Duration) {
	if _, err := conn.Write(greeting); err != nil {
		return
	}
	var w io.Writer = conn
	var zw *flate.Writer
	r := bufio.NewReader(conn)
	write := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		if zw != nil {
			return zw.Flush()
		}
		return nil
	}
	tag, name := "", ""
	for _, chunk := range chunks {
		// Read one line of the client's, its literals included.
		var line []byte
		for {
			conn.SetReadDeadline(time.Now().Add(quiet))
			l, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			line = append(line, l...)
			n, sync, lit := fcLiteral(string(l))
			if !lit {
				break
			}
			if sync {
				if write([]byte("+ go\r\n")) != nil {
					return
				}
			}
			body := make([]byte, min(n, 1<<20))
			if _, err := io.ReadFull(r, body); err != nil {
				return
			}
			line = append(line, body...)
		}
		text := strings.TrimRight(string(line), "\r\n")
		// A command has a tag and a name; a SASL response or DONE has
		// no space.
		if f := strings.Fields(text); len(f) >= 2 && !strings.Contains(f[0], "=") {
			tag, name = f[0], strings.ToUpper(f[1])
		}
		a := strings.ReplaceAll(string(chunk), "%T", tag)
		a = strings.ReplaceAll(a, "%L", text)
		if err := write([]byte(a)); err != nil {
			return
		}
		if name == "COMPRESS" && zw == nil && strings.Contains(a, tag+" OK") {
			r = bufio.NewReader(flate.NewReader(r))
			if !raw {
				zw, _ = flate.NewWriter(conn, flate.BestSpeed)
				w = zw
			}
		}
	}
}

// TestConnectAuthCompressControl checks FuzzConnectAuthCompress's harness: with
// the well-formed seeds every step succeeds, so that the fuzzer's execs
// reach COMPRESS and the commands after it.
func TestConnectAuthCompressControl(t *testing.T) {
	for _, mech := range []byte{0, 1, 2, 6} {
		var s cnSeed
		for _, x := range cnSeeds {
			if x.mech == mech && !x.raw {
				s = x
				break
			}
		}
		var chunks [][]byte
		for _, a := range s.answers {
			chunks = append(chunks, []byte(a))
		}
		if mech == 6 {
			// LOGIN: the seed refuses; accept instead.
			chunks[0] = []byte("%T OK logged in\r\n")
		}
		errs := cnExec(t, []byte(s.greeting), mech, false, chunks, cnQuiet)
		// The last error, when there is one past the operations', is
		// the session's end after LOGOUT.
		for i, err := range errs[:len(cnOps)+2] {
			if err != nil {
				t.Errorf("mech %d: step %d: %v", mech, i, err)
			}
		}
	}
}
