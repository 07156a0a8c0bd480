package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestExportHugeSearchAnswer: imapkit export asks the source for the UIDs
// to export (searchUIDs: UID SEARCH UID 1:*). It expanded an ESEARCH
// answer's compact set into a []uint32, then copied it: a server's
// 40-byte "ALL 1:N" cost 8 bytes a UID before a single message was
// fetched (1:8000000 here: +121 MiB; 1:4294967295, 32 GiB). The UIDs are
// kept as ranges now (uidQueue) and handed out a batch at a time.
func TestExportHugeSearchAnswer(t *testing.T) {
	const last = 8_000_000
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 ESEARCH AUTH=PLAIN"); err != nil {
			return err
		}
		cmd, err := c.Until("UID SEARCH")
		if err != nil {
			return err
		}
		c.Linef(`* ESEARCH (TAG "%s") UID ALL 1:%d`, cmd.Tag, last)
		c.Reply(cmd.Tag, "OK done")
		c.ReadCommand() // the first FETCH: the connection ends
		return c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var mu sync.Mutex
	peak := base
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
		}
	}()
	code, out, errs := runCLI(t, "", "export", "imap://alice@"+srv.Addr(), "INBOX", "--to", filepath.Join(t.TempDir(), "x.mbox"), "--format", "mbox", "--quiet")
	close(stop)
	wg.Wait()
	grew := int64(peak) - int64(base)
	t.Logf("exit %d, stdout %q, stderr %.200q; peak heap +%d MiB", code, out, errs, grew>>20)
	if grew > 32<<20 {
		t.Errorf("a %d-byte ESEARCH answer (ALL 1:%d) grew the heap by %d MiB before any message was fetched; want it bounded", len("* ESEARCH (TAG \"A5\") UID ALL 1:8000000"), last, grew>>20)
	}
}

// TestUIDQueue: the queue hands out a set's UIDs above a bound in order,
// batch by batch, across ranges, up to the largest UID, with what was put
// back first.
func TestUIDQueue(t *testing.T) {
	var s codec.SeqSet
	s.AddRange(1, 3)
	s.AddNum(7)
	s.AddRange(4294967293, 4294967295)
	q := newUIDQueue(s, 2)
	if q.len() != 5 {
		t.Fatalf("len %d; want 5", q.len())
	}
	var got [][]uint32
	got = append(got, q.take(2))
	q.unshift([]uint32{7})
	for q.len() > 0 {
		got = append(got, q.take(2))
	}
	if want := "[[3 7] [7 4294967293] [4294967294 4294967295]]"; fmt.Sprint(got) != want {
		t.Fatalf("batches %v; want %s", got, want)
	}
	if b := q.take(2); len(b) != 0 {
		t.Fatalf("take on an empty queue: %v", b)
	}
	if q := newUIDQueue(s, 4294967295); q.len() != 0 {
		t.Fatalf("nothing above the largest UID: len %d", q.len())
	}
}
