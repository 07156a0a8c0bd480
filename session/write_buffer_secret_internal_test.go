package session

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// TestWriteBufferZeroedAfterSecret: the 16 KiB write buffers a session
// gives back to writerPool held the bytes last written through them: a
// LOGIN's password, a SASL line sent by Continue (found by review, beside
// wire.Encoder.Reset's). They are never sent again (a writer sends only
// what it wrote), but the pool's promise is that no secret stays: a buffer
// a secret went through is zeroed as it goes back, every buffer of that
// write included (a LOGIN's synchronizing literal flushes the command's
// start before the password, which goes in a buffer taken anew), and a
// command without one costs no clear. Defaults; a scripted server.
func TestWriteBufferZeroedAfterSecret(t *testing.T) {
	const (
		pw   = "corrëct-horse-battery-staple" // 8-bit: a literal, synchronizing without LITERAL+
		sasl = "c2VjcmV0LXNhc2wtbGluZS0wMTIzNDU2Nzg5"
	)
	var (
		mu       sync.Mutex
		given    int
		leaked   []string
		sawNOOP  bool
		checking = true
	)
	OnGiveBack(t, func(buf []byte) {
		mu.Lock()
		defer mu.Unlock()
		if !checking {
			return
		}
		given++
		for _, sec := range []string{pw, sasl} {
			if bytes.Contains(buf, []byte(sec)) {
				leaked = append(leaked, sec)
			}
		}
		if bytes.Contains(buf, []byte(" NOOP\r\n")) {
			sawNOOP = true // a command without a secret: left as it is
		}
	})

	client, sv := newLineServer(t)
	send, next := sv.send, sv.next
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi")
	s, err := Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// AUTHENTICATE: the line Continue sends.
	p, err := s.Start(ctx, &Command{Name: "AUTHENTICATE", Args: func(e *wire.Encoder) { e.SP().Atom("PLAIN") }})
	if err != nil {
		t.Fatal(err)
	}
	tag := sv.nextTag()
	send("+ ")
	select {
	case <-p.Continuations():
	case <-ctx.Done():
		t.Fatal("no continuation")
	}
	if err := p.Continue(ctx, []byte(sasl)); err != nil {
		t.Fatal(err)
	}
	if l := next(); l != sasl {
		t.Fatalf("client sent %q, want the SASL line", l)
	}
	send(tag + " NO not this time")
	p.Wait(ctx)

	// LOGIN, its password in a synchronizing literal: Run waits for the
	// "+" as it writes.
	login := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &Command{Name: "LOGIN", Args: func(e *wire.Encoder) {
			e.SP().Atom("user").SP().Password(pw)
		}})
		login <- err
	}()
	l := next()
	tag, _, _ = strings.Cut(l, " ")
	if !strings.HasSuffix(l, "}") {
		t.Fatalf("LOGIN sent %q, want a synchronizing literal", l)
	}
	send("+ go")
	if l := next(); l != pw {
		t.Fatalf("client sent %q, want the password", l)
	}
	send(tag + " OK [CAPABILITY IMAP4rev1] logged in")
	if err := <-login; err != nil {
		t.Fatal(err)
	}

	// NOOP: no secret, no clear.
	p, err = s.Start(ctx, &Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	tag = sv.nextTag()
	send(tag + " OK done")
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	checking = false
	if len(leaked) > 0 {
		t.Fatalf("write buffers went back to the pool holding secrets: %q", leaked)
	}
	if given < 4 || !sawNOOP {
		t.Fatalf("%d buffers given back, NOOP's seen as written: %v; want at least 4 (AUTHENTICATE, its line, LOGIN's two) and NOOP's bytes left (no clear without a secret)", given, sawNOOP)
	}
}
