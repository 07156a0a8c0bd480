package session_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
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
	for round := 0; round < 2; round++ {
		p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Continuations():
		case <-ctx.Done():
			t.Fatal("no continuation for IDLE")
		}
		if err := p.Continue(ctx, []byte("DONE")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Wait(ctx); err != nil {
			t.Fatalf("IDLE over COMPRESS, round %d: %v", round, err)
		}
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
