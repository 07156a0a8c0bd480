package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestPullWaitWhileBodyRead: Wait from another goroutine while the caller
// reads a pulled command's streamed body: the reader goroutine skipped the
// rest of the literal beside the caller's read (a data race under -race,
// and at times a panic in the tokenizer's literal reader). The body is now
// fenced first: the read in progress ends, the next fails with
// ErrBodyDropped (or the body ends whole). Found by an audit in stop 32.
func TestPullWaitWhileBodyRead(t *testing.T) {
	const size = 2 << 20
	for i := 0; i < 5; i++ {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			readCommand(r, w)
			fmt.Fprintf(w, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", size)
			chunk := []byte(strings.Repeat("y", 8192))
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			io.WriteString(w, ")\r\nA1 OK done\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		ctx := hangCtx(t)
		p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.Next(ctx)
		if err != nil || it.Body == nil {
			t.Fatalf("%+v %v", it, err)
		}
		waited := make(chan error, 1)
		go func() {
			time.Sleep(time.Millisecond)
			_, err := p.Wait(ctx)
			waited <- err
		}()
		n, err := io.Copy(io.Discard, it.Body)
		if err != nil && !errors.Is(err, session.ErrBodyDropped) {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		if err == nil && n != size {
			t.Fatalf("read %d bytes without an error; want %d", n, size)
		}
		if err := <-waited; err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
