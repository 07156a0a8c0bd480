//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/testserver"
)

func bigNumbered(i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a@example.org\r\nTo: b@example.org\r\nSubject: zz %d\r\nMessage-ID: <zz%d@audit>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n", i, i)
	for j := 0; b.Len() < size; j++ {
		fmt.Fprintf(&b, "line %06d of message %d, long enough to be a line of text\r\n", j, i)
	}
	return b.Bytes()
}

// TestFetchInterruptMidBody: `imapkit fetch URL INBOX 1` of a 4 MiB
// message; the server freezes mid-body (no byte, no FIN), and the user
// presses Ctrl-C. docs/cli.md: "Ctrl-C or SIGTERM stops the command that
// runs (exit status 3) ... logs out, waiting at most a second". The
// first Ctrl-C does not stop it: the streamed body's read does not heed
// the command's context (commands.Section.Read), and the command runs on
// until --timeout's stall bound (30 s by default) aborts the session.
// The same holds for a server that is alive but slow: the whole body is
// read first.
func TestFetchInterruptMidBody(t *testing.T) {
	a, _ := dovecot(t, 0)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	if _, err := ac.AppendBytes(context.Background(), "INBOX", bigNumbered(1, 4<<20), nil); err != nil {
		t.Fatal(err)
	}
	// The relay hides STARTTLS (same length) so that the test sees the
	// commands; the CLI accepts plaintext on loopback.
	r := faultrelay.New(t, a.PlainAddr)
	frozen := make(chan time.Time, 1)
	n, armed := 0, false
	r.Update(func(h *faultrelay.Hooks) {
		h.Rewrite = [][2]string{{" STARTTLS", " XTARTTLS"}}
		h.ResetEachConn = true
		h.OnS2C = func(p []byte) string {
			if !armed && bytes.Contains(p, []byte("BODY[]")) {
				armed = true
			}
			if armed {
				if n += len(p); n > 512<<10 {
					armed = false
					frozen <- time.Now()
					return faultrelay.Freeze
				}
			}
			return faultrelay.Forward
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer setInterrupted(t, ctx)()
	atc := make(chan time.Time, 1)
	go func() {
		<-frozen
		time.Sleep(500 * time.Millisecond)
		atc <- time.Now()
		cancel() // the user's Ctrl-C
	}()
	// --timeout of an hour, not the default 30 s: a body read that did
	// not heed the interrupt, or a LOGOUT it did not bound, would then
	// not end within runCLIReturns's minute. That fetch returns is
	// checked here, not how soon (a loaded machine stretched that); the
	// LOGOUT's exact bound is TestLogoutAfterInterruptBound's.
	code, _, errs := runCLIReturns(t, "", "fetch", "imap://alice@"+r.Addr(), "INBOX", "1", "--timeout", "1h")
	select {
	case <-atc:
	default:
		t.Fatalf("fetch ended before the interrupt: exit %d, stderr %q", code, errs)
	}
	// What ended it: the interrupt (the command's context canceled),
	// not a stall bound.
	if code != exitConnFail || !strings.Contains(errs, "context canceled") {
		t.Errorf("fetch: exit %d, stderr %q; want exit %d and the interrupt's context canceled", code, errs, exitConnFail)
	}
}
