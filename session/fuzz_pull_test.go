package session_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// FuzzSessionPull feeds hostile server bytes to pulled commands, whose
// callers drive the session's reading coroutine (pull.go). A1 is a FETCH
// pulled with a context that cannot end (its caller reads from the
// connection itself); a NOOP and a FETCH pulled with a context that can
// (its reads go to the reader goroutine) wait for it to end (neither may
// be pipelined after a FETCH). The server writes the input after A1,
// answers every later command with two messages and OK, and hangs up once
// the client has been quiet for fzPullQuiet (at once when the input cannot
// end A1). Every command must end within a bound,
// with no goroutine left and nothing unbounded; bodies are read in part or
// skipped.
func FuzzSessionPull(f *testing.F) {
	caps, err := fuzzseed.Captures("../codec/testdata/quirks")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range caps {
		f.Add(append(fuzzseed.Untagged(c.Data), fzPullComplete...))
	}
	for _, h := range fuzzseed.Hostile() {
		f.Add(h.Data)
	}
	f.Add([]byte(fzPullControl))
	var execs atomic.Int64
	var heap0 atomic.Uint64
	f.Fuzz(func(t *testing.T, data []byte) {
		fzPullExec(t, data, fzPullQuiet, -1)
		if n := execs.Add(1); n%fzMemEvery == 1 {
			fzCheckHeap(t, &heap0)
		}
	})
}

const (
	fzPullComplete = "A1 OK FETCH done\r\n"
	fzPullControl  = "* 1 FETCH (FLAGS (\\Seen) BODY[] {70000}\r\n" + "%BODY%" + ")\r\n" +
		"* 2 FETCH (UID 7 FLAGS ())\r\n* 3 EXISTS\r\n* 3 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n" + fzPullComplete
	// fzPullQuiet is how long the server waits for another command
	// before it hangs up: most inputs never end A1, and the commands
	// that wait for it are then never sent. Short, so that fuzzing runs
	// many execs; a slow machine only cuts some flows short.
	fzPullQuiet = 50 * time.Millisecond
	// fzPullLater answers the commands sent after the input.
	fzPullLater = "* 2 FETCH (UID 7 FLAGS ())\r\n* 3 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n%s OK done\r\n"
)

// fzPullInput expands the control input's body.
func fzPullInput(data []byte) []byte {
	return []byte(strings.Replace(string(data), "%BODY%", strings.Repeat("b", 70000), 1))
}

// fzPullExec runs one exec of FuzzSessionPull and returns the items A1
// and A3 took, and the errors A1, A2 and A3 ended with. With cut >= 0,
// every read of the client after the greeting and cut more bytes fails
// (fzCutConn).
func fzPullExec(t *testing.T, data []byte, quiet time.Duration, cut int) (items [2]int, errs [3]error) {
	n0 := runtime.NumGoroutine()
	pipe, server := transport.Pipe()
	client, cc := fzCut(pipe, cut)
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		defer server.Close()
		server.SetDeadline(time.Now().Add(fzBound))
		if _, err := io.WriteString(server, fzGreeting); err != nil {
			return
		}
		r := bufio.NewReader(server)
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		if _, err := server.Write(fzPullInput(data)); err != nil {
			return
		}
		if !bytes.HasPrefix(data, []byte("A1 ")) && !bytes.Contains(data, []byte("\nA1 ")) {
			// A1 cannot end: nothing else will be sent.
			return
		}
		for {
			// Hang up once the client has been quiet for a while:
			// most inputs never end A1, and the others wait for it.
			server.SetReadDeadline(time.Now().Add(quiet))
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			if _, err := fmt.Fprintf(server, fzPullLater, tag); err != nil {
				return
			}
		}
	}()
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := session.Open(ctx, client, &session.Options{TagPrefix: "A", OnUnsolicited: func(codec.Response) {}, Trace: &fzTrace{}})
	if err != nil {
		client.Close()
		<-srvDone
		t.Fatalf("Open: %v", err)
	}
	pull := func(set string) *session.Command {
		return &session.Command{Name: "FETCH", AnyState: true, Pull: true, Args: func(e *wire.Encoder) {
			e.SP().Raw(set).SP().Raw("(UID FLAGS BODY.PEEK[])")
		}}
	}
	done := make(chan int, 3)
	run := func(i int, p *session.Pending, ctx context.Context) {
		for n := 0; ; n++ {
			it, err := p.Next(ctx)
			if err != nil {
				if err != io.EOF {
					errs[i] = err
				}
				break
			}
			items[i/2]++
			if it.Body != nil && (n+i)%2 == 0 {
				// Half the bodies read in small reads, the rest
				// skipped by the next Next.
				io.CopyBuffer(io.Discard, it.Body, make([]byte, 7))
			}
		}
		if _, err := p.Wait(context.Background()); err != nil && errs[i] == nil {
			errs[i] = err
		}
		done <- i
	}
	if p, err := s.Start(ctx, pull("1:*")); err != nil {
		errs[0] = err
		done <- 0
	} else {
		go run(0, p, ctx)
	}
	go func() {
		_, errs[1] = s.Run(ctx, &session.Command{Name: "NOOP"})
		done <- 1
	}()
	go func() {
		p, err := s.Start(ctx, pull("2:*"))
		if err != nil {
			errs[2] = err
			done <- 2
			return
		}
		run(2, p, cctx)
	}()
	timeout := time.NewTimer(fzBound + time.Second)
	defer timeout.Stop()
	for range 3 {
		select {
		case <-done:
		case <-timeout.C:
			t.Errorf("a command did not end within %v of the server's hang-up; goroutines:\n%s", fzBound, fuzzseed.Stacks())
			fzCloseBounded(t, s, srvDone)
		}
	}
	serr := s.Err()
	s.Close()
	client.Close()
	<-srvDone
	fzCheckPanics(t, errs[0], errs[1], errs[2], serr)
	cc.check(t)
	fzCheckGoroutines(t, n0)
	return items, errs
}

// TestFuzzSessionPullControl checks the harness on a well-formed exchange:
// both pulls and the NOOP succeed; A1 takes the streamed body section of
// message 1 (over the string limit), then messages 1, 2 and 3; A3 takes 2
// and 3.
func TestFuzzSessionPullControl(t *testing.T) {
	items, errs := fzPullExec(t, []byte(fzPullControl), 5*time.Second, -1)
	for i, err := range errs {
		if err != nil {
			t.Errorf("command A%d: %v", i+1, err)
		}
	}
	if items != [2]int{4, 2} {
		t.Errorf("items taken: %v; want [4 2]", items)
	}
}
