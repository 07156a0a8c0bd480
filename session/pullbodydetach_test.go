package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestDetachedBodyErrorTyped: a lent body read into memory because
// another goroutine needed the reader (a NOOP), the connection failing
// during that read: the caller's Read returns the session's error, as
// Next and Wait do (TestPullBodyReadErrorTyped for the direct read). It
// kept the raw io.ErrUnexpectedEOF. Found by the review of 2026-12-04.
func TestDetachedBodyErrorTyped(t *testing.T) {
	const size = 1 << 20
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		fmt.Fprintf(w, "* 1 FETCH (UID 1 BODY[] {%d}\r\n", size)
		w.Write([]byte(strings.Repeat("y", size/2)))
		readCommand(r, w) // the NOOP; then leave mid-literal
	})
	s := openDefaults(t, conn, nil)
	defer s.Close()
	ctx := hangCtx(t)
	p, err := s.Start(ctx, pullUIDFetch("(UID BODY[])"))
	if err != nil {
		t.Fatal(err)
	}
	it, err := p.Next(ctx)
	if err != nil || it.Body == nil {
		t.Fatalf("%+v %v", it, err)
	}
	// Another goroutine's command makes the reader go on: the lent body
	// is detached, and the connection fails during that.
	_, nerr := s.Run(ctx, &session.Command{Name: "NOOP"})
	if !errors.Is(nerr, session.ErrAborted) {
		t.Fatalf("NOOP: %v; want the abort", nerr)
	}
	_, err = io.Copy(io.Discard, it.Body)
	_, werr := p.Wait(ctx)
	if !errors.Is(err, session.ErrAborted) {
		t.Errorf("Body read: %v (%T); want the session's error %v, as Wait returns", err, err, werr)
	}
}
