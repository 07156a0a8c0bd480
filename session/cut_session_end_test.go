package session_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// deafServer greets (PREAUTH, LITERAL+) and reads nothing; with bye, it
// says "* BYE" a second later (while the client's write is blocked). It
// holds the connection until stop is closed.
func deafServer(srv io.ReadWriteCloser, bye bool, stop <-chan struct{}) {
	defer srv.Close()
	io.WriteString(srv, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
	if bye {
		time.Sleep(time.Second)
		io.WriteString(srv, "* BYE going away\r\n")
	}
	<-stop
}

// TestCutWriteEarlierCommandsBySessionEnd: which commands of a batch whose
// write is blocked get ErrWriteCut depends on what ends the session
// (docs/errors.md, the ErrWriteCut doc, session/doc.go). The command being
// written when its write returns short always does: its writer knows then
// that its last byte did not go. An earlier command whose last byte that
// write did not get out does when the write's failure ends the session
// (here the write stall bound, 4 min: the deaf server's read stall does
// not count while a write waits); when the session ends first for another
// reason (a BYE, Close) while the write is blocked, it ends at once with
// that error alone (ErrAborted, ErrClosed): how much of the blocked write
// the connection took is not known then, and "not run" would be a guess.
// Before the docs said so, they promised ErrWriteCut for every such
// command, whatever ended the session (found by review). Defaults; a
// bubble.
func TestCutWriteEarlierCommandsBySessionEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bye    bool
		close  bool
		cut    bool  // the NOOP matches ErrWriteCut
		reason error // what it matches besides ErrAborted or ErrClosed
	}{
		{"WriteStall", false, false, true, session.ErrTimeout},
		{"Bye", true, false, false, session.ErrBye},
		{"Close", false, true, false, session.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubbleGuarded(t, 20*time.Second, func(t *testing.T) {
				c, srv := transport.Pipe()
				stop := make(chan struct{})
				srvDone := make(chan struct{})
				go func() {
					defer close(srvDone)
					deafServer(srv, tc.bye, stop)
				}()
				s, err := session.Open(context.Background(), c, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { s.Close(); close(stop); <-srvDone }()
				if tc.close {
					go func() { time.Sleep(time.Second); s.Close() }()
				}
				last := &session.Command{Name: "NOOP", Args: func(e *wire.Encoder) { e.SP().Raw(strings.Repeat("m", 8<<10)) }}
				ps, err := s.StartBatch(context.Background(), append(fillingBatch(), last))
				if !errors.Is(err, session.ErrWriteCut) || len(ps) != 2 {
					t.Fatalf("the case is not made: StartBatch %v with %d commands; session %v", err, len(ps), s.Err())
				}
				t.Logf("session: %v", s.Err())
				if _, err := ps[0].Wait(context.Background()); errors.Is(err, session.ErrWriteCut) {
					t.Errorf("APPEND, out whole: %v; want not ErrWriteCut", err)
				}
				_, err = ps[1].Wait(context.Background())
				if errors.Is(err, session.ErrWriteCut) != tc.cut || !errors.Is(err, tc.reason) {
					t.Errorf("NOOP, its last byte never left the write buffer: %v; want ErrWriteCut %v, and %v", err, tc.cut, tc.reason)
				}
			})
		})
	}
}
