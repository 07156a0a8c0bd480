package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// r44Stream records what OnUnsolicited gets, as short strings.
type r44Stream struct {
	mu  sync.Mutex
	got []string
	ch  chan struct{}
}

func (st *r44Stream) on(r codec.Response) {
	var s string
	switch r := r.(type) {
	case *codec.Exists:
		s = fmt.Sprintf("EXISTS %d", r.Count)
	case *codec.Expunge:
		s = fmt.Sprintf("EXPUNGE %d", r.Seq)
	case *codec.Recent:
		s = fmt.Sprintf("RECENT %d", r.Count)
	case *codec.Vanished:
		s = "VANISHED " + r.UIDs.String()
	case *codec.Fetch:
		s = fmt.Sprintf("FETCH %d", r.Seq)
		if r.Has&codec.FetchUID != 0 {
			s += fmt.Sprintf(" UID %d", r.UID)
		}
	default:
		s = codec.ResponseName(r)
	}
	st.mu.Lock()
	st.got = append(st.got, s)
	st.mu.Unlock()
	if s == "RECENT 77" {
		close(st.ch)
	}
}

// TestReview44SCatchStopRenumbersAfterExpunge: Catch.Stop handed the
// FETCHes it held to OnUnsolicited after the EXPUNGEs (and VANISHEDs)
// that the stream had had at once, when they came: a FETCH by sequence
// number caught before an EXPUNGE of a lower number reached the handler
// after that EXPUNGE with its old number, so a handler following flags
// by sequence number put them on the next message; a FETCH of the
// message expunged came after the EXPUNGE of its own message. Stop now
// renumbers a held FETCH by the EXPUNGEs the stream got after it was
// caught (and drops it when its message was expunged; a VANISHED drops
// it by its UID, and renumbers it by the UIDs below its own).
func TestReview44SCatchStopRenumbersAfterExpunge(t *testing.T) {
	for _, c := range []struct {
		name        string
		first, then string // the untagged responses after CHECK's answer, before NOOP's
		want        string // the stream, after the SELECT's EXISTS
	}{
		{"renumbered", "* 5 FETCH (FLAGS (\\Seen))", "* 3 EXPUNGE",
			"EXPUNGE 3|FETCH 4"},
		{"expunged", "* 5 FETCH (FLAGS (\\Seen))", "* 5 EXPUNGE",
			"EXPUNGE 5"},
		{"higher", "* 5 FETCH (FLAGS (\\Seen))", "* 9 EXPUNGE",
			"EXPUNGE 9|FETCH 5"},
		{"several", "* 5 FETCH (FLAGS (\\Seen))\r\n* 8 FETCH (FLAGS (\\Seen))", "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 6 EXPUNGE",
			"EXPUNGE 1|EXPUNGE 1|EXPUNGE 6|FETCH 3"},
		{"between", "* 5 FETCH (FLAGS (\\Seen))\r\n* 3 EXPUNGE\r\n* 5 FETCH (FLAGS ())", "* 2 EXPUNGE",
			"EXPUNGE 3|EXPUNGE 2|FETCH 3|FETCH 4"},
		{"vanished", "* 5 FETCH (UID 50 FLAGS (\\Seen))\r\n* 6 FETCH (UID 60 FLAGS (\\Seen))", "* VANISHED 20,50",
			"VANISHED 20,50|FETCH 4 UID 60"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &r44Stream{ch: make(chan struct{})}
			var checks atomic.Int32
			s := r42Open(t, &session.Options{OnUnsolicited: st.on}, func(tag, line string) string {
				switch {
				case strings.HasPrefix(line, "CHECK") && checks.Add(1) == 1:
					return tag + " OK done\r\n" + c.first + "\r\n"
				case strings.HasPrefix(line, "NOOP"):
					return c.then + "\r\n" + tag + " OK done\r\n"
				case strings.HasPrefix(line, "CHECK"):
					return "* 77 RECENT\r\n" + tag + " OK done\r\n"
				}
				return tag + " OK done\r\n"
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			run := func(name string) {
				t.Helper()
				if _, err := s.Run(ctx, &session.Command{Name: name}); err != nil {
					t.Fatal(err)
				}
			}
			ca := s.Catch()
			run("CHECK") // the FETCH after its answer is caught
			run("NOOP")  // the EXPUNGE goes to the stream at once
			ca.Stop()
			run("CHECK") // RECENT 77: the end of the stream
			select {
			case <-st.ch:
			case <-ctx.Done():
				t.Fatal("no RECENT 77 on the stream")
			}
			st.mu.Lock()
			got := strings.Join(st.got, "|")
			st.mu.Unlock()
			if want := "EXISTS 100|" + c.want + "|RECENT 77"; got != want {
				t.Errorf("the stream: %s\nwant        %s", got, want)
			}
		})
	}
}

// r44Catch opens a session whose first CHECK answers with first after its
// tagged answer, whose NOOPs answer with then before it, and whose later
// CHECKs with RECENT 77, the end of what st is to wait for.
func r44Catch(t *testing.T, st *r44Stream, first, then string) (*session.Session, func(string)) {
	var checks atomic.Int32
	s := r42Open(t, &session.Options{OnUnsolicited: st.on}, func(tag, line string) string {
		switch {
		case strings.HasPrefix(line, "CHECK") && checks.Add(1) == 1:
			return tag + " OK done\r\n" + first + "\r\n"
		case strings.HasPrefix(line, "NOOP"):
			return then + tag + " OK done\r\n"
		case strings.HasPrefix(line, "CHECK"):
			return "* 77 RECENT\r\n" + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	return s, func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.Run(ctx, &session.Command{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
}

// stream waits for RECENT 77 and returns what the stream got.
func (st *r44Stream) stream(t *testing.T) string {
	t.Helper()
	select {
	case <-st.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no RECENT 77 on the stream")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return strings.Join(st.got, "|")
}

// TestReview44SCatchStopRenumbersOuter: a FETCH an inner Catch held goes
// to the outer one at its Stop, and the outer one's Stop renumbers it by
// what came since it was caught, before and after the inner Stop.
func TestReview44SCatchStopRenumbersOuter(t *testing.T) {
	st := &r44Stream{ch: make(chan struct{})}
	s, run := r44Catch(t, st, "* 5 FETCH (FLAGS (\\Seen))", "* 3 EXPUNGE\r\n")
	outer := s.Catch()
	inner := s.Catch()
	run("CHECK") // FETCH 5, caught by inner
	run("NOOP")  // EXPUNGE 3
	inner.Stop() // FETCH 5 goes to outer
	run("NOOP")  // EXPUNGE 3 again
	outer.Stop()
	run("CHECK")
	if got, want := st.stream(t), "EXISTS 100|EXPUNGE 3|EXPUNGE 3|FETCH 3|RECENT 77"; got != want {
		t.Errorf("the stream: %s\nwant        %s", got, want)
	}
}

// TestReview44SCatchStopRenumberBound: past the EXPUNGEs a Catch
// remembers (1024), a FETCH held across more can not be renumbered: it is
// left out, and counted in DroppedUnsolicited; up to the bound, it is
// renumbered.
func TestReview44SCatchStopRenumberBound(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{1024, "FETCH 5"}, {1025, ""}} {
		t.Run(fmt.Sprint(c.n), func(t *testing.T) {
			st := &r44Stream{ch: make(chan struct{})}
			s, run := r44Catch(t, st, "* 5 FETCH (FLAGS (\\Seen))", strings.Repeat("* 100 EXPUNGE\r\n", c.n))
			ca := s.Catch()
			run("CHECK")
			run("NOOP")
			ev0, _ := s.DroppedUnsolicited()
			ca.Stop()
			ev1, _ := s.DroppedUnsolicited()
			run("CHECK")
			got := st.stream(t)
			fetch := ""
			if i := strings.Index(got, "FETCH"); i >= 0 {
				fetch, _, _ = strings.Cut(got[i:], "|")
			}
			if fetch != c.want {
				t.Errorf("after %d EXPUNGEs, the FETCH on the stream: %q; want %q", c.n, fetch, c.want)
			}
			if dropped := ev1 - ev0; (c.want == "") != (dropped == 1) {
				t.Errorf("Stop counted %d dropped events", dropped)
			}
		})
	}
}

// TestReview44SStallSpeed: session.StallSpeed, the test hook that runs a
// session's stall timeouts faster (TestStallTimeoutWriteDefault), runs the
// read side's too, and the error reports the timeout it stands for: a
// server that answers nothing cuts the session with a stall
// *TimeoutError whose After is the default stall timeout.
func TestReview44SStallSpeed(t *testing.T) {
	session.StallSpeed(t, 200)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		r.ReadString('\n')
		io.Copy(io.Discard, r) // no answer
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Run(ctx20(t), &session.Command{Name: "NOOP"})
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall || te.After != session.DefaultStallTimeout {
		t.Fatalf("NOOP to a silent server: %v; want a stall *TimeoutError after %v", err, session.DefaultStallTimeout)
	}
}

// TestReview44SStallArmedWhenSent: the read side's stall timeout started
// when a command was registered, before its Args ran: the time the
// caller's Args took (a message built there, a file read) counted as the
// server's silence, and a session with nothing else in flight was cut as
// "no byte from the server" before a byte of the command went out. It
// starts once the command is sent now. A command sent before still has
// it: a server that does not answer it is cut while the next command's
// Args runs.
func TestReview44SStallArmedWhenSent(t *testing.T) {
	const stall = 300 * time.Millisecond
	slowArgs := func(e *wire.Encoder) { time.Sleep(4 * stall) }
	t.Run("alone", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				io.WriteString(w, tag+" OK done\r\n")
			}
		})
		s, err := session.Open(ctx20(t), conn, &session.Options{StallTimeout: stall})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Run(ctx20(t), &session.Command{Name: "NOOP", Args: slowArgs}); err != nil {
			t.Fatalf("NOOP whose Args takes four stall timeouts, to a server that answers: %v", err)
		}
	})
	t.Run("behind", func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, lmGreeting)
			io.Copy(io.Discard, r) // no answer
		})
		s, err := session.Open(ctx20(t), conn, &session.Options{StallTimeout: stall})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		status := func(mbox string) func(*wire.Encoder) {
			return func(e *wire.Encoder) { e.SP().Mailbox(mbox).SP().List(func(e *wire.Encoder) { e.Atom("MESSAGES") }) }
		}
		p, err := s.Start(ctx20(t), &session.Command{Name: "STATUS", Args: status("a")})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		in := make(chan struct{})
		var calls atomic.Int32
		go func() {
			// STATUS b pipelines behind STATUS a; its Args runs when
			// it is sent, registered, and takes its time.
			_, err := s.Run(ctx20(t), &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) {
				status("b")(e)
				if calls.Add(1) == 1 {
					close(in)
				}
				time.Sleep(4 * stall)
			}})
			done <- err
		}()
		<-in
		_, err = p.Wait(ctx20(t))
		var te *session.TimeoutError
		if !errors.As(err, &te) || te.What != session.TimeoutStall {
			t.Errorf("STATUS sent to a server that does not answer, the next command's Args running: %v; want a stall *TimeoutError", err)
		}
		if err := <-done; err == nil {
			t.Error("the STATUS behind it succeeded; want the session's abort")
		}
	})
}
