package session_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestTraceSecretEndingAtCutRedacted: a SASL response the server echoes so
// that it ends exactly where the line is cut (the trace's capture, 64 KiB
// by default; the history's window of 496 bytes) is redacted. Its last
// byte is its first: redactCut took that last byte for the start of the
// secret going on past the cut, cut it off, and the rest of the secret,
// no longer whole, was printed in the clear.
func TestTraceSecretEndingAtCutRedacted(t *testing.T) {
	for _, c := range []struct {
		what string
		n    int // the secret's length
		end  int // where the line is cut
	}{{"trace", 64, session.DefaultTraceCapture}, {"history", 400, 496}} {
		t.Run(c.what, func(t *testing.T) {
			ir := saslSecret(c.n, 3)
			ir = ir[:len(ir)-1] + ir[:1] // ends with its own first byte
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n")
				l := readLine(r)
				tag, _, _ := strings.Cut(l, " ")
				head := "* OK echo "
				pad := strings.Repeat("x", c.end-len(head)-len(ir))
				io.WriteString(w, head+pad+ir+" and more past the cut\r\n")
				io.WriteString(w, tag+" NO bad\r\n")
				for {
					if readLine(r) == "" {
						return
					}
					io.WriteString(w, "Q999 OK a tag never sent\r\n") // aborts: History
				}
			})
			var trace bytes.Buffer
			var mu sync.Mutex
			s := openDefaultsWith(t, conn, &session.Options{Trace: &hsSyncWriter{w: &trace, mu: &mu}})
			s.Run(hangCtx(t), &session.Command{Name: "AUTHENTICATE", Args: func(e *wire.Encoder) {
				e.SP().Atom("PLAIN").SP().Secret(func(e *wire.Encoder) { e.Atom(ir) })
			}})
			_, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"})
			var ae *session.AbortError
			if !errors.As(err, &ae) {
				t.Fatalf("NOOP: %v; want an *AbortError", err)
			}
			s.Close()
			<-s.Done()
			mu.Lock()
			defer mu.Unlock()
			out := map[string]string{"trace": trace.String(), "history": strings.Join(ae.History, "\n")}[c.what]
			if w := leaked(out, ir); w != "" {
				t.Errorf("the %s holds the SASL response of %d bytes ending at the cut (%q...)", c.what, c.n, w)
			}
		})
	}
}
