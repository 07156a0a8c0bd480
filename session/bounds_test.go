package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
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
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
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
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
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
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(r)
}

func openDefaultsWith(t *testing.T, conn net.Conn, opts *session.Options) *session.Session {
	t.Helper()
	s, err := session.Open(hangCtx(t), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestKeptBytesBounded: the responses the session keeps for Responses and
// those queued for a slow OnUnsolicited are bounded in memory, not only in
// number, with the defaults. A hostile server sends 5 unsolicited FLAGS
// of 500,000 one-letter flags (1 MB each on the wire, under the line
// limit; 12.5 MB each copied) while the handler is stuck: that was 62 MB
// kept and 62 MB queued before, near four times each bound (1,000 kept per
// name and 10,000 queued allowed 12 GB and 125 GB). The memory now stays
// within DefaultMaxKeptBytes each (with the response the handler holds
// and the decoder's own memory), the newest responses are kept, and the
// drops are counted. (8 lines until stop 44: 60% more decoding under
// -race for the same bounds crossed.)
func TestKeptBytesBounded(t *testing.T) {
	const lines = 5
	flags := "* FLAGS (" + strings.TrimSpace(strings.Repeat("a ", 500000)) + ")\r\n"
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		tag, _, _ := strings.Cut(readCommand(r, w), " ")
		for range lines {
			io.WriteString(w, flags)
		}
		io.WriteString(w, "* FLAGS (\\Seen last)\r\n"+tag+" OK done\r\n")
		io.Copy(io.Discard, r)
	})
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // a failed test leaves no handler stuck
	h0 := heapAfterGC()
	s := openDefaultsWith(t, conn, &session.Options{OnUnsolicited: func(codec.Response) { <-release }})
	// 8 MB of flags decoded and copied under -race take seconds: a context
	// of its own, which only guards against a hang (the old 20 s hang bound ran out
	// on a loaded machine).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	held := int64(heapAfterGC()) - int64(h0)
	free()
	// The two bounds, the response the stuck handler holds and the
	// decoder's memory for the last long line: 12.5 MB each.
	const copySize = 500000 * (24 + 1)
	allow := int64(2*session.DefaultMaxKeptBytes + 2*copySize)
	t.Logf("heap +%.1f MiB held (bounds: %d MiB kept, %d MiB queued)", float64(held)/(1<<20), session.DefaultMaxKeptBytes>>20, session.DefaultMaxKeptBytes>>20)
	if held > allow {
		t.Fatalf("heap +%.1f MiB held; want at most %.1f MiB", float64(held)/(1<<20), float64(allow)/(1<<20))
	}
	kept := s.Responses("FLAGS")
	if len(kept) == 0 || len(kept[len(kept)-1].(*codec.Flags).Flags) != 2 {
		t.Fatalf("Responses(FLAGS) kept %d, not ending with the last FLAGS", len(kept))
	}
	events, dropped := s.DroppedUnsolicited()
	if events == 0 || dropped == 0 {
		t.Fatalf("DroppedUnsolicited: %d events, %d kept; want both counted", events, dropped)
	}
}

// TestResultBoundCountsCopies: MaxResultBytes counts the memory of the
// copies a command keeps, not only the bytes received, with the defaults.
// 60 FETCH responses of 50,000 one-letter flags are 6 MB on the wire and
// 75 MB copied: a collected Run kept them all before (75 MB, no error),
// and so did the queue of a pulled FETCH whose caller ran a NOOP first. Both
// now stop at the bound with a ResultTooLargeError.
func TestResultBoundCountsCopies(t *testing.T) {
	const n = 60
	line := "FLAGS (" + strings.TrimSpace(strings.Repeat("a ", 50000)) + "))\r\n"
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			tag, cmd, _ := strings.Cut(readCommand(r, w), " ")
			switch {
			case tag == "":
				return
			case strings.HasPrefix(cmd, "UID FETCH"):
				for i := range n {
					fmt.Fprintf(w, "* %d FETCH (UID %d %s", i+1, i+1, line)
				}
			}
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	s := openDefaultsWith(t, conn, nil)
	fetch := func(pull bool) *session.Command {
		cmd := pullUIDFetch("(FLAGS)")
		cmd.Pull = pull
		return cmd
	}
	check := func(what string, kept int, err error, grew int64) {
		t.Helper()
		var tl *session.ResultTooLargeError
		t.Logf("%s: %d of %d kept, heap +%.1f MiB", what, kept, n, float64(grew)/(1<<20))
		if !errors.As(err, &tl) || kept == 0 || kept+tl.Dropped != n {
			t.Fatalf("%s: %d kept, %v; want some kept and a ResultTooLargeError", what, kept, err)
		}
		if limit := int64(session.DefaultMaxResultBytes); grew > limit+limit/8 {
			t.Fatalf("%s: heap +%.1f MiB, over the bound of %d MiB", what, float64(grew)/(1<<20), limit>>20)
		}
	}

	h0 := heapAfterGC()
	r, err := s.Run(ctxBulk(t), fetch(false))
	grew := int64(heapAfterGC()) - int64(h0)
	kept := 0
	if r != nil {
		kept = len(r.Data)
	}
	runtime.KeepAlive(r)
	check("Run", kept, err, grew)
	r = nil

	h0 = heapAfterGC()
	p, err := s.Start(ctxBulk(t), fetch(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctxBulk(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	grew = int64(heapAfterGC()) - int64(h0) // the queue, all of it
	kept = 0
	for {
		if _, err = p.Next(ctxBulk(t)); err != nil {
			break
		}
		kept++
	}
	if err == io.EOF {
		_, err = p.Wait(ctxBulk(t))
	}
	check("queue of a pulled FETCH", kept, err, grew)
}

// TestFloodCapabilities: a CAPABILITY of 500,000 names (1 MB on the wire)
// is not kept whole for the session's life, which every HasCap would scan:
// the first 1,024 are.
func TestFloodCapabilities(t *testing.T) {
	caps := "* CAPABILITY IMAP4rev1 " + strings.TrimSpace(strings.Repeat("X ", 500000)) + "\r\n"
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		tag := readTag(r)
		io.WriteString(w, caps+tag+" OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaultsWith(t, conn, nil)
	h0 := heapAfterGC()
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "CAPABILITY"}); err != nil {
		t.Fatal(err)
	}
	grew := int64(heapAfterGC()) - int64(h0)
	if n := len(s.Caps()); n != 1024 || !s.HasCap("IMAP4rev1") {
		t.Fatalf("%d capabilities kept; want the first 1024", n)
	}
	t.Logf("heap +%.1f MiB", float64(grew)/(1<<20))
	if grew > 4<<20 {
		t.Fatalf("heap grew by %.1f MiB", float64(grew)/(1<<20))
	}
}

// TestKeptNewestWins: with the defaults, a flood of unsolicited responses
// of 60 names (1,000 each, about 18 MB of copies, past MaxKeptBytes)
// fills Responses' store, and an [ALERT] that comes after it is kept: the
// oldest kept responses make room, of whatever name. Before, a new
// response was dropped when other names held the room, so the ALERT was
// lost for Responses("ALERT").
func TestKeptNewestWins(t *testing.T) {
	const names, each = 60, 1000
	pad := strings.Repeat("p", 200)
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		tag, _, _ := strings.Cut(readCommand(r, w), " ")
		bw := bufio.NewWriter(w)
		for i := range names * each {
			fmt.Fprintf(bw, "* XFLOOD%d %d %s\r\n", i%names, i, pad)
		}
		io.WriteString(bw, "* OK [ALERT] the server goes down in 5 minutes\r\n"+tag+" OK done\r\n")
		bw.Flush()
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	alert := s.Responses("ALERT")
	if len(alert) != 1 || !strings.Contains(string(alert[0].(*codec.Status).Text), "goes down") {
		t.Fatalf("Responses(ALERT) = %v; want the alert that came after the flood", alert)
	}
	if l := s.Responses("XFLOOD59"); len(l) == 0 || !strings.HasPrefix(string(l[len(l)-1].(*codec.Unknown).Rest), "59999 ") {
		t.Fatalf("Responses(XFLOOD59): %d kept, not ending with the last", len(l))
	}
	if _, dropped := s.DroppedUnsolicited(); dropped == 0 {
		t.Fatal("nothing dropped: the flood did not pass the bound")
	}
}
