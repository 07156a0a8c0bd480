package transport_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/transport"
)

func TestPipeBuffered(t *testing.T) {
	checkGoroutines(t)
	client, server := transport.Pipe()
	defer client.Close()
	defer server.Close()

	// A client can pipeline many commands without anyone reading.
	var want strings.Builder
	for i := 0; i < 1000; i++ {
		cmd := fmt.Sprintf("a%d NOOP\r\n", i)
		want.WriteString(cmd)
		if _, err := io.WriteString(client, cmd); err != nil {
			t.Fatal(err)
		}
	}
	// Meanwhile the server can answer without reading first.
	if _, err := io.WriteString(server, "* OK ready\r\n"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(server, got); err != nil || string(got) != want.String() {
		t.Fatalf("server read %d bytes, %v", len(got), err)
	}
	buf := make([]byte, 64)
	n, err := client.Read(buf)
	if err != nil || string(buf[:n]) != "* OK ready\r\n" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}

	if client.LocalAddr().String() != server.RemoteAddr().String() || client.LocalAddr().Network() != "pipe" {
		t.Errorf("addresses: %v %v", client.LocalAddr(), server.RemoteAddr())
	}
}

// TestPipeBufferLimit runs in a synctest bubble: the Write blocks once
// the buffer is full, durably, and the bubble's clock then reaches its
// deadline, exactly. On the machine's clock its 50 ms could pass before
// the Write had copied anything (a loaded machine under -race: "Write =
// 0, ... i/o timeout; want 1048576").
func TestPipeBufferLimit(t *testing.T) {
	checkGoroutines(t)
	synctest.Test(t, pipeBufferLimit)
}

func pipeBufferLimit(t *testing.T) {
	client, server := transport.Pipe()
	defer client.Close()
	defer server.Close()

	// A write larger than the buffer blocks until the deadline.
	big := bytes.Repeat([]byte("x"), transport.PipeBufferSize+100)
	client.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := client.Write(big)
	if n != transport.PipeBufferSize || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write = %d, %v; want %d, deadline exceeded", n, err, transport.PipeBufferSize)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %v is not a net.Error timeout", err)
	}
	client.SetWriteDeadline(time.Time{})

	// A reader makes room: a large write completes once the peer reads.
	done := make(chan error, 1)
	go func() {
		_, err := client.Write(big)
		done <- err
	}()
	got, err := io.ReadAll(io.LimitReader(server, int64(transport.PipeBufferSize+len(big))))
	if err != nil || len(got) != transport.PipeBufferSize+len(big) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPipeDeadlines runs on a synctest bubble's clock: a Pipe has no
// goroutines and waits only on channels, so a blocked Read is durably
// blocked and the bubble's clock jumps to the next timer. Every time below
// is the fake clock's, exact, not a measurement of the machine's speed.
func TestPipeDeadlines(t *testing.T) {
	checkGoroutines(t)
	synctest.Test(t, func(t *testing.T) {
		client, server := transport.Pipe()
		defer client.Close()
		defer server.Close()
		pipeDeadlineExpires(t, client, server)
		pipeDeadlineMoved(t, client, server)
	})
}

// pipeDeadlineExpires: a Read blocked with a deadline ends exactly at it,
// with a net.Error timeout; an expired deadline fails a Read even with
// data available, and clearing it makes the data readable.
func pipeDeadlineExpires(t *testing.T, client, server net.Conn) {
	start := time.Now()
	client.SetReadDeadline(start.Add(30 * time.Millisecond))
	_, err := client.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read error %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d != 30*time.Millisecond {
		t.Errorf("Read returned %v after it began (bubble clock), want at its deadline, 30ms", d)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %v is not a net.Error timeout", err)
	}

	// An expired deadline fails even with data available, like TCP.
	io.WriteString(server, "data")
	if _, err := client.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read with past deadline = %v", err)
	}
	// Clearing the deadline makes the data readable again.
	client.SetReadDeadline(time.Time{})
	buf := make([]byte, 4)
	if n, err := client.Read(buf); err != nil || string(buf[:n]) != "data" {
		t.Errorf("Read = %q, %v", buf[:n], err)
	}
}

// pipeDeadlineMoved: moving the deadline of a blocked Read to now wakes it
// at once (not at the old deadline, an hour later); extending the deadline
// of a blocked Read lets it wait past the old one for data.
func pipeDeadlineMoved(t *testing.T, client, server net.Conn) {
	client.SetReadDeadline(time.Now().Add(time.Hour))
	errc := make(chan error, 1)
	go func() {
		_, err := client.Read(make([]byte, 1))
		errc <- err
	}()
	synctest.Wait() // the Read is blocked
	moved := time.Now()
	client.SetReadDeadline(moved)
	if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("blocked Read = %v", err)
	}
	if d := time.Since(moved); d != 0 {
		t.Errorf("moving the deadline to now woke the blocked Read %v later (bubble clock), at its old deadline", d)
	}

	client.SetDeadline(time.Now().Add(50 * time.Millisecond))
	go func() {
		n, err := client.Read(make([]byte, 1))
		if n != 1 {
			err = fmt.Errorf("read %d bytes: %v", n, err)
		}
		errc <- err
	}()
	synctest.Wait() // the Read is blocked with the 50 ms deadline
	client.SetReadDeadline(time.Now().Add(time.Hour))
	time.Sleep(100 * time.Millisecond) // past the old deadline
	io.WriteString(server, "y")
	if err := <-errc; err != nil {
		t.Errorf("Read after extended deadline: %v", err)
	}
}

func TestPipeClose(t *testing.T) {
	checkGoroutines(t)
	client, server := transport.Pipe()

	// Data written before Close is still delivered, then EOF.
	io.WriteString(server, "* BYE\r\n")
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "* BYE\r\n" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read after EOF = %d, %v", n, err)
	}
	// Writing to a closed peer fails.
	if _, err := io.WriteString(client, "a LOGOUT\r\n"); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write to closed peer = %v", err)
	}
	// Local close: everything fails with net.ErrClosed.
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := client.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := client.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	if err := client.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close = %v", err)
	}
}

// TestPipeCloseUnblocks runs in a synctest bubble: synctest.Wait returns
// once the Read or Write is durably blocked on the pipe's channels, so the
// Close below always wakes a blocked call (a fixed pause let a slow
// goroutine call Read after the Close, and the test then passed without
// checking the wake-up).
func TestPipeCloseUnblocks(t *testing.T) {
	checkGoroutines(t)
	synctest.Test(t, pipeCloseUnblocks)
}

func pipeCloseUnblocks(t *testing.T) {
	client, server := transport.Pipe()
	defer server.Close()

	// Local Close unblocks a pending Read with net.ErrClosed.
	errc := make(chan error, 1)
	go func() {
		_, err := client.Read(make([]byte, 1))
		errc <- err
	}()
	synctest.Wait() // the call is blocked
	client.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Errorf("blocked Read after Close = %v", err)
	}

	// Peer Close unblocks a Write waiting for buffer space.
	c2, s2 := transport.Pipe()
	defer c2.Close()
	go func() {
		_, err := c2.Write(make([]byte, transport.PipeBufferSize+1))
		errc <- err
	}()
	synctest.Wait() // the call is blocked
	s2.Close()
	if err := <-errc; !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("blocked Write after peer Close = %v", err)
	}

	// Peer Close unblocks a pending Read with EOF.
	c3, s3 := transport.Pipe()
	defer c3.Close()
	go func() {
		_, err := c3.Read(make([]byte, 1))
		errc <- err
	}()
	synctest.Wait() // the call is blocked
	s3.Close()
	if err := <-errc; err != io.EOF {
		t.Errorf("blocked Read after peer Close = %v, want io.EOF", err)
	}
}

// TestPipeConcurrent exercises both directions with several writers and
// readers at once; run it with -race.
func TestPipeConcurrent(t *testing.T) {
	checkGoroutines(t)
	client, server := transport.Pipe()
	const writers, msgs, size = 4, 500, 97
	var wg sync.WaitGroup
	for _, pair := range [][2]net.Conn{{client, server}, {server, client}} {
		w, r := pair[0], pair[1]
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := bytes.Repeat([]byte{byte('a' + i)}, size)
				for j := 0; j < msgs; j++ {
					if _, err := w.Write(msg); err != nil {
						t.Error(err)
						return
					}
					if j%50 == 0 {
						w.SetWriteDeadline(time.Now().Add(time.Minute))
					}
				}
			}()
		}
		// Two concurrent readers share the stream; each write is atomic
		// because it fits in the buffer, but reads may split it, so only
		// count bytes per letter.
		var mu sync.Mutex
		counts := map[byte]int{}
		total := 0
		r.SetReadDeadline(time.Now().Add(10 * time.Second))
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 1000)
				for {
					n, err := r.Read(buf)
					mu.Lock()
					for _, b := range buf[:n] {
						counts[b]++
					}
					total += n
					finished := total == writers*msgs*size
					mu.Unlock()
					if finished {
						// Wake the other reader.
						r.SetReadDeadline(time.Now())
						return
					}
					if err != nil {
						if !errors.Is(err, os.ErrDeadlineExceeded) {
							t.Error(err)
						}
						return
					}
				}
			}()
		}
		t.Cleanup(func() {
			for i := 0; i < writers; i++ {
				if c := counts[byte('a'+i)]; c != msgs*size {
					t.Errorf("%v: letter %c: %d bytes, want %d", r.LocalAddr(), 'a'+i, c, msgs*size)
				}
			}
		})
	}
	wg.Wait()
	client.Close()
	server.Close()
}

func BenchmarkPipe(b *testing.B) {
	// write8M is one Write larger than PipeBufferSize, read 32 KiB at a
	// time, as a session's tokenizer reads a large FETCH answer.
	for _, size := range []int{64, 4 << 10, 32 << 10, 8 << 20} {
		b.Run(fmt.Sprintf("write%d", size), func(b *testing.B) {
			client, server := transport.Pipe()
			defer server.Close()
			msg := make([]byte, size)
			done := make(chan int64)
			go func() {
				n, _ := io.CopyBuffer(io.Discard, server, make([]byte, 32<<10))
				done <- n
			}()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := client.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
			client.Close()
			if n := <-done; n != int64(size)*int64(b.N) {
				b.Fatalf("copied %d bytes, want %d", n, size*b.N)
			}
		})
	}
}

// crcSink keeps BenchmarkPipeSlowReader's checksums.
var crcSink uint32

// BenchmarkPipeSlowReader: one 8 MiB Write read 32 KiB at a time by a
// reader that works on each read (as a session decodes), so that the
// buffer stays full: each read frees room the writer refills.
func BenchmarkPipeSlowReader(b *testing.B) {
	const size = 8 << 20
	client, server := transport.Pipe()
	defer server.Close()
	msg := make([]byte, size)
	done := make(chan int64)
	go func() {
		var n int64
		buf := make([]byte, 32<<10)
		var sum uint32
		for {
			m, err := server.Read(buf)
			n += int64(m)
			sum += crc32.ChecksumIEEE(buf[:m])
			if err != nil {
				crcSink = sum // the work is not optimised away
				done <- n
				return
			}
		}
	}()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := client.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	client.Close()
	if n := <-done; n != int64(size)*int64(b.N) {
		b.Fatalf("copied %d bytes, want %d", n, size*b.N)
	}
}

// TestPipeRing: a stream written in chunks of random sizes (some larger
// than the buffer) and read in reads of random sizes arrives whole and in
// order, while the ring grows and wraps around its end. (TestPipeConcurrent
// has several Reads and Writes on one end at once.)
func TestPipeRing(t *testing.T) {
	checkGoroutines(t)
	client, server := transport.Pipe()
	defer client.Close()
	defer server.Close()
	const total = 6 << 20
	stream := make([]byte, total)
	seed := uint32(1)
	next := func() uint32 { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return seed }
	for i := range stream {
		stream[i] = byte(next())
	}
	sizes := make([]int, 0, 1000)
	for n := 0; n < total; {
		k := int(next()%(64<<10)) + 1
		if next()%50 == 0 {
			k = transport.PipeBufferSize + int(next()%4096)
		}
		k = min(k, total-n)
		sizes = append(sizes, k)
		n += k
	}
	errc := make(chan error, 2)
	go func() {
		n := 0
		for _, k := range sizes {
			if _, err := client.Write(stream[n : n+k]); err != nil {
				errc <- err
				return
			}
			n += k
		}
		errc <- client.Close()
	}()
	var got []byte
	buf := make([]byte, 96<<10)
	rseed := uint32(7)
	for {
		rseed ^= rseed << 13
		rseed ^= rseed >> 17
		rseed ^= rseed << 5
		n, err := server.Read(buf[:int(rseed%uint32(len(buf)))+1])
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, stream) {
		i := 0
		for i < len(got) && i < len(stream) && got[i] == stream[i] {
			i++
		}
		t.Fatalf("read %d bytes, want %d; first difference at %d", len(got), len(stream), i)
	}
}

// TestPipeWriteDoneBeforeClose: a Write whose bytes all went into the
// buffer succeeds, even when the peer reads them and closes at once (the
// Write must not look at the peer again after its last copy). The race
// is narrow: 30,000 rounds (with the fault planted, 4 runs of 5 failed).
func TestPipeWriteDoneBeforeClose(t *testing.T) {
	checkGoroutines(t)
	for i := 0; i < 30000; i++ {
		client, server := transport.Pipe()
		errc := make(chan error, 1)
		go func() {
			_, err := server.Write([]byte("* OK hi\r\n"))
			errc <- err
		}()
		buf := make([]byte, 16)
		if _, err := io.ReadFull(client, buf[:9]); err != nil {
			t.Fatal(err)
		}
		client.Close()
		if err := <-errc; err != nil {
			t.Fatalf("round %d: Write of bytes the peer read: %v", i, err)
		}
		server.Close()
	}
}

// TestPipeWakesAllocateNothing: a Read or Write that waits is woken
// without a channel made for the wake (they were most of the allocations
// of a fetch over a Pipe, in a number that depended on the scheduling).
// Each round trip to an echoing peer wakes the peer's Read and, most
// times, the client's.
func TestPipeWakesAllocateNothing(t *testing.T) {
	checkGoroutines(t)
	client, server := transport.Pipe()
	echoed := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		for {
			if _, err := server.Read(b); err != nil {
				echoed <- err
				return
			}
			if _, err := server.Write(b); err != nil {
				echoed <- err
				return
			}
		}
	}()
	b := []byte{'x'}
	roundTrip := func() {
		if _, err := client.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip() // the waits' channels, made once
	if a := testing.AllocsPerRun(500, roundTrip); a > 0.1 {
		t.Errorf("%.2f allocations a round trip; want none", a)
	}
	client.Close()
	if err := <-echoed; err != io.EOF {
		t.Fatalf("the echo ended with %v", err)
	}
	server.Close()
}
