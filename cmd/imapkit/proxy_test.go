package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// startProxy runs "imapkit proxy" with args (and --listen on a free port)
// until the test ends, and returns its address and output. The run takes
// the proxy's test settings of t's test tree (proxyHooksOf), if any.
func startProxy(t *testing.T, args ...string) (addr string, stdout, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if h := proxyHooksIf(t); h != nil {
		// The test's settings of the proxy (proxyHooksOf), for this run.
		ctx = context.WithValue(ctx, proxyHooksKey{}, h)
	}
	restore := setInterrupted(t, ctx)
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(testEnv(t), append([]string{"proxy", "--listen", "127.0.0.1:0"}, args...), strings.NewReader(""), stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if c := <-code; c != 0 {
			t.Errorf("proxy exit %d: %s", c, stderr.String())
		}
		restore()
	})
	for end := time.Now().Add(proxyHang); time.Now().Before(end); {
		if _, rest, ok := strings.Cut(stderr.String(), "listening on "); ok {
			addr, _, _ = strings.Cut(rest, ",")
			return addr, stdout, stderr
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the proxy did not start: %s", stderr.String())
	return
}

// tap is a plain TCP relay that records both directions: what a proxy
// sends upstream and what it gets back, each before it passes it on (so
// the record holds whatever the server has answered).
type tap struct {
	ln             net.Listener
	toServer, back syncBuffer
	wg             sync.WaitGroup
}

func newTap(t *testing.T, upstream string) *tap { return newTapOn(t, "127.0.0.1:0", upstream) }

// sentUpstream closes client (a client of the proxy in front of the tap)
// and the tap's listener, waits until the tap's relays have ended (the
// proxy has closed its upstream connection: it sends nothing more) and
// returns all that the proxy sent upstream. A structural wait where a test
// that looks for what must not go upstream slept instead (a proxy kept
// off the CPU for the sleep could send it after the look); a minute is a
// bound against a hang.
func (tp *tap) sentUpstream(t *testing.T, client net.Conn) string {
	t.Helper()
	client.Close()
	tp.ln.Close()
	ended := make(chan struct{})
	go func() { tp.wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatalf("a minute after its client closed, the proxy still holds its upstream connection; sent so far: %q", tp.toServer.String())
	}
	return tp.toServer.String()
}

// newTapOn is newTap listening on listen.
func newTapOn(t *testing.T, listen, upstream string) *tap {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	tp.wg.Add(1)
	go func() {
		defer tp.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				return
			}
			tp.wg.Add(2)
			// Each direction is recorded before it is passed on: what
			// one side got (and may have answered) is in the record.
			go func() {
				defer tp.wg.Done()
				io.Copy(io.MultiWriter(&tp.toServer, s), c)
				s.(*net.TCPConn).CloseWrite()
			}()
			go func() {
				defer tp.wg.Done()
				io.Copy(io.MultiWriter(&tp.back, c), s)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); tp.wg.Wait() })
	return tp
}

// recConn records what a client sends and receives.
type recConn struct {
	net.Conn
	sent, got *syncBuffer
}

func (r *recConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.got.Write(p[:n])
	return n, err
}

func (r *recConn) Write(p []byte) (int, error) {
	n, err := r.Conn.Write(p)
	r.sent.Write(p[:n])
	return n, err
}

// clientFlow logs in as alice over nc, appends, fetches, idles until a
// message arrives from another connection, optionally compresses, and
// logs out. The other connection appends once the IDLE is under way (the
// server's "+" to it, seen in the session's trace).
func clientFlow(t *testing.T, srv *testserver.Server, nc net.Conn, opts *auth.Options, compress bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o auth.Options
	if opts != nil {
		o = *opts
	}
	var so session.Options
	if o.Session != nil {
		so = *o.Session
	}
	idling := &idlePlus{under: make(chan struct{}), trace: so.Trace}
	so.Trace = idling
	o.Session = &so
	c, err := commands.Open(ctx, nc, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Session().Close()
	if err := c.Login(ctx, testserver.Alice, testserver.Password); err != nil {
		t.Fatal(err)
	}
	if compress {
		if err := c.Compress(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	msg := []byte("From: a@example.com\r\nSubject: through the proxy\r\n\r\nbody {5}\r\n")
	if _, err := c.AppendBytes(ctx, "INBOX", msg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchAll(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{}}}); err != nil {
		t.Fatal(err)
	}
	// IDLE until another connection appends, once the IDLE is under way
	// (not 300 ms in, which a loaded machine could reach before the IDLE
	// went out). It gives up when clientFlow returns.
	actx, stopAppend := context.WithCancel(ctx)
	appended := make(chan struct{})
	defer func() { stopAppend(); <-appended }()
	go func() {
		defer close(appended)
		ctx := actx
		select {
		case <-idling.under:
		case <-ctx.Done():
			return
		}
		other, err := tls.Dial("tcp", srv.TLSAddr, srv.TLSConfig())
		if err != nil {
			return
		}
		defer other.Close()
		oc, err := commands.Open(ctx, other, nil)
		if err != nil {
			return
		}
		defer oc.Session().Close()
		if oc.Login(ctx, testserver.Alice, testserver.Password) == nil {
			oc.AppendBytes(ctx, "INBOX", msg, nil)
			oc.Logout(ctx)
		}
	}()
	if err := c.Idle(ctx, nil, func(r codec.Response) bool {
		_, exists := r.(*codec.Exists)
		return !exists
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
}

// idlePlus is a session Trace that closes under at the first "+" the
// server sends after the client's IDLE (the IDLE under way); a "+" before
// it (an APPEND's literal) does not count. It passes every line on to
// trace, if any.
type idlePlus struct {
	under chan struct{}
	trace io.Writer

	mu     sync.Mutex
	idle   bool // the IDLE sent
	closed bool
}

func (p *idlePlus) Write(b []byte) (int, error) {
	line := string(b)
	p.mu.Lock()
	switch {
	case strings.HasPrefix(line, "C: ") && strings.HasSuffix(strings.TrimRight(line, "\r\n"), " IDLE"):
		p.idle = true
	case p.idle && !p.closed && strings.HasPrefix(line, "S: +"):
		p.closed = true
		close(p.under)
	}
	p.mu.Unlock()
	if p.trace != nil {
		return p.trace.Write(b)
	}
	return len(b), nil
}

// proxyHang bounds the polls of the proxy's tests for what a passing test
// sees (waitFor, pollUntil, startProxy's wait for the proxy's address): a
// bound against a hang, not a timed assertion. It was 5 s (500 polls of
// 10 ms), which a loaded machine under -race could reach with a correct
// proxy (TestProxyLongTagsHeld's trace needed more: its own 2 minutes).
const proxyHang = time.Minute

// waitFor polls the proxy's output for s, proxyHang at most.
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	for end := time.Now().Add(proxyHang); !strings.Contains(out.String(), s) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), s) {
		t.Fatalf("no %q in the proxy's output:\n%s", s, out.String())
	}
}

func checkRedacted(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, testserver.Password) {
		t.Fatalf("the password is in the proxy's output:\n%s", out)
	}
}

// TestProxyPlainByteIdentical: the library's client and Python's imaplib
// through the proxy to Dovecot in the clear: every byte arrives unchanged
// in both directions but for the non-synchronizing literals' headers, sent
// upstream as synchronizing, and the "+" that answers them, withheld; and
// the trace shows the conversation redacted.
func TestProxyPlainByteIdentical(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 3)
	tp := newTap(t, srv.PlainAddr)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rc := &recConn{Conn: nc, sent: &syncBuffer{}, got: &syncBuffer{}}
	clientFlow(t, srv, rc, &auth.Options{AllowInsecurePassword: true}, false)
	waitFor(t, out, "* connection closed")
	tp.ln.Close()
	tp.wg.Wait()
	// One change both ways: the client's non-synchronizing literals (the
	// library uses LITERAL+ for APPEND) go upstream as synchronizing, and
	// the server's "+ OK" that answers each is withheld.
	sent, got := rc.sent.String(), tp.back.String()
	nonSync := regexp.MustCompile(`\{([0-9]+)\+\}\r\n`)
	if n := len(nonSync.FindAllString(sent, -1)); n == 0 || n != strings.Count(got, "\r\n+ OK\r\n") {
		t.Fatalf("the client sent %d non-synchronizing literals, the server answered \"+ OK\" %d times", n, strings.Count(got, "\r\n+ OK\r\n"))
	}
	if want := nonSync.ReplaceAllString(sent, "{$1}\r\n"); want != tp.toServer.String() {
		t.Fatalf("client sent %d bytes, the server got %d different ones", len(sent), len(tp.toServer.String()))
	}
	if want := strings.ReplaceAll(got, "\r\n+ OK\r\n", "\r\n"); want != rc.got.String() {
		t.Fatalf("the server sent %d bytes, the client got %d different ones", len(got), len(rc.got.String()))
	}
	trace := out.String()
	checkRedacted(t, trace)
	if strings.Contains(trace, "use of closed network connection") {
		t.Errorf("a LOGOUT's end shows as an error in the trace:\n%s", trace)
	}
	for _, want := range []string{"C: ", " LOGIN alice ***", "S: * OK [CAPABILITY", " IDLE", "S: + idling", "C: DONE", "{", "bytes}"} {
		if !strings.Contains(trace, want) {
			t.Errorf("no %q in the trace:\n%s", want, trace)
		}
	}
}

// TestProxyImaplib: Python's imaplib (synchronizing literals: the body
// waits for the server's "+") through the proxy, in the clear.
func TestProxyImaplib(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed for this test")
	}
	srv, _ := dovecot(t, 3)
	tp := newTap(t, srv.PlainAddr)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())
	host, port, _ := net.SplitHostPort(addr)
	script := fmt.Sprintf(`
import imaplib, sys
m = imaplib.IMAP4(%q, %s)
m.login(%q, %q)
m.select("INBOX")
body = b"From: py@example.com\r\nSubject: imaplib {3}\r\n\r\n" + b"x" * 70000 + b"\r\n"
typ, data = m.append("INBOX", None, None, body)
assert typ == "OK", data
typ, data = m.fetch("1:*", "(UID RFC822.SIZE BODY.PEEK[])")
assert typ == "OK", data
m.logout()
m2 = imaplib.IMAP4(%q, %s)
m2.authenticate("PLAIN", lambda _: b"\0alice\0" + %q.encode())
m2.logout()
`, host, port, testserver.Alice, testserver.Password, host, port, testserver.Password)
	cmd := exec.Command("python3", "-c", script)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("imaplib: %v\n%s\ntrace:\n%s", err, b, out.String())
	}
	waitFor(t, out, "[2] * connection closed")
	tp.ln.Close()
	tp.wg.Wait()
	trace := out.String()
	checkRedacted(t, trace)
	for _, want := range []string{"APPEND INBOX {70", "S: + OK", "FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])", "[2] C: ", "AUTHENTICATE PLAIN", "[2] C: [SASL data redacted"} {
		if !strings.Contains(trace, want) {
			t.Errorf("no %q in the trace:\n%s", want, trace)
		}
	}
}

// TestProxyRefusedLiteral: imaplib APPENDs to a mailbox that does not
// exist; Dovecot answers NO [TRYCREATE] instead of the "+" that would let
// the body come, and imaplib, as its docs suggest, CREATEs the mailbox and
// APPENDs again. The proxy read imaplib's CREATE as the refused literal's
// body: it relayed it as data, out of step with the server, and imaplib
// waited for an answer that never came (a filter would never have seen the
// CREATE; the proxy-writer audit of 2026-12-04). Now the proxy waits for
// the server's word before it relays a synchronizing literal's body.
func TestProxyRefusedLiteral(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed for this test")
	}
	srv, _ := dovecot(t, 3)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	host, port, _ := net.SplitHostPort(addr)
	box := fmt.Sprintf("Missing%d", time.Now().UnixNano())
	script := fmt.Sprintf(`
import imaplib
m = imaplib.IMAP4(%q, %s, timeout=20)
m.login(%q, %q)
body = b"From: py@example.com\r\nSubject: refused\r\n\r\nhello\r\n"
typ, data = m.append(%q, None, None, body)
assert typ == "NO" and b"TRYCREATE" in data[0], (typ, data)
typ, data = m.create(%q)
assert typ == "OK", (typ, data)
typ, data = m.append(%q, None, None, body)
assert typ == "OK", (typ, data)
typ, data = m.select(%q)
assert typ == "OK" and data[0] == b"1", (typ, data)
m.logout()
`, host, port, testserver.Alice, testserver.Password, box, box, box, box)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "python3", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("imaplib: %v\n%s\ntrace:\n%s", err, b, out.String())
	}
	waitFor(t, out, "* connection closed")
	if trace := out.String(); !strings.Contains(trace, "CREATE "+box) {
		t.Errorf("the trace shows no CREATE:\n%s", trace)
	}
}

// TestProxyTLS: TLS on both sides (imaps:// upstream, --tls with a
// generated certificate downstream), then COMPRESS: the proxy keeps
// relaying without decoding.
func TestProxyTLS(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 3)
	certOut := filepath.Join(t.TempDir(), "proxy.pem")
	_, tlsURL := urls(srv)
	addr, out, _ := startProxy(t, append(cf[:2:2], "--upstream", tlsURL, "--tls", "--self-signed", "--cert-out", certOut)...)
	pool := x509.NewCertPool()
	pemBytes, err := os.ReadFile(certOut)
	if err != nil || !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("--cert-out: %v", err)
	}
	nc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	clientFlow(t, srv, nc, nil, true)
	waitFor(t, out, "* connection closed")
	trace := out.String()
	checkRedacted(t, trace)
	for _, want := range []string{"S: * OK [CAPABILITY", " LOGIN alice ***", "COMPRESS DEFLATE", "COMPRESS=DEFLATE active"} {
		if !strings.Contains(trace, want) {
			t.Errorf("no %q in the trace:\n%s", want, trace)
		}
	}
}

// TestProxySTARTTLS: a client that insists on STARTTLS through the proxy
// to imap:// upstream: the proxy mirrors it, TLS on both sides.
func TestProxySTARTTLS(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 3)
	certOut := filepath.Join(t.TempDir(), "proxy.pem")
	plainURL, _ := urls(srv)
	addr, out, _ := startProxy(t, append(cf[:2:2], "--upstream", plainURL, "--self-signed", "--cert-out", certOut)...)
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(certOut)
	pool.AppendCertsFromPEM(pemBytes)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	clientFlow(t, srv, nc, &auth.Options{RequireTLS: true, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}, false)
	waitFor(t, out, "* connection closed")
	trace := out.String()
	checkRedacted(t, trace)
	for _, want := range []string{" STARTTLS", "* STARTTLS: TLS on both sides", " LOGIN alice ***"} {
		if !strings.Contains(trace, want) {
			t.Errorf("no %q in the trace:\n%s", want, trace)
		}
	}
}

func TestProxyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"proxy"},
		{"proxy", "--upstream", "http://x"},
		{"proxy", "--upstream", "imaps://localhost", "--tls"},
		{"proxy", "--upstream", "imaps://localhost", "--cert", "x"},
		{"proxy", "--upstream", "imaps://localhost", "extra"},
	} {
		code, _, stderr := runCLI(t, "", args...)
		if code != 2 || !strings.HasPrefix(stderr, "imapkit proxy: ") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}
