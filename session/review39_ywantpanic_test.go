package session_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// TestReview39YWantPanicInBlameFatal: 3fc8c67 marks a Command.Want's call
// (inWant) so that driveFor's recovery, when the panic came from a Want
// called with mu held, unlocks mu. But blame (read.go), which calls
// Pending.wants for an undecodable untagged FETCH, holds mu with a
// deferred Unlock: that Unlock runs while the panic unwinds, and driveFor
// then finds inWant still set and unlocks mu a second time: "fatal error:
// sync: unlock of unlocked mutex", which no recover catches: the whole
// program dies. Here the Want reads the FETCH's envelope (it asked for
// ENVELOPE), nil in the empty FETCH that blame probes Want with, and the
// server sends one FETCH line the codec cannot decode. Run in a child
// process: the fatal error would end the test binary.
func TestReview39YWantPanicInBlameFatal(t *testing.T) {
	if os.Getenv("ZZ_WANT_BLAME_CHILD") == "1" {
		y39WantBlameChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestReview39YWantPanicInBlameFatal$", "-test.v")
	cmd.Env = append(os.Environ(), "ZZ_WANT_BLAME_CHILD=1")
	out, _ := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if strings.Contains(string(out), "fatal error") {
		t.Fatalf("a panic in Command.Want, called by blame for an undecodable FETCH while Next drives, kills the program (fatal error, no recover can catch it); it should reach Next's caller as a panic, with the session aborted")
	}
	if !strings.Contains(string(out), "ZZ: Next came back") {
		t.Fatalf("Next did not come back with the panic")
	}
}

func y39WantBlameChild(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "* 1 FETCH (UID 10 ENVELOPE (NIL \"hi\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
		time.Sleep(200 * time.Millisecond)
		// Undecodable (a UID that is not a number): blamed on the
		// command that wants FETCH.
		io.WriteString(w, "* 2 FETCH (UID xyz ENVELOPE NIL)\r\n")
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "A1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(ctx20(t), conn, &session.Options{TagPrefix: "A"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := pullUIDFetch("(UID ENVELOPE)")
	cmd.Want = func(r codec.Response) bool {
		if f, ok := r.(*codec.Fetch); ok {
			// Only messages with a subject: f.Envelope is there, as
			// ENVELOPE was asked for.
			return len(f.Envelope.Subject) > 0
		}
		return false
	}
	p, err := s.Start(ctx20(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	back := make(chan any, 1)
	go func() {
		defer func() { back <- recover() }()
		for {
			if _, err := p.Next(context.Background()); err != nil {
				t.Logf("Next: %v", err)
				return
			}
		}
	}()
	select {
	case v := <-back:
		t.Logf("ZZ: Next came back: %v", v)
	case <-time.After(5 * time.Second):
		t.Fatal("Next never came back")
	}
	s.Close()
}
