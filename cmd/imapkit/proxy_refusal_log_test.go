package main

// The trace of the clients refused over --max-connections (refusalLog).
// Found by the stop 48 review of the proxy.

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestProxyRefusalsTraceRateLimited: a flood of clients refused over
// --max-connections prints few lines, and none is left out of the count.
// Before, each refusal printed a line: a client opening connections
// without end flooded the trace. The clock is the test's, and the
// interval an hour, so that the lines do not depend on the machine's
// speed: the first refusal is printed in full, the next 99 are counted;
// once the interval has passed, the next refusal prints the count (100,
// the latest named); those after it are counted again, and the proxy's
// stop prints their count.
func TestProxyRefusalsTraceRateLimited(t *testing.T) {
	var buf syncBuffer
	l := newRefusalLog(&lockedWriter{w: &buf}, 256)
	now := time.Unix(1e9, 0)
	l.now = func() time.Time { return now }
	l.every = time.Hour
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	lines := func() []string { return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") }
	for id := 1; id <= 100; id++ {
		l.refused(id, addr, "* BYE")
	}
	if got := lines(); len(got) != 1 || got[0] != "[1] * client 127.0.0.1:4000 refused: 256 connections relayed (--max-connections): * BYE" {
		t.Fatalf("after 100 refusals in the interval the trace holds:\n%s\nwant the first refusal's line alone", buf.String())
	}
	now = now.Add(time.Hour)
	l.refused(101, addr, "* BYE")
	want := "* 100 more clients refused since the last such line: 256 connections relayed (--max-connections); the latest [101] client 127.0.0.1:4000: * BYE"
	if got := lines(); len(got) != 2 || got[1] != want {
		t.Fatalf("after the interval the trace holds:\n%s\nwant a second line %q", buf.String(), want)
	}
	for id := 102; id <= 106; id++ {
		l.refused(id, addr, "closed (TLS: no BYE)")
	}
	if got := lines(); len(got) != 2 {
		t.Fatalf("5 more refusals in the interval printed lines:\n%s", buf.String())
	}
	l.close()
	want = "* 5 more clients refused since the last such line: 256 connections relayed (--max-connections); the latest [106] client 127.0.0.1:4000: closed (TLS: no BYE)"
	if got := lines(); len(got) != 3 || got[2] != want {
		t.Fatalf("after the stop the trace holds:\n%s\nwant a third line %q", buf.String(), want)
	}
}

// TestProxyRefusalsTraceTimerCounts: refusals counted and then none
// more are printed once the interval has passed (a timer), not only at
// the next refusal or the proxy's stop. The test's clock stands still;
// the timer's interval is real and short, and the test waits for the
// line (no timed assertion).
func TestProxyRefusalsTraceTimerCounts(t *testing.T) {
	var buf syncBuffer
	l := newRefusalLog(&lockedWriter{w: &buf}, 2)
	now := time.Unix(1e9, 0)
	l.now = func() time.Time { return now }
	l.every = 10 * time.Millisecond
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	l.refused(1, addr, "* BYE")
	l.refused(2, addr, "* BYE")
	want := "* 1 more client refused since the last such line: 2 connections relayed (--max-connections); the latest [2] client 127.0.0.1:4000: * BYE\n"
	for i := 0; i < 500 && !strings.Contains(buf.String(), want); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	l.close()
	if got := buf.String(); !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 2 {
		t.Fatalf("the trace holds:\n%s\nwant the first refusal's line, then %q", got, want)
	}
}
