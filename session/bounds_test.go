package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Floods of each store a session keeps, with the library's defaults: the
// memory stays bounded and the caller learns what was dropped.

// heapAfterGC returns the live heap after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// flood serves n lines made by line(i) before the tagged OK of the first
// command, then answers NOOPs.
func flood(t *testing.T, n int, line func(i int) string) *session.Session {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		tag := readTag(r)
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := 0; i < n; i++ {
			bw.WriteString(line(i))
		}
		bw.WriteString(tag + " OK done\r\n")
		bw.Flush()
		for {
			tag := readTag(r)
			if tag == "" {
				return
			}
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	return openDefaults(t, conn, nil)
}

func readTag(r *bufio.Reader) string {
	l := readLine(r)
	for i := 0; i < len(l); i++ {
		if l[i] == ' ' {
			return l[:i]
		}
	}
	return l
}

// TestFloodResponseNames: 100,000 distinct response names the server
// chooses (* X<n> ...) are not all kept: Responses holds at most
// DefaultMaxKeptNames names.
func TestFloodResponseNames(t *testing.T) {
	const n = 100000
	h0 := heapAfterGC()
	s := flood(t, n, func(i int) string { return fmt.Sprintf("* X%d some data %d\r\n", i, i) })
	if _, err := s.Run(ctx20(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	grew := int64(heapAfterGC()) - int64(h0)
	_, dropped := s.DroppedUnsolicited()
	t.Logf("%d distinct names: heap +%.1f MiB, %d dropped", n, float64(grew)/(1<<20), dropped)
	if dropped < n-session.DefaultMaxKeptNames {
		t.Errorf("dropped %d; want at least %d", dropped, n-session.DefaultMaxKeptNames)
	}
	if grew > 4<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
	if len(s.Responses(fmt.Sprintf("X%d", n-1))) != 0 {
		t.Errorf("a name past the bound was kept")
	}
	runtime.KeepAlive(s)
}

// TestFloodUnsolicitedQueue: 200,000 EXISTS while OnUnsolicited is blocked:
// the queue stops at DefaultMaxUnsolicited and the rest is counted.
func TestFloodUnsolicitedQueue(t *testing.T) {
	const n = 200000
	release := make(chan struct{})
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		tag := readTag(r)
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := 0; i < n; i++ {
			fmt.Fprintf(bw, "* %d EXISTS\r\n", i+1)
		}
		bw.WriteString(tag + " OK done\r\n")
		bw.Flush()
		io.Copy(io.Discard, r)
	})
	h0 := heapAfterGC()
	s := openDefaultsWith(t, conn, &session.Options{TagPrefix: "A", OnUnsolicited: func(codec.Response) { <-release }})
	if _, err := s.Run(ctx20(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	grew := int64(heapAfterGC()) - int64(h0)
	events, _ := s.DroppedUnsolicited()
	close(release)
	t.Logf("%d EXISTS with a blocked handler: heap +%.1f MiB, %d dropped", n, float64(grew)/(1<<20), events)
	if events < n-session.DefaultMaxUnsolicited-1 {
		t.Errorf("dropped %d; want at least %d", events, n-session.DefaultMaxUnsolicited-1)
	}
	if grew > 8<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
}

// TestFloodResultData: a FETCH answered with more than MaxResultBytes of
// responses: Run keeps what fits, drops the rest and says so with a
// ResultTooLargeError; the heap stays near the bound.
func TestFloodResultData(t *testing.T) {
	const n = 250000 // about 84 MiB of responses at 256 + 80 bytes each
	h0 := heapAfterGC()
	s := flood(t, n, func(i int) string {
		return fmt.Sprintf("* %d FETCH (UID %d FLAGS (\\Seen \\Answered) RFC822.SIZE 12345)\r\n", i+1, i+1)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // 250,000 responses under -race on a loaded machine
	defer cancel()
	r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", AnyState: true, Args: func(e *wire.Encoder) {
		e.SP().Raw("1:*").SP().Raw("(UID FLAGS RFC822.SIZE)")
	}})
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, session.ErrResultTooLarge) {
		t.Fatalf("got %v; want a ResultTooLargeError", err)
	}
	if r == nil || r.Status == nil || r.Status.Kind != codec.StatusOK || len(r.Data) == 0 || len(r.Data)+tl.Dropped != n {
		t.Fatalf("result: %d kept + %d dropped of %d", len(r.Data), tl.Dropped, n)
	}
	grew := int64(heapAfterGC()) - int64(h0)
	t.Logf("%d FETCH: %d kept, %d dropped, heap +%.1f MiB", n, len(r.Data), tl.Dropped, float64(grew)/(1<<20))
	if grew > 2*session.DefaultMaxResultBytes {
		t.Errorf("heap grew by %d bytes", grew)
	}
	// The session goes on.
	if _, err := s.Run(ctx20(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(r)
}

func openDefaultsWith(t *testing.T, conn net.Conn, opts *session.Options) *session.Session {
	t.Helper()
	s, err := session.Open(ctx20(t), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
