package session_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// review41CloseAtFinished is the client's connection: once armed (before
// StartTLS), its third write (after STARTTLS and the ClientHello) is the TLS client's last flight; right after it
// goes out, Close is called on another goroutine, and the write returns
// only a moment later, so that the handshake completes while Close runs.
type review41CloseAtFinished struct {
	net.Conn
	armed  atomic.Bool
	writes atomic.Int32
	s      atomic.Pointer[session.Session]
	wg     sync.WaitGroup
}

func (c *review41CloseAtFinished) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.armed.Load() && c.writes.Add(1) == 3 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.s.Load().Close()
		}()
		time.Sleep(100 * time.Millisecond)
	}
	return n, err
}

// TestReview41KCloseDuringStartTLSRace: Close called (from another
// goroutine, a watchdog, a ctx.AfterFunc) while STARTTLS's handshake
// completes on the reader goroutine. abortWith read s.conn without a lock
// while the upgrade replaced it under the write lock: a data race on an
// interface value (two words: a torn read may call Close through a wrong
// method table). Run with -race; before the fix it failed with "race
// detected during execution of test".
func TestReview41KCloseDuringStartTLSRace(t *testing.T) {
	srvCfg, cliCfg, err := testserver.TLSConfigs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw, srv := hostile.Pipe(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1 STARTTLS")
		cmd, err := c.Until("STARTTLS")
		if err != nil {
			return err
		}
		c.Reply(cmd.Tag, "OK begin TLS")
		if err := c.StartTLS(srvCfg); err != nil {
			return err
		}
		c.Serve()
		return nil
	})
	defer srv.Close()
	conn := &review41CloseAtFinished{Conn: raw}
	ctx := ctx20(t)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.s.Store(s)
	conn.armed.Store(true)
	err = s.StartTLS(ctx, cliCfg)
	t.Logf("StartTLS: %v", err)
	conn.wg.Wait()
	s.Close()
}
