package session_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestLogoutWhileCommandsRun: Logout while other goroutines run NOOPs in a
// loop, on a server that closes after LOGOUT's OK: no command goes out
// after LOGOUT, and each NOOP that does not succeed fails with ErrClosed
// (not sent). A NOOP waiting behind LOGOUT was written after it (NOOP is
// allowed in the LOGOUT state) and failed on the closed connection with
// ErrAborted, as if the connection had broken. Found by the fault audit of
// 2026-12-04.
func TestLogoutWhileCommandsRun(t *testing.T) {
	for i := 0; i < 20; i++ {
		after := make(chan string, 100)
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			out := false
			for {
				l := readLine(r)
				if l == "" {
					return
				}
				tag, name, _ := strings.Cut(l, " ")
				if out {
					after <- l
					continue
				}
				if name == "LOGOUT" {
					io.WriteString(w, "* BYE bye\r\n"+tag+" OK LOGOUT done\r\n")
					if i%2 == 0 {
						return // closes at once, as servers do
					}
					out = true // stays: what comes after is recorded
					continue
				}
				io.WriteString(w, tag+" OK done\r\n")
			}
		})
		s := openDefaults(t, conn, nil)
		ctx := hangCtx(t)
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		started := make(chan struct{}, 3)
		for g := 0; g < 3; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					if n == 3 {
						started <- struct{}{}
					}
					if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for g := 0; g < 3; g++ {
			<-started
		}
		if err := s.Logout(ctx); err != nil {
			t.Fatalf("run %d: Logout: %v", i, err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if !errors.Is(err, session.ErrClosed) || !errors.Is(err, session.ErrNotSent) {
				t.Fatalf("run %d: a NOOP during Logout: %v; want ErrClosed, not sent", i, err)
			}
		}
		// After it, too (this was ErrClosed alone, though docs/errors.md
		// says not sent: the newcomer audit of 2026-12-04).
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); !errors.Is(err, session.ErrClosed) || !errors.Is(err, session.ErrNotSent) {
			t.Fatalf("run %d: a NOOP after Logout: %v; want ErrClosed, not sent", i, err)
		}
		select {
		case l := <-after:
			t.Fatalf("run %d: %q went out after LOGOUT", i, l)
		default:
		}
	}
}
