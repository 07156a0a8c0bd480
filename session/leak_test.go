package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// The tests in this file check that a session leaves no goroutine behind
// once it is over: after Close, after Logout, and after an abort, with no
// Close at all. They look for goroutines with a frame in package session
// (or transport, whose command connections have goroutines of their own)
// that were not there before, so that goroutines of other tests do not
// count.

// lkPackages are the frames that mark a goroutine as the session's.
var lkPackages = []string{"github.com/imapkit/imapkit/session.", "github.com/imapkit/imapkit/transport."}

// lkGoroutines returns the stacks of the goroutines that run code of
// lkPackages, by goroutine id.
func lkGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		header, _, _ := bytes.Cut(g, []byte("\n"))
		id, ok := bytes.CutPrefix(header, []byte("goroutine "))
		if !ok {
			continue
		}
		id, _, _ = bytes.Cut(id, []byte(" "))
		for _, p := range lkPackages {
			if bytes.Contains(g, []byte(p)) {
				out[string(id)] = string(g)
				break
			}
		}
	}
	return out
}

// lkCheck records the goroutines now and returns a function that fails the
// test if goroutines of the session are left that were not there at the
// start, waiting for them up to leakcheck.Hang; it also compares
// runtime.NumGoroutine.
func lkCheck(t *testing.T) func() {
	t.Helper()
	before := lkGoroutines()
	n0 := runtime.NumGoroutine()
	return func() {
		t.Helper()
		var left []string
		if leakcheck.Until(leakcheck.Hang, func() bool {
			left = left[:0]
			for id, stack := range lkGoroutines() {
				if _, old := before[id]; !old {
					left = append(left, stack)
				}
			}
			return len(left) == 0 && runtime.NumGoroutine() <= n0
		}) {
			return
		}
		sort.Strings(left)
		if len(left) > 0 {
			t.Errorf("%d goroutines of the session left:\n\n%s", len(left), strings.Join(left, "\n\n"))
		} else {
			// Not the session's: reported, not failed (other tests'
			// goroutines may still be winding down).
			t.Logf("runtime.NumGoroutine() = %d after, %d before", runtime.NumGoroutine(), n0)
		}
	}
}

func TestLeakClose(t *testing.T) {
	dvServer(t) // started before counting
	check := lkCheck(t)
	ev := newDvEvents()
	s := dvDialUser(t, testserver.Alice, &session.Options{OnUnsolicited: ev.add, StallTimeout: time.Second})
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	dvRun(t, s, &session.Command{Name: "UID FETCH", Args: dvRaw("1:* (UID FLAGS)")})
	ev.waitFor(t, dvHang, func(l []codec.Response) bool { return len(l) > 0 })
	s.Close()
	check()
}

func TestLeakCloseInFlight(t *testing.T) {
	dvServer(t)
	check := lkCheck(t)
	s, gate := dvDialGate(t, &session.Options{OnUnsolicited: func(codec.Response) {}})
	ctx := dvCtx(t)
	gate.shut() // no answer
	p, err := s.Start(ctx, dvLoginCmd(testserver.Alice, testserver.Password))
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() { _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); queued <- err }()
	for deadline := time.Now().Add(hangBound); session.Waiting(s) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the NOOP waits behind LOGIN
	}
	s.Close()
	if _, err := p.Wait(ctx); !errors.Is(err, session.ErrClosed) {
		t.Errorf("Wait: %v; want ErrClosed", err)
	}
	if err := <-queued; !errors.Is(err, session.ErrClosed) {
		t.Errorf("queued NOOP: %v; want ErrClosed", err)
	}
	check()
}

func TestLeakLogout(t *testing.T) {
	dvServer(t)
	check := lkCheck(t)
	s := dvDialUser(t, testserver.Alice, &session.Options{OnUnsolicited: func(codec.Response) {}})
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	if err := s.Logout(dvCtx(t)); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestLeakStream: Close ends the PREAUTH child process and the transport's
// goroutines too.
func TestLeakStream(t *testing.T) {
	srv := dvServer(t)
	check := lkCheck(t)
	argv := srv.StreamCommand(testserver.Alice)
	conn, err := transport.Exec(dvCtx(t), argv[0], argv[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	s := dvOpen(t, conn, nil)
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	s.Close()
	check()
}

// TestLeakServerBye: Dovecot says BYE and hangs up after 20 invalid
// commands; the session aborts and its goroutines end without Close.
func TestLeakServerBye(t *testing.T) {
	dvServer(t)
	check := lkCheck(t)
	raw, err := transport.Dial(dvCtx(t), dvServer(t).PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(dvCtx(t), raw, &session.Options{OnUnsolicited: func(codec.Response) {}})
	if err != nil {
		t.Fatal(err)
	}
	dvLogin(t, s, testserver.Alice, testserver.Password)
	var last error
	for i := 0; i < 30 && !errors.Is(last, session.ErrAborted); i++ {
		_, last = s.Run(dvCtx(t), &session.Command{Name: "XBOGUS"})
	}
	var ae *session.AbortError
	if !errors.As(last, &ae) || !strings.Contains(ae.Error(), "BYE") {
		t.Fatalf("after 30 invalid commands: %v; want an abort for BYE", last)
	}
	// The last lines, BYE among them (a command may have crossed it).
	if h := strings.Join(ae.History, "\n"); !strings.Contains(h, "S: * BYE") {
		t.Errorf("AbortError.History = %q; want the last lines, BYE included", ae.History)
	}
	if !errors.Is(s.Err(), session.ErrAborted) || s.State() != session.StateLogout {
		t.Errorf("Err() = %v, State() = %v", s.Err(), s.State())
	}
	check()
	s.Close()
}

// lkServer is a scripted server on the far end of a transport.Pipe: it
// sends the greeting, answers each command line with reply(line) and
// returns when reply returns "" or the connection ends.
func lkServer(conn net.Conn, greeting string, reply func(line string) string) {
	defer conn.Close()
	if _, err := io.WriteString(conn, greeting+"\r\n"); err != nil {
		return
	}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		out := reply(strings.TrimRight(line, "\r\n"))
		if out == "" {
			return
		}
		if _, err := io.WriteString(conn, out); err != nil {
			return
		}
	}
}

// TestLeakServerHangsUp: the server closes the connection while a command
// waits for its answer.
func TestLeakServerHangsUp(t *testing.T) {
	check := lkCheck(t)
	client, server := transport.Pipe()
	go lkServer(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi", func(line string) string {
		if strings.HasSuffix(line, " NOOP") {
			return "" // hang up
		}
		tag, _, _ := strings.Cut(line, " ")
		return tag + " OK done\r\n"
	})
	s, err := session.Open(dvCtx(t), client, &session.Options{TagPrefix: "A", OnUnsolicited: func(codec.Response) {}})
	if err != nil {
		t.Fatal(err)
	}
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	_, err = s.Run(dvCtx(t), &session.Command{Name: "NOOP"})
	if !errors.Is(err, session.ErrAborted) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("NOOP: %v; want ErrAborted wrapping io.ErrUnexpectedEOF", err)
	}
	check()
	s.Close()
}

// TestLeakIdleTimeout: a server that stops answering (one untagged line
// to the NOOP, then nothing); the stall timeout aborts the session, whose
// goroutines end without Close. With the defaults, in a testing/synctest
// bubble: the cut comes on the bubble's clock, between one stall timeout
// and 1/16 more after the NOOP (the line pushed it, docs/limits.md),
// however loaded the machine. It ran with a 100 ms StallTimeout and
// failed past 2 s of wall time, which a loaded machine could reach.
func TestLeakIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check := lkCheck(t)
		client, server := transport.Pipe()
		defer server.Close()
		go lkServer(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi", func(line string) string {
			if strings.HasSuffix(line, " NOOP") {
				return "* OK working\r\n" // and never answered
			}
			tag, _, _ := strings.Cut(line, " ")
			return tag + " OK done\r\n"
		})
		s, err := session.Open(dvCtx(t), client, &session.Options{TagPrefix: "A"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		_, err = s.Run(ctx, &session.Command{Name: "NOOP"})
		d := time.Since(start) // on the bubble's clock
		var te *session.TimeoutError
		if !errors.Is(err, session.ErrAborted) || !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Errorf("NOOP to a silent server: %v after %v; want an abort with a stall *TimeoutError", err, d)
		}
		if lo, hi := session.DefaultStallTimeout, session.DefaultStallTimeout+session.DefaultStallTimeout/16; d < lo || d > hi {
			t.Errorf("NOOP to a silent server cut after %v; want between %v and %v", d, lo, hi)
		}
		check()
		s.Close()
	})
}

// TestLeakOpenFails: a refused greeting and a cancelled Open leave nothing.
func TestLeakOpenFails(t *testing.T) {
	check := lkCheck(t)
	client, server := transport.Pipe()
	go lkServer(server, "* BYE too busy", func(string) string { return "" })
	if s, err := session.Open(dvCtx(t), client, nil); err == nil || !strings.Contains(err.Error(), "too busy") {
		t.Errorf("Open with * BYE: %v, %v", s, err)
	}
	client, server = transport.Pipe()
	defer server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := session.Open(ctx, client, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open without a greeting: %v; want context.DeadlineExceeded", err)
	}
	check()
}

// TestLeakDone: Close finds OnUnsolicited running and returns without
// waiting for it (it cannot tell the handler's goroutine from another's);
// Done stays open while the handler runs, with a response still queued
// behind it, and is closed once the handler has returned and had the
// queued one. Without a handler, Done is closed when Close returns.
func TestLeakDone(t *testing.T) {
	check := lkCheck(t)
	client, server := transport.Pipe()
	go lkServer(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi", func(line string) string {
		tag, _, _ := strings.Cut(line, " ")
		return "* 3 EXISTS\r\n* 4 EXISTS\r\n" + tag + " OK done\r\n"
	})
	entered, release := make(chan struct{}), make(chan struct{})
	var got []codec.Response // written by the handler only; read after Done
	s, err := session.Open(dvCtx(t), client, &session.Options{OnUnsolicited: func(r codec.Response) {
		got = append(got, r)
		if len(got) == 1 {
			close(entered)
			<-release
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	dvRun(t, s, &session.Command{Name: "NOOP"})
	<-entered
	s.Close() // returns with the handler still blocked
	select {
	case <-s.Done():
		t.Fatal("Done closed while OnUnsolicited still runs")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after OnUnsolicited returned")
	}
	if len(got) != 2 {
		t.Errorf("OnUnsolicited had %d responses before Done; want both EXISTS", len(got))
	}
	check()

	client, server = transport.Pipe()
	go lkServer(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi", func(line string) string {
		tag, _, _ := strings.Cut(line, " ")
		return tag + " OK done\r\n"
	})
	s, err = session.Open(dvCtx(t), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
		t.Fatal("Done closed while the session runs")
	default:
	}
	s.Close()
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed when Close returned (no handler)")
	}
	check()
}
