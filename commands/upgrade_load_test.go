package commands_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestUpgradesUnderLoadDovecot: while goroutines send CAPABILITY, NOOP
// and ID on one Client without pause, another takes it through STARTTLS,
// AUTHENTICATE (SCRAM, continuations), COMPRESS, SELECT and a FETCH of
// every body, then LOGOUT. The upgrades run alone: the other commands wait
// for them and go on over the new layers, and every one of them succeeds
// until LOGOUT, after which they fail with the session's end, not a hang.
// With the library's defaults.
func TestUpgradesUnderLoadDovecot(t *testing.T) {
	const n = 8
	mb := dvMailbox(t, testserver.Alice, n)
	for round := range 3 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			ctx := dvCtx(t)
			c := dvPlain(t)
			var loggedOut atomic.Bool
			var ops atomic.Int64
			var wg sync.WaitGroup
			var counts []*atomic.Int64 // each loop's operations
			loop := func(what string, op func() error) {
				wg.Add(1)
				n := new(atomic.Int64)
				counts = append(counts, n)
				go func() {
					defer wg.Done()
					for {
						err := op()
						if loggedOut.Load() {
							if err != nil && !isSessionEnd(err) {
								t.Errorf("%s after LOGOUT: %v; want the session's end", what, err)
							}
							return
						}
						if err != nil {
							t.Errorf("%s: %v", what, err)
							return
						}
						ops.Add(1)
						n.Add(1)
					}
				}()
			}
			// everyLoopRan waits until each loop has done another
			// operation, so that each upgrade meets commands on both
			// sides of it.
			everyLoopRan := func() {
				for _, n := range counts {
					for k := n.Load(); n.Load() == k && !t.Failed(); {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}
			loop("CAPABILITY", func() error { _, err := c.Do(ctx, "CAPABILITY", nil); return err })
			loop("NOOP", func() error { return c.Noop(ctx) })
			loop("ID", func() error { _, err := c.ID(ctx, map[string]string{"name": "imapkit-test"}); return err })
			steps := []struct {
				what string
				do   func() error
			}{
				{"STARTTLS", func() error { return c.StartTLS(ctx, nil) }},
				{"AUTHENTICATE", func() error {
					return c.Authenticate(ctx, auth.NewSCRAMSHA256("", testserver.Alice, testserver.Password))
				}},
				{"COMPRESS", func() error { return c.Compress(ctx, nil) }},
				{"SELECT", func() error { _, err := c.Select(ctx, mb, nil); return err }},
				{"FETCH", func() error {
					k := 0
					for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{Sections: []commands.FetchSection{commands.WholeMessage}}) {
						if err != nil {
							return err
						}
						sec, err := m.NextSection()
						if err != nil {
							return err
						}
						body, err := io.ReadAll(sec)
						if err != nil {
							return err
						}
						if !bytes.Equal(body, testserver.SampleMessage(int(m.SeqNum)-1)) {
							return fmt.Errorf("message %d differs", m.SeqNum)
						}
						k++
					}
					if k != n {
						return fmt.Errorf("%d messages; want %d", k, n)
					}
					return nil
				}},
			}
			for _, st := range steps {
				everyLoopRan()
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.what, err)
				}
			}
			everyLoopRan()
			if !c.Auth().TLS() {
				t.Error("not TLS after STARTTLS")
			}
			loggedOut.Store(true)
			if err := c.Logout(ctx); err != nil {
				t.Fatalf("LOGOUT: %v", err)
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatalf("operations still running after LOGOUT:\n%s", fuzzseed.Stacks())
			}
			t.Logf("%d operations beside the upgrades", ops.Load())
		})
	}
}

// isSessionEnd reports whether err says the session has ended (LOGOUT,
// BYE or the connection closed).
func isSessionEnd(err error) bool {
	var se *session.StateError
	return errors.Is(err, session.ErrClosed) || errors.As(err, &se) || errors.Is(err, io.EOF)
}
