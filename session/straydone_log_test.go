package session_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// recordingHandler is a slog.Handler that keeps the message of every
// record it is given.
type recordingHandler struct {
	mu   *sync.Mutex
	msgs *[]string
}

func (h recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}

// TestStrayDoneLoggedOnce: an answer to a DONE the server read as a
// command (the IDLE race, TestStrayDoneOtherAnswer) that cannot be
// decoded, its tag not whole ("DONE" alone on its line), was logged twice:
// blame asked strayDone whether to treat it as tagged, and taggedFor asked
// again, each logging the drop (found by review). It is logged once now.
// Library defaults but TagPrefix (the fake's script) and the Logger
// (the test's subject).
func TestStrayDoneLoggedOnce(t *testing.T) {
	for _, tc := range []struct{ name, line string }{{"TagOnly", "DONE"}, {"TagAndSpace", "DONE "}, {"BAD", "DONE BAD no"}} {
		t.Run(tc.name, func(t *testing.T) {
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
				readLine(r)
				io.WriteString(w, "+ idling\r\n")
				if readLine(r) != "DONE" {
					return
				}
				io.WriteString(w, "A1 OK IDLE terminated\r\n")
				tag, _, _ := strings.Cut(readLine(r), " ")
				io.WriteString(w, tc.line+"\r\n"+tag+" OK done\r\n")
				answerOK(r, w)
			})
			var (
				mu   sync.Mutex
				msgs []string
			)
			log := slog.New(recordingHandler{&mu, &msgs})
			s := openDefaultsWith(t, conn, &session.Options{TagPrefix: "A", Logger: log})
			ctx := hangCtx(t)
			p := startIdle(t, ctx, s)
			if err := p.Continue(ctx, []byte("DONE")); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
				t.Fatalf("NOOP after the stray %q: %v", tc.line, err)
			}
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, m := range msgs {
				if strings.Contains(m, "answer to a DONE") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("the stray %q was logged %d times, want once", tc.line, n)
			}
		})
	}
}
