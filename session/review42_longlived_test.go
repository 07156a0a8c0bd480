package session_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

var r42LitRE = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

// r42Serve runs a scripted server on conn: greets with greeting, then for
// each command (literals read whole) writes answer(tag, line).
func r42Serve(conn net.Conn, greeting string, answer func(tag, line string) string) {
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	w := bufio.NewWriterSize(conn, 64<<10)
	io.WriteString(w, greeting)
	w.Flush()
	for {
		var raw []byte
		for {
			line, err := r.ReadSlice('\n')
			if err != nil && err != bufio.ErrBufferFull {
				return
			}
			raw = append(raw, line...)
			if err == bufio.ErrBufferFull {
				continue
			}
			m := r42LitRE.FindSubmatch(raw[max(0, len(raw)-40):])
			if m == nil {
				break
			}
			n, _ := strconv.Atoi(string(m[1]))
			if len(m[2]) == 0 {
				io.WriteString(w, "+ go\r\n")
				w.Flush()
			}
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return
			}
		}
		s := string(raw[:min(len(raw), 200)])
		tag, rest, _ := strings.Cut(s, " ")
		if strings.HasPrefix(strings.ToUpper(rest), "SELECT ") || strings.HasPrefix(strings.ToUpper(rest), "EXAMINE ") {
			io.WriteString(w, "* 100 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n"+tag+" OK [READ-WRITE] selected\r\n")
		} else {
			io.WriteString(w, answer(tag, rest))
		}
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
}

func r42Open(t testing.TB, opts *session.Options, answer func(tag, line string) string) *session.Session {
	t.Helper()
	c, srv := transport.Pipe()
	go r42Serve(srv, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE LITERAL+ UIDPLUS] hi\r\n", answer)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	return s
}

func r42Heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestReview42BAPulledItemPinsBigResponse: once a pulled command (Command.Pull,
// as commands.Client's Fetch, List, Search and Idle use) has been lent a
// response, iter.Pull keeps the last value the reading coroutine yielded
// (the coItem event, whose Response points into the decoder's reusable
// values) until the coroutine yields again, which the reader goroutine
// alone never makes it do. Every later response decoded into those same
// reusable values stays reachable from there: a 30 MB body collected by
// a later plain UID FETCH is still held after its Result is dropped and
// after many more commands, for as long as no other pulled command runs.
// The decoder's own guard (keepBytes/dropFw: "one huge response does not
// pin its memory for the decoder's lifetime") is defeated.
func TestReview42BAPulledItemPinsBigResponse(t *testing.T) {
	ctx := context.Background()
	const size = 30 << 20
	big := strings.Repeat("x", size)
	mode := ""
	s := r42Open(t, nil, func(tag, line string) string {
		switch mode {
		case "big":
			return fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n%s)\r\n%s OK done\r\n", len(big), big, tag)
		case "pull":
			return "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n" + tag + " OK done\r\n"
		}
		return tag + " OK done\r\n"
	})
	noops := func() {
		mode = ""
		for i := 0; i < 50; i++ {
			if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One ordinary pulled command, run to its end.
	mode = "pull"
	r42PullFlags(t, s)
	noops()
	h0 := r42Heap()
	// One large body collected by a plain command, its Result dropped.
	mode = "big"
	r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1 BODY[]") }})
	if err != nil || len(r.Data) != 1 {
		t.Fatalf("big fetch: %v", err)
	}
	r = nil
	noops()
	h1 := r42Heap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the big FETCH %d, after it and 50 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("a 30 MB body whose Result was dropped is still held by the session: heap +%d MB", grown>>20)
	}
}

func r42PullFlags(t *testing.T, s *session.Session) {
	ctx := context.Background()
	p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1 FLAGS") }})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := p.Next(ctx); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReview42BAPulledItemPinsBigResponseDovecot is TestReview42BAPulledItemPinsBigResponse
// against Dovecot: after one pulled UID FETCH FLAGS, a 20 MB message read
// with a plain (collected) UID FETCH BODY.PEEK[] stays in the heap after
// its Result is dropped.
func TestReview42BAPulledItemPinsBigResponseDovecot(t *testing.T) {
	s := dvDialUser(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := fmt.Sprintf("r42pin%d", time.Now().UnixNano())
	dvRun(t, s, dvMailboxCmd("CREATE", mb))
	t.Cleanup(func() { s.Run(dvCtx(t), dvMailboxCmd("DELETE", mb)) })
	const size = 20 << 20
	func() {
		msg := append([]byte("From: a@example.com\r\nSubject: big\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), size/64)...)
		dvRun(t, s, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
			e.SP().Mailbox(mb).SP().LiteralReader(int64(len(msg)), bytes.NewReader(msg), false)
		}})
	}()
	dvRun(t, s, dvMailboxCmd("SELECT", mb))
	// One pulled command, run to its end.
	p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:* FLAGS") }})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := p.Next(ctx); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p = nil
	for i := 0; i < 20; i++ {
		dvRun(t, s, &session.Command{Name: "NOOP"})
	}
	h0 := r42Heap()
	func() {
		r := dvRun(t, s, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:* BODY.PEEK[]") }})
		if len(r.Data) != 1 {
			t.Fatalf("%d responses", len(r.Data))
		}
	}()
	for i := 0; i < 50; i++ {
		dvRun(t, s, &session.Command{Name: "NOOP"})
	}
	h1 := r42Heap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the FETCH %d, after it and 50 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("a 20 MB body whose Result was dropped is still held by the session: heap +%d MB", grown>>20)
	}
}

// TestReview42BBTraceKeepsLargestCommand: with default Options (no Trace, no
// Logger: only the 20-line history ring), every command sent is rendered
// by Encoded.AppendRedacted into the tracer's scratch buffer
// (tracer.cbuf), which is kept for reuse at its peak capacity. One
// command with a 20 MB in-memory argument (a literal written with
// Encoder.Literal, as commands.Client.Do/Xatom callers, SETMETADATA's
// StringBytes values or the CLI's raw/shell literals produce) leaves a
// 20 MB copy of its bytes held by the session for the rest of its life,
// idle or not, although the history keeps at most 240 bytes of a line and
// the session promises that an idle session holds neither its Encoder
// "nor the buffer its largest command grew" (write.go encoderPool,
// idle.go).
func TestReview42BBTraceKeepsLargestCommand(t *testing.T) {
	ctx := context.Background()
	s := r42Open(t, nil, func(tag, line string) string { return tag + " OK done\r\n" })
	for i := 0; i < 10; i++ {
		s.Run(ctx, &session.Command{Name: "NOOP"})
	}
	h0 := r42Heap()
	const size = 20 << 20
	func() {
		msg := []byte(strings.Repeat("z", size))
		if _, err := s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Literal(msg) }}); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 100; i++ {
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
	}
	h1 := r42Heap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the APPEND %d, after it and 100 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("the session still holds a copy of a 20 MB command sent earlier: heap +%d MB", grown>>20)
	}
}

// TestReview42BBTraceKeepsLargestLine is TestReview42BBTraceKeepsLargestCommand
// with a Trace writer, which sees whole lines: a 20 MB command line (a
// long raw argument) is rendered whole for it, but the scratch buffer it
// grew is not kept for the next command. The argument is one long atom of
// a command that names no message set: a raw set of 10 million ranges
// traced the same line but was also parsed for routing (an 80 MB range
// slice), which took most of the test's minute under -race and checked
// nothing about the trace.
func TestReview42BBTraceKeepsLargestLine(t *testing.T) {
	ctx := context.Background()
	s := r42Open(t, &session.Options{Trace: io.Discard}, func(tag, line string) string { return tag + " OK done\r\n" })
	for i := 0; i < 10; i++ {
		s.Run(ctx, &session.Command{Name: "NOOP"})
	}
	h0 := r42Heap()
	const size = 20 << 20
	func() {
		arg := strings.Repeat("x", size)
		if _, err := s.Run(ctx, &session.Command{Name: "XLONG", Args: func(e *wire.Encoder) { e.SP().Raw(arg) }}); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 100; i++ {
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatal(err)
		}
	}
	h1 := r42Heap()
	grown := int64(h1) - int64(h0)
	t.Logf("heap before the long command %d, after it and 100 NOOPs %d (+%d MB)", h0, h1, grown>>20)
	if grown > size/2 {
		t.Fatalf("the session still holds a copy of a 20 MB command line sent earlier: heap +%d MB", grown>>20)
	}
}
