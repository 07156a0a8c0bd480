package micro_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/imapkit/imapkit/bench/internal/scripted"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// pipeN is the number of NOOPs of one pipelined batch.
const pipeN = 1000

// loopbackServer starts the scripted server on a loopback TCP listener
// (one connection per accept, every NOOP answered with a tagged OK) and
// returns its address.
func loopbackServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go scripted.ServeListener(ln)
	return ln.Addr().String()
}

func dial(tb testing.TB, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkPipelinedNOOP sends 1,000 NOOPs without waiting, then waits for
// every answer, over loopback TCP to the scripted server in this process
// (issue 13's per-command target: at least go-imap's throughput, at most
// 8 allocations per NOOP). cmds/s and allocs/cmd count the client and the
// server together; the server's part is the same for every contender.
//
//	imapkit-batch     session.StartBatch of the 1,000, then Wait each
//	imapkit-start     session.Start of each in turn, then Wait each
//	imapkit-commands  commands.Client.Noop from 1,000 goroutines at once
//	go-imap           imapclient.Client.Noop of each in turn, then Wait each
func BenchmarkPipelinedNOOP(b *testing.B) {
	addr := loopbackServer(b)
	ctx := context.Background()
	noop := &session.Command{Name: "NOOP"}
	batch := make([]*session.Command, pipeN)
	for i := range batch {
		batch[i] = noop
	}
	run := func(b *testing.B, pass func() error) {
		if err := pass(); err != nil { // warm up
			b.Fatal(err)
		}
		b.ReportAllocs()
		m0, _ := mallocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := pass(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		m1, _ := mallocs()
		b.ReportMetric(float64(b.N)*pipeN/b.Elapsed().Seconds(), "cmds/s")
		b.ReportMetric(float64(m1-m0)/float64(b.N*pipeN), "allocs/cmd")
	}
	openSession := func(b *testing.B) *session.Session {
		s, err := session.Open(ctx, dial(b, addr), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	b.Run("imapkit-batch", func(b *testing.B) {
		s := openSession(b)
		run(b, func() error {
			ps, err := s.StartBatch(ctx, batch)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if _, err := p.Wait(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("imapkit-start", func(b *testing.B) {
		s := openSession(b)
		ps := make([]*session.Pending, pipeN)
		run(b, func() error {
			for i := range ps {
				p, err := s.Start(ctx, noop)
				if err != nil {
					return err
				}
				ps[i] = p
			}
			for _, p := range ps {
				if _, err := p.Wait(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("imapkit-commands", func(b *testing.B) {
		c := commands.New(openSession(b))
		errs := make([]error, pipeN)
		run(b, func() error {
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { errs[i] = c.Noop(ctx) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("go-imap", func(b *testing.B) {
		c := imapclient.New(dial(b, addr), nil)
		b.Cleanup(func() { c.Close() })
		if err := c.WaitGreeting(); err != nil {
			b.Fatal(err)
		}
		cmds := make([]*imapclient.Command, pipeN)
		run(b, func() error {
			for i := range cmds {
				cmds[i] = c.Noop()
			}
			for _, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
