package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeWaits returns how many calls are listed as waiting on p, and
// checks that every spare channel is empty (a token left in one would
// wake the next wait that takes it for nothing, or block a wake that
// sends to it while holding p.mu).
func pipeWaits(t *testing.T, p *pipeBuffer) (readers, writers, spare int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range p.spare {
		if len(ch) != 0 {
			t.Errorf("a spare wake channel holds a token")
		}
	}
	return len(p.readers), len(p.writers), len(p.spare)
}

// TestPipeWaitsEndUnlisted: Reads whose deadline passes while they wait
// take their wake channels out of the buffer's list and give them back
// empty; the next waits reuse them, a write wakes each of those once and
// a Close every one left. So no channel stays listed for a call that has
// returned, none is lost, and the spare list holds no more channels than
// the most waits there were at once.
func TestPipeWaitsEndUnlisted(t *testing.T) {
	const waiters = 8
	synctest.Test(t, func(t *testing.T) {
		client, server := Pipe()
		p := server.(*pipeConn).rx
		read := func(wg *sync.WaitGroup, errs chan<- error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := make([]byte, 1)
				for {
					n, err := server.Read(b)
					if err != nil || n == 0 {
						errs <- err
						return
					}
				}
			}()
		}
		// Deadlines that pass while the Reads are listed.
		server.SetReadDeadline(time.Now().Add(time.Second))
		var wg sync.WaitGroup
		errs := make(chan error, waiters)
		for range waiters {
			read(&wg, errs)
		}
		synctest.Wait()
		if r, _, _ := pipeWaits(t, p); r != waiters {
			t.Fatalf("%d Reads listed as waiting; want %d", r, waiters)
		}
		wg.Wait() // the deadline passes on the bubble's clock
		for range waiters {
			if err := <-errs; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("a Read whose deadline passed: %v", err)
			}
		}
		if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s != waiters {
			t.Fatalf("after the deadline: %d readers and %d writers listed, %d spare channels; want none listed and %d spare", r, w, s, waiters)
		}

		// The same channels again: a write wakes every Read, one takes
		// the byte, the others wait again; the Close wakes them all.
		server.SetReadDeadline(time.Time{})
		for range waiters {
			read(&wg, errs)
		}
		synctest.Wait()
		if _, err := client.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if r, _, s := pipeWaits(t, p); r != waiters || s != 0 {
			t.Fatalf("after a write: %d Reads listed, %d spare channels; want %d listed, none spare", r, s, waiters)
		}
		client.Close()
		wg.Wait()
		for range waiters {
			if err := <-errs; err != io.EOF {
				t.Fatalf("a Read after the peer's Close: %v", err)
			}
		}
		if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s != waiters {
			t.Fatalf("after the peer's Close: %d readers and %d writers listed, %d spare channels; want none listed and %d spare", r, w, s, waiters)
		}

		server.Close()

		// A Close of the Reads' own end ends them (done) and wakes them
		// too: a Read that left by done may be sent a token after it,
		// which it takes before it gives its channel back.
		for range 20 {
			client, server = Pipe()
			p = server.(*pipeConn).rx
			for range waiters {
				read(&wg, errs)
			}
			synctest.Wait()
			server.Close()
			wg.Wait()
			for range waiters {
				if err := <-errs; !errors.Is(err, net.ErrClosed) {
					t.Fatalf("a Read after its end's Close: %v", err)
				}
			}
			if r, w, s := pipeWaits(t, p); r != 0 || w != 0 || s != waiters {
				t.Fatalf("after the Close: %d readers and %d writers listed, %d spare channels; want none listed and %d spare", r, w, s, waiters)
			}
			client.Close()
		}
		wg.Wait()
	})
}
