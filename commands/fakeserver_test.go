package commands_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
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
	conn, srv := hostile.Pipe(sc.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, conn, opts)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); srv.Close() })
	ctx, c := selectInbox(t, commands.New(s))
	return ctx, s, c
}

func selectInbox(t *testing.T, c *commands.Client) (context.Context, *commands.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
