package session_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestRedactEchoAcrossLiteralLineEndLongFirstPart: as
// TestRedactEchoAcrossLiteralLineEnd, the password's first part, sent
// back as a literal that ends the first line, longer than the 32 bytes
// the tracer keeps of a line as received (44 bytes, then CR LF): the
// carry to the next line holds only its last 30, so the whole password
// is never in a window, and the rest that opens the next line
// ("horse-battery-staple-rest is wrong") is found only as a credential's
// end at a line's start, as after a cut line. With the trace writer and
// the logger set (defaults otherwise) and with the history alone.
func TestRedactEchoAcrossLiteralLineEndLongFirstPart(t *testing.T) {
	const first, rest = "correct-horse-battery-staple-and-more-words-", "horse-battery-staple-rest"
	echo := "TAG NO bad password {" + strconv.Itoa(len(first)) + "}\r\n" + first + "\r\n" + rest + " is wrong"
	for _, traced := range []bool{false, true} {
		var trace, logbuf bytes.Buffer
		var mu sync.Mutex
		hsRun(t, echoAtLogin(echo), 0, 0, func(hc *hsCase, conn net.Conn) {
			opts := hsOpts()
			if traced {
				opts.Trace = &hsSyncWriter{w: &trace, mu: &mu}
				opts.Logger = slog.New(slog.NewTextHandler(&hsSyncWriter{w: &logbuf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			if hc.open(conn, opts) == nil {
				return
			}
			shows := func(what, s string) {
				for _, p := range []string{"horse-battery", "staple-rest"} {
					if strings.Contains(s, p) {
						hc.t.Errorf("traced %v: %s shows %q of the password: %q", traced, what, p, s)
					}
				}
			}
			if _, err := hc.run(loginCommand("alice", first+"\r\n"+rest)); err == nil {
				hc.t.Fatalf("LOGIN: no error")
			}
			_, err := hc.run(hsNoop())
			var ae *session.AbortError
			if !errors.As(err, &ae) {
				hc.t.Fatalf("NOOP: %v; want an AbortError (the echo's second line is no response)", err)
			}
			shows("the abort's error", err.Error())
			shows("AbortError.History", strings.Join(ae.History, "\n"))
			hc.s.Close()
			mu.Lock()
			defer mu.Unlock()
			shows("the trace", trace.String())
			shows("the slog records", logbuf.String())
		})
	}
}
