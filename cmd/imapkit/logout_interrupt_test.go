package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestLogoutAfterInterruptBound: conn.close's LOGOUT to a server that
// never answers it is cut logoutAfterInterrupt after the interrupt
// (Ctrl-C, SIGTERM), whether the interrupt came before the LOGOUT or
// during it, and by --timeout without one. In a synctest bubble, the
// bounds are exact on the bubble's clock however loaded the machine:
// the tests of the whole commands (TestInterruptStalledServerExitsSoon,
// TestInterruptDuringLogoutExitsSoon, TestFetchInterruptMidBody) check
// that they end after an interrupt, not how soon.
func TestLogoutAfterInterruptBound(t *testing.T) {
	// --timeout's default: the flags are not parsed here.
	const timeout = 30 * time.Second
	for _, tc := range []struct {
		name string
		when string // "before" the LOGOUT, "during" it, or "never"
		want time.Duration
	}{
		{"interrupted before", "before", logoutAfterInterrupt},
		{"interrupted during", "during", logoutAfterInterrupt},
		{"not interrupted", "never", timeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				interrupted, interrupt := context.WithCancel(context.Background())
				defer interrupt()
				client, server := transport.Pipe()
				atLogout := make(chan time.Time, 1)
				played := make(chan struct{})
				defer func() { server.Close(); <-played }()
				go func() {
					defer close(played)
					r := bufio.NewReader(server)
					io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
					for {
						line, err := r.ReadString('\n')
						if err != nil {
							return
						}
						if strings.Contains(line, " LOGOUT") {
							break
						}
					}
					atLogout <- time.Now()
					if tc.when == "during" {
						interrupt()
					}
					io.Copy(io.Discard, r) // no answer
				}()
				s, err := session.Open(context.Background(), client, &session.Options{StallTimeout: timeout})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				cn := &conn{c: commands.New(s), flags: &connFlags{timeout: timeout, env: &sysEnv{interrupted: interrupted}}}
				if tc.when == "before" {
					interrupt()
				}
				start := time.Now()
				cn.close()
				end := time.Now()
				at := <-atLogout
				if tc.when == "during" {
					start = at
				}
				if d := end.Sub(start); d != tc.want {
					t.Errorf("close returned %v after the %s; want %v", d, map[bool]string{true: "interrupt", false: "start"}[tc.when != "never"], tc.want)
				}
				if s.Err() == nil {
					// Session().Close ends it.
					t.Errorf("the session is still open after close")
				}
			})
		})
	}
}

// runCLIReturns is runCLI with a hang detector: the test fails if the run
// has not returned within a minute. It is no timing check (a loaded
// machine may take any time short of that); a test that must see a bound
// hold sets --timeout far past the minute, so that only that bound can
// end the run within it.
func runCLIReturns(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, stdout, stderr = runCLI(t, stdin, args...)
	}()
	select {
	case <-done:
		return code, stdout, stderr
	case <-time.After(time.Minute):
		t.Fatalf("imapkit %s did not return", strings.Join(args, " "))
		return 0, "", ""
	}
}
