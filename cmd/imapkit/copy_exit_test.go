package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// okDestination starts a session on a fake destination that answers
// every command OK, with caps in its PREAUTH greeting.
func okDestination(t *testing.T, ctx context.Context, caps string) *session.Session {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1 "+caps+"] hi\r\n")
		br := bufio.NewReader(server)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(server, tag+" OK done\r\n")
		}
	}()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); client.Close(); <-done })
	return s
}

// TestCopyFirstOpenSourceNOExitCode (found by review): copy's first
// message of a group cannot be read because the SOURCE answered its body
// FETCH NO (a *session.StatusError of the source session). Sent one at a
// time (appender.send's single path: copy calls the open itself) the
// group's error matches session.ErrNo and copy exits 1 (exitNo, "the
// server refused"). Sent as a MULTIAPPEND (the open runs inside
// AppendMany as the first Part.Open), the failure came wrapped in a
// *session.OpenError, which hides the source's ErrNo: the same run exited
// 3 (exitConnFail, "connection error": a script retries it), and --json's
// text (errorAsSent) lost the server's answer as sent. Both paths now
// give the Open's error: the same exit code, text and chain, and the
// MULTIAPPEND's still says not sent.
func TestCopyFirstOpenSourceNOExitCode(t *testing.T) {
	srcNO := &session.StatusError{Command: "UID FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("Some messages could not be FETCHed \x1b")}}
	codes := map[bool]int{}
	texts := map[bool]string{}
	for _, multi := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s := okDestination(t, ctx, "LITERAL+ MULTIAPPEND")
		a := &appender{c: commands.New(s), mailbox: "INBOX", multi: multi}
		open := func() (io.Reader, int64, error) { return nil, 0, srcNO }
		okOpen := func() (io.Reader, int64, error) { return strings.NewReader("x\r\n"), 3, nil }
		_, err := a.send(ctx, []appendItem{{open: open}, {open: okOpen}})
		a.settle()
		if !notAppended(err) || a.closed {
			t.Errorf("multi=%v: %v (closed %v): not a notAppendedError, or the destination said closed", multi, err, a.closed)
		}
		if multi && !errors.Is(err, session.ErrNotSent) {
			t.Errorf("multi: %v: does not say not sent", err)
		}
		codes[multi] = exitCode(nil, io.Discard, "copy", err)
		texts[multi] = err.Error() + " | " + errorAsSent(err)
	}
	if codes[false] != exitNo || codes[true] != codes[false] {
		t.Errorf("a source NO on the group's first message exits %d one at a time and %d as a MULTIAPPEND; want %d (exitNo) both", codes[false], codes[true], exitNo)
	}
	if texts[true] != texts[false] || !strings.Contains(texts[true], "FETCHed \x1b") {
		t.Errorf("the texts (message | --json's) differ or lost the answer as sent:\none at a time: %q\nMULTIAPPEND:  %q", texts[false], texts[true])
	}
}

// TestCopyMultiappendDestinationEnded: a MULTIAPPEND not sent because the
// destination's session had ended before its turn (not because its first
// message's Open failed) says so, and that the connection ended, not
// merely "command not sent" (which reads as a destination that goes on);
// it exits 3 (connection error, run again).
func TestCopyMultiappendDestinationEnded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := okDestination(t, ctx, "LITERAL+ MULTIAPPEND")
	a := &appender{c: commands.New(s), mailbox: "INBOX", multi: true}
	s.Close()
	okOpen := func() (io.Reader, int64, error) { return strings.NewReader("x\r\n"), 3, nil }
	_, err := a.send(ctx, []appendItem{{open: okOpen}, {open: okOpen}})
	a.settle()
	t.Logf("send: %v", err)
	if !notAppended(err) || !a.closed {
		t.Errorf("%v (closed %v): want not appended, the destination closed", err, a.closed)
	}
	if !errors.Is(err, session.ErrNotSent) || !strings.Contains(err.Error(), "connection to the destination had ended") {
		t.Errorf("%v: not said not sent, or does not say the destination's connection had ended", err)
	}
	if c := exitCode(nil, io.Discard, "copy", err); c != exitConnFail {
		t.Errorf("exit %d, want %d", c, exitConnFail)
	}
}

// TestCopyMultiappendContextEndedNotSent: a MULTIAPPEND not sent because
// its context had ended (the run interrupted) is not said to have lost
// the destination's connection, which goes on.
func TestCopyMultiappendContextEndedNotSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := okDestination(t, ctx, "LITERAL+ MULTIAPPEND")
	a := &appender{c: commands.New(s), mailbox: "INBOX", multi: true}
	ended, end := context.WithCancel(ctx)
	end()
	okOpen := func() (io.Reader, int64, error) { return strings.NewReader("x\r\n"), 3, nil }
	_, err := a.send(ended, []appendItem{{open: okOpen}, {open: okOpen}})
	a.settle()
	if !notAppended(err) || !errors.Is(err, context.Canceled) || a.closed || strings.Contains(err.Error(), "connection") {
		t.Errorf("%v (closed %v): want not appended, the context's error, the destination not said ended", err, a.closed)
	}
	if err := s.Err(); err != nil {
		t.Errorf("the destination's session: %v", err)
	}
}
