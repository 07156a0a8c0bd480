package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestShortDeadlinesKeepSession: commands whose contexts end at about the
// time they are written, over a connection that never blocks a write, end
// with their context's error (sent or not) and never abort the session. A
// context that ended after the command's turn came but before its bytes
// went out moved the write deadline into the past: the write of a few
// bytes into an empty buffer failed, and the session was aborted
// ("cancelled while sending NOOP") though no write was blocked and no byte
// of it sent. Found by the fault audit of 2026-12-04.
func TestShortDeadlinesKeepSession(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(l, " ")
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	defer s.Close()
	stop := time.Now().Add(1500 * time.Millisecond)
	n, cut := 0, 0
	for time.Now().Before(stop) {
		for _, d := range []time.Duration{5 * time.Microsecond, 20 * time.Microsecond, 60 * time.Microsecond} {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			_, err := s.Run(ctx, &session.Command{Name: "NOOP"})
			cancel()
			n++
			if errors.Is(err, session.ErrAborted) || s.Err() != nil {
				t.Fatalf("a NOOP with a %v deadline aborted the session (after %d): %v", d, n, err)
			}
			if err != nil {
				cut++
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("NOOP: %v; want the context's error", err)
				}
			}
		}
	}
	if cut == 0 {
		t.Fatalf("none of %d NOOPs saw its deadline: the test tests nothing", n)
	}
	if _, err := s.Run(ctx20(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
}
