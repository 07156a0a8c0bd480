package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestReview41TContinueAfterAbortIsNotCommandEnded: the server sends "+" to an
// AUTHENTICATE and then drops the connection, never answering the
// command. Continue must report the session's end (an *AbortError,
// ErrAborted), as it did before 2eae8f6, not ErrCommandEnded, which is
// documented as "the server answered it before the line was written"
// (docs/errors.md: "after the server had ended the command").
func TestReview41TContinueAfterAbortIsNotCommandEnded(t *testing.T) {
	ctx, s := r41Open(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		if _, err := c.Until("AUTHENTICATE"); err != nil {
			return err
		}
		c.Line("+ Y2hhbGxlbmdl")
		return c.Close() // no tagged answer: the connection is lost
	})
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation")
	}
	for s.Err() == nil && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(s.Err(), session.ErrAborted) {
		t.Fatalf("session error %v; want an abort", s.Err())
	}
	err = p.Continue(ctx, []byte("cmVzcG9uc2U="))
	if errors.Is(err, session.ErrCommandEnded) {
		t.Fatalf("Continue after the connection was lost (no answer from the server): %v; want the session's error (%v), not ErrCommandEnded (\"the server answered it\")", err, s.Err())
	}
	if !errors.Is(err, session.ErrAborted) {
		t.Fatalf("Continue: %v; want an error matching ErrAborted", err)
	}
}

// TestReview41UWantPanicInSectionHandler: a Command.Want that panics
// (user code: docs/session.md says such a panic ends the program, and
// efd821f says a panic of the user's code run within the decoder "is not
// caught and goes on as before") is called by the session's
// sectionHandler from within the decoder, with s.mu held
// (targetLocked -> routeLocked -> callWant). decodeNext's recover takes
// it for a decoder bug (only Sections and reads are marked as user code),
// and the session then takes s.mu again (readOne's s.Err()): the reader
// goroutine deadlocks on its own lock, and every later call that needs
// it, Close included, hangs for ever. Run in a child process: the child
// must end with the Want's panic, not hang.
func TestReview41UWantPanicInSectionHandler(t *testing.T) {
	if os.Getenv("IMAPKIT_ZZ41_CHILD") == "1" {
		r41WantPanicChild(t)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReview41UWantPanicInSectionHandler$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "IMAPKIT_ZZ41_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(25 * time.Second):
		// Its goroutines' stacks show where it is stuck.
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		t.Fatalf("the child hung: its Run (5 s context) and Close never returned (SIGQUIT after 25 s); output:\n%s", r41Trim(out.String()))
	}
	s := out.String()
	if strings.Contains(s, "ZZ: Close hung") {
		t.Fatalf("the Want's panic was swallowed and the session deadlocked: Close never returned; output:\n%s", s)
	}
	if err == nil || !strings.Contains(s, "panic: the user's Want panics") || strings.Contains(s, "a bug in imapkit") {
		t.Fatalf("want the Want's own panic to end the child; err %v, output:\n%s", err, s)
	}
}

func r41WantPanicChild(t *testing.T) {
	ctx, s := r41Open(t, 5*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1")
		cmd, err := c.Until("FETCH")
		if err != nil {
			return err
		}
		c.Line("* 1 FETCH (UID 7 BODY[] {5000}\r\n" + strings.Repeat("x", 5000) + ")")
		c.Reply(cmd.Tag, "OK")
		return c.Serve()
	})
	_, err := s.Run(ctx, &session.Command{Name: "FETCH", AnyState: true,
		Args: func(e *wire.Encoder) { e.SP().Raw("1").SP().Raw("(BODY[])") },
		Want: func(codec.Response) bool { panic("the user's Want panics") },
		Sections: func(_ *codec.Fetch, _ *codec.Section, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		}})
	fmt.Printf("ZZ: Run returned %v\n", err)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		fmt.Println("ZZ: Close returned")
	case <-time.After(5 * time.Second):
		fmt.Println("ZZ: Close hung")
		os.Exit(7)
	}
}

// r41Trim keeps, of the child's output, what is not a goroutine's stack
// and the stacks that go through this module (where it is stuck).
// r41Open opens a session on a scripted hostile server running script,
// with a context of the given timeout; the session, the server and the
// context end with the test.
func r41Open(t *testing.T, timeout time.Duration, script func(c *hostile.Conn) error) (context.Context, *session.Session) {
	t.Helper()
	conn, srv := hostile.Pipe(script)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ctx, s
}

func r41Trim(s string) string {
	var b strings.Builder
	for i, block := range strings.Split(s, "\n\n") {
		if i == 0 || !strings.HasPrefix(block, "goroutine ") || strings.Contains(block, "imapkit/imapkit/session") {
			b.WriteString(block)
			b.WriteString("\n\n")
		}
	}
	return b.String()
}
