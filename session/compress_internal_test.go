package session

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"net"
	"testing"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// deflateServer is a scripted server for COMPRESS=DEFLATE: PREAUTH, OK to
// COMPRESS DEFLATE and from then on both directions deflated, "+ idling"
// to IDLE, OK to DONE and to anything else. Every line it could not read
// (a broken deflate stream) ends it, and the session's next command fails.
func deflateServer(c net.Conn) {
	defer c.Close()
	c.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE] ready\r\n"))
	r := bufio.NewReader(c)
	write := func(b []byte) { c.Write(b) }
	var idleTag []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		if bytes.Equal(line, []byte("DONE")) && idleTag != nil {
			write(append(idleTag, " OK IDLE done\r\n"...))
			idleTag = nil
			continue
		}
		tag, rest, _ := bytes.Cut(line, []byte(" "))
		if bytes.Equal(rest, []byte("IDLE")) {
			idleTag = append([]byte(nil), tag...)
			write([]byte("+ idling\r\n"))
			continue
		}
		write(append(append([]byte(nil), tag...), " OK done\r\n"...))
		if bytes.Equal(rest, []byte("COMPRESS DEFLATE")) {
			r = bufio.NewReader(flate.NewReader(r))
			zw, _ := flate.NewWriter(c, flate.BestSpeed)
			write = func(b []byte) {
				zw.Write(b)
				zw.Flush()
			}
		}
	}
}

// TestIdleReleasesDeflater: with the defaults, a session waiting in IDLE
// under COMPRESS gives its deflater (about 850 KB) back, and the deflater
// it takes for DONE continues the stream: three rounds of IDLE, DONE and a
// NOOP, each read by the server's inflater.
func TestIdleReleasesDeflater(t *testing.T) {
	client, server := transport.Pipe()
	go deflateServer(server)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Compress(ctx); err != nil {
		t.Fatal(err)
	}
	// held reports whether the session holds a deflater, under the write
	// lock.
	held := func() bool {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		return s.cw.w.(*flushWriter).zw != nil
	}
	for round := 0; round < 3; round++ {
		if _, err := s.Run(ctx, &Command{Name: "NOOP"}); err != nil {
			t.Fatalf("round %d: NOOP: %v", round, err)
		}
		if !held() {
			t.Fatalf("round %d: no deflater after a NOOP: the test would prove nothing", round)
		}
		p, err := s.Start(ctx, &Command{Name: "IDLE"})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Continuations():
		case <-ctx.Done():
			t.Fatal("no continuation for IDLE")
		}
		// The reader gives the deflater back when it goes back to
		// waiting, a moment after the continuation: wait for it, up to
		// the test's deadline.
		for held() {
			if ctx.Err() != nil {
				t.Fatalf("round %d: the idle session still holds its deflater", round)
			}
			time.Sleep(time.Millisecond)
		}
		if err := p.Continue(ctx, []byte("DONE")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Wait(ctx); err != nil {
			t.Fatalf("round %d: IDLE after DONE: %v", round, err)
		}
	}
}
