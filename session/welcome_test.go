package session_test

import (
	"bufio"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
)

// workServe is the fake server of TestWelcomeAfterTraffic and
// TestIdleHeapAfterWork: a greeting with capabilities and text, workAnswer
// to a FETCH, IDLE's continuation, and a tagged OK to the rest.
func workServe(r *bufio.Reader, w io.Writer) {
	io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE X-GREET] Hello there\r\n")
	for line := readLine(r); line != ""; line = readLine(r) {
		tag, rest, _ := strings.Cut(line, " ")
		switch {
		case rest == "IDLE":
			io.WriteString(w, "+ idling\r\n")
		case strings.HasPrefix(rest, "FETCH "):
			w.Write(workAnswer(tag))
		default:
			io.WriteString(w, tag+" OK done\r\n")
		}
	}
}

// TestWelcomeAfterTraffic: the session keeps the greeting's line, not a
// decoded copy, and decodes it when Welcome is first called. Asked after
// other lines have gone through the session, Welcome still gives the
// greeting, whole, and the same Status on every call.
func TestWelcomeAfterTraffic(t *testing.T) {
	s := openDefaultsWith(t, fake(t, workServe), nil)
	work(t, hangCtx(t), s)
	w := s.Welcome()
	if w == nil || w.Kind != codec.StatusPREAUTH || string(w.Text) != "Hello there" || w.Code == nil ||
		w.Code.Kind != codec.CodeCapability || !slices.ContainsFunc(w.Code.Caps, func(c codec.Bytes) bool { return string(c) == "X-GREET" }) {
		t.Fatalf("Welcome() = %+v (code %+v); want * PREAUTH [CAPABILITY IMAP4rev1 IDLE X-GREET] Hello there", w, w.Code)
	}
	if s.Welcome() != w {
		t.Error("a second Welcome() returned another Status")
	}
}

// TestIdleHeapAfterWork: with the defaults, 50 sessions that each
// selected a mailbox and fetched 40 messages' metadata (work), then wait
// in IDLE, hold less than idleHeapBound of heap each, the fake
// server's side (its connection and bufio.Reader) included: 13–15 KB
// measured, of which a worked idle session is about 12 KB
// (BenchmarkIdleSessions, IMAPKIT_IDLE_WORK=1). What the bound catches: a
// session that keeps a read buffer (32 KiB) while idle, for one through
// the greeting's bytes (47 KB measured with that fault planted), or a
// trace history of the lines' raw bytes (20 KB).
func TestIdleHeapAfterWork(t *testing.T) {
	const n, idleHeapBound = 50, 18 << 10
	ctx := hangCtx(t)
	// Over loopback TCP, the server in this process: a transport.Pipe
	// would count its rings, which keep the size of the largest burst.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				workServe(bufio.NewReaderSize(c, 512), c)
			})
		}
	})
	h0 := heapAfterGC()
	ss := make([]*session.Session, n)
	for i := range ss {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s := openDefaultsWith(t, c, nil)
		work(t, ctx, s)
		startIdle(t, ctx, s)
		ss[i] = s
	}
	// The readers go back to waiting, and give their buffers back, a
	// moment after the continuation: measure until the heap is under the
	// bound or the test's deadline passes.
	var per int64
	for {
		per = (int64(heapAfterGC()) - int64(h0)) / n
		if per < idleHeapBound || ctx.Err() != nil {
			break
		}
		runtime.Gosched()
	}
	t.Logf("%d idle sessions after work: %d B of heap each, the fake servers' side included", n, per)
	if per >= idleHeapBound {
		t.Errorf("%d B of heap per idle session; want under %d", per, idleHeapBound)
	}
	runtime.KeepAlive(ss)
}
