package session_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestStartTLSCatchTakeRacing: Take and TakeMarked called in a loop by
// another goroutine while StartTLS runs (a Catch filled past
// MaxResultBytes in the clear, the bound being the subject): once
// StartTLS has returned, a Take returns what came over TLS, nothing of
// the clear stream, and reports nothing dropped.
func TestStartTLSCatchTakeRacing(t *testing.T) {
	scfg, ccfg := hsTLS(t)
	hsRun(t, hsStartTLSServer(scfg, hsStartTLS{
		Clear:   hsFlood(),
		Caps:    "IMAP4rev1 AUTH=PLAIN",
		OverTLS: []string{`* FLAGS (\Seen \PostTLS)`},
	}), 0, 0, func(c *hsCase, conn net.Conn) {
		opts := hsOpts()
		opts.MaxResultBytes = 4 << 10
		s := c.open(conn, opts)
		if s == nil {
			return
		}
		catch := s.Catch()
		defer catch.Stop()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 {
					catch.Take()
				} else {
					catch.TakeMarked()
				}
			}
		})
		err := s.StartTLS(context.Background(), ccfg)
		close(stop)
		wg.Wait()
		if err != nil {
			c.t.Errorf("StartTLS: %v", err)
			return
		}
		got, err := catch.Take()
		for _, r := range got {
			if f, ok := r.(*codec.Flags); ok {
				for _, fl := range f.Flags {
					if strings.Contains(string(fl), "Injected") {
						c.t.Errorf("Take after StartTLS returned a pre-TLS response: %v", f.Flags)
					}
				}
			}
		}
		if err != nil {
			c.t.Errorf("Take after StartTLS: %v", err)
		}
		c.outcome = "raced"
	})
}
