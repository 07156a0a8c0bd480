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
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/transport"
)

// FuzzReview46EConnect fuzzes what FuzzClient leaves fixed: the greeting,
// authentication (LOGIN and every SASL mechanism of package auth, over a
// commands.Client made by commands.Open) and COMPRESS=DEFLATE, followed by
// SELECT, a FETCH iteration, IDLE and LOGOUT on the compressed stream.
//
// Inputs: the greeting, written as it is; mech, which picks the
// authentication (r46Auth); raw, which makes the server write its answers
// after COMPRESS's OK as they are rather than deflated (garbage and
// hand-made deflate streams for the client's inflater); and a script of
// answers split at 0x1E. The server (over transport.Pipe) answers every
// line it reads from the client (a command, a SASL response, DONE) with
// the next answer, "%T" replaced by the tag of the last command and "%L" by
// the line it just read (a server that echoes what it decoded), and hangs
// up when the answers run out or the client has been quiet for fcQuiet().
// Once an answer to COMPRESS holds "<tag> OK", both directions are deflate
// streams. The client runs with the library's defaults (commands.Open with
// nil options: the pipe counts as local, so passwords may go in the clear).
//
// Per exec it fails on a panic, on operations still running fcBound after
// the hang-up, on an error that holds a control byte or invalid UTF-8 or
// the password or token, and on a goroutine of the library left behind;
// every 500 execs on a heap grown by more than 128 MiB.
func FuzzReview46EConnect(f *testing.F) {
	for _, s := range r46Seeds {
		f.Add([]byte(s.greeting), s.mech, s.raw, []byte(strings.Join(s.answers, "\x1e")))
	}
	f.Fuzz(func(t *testing.T, greeting []byte, mech byte, raw bool, script []byte) {
		r46Exec(t, greeting, mech, raw, bytes.Split(script, []byte{0x1e}), fcQuiet())
	})
}

const (
	r46Password = "pw-r46-Zq7"
	r46Token    = "tok-r46-Lm3xyzzy"
	r46Dovecot  = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 " +
		"AUTH=SCRAM-SHA-256 AUTH=XOAUTH2 AUTH=OAUTHBEARER COMPRESS=DEFLATE] Dovecot ready.\r\n"
	r46Cyrus = "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 " +
		"COMPRESS=DEFLATE] localhost Cyrus IMAP 3.6.1 server ready\r\n"
	r46After = "* CAPABILITY IMAP4rev1 ID ENABLE IDLE LITERAL+ COMPRESS=DEFLATE CONDSTORE\r\n"
)

// r46Auth are the authentications mech picks (mech % len).
var r46Auth = []func(ctx context.Context, c *commands.Client) error{
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewPlain("", "alice", r46Password))
	},
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewLogin("alice", r46Password))
	},
	func(ctx context.Context, c *commands.Client) error { return c.LoginCRAMMD5(ctx, "alice", r46Password) },
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewSCRAMSHA256("", "alice", r46Password))
	},
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewXOAuth2("alice", r46Token))
	},
	func(ctx context.Context, c *commands.Client) error {
		return c.Authenticate(ctx, auth.NewOAuthBearer("alice", r46Token, "localhost", 143))
	},
	func(ctx context.Context, c *commands.Client) error { return c.Login(ctx, "alice", r46Password) },
	func(ctx context.Context, c *commands.Client) error {
		_, err := c.Session().Capabilities(ctx)
		if err != nil {
			return err
		}
		ac := auth.Credentials{Username: "alice", Password: r46Password}
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
			return []byte(r46Password), nil
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

// r46Ops run after the authentication, in order, whatever it gave.
var r46Ops = []fcOp{
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

// r46Seed is a seed of FuzzReview46EConnect.
type r46Seed struct {
	greeting string
	mech     byte
	raw      bool
	answers  []string
}

// r46Rest answers the operations after authentication: CAPABILITY,
// COMPRESS, SELECT, FETCH, IDLE ("+", an EXISTS, then OK after DONE),
// LOGOUT.
var r46Rest = []string{
	r46After + "%T OK done\r\n",
	"%T OK DEFLATE active\r\n",
	"* 2 EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 3] ok\r\n%T OK [READ-WRITE] selected\r\n",
	"* 1 FETCH (FLAGS (\\Seen) ENVELOPE (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1) BODY[] {3}\r\nabc)\r\n%T OK done\r\n",
	"+ idling\r\n* 3 EXISTS\r\n",
	"%T OK idle done\r\n",
	"* BYE bye\r\n%T OK done\r\n",
}

func r46With(greeting string, mech byte, raw bool, auth ...string) r46Seed {
	return r46Seed{greeting, mech, raw, append(append([]string{}, auth...), r46Rest...)}
}

var r46Seeds = []r46Seed{
	r46With(r46Dovecot, 0, false, "%T OK Logged in\r\n"),
	// Capabilities in the OK: Capability sends nothing.
	{r46Dovecot, 0, false, append([]string{"%T OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] Logged in\r\n"}, r46Rest[1:]...)},
	r46With(r46Cyrus, 1, false, "+ VXNlcm5hbWU6\r\n", "+ UGFzc3dvcmQ6\r\n", "%T OK Success\r\n"),
	r46With(r46Dovecot, 2, false, "+ PDEyMzQ1QGhvc3Q+\r\n", "%T OK done\r\n"),
	r46With(r46Dovecot, 3, false, "+ cj1ub25jZSxzPVFTWENSK1E2c2VrOGJmOTJQLGk9NDA5Ng==\r\n", "%T NO [AUTHENTICATIONFAILED] nonce\r\n"),
	r46With(r46Dovecot, 4, false, "+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJ0b2stcjQ2LUxtM3h5enp5In0=\r\n", "%T NO [AUTHENTICATIONFAILED] tok-r46-Lm3xyzzy\r\n"),
	r46With(r46Dovecot, 5, false, "%T OK done\r\n"),
	r46With(r46Dovecot, 6, false, "%T NO [AUTHENTICATIONFAILED] bad password %L\r\n"),
	r46With(r46Cyrus, 7, false, "+ \r\n", "%T OK done\r\n"),
	r46With(r46Dovecot, 8, false, "+ cGFzcw==\r\n", "+ \r\n", "%T NO no such mechanism %L\r\n"),
	// Raw after COMPRESS: the server's bytes are not a deflate stream.
	r46With(r46Dovecot, 0, true, "%T OK Logged in\r\n"),
	// A pre-authenticated greeting and one that hangs up.
	{"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] ready\r\n", 6, false, r46Rest[1:]},
	{"* BYE [ALERT] \x1b[31mgo away\r\n", 0, false, nil},
	{"* OK [CAPABILITY " + strings.Repeat("X ", 3000) + "] long\r\n", 0, false, r46Rest},
}

// r46Exec runs one exec of FuzzReview46EConnect.
func r46Exec(t *testing.T, greeting []byte, mech byte, raw bool, chunks [][]byte, quiet time.Duration) []error {
	n0 := runtime.NumGoroutine()
	client, server := transport.Pipe()
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		r46Serve(server, greeting, raw, chunks, quiet)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make([]error, len(r46Ops)+2)
	var c *commands.Client
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		c, err = commands.Open(ctx, client, nil)
		if errs[0] = err; err != nil {
			return
		}
		errs[1] = r46Auth[int(mech)%len(r46Auth)](ctx, c)
		for i, op := range r46Ops {
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
		secret := r46Password
		if m := int(mech) % len(r46Auth); m == 4 || m == 5 {
			secret = r46Token
		}
		if i == 1 && strings.Contains(msg, secret) {
			t.Errorf("the authentication's error shows the secret it sent: %q", msg)
		}
	}
	fcCheckGoroutines(t, n0)
	r46CheckHeap(t)
	return errs
}

// r46Heap counts execs for r46CheckHeap.
var r46Heap struct {
	sync.Mutex
	execs uint64
	base  uint64
}

// r46CheckHeap fails, every 500 execs, when the heap in use after a GC
// has grown by more than 128 MiB since the first check.
func r46CheckHeap(t *testing.T) {
	r46Heap.Lock()
	defer r46Heap.Unlock()
	r46Heap.execs++
	if r46Heap.execs%500 != 1 {
		return
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if r46Heap.base == 0 {
		r46Heap.base = ms.HeapInuse
		return
	}
	if ms.HeapInuse > r46Heap.base+128<<20 {
		t.Errorf("heap in use %d MiB, %d MiB at the first check", ms.HeapInuse>>20, r46Heap.base>>20)
	}
}

// r46Serve is FuzzReview46EConnect's server.
func r46Serve(conn net.Conn, greeting []byte, raw bool, chunks [][]byte, quiet time.Duration) {
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

// TestReview46EConnectControl checks FuzzReview46EConnect's harness: with
// the well-formed seeds every step succeeds, so that the fuzzer's execs
// reach COMPRESS and the commands after it.
func TestReview46EConnectControl(t *testing.T) {
	for _, mech := range []byte{0, 1, 2, 6} {
		var s r46Seed
		for _, x := range r46Seeds {
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
		errs := r46Exec(t, []byte(s.greeting), mech, false, chunks, time.Minute)
		// The last error, when there is one past the operations', is
		// the session's end after LOGOUT.
		for i, err := range errs[:len(r46Ops)+2] {
			if err != nil {
				t.Errorf("mech %d: step %d: %v", mech, i, err)
			}
		}
	}
}
