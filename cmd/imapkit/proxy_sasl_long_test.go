package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
)

// startEchoUpstream starts a server (a recordingUpstream) that echoes
// every line (and literal body) it reads back to the client, in an
// untagged status line and in a token over the tokenizer's line bound
// (the proxy's long-token path, printLongHead), and then answers with
// script(i, line) for the i-th line. A literal header "{n}" at a line's
// end gets "+ go", its body is read and echoed, and the line goes on. It
// records every byte it read.
func startEchoUpstream(t *testing.T, script func(i int, line string) string) *recordingUpstream {
	t.Helper()
	return startRecordingUpstream(t, func(c net.Conn, r *bufio.Reader) { echoServe(c, r, script) })
}

func echoServe(c net.Conn, r *bufio.Reader, script func(i int, line string) string) {
	w := bufio.NewWriter(c)
	echo := func(s string) {
		fmt.Fprintf(w, "* OK echo %s\r\n* X %s%s\r\n", s, s, strings.Repeat("1", 1100<<10))
	}
	for i := 0; ; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		for {
			text := strings.TrimSuffix(line, "\r\n")
			echo(text)
			j := strings.LastIndexByte(text, '{')
			n, err := strconv.Atoi(strings.TrimSuffix(text[j+1:], "}"))
			if j < 0 || !strings.HasSuffix(text, "}") || err != nil {
				break
			}
			io.WriteString(w, "+ go\r\n")
			w.Flush()
			body := make([]byte, n)
			if _, err := io.ReadFull(r, body); err != nil {
				return
			}
			echo(string(body))
			if line, err = r.ReadString('\n'); err != nil {
				return
			}
		}
		io.WriteString(w, script(i, line))
		if w.Flush() != nil {
			return
		}
	}
}

// saslSecret is a SASL response of n bytes, as a GSSAPI token is sent:
// base64 of random bytes (a fixed seed).
func saslSecret(n int) string {
	r := rand.New(rand.NewPCG(uint64(n), 53))
	b := make([]byte, n*3/4)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// shortLines is s with each line cut at 200 bytes.
func shortLines(s string) string {
	l := strings.Split(s, "\n")
	for i := range l {
		l[i] = l[i][:min(len(l[i]), 200)]
	}
	return strings.Join(l, "\n")
}

// leakedPiece returns the first 12 bytes of secret found in s, or "".
// (The windows of s go into a set: s's long runs of "1" make one.)
func leakedPiece(s, secret string) string {
	const n = 12
	seen := map[string]bool{}
	for i := 0; i+n <= len(s); i++ {
		seen[s[i:i+n]] = true
	}
	for i := 0; i+n <= len(secret); i++ {
		if seen[secret[i:i+n]] {
			return secret[i : i+n]
		}
	}
	return ""
}

// TestProxyLongSASLResponseNotInTrace: a SASL response (a GSSAPI token of
// tens of KiB) or a line the client may have meant as one (MaybeSASL),
// against a server that echoes everything it reads, in a plain line and
// in one over the line bound (the long-token path). No 12 bytes of it
// reach the trace (C:, S:, P: lines and the proxy's own notes) or the
// client's answer. A response over maxRawLine (16 KiB) after a challenge
// closes the connection unrelayed; an owed response (LikelySASL, after
// the completion) of 40 KiB is refused, its tag over maxTag; neither
// reaches the server, so no echo of it can come. One of 12 KiB is
// relayed and recorded, and its echo redacted on both paths. A command
// sent as the owed response (LikelySASL, printed as SASL data) whose
// literal's body the server reads: the body was relayed and not recorded,
// and the server's echo printed it (the fix: such a body is recorded as
// a credential). Defaults.
func TestProxyLongSASLResponseNotInTrace(t *testing.T) {
	t.Parallel()
	long, short, huge := saslSecret(40<<10), saslSecret(12<<10), saslSecret(1200<<10)
	body := saslSecret(48)
	// answers: the server's answer to each client line, by its index.
	answers := func(a ...string) func(int, string) string {
		return func(i int, _ string) string {
			if i < len(a) {
				return a[i]
			}
			return ""
		}
	}
	type step struct{ send, until string } // until: the line read before the next step
	for _, tc := range []struct {
		name     string
		script   func(i int, line string) string
		steps    []step
		secret   string
		relayed  bool   // the server gets the secret
		traceHas string // the trace says what became of it
	}{
		{
			name:     "a response over maxRawLine after a challenge",
			script:   answers("+ \r\n", "a1 OK done\r\n"),
			steps:    []step{{"a1 AUTHENTICATE GSSAPI\r\n", "+ "}, {long + "\r\n", ""}},
			secret:   long,
			traceHas: "a SASL response or IDLE answer of more than 16384 bytes: closing",
		},
		{
			// The client's long-token case: a token over the line
			// bound ends the read (wire.ErrLineTooLong), its error
			// printed without the line's bytes.
			name:     "a response over the line bound after a challenge",
			script:   answers("+ \r\n", "a1 OK done\r\n"),
			steps:    []step{{"a1 AUTHENTICATE GSSAPI\r\n", "+ "}, {huge + "\r\n", ""}},
			secret:   huge,
			traceHas: "exceeds the limit of 1048576",
		},
		{
			name:     "a response under maxRawLine after a challenge",
			script:   answers("+ \r\n", "a1 OK done\r\n", "a2 OK done\r\n"),
			steps:    []step{{"a1 AUTHENTICATE GSSAPI\r\n", "+ "}, {short + "\r\n", "a1 OK"}, {"a2 NOOP\r\n", "a2 OK"}},
			secret:   short,
			relayed:  true,
			traceHas: "C: [SASL data redacted, " + strconv.Itoa(len(short)) + " bytes]",
		},
		{
			name:     "an owed response after the completion",
			script:   answers("+ \r\na1 NO too slow\r\n", "a2 OK done\r\n"),
			steps:    []step{{"a1 AUTHENTICATE GSSAPI\r\n", "a1 NO"}, {long + "\r\n", "* BAD"}, {"a2 NOOP\r\n", "a2 OK"}},
			secret:   long,
			traceHas: "[not relayed: answered by the proxy]",
		},
		{
			name:   "an owed line with a literal the server reads",
			script: answers("+ \r\na1 NO too slow\r\n", "a2 OK done\r\n", "a3 OK done\r\n"),
			steps: []step{{"a1 AUTHENTICATE GSSAPI\r\n", "a1 NO"},
				{"a2 APPEND Drafts {" + strconv.Itoa(len(body)) + "+}\r\n" + body + "\r\n", "a2 OK"}, {"a3 NOOP\r\n", "a3 OK"}},
			secret:   body,
			relayed:  true,
			traceHas: "C: [SASL data redacted",
		},
	} {
		// Not parallel: startProxy's interrupt context is kept by the
		// root test's name (setInterrupted), so one subtest's cleanup
		// canceled another's proxy mid-exchange ("waiting for \"a2
		// OK\": EOF", 4 runs in 20 with -race).
		t.Run(tc.name, func(t *testing.T) {
			up := startEchoUpstream(t, tc.script)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			var got strings.Builder // what the client reads
			for _, s := range tc.steps {
				if _, err := io.WriteString(c, s.send); err != nil && len(s.send) < 1<<20 {
					t.Fatalf("sending: %v; trace:\n%s", err, shortLines(out.String()))
				}
				for s.until != "" {
					l, err := r.ReadString('\n')
					got.WriteString(l)
					if err != nil {
						t.Fatalf("waiting for %q: %v; trace:\n%s", s.until, err, shortLines(out.String()))
					}
					if strings.HasPrefix(l, s.until) {
						break
					}
				}
			}
			// The client ends; the rest to the proxy's close.
			c.(*net.TCPConn).CloseWrite()
			io.Copy(&got, r)
			trace := out.String()
			if p := leakedPiece(trace, tc.secret); p != "" {
				i := strings.Index(trace, p)
				t.Errorf("the trace shows %q of the secret: ...%.300s...", p, trace[max(i-150, 0):])
			}
			if got := leakedPiece(up.received(), tc.secret) != ""; got != tc.relayed {
				t.Errorf("the server got the secret: %v, want %v", got, tc.relayed)
			}
			if p := leakedPiece(got.String(), tc.secret); p != "" && !tc.relayed {
				// Not the server's echo: the proxy's own answer.
				t.Errorf("the client's answers hold %q of the secret", p)
			}
			if !strings.Contains(trace, tc.traceHas) {
				t.Errorf("the trace lacks %q:\n%s", tc.traceHas, shortLines(trace))
			}
		})
	}
}
