package auth_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/session"
)

// TestAuthenticateEndedBeforeAnswer: a server that sends a challenge and
// then its tagged NO, before the client answers, ends AUTHENTICATE with a
// refusal: the *auth.Error carrying the NO (AUTHENTICATIONFAILED). Once
// Pending.Continue refused to write after the end (ErrCommandEnded), a
// first version returned that error instead. Found by the review of
// 2026-12-04.
func TestAuthenticateEndedBeforeAnswer(t *testing.T) {
	bad := 0
	for i := 0; i < 10; i++ {
		conn, wait := script(t, nil, `
			S: * OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi
			C: A1 AUTHENTICATE LOGIN
			S: + `+b64("Username:")+`
			S: A1 NO [AUTHENTICATIONFAILED] too slow
		`)
		trace := &syncBuf{}
		c := mustOpen(t, conn, nil, trace)
		err := c.AuthenticateFunc(hangCtx(t), "LOGIN", func([]byte) ([]byte, error) {
			// The answer is given once the session has read the NO (a
			// hang detector bounds the wait), not after a fixed pause.
			for deadline := time.Now().Add(time.Minute); !strings.Contains(trace.String(), "S: A1 NO"); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					return nil, errors.New("the NO was not read within a minute")
				}
			}
			return []byte("alice"), nil
		})
		var ae *auth.Error
		if !errors.As(err, &ae) {
			bad++
			t.Logf("run %d: err = %v (%T); want *auth.Error with the NO (ErrCommandEnded: %v)", i, err, err, errors.Is(err, session.ErrCommandEnded))
		}
		if werr := wait(); werr != nil {
			t.Logf("script: %v", werr)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of 10 refusals came back as something else than *auth.Error", bad)
	}
}

// TestAuthenticateCancelThenPlus: the mechanism fails (AuthenticateFunc's f
// returns an error), the exchange sends "*" (cancel) and waits for the
// tagged answer, no longer reading Continuations. A hostile server sends
// one more "+" and goes silent. The session counts that "+" as owed (the
// caller took Continuations: contTaken is set for good), so the stall
// timer is off and nothing answers it: only the caller's context (or
// CommandTimeout, 15 min) ends the login. The session's own Wait path
// handles the same case (noAnswerer, TestOnContinueErrorThenPlus);
// the auth package's cancel has no equivalent. A stall timeout of 50 ms,
// a context of 2 s. It runs in a testing/synctest bubble (the pipe is
// net.Pipe), where both pass on the bubble's clock: on the wall clock a
// loaded machine could keep the stall timer's goroutine off the CPU past
// the 2 s, and the context end the login first.
func TestAuthenticateCancelThenPlus(t *testing.T) {
	synctest.Test(t, testAuthenticateCancelThenPlus)
}

func testAuthenticateCancelThenPlus(t *testing.T) {
	const stall = 50 * time.Millisecond
	c := xtestPeer(t, &auth.Options{Session: &session.Options{StallTimeout: stall}}, func(server net.Conn, r *bufio.Reader, first string) {
		if !strings.Contains(first, "AUTHENTICATE") {
			return
		}
		io.WriteString(server, "+ \r\n")
		l, _ := r.ReadString('\n')
		if strings.TrimSpace(l) != "*" {
			return
		}
		io.WriteString(server, "+ \r\n") // hostile: then silent
		io.Copy(io.Discard, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := c.AuthenticateFunc(ctx, "X-TEST", func([]byte) ([]byte, error) { return nil, errors.New("no token") })
	var te *session.TimeoutError
	if !errors.As(err, &te) || te.What != session.TimeoutStall {
		t.Fatalf("after %v: %v; want the session's stall *TimeoutError (stall timeout %v): the \"+\" after \"*\" was counted as owed and left the timer off", time.Since(start).Round(time.Millisecond), err, stall)
	}
}

// TestAuthenticatePanicRefuses: a mechanism (AuthenticateFunc's f) that
// panics on a challenge leaves the exchange cancelled: the "+" it was
// given is answered "*", and so is a further one (a confused server), by
// the session's RefuseContinuations alone (auth has no timeout of its own
// for that "*" any more: the session's bounds it). The server then ends
// the command and the session runs on: a NOOP gets its answer. Defaults.
//
// It runs in a testing/synctest bubble (the pipe is net.Pipe): the
// server's 5 s wait for each "*" and the 20 s context pass on the
// bubble's clock, which moves only when every goroutine waits, so a
// loaded machine cannot end them before the client has answered.
func TestAuthenticatePanicRefuses(t *testing.T) {
	synctest.Test(t, testAuthenticatePanicRefuses)
}

func testAuthenticatePanicRefuses(t *testing.T) {
	lines := make(chan []string, 1)
	c := xtestPeer(t, nil, func(server net.Conn, r *bufio.Reader, first string) {
		tag, _, _ := strings.Cut(first, " ")
		var got []string
		for range 2 {
			io.WriteString(server, "+ \r\n")
			// Unanswered, the test fails here (not at the stall
			// timeout): only a missing line waits for it.
			server.SetReadDeadline(time.Now().Add(5 * time.Second))
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			got = append(got, strings.TrimRight(l, "\r\n"))
		}
		server.SetReadDeadline(time.Time{})
		lines <- got
		io.WriteString(server, tag+" BAD cancelled\r\n")
		l, _ := r.ReadString('\n')
		tag, _, _ = strings.Cut(l, " ")
		io.WriteString(server, tag+" OK noop\r\n")
		io.Copy(io.Discard, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the mechanism's panic did not go on")
			}
		}()
		c.AuthenticateFunc(ctx, "X-TEST", func([]byte) ([]byte, error) { panic("mechanism") })
	}()
	if got := <-lines; len(got) != 2 || got[0] != "*" || got[1] != "*" {
		t.Fatalf("the two \"+\" were answered %q; want \"*\", \"*\"", got)
	}
	if _, err := c.Session().Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Errorf("NOOP after the cancelled exchange: %v", err)
	}
}

// xtestPeer plays a server of AUTH=X-TEST on the server end of a pipe: it
// greets, reads the client's first line (its AUTHENTICATE) and hands it
// to serve, with the connection and its reader; the connection is closed
// when serve returns. It returns a Client opened with opts on the client
// end; the session, then the pipe, are closed and serve waited for when
// the test ends.
func xtestPeer(t *testing.T, opts *auth.Options, serve func(server net.Conn, r *bufio.Reader, first string)) *auth.Client {
	t.Helper()
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi\r\n")
		first, _ := r.ReadString('\n')
		serve(server, r, first)
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-done })
	c, err := auth.Open(hangCtx(t), client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	return c
}

// answerEach answers each command line read from r with a tagged OK,
// passing over a lone "*" (a cancellation, not a command), until r ends.
func answerEach(w io.Writer, r *bufio.Reader) {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if tag, _, _ := strings.Cut(l, " "); tag != "*\r\n" {
			io.WriteString(w, tag+" OK done\r\n")
		}
	}
}

// cancelAfterEarlyOK plays a server of AUTH=X-TEST (xtestPeer) that
// answers the AUTHENTICATE with a challenge and its tagged OK (ok, its
// text) in one write, not waiting for the client's response, then OK to
// each command. The mechanism waits (the test's context is the hang
// detector, no clock) until the session has taken the OK, then cancels.
// It returns the Client and Authenticate's error.
func cancelAfterEarlyOK(t *testing.T, ok string) (*auth.Client, error) {
	t.Helper()
	c := xtestPeer(t, nil, func(server net.Conn, r *bufio.Reader, first string) {
		tag, _, _ := strings.Cut(first, " ")
		io.WriteString(server, "+ "+b64("prove yourself")+"\r\n"+tag+" OK "+ok+"\r\n")
		answerEach(server, r)
	})
	wctx := hangCtx(t)
	err := c.AuthenticateFunc(hangCtx(t), "X-TEST", func([]byte) ([]byte, error) {
		for c.Session().State() != session.StateAuth && wctx.Err() == nil {
			runtime.Gosched()
		}
		return nil, auth.ErrCancel
	})
	return c, err
}
