package session_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

type aReader struct{}

func (aReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestWriteGraceCutsSlowWrite: a write still going 50 ms (writeGrace)
// after its context ended is cut and the session aborted (session/doc.go,
// Cancellation), even when the server keeps reading, slowly: the grace
// deadline stays in place through the write's later chunks. A first
// version of the grace let the next chunk replace it with a fresh stall
// deadline (4 stall timeouts ahead), and such a streamed literal was never
// cut. Found by the review of 2026-12-04. In a testing/synctest bubble:
// the server's pace, the context's 100 ms, the grace and the 3 s hang
// guard are on the bubble's clock, which a loaded machine does not move,
// and the cut comes exactly one grace after the context's end.
func TestWriteGraceCutsSlowWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
			buf := make([]byte, 4096)
			for {
				if _, err := r.Read(buf); err != nil {
					return
				}
				time.Sleep(2 * time.Millisecond) // ~2 MB/s
			}
		})
		s := openDefaults(t, conn, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		const size = 200 << 20 // far more than the server takes in seconds
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
				e.SP().Mailbox("INBOX").SP().LiteralReader(size, aReader{}, false)
			}})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, session.ErrAborted) {
				t.Fatalf("err = %v after %v; want an abort with the context's error", err, time.Since(start))
			}
			if d := time.Since(start); d != 100*time.Millisecond+session.WriteGrace {
				t.Fatalf("cut %v after the APPEND began; want exactly its context's 100 ms and the write grace, %v", d, session.WriteGrace)
			}
		case <-time.After(3 * time.Second):
			s.Close()
			<-done
			t.Fatalf("the APPEND's write was still going 3 s after its context ended (writeGrace is 50 ms); session err %v", s.Err())
		}
	})
}
