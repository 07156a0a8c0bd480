package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// tagOK answers each line the echo server reads with its tag's OK (a
// line without a literal).
func tagOK(_ int, line string) string {
	if f := strings.Fields(line); len(f) > 0 {
		return f[0] + " OK done\r\n"
	}
	return ""
}

// readClientTo reads the client's side of the proxy up to a line that begins
// with prefix, and returns what it read.
func readClientTo(t *testing.T, r *bufio.Reader, prefix string, out interface{ String() string }) string {
	t.Helper()
	var got strings.Builder
	for {
		l, err := r.ReadString('\n')
		got.WriteString(l)
		if err != nil {
			t.Fatalf("waiting for %q: %v; read %q; trace:\n%s", prefix, err, shortLines(got.String()), shortLines(out.String()))
		}
		if strings.HasPrefix(l, prefix) {
			return got.String()
		}
	}
}

// TestProxyPasswordLiteralEchoedRedacted: a LOGIN's password sent as a
// literal is kept as a credential whole, up to maxSecretLiteral bytes, and
// a server's echo of it (in a plain line and in one over the line bound)
// is redacted. It was kept up to 1,024 bytes: the rest of a longer one
// (an access token sent as the password) echoed was printed. Defaults.
func TestProxyPasswordLiteralEchoedRedacted(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2000, maxSecretLiteral} {
		// Not parallel: startProxy's interrupt context is the root
		// test's (setInterrupted), and one subtest's end stopped the
		// other's proxy.
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			pass := saslSecret(n + 8)[:n]
			up := startEchoUpstream(t, func(int, string) string { return "a1 OK done\r\n" })
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			io.WriteString(c, "a1 LOGIN alice {"+strconv.Itoa(n)+"}\r\n")
			readClientTo(t, r, "+ go", out)
			io.WriteString(c, pass+"\r\n")
			readClientTo(t, r, "a1 OK", out)
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, r)
			if !strings.Contains(up.received(), pass) {
				t.Fatalf("the server did not get the password")
			}
			trace := out.String()
			if p := leakedPiece(trace, pass); p != "" {
				i := strings.Index(trace, p)
				t.Errorf("the trace shows %q of the password: ...%.300s...", p, trace[max(i-150, 0):])
			}
		})
	}
}

// TestProxyPasswordLiteralOverBoundRefused: a LOGIN's password literal of
// more than maxSecretLiteral bytes is not relayed: when it ends the
// command's first piece, the proxy answers BAD (the body of a {n+} is
// read and dropped) and the session goes on; after a first piece that
// went to the server (the user name a literal), the connection closes.
// Neither the server nor the trace gets a byte of the password. Defaults.
func TestProxyPasswordLiteralOverBoundRefused(t *testing.T) {
	t.Parallel()
	n := maxSecretLiteral + 1
	pass := saslSecret(n + 8)[:n]
	size := strconv.Itoa(n)
	bad := "a1 BAD imapkit proxy: a password literal of more than " + strconv.Itoa(maxSecretLiteral) + " bytes is not relayed"
	for _, tc := range []struct {
		name  string
		steps []step // the client's, in turn
		trace string // in the trace
	}{
		{"synchronizing", []step{{"a1 LOGIN alice {" + size + "}\r\n", bad}, {"a2 NOOP\r\n", "a2 OK"}}, "[not relayed: answered by the proxy]"},
		{"non-synchronizing", []step{{"a1 LOGIN alice {" + size + "+}\r\n" + pass + "\r\n", bad}, {"a2 NOOP\r\n", "a2 OK"}}, "[not relayed: answered by the proxy]"},
		{"after a literal user name", []step{{"a1 LOGIN {5}\r\n", "+ go"}, {"alice {" + size + "+}\r\n" + pass + "\r\n", ""}},
			"a password literal of more than 16384 bytes after the command's first part: closing"},
	} {
		t.Run(tc.name, func(t *testing.T) { // not parallel: see TestProxyPasswordLiteralEchoedRedacted
			up := startEchoUpstream(t, tagOK)
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
			c, r := dialProxy(t, paddr)
			var got strings.Builder
			for _, s := range tc.steps {
				io.WriteString(c, s.send)
				if s.until != "" {
					got.WriteString(readClientTo(t, r, s.until, out))
				}
			}
			c.(*net.TCPConn).CloseWrite()
			io.Copy(&got, r)
			trace := out.String()
			for what, s := range map[string]string{"the server": up.received(), "the trace": trace, "the client": got.String()} {
				if p := leakedPiece(s, pass); p != "" {
					t.Errorf("%s got %q of the password", what, p)
				}
			}
			if !strings.Contains(trace, tc.trace) {
				t.Errorf("the trace lacks %q:\n%s", tc.trace, shortLines(trace))
			}
		})
	}
}

// step is a client's write and the line it then reads up to ("": none).
type step struct{ send, until string }

// TestProxyOwedLineBodyClientEndsMidLiteralRedacted: the literal's body
// on a line printed as SASL data (kept as a credential, its first 16
// KiB; here "a2 APPEND Drafts {n}": a LOGIN's literal over 16 KiB is
// refused, secretLiteralRefused), that the client ends in the middle:
// the 32 KiB the writer sent on reach the server, which echoes them only
// once the proxy told it the client's end, after the body failed. The
// credential is kept when its first maxRawLine bytes were captured (and,
// had they not been, when the body fails): it was kept only once the
// whole body was relayed, so never. Defaults.
func TestProxyOwedLineBodyClientEndsMidLiteralRedacted(t *testing.T) {
	t.Parallel()
	body := saslSecret(48 << 10)
	const first, sent = 20 << 10, 36 << 10
	c, r, out, done := owedLiteral(t, body, sent, first, func(r *bufio.Reader, w io.Writer, got []byte) {
		io.Copy(io.Discard, r) // to the client's end
		io.WriteString(w, "* OK echo "+string(got)+"\r\n* BYE gone\r\n")
	})
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, r)
	<-done
	trace := out.String()
	if !strings.Contains(trace, "S: * OK echo") {
		t.Fatalf("no echo in the trace:\n%s", shortLines(trace))
	}
	if p := leakedPiece(trace, body[:maxRawLine]); p != "" {
		i := strings.Index(trace, p)
		t.Errorf("the trace shows %q of the recorded credential (the body's first 16 KiB), echoed after the client's end mid-body: ...%.200s...", p, trace[max(i-100, 0):])
	}
}

// owedLiteral plays the owed-line scenario: through a proxy to a server
// of its own, the client sends an AUTHENTICATE whose challenge the server
// leaves unanswered (it ends the command with NO: the client's next line
// is owed to the challenge, printed as SASL data), then "a2 APPEND
// Drafts {n}" of body and the body's first sent bytes. The server reads
// the body's first first bytes and hands them, with its connection, to
// rest. It returns the client's connection and reader, the trace, and a
// channel closed once the server is done (a deadline of 30 s on its
// connection against a hang only).
func owedLiteral(t *testing.T, body string, sent, first int, rest func(r *bufio.Reader, w io.Writer, got []byte)) (net.Conn, *bufio.Reader, *syncBuffer, <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	up := startRecordingUpstream(t, func(w net.Conn, r *bufio.Reader) {
		defer close(done)
		if _, err := r.ReadString('\n'); err != nil { // a1 AUTHENTICATE
			return
		}
		io.WriteString(w, "+ \r\na1 NO too slow\r\n")
		if _, err := r.ReadString('\n'); err != nil { // a2 APPEND Drafts {n}
			return
		}
		io.WriteString(w, "+ go\r\n")
		got := make([]byte, first)
		if _, err := io.ReadFull(r, got); err != nil {
			return
		}
		rest(r, w, got)
	})
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.addr)
	c, r := dialProxy(t, paddr)
	io.WriteString(c, "a1 AUTHENTICATE GSSAPI\r\n")
	readClientTo(t, r, "a1 NO", out)
	io.WriteString(c, "a2 APPEND Drafts {"+strconv.Itoa(len(body))+"}\r\n")
	readClientTo(t, r, "+ go", out)
	io.WriteString(c, body[:sent])
	return c, r, out, done
}
