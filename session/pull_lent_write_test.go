package session_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestPulledLentWriteNotStuck: a pulled command's caller holds a lent
// item (the reader goroutine parked, lent to it) and hands it to another
// goroutine that sends a command larger than the connection's buffers (an
// APPEND of a large message with LITERAL+, no "+" to wait for). A server
// that writes the rest of its answer before it reads on (Dovecot finishes
// a FETCH's output first) fills the connection one way while the APPEND
// fills it the other: the write waits for the server, the server for the
// reader, and the reader for a demand nobody made (a writer is not a
// command waiting for its answer or its turn). Before the fix the session
// was aborted after writeStallFactor stall timeouts (TimeoutWrite, 4 min
// by default), the APPEND failed and the pull with it.
// Found by review (stop 50, lost wake-ups). Defaults: the bounds are the
// library's.
func TestPulledLentWriteNotStuck(t *testing.T) {
	bubbleGuarded(t, 20*time.Second, pulledLentWriteBubble)
}

func pulledLentWriteBubble(t *testing.T) {
	c, srv := transport.Pipe()
	const filler = 3 * transport.PipeBufferSize / 2 // past the pipe's buffer, both ways
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer srv.Close()
		io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
		r := bufio.NewReaderSize(srv, 64<<10)
		readTag := func() string {
			line, err := r.ReadString('\n')
			if err != nil {
				return ""
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(rest, "APPEND") {
				// The literal, then the line's end.
				if _, err := io.CopyN(io.Discard, r, filler); err != nil {
					return ""
				}
				if _, err := r.ReadString('\n'); err != nil {
					return ""
				}
			}
			return tag
		}
		tp := readTag()
		io.WriteString(srv, "* SEARCH 1\r\n") // lent to P's caller, who holds it
		// The rest of P's answer, written before the server reads on:
		// untagged data for nobody, past the pipe's buffer.
		line := "* OK [ALERT] " + strings.Repeat("x", 1000) + "\r\n"
		for n := 0; n < filler; n += len(line) {
			if _, err := io.WriteString(srv, line); err != nil {
				return
			}
		}
		io.WriteString(srv, "* SEARCH 2\r\n"+tp+" OK done\r\n")
		for {
			tag := readTag()
			if tag == "" {
				return
			}
			io.WriteString(srv, tag+" OK done\r\n")
		}
	}()
	ctx := context.Background()
	s, err := session.Open(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		<-srvDone
	}()
	p, err := s.Start(ctx, &session.Command{Name: "NOOP", Pull: true,
		Want: func(r codec.Response) bool { _, ok := r.(*codec.Search); return ok }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(ctx); err != nil { // lent, and held
		t.Fatal(err)
	}
	synctest.Wait() // the server blocks writing: the reader is parked
	msg := strings.Repeat("y", filler)
	_, err = s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Raw("INBOX").SP().Literal([]byte(msg))
	}})
	if err != nil {
		t.Fatalf("APPEND beside a held pulled item: %v", err)
	}
	if err := drainPulled(ctx, p); err != nil {
		t.Fatalf("the pulled command: %v", err)
	}
}
