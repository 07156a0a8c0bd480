package session_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// Benchmarks of the session's round trip and of pipelining. Run them with
//
//	go test -run '^$' -bench . -benchmem ./session/
//
// The Dovecot ones use the test binary's shared server over TCP loopback.

var bnNOOP = &session.Command{Name: "NOOP"}

// bnPipeServer answers every command line with "TAG OK NOOP completed".
func bnPipeServer(tb testing.TB) *session.Session {
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReaderSize(server, 64<<10)
		w := bufio.NewWriterSize(server, 64<<10)
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			// No allocation here: allocs/op counts the client's alone.
			tag, _, _ := bytes.Cut(line, []byte(" "))
			w.Write(tag)
			w.WriteString(" OK NOOP completed\r\n")
			if r.Buffered() == 0 {
				if w.Flush() != nil {
					return
				}
			}
		}
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkNOOPPipe(b *testing.B) {
	s := bnPipeServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Run(ctx, bnNOOP); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPipelined1000NOOPPipe(b *testing.B) {
	s := bnPipeServer(b)
	bnPipelined(b, s, bnRepeat(bnNOOP, 1000))
}

func BenchmarkNOOPDovecot(b *testing.B) {
	s := dvDialUser(b, testserver.Alice, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Run(ctx, bnNOOP); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPipelined1000NOOPDovecot(b *testing.B) {
	s := dvDialUser(b, testserver.Alice, nil)
	bnPipelined(b, s, bnRepeat(bnNOOP, 1000))
}

func BenchmarkSequential1000NOOPDovecot(b *testing.B) {
	s := dvDialUser(b, testserver.Alice, nil)
	bnSequential(b, s, bnRepeat(bnNOOP, 1000))
}

// bnStoreMailbox is a mailbox of alice with 1000 messages, made once.
var (
	bnStoreOnce sync.Once
	bnStoreErr  error
)

const bnStoreMailbox = "bench-1000"

// bnStoreSession returns a session with bnStoreMailbox selected, and the
// 2 x 1000 UID STORE commands that set and clear \Flagged on every
// message. Dovecot runs pipelined STOREs in parallel and interleaves their
// FETCH data; each command has a Want for its UID, which says explicitly
// what the default routing by message set works out.
func bnStoreSession(b *testing.B) (*session.Session, [2][]*session.Command) {
	srv := dvServer(b)
	bnStoreOnce.Do(func() {
		bnStoreErr = srv.SeedMailbox(testserver.Alice, bnStoreMailbox, testserver.SampleMessages(1000))
	})
	if bnStoreErr != nil {
		b.Fatal(bnStoreErr)
	}
	s := dvDialUser(b, testserver.Alice, nil)
	dvRun(b, s, dvMailboxCmd("SELECT", bnStoreMailbox))
	var cmds [2][]*session.Command
	for i, op := range []string{"+FLAGS", "-FLAGS"} {
		for uid := uint32(1); uid <= 1000; uid++ {
			cmds[i] = append(cmds[i], &session.Command{
				Name: "UID STORE",
				Args: dvRaw(fmt.Sprintf("%d %s (\\Flagged)", uid, op)),
				Want: uidWant(uid),
			})
		}
	}
	return s, cmds
}

func BenchmarkPipelined1000StoreDovecot(b *testing.B) {
	s, cmds := bnStoreSession(b)
	bnRun(b, len(cmds[0]), func(i int) {
		ps, err := s.StartBatch(context.Background(), cmds[i%2])
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range ps {
			if _, err := p.Wait(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSequential1000StoreDovecot(b *testing.B) {
	s, cmds := bnStoreSession(b)
	bnRun(b, len(cmds[0]), func(i int) {
		for _, c := range cmds[i%2] {
			if _, err := s.Run(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func bnRepeat(c *session.Command, n int) []*session.Command {
	cmds := make([]*session.Command, n)
	for i := range cmds {
		cmds[i] = c
	}
	return cmds
}

// bnPipelined starts cmds with StartBatch and waits for them all, per
// iteration.
func bnPipelined(b *testing.B, s *session.Session, cmds []*session.Command) {
	ctx := context.Background()
	bnRun(b, len(cmds), func(int) {
		ps, err := s.StartBatch(ctx, cmds)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range ps {
			if _, err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bnSequential runs cmds one at a time, per iteration.
func bnSequential(b *testing.B, s *session.Session, cmds []*session.Command) {
	ctx := context.Background()
	bnRun(b, len(cmds), func(int) {
		for _, c := range cmds {
			if _, err := s.Run(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bnRun runs f per iteration and reports commands per second.
func bnRun(b *testing.B, perOp int, f func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	i := 0
	for b.Loop() {
		f(i)
		i++
	}
	b.ReportMetric(float64(perOp*i)/time.Since(start).Seconds(), "cmds/s")
}

// TestBenchStoreRouting checks what the store benchmarks rely on:
// pipelined UID STOREs get their own FETCH responses, with a Want per UID
// and with the default routing.
func TestBenchStoreRouting(t *testing.T) {
	dvParallel(t)
	for _, withWant := range []bool{true, false} {
		t.Run(fmt.Sprintf("Want=%v", withWant), func(t *testing.T) {
			mbox := dvNewMailbox(t, testserver.Alice, testserver.SampleMessages(50))
			s := dvDialUser(t, testserver.Alice, nil)
			dvRun(t, s, dvMailboxCmd("SELECT", mbox))
			var cmds []*session.Command
			for uid := uint32(1); uid <= 50; uid++ {
				c := &session.Command{Name: "UID STORE", Args: dvRaw(fmt.Sprintf("%d +FLAGS (\\Flagged)", uid))}
				if withWant {
					c.Want = uidWant(uid)
				}
				cmds = append(cmds, c)
			}
			ps, err := s.StartBatch(dvCtx(t), cmds)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range ps {
				r, err := p.Wait(dvCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Data) != 1 {
					t.Errorf("UID STORE %d: %s", i+1, dvDescribe(r.Data))
					continue
				}
				f := r.Data[0].(*codec.Fetch)
				flagged := false
				for _, fl := range f.Flags {
					flagged = flagged || strings.EqualFold(string(fl), `\Flagged`)
				}
				if f.UID != uint32(i+1) || !flagged {
					t.Errorf("UID STORE %d: FETCH UID %d FLAGS %q", i+1, f.UID, f.Flags)
				}
			}
		})
	}
}
