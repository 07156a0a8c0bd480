package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// c39PanicWriter panics on the first write holding marker.
type c39PanicWriter struct{ marker string }

func (w *c39PanicWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.marker)) {
		panic("zz: trace writer panics")
	}
	return len(p), nil
}

// c39Child runs the test named name in a child process with ZZ_CHILD=1
// and returns its combined output.
func c39Child(t *testing.T, name string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "ZZ_CHILD=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestReview39CTracePanicInNextIsFatal: a Trace writer (or a slog handler, or
// another command's OnData/Sections) that panics while a pulled command's
// caller drives the reading coroutine in Next. The panic comes out of
// s.co.next() with s.mu unlocked, and Next's deferred s.mu.Unlock() turns
// it into "fatal error: sync: unlock of unlocked mutex": the process dies
// whatever the caller's recover, and the session state (co.running) would
// be left claimed anyway. Run in a child process: a fatal error cannot
// be caught.
func TestReview39CTracePanicInNextIsFatal(t *testing.T) {
	if os.Getenv("ZZ_CHILD") == "1" {
		c39TracePanicChild(t)
		return
	}
	out, err := c39Child(t, "TestReview39CTracePanicInNextIsFatal")
	if !strings.Contains(out, "ZZ RECOVERED") {
		t.Fatalf("the trace writer's panic did not reach the caller of Next as a panic (err %v):\n%s", err, c39FirstLines(out, 12))
	}
}

func c39FirstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

func c39TracePanicChild(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		// The caller waits in Next before the first response comes, so
		// that it is lent to it and the caller reads the second itself
		// (sent at once, the first was queued, and the reader goroutine,
		// reading on, met the panic: 1 run in 10 under -race).
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "* 1 FETCH (UID 10)\r\n")
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "* 2 FETCH (UID 20)\r\n")
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(ctx20(t), conn, &session.Options{TagPrefix: "A", Trace: &c39PanicWriter{marker: "* 2 FETCH"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Start(ctx20(t), pullUIDFetch("(UID)"))
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				println("ZZ RECOVERED", v.(string))
			}
		}()
		for {
			_, err := p.Next(context.Background())
			if err != nil {
				return
			}
		}
	}()
	s.Close()
}

// c39OncePanicWriter panics on the first write holding marker, once.
type c39OncePanicWriter struct {
	marker string
	done   bool
}

func (w *c39OncePanicWriter) Write(p []byte) (int, error) {
	if !w.done && bytes.Contains(p, []byte(w.marker)) {
		w.done = true
		panic("zz: trace writer panics")
	}
	return len(p), nil
}

// TestReview39CTracePanicOnSend: the Trace writer panics as a command's line is
// traced (recovered by the caller of Run). The command stays registered
// in flight, never sent and never finished: every command that waits for
// the commands in flight (LOGOUT, SELECT, ...) waits for it, and with
// the defaults the session is aborted StallTimeout (60 s) later with
// "no byte from the server", though nothing was asked of the server.
func TestReview39CTracePanicOnSend(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			io.WriteString(w, tag+" OK "+rest+" done\r\n")
		}
	})
	s, err := session.Open(ctx20(t), conn, &session.Options{TagPrefix: "A", Trace: &c39OncePanicWriter{marker: "NOOP"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	func() {
		defer func() { recover() }()
		s.Run(ctx20(t), &session.Command{Name: "NOOP"})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range []string{"CHECK", "LOGOUT"} {
		if _, err := s.Run(ctx, &session.Command{Name: name, AnyState: true}); err != nil && !errors.Is(err, session.ErrClosed) {
			t.Fatalf("%s after a panic in the trace writer: %v", name, err)
		}
	}
}

// TestReview39CArgsPanic: a Command's Args function panics as the command is
// encoded (recovered by the caller of Run): nothing was sent, but the
// command stays in flight as in TestReview39CTracePanicOnSend: LOGOUT waits for
// it, and the session is aborted StallTimeout later.
func TestReview39CArgsPanic(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
			io.WriteString(w, tag+" OK "+rest+" done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	p := func() (v any) {
		defer func() { v = recover() }()
		s.Run(ctx20(t), &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) { panic("zz: Args panics") }})
		return nil
	}()
	if p == nil {
		t.Fatal("no panic")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "LOGOUT"}); err != nil && !errors.Is(err, session.ErrClosed) {
		t.Fatalf("LOGOUT after a panic in a command's Args: %v", err)
	}
}
