package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// FuzzProxyServerBytes fuzzes the proxy's server direction: the bytes
// of a hostile upstream server, relayed to a client and printed in the
// trace. FuzzDialogRelay covers the client's direction against a model
// server; nothing fed the proxy's serverToClient arbitrary server bytes.
//
// The upstream (a TCP listener on loopback, as --upstream imap:// dials
// it) greets with the first answer of the script (split at 0x1E) and then
// answers each line it reads from the proxy with the next one, "%T"
// replaced by the tag of the last command, and hangs up when the answers
// run out or the proxy has sent nothing for proxyFuzzQuiet. The client (over
// net.Pipe, into proxySession.serve) sends LOGIN with a password, SELECT,
// FETCH, IDLE and DONE, NOOP and LOGOUT, one line after the other as the
// proxy reads them, and reads everything the proxy sends.
//
// Per exec it fails on a panic, on serve still running proxyFuzzBound after the
// upstream hung up, on a trace that holds a
// control byte, a separator, a bidirectional control or invalid UTF-8, or
// the password the client sent (the proxy redacts what a server echoes),
// and on a goroutine left behind. The proxy runs with the command's
// defaults (--timeout 30s).
func FuzzProxyServerBytes(f *testing.F) {
	for _, s := range proxyFuzzSeeds {
		f.Add([]byte(strings.Join(s, "\x1e")))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		proxyFuzzExec(t, bytes.Split(script, []byte{0x1e}))
	})
}

const (
	proxyFuzzPassword = "pw-p46-Qx9"
	// proxyFuzzBound is how long serve may run on after the upstream hung up
	// and the client closed: well under the 10 s after which Go's fuzzing
	// engine kills a worker.
	proxyFuzzBound = 4 * time.Second
	proxyFuzzQuiet = 20 * time.Millisecond
)

var proxyFuzzClientLines = []string{
	"a1 LOGIN alice " + proxyFuzzPassword + "\r\n",
	"a2 SELECT INBOX\r\n",
	"a3 FETCH 1:* (FLAGS BODY[])\r\n",
	"a4 IDLE\r\n",
	"DONE\r\n",
	"a5 NOOP\r\n",
	"a6 LOGOUT\r\n",
}

var proxyFuzzSeeds = [][]string{
	{
		"* OK [CAPABILITY IMAP4rev1 IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
		"%T OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n",
		"* 2 EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 7] ok\r\n%T OK [READ-WRITE] selected\r\n",
		"* 1 FETCH (FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n* 2 FETCH (FLAGS () BODY[] \"x\")\r\n%T OK done\r\n",
		"+ idling\r\n* 3 EXISTS\r\n",
		"%T OK idle done\r\n",
		"%T OK noop\r\n",
		"* BYE bye\r\n%T OK done\r\n",
	},
	{
		"* OK ready\r\n",
		"%T NO [AUTHENTICATIONFAILED] bad password " + proxyFuzzPassword + " \"" + proxyFuzzPassword + "\" {10}\r\n" + proxyFuzzPassword + "\r\n",
	},
	{
		"* OK \x1b[2J\u202e hi\r\n",
		"* 1 FETCH (BODY[] {4294967296}\r\nabc",
	},
	{
		"* OK ready\r\n",
		"%T OK [ALERT] " + strings.Repeat("x", 5000) + "\r\n* " + strings.Repeat("(", 300) + "\r\n",
		"%T OK STARTTLS\r\n",
		"+ \r\n+ \r\n%T BAD\r\n",
	},
	{
		"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n",
		"%T OK DEFLATE active\r\n\x78\x9c garbage",
	},
}

// proxyFuzzExec runs one exec of FuzzProxyServerBytes.
func proxyFuzzExec(t *testing.T, chunks [][]byte) {
	n0 := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serveChunks(c, chunks, proxyFuzzQuiet)
	}()
	trace := &syncBuffer{}
	cfg := &proxyConfig{
		upstream:    &target{host: "127.0.0.1", addr: ln.Addr().String()},
		out:         trace,
		dialTimeout: 30 * time.Second,
	}
	ps := &proxySession{id: 1, cfg: cfg, out: &lockedWriter{w: trace}}
	client, proxyEnd := net.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		ps.serve(context.Background(), proxyEnd)
	}()
	// The client's reader and writer end once client is closed; the
	// exec waits for them (rather than for the goroutine count to come
	// down, a millisecond's sleep at a time, which was about half of
	// an exec's time).
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(io.Discard, client)
	}()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for _, l := range proxyFuzzClientLines {
			if _, err := io.WriteString(client, l); err != nil {
				return
			}
		}
	}()
	select {
	case <-served:
	case <-upDone:
		// The upstream hung up: serve must end on its own (the client
		// still reads and writes).
		select {
		case <-served:
		case <-time.After(proxyFuzzBound):
			buf := make([]byte, 1<<20)
			t.Fatalf("the proxy's serve still runs %v after the upstream hung up; goroutines:\n%s", proxyFuzzBound, buf[:runtime.Stack(buf, true)])
		}
	}
	client.Close()
	<-upDone
	<-copied
	<-wrote
	out := trace.String()
	noUnsafeText(t, "the trace", out)
	if strings.Contains(out, proxyFuzzPassword) {
		t.Errorf("the trace shows the client's password:\n%s", out)
	}
	// A goroutine past its last deferred call may still be counted for
	// a moment: wait for it, up to leakcheck.Hang.
	if !leakcheck.Until(leakcheck.Hang, func() bool { return runtime.NumGoroutine() <= n0 }) {
		t.Fatalf("%d goroutines left (%d before):\n\n%s", runtime.NumGoroutine(), n0, strings.Join(leakcheck.Stacks(), "\n\n"))
	}
}

// serveChunks is FuzzProxyServerBytes's upstream server: it waits at most
// quiet for each line (the fuzzer's proxyFuzzQuiet; proxyRunChunks's is a
// bound against a hang only).
func serveChunks(c net.Conn, chunks [][]byte, quiet time.Duration) {
	if len(chunks) == 0 {
		return
	}
	// The greeting goes out before the client's LOGIN: a password in it
	// would be the fuzzer's, not an echo of the client's.
	greeting := chunks[0]
	for bytes.Contains(greeting, []byte(proxyFuzzPassword)) {
		greeting = bytes.ReplaceAll(greeting, []byte(proxyFuzzPassword), nil)
	}
	if _, err := c.Write(greeting); err != nil {
		return
	}
	r := bufio.NewReader(c)
	tag := ""
	for _, chunk := range chunks[1:] {
		c.SetReadDeadline(time.Now().Add(quiet))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if f := strings.Fields(line); len(f) >= 2 {
			tag = f[0]
		}
		if _, err := c.Write(bytes.ReplaceAll(chunk, []byte("%T"), []byte(tag))); err != nil {
			return
		}
	}
}
