// Package transcript plays the server's side of a C:/S: transcript over an
// in-memory [transport.Pipe], for the tests of session, auth and commands.
// It is the test kit's mock server, in the way pgx's pgmock is: a test
// writes the exchange it expects, runs the client against the pipe, and the
// player fails the test when the client sends anything else, sends it
// early, or sends more.
//
// # Script
//
// A script is text, one directive a line. Leading tabs and spaces are
// ignored, so scripts can be indented in Go raw strings; so are blank lines
// and lines starting with "#".
//
//	S: text    the server writes text and CRLF ("S:" alone writes an empty line)
//	C: text    the client's next line must be text and CRLF, byte for byte,
//	           within ReadTimeout ("C:" alone is an empty line)
//	QUIET d    nothing may arrive from the client for d (a time.ParseDuration
//	           string): this is how a script proves that the client waited
//	SLEEP d    the server pauses for d; the client may send meanwhile, so
//	           SLEEP proves nothing about the client's timing
//	EOF        the client must close the connection (within ReadTimeout)
//
// After the last directive, the client may send nothing more for EndQuiet:
// a complete or partial line is an error. A directive the player does not
// know, or a duration that does not parse, fails the test before anything
// is played.
//
// QUIET is exact in a testing/synctest bubble, where its deadline passes
// only once every goroutine of the bubble is blocked: a line the client sent
// before that is waiting in the pipe, and a line the client would send only
// after time moves on comes after the QUIET. On the wall clock it is
// one-sided: a client that waits for the server's next line never fails it,
// however loaded the machine, but a client that waits for a timer may be
// seen sending early (the player kept off the CPU past the client's pause),
// and a client that sends early may be missed (the player kept off the CPU
// past the QUIET's deadline: the [transport.Pipe], like TCP, fails a Read
// whose deadline has passed even with data waiting). Scripts whose client
// waits for a timer belong in a bubble.
//
// The player checks order and, with QUIET, timing. Deterministic tags
// (session.Options.TagPrefix "A", as [Open] sets) make the client's lines
// exact.
package transcript

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// Timeouts of the player. ReadTimeout and FinishTimeout only stop a client
// that hangs: CI runs three packages' tests at once under -race on 2
// cores, where a loaded machine may be 20 times slower than usual, so they
// are minutes, not seconds; a passing test never waits them out.
const (
	// ReadTimeout bounds the wait for each C: line and for EOF.
	ReadTimeout = time.Minute
	// EndQuiet is how long the client must stay silent after the script.
	EndQuiet = 100 * time.Millisecond
	// FinishTimeout bounds the wait for the whole script in Wait.
	FinishTimeout = 5 * time.Minute
)

// TB is the part of testing.TB the package uses; *testing.T is one.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Kind is the kind of a Step.
type Kind int

// The kinds of steps, one per directive.
const (
	Send  Kind = iota // S:
	Want              // C:
	Quiet             // QUIET
	Sleep             // SLEEP
	EOF               // EOF
)

// Step is one parsed directive.
type Step struct {
	Line int           // 1-based line number in the script
	Kind Kind          // what to do
	Text string        // for Send and Want: the line without CRLF
	D    time.Duration // for Quiet and Sleep
}

// Parse parses a script. An unknown directive or a duration that does not
// parse is an error naming its line.
func Parse(script string) ([]Step, error) {
	var steps []Step
	for i, line := range strings.Split(script, "\n") {
		line = strings.TrimRight(strings.TrimLeft(line, " \t"), "\r")
		n := i + 1
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "S:" || strings.HasPrefix(line, "S: "):
			steps = append(steps, Step{Line: n, Kind: Send, Text: strings.TrimPrefix(line[2:], " ")})
		case line == "C:" || strings.HasPrefix(line, "C: "):
			steps = append(steps, Step{Line: n, Kind: Want, Text: strings.TrimPrefix(line[2:], " ")})
		case line == "EOF":
			steps = append(steps, Step{Line: n, Kind: EOF})
		case strings.HasPrefix(line, "QUIET ") || strings.HasPrefix(line, "SLEEP "):
			d, err := time.ParseDuration(strings.TrimSpace(line[6:]))
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("transcript line %d: %q: want a positive duration (%v)", n, line, err)
			}
			k := Quiet
			if line[0] == 'S' {
				k = Sleep
			}
			steps = append(steps, Step{Line: n, Kind: k, D: d})
		default:
			return nil, fmt.Errorf("transcript line %d: bad directive %q", n, line)
		}
	}
	return steps, nil
}

// ReadFile returns the script in the file at path, failing the test if it
// cannot be read.
func ReadFile(t TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return string(b)
}

// Start parses script (failing the test on a parse error) and plays it as
// the server in a goroutine. It returns the client's end of the pipe and a
// function that waits for the script to finish and reports the first
// mismatch. The result must be checked: if the test has not called wait by
// the time its cleanups run, Start's cleanup calls it and reports an error
// with t.Errorf. Register cleanups that close the client (as [Open] does)
// after calling Start, so that they run first.
func Start(t TB, script string) (client net.Conn, wait func() error) {
	t.Helper()
	steps, err := Parse(script)
	if err != nil {
		t.Fatalf("%v", err)
	}
	client, server := transport.Pipe()
	done := make(chan error, 1)
	go func() {
		defer server.Close()
		done <- play(server, steps)
	}()
	var (
		waited bool
		result error
	)
	wait = func() error {
		if !waited {
			waited = true
			select {
			case result = <-done:
			case <-time.After(FinishTimeout):
				result = errors.New("transcript: the script did not finish")
			}
		}
		return result
	}
	t.Cleanup(func() {
		if !waited {
			if err := wait(); err != nil {
				t.Errorf("transcript (result not checked by the test): %v", err)
			}
		}
	})
	return client, wait
}

func play(server net.Conn, steps []Step) error {
	r := bufio.NewReader(server)
	for _, st := range steps {
		switch st.Kind {
		case Send:
			if _, err := io.WriteString(server, st.Text+"\r\n"); err != nil {
				return fmt.Errorf("line %d: write %q: %v", st.Line, st.Text, err)
			}
		case Want:
			want := st.Text + "\r\n"
			server.SetReadDeadline(time.Now().Add(ReadTimeout))
			got, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("line %d: want %q; client sent %q, then %v", st.Line, want, got, err)
			}
			if got != want {
				return fmt.Errorf("line %d: client sent %q; want %q", st.Line, got, want)
			}
		case Quiet:
			// In a bubble the deadline passes once all goroutines are
			// blocked, so whatever the client sent before is waiting:
			// Peek returns it before the deadline can pass.
			server.SetReadDeadline(time.Now().Add(st.D))
			if _, err := r.Peek(1); err == nil {
				b, _ := r.Peek(r.Buffered())
				return fmt.Errorf("line %d: the client sent %q during QUIET %v", st.Line, b, st.D)
			}
		case Sleep:
			time.Sleep(st.D)
		case EOF:
			server.SetReadDeadline(time.Now().Add(ReadTimeout))
			got, err := r.ReadString('\n')
			if got != "" || err != io.EOF {
				return fmt.Errorf("line %d: want the client to close; it sent %q, then %v", st.Line, got, err)
			}
		}
	}
	// The script is over: anything more from the client, even part of a
	// line, is an error.
	server.SetReadDeadline(time.Now().Add(EndQuiet))
	if extra, _ := r.ReadString('\n'); extra != "" {
		return fmt.Errorf("client sent %q after the end of the script", extra)
	}
	return nil
}

// Open opens a session on conn with deterministic tags (TagPrefix "A", so
// the first command is A1), waiting at most ReadTimeout for the greeting. It
// fails the test if Open fails and closes the session at cleanup. opts may
// be nil; Open sets its TagPrefix.
func Open(t TB, conn net.Conn, opts *session.Options) *session.Session {
	t.Helper()
	if opts == nil {
		opts = &session.Options{}
	}
	opts.TagPrefix = "A"
	ctx, cancel := context.WithTimeout(context.Background(), ReadTimeout)
	defer cancel()
	s, err := session.Open(ctx, conn, opts)
	if err != nil {
		t.Fatalf("session.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
