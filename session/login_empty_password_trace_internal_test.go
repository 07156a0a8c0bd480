package session

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestLoginEmptyPasswordTraceKeepsUser: a LOGIN whose password is
// Password("") (a server that takes an empty one) was traced as
// "A1 LOGIN alice ***", as with any password. Since Encoded.Secrets no
// longer lists the empty value, send (session/write.go, the raw-LOGIN
// escape hatch: !secret && len(wc.Secrets()) == 0 && LOGIN) takes it for
// a LOGIN written without Password and traces "A1 LOGIN ***": the user
// name, no secret, is gone from the trace and the history, a behaviour
// change nobody asked for (the command was written with Password). Defaults;
// a bubble.
func TestLoginEmptyPasswordTraceKeepsUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, srv := transport.Pipe()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer srv.Close()
			io.WriteString(srv, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
			r := bufio.NewReader(srv)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				tag, _, _ := strings.Cut(line, " ")
				io.WriteString(srv, tag+" OK done\r\n")
			}
		}()
		var trace strings.Builder
		var mu sync.Mutex
		s, err := Open(context.Background(), c, &Options{Trace: lockedWriter{&mu, &trace}})
		if err != nil {
			t.Fatal(err)
		}
		login := &Command{Name: "LOGIN", Args: func(e *wire.Encoder) { e.SP().AString("alice").SP().Password("") }}
		if _, err := s.Run(context.Background(), login); err != nil {
			t.Fatal(err)
		}
		s.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(trace.String(), "LOGIN alice ***") {
			t.Errorf("trace of a LOGIN with Password(\"\") lost the user name:\n%s", trace.String())
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
