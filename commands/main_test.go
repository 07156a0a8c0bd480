package commands_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// One Dovecot serves the whole test binary: started on first use, stopped
// by TestMain. A missing Dovecot fails the tests that need it; nothing is
// skipped. Tests use mailboxes of their own (alice's INBOX holds
// dvSeedCount sample messages and is never changed).

var dove = testserver.Shared{Prefix: "imapkit-commands-", Options: &testserver.Options{Seed: dvSeedCount}}

const dvSeedCount = 30

func TestMain(m *testing.M) {
	code := m.Run()
	if err := dove.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping dovecot:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(leakcheck.Finish(code))
}

func dvServer(tb testing.TB) *testserver.Server {
	tb.Helper()
	return dove.Get(tb)
}

func dvCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// dvClient opens a Client (through package auth) on the plain port,
// logged in as user.
func dvClient(tb testing.TB, user string, opts *session.Options) *commands.Client {
	tb.Helper()
	srv := dvServer(tb)
	ctx := dvCtx(tb)
	conn, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		tb.Fatalf("Dial: %v", err)
	}
	c, err := commands.Open(ctx, conn, &auth.Options{Session: opts})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, user, testserver.Password); err != nil {
		tb.Fatalf("Login: %v", err)
	}
	return c
}

// dvMailbox creates a fresh mailbox of alice holding the sample messages
// first..first+n-1 and returns its name.
var dvMailboxN struct {
	sync.Mutex
	n int
}

func dvMailbox(tb testing.TB, user string, n int) string {
	tb.Helper()
	dvMailboxN.Lock()
	dvMailboxN.n++
	name := fmt.Sprintf("t%d-%s", dvMailboxN.n, sanitize(tb.Name()))
	dvMailboxN.Unlock()
	var msgs [][]byte
	for i := 0; i < n; i++ {
		msgs = append(msgs, testserver.SampleMessage(i))
	}
	if n == 0 {
		c := dvClient(tb, user, nil)
		if err := c.Create(dvCtx(tb), name, nil); err != nil {
			tb.Fatal(err)
		}
		return name
	}
	if err := dvServer(tb).SeedMailbox(user, name, msgs); err != nil {
		tb.Fatal(err)
	}
	return name
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// waitEvents waits until done, which the caller evaluates under its own
// lock, reports true, or 10 s pass. OnUnsolicited runs on a goroutine of
// its own, so a command's end (a NOOP after the events) does not mean the
// handler has run yet: a test that looked at once, or after a fixed sleep,
// failed on a loaded CI machine (TestUIDFetchLeavesFlagChange saw 0 events
// there). Waiting for the expected count, not for a fixed time, keeps the
// check that nothing more arrives to what follows.
func waitEvents(mu *sync.Mutex, done func() bool) {
	deadline := time.Now().Add(10 * time.Second)
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
