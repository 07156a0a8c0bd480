package session_test

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestDovecotCompress turns COMPRESS=DEFLATE on against the real Dovecot
// and runs commands over the compressed streams: SELECT, a pipelined batch,
// a FETCH of whole bodies (streamed and kept), two rounds of IDLE, LOGOUT.
func TestDovecotCompress(t *testing.T) {
	var tr dvBuffer
	s := dvDialUser(t, testserver.Alice, &session.Options{Trace: &tr})
	ctx := dvCtx(t)
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Compress(ctx); err == nil {
		t.Fatal("a second Compress was accepted")
	}
	dvRun(t, s, dvMailboxCmd("EXAMINE", "INBOX"))
	var cmds []*session.Command
	for i := 0; i < 20; i++ {
		cmds = append(cmds, &session.Command{Name: "NOOP"})
	}
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var streamed int64
	r, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Args: dvRaw("1:10 (UID BODY.PEEK[])"),
		Sections: func(f *codec.Fetch, sec *codec.Section, body io.Reader) error {
			n, err := io.Copy(io.Discard, body)
			streamed += n
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 10 || streamed < 10*1000 {
		t.Fatalf("UID FETCH over COMPRESS: %d responses, %d body bytes", len(r.Data), streamed)
	}
	// Pulled, by a caller whose context can end: under COMPRESS its
	// reads go to the reader goroutine (an interrupted read would break
	// the inflater; see session/pull.go), and every message still comes.
	for _, pctx := range []context.Context{ctx, context.Background()} {
		p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Args: dvRaw("1:10 (UID FLAGS BODY.PEEK[])"), Pull: true})
		if err != nil {
			t.Fatal(err)
		}
		var fetches int
		var body int64
		for {
			it, err := p.Next(pctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if it.Body != nil {
				n, _ := io.Copy(io.Discard, it.Body)
				body += n
			} else {
				fetches++
			}
		}
		if _, err := p.Wait(ctx); err != nil || fetches != 10 {
			t.Fatalf("pulled UID FETCH over COMPRESS: %d FETCH, %d streamed body bytes, %v", fetches, body, err)
		}
	}
	// IDLE: the session gives its deflater back while it waits and takes
	// a new one for DONE (see TestIdleReleasesDeflater); Dovecot's
	// inflater must read what the new one sends, and the NOOP after it.
	for range 2 {
		endIdle(t, ctx, startIdle(t, ctx, s))
		dvRun(t, s, &session.Command{Name: "NOOP"})
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	trace := tr.String()
	if !strings.Contains(trace, "C: A2 COMPRESS DEFLATE") || !strings.Contains(trace, "S: * BYE") {
		t.Fatalf("the trace should show the decompressed exchange:\n%s", trace)
	}
	if bytes.Contains([]byte(trace), []byte{0}) {
		t.Fatal("compressed bytes in the trace")
	}
}

// TestIdleReleasesDeflater: with the defaults, a session waiting in IDLE
// under COMPRESS gives its deflater (about 850 KB) back, and the deflater
// it takes for DONE continues the stream: three rounds of a NOOP, IDLE and
// DONE, each read by the scripted server's inflater (idleServe).
func TestIdleReleasesDeflater(t *testing.T) {
	client, server := transport.Pipe()
	go idleServe(server)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
			t.Fatalf("round %d: NOOP: %v", round, err)
		}
		if !session.HoldsDeflater(s) {
			t.Fatalf("round %d: no deflater after a NOOP: the test would prove nothing", round)
		}
		p := startIdle(t, ctx, s)
		// The reader gives the deflater back when it goes back to
		// waiting, a moment after the continuation: wait for it, up to
		// the test's deadline.
		for session.HoldsDeflater(s) {
			if ctx.Err() != nil {
				t.Fatalf("round %d: the idle session still holds its deflater", round)
			}
			time.Sleep(time.Millisecond)
		}
		endIdle(t, ctx, p)
	}
}

// TestCompressOneWritePerCommand: each command (each Write of the session
// on the compressed stream) reaches the connection in one write, its
// block and the sync flush's marker together, so that a server that acts
// on the block and closes (LOGOUT) never has the marker arrive on a closed
// socket; a write far larger than a command goes in pieces of bounded
// size, and inflates back to what was written.
func TestCompressOneWritePerCommand(t *testing.T) {
	var conn countWriter
	fw := session.NewFlushWriter(&conn, flate.DefaultCompression)
	for _, cmd := range []string{"A1 LOGIN x y\r\n", "A2 SELECT INBOX\r\n", "A3 IDLE\r\n", "DONE\r\n", "A4 LOGOUT\r\n"} {
		before := conn.writes
		if _, err := fw.Write([]byte(cmd)); err != nil {
			t.Fatal(err)
		}
		if n := conn.writes - before; n != 1 {
			t.Errorf("%q went in %d writes; want 1", cmd, n)
		}
	}
	big := make([]byte, 3<<20) // 3 MiB that do not compress
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	before := conn.writes
	if n, err := fw.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write of %d bytes: %d, %v", len(big), n, err)
	}
	if conn.max > 128<<10 {
		t.Errorf("a write of %d bytes on the connection; want pieces of at most 128 KiB", conn.max)
	}
	t.Logf("%d bytes in %d writes", len(big), conn.writes-before)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(conn.buf.Bytes())))
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
	want := "A1 LOGIN x y\r\nA2 SELECT INBOX\r\nA3 IDLE\r\nDONE\r\nA4 LOGOUT\r\n" + string(big)
	if string(got) != want {
		t.Errorf("inflated %d bytes; want %d", len(got), len(want))
	}
}

// countWriter records the writes made to it.
type countWriter struct {
	buf         bytes.Buffer
	writes, max int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.writes++
	c.max = max(c.max, len(p))
	return c.buf.Write(p)
}
