package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// recoverPanic runs f and reports whether it panicked.
func recoverPanic(f func()) (panicked any) {
	defer func() { panicked = recover() }()
	f()
	return nil
}

// TestIdlePanicThenCommand: Idle's onEvent panics (recovered by the
// caller, as net/http recovers a handler's panic). Idle's deferred
// clean-up stops its timers and goroutines but never ends the IDLE: it
// stays in flight, nobody sends DONE, and every later command waits for
// it for ever (IDLE is exempt from StallTimeout and CommandTimeout).
// Now the session is aborted: a later command fails at once, saying so.
func TestIdlePanicThenCommand(t *testing.T) {
	// Parallel: it waits for another session's append; its own mailbox;
	// it looks at nothing process-wide.
	t.Parallel()
	pluses := &plusLines{c: make(chan struct{}, 64)}
	c := dvClient(t, testserver.Alice, &session.Options{Trace: pluses})
	mbox := dvMailbox(t, testserver.Alice, 1)
	ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
	if _, err := c.Select(ctx, mbox, nil); err != nil {
		t.Fatal(err)
	}
	other := dvClient(t, testserver.Alice, nil)
	// The other session appends once the IDLE is under way (its "+"),
	// not 0.5 s in, which a loaded machine could reach first. It gives
	// up when the test ends (the handler's panic came, or the test
	// failed).
	actx, stopAppend := context.WithCancel(ctx)
	appended := make(chan struct{})
	defer func() { stopAppend(); <-appended }()
	go func() {
		defer close(appended)
		if pluses.next(actx) == nil {
			other.AppendBytes(actx, mbox, testserver.SampleMessage(2), nil)
		}
	}()
	p := recoverPanic(func() {
		c.Idle(ctx, nil, func(r codec.Response) bool { panic("boom in onEvent") })
	})
	if p == nil {
		t.Fatal("no panic")
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Fixed: the session is aborted (no DONE can be sent for sure
	// from a panicking handler), and the next command says why at once.
	if err := c.Noop(nctx); err != nil && (nctx.Err() != nil || !strings.Contains(err.Error(), "panicked")) {
		t.Fatalf("Noop after a panic in Idle's onEvent: %v", err)
	}
}

// seedBigMessages seeds a fresh mailbox with n messages of about size bytes,
// message i's body made of the letter 'a'+i.
func seedBigMessages(t *testing.T, n, size int) string {
	t.Helper()
	var msgs [][]byte
	for i := 0; i < n; i++ {
		body := strings.Repeat(strings.Repeat(string(rune('a'+i)), 76)+"\r\n", size/78)
		msgs = append(msgs, []byte(fmt.Sprintf("From: a@example.org\r\nTo: b@example.org\r\nSubject: m%d\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n%s", i, body)))
	}
	dvMailboxN.Lock()
	dvMailboxN.n++
	name := fmt.Sprintf("zz%d-%s", dvMailboxN.n, sanitize(t.Name()))
	dvMailboxN.Unlock()
	if err := dvServer(t).SeedMailbox(testserver.Alice, name, msgs); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestFetchPanicKeepsSectionLive: a loop body that panics (recovered by
// the caller) while it holds a section read in place (over BufferMax,
// under the string limit: in the decoder's memory). Later, the section
// must read its own bytes or fail with ErrSectionGone, never another
// message's bytes.
func TestFetchPanicKeepsSectionLive(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mbox := seedBigMessages(t, 4, 20000)
	if _, err := c.Select(ctx, mbox, nil); err != nil {
		t.Fatal(err)
	}
	var kept *commands.Section
	p := recoverPanic(func() {
		for m, err := range c.Fetch(ctx, commands.SeqNums(1, 2, 3, 4), &commands.FetchItems{Sections: []commands.FetchSection{commands.TextSection}}) {
			if err != nil {
				t.Fatal(err)
			}
			sec, err := m.NextSection()
			if err != nil {
				t.Fatal(err)
			}
			kept = sec
			panic("boom in Fetch body")
		}
	})
	if p == nil {
		t.Fatal("no panic")
	}
	// Other commands reuse the decoder's memory.
	for i := 0; i < 3; i++ {
		if _, err := c.FetchAll(ctx, commands.SeqNums(2, 3, 4), &commands.FetchItems{Sections: []commands.FetchSection{commands.TextSection}}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := io.ReadAll(kept)
	if errors.Is(err, commands.ErrSectionGone) {
		return
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if bytes.ContainsAny(b, "bcd") || !bytes.Contains(b, []byte("aaaa")) {
		t.Fatalf("the section of message 1 kept past a panic in the loop body read other bytes, no error: %q...", b[:min(len(b), 200)])
	}
	t.Logf("read %d bytes of its own", len(b))
}

// panicAfterReader gives n bytes of a message then panics.
type panicAfterReader struct {
	head []byte
	n    int
	off  int
}

func (r *panicAfterReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		panic("zz: message reader panics")
	}
	k := 0
	for k < len(p) && r.off < r.n {
		if r.off < len(r.head) {
			p[k] = r.head[r.off]
		} else if r.off%78 == 76 {
			p[k] = '\r'
		} else if r.off%78 == 77 {
			p[k] = '\n'
		} else {
			p[k] = 'x'
		}
		k++
		r.off++
	}
	return k, nil
}

// syncTrace is a Trace writer safe for concurrent use.
type syncTrace struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncTrace) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncTrace) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestAppendReaderPanic: the io.Reader given to Append panics half way
// through the message (recovered by the caller, as net/http recovers a
// handler's panic). The literal is half sent, and the session goes on as
// if nothing happened: the next command's bytes complete the literal and
// are stored in the message, and the command is never answered.
func TestAppendReaderPanic(t *testing.T) {
	tr := &syncTrace{}
	c := dvClient(t, testserver.Alice, &session.Options{TagPrefix: "Z", Trace: tr})
	ctx := dvCtx(t)
	mbox := dvMailbox(t, testserver.Alice, 0)
	// The tags so far: the APPEND's is the next, the CREATE's after it.
	tags := 0
	for _, l := range strings.Split(tr.String(), "\n") {
		if strings.HasPrefix(l, "C: Z") {
			tags++
		}
	}
	const name = "zzpad"
	next := fmt.Sprintf("Z%d CREATE %s", tags+2, name) // after the APPEND's tag
	head := []byte("From: a@example.org\r\nSubject: zz\r\n\r\n")
	const sent = 40000
	r := &panicAfterReader{head: head, n: sent}
	p := recoverPanic(func() {
		c.Append(ctx, mbox, r, int64(sent+len(next)), nil)
	})
	if p == nil {
		t.Fatal("no panic")
	}
	serr := c.Session().Err()
	nctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cerr := c.Create(nctx, name, nil)
	t.Logf("after the panic: session err %v; then Create: %v", serr, cerr)
	other := dvClient(t, testserver.Alice, nil)
	if st, err := other.Select(ctx, mbox, nil); err != nil {
		t.Fatal(err)
	} else if st.Exists == 0 {
		return // nothing stored: the APPEND was cut with the session
	}
	for m, err := range other.Fetch(ctx, commands.SeqNums(1), &commands.FetchItems{Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		sec, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(sec)
		if bytes.Contains(b, []byte(next)) {
			t.Fatalf("a panic in Append's reader left the literal open: the next command's bytes were stored in the message (it ends %q); the session was not aborted (Err %v), Create returned %v", b[len(b)-40:], serr, cerr)
		}
	}
}

// TestAuthenticatePanic: the SASL function of AuthenticateFunc panics
// at the server's first challenge (recovered by the caller): the
// AUTHENTICATE is left waiting for an answer at the server. A Login after
// it must not hang nor send its credentials as the SASL answer.
func TestAuthenticatePanic(t *testing.T) {
	srv := dvServer(t)
	ctx := dvCtx(t)
	conn, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &syncTrace{}
	c, err := commands.Open(ctx, conn, &auth.Options{Session: &session.Options{Trace: tr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	p := recoverPanic(func() {
		c.AuthenticateFunc(ctx, "LOGIN", func(ch []byte) ([]byte, error) { panic("zz: SASL function panics") })
	})
	if p == nil {
		t.Fatal("no panic")
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = c.Login(lctx, testserver.Alice, testserver.Password)
	t.Logf("trace:\n%s", tr.String())
	if err != nil {
		t.Fatalf("Login after a panic in the SASL function: %v (session err %v)", err, c.Session().Err())
	}
}
