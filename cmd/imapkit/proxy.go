package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/wire"
)

// proxyConfig is what a proxy needs to serve connections.
type proxyConfig struct {
	upstream    *target
	upstreamTLS *tls.Config // for imaps:// and for a mirrored STARTTLS
	downTLS     *tls.Config // the proxy's certificate, or nil
	implicitTLS bool        // --tls: clients connect with TLS
	out         io.Writer   // the trace
	// errOut is where a write error of the trace is reported (once);
	// nil: nowhere.
	errOut      io.Writer
	dialTimeout time.Duration
	// insecurePlaintext lets LOGIN and AUTHENTICATE through to an
	// imap:// upstream that is not on loopback before any STARTTLS.
	insecurePlaintext bool
	// maxConns bounds the connections relayed at once (--max-connections;
	// 0: defaultMaxProxyConns).
	maxConns int
	// hooks are a test's settings (nil: none, as in every real run).
	hooks *proxyHooks
}

// proxyHooks are the settings a test gives a run of the proxy, in the
// run's context (proxyHooksKey: startProxy puts them there) or in
// proxyConfig; nil, as in every real run, is none. They are the run's,
// not package variables, so that the tests that set them can run in
// parallel.
type proxyHooks struct {
	// now is the clock of the trace's rate limits (refusalLog,
	// acceptLog), and of the bound on the server's silence once the
	// client's side has ended (upstreamReader: the read deadlines are set
	// that far ahead of the real clock as of now); every is the rate
	// limits' interval (0: refusalInterval).
	now   func() time.Time
	every time.Duration
	// wait, when set, is the wait after a passing error of Accept, in
	// place of time.After.
	wait func(d time.Duration) <-chan time.Time
	// writeSpeed, when over 1, makes the --timeout (30 s by default) as
	// writeBound returns it run that many times faster: the bound on each
	// write to the client and to the server (upstreamConn), on the wait
	// of the proxy's own answers on a server's line stalled in its
	// middle, and on the server's silence once the client's side has
	// ended and no answer is owed (not the connection's dial and
	// handshakes); the messages that report them name the --timeout.
	writeSpeed time.Duration
	// owedAnswerSpeed, when over 1, makes proxyOwedAnswerWait run that
	// many times faster (apart from writeSpeed, so that a test of it
	// keeps the --timeout bounds long).
	owedAnswerSpeed time.Duration
	// putClock, when set, replaces the timer of put's wait for a
	// server's line stopped in its middle (clientOut.stall): it is called
	// as the wait starts with fire, what the timer runs when a stretch of
	// stall has passed, and returns reset (a new stretch begins: the
	// server made progress) and stop (the wait is over). A test fires the
	// stretches itself, after the server's bytes were read (serverRead)
	// or not, rather than racing real time.
	putClock func(fire func()) (reset, stop func())
	// serverRead, when set, is called after each read of the server's
	// bytes was counted (clientOut.serverRead).
	serverRead func()
}

// proxyHooksKey is the context key of a run's *proxyHooks.
type proxyHooksKey struct{}

// clock is the proxy's clock: time.Now, unless a test set h.now. h may
// be nil.
func (h *proxyHooks) clock() func() time.Time {
	if h != nil && h.now != nil {
		return h.now
	}
	return time.Now
}

// setReadDeadline sets c's read deadline at, a time on h's clock: as far
// ahead of the real clock as at is of h's. h may be nil.
func (h *proxyHooks) setReadDeadline(c net.Conn, at time.Time) {
	if h != nil && h.now != nil {
		at = time.Now().Add(at.Sub(h.now()))
	}
	c.SetReadDeadline(at)
}

// acceptWait is the wait after a passing error of Accept: time.After,
// unless a test set h.wait. h may be nil.
func (h *proxyHooks) acceptWait(d time.Duration) <-chan time.Time {
	if h != nil && h.wait != nil {
		return h.wait(d)
	}
	return time.After(d)
}

// defaultMaxProxyConns is how many clients the proxy relays at once by
// default (--max-connections). Each costs two file descriptors (the
// client's and its upstream's) and a few goroutines; a client that opened
// connections without end ran the proxy out of descriptors (Go raises the
// soft limit to the hard one, often 1,024 or 4,096) and made it open as
// many upstream. A mail client opens a few (Thunderbird up to 5 per
// account).
const defaultMaxProxyConns = 256

// runProxy is the proxy command: it serves until the run is interrupted
// (env's interrupted context) or, with --once, its first client leaves.
func runProxy(env *sysEnv, _ io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:1143", "accept clients on this `address`")
	upstream := fs.String("upstream", "", "the server: imaps://HOST[:PORT] (TLS) or imap://HOST[:PORT] (STARTTLS when the client asks for it)")
	caFile := fs.String("ca-file", "", "trust only the CA certificates in this PEM `file` for the upstream server")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify the upstream server's certificate (anyone on the path can read everything)")
	certFile := fs.String("cert", "", "the proxy's certificate for clients (PEM `file`; with --key)")
	keyFile := fs.String("key", "", "the private key of --cert (PEM `file`)")
	selfSigned := fs.Bool("self-signed", false, "generate a self-signed certificate for clients (localhost, 127.0.0.1, ::1 and the --listen host)")
	certOut := fs.String("cert-out", "", "with --self-signed, write the generated certificate (PEM) to this `file`, for the client to trust")
	implicitTLS := fs.Bool("tls", false, "clients connect with TLS (imaps); otherwise in the clear, with STARTTLS when there is a certificate")
	once := fs.Bool("once", false, "stop after the first client's connection ends")
	timeout := new(time.Duration)
	*timeout = 30 * time.Second
	fs.Var(positiveDuration{timeout}, "timeout", "bound on connecting to the upstream server, on TLS handshakes, on each write to the client or the server without progress, on the wait of the proxy's own answers for a server's line stopped in its middle, and on the server's silence once the client has ended its side and is owed no answer (a `duration` more than 0)")
	maxConns := fs.Int("max-connections", defaultMaxProxyConns, "relay at most `n` clients at once (more than 0); a client past it gets \"* BYE\" (with --tls: the connection's end) and no upstream connection")
	insecurePlain := fs.Bool("insecure-plaintext", false, "relay LOGIN and AUTHENTICATE to an imap:// upstream that is not on loopback without STARTTLS (anyone on the path can read the password)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: imapkit proxy --listen ADDR --upstream URL [--tls] [--cert F --key F | --self-signed] [--once]")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "A man-in-the-middle trace proxy for debugging a mail client: it relays")
		fmt.Fprintln(fs.Output(), "the bytes between the client and the upstream server and prints")
		fmt.Fprintln(fs.Output(), "the tokenized conversation on stdout, credentials redacted (C: client, S:")
		fmt.Fprintln(fs.Output(), "server). A STARTTLS the client sends is mirrored on both sides; after")
		fmt.Fprintln(fs.Output(), "COMPRESS the bytes are relayed without decoding. See docs/cli.md.")
		fmt.Fprintln(fs.Output(), "To an imap:// upstream not on loopback, LOGIN and AUTHENTICATE are refused")
		fmt.Fprintln(fs.Output(), "(a tagged NO from the proxy) until STARTTLS, unless --insecure-plaintext.")
		fmt.Fprintln(fs.Output(), "Without a certificate, the proxy answers a client's STARTTLS with NO.")
		fmt.Fprintf(fs.Output(), "At most --max-connections clients (default %d) are relayed at once; one more\n", defaultMaxProxyConns)
		fmt.Fprintln(fs.Output(), "gets \"* BYE\" (with --tls: the connection's end) and no upstream connection.")
		fmt.Fprintln(fs.Output(), "A {n+} literal goes upstream as {n}, so that the server says whether it")
		fmt.Fprintln(fs.Output(), "reads it; lines without a tag or that cannot be tokenized get a BAD.")
		fmt.Fprintln(fs.Output(), "Exit status: 0 when stopped, 2 for bad usage, 3 when it cannot listen or")
		fmt.Fprintln(fs.Output(), "lines of the trace could not be written (reported on stderr at once).")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "imapkit proxy: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if *upstream == "" {
		return fail(2, "--upstream URL is required")
	}
	if *maxConns <= 0 {
		return fail(2, "--max-connections must be more than 0")
	}
	up, err := parseURL(*upstream)
	if err != nil {
		return fail(2, "%v", err)
	}
	cfg := &proxyConfig{upstream: up, implicitTLS: *implicitTLS, out: stdout, errOut: stderr, dialTimeout: *timeout, insecurePlaintext: *insecurePlain, maxConns: *maxConns}
	f := &connFlags{caFile: *caFile, insecureSkipVerify: *insecure}
	if cfg.upstreamTLS, err = f.tlsConfig(up.host); err != nil {
		return fail(2, "%v", err)
	}
	switch {
	case *selfSigned && (*certFile != "" || *keyFile != ""):
		return fail(2, "give either --self-signed or --cert/--key")
	case *selfSigned:
		host, _, _ := net.SplitHostPort(*listen)
		cert, der, err := selfSignedCert(host)
		if err != nil {
			return fail(3, "%v", err)
		}
		sum := sha256.Sum256(der)
		fmt.Fprintf(stderr, "imapkit proxy: self-signed certificate, SHA-256 %s\n", hex.EncodeToString(sum[:]))
		if *certOut != "" {
			p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
			if err := os.WriteFile(*certOut, p, 0o644); err != nil {
				return fail(3, "%v", err)
			}
		}
		cfg.downTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case *certFile != "" || *keyFile != "":
		if *certFile == "" || *keyFile == "" {
			return fail(2, "--cert and --key go together")
		}
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fail(2, "%v", err)
		}
		cfg.downTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if *certOut != "" && !*selfSigned {
		return fail(2, "--cert-out goes with --self-signed")
	}
	if cfg.implicitTLS && cfg.downTLS == nil {
		return fail(2, "--tls needs a certificate: --cert/--key or --self-signed")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(3, "%v", err)
	}
	fmt.Fprintf(stderr, "imapkit proxy: listening on %s, upstream %s\n", ln.Addr(), *upstream)
	if err := serveProxy(env.ctx(), ln, cfg, *once); err != nil {
		return fail(3, "%v", err)
	}
	return 0
}

// serveProxy accepts clients on ln until ctx ends (or, with once, until
// the first client's connection ends), and relays each to the upstream
// server. It closes ln and waits for every connection before it returns.
// When lines of the trace could not be written, it returns an error
// saying so (after the connections ended: the relay goes on without
// them).
func serveProxy(ctx context.Context, ln net.Listener, cfg *proxyConfig, once bool) (err error) {
	if h, ok := ctx.Value(proxyHooksKey{}).(*proxyHooks); ok && cfg.hooks == nil {
		c := *cfg
		c.hooks = h
		cfg = &c
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	out := &lockedWriter{w: cfg.out, errOut: cfg.errOut}
	var wg sync.WaitGroup
	limit := cfg.maxConns
	if limit <= 0 {
		limit = defaultMaxProxyConns
	}
	refusals := newRefusalLog(out, limit)
	accepts := newAcceptLog(out)
	if h := cfg.hooks; h != nil && h.now != nil {
		refusals.now, accepts.now = h.now, h.now
	}
	if h := cfg.hooks; h != nil && h.every > 0 {
		refusals.every, accepts.every = h.every, h.every
	}
	// On any return, no more clients come before the connections are
	// waited for (the listener stayed open, and a client connecting then
	// waited in its backlog for ever).
	defer func() {
		ln.Close()
		wg.Wait()
		refusals.close() // the refusals not printed yet, counted
		accepts.close()
		if err == nil {
			err = out.failure()
		}
	}()
	// slots holds a token for each connection relayed.
	slots := make(chan struct{}, limit)
	// drains holds a token for each refused client whose connection is
	// drained (refuseOverLimit).
	drains := make(chan struct{}, maxRefusalDrains)
	var delay time.Duration // the wait after a passing Accept error
	for id := 1; ; id++ {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !temporaryAccept(err) {
				return err
			}
			// Out of file descriptors, say, while many clients are
			// connected: it passes as they leave. Retried with a growing
			// wait, as net/http's Server does.
			// The trace says so at most once a second (acceptLog).
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			acceptFailed(accepts, err, delay)
			select {
			case <-cfg.hooks.acceptWait(delay):
			case <-ctx.Done():
				return nil
			}
			id--
			continue
		}
		delay = 0
		select {
		case slots <- struct{}{}:
		default:
			// The refusal's drain runs beside the accept loop, at most
			// maxRefusalDrains at once; past them the refusal closes at
			// once, as it did.
			select {
			case drains <- struct{}{}:
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-drains }()
					refuseOverLimit(ctx, c, cfg, id, limit, refusals, true)
				}()
			default:
				refuseOverLimit(ctx, c, cfg, id, limit, refusals, false)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			ps := &proxySession{id: id, cfg: cfg, out: out}
			ps.serve(ctx, c)
			if once {
				cancel()
			}
		}()
		if once {
			ln.Close()
			<-ctx.Done()
			return nil
		}
	}
}

// proxyRefusedBye is what a client past --max-connections gets.
const proxyRefusedBye = "* BYE imapkit proxy: too many connections (--max-connections %d); try again later\r\n"

// maxRefusalDrains bounds the refused clients whose connections are
// drained at once (refuseOverLimit), each for up to proxyCloseLinger: a
// client opening connections without end past --max-connections holds at
// most that many descriptors more. Past it, a refusal closes at once.
const maxRefusalDrains = 64

// refuseOverLimit ends a client's connection c accepted while limit
// connections are relayed: in the clear it sends an untagged BYE (a
// greeting RFC 9051 allows), with no upstream connection opened for it;
// with --tls it closes at once (a TLS handshake for a refusal would cost
// CPU). The write goes into an empty socket buffer and does not wait in
// practice; it is bounded all the same. With drain (run beside the
// accept loop), the BYE is followed by a half-close, and what the client
// sends is read and dropped until its end, proxyCloseQuiet of silence or
// proxyCloseLinger in all (as closeClient does), before the close: a
// client's first bytes left unread at the close (a command pipelined
// before the greeting) made the kernel send a reset instead of the end,
// which can destroy the BYE in flight. ctx's end closes at once.
func refuseOverLimit(ctx context.Context, c net.Conn, cfg *proxyConfig, id, limit int, refusals *refusalLog, drain bool) {
	defer c.Close()
	how := "* BYE"
	if cfg.implicitTLS {
		how = "closed (TLS: no BYE)"
		drain = false
	} else {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := fmt.Fprintf(c, proxyRefusedBye, limit); err != nil {
			how = fmt.Sprintf("closed (the BYE failed: %v)", err)
			drain = false
		}
	}
	refusals.refused(id, c.RemoteAddr(), how)
	cw, ok := c.(interface{ CloseWrite() error })
	if !drain || !ok || cw.CloseWrite() != nil {
		return
	}
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	end := time.Now().Add(proxyCloseLinger)
	buf := make([]byte, 4<<10)
	for ctx.Err() == nil {
		d := time.Now().Add(proxyCloseQuiet)
		if d.After(end) {
			d = end
		}
		c.SetReadDeadline(d)
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// refusalInterval is how often, at most, the trace prints a line for the
// clients refused over --max-connections (refusalLog), or for the errors
// of Accept (acceptLog).
const refusalInterval = time.Second

// rateLog prints events of one kind to the trace, a flood of them in few
// lines: an event is printed in full when none was printed for every
// (refusalInterval); those that come sooner are counted, and a line
// (summary) says how many, with the latest, once every has passed since
// the last line (at the next event, by a timer, or when the proxy stops:
// none is left out of the count).
type rateLog struct {
	out *lockedWriter
	// now is the clock (tests set it).
	now func() time.Time
	// every is refusalInterval (tests set it).
	every time.Duration
	// summary is the line for n events counted, the latest as latest.
	summary func(n int, latest string) []byte

	mu     sync.Mutex
	last   time.Time // when the last line was printed (zero: none yet)
	n      int       // events counted since, not printed
	latest string    // the latest of them, as summary says it
	timer  *time.Timer
	closed bool
}

// event records an event: full is its line when printed in full, latest
// what the summary says of it when counted.
func (l *rateLog) event(full func() []byte, latest string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.n == 0 && (l.last.IsZero() || now.Sub(l.last) >= l.every) {
		l.last = now
		l.out.line(full())
		return
	}
	l.n++
	l.latest = latest
	if now.Sub(l.last) >= l.every {
		l.summaryLocked(now)
		return
	}
	if l.timer == nil && !l.closed {
		l.timer = time.AfterFunc(l.every-now.Sub(l.last), l.tick)
	}
}

// tick prints the count due when the timer fires.
func (l *rateLog) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if !l.closed {
		l.summaryLocked(l.now())
	}
}

// summaryLocked prints how many events were counted since the last line.
func (l *rateLog) summaryLocked(now time.Time) {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.n == 0 {
		return
	}
	l.out.line(l.summary(l.n, l.latest))
	l.n, l.last = 0, now
}

// close prints the count not printed yet; nothing is printed after it.
func (l *rateLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.summaryLocked(l.now())
	l.closed = true
}

// refusalLog prints the refusals of clients over --max-connections to the
// trace (a rateLog): a refusal in full, then at most a line a second with
// the count since. Before, each refusal printed a line: a client opening
// connections without end past the limit flooded the trace (found by
// review).
type refusalLog struct {
	rateLog
	limit int
}

func newRefusalLog(out *lockedWriter, limit int) *refusalLog {
	l := &refusalLog{limit: limit}
	l.rateLog = rateLog{out: out, now: time.Now, every: refusalInterval}
	l.summary = func(n int, latest string) []byte {
		return fmt.Appendf(nil, "* %s refused since the last such line: %s relayed (--max-connections); the latest %s\n", plural(n, "more client"), plural(l.limit, "connection"), latest)
	}
	return l
}

// refused records the refusal of client id from addr, ended as how says.
func (l *refusalLog) refused(id int, addr net.Addr, how string) {
	l.event(func() []byte {
		return fmt.Appendf(nil, "[%d] * client %s refused: %s relayed (--max-connections): %s\n", id, addr, plural(l.limit, "connection"), how)
	}, fmt.Sprintf("[%d] client %s: %s", id, addr, how))
}

// acceptLog prints the passing errors of Accept (out of file descriptors,
// EMFILE) to the trace as refusalLog prints refusals: an error in full,
// then at most a line a second with the count since. Before, each error
// printed a line, spaced only by the retry's wait (5 ms at first): a
// proxy out of descriptors for a while printed a line every second or
// faster for as long (found by review).
func newAcceptLog(out *lockedWriter) *rateLog {
	return &rateLog{out: out, now: time.Now, every: refusalInterval, summary: func(n int, latest string) []byte {
		return fmt.Appendf(nil, "* accept: %s since the last such line; the latest: %s\n", plural(n, "more error"), latest)
	}}
}

// acceptFailed records a passing error of Accept, retried after delay.
func acceptFailed(l *rateLog, err error, delay time.Duration) {
	l.event(func() []byte {
		return fmt.Appendf(nil, "* accept: %v; retrying in %v\n", err, delay)
	}, fmt.Sprintf("%v; retrying in %v", err, delay))
}

// temporaryAccept reports whether an error of Accept passes: no file
// descriptor or buffer memory left for the moment, or a connection aborted
// by its client before it was accepted.
func temporaryAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// lockedWriter serializes the trace lines of every connection. A line
// it cannot write (a full disk, a closed file) is lost, and counted: the
// first error is reported on errOut at once, the trace says how many
// lines were lost where writing works again, and failure reports it at
// the end. The relay goes on: the trace serves the debugging of a
// client, whose connection a proxy that stopped on a full disk would cut
// (its user sees the server gone); stderr and the exit status say that
// the trace is not whole. Before, the write errors were ignored: lines
// went missing without a word, and the proxy exited 0.
type lockedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	errOut io.Writer // nil: nowhere
	err    error     // the first write error
	lost   int       // lines lost since the last one written
	cut    int       // lines written in part since the last one written
	total  int       // lines lost or cut in all
	// totalCut: lines written in part in all.
	totalCut int
	// partial: the trace ends inside a line (a write failed after some
	// of its bytes): what is written next begins on a line of its own.
	partial bool
}

func (l *lockedWriter) line(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost > 0 || l.cut > 0 {
		var note string
		switch {
		case l.cut == 0:
			note = fmt.Sprintf("%d lines lost", l.lost)
		case l.lost == 0:
			note = fmt.Sprintf("%d lines cut short", l.cut)
		default:
			note = fmt.Sprintf("%d lines lost and %d cut short", l.lost, l.cut)
		}
		if _, err := l.write(fmt.Appendf(nil, "* trace: %s here (%v)\n", note, l.err)); err != nil {
			l.lost++
			l.total++
			return
		}
		l.lost, l.cut = 0, 0
	}
	n, err := l.write(b)
	if err == nil {
		return
	}
	// A line of which some bytes were written is cut short, not lost:
	// before, it was counted as lost, and the note of the loss went on
	// the same line as its bytes.
	if n > 0 {
		l.cut++
		l.totalCut++
	} else {
		l.lost++
	}
	l.total++
	if l.err == nil {
		l.err = err
		if l.errOut != nil {
			fmt.Fprintf(l.errOut, "imapkit proxy: writing the trace: %v: lines of the trace are lost from here (the connections go on; the exit status will be 3)\n", err)
		}
	}
}

// write writes b to the trace, on a line of its own when the trace ends
// inside a line cut short, and returns how many of b's bytes it wrote.
func (l *lockedWriter) write(b []byte) (int, error) {
	if l.partial {
		n, err := l.w.Write([]byte{'\n'})
		if n > 0 {
			l.partial = false
		}
		if err != nil {
			return 0, err
		}
	}
	n, err := l.w.Write(b)
	n = min(max(n, 0), len(b))
	if err != nil && n > 0 {
		l.partial = b[n-1] != '\n'
	}
	return n, err
}

// failure is the error of a trace that lost lines, or nil.
func (l *lockedWriter) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return nil
	}
	if l.totalCut > 0 {
		return fmt.Errorf("the trace is incomplete: %d lines could not be written, %d of them in part (the first error is above)", l.total, l.totalCut)
	}
	return fmt.Errorf("the trace is incomplete: %d lines could not be written (the first error is above)", l.total)
}

// proxySession is one client's connection and its upstream.
type proxySession struct {
	id  int
	cfg *proxyConfig
	out *lockedWriter

	mu             sync.Mutex
	client, server net.Conn // the current layers (TLS after STARTTLS)
	dialog         wire.Dialog
	// toClient is what the client receives: the server's bytes, and the
	// proxy's own answers between the server's lines.
	toClient *clientOut
	// switched carries the outcome of a STARTTLS or COMPRESS from the
	// server's direction to the client's, which waits for it.
	switched chan switchResult
	// awaiting is the tag of the STARTTLS or COMPRESS that the client's
	// direction forwarded and waits on ("" when none; under mu): only its
	// completion changes the streams.
	awaiting string
	// secrets are the credentials the client sent, redacted from what
	// the server's lines are printed with (a server may echo them).
	secrets secretSet
	// stalled: a write to the client timed out (clientWriter).
	stalled atomic.Bool
	// serverStalled: a write to the server made no progress for the
	// --timeout (upstreamConn).
	serverStalled atomic.Bool
	// stopping: closeAll was called; the client direction's errors from
	// then on are its doing, not news (the closer said why).
	stopping atomic.Bool
	// clientDone: the client's direction has ended (the client's end,
	// an error): from then on the server must bring something the relay
	// writes to the client within silenceBound (upstreamReader).
	clientDone atomic.Bool
	// closeBye is the text of the proxy's own "* BYE" that closeClient
	// sends the client before it closes ("" for none). Set by the
	// server's direction only, at a server line's start; a constant of
	// the proxy's, never the server's bytes.
	closeBye string
}

// clientWriter is c as the proxy writes to it: each write must make
// progress within the --timeout (cfg.dialTimeout). A client that stops
// reading while the server sends blocks the server's direction in a write
// once the buffers are full; without a bound it held the connection, its
// upstream (whose end went unnoticed) and both directions for ever.
func (ps *proxySession) clientWriter(c net.Conn) io.Writer {
	return &deadlineWriter{c: c, d: ps.writeBound(), stalled: &ps.stalled}
}

// writeBound is the --timeout (cfg.dialTimeout) as it bounds each write
// to the client, each stretch of a write to the server (upstreamConn) and
// the wait of the proxy's own answers on a server's
// line stalled in its middle (clientOut.put).
func (ps *proxySession) writeBound() time.Duration {
	d := ps.cfg.dialTimeout
	if h := ps.cfg.hooks; h != nil && h.writeSpeed > 1 {
		d /= h.writeSpeed // a test's (proxyHooks)
	}
	return d
}

// deadlineWriter sets a write deadline d ahead before each write to c,
// and records a write that timed out in stalled.
type deadlineWriter struct {
	c       net.Conn
	d       time.Duration
	stalled *atomic.Bool
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(w.d))
	n, err := w.c.Write(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.stalled.Store(true)
	}
	return n, err
}

// upstreamConn is the connection to the server, below any TLS layer: each
// Write must make progress within bound (the --timeout, writeBound), else
// it fails with os.ErrDeadlineExceeded and records the stall in stalled.
// A write that goes on slowly (a byte at least in each stretch of bound)
// is not cut, however long it takes. Before, the writes to the server had
// no bound: a server that stopped reading (its window full) while the
// client sent a lot (an APPEND's literal) blocked the client's direction
// for ever; the client's end went unnoticed, and a server that neither
// read nor wrote held the connection's goroutines, both descriptors and
// a --max-connections slot for as long as it kept it open (found by
// review). A deadline set by another (crypto/tls's close_notify, 5 s) is
// replaced by bound at the next Write.
type upstreamConn struct {
	net.Conn
	bound   time.Duration
	stalled *atomic.Bool
}

func (c *upstreamConn) Write(p []byte) (int, error) {
	total := 0
	for {
		c.Conn.SetWriteDeadline(time.Now().Add(c.bound))
		n, err := c.Conn.Write(p[total:])
		total += n
		if err == nil {
			return total, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			// A reset, a closed pipe: the server's side (serverWriteError).
			return total, &serverWriteError{err}
		}
		if n == 0 {
			// Not a byte for bound.
			c.stalled.Store(true)
			return total, err
		}
		// Progress within bound: a new stretch for the rest.
	}
}

// serverWriteError is a write to the server that failed other than by
// the stall bound (a reset, a closed pipe: the server closed while the
// client's APPEND literal was relayed), as upstreamConn returns it: the
// client's direction, which relays the client's bytes and so reads the
// client and writes the server, tells it from the client's errors in the
// trace (clientErr). Before, it was printed as "* client side: write tcp
// ...: connection reset by peer", blaming the client for the server's
// reset (found by review).
type serverWriteError struct{ err error }

func (e *serverWriteError) Error() string { return e.err.Error() }
func (e *serverWriteError) Unwrap() error { return e.err }

// CloseWrite half-closes the connection (closeUpstreamWrite).
func (c *upstreamConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// serverStallTrace is the trace's word on a write to the server that made
// no progress for the --timeout (upstreamConn).
const serverStallTrace = "* server side: a write to the server made no progress for %v (it reads nothing): closing"

// secretSet holds the credentials seen on a connection.
type secretSet struct {
	mu     sync.Mutex
	l      [][]byte   // the forms of the credentials in groups, longest first
	groups [][][]byte // the forms of each credential recorded, oldest first
}

// maxSecretGroups is how many credentials a connection's secretSet keeps,
// the newest: a client that sent LOGIN after LOGIN (a wrong or rotating
// password, a brute-forcer) made it grow by four copies of each, never
// trimmed and all compared with every server line (+2.9 MB and seconds of
// CPU after 12,000). As session's secrets are (16).
const maxSecretGroups = 16

// minSecret is the shortest credential redacted from the server's lines:
// a shorter one would blot out common words.
const minSecret = 3

// add records b as a credential, and when b is base64 (a SASL line),
// what it decodes to and what follows its last NUL (PLAIN's password).
func (ss *secretSet) add(b []byte) {
	if len(b) < minSecret {
		return
	}
	ss.record(b)
	if dec, err := base64.StdEncoding.DecodeString(string(b)); err == nil && len(dec) >= minSecret {
		ss.record(dec)
		if i := bytes.LastIndexByte(dec, 0); i >= 0 {
			ss.add(dec[i+1:])
		}
	}
}

// record keeps every form in which the credential b may show in a
// printed line: b itself, b inside a quoted string ('\' and '"' escaped,
// as a server echoes a quoted argument as sent), and both as the printer
// shows them (control characters and bytes that are not UTF-8 as \xNN).
// The longest forms come first, so that none is left half redacted.
func (ss *secretSet) record(b []byte) {
	q := quotedForm(b)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var g [][]byte
	for _, f := range [][]byte{b, q, printedForm(b), printedForm(q)} {
		if !slices.ContainsFunc(g, func(x []byte) bool { return bytes.Equal(x, f) }) {
			g = append(g, bytes.Clone(f))
		}
	}
	// The same credential again moves to the newest place.
	ss.groups = slices.DeleteFunc(ss.groups, func(x [][]byte) bool { return bytes.Equal(x[0], g[0]) })
	if len(ss.groups) >= maxSecretGroups {
		ss.groups = slices.Delete(ss.groups, 0, len(ss.groups)-maxSecretGroups+1)
	}
	ss.groups = append(ss.groups, g)
	ss.l = ss.l[:0]
	for _, x := range ss.groups {
		for _, f := range x {
			if !slices.ContainsFunc(ss.l, func(y []byte) bool { return bytes.Equal(y, f) }) {
				ss.l = append(ss.l, f)
			}
		}
	}
	slices.SortStableFunc(ss.l, func(x, y []byte) int { return len(y) - len(x) })
}

// quotedForm is b as the inside of a quoted string: '\' and '"' escaped.
func quotedForm(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c == '\\' || c == '"' {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return out
}

// printedForm is b as printer.add shows it.
func printedForm(b []byte) []byte {
	var p printer
	p.add(b)
	return p.buf
}

// longest returns the length of the longest form of a credential recorded.
func (ss *secretSet) longest() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.l) == 0 {
		return 0
	}
	return len(ss.l[0])
}

// cutPartial returns where to cut b, a printed line whose content was cut
// short at its end, so that no credential shows in part: before the
// longest suffix of b (from from on) that is the start of a recorded form
// (a credential that went on past the cut), then before any whole form
// that the cut would split. redact then finds every form left whole.
func (ss *secretSet) cutPartial(b []byte, from int) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	t := len(b)
	if len(ss.l) == 0 {
		return t
	}
	for i := max(from, len(b)-len(ss.l[0])+1); i < len(b); i++ {
		if slices.ContainsFunc(ss.l, func(f []byte) bool { return len(f) > len(b)-i && bytes.HasPrefix(f, b[i:]) }) {
			t = i
			break
		}
	}
	for moved := true; moved; {
		moved = false
		for _, f := range ss.l {
			for s := max(from, t-len(f)+1); s < t; s++ {
				if bytes.HasPrefix(b[s:], f) {
					t, moved = s, true
					break
				}
			}
		}
	}
	return t
}

// redact replaces every recorded credential in b by ***: it marks every
// byte that any form of a credential covers (overlapping ones too: two
// credentials echoed as "abcdefghijklm", the end of one the start of the
// other), then replaces each run of marked bytes by one ***. (Replacing
// the forms one after the other left "***ijklm".)
func (ss *secretSet) redact(b []byte) []byte {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var mark []bool
	for _, sec := range ss.l {
		for i := 0; i+len(sec) <= len(b); i++ {
			k := bytes.Index(b[i:], sec)
			if k < 0 {
				break
			}
			i += k
			if mark == nil {
				mark = make([]bool, len(b))
			}
			for j := i; j < i+len(sec); j++ {
				mark[j] = true
			}
		}
	}
	if mark == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if !mark[i] {
			out = append(out, b[i])
			continue
		}
		out = append(out, "***"...)
		for i+1 < len(b) && mark[i+1] {
			i++
		}
	}
	return out
}

// captureWriter passes writes on to w and keeps the first max bytes: a
// secret literal's body, for secretSet.
type captureWriter struct {
	w   *bufio.Writer
	buf []byte
	max int
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if n := min(len(b), c.max-len(c.buf)); n > 0 {
		c.buf = append(c.buf, b[:n]...)
	}
	return c.w.Write(b)
}

func (c *captureWriter) Flush() error { return c.w.Flush() }

type switchResult struct {
	ok     bool // the server accepted: the streams changed
	err    error
	client net.Conn // STARTTLS: the new layers
	server net.Conn
}

func (ps *proxySession) logf(format string, a ...any) {
	ps.out.line([]byte(fmt.Sprintf("[%d] ", ps.id) + fmt.Sprintf(format, a...) + "\n"))
}

// serve relays one client's connection until either side closes it.
func (ps *proxySession) serve(ctx context.Context, client net.Conn) {
	defer client.Close()
	ps.logf("* client %s connected", client.RemoteAddr())
	hctx, cancel := context.WithTimeout(ctx, ps.cfg.dialTimeout)
	if ps.cfg.implicitTLS {
		tc := tls.Server(client, ps.cfg.downTLS)
		if err := tc.HandshakeContext(hctx); err != nil {
			cancel()
			ps.logf("* client TLS handshake: %v", err)
			return
		}
		client = tc
	}
	var d net.Dialer
	server, err := d.DialContext(hctx, "tcp", ps.cfg.upstream.addr)
	if err == nil {
		// Below any TLS layer (imaps, a later STARTTLS), so that every
		// write to the server is bounded, a TLS record's too.
		server = &upstreamConn{Conn: server, bound: ps.writeBound(), stalled: &ps.serverStalled}
	}
	if err == nil && ps.cfg.upstream.tls {
		tc := tls.Client(server, ps.cfg.upstreamTLS)
		if err = tc.HandshakeContext(hctx); err != nil {
			server.Close()
		}
		server = tc
	}
	cancel()
	if err != nil {
		ps.logf("* upstream %s: %v", ps.cfg.upstream.addr, err)
		return
	}
	defer server.Close()
	ps.client, ps.server = client, server
	ps.switched = make(chan switchResult, 1)
	ps.toClient = newClientOut(ps.clientWriter(client), ps.writeBound())
	ps.toClient.hooks = ps.cfg.hooks
	// closeAll ends both directions, whichever ends first; on the
	// proxy's shutdown both connections close at once.
	stop := context.AfterFunc(ctx, func() {
		c, s := ps.conns()
		c.Close()
		s.Close()
	})
	defer stop()
	done := make(chan struct{})
	// The client direction may wait for the server's word on a literal:
	// it ends with the server direction.
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	go func() {
		defer close(done)
		ps.clientToServer(cctx)
	}()
	ps.serverToClient(ctx)
	ccancel()
	ps.toClient.close()
	ps.closeAll()
	<-done
	ps.closeClient(ctx)
	// Once closeClient is done: its flush of what was relayed (and of
	// the proxy's BYE) is bounded by --timeout as every write to the
	// client, and a client that reads nothing stalls it there too, not
	// only the server's direction before it.
	if ps.stalled.Load() {
		ps.logf("* client side: a write to the client made no progress for %v (it reads nothing): closing", ps.cfg.dialTimeout)
	}
	ps.logf("* connection closed")
}

// closeAll ends both directions: it closes the upstream connection (the
// server's direction reads its end, the client's fails to write) and
// stops the client's direction reading, but leaves the client's
// connection open: serve closes it (closeClient) once both directions
// are done, after the client got what was relayed to it. Before, it
// closed the client's connection at once: what the proxy had buffered
// for the client (the lines before the one it closes on, not flushed
// while more of the server's bytes were buffered) was dropped, and
// closing a socket with the client's bytes unread in it sends a reset,
// which can destroy what is still in flight to the client: it read
// nothing, not even the greeting.
func (ps *proxySession) closeAll() {
	ps.stopping.Store(true)
	c, s := ps.conns()
	s.Close()
	c.SetReadDeadline(time.Now())
}

// clientErr prints the error that ends the client's direction, unless
// the connection is closing already (closeAll: the read deadline it sets,
// the upstream it closed) or closed. A write to the server that failed
// (*serverWriteError) is the server's side, and printed so. The client's
// direction passes every failed write to the server here: a Forward's, a
// Flush's, the relay's after COMPRESS (before, a failed Flush returned
// silently, and a server's reset found there was traced nowhere; found by
// review).
func (ps *proxySession) clientErr(err error) {
	// (A write to the server that stalled, within a Forward: the
	// stall's own line says it, clientToServer.)
	if ps.stopping.Load() || errors.Is(err, net.ErrClosed) || ps.serverStalled.Load() {
		return
	}
	var sw *serverWriteError
	if errors.As(err, &sw) {
		ps.logf("* server side: a write to the server failed: %s", errText(sw.err))
		return
	}
	ps.logf("* client side: %s", errText(err))
}

// proxyCloseLinger bounds how long closeClient reads (and drops) what a
// client still sends after the proxy half-closed its connection, before
// it closes it for good; proxyCloseQuiet ends it sooner, once the client
// sent nothing for that long (a client that read the end and keeps its
// side open, or closes it later: nothing of it is unread).
const (
	proxyCloseLinger = 2 * time.Second
	proxyCloseQuiet  = 200 * time.Millisecond
)

// closeClient closes the client's connection as a server does, once
// both directions are done: what is buffered for the client is flushed
// (each write bounded by --timeout), then the proxy's "* BYE" if the
// server's direction set one (closeBye), then a half-close (over TLS a
// close_notify first), so the client reads all of it and then its end;
// what the client still sends is read and dropped until it closes its
// side or is quiet for proxyCloseQuiet, for at most proxyCloseLinger,
// and only then is the connection closed: closing with the client's
// bytes unread would send a reset. On
// the proxy's shutdown (ctx done), or when the client does not read (a
// write failed), it closes at once. The flush's writes are bounded by
// --timeout each; the close_notify's by crypto/tls's own 5 s.
func (ps *proxySession) closeClient(ctx context.Context) {
	client, _ := ps.conns()
	defer client.Close()
	if ctx.Err() != nil {
		return
	}
	var bye []byte
	if ps.closeBye != "" {
		bye = []byte("* BYE " + ps.closeBye + "\r\n")
	}
	// The BYE is printed once the client has it (flushed): a client
	// that reads nothing got nothing, and the stall is printed instead
	// (serve).
	wrote, err := ps.toClient.finish(bye)
	if wrote {
		ps.traceOwn(bye)
	}
	if err != nil {
		return
	}
	raw := client
	if tc, ok := client.(*tls.Conn); ok {
		// The close_notify's write is bounded by crypto/tls itself, at
		// 5 s (it sets its own write deadline, over any set here), not
		// by --timeout.
		if tc.CloseWrite() != nil {
			return
		}
		raw = tc.NetConn()
	}
	cw, ok := raw.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	end := time.Now().Add(proxyCloseLinger)
	buf := make([]byte, 32<<10)
	for {
		d := time.Now().Add(proxyCloseQuiet)
		if d.After(end) {
			d = end
		}
		raw.SetReadDeadline(d)
		if _, err := raw.Read(buf); err != nil {
			return
		}
	}
}

// closeUpstreamWrite half-closes the current upstream connection, as the
// client's direction ends: the server reads the end of its input and ends
// the connection, and with it the server's direction, after it sent what
// it had to (a client that half-closed may still read it). Over TLS a
// close_notify goes first. Nothing else writes to the server by then; the
// write is bounded (upstreamConn: no progress for the --timeout), lest a
// server that does not read hold it.
func (ps *proxySession) closeUpstreamWrite() {
	_, s := ps.conns()
	// The server's direction may be waiting in a read: from now on it is
	// bounded (upstreamReader), that one too.
	ps.toClient.clientEnded() // first: a read that sees clientDone finds wrote set
	ps.clientDone.Store(true)
	ps.cfg.hooks.setReadDeadline(s, ps.cfg.hooks.clock()().Add(ps.silenceBound()))
	// The close_notify's write and the rest of what is written are
	// bounded by upstreamConn (no progress for the --timeout).
	if tc, ok := s.(*tls.Conn); ok {
		tc.CloseWrite()
		s = tc.NetConn()
	}
	if cw, ok := s.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		s.Close()
	}
}

// upstreamReader is c, the server's connection, as the server's
// direction reads it: once the client's direction has ended
// (clientDone), what is buffered for the client is flushed before each
// read (a client gone is found then), and the server must bring
// something the relay writes to the client (a line's end, a literal's
// header, a piece of a body or of a long line) within silenceBound of
// the last such write or of the client's end (the --timeout when the
// server owes no answer), else the read fails with errServerSilent. A
// server that ignores the half-close the proxy sends it after the
// client's end (closeUpstreamWrite) and stays silent held the session,
// its goroutines, both descriptors and a slot of --max-connections for
// as long as it kept the connection open; one that trickled a line a
// byte at a time within the bound of each read did as well, as the
// bytes of a line are written at its end (found by review). While the
// client is there, reads wait as long as the server is silent (an IDLE),
// and the finished lines buffered for it are flushed before each read
// (clientOut.beforeRead). Each read's bytes count as the server's progress for the proxy's own
// answers waiting on a line (clientOut.serverRead).
func (ps *proxySession) upstreamReader(c net.Conn) io.Reader {
	return &upstreamReader{ps: ps, c: c}
}

// rawUpstreamReader is upstreamReader for the relay after COMPRESS,
// which writes each read's bytes to the client at once (not through
// clientOut): once the client's direction has ended, each read alone
// must bring a byte within the --timeout.
func (ps *proxySession) rawUpstreamReader(c net.Conn) io.Reader {
	return &upstreamReader{ps: ps, c: c, raw: true}
}

type upstreamReader struct {
	ps  *proxySession
	c   net.Conn
	raw bool // after COMPRESS: each read bounded alone
}

// errServerSilent: the server sent nothing for silenceBound after the
// client's side ended.
var errServerSilent = errors.New("the client ended its side, and the server sent nothing")

// errServerLineUnended: the server sent bytes of a line, but nothing the
// relay could write to the client, for silenceBound after the client's
// side ended.
var errServerLineUnended = errors.New("the client ended its side, and the server's line did not end")

// proxyOwedAnswerWait bounds how long the server may send nothing once
// the client's side has ended while a command the client sent awaits
// its completion (wire.Dialog.Outstanding): the library's
// session.DefaultCommandTimeout (there the bound on a command's whole
// run; here on each stretch without a write to the client). A
// client that sends its commands and half-closes (nc -N, a script
// piping a batch) still reads the answers, and a command may take the
// server longer than --timeout (a SEARCH TEXT in a big mailbox, an
// EXPUNGE of many): before, its answer was cut at --timeout. (After
// COMPRESS the commands are not seen: --timeout applies.)
const proxyOwedAnswerWait = 15 * time.Minute

// silenceBound is how long, once the client's side has ended, the server
// may bring nothing the relay writes to the client (upstreamReader; after
// COMPRESS: no byte): --timeout when the server owes no answer,
// proxyOwedAnswerWait while a command awaits its completion.
func (ps *proxySession) silenceBound() time.Duration {
	if ps.dialog.Outstanding() {
		d := proxyOwedAnswerWait
		if h := ps.cfg.hooks; h != nil && h.owedAnswerSpeed > 1 {
			d /= h.owedAnswerSpeed // a test's (proxyHooks)
		}
		return d
	}
	return ps.writeBound()
}

func (r *upstreamReader) Read(p []byte) (int, error) {
	done := r.ps.clientDone.Load()
	partial := false // bytes were read since the last write to the client
	if r.raw {
		if done {
			r.ps.cfg.hooks.setReadDeadline(r.c, r.ps.cfg.hooks.clock()().Add(r.ps.silenceBound()))
		}
	} else {
		// Finished lines go to the client before the read waits
		// (whether or not the client's side has ended).
		since, read, err := r.ps.toClient.beforeRead()
		if err != nil {
			return 0, err
		}
		if done {
			partial = read
			r.ps.cfg.hooks.setReadDeadline(r.c, since.Add(r.ps.silenceBound()))
		}
	}
	n, err := r.c.Read(p)
	if n > 0 {
		r.ps.toClient.serverRead(n)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && (done || r.ps.clientDone.Load()) {
		e := errServerSilent
		if partial {
			e = errServerLineUnended
		}
		if r.ps.dialog.Outstanding() {
			err = fmt.Errorf("%w for %v while a command awaited its answer: closing", e, proxyOwedAnswerWait)
		} else {
			err = fmt.Errorf("%w for %v (--timeout): closing", e, r.ps.cfg.dialTimeout)
		}
	}
	return n, err
}

func (ps *proxySession) conns() (client, server net.Conn) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.client, ps.server
}

// clientToServerEnded ends the client's direction, whichever way it
// ended (the client's end at a line's end or in the middle of a literal,
// an error, after COMPRESS). A write to the server that stalled
// (upstreamConn) ends the connection, whichever write it was (a flush, a
// literal's body, the relay after COMPRESS): the server's direction would
// otherwise wait on a server that is no longer there for the client.
// Then the server is told (closeUpstreamWrite): otherwise one that waits
// for the rest of a literal, or an idle one, holds the upstream
// connection and both directions until its own timeout (Dovecot: 30
// minutes). That is a write too, a TLS server's close_notify, which a
// server that reads nothing stalls as well: it is checked again after
// (before, such a stall went untraced, and the connection waited for the
// server's direction's silence bound; found by review).
func (ps *proxySession) clientToServerEnded() {
	if ps.serverStallEnds() {
		ps.closeUpstreamWrite()
		return
	}
	ps.closeUpstreamWrite()
	ps.serverStallEnds()
}

// serverStallEnds traces a stalled write to the server and closes the
// connection, and reports whether it did.
func (ps *proxySession) serverStallEnds() bool {
	if !ps.serverStalled.Load() {
		return false
	}
	ps.logf(serverStallTrace, ps.cfg.dialTimeout)
	ps.closeAll()
	return true
}

// clientToServer relays and prints what the client sends.
func (ps *proxySession) clientToServer(ctx context.Context) {
	client, server := ps.conns()
	defer ps.clientToServerEnded()
	tk := wire.NewTokenizer(client, nil)
	w := bufio.NewWriterSize(server, 32<<10)
	var p printer
	p.prefix = fmt.Sprintf("[%d] C: ", ps.id)
	p.secrets = &ps.secrets
	var line []wire.Token
	var ev wire.Event
	start := true
	// secure: credentials may go upstream (TLS there, loopback, or the
	// user's explicit choice).
	secure := ps.cfg.upstream.tls || ps.cfg.insecurePlaintext || isLoopback(server)
	var lineStart int64 // where the current line began in the client's stream
	var litBytes int64  // the bodies of its literals relayed so far
	for {
		var err error
		if start {
			lineStart, litBytes = tk.Offset(), 0
		}
		line, err = tk.AppendUntilLiteral(line[:0])
		// A line of more than MaxLineTokens tokens comes in pieces: the
		// next call goes on with the same line.
		more := errors.Is(err, wire.ErrTooManyTokens)
		if more {
			err = nil
		}
		if err != nil {
			if errors.Is(err, wire.ErrSyntax) {
				// A line that does not tokenize is not relayed: the
				// server may read it otherwise than ForwardLine would
				// relay it (a "{n+}" after the error relayed as a
				// literal, its body a command the server runs, hidden
				// from the trace and from the credentials check).
				if !start {
					// Part of the command went upstream already: it
					// cannot be refused, and the rest may not be relayed.
					ps.logf("* client side: a command that does not tokenize after its first part: closing")
					ps.closeAll()
					return
				}
				// Even with no token: the Dialog counts the line, and
				// says whether the server reads it as text.
				if ps.dialog.WouldWait(line) {
					if err := w.Flush(); err != nil {
						ps.clientErr(err)
						return
					}
				}
				if ev, err = ps.dialog.ClientWait(ctx, line); err != nil {
					return
				}
				p.begin(ev.Kind == wire.LineSASL, ev.Command)
				start = false
				if ev.Raw {
					// The server reads the line as text: the proxy's
					// answer would not be the server's.
					ps.logf("* client side: a SASL or IDLE line that does not tokenize: closing")
					ps.closeAll()
					return
				}
				why := ""
				if len(line) > 0 {
					why = ps.refusal(ev, secure)
				}
				if why == "" {
					why = "BAD imapkit proxy: a line that cannot be tokenized is not relayed"
				}
				p.note("[redacted]")
				ps.out.line(p.refused())
				start = true
				// Commands relayed before it go out first: the client
				// may wait for their answers.
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
				if err := ps.refuseLine(tk, ev.Tag, why, lineStart); err != nil {
					ps.refuseFailed(err)
					ps.closeAll()
					return
				}
				continue
			}
			// What was read of an unfinished line is not relayed: it was
			// not classified (a LOGIN cut by a limit or by the client's
			// end would reach the server in part).
			ferr := w.Flush()
			if err != io.EOF {
				// (Closed: the other direction ended the connection,
				// after a LOGOUT say, and said why.)
				ps.clientErr(err)
				ps.closeAll()
				return
			}
			if ferr != nil {
				ps.clientErr(ferr)
			}
			// The client is done sending: let the server finish (the
			// deferred closeUpstreamWrite).
			return
		}
		if start {
			// A line sent during AUTHENTICATE or IDLE before the server's
			// word waits for it: it decides how the server reads the line;
			// and a command waits while 1,024 commands await their
			// completions. What is buffered goes out first: the word may
			// answer it.
			if ps.dialog.WouldWait(line) {
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
			}
			if ev, err = ps.dialog.ClientWait(ctx, line); err != nil {
				return
			}
			cmd := ev.Command
			if ev.Kind == wire.LineCommand && ev.Raw {
				// The server reads the line as the IDLE's answer, but a
				// confused client may have sent a command there: its
				// credentials are redacted all the same, and not sent
				// in the clear (the proxy cannot answer for the server,
				// which ends the IDLE on such a line: it closes).
				cmd = rawCommandName(line)
				if redactedCommand(cmd) && !secure {
					ps.logf("* client side: %s sent as the IDLE's answer, to an upstream in the clear: not relayed; closing", cmd)
					ps.closeAll()
					return
				}
			}
			p.begin(ev.Kind == wire.LineSASL, cmd)
			start = false
			why := ps.refusal(ev, secure)
			if why == "" && ev.Kind == wire.LineCommand {
				why = midLineRefusal(ev.Command, line)
			}
			if why == "" && ev.Kind == wire.LineCommand && !ev.Raw && tk.Offset()-lineStart > maxCommandLine {
				why = fmt.Sprintf("BAD imapkit proxy: a command line over %d bytes is not relayed", maxCommandLine)
			}
			if why != "" {
				p.tokens(line)
				ps.out.line(p.refused())
				// Commands relayed before it go out first: the client
				// may wait for their answers.
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
				if err := ps.refuse(tk, line, ev.Tag, why, lineStart); err != nil {
					ps.refuseFailed(err)
					ps.closeAll()
					return
				}
				start = true
				continue
			}
		}
		if ev.Kind == wire.LineCommand && !ev.Raw && tk.Offset()-lineStart-litBytes > maxCommandLine {
			// A later part of the line (the first part went up) takes it
			// past the bound: it cannot be refused any more.
			ps.logf("* client side: a command line over %d bytes (literals not counted): closing", maxCommandLine)
			ps.closeAll()
			return
		}
		if ev.Raw && tk.Offset()-lineStart > maxRawLine {
			// A SASL response or IDLE's answer: the server reads it as
			// text, but not without end, and what it does at its limit
			// differs (Cyrus 3.6 fails the AUTHENTICATE after 21,847
			// bytes of a response and runs the rest of the line as a
			// command; Dovecot closes the connection).
			ps.logf("* client side: a SASL response or IDLE answer of more than %d bytes: closing", maxRawLine)
			ps.closeAll()
			return
		}
		p.tokens(line)
		if more {
			if _, err := tk.Forward(w); err != nil {
				ps.clientErr(err)
				return
			}
			continue
		}
		last := line[len(line)-1]
		if last.Kind == wire.KindLiteral && ev.Raw && last.Literal().NonSync && redactedCommand(rawCommandName(line)) {
			// A LOGIN or AUTHENTICATE as IDLE's answer, ending in "{n+}":
			// the server reads the line as text and what follows as a
			// new command, but the client, taking it for a command, has
			// sent the literal's body behind it: a password, which would
			// be printed (and relayed) as a command line. The connection
			// closes. (Other such lines go on as the server reads them.)
			ps.logf("* client side: a %s ending in a non-synchronizing literal as the IDLE's answer: closing", rawCommandName(line))
			ps.closeAll()
			return
		}
		if last.Kind == wire.KindLiteral && ev.Raw {
			// A SASL response or IDLE's answer: the server reads it as
			// text, so "{n}" ends it, and no body follows.
			if _, err := tk.Forward(w); err != nil {
				ps.clientErr(err)
				return
			}
			if err := tk.RefuseLiteral(); err != nil {
				ps.clientErr(err)
				ps.closeAll()
				return
			}
			ps.out.line(p.end())
			start = true
			if err := w.Flush(); err != nil {
				ps.clientErr(err)
				return
			}
			continue
		}
		if last.Kind == wire.KindLiteral {
			// The server's word comes next: "+" or the command's
			// completion. The client sends a synchronizing literal's body
			// only if the server lets it: refused (APPEND's NO
			// [TRYCREATE]), its next line is a new command, not literal
			// data. A non-synchronizing literal goes to the server as
			// synchronizing, so that the server says whether it reads the
			// body (Dovecot runs the bytes after "a NOOP {18+}" as a
			// command of their own); its "+" is not relayed.
			lit := last.Literal()
			ps.out.line(p.cont())
			goAhead := false
			if ps.dialog.ExpectContinuation(lit) {
				if _, err := tk.ForwardAsSync(w); err != nil {
					ps.clientErr(err)
					return
				}
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
				if goAhead, err = ps.dialog.WaitContinuation(ctx); err != nil {
					return
				}
			} else {
				// The command was completed already (an APPEND's NO
				// after its first message): the server reads the rest
				// of its line to a synchronizing literal's header, or
				// this as a line without a tag, and no body.
				if _, err := tk.ForwardAsSync(w); err != nil {
					ps.clientErr(err)
					return
				}
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
			}
			if !goAhead {
				if lit.NonSync {
					// The client sent the body: it and the rest of the
					// command are dropped, as the server did not read them.
					err = tk.RefuseCommand(line)
					if errors.Is(err, wire.ErrSyntax) {
						// A rest that does not tokenize: dropped to
						// the line's end all the same.
						err = tk.RefuseLine()
					}
					p.note(" [dropped: the literal the client sent as {n+} and the rest of its command; the server refused it]")
					ps.out.line(p.end())
				} else {
					err = tk.RefuseLiteral()
				}
				if err != nil {
					ps.clientErr(err)
					ps.closeAll()
					return
				}
				start = true
				continue
			}
			var lw io.Writer = w
			var cw *captureWriter
			if p.secretLit {
				// A password sent as a literal: keep it to redact.
				if _, err := tk.Forward(w); err != nil {
					ps.clientErr(err)
					return
				}
				cw = &captureWriter{w: w, max: 1024}
				lw = cw
			}
			n, err := tk.ForwardLiteral(lw)
			if err != nil {
				ps.clientErr(err)
				return
			}
			litBytes += n
			if cw != nil {
				ps.secrets.add(cw.buf)
			}
			continue
		}
		wait := ev.Kind == wire.LineCommand && (ev.Command == "STARTTLS" || ev.Command == "COMPRESS")
		if wait {
			ps.mu.Lock()
			ps.awaiting = ev.Tag
			ps.mu.Unlock()
		}
		if _, err := tk.Forward(w); err != nil {
			ps.clientErr(err)
			return
		}
		ps.out.line(p.end())
		start = true
		// After AUTHENTICATE, IDLE or a SASL response, the next line may
		// wait in ClientWait for the server's answer to this one: it must
		// have gone out, though the client sent more behind it.
		answered := ev.Kind == wire.LineSASL || ev.Kind == wire.LineCommand && (ev.Command == "AUTHENTICATE" || ev.Command == "IDLE")
		if tk.ShouldFlush() || wait || answered {
			if err := w.Flush(); err != nil {
				ps.clientErr(err)
				return
			}
		}
		if !wait {
			continue
		}
		// The server's answer decides what the streams become.
		var res switchResult
		select {
		case res = <-ps.switched:
		case <-ctx.Done():
			return
		}
		if res.err != nil {
			return
		}
		if !res.ok {
			continue
		}
		if ev.Command == "COMPRESS" {
			// Bytes read ahead belong to the compressed stream.
			// Its errors are traced as before COMPRESS: a write to
			// the server that failed (*serverWriteError) as the
			// server's side, a read of the client as the client's
			// (clientErr; a stall by clientToServerEnded). Before,
			// they were dropped: a server's reset after COMPRESS was
			// traced nowhere (found by review).
			if b := tk.Detach(); len(b) > 0 {
				if _, err := server.Write(b); err != nil {
					ps.clientErr(err)
					return
				}
			}
			if _, err := io.Copy(server, client); err != nil {
				ps.clientErr(err)
			}
			return
		}
		client, server = res.client, res.server
		secure = true
		tk.Reset(client) // nothing read before the handshake is relayed
		w.Reset(server)
	}
}

// serverToClient relays and prints what the server sends, and carries out
// STARTTLS and COMPRESS when the server accepts them.
func (ps *proxySession) serverToClient(ctx context.Context) {
	_, server := ps.conns()
	tk := wire.NewTokenizer(ps.upstreamReader(server), nil)
	w := ps.toClient
	var p printer
	p.prefix = fmt.Sprintf("[%d] S: ", ps.id)
	p.redact = &ps.secrets
	var line []wire.Token
	var ev wire.Event
	start := true
	// cutLine prints the part of a line relayed before the relay ended
	// inside it (a hang-up, the proxy's own close, a failed write), which
	// p holds: before, it was not printed, and the trace left out the last
	// thing the client got. Not after the proxy's own BYE, which nothing
	// follows (errRelayClosed).
	cutLine := func(err error) {
		if errors.Is(err, errRelayClosed) {
			return
		}
		p.note(" [the connection ended inside this line]")
		ps.out.line(p.end())
	}
	for {
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		more := errors.Is(err, wire.ErrTooManyTokens) // the line goes on
		if more {
			err = nil
		}
		// A token that does not fit the line bound (a VANISHED (EARLIER)
		// or ESEARCH set of a million ranges, which the codec reads in
		// pieces), or text between two literals as long: the rest of the
		// line is relayed without tokenizing it, in pieces (below). Its
		// first tokens must be here, to tell the Dialog what the line is.
		long := errors.Is(err, wire.ErrLineTooLong) && tk.Broken() == nil && (!start || len(line) > 0)
		if long {
			err = nil
		}
		if err != nil {
			printed := false // the line was printed (a line that does not tokenize)
			if errors.Is(err, wire.ErrSyntax) {
				printed = true
				if start {
					// A line with no token read has no Event: not
					// the last line's.
					ev = wire.Event{}
					if len(line) > 0 {
						ev = ps.dialog.Server(line)
						p.begin(ev.Kind == wire.LineSASL, "")
						if ev.Stray {
							// Out of step ("zz9 OK{x"): as for a
							// line that tokenizes, nothing of it
							// is relayed. Before, it was relayed
							// unchanged and the relay went on.
							p.tokens(line)
							p.note(" [not tokenized]")
							ps.strayClose(&p, ev)
							return
						}
					}
					// The line's Event from the tokens read before the
					// error ("a1 OK\"x", "a1 OK{x": tokens a1 SP OK):
					// Unspaced, endServerLine does not switch.
					start = false
				}
				p.tokens(line)
				p.raw(p.sasl)
				err = tk.ForwardLongLine(w, maxServerLine)
				if !errors.Is(err, errRelayClosed) {
					// Not printed as relayed after the proxy's own
					// BYE: nothing reached the client (found by review).
					ps.out.line(p.end())
				}
				start = true
				if err == nil {
					// Flushed, as the line ends; a STARTTLS or
					// COMPRESS it completes is carried out (or
					// refused) as for a line that tokenizes: the
					// client's direction waits for it.
					if !ps.endServerLine(ctx, ev, tk, false) {
						return
					}
					continue
				}
			}
			if !printed {
				// The tokens read of an unfinished line are relayed:
				// printed as such.
				if start && len(line) > 0 {
					ev = ps.dialog.Server(line)
					p.begin(ev.Kind == wire.LineSASL, "")
					start = false
				}
				if !start {
					p.tokens(line)
				}
			}
			_, ferr := tk.Forward(w)
			if ferr == nil {
				ferr = w.Flush()
			}
			if !printed && !start {
				cutLine(ferr)
			}
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				ps.serverErr(err)
			}
			select {
			case ps.switched <- switchResult{err: err}:
			default:
			}
			return
		}
		if start {
			ev = ps.dialog.Server(line)
			p.begin(ev.Kind == wire.LineSASL, "")
			start = false
		}
		p.tokens(line)
		if ev.Stray {
			ps.strayClose(&p, ev)
			return
		}
		if long {
			// The rest of the line goes as it comes, given up as it goes
			// (the buffer does not grow); a literal at a line's end is
			// relayed as one, and what follows it too, to the line's end.
			var to io.Writer = w
			if ev.Withhold {
				to = io.Discard
			}
			if !p.sasl {
				// The start of what is not tokenized, as the printed
				// line's room allows: bytes already buffered, up to the
				// line's end; escaped and redacted as the rest.
				// As add, it takes slack bytes more than it prints,
				// and where it stops short of the line's end (what is
				// buffered, what PeekAt allows, the bound) the line is
				// cut: settle drops a credential's start there.
				var head []byte
				ended := false
				for i := 0; i < min(tk.Buffered(), maxPrinted+p.slack); i++ {
					c, err := tk.PeekAt(i)
					if err != nil {
						break
					}
					if c == '\r' || c == '\n' {
						ended = true
						break
					}
					head = append(head, c)
				}
				p.add(head)
				if !ended {
					p.cut = true
				}
			}
			from := tk.Offset()
			if err := tk.ForwardLongLine(to, maxServerLine); err != nil {
				if !errors.Is(err, errRelayClosed) {
					// After the proxy's own BYE nothing of the line
					// reached the client: not printed (found by review).
					ps.out.line(p.end())
				}
				ps.serverErr(err)
				select {
				case ps.switched <- switchResult{err: err}:
				default:
				}
				return
			}
			p.note(fmt.Sprintf(" [a token or text over %d bytes: the rest of the line, %d bytes, relayed without tokenizing]", tk.MaxLineLength(), tk.Offset()-from))
			ps.out.line(p.end())
			start = true
			if ev.Withhold {
				if err := w.endLine(tk.ShouldFlush()); err != nil {
					return
				}
				continue
			}
			// Over the line bound, which the codec shares: an
			// imapkit client reads the line as a DecodeError (line
			// too long), and a STARTTLS or COMPRESS it completes is
			// not carried out but closes, as for Event.Unspaced.
			if !ps.endServerLine(ctx, ev, tk, true) {
				return
			}
			continue
		}
		if ev.Withhold {
			// The "+" for a literal the client sent as non-synchronizing
			// (forwarded as synchronizing): the client expects none. A
			// "+" line announces no literal.
			if _, err := tk.Forward(io.Discard); err != nil {
				ps.serverErr(err)
				return
			}
			if more {
				giveUpForwarded(tk)
				continue
			}
			p.note(" [withheld: the go-ahead for a literal the client sent as {n+}, relayed as {n}]")
			ps.out.line(p.end())
			start = true
			// The lines before it were held for it (more was buffered):
			// they go now, as they would at the end of a relayed line.
			if err := w.endLine(tk.ShouldFlush()); err != nil {
				return
			}
			continue
		}
		if more {
			if _, err := tk.Forward(w); err != nil {
				cutLine(err)
				ps.serverErr(err)
				return
			}
			giveUpForwarded(tk)
			continue
		}
		if line[len(line)-1].Kind == wire.KindLiteral {
			if _, err := tk.ForwardLiteral(w); err != nil {
				cutLine(err)
				ps.serverErr(err)
				return
			}
			giveUpForwarded(tk)
			continue
		}
		if _, err := tk.Forward(w); err != nil {
			cutLine(err)
			ps.serverErr(err)
			return
		}
		ps.out.line(p.end())
		start = true
		if !ps.endServerLine(ctx, ev, tk, false) {
			return
		}
	}
}

// strayClose ends the relay on a server's line out of step (ev.Stray),
// at the line's start, nothing of it relayed: the server reads something
// as a literal (or a SASL response) that the proxy relayed as commands.
// The client gets what was relayed before this line, then a BYE of the
// proxy's own, then the connection's end (closeClient). p holds what is
// printed of the line; it is marked as not relayed (before, a line that
// tokenized was printed as a line relayed, "S: zz9 OK done", though the
// client never had it).
func (ps *proxySession) strayClose(p *printer, ev wire.Event) {
	p.note(" [out of step: not relayed]")
	ps.out.line(p.end())
	ps.closeBye = "imapkit proxy: the server's answers are out of step with the client's commands; closing"
	if ev.Kind == wire.LineCompletion {
		ps.logf("* server side: the completion of a command the proxy did not relay as one: the proxy and the server read the client differently; closing")
	} else {
		ps.logf("* server side: a \"+\" that answers nothing the client sent: the proxy and the server read the client differently; closing")
	}
	ps.closeAll()
}

// endServerLine ends a server's line relayed whole (ev is its Event): it
// flushes when it should, and carries out a STARTTLS or COMPRESS the line
// completes. An OK that completes one with Event.Unspaced set, or on a
// line over the tokenizer's line bound (overLong: relayed in pieces), the
// codec reads as a DecodeError: an imapkit client does not switch, while
// the server may, and the connection is closed instead. It reports
// whether the server's direction goes on.
func (ps *proxySession) endServerLine(ctx context.Context, ev wire.Event, tk *wire.Tokenizer, overLong bool) bool {
	w := ps.toClient
	sw := ev.Kind == wire.LineCompletion && (ev.Command == "STARTTLS" || ev.Command == "COMPRESS") && ps.takeAwaiting(ev.Tag)
	if err := w.endLine(tk.ShouldFlush() || sw); err != nil {
		return false
	}
	if !sw {
		return true
	}
	if ev.Status != "OK" {
		ps.switched <- switchResult{}
		return true
	}
	if ev.Unspaced || overLong {
		// The server switches, the client (reading the line as an
		// error) does not: neither can be followed. The codec's line
		// bound is the proxy tokenizer's (the default).
		why := "does not parse as OK (expected SP or the line's end after OK)"
		if overLong {
			why = fmt.Sprintf("is over the line bound of %d bytes (a client reads it as an error)", tk.MaxLineLength())
		}
		err := fmt.Errorf("the completion of %s %s, while the server may take it up: closing", ev.Command, why)
		ps.logf("* server side: %v", err)
		ps.closeAll()
		select {
		case ps.switched <- switchResult{err: err}:
		default:
		}
		return false
	}
	client, server := ps.conns()
	if ev.Command == "COMPRESS" {
		ps.logf("* COMPRESS=DEFLATE active: relaying the rest of the connection without decoding it")
		ps.switched <- switchResult{ok: true}
		// The relay's errors are traced as the other lines': a write
		// to the client as the client's side (clientWriteError), a
		// read of the server (a reset, the silence bound after the
		// client's end: errServerSilent) as the server's. Before, the
		// copy's error was dropped: a connection cut at the silence
		// bound, or by the server's reset, ended with no word of why
		// (found by review).
		cw := clientErrWriter{ps.clientWriter(client)}
		if b := tk.Detach(); len(b) > 0 {
			if _, err := cw.Write(b); err != nil {
				ps.serverErr(err)
				return false
			}
		}
		if _, err := io.Copy(cw, ps.rawUpstreamReader(server)); err != nil {
			ps.serverErr(err)
		}
		return false
	}
	// STARTTLS: a TLS layer on both sides, then on.
	nc, ns, err := ps.startTLS(ctx, client, server)
	if err != nil {
		ps.logf("* STARTTLS: %v", err)
		select {
		case ps.switched <- switchResult{err: err}:
		default:
		}
		return false
	}
	ps.logf("* STARTTLS: TLS on both sides")
	ps.mu.Lock()
	ps.client, ps.server = nc, ns
	ps.mu.Unlock()
	tk.Reset(ps.upstreamReader(ns)) // nothing read before the handshake is relayed
	w.reset(ps.clientWriter(nc))
	ps.switched <- switchResult{ok: true, client: nc, server: ns}
	return true
}

// maxServerLine bounds what the relay passes on of a server's line
// without tokenizing it (from the last point where it was cut into
// pieces: a token or a status response's text longer than the line
// bound, the text between two literals, a line that does not tokenize),
// literal bodies not counted. Such a line is relayed in pieces, in a
// buffer that does not grow. It is 16 bytes for each of the
// codec.DefaultMaxNumbers numbers the library decodes of one answer with
// its default options (32 MiB): a SEARCH or SORT of 2,097,152 numbers of
// up to 10 digits is 23 MB, as is an ESEARCH's ALL or a VANISHED of
// 1,048,576 ranges. Before, the bound was the tokenizer's 1 MiB, and a
// VANISHED (EARLIER) of 1.4 MB that the library reads closed the relay.
const maxServerLine = 16 * codec.DefaultMaxNumbers

// giveUpForwarded gives up the bytes of the current line that were
// consumed, all forwarded and printed already (Drop, then Keep at once:
// MaxLineLength counts from here). MaxLineLength bounds what a line keeps
// in memory, and the relay keeps nothing of what it passed on: a server's
// line longer than 1 MiB (the SEARCH answer of 300,000 UIDs, 2.4 MB) is
// relayed in pieces in a buffer that does not grow, where it closed the
// connection. A piece is at most MaxLineTokens tokens, and the line's
// text between two literals at most MaxLineLength.
func giveUpForwarded(tk *wire.Tokenizer) {
	tk.Drop()
	tk.Keep()
}

// maxRawLine bounds a line the server reads as text (a SASL response, the
// line that answers IDLE) that the proxy relays: it is under the shortest
// limit a server was seen to apply before reading the rest of the line as
// a command (Cyrus 3.6: 21,847 bytes of a SASL response). A GSSAPI token
// longer than that would not get through Cyrus either.
const maxRawLine = 16 << 10

// midLineRefusal returns why the proxy refuses a command that a server
// answers before reading its whole line and then runs the rest of that
// line as a new command, unless its shape leaves nothing there a server
// could run: Cyrus 3.6 refuses SETQUOTA and UNDUMP (from a user who is no
// admin) and XWARMUP after their first argument. A SETQUOTA whose second
// argument is its parenthesised list is let through: what follows the
// first argument begins with "(", no command's tag. line is the command's
// first part (to its end or its first literal).
func midLineRefusal(command string, line []wire.Token) string {
	switch command {
	case "UNDUMP", "XWARMUP":
		return "BAD imapkit proxy: " + command + " is not relayed (Cyrus may run the rest of its line as a command)"
	case "SETQUOTA":
		// The two words after the command's name (the tag may be several
		// tokens; a tag that reads SETQUOTA makes this stricter, not
		// laxer).
		var args []wire.Token
		seen := false
		for _, tok := range line {
			switch {
			case tok.Kind == wire.KindSP || tok.Kind == wire.KindCRLF:
			case !seen:
				seen = tok.Kind == wire.KindAtom && strings.EqualFold(string(tok.Bytes()), "SETQUOTA")
			case len(args) < 2:
				args = append(args, tok)
			}
		}
		if len(args) < 2 || args[0].Kind == wire.KindLiteral || args[1].Kind != wire.KindLParen {
			return "BAD imapkit proxy: SETQUOTA is relayed only as SETQUOTA root (resource limit ...)"
		}
	}
	return ""
}

// maxCommandLine bounds a command line the proxy relays, literal bodies
// not counted: under Dovecot 2.3's limit (65,536 bytes), past which its
// APPEND parser ends the command where it stands and runs the rest of the
// line as a new command. Dovecot refuses longer lines of other commands
// anyway; Cyrus takes words of up to 128 KiB.
const maxCommandLine = 64000

// maxTag bounds the tag of a command the proxy relays, and maxCommandName
// its name: the Dialog keeps both for each command that awaits its
// completion, up to 1,024 of them, and a command line may be 64,000 bytes
// (maxCommandLine), which made 65 MiB per connection for a client that
// pipelined commands with long tags. RFC 3501 and 9051 set no bound on a
// tag (1*<any ASTRING-CHAR except "+">); clients use a few bytes ("A0001",
// imaplib's "ABCD1"), and no command name is longer than a few words. With
// the bounds, what the Dialog keeps is under 330 KiB. A longer tag or name
// gets a BAD from the proxy (its own entry in the Dialog ends at once).
const (
	maxTag         = 256
	maxCommandName = 64
)

// takeAwaiting reports whether the client's direction waits on the
// STARTTLS or COMPRESS tagged tag, and stops it waiting for another.
func (ps *proxySession) takeAwaiting(tag string) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.awaiting == "" || ps.awaiting != tag {
		return false
	}
	ps.awaiting = ""
	return true
}

// refusal returns why the proxy answers the client's command itself
// instead of relaying it, or "" to relay it: credentials in the clear to
// an upstream that is neither on loopback nor behind TLS, or a STARTTLS
// the proxy has no certificate for.
func (ps *proxySession) refusal(ev wire.Event, secure bool) string {
	if ev.Kind != wire.LineCommand || ev.Raw {
		return ""
	}
	if ev.Tag == "" {
		// Servers answer "* BAD" and run nothing (Dovecot: "Invalid
		// tag"), but may leave a literal on such a line unanswered,
		// neither "+" nor a completion, and the relay waiting for their
		// word; and credentials on it would go upstream for nothing.
		return "BAD imapkit proxy: a line without a tag is not a command"
	}
	if len(ev.Tag) > maxTag {
		return fmt.Sprintf("BAD imapkit proxy: a tag over %d bytes is not relayed", maxTag)
	}
	if len(ev.Command) > maxCommandName {
		return fmt.Sprintf("BAD imapkit proxy: a command name over %d bytes is not relayed", maxCommandName)
	}
	if ev.Command == "" {
		// A tag alone, or no command name after it where the line's first
		// piece ends: Cyrus answers "* BAD" and never completes it (the
		// Dialog would wait for that completion), and a command name in a
		// later piece would go unchecked.
		return "BAD imapkit proxy: no command name"
	}
	switch ev.Command {
	case "LOGIN", "AUTHENTICATE":
		if !secure {
			return "[PRIVACYREQUIRED] imapkit proxy: not relaying credentials in plaintext to " + ps.cfg.upstream.addr +
				": use STARTTLS first (or start the proxy with --insecure-plaintext)"
		}
	case "STARTTLS":
		if ps.cfg.downTLS == nil {
			return "imapkit proxy: no certificate to offer STARTTLS with (start the proxy with --self-signed or --cert/--key)"
		}
	}
	return ""
}

// refuse answers a command the proxy does not relay with a tagged NO.
// line is the command up to its end or its first literal. It reads the
// rest of the command without relaying it: the bodies of non-synchronizing
// literals are read and dropped; at a synchronizing literal, the NO goes
// instead of the "+" the client waits for, so that no body follows, and
// the literal ends there (RefuseLiteral).
//
// When the rest of the command does not tokenize (a quoted password with a
// backslash the client did not escape), the answer goes all the same and
// the rest of the line is dropped as RefuseLine drops it.
//
// A refused command is read no further than maxRefusedCommand bytes from
// its start (at lineStart in the client's stream): past it, the error
// matches wire.ErrLineTooLong (see refuseFailed).
func (ps *proxySession) refuse(tk *wire.Tokenizer, line []wire.Token, tag, why string, lineStart int64) error {
	room := refusedRoom(tk, lineStart)
	err := tk.RefuseCommandMax(line, room)
	if err != nil && !errors.Is(err, wire.ErrSyntax) {
		return refusedBound(err, room)
	}
	if ierr := ps.injectAnswer(ps.answer(tag, why)); ierr != nil {
		return ierr
	}
	if err != nil {
		room = refusedRoom(tk, lineStart)
		return refusedBound(tk.RefuseLineMax(room), room)
	}
	return nil
}

// errRefusedTooLong marks a refused command that went past
// maxRefusedCommand (refusedBound), told apart from a token or a line
// over the tokenizer's MaxLineLength in it, which also matches
// wire.ErrLineTooLong.
var errRefusedTooLong = errors.New("refused command too long")

// refusedBound marks err with errRefusedTooLong when it is the bound room
// given to RefuseCommandMax or RefuseLineMax (its *wire.LimitError's
// Limit), not the tokenizer's own MaxLineLength.
func refusedBound(err error, room int64) error {
	var le *wire.LimitError
	if errors.As(err, &le) && errors.Is(err, wire.ErrLineTooLong) && le.Limit == room {
		return fmt.Errorf("%w: %w", errRefusedTooLong, err)
	}
	return err
}

// maxRefusedCommand bounds what the proxy reads of a command it refuses
// (literal bodies included), which goes nowhere: past it the proxy
// answers "* BYE" and closes the connection. Without it, a client that
// never ended a refused command (a line of tokens without end, or
// non-synchronizing literals without end) kept its reader busy for ever,
// in bounded memory. It bounds CPU, not memory (the command is dropped as
// it is read, in a buffer that does not grow): it is maxServerLine's 32
// MiB, so that a legal long command the proxy refuses (a SEARCH of
// 150,000 criteria, 1.2 MB) gets its BAD and the session goes on, as it
// did before the bound (with the tokenizer's 1 MiB, it got "* BYE"). The
// bound is checked before each piece is read, so up to one piece more
// (MaxLineLength, 1 MiB) is read.
const maxRefusedCommand = maxServerLine

// refusedRoom is what may still be read of a refused command that began
// at lineStart.
func refusedRoom(tk *wire.Tokenizer, lineStart int64) int64 {
	return max(maxRefusedCommand-(tk.Offset()-lineStart), 0)
}

// refuseFailed ends a connection whose refused command could not be read
// to its end: past maxRefusedCommand, or with a token (or a line that
// does not tokenize) over the tokenizer's MaxLineLength in it, the client
// is told with a BYE that says which.
func (ps *proxySession) refuseFailed(err error) {
	var le *wire.LimitError
	switch {
	case errors.Is(err, errRefusedTooLong):
		ps.logf("* client side: a refused command of more than %d bytes: closing", maxRefusedCommand)
		ps.bye(fmt.Sprintf("imapkit proxy: a refused command of more than %d bytes: closing", maxRefusedCommand))
	case errors.Is(err, wire.ErrLineTooLong) && errors.As(err, &le):
		ps.logf("* client side: a refused command with a token or line of more than %d bytes: closing", le.Limit)
		ps.bye(fmt.Sprintf("imapkit proxy: a refused command with a token or line of more than %d bytes: closing", le.Limit))
	case errors.Is(err, errServerStalled):
		ps.stalledMidLine()
	default:
		ps.logf("* client side: %s", errText(err))
	}
	ps.closeAll()
}

// stalledMidLine prints why the connection closes when an answer of the
// proxy's own waited for a server's line that made no progress for
// --timeout (errServerStalled). No BYE can go: it would land inside the
// server's line; the client gets what was relayed, then the connection's
// end.
func (ps *proxySession) stalledMidLine() {
	ps.logf("* server side: sent nothing more of its line for %v while the proxy had an answer for the client (--timeout): closing", ps.cfg.dialTimeout)
}

// bye sends the client an untagged BYE of the proxy's own: the last line
// the client gets (clientOut.ended). It is printed once sent (flushed):
// before, it was printed first, and printed all the same when the client
// read nothing or the server's direction had ended (not written at all).
func (ps *proxySession) bye(text string) {
	line := []byte("* BYE " + text + "\r\n")
	err := ps.toClient.injectLast(line)
	if err == nil {
		ps.traceOwn(line)
	} else if errors.Is(err, errServerStalled) {
		ps.stalledMidLine()
	}
}

// serverErr prints the error that ends the server's direction, unless it
// is the client's side closed by the proxy's own BYE (errRelayClosed), or
// the connection is closing already (closeAll: the upstream it closed),
// as clientErr does: whoever closed said why. Before, the stall close
// was followed by "* server side: read tcp ...: use of closed network
// connection". A write to the client that failed (*clientWriteError) is
// the client's side, not the server's: a write that timed out is printed
// by serve (stalled), others as "* client side: ...".
func (ps *proxySession) serverErr(err error) {
	if errors.Is(err, errRelayClosed) || ps.stopping.Load() || errors.Is(err, net.ErrClosed) {
		return
	}
	var cw *clientWriteError
	if errors.As(err, &cw) {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			ps.logf("* client side: %s", errText(cw.err))
		}
		return
	}
	ps.logf("* server side: %s", errText(err))
}

// clientWriteError is a write to the client that failed in the server's
// direction (clientOut's Write and Flush), told apart from the server's
// errors in the trace.
type clientWriteError struct{ err error }

func (e *clientWriteError) Error() string { return e.err.Error() }
func (e *clientWriteError) Unwrap() error { return e.err }

// clientErrWriter is w with its errors as clientWriteError: the relay
// after COMPRESS (io.Copy), whose error may be the read's or the write's.
type clientErrWriter struct{ w io.Writer }

func (w clientErrWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	return n, clientWriteErr(err)
}

// clientWriteErr wraps a write error of the client's side, nil as nil.
func clientWriteErr(err error) error {
	if err == nil {
		return nil
	}
	return &clientWriteError{err}
}

// traceOwn prints a line of the proxy's own to the client.
func (ps *proxySession) traceOwn(line []byte) {
	var p printer
	p.prefix = fmt.Sprintf("[%d] P: ", ps.id)
	p.begin(false, "")
	p.add(bytes.TrimSuffix(line, []byte("\r\n")))
	ps.out.line(p.end())
}

// errText is err as the trace prints it: a *wire.SyntaxError without its
// excerpt of the input, which may be a password (a LOGIN's rest that does
// not tokenize); only its offset and what was expected are kept.
func errText(err error) string {
	var se *wire.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("a line that does not tokenize (at offset %d: expected %s)", se.Offset, se.Expected)
	}
	return err.Error()
}

// refuseLine is refuse for a line that does not tokenize: the answer goes
// first, then the rest of the line is read and dropped.
func (ps *proxySession) refuseLine(tk *wire.Tokenizer, tag, why string, lineStart int64) error {
	if err := ps.injectAnswer(ps.answer(tag, why)); err != nil {
		return err
	}
	room := refusedRoom(tk, lineStart)
	return refusedBound(tk.RefuseLineMax(room), room)
}

// answer returns the proxy's answer line and lets the Dialog see it
// (injectAnswer sends and prints it).
func (ps *proxySession) answer(tag, why string) []byte {
	if tag == "" {
		tag = "*"
	}
	if !strings.HasPrefix(why, "BAD ") {
		why = "NO " + why
	}
	answer := []byte(tag + " " + why + "\r\n")
	// The Dialog saw the command: it is complete (by its own entry, not
	// by its tag, which an earlier command the server has yet to answer
	// may share).
	ps.dialog.Answered()
	return answer
}

// injectAnswer sends the client an answer of the proxy's own (answer),
// and prints it once sent: before, it was printed first, and printed all
// the same when it could not be sent (a server stalled mid-line, the
// connection closing).
func (ps *proxySession) injectAnswer(answer []byte) error {
	if err := ps.toClient.inject(answer); err != nil {
		return err
	}
	ps.traceOwn(answer)
	return nil
}

// clientOut is the client's side of a connection, written by the server's
// direction and, between the server's lines, by the proxy's own answers to
// commands it does not relay. The server's direction writes through it
// (Write, Flush) and calls endLine at the end of each line; inject waits
// for a line's end so that an answer never lands inside a server's line.
type clientOut struct {
	mu      sync.Mutex
	cond    sync.Cond
	w       *bufio.Writer
	midLine bool // the server's direction has written part of a line
	closed  bool // the server's direction is done
	// ended: the proxy's BYE went to the client (injectLast): nothing
	// is written after it (Write, Flush and endLine fail with
	// errRelayClosed, finish sends no second BYE). Before, the server's
	// direction went on relaying what it had read (and read until
	// closeAll closed the upstream) after a BYE the client's direction
	// sent.
	ended bool
	// read counts the server's bytes read (upstreamReader, serverRead):
	// put tells a server's line that goes on slowly from one that stalled
	// by it. Before, it counted the bytes written to the client (Write),
	// which after a literal stop while the tokenizer holds the rest of the
	// line (up to the next literal or the line's end, up to 1 MiB): a
	// server sending that rest slowly but steadily, with no stretch of
	// --timeout without a byte, was taken for stalled and the connection
	// closed.
	read int64
	// stall bounds how long put waits, mid-line, for the server to send
	// more of its line (the --timeout): past it put fails with
	// errServerStalled. Before, it waited for as long as the server kept
	// the connection open, and the client's commands that the proxy
	// answers itself got no answer.
	stall time.Duration
	// clientEnd: the client's side has ended (clientEnded): what is
	// buffered is flushed before each read from the server (beforeRead),
	// so that a client gone is found at that write (a reset, then EPIPE)
	// while the writes of what one read brought are batched. Before, a
	// literal's body went into the 32 KiB buffer unflushed, and a server
	// trickling it (a byte every 29 s stays within --timeout) held a gone
	// client's session, both descriptors and a --max-connections slot
	// until the buffer filled: for days; then each Write was flushed,
	// a write per line (5 times slower for many short lines: found by
	// review).
	clientEnd bool
	// wrote is when the server's direction last wrote to the client (or
	// the client's end), once clientEnd is set; wroteRead is read then.
	wrote     time.Time
	wroteRead int64
	// finished: what is buffered holds the end of a server's line
	// (endLine without a flush: more of the server's bytes were buffered
	// then, ShouldFlush). It is flushed before the next read from the
	// server (beforeRead), which may wait: before, while the client was
	// there, a finished line stayed buffered for as long as the next
	// line was not finished (a server sending "* 1 EXISTS\r\n* 2 EX" and
	// then pausing held the EXISTS from the client until the next line's
	// end; found by review).
	finished bool
	// hooks are the run's test settings (proxyHooks; nil: none).
	hooks *proxyHooks
}

// newClientOut returns the client's side writing to c; stall bounds how
// long an answer of the proxy's own waits for a server's line that makes
// no progress (put).
func newClientOut(c io.Writer, stall time.Duration) *clientOut {
	o := &clientOut{w: bufio.NewWriterSize(c, 32<<10), stall: stall}
	o.cond.L = &o.mu
	return o
}

// Write buffers the server's bytes.
func (o *clientOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return 0, errRelayClosed
	}
	o.midLine = true
	if o.clientEnd && len(p) > 0 {
		o.wrote, o.wroteRead = o.now(), o.read
	}
	n, err := o.w.Write(p)
	return n, clientWriteErr(err)
}

// clientEnded tells o that the client's side has ended (its EOF, or its
// direction failed): from then on what is buffered is flushed before
// each read from the server (beforeRead).
func (o *clientOut) clientEnded() {
	o.mu.Lock()
	if !o.clientEnd {
		o.clientEnd = true
		o.wrote, o.wroteRead = o.now(), o.read
	}
	o.mu.Unlock()
}

// beforeRead is called before each read from the server, which may wait.
// It flushes what is buffered for the client when that holds the end of a
// server's line (finished), so that a finished line reaches the client
// before the proxy waits on the server for the next; once the client's
// side has ended, whatever is buffered, so that a client gone is found at
// that write. The lines one read brought still go in one write. It
// returns when the server's direction last wrote to the client (or the
// client's end) and whether bytes were read from the server since (a
// line under way that wrote nothing yet): upstreamReader uses them once
// the client's side has ended.
func (o *clientOut) beforeRead() (wrote time.Time, read bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ended && o.w.Buffered() > 0 && (o.clientEnd || o.finished) {
		o.finished = false
		if err := o.w.Flush(); err != nil {
			return o.wrote, false, clientWriteErr(err)
		}
	}
	return o.wrote, o.read != o.wroteRead, nil
}

// serverRead records n bytes read from the server: progress of the line
// that put may be waiting for.
func (o *clientOut) serverRead(n int) {
	o.mu.Lock()
	o.read += int64(n)
	o.mu.Unlock()
	if o.hooks != nil && o.hooks.serverRead != nil {
		o.hooks.serverRead()
	}
}

// now is o's clock (proxyHooks.clock).
func (o *clientOut) now() time.Time { return o.hooks.clock()() }

// Flush sends what is buffered (ForwardLiteral calls it before a body).
func (o *clientOut) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return errRelayClosed
	}
	return clientWriteErr(o.w.Flush())
}

// endLine marks the end of a server's line, flushing when asked, and lets
// a waiting inject go.
func (o *clientOut) endLine(flush bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.midLine = false
	o.cond.Broadcast()
	if o.ended {
		return errRelayClosed
	}
	if flush {
		o.finished = false
		return o.w.Flush()
	}
	o.finished = o.w.Buffered() > 0
	return nil
}

// reset moves the writer to the new layer after STARTTLS.
func (o *clientOut) reset(c io.Writer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Reset(c)
}

// close ends the server's direction: inject fails from now on.
func (o *clientOut) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.cond.Broadcast()
}

// finish sends what is buffered for the client, then bye (nil: none) if
// the server's direction ended at a line's end (a BYE never lands inside
// a server's line). It is called once that direction and the proxy's
// answers are done (close). It reports whether bye was sent: written and
// flushed. Before, it reported a bye that went into the buffer, whatever
// the flush after it returned, and the trace printed a BYE the client
// never had.
func (o *clientOut) finish(bye []byte) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	queued := false
	if bye != nil && !o.midLine && !o.ended {
		if _, err := o.w.Write(bye); err != nil {
			return false, err
		}
		queued = true
	}
	if err := o.w.Flush(); err != nil {
		return false, err
	}
	return queued, nil
}

// errRelayClosed reports an answer the client can no longer get.
var errRelayClosed = errors.New("the connection is closing")

// inject writes one line of the proxy's own to the client, between two of
// the server's lines, and flushes it.
func (o *clientOut) inject(line []byte) error {
	return o.put(line, false)
}

// injectLast is inject for the proxy's BYE: nothing is written to the
// client after it (ended), whether or not it could be sent.
func (o *clientOut) injectLast(line []byte) error {
	return o.put(line, true)
}

// errServerStalled reports an answer of the proxy's own that could not
// be written: the server's direction is in the middle of a line (an
// answer there would land inside it), and the server sent nothing more
// of it for clientOut.stall.
var errServerStalled = errors.New("the server stalled in the middle of a line")

func (o *clientOut) put(line []byte, last bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.midLine && !o.closed {
		// Wait for the line's end while the server makes progress: a
		// long literal that comes slowly is waited for, a server that
		// stopped in the middle of its line is not.
		fired := false
		fire := func() {
			o.mu.Lock()
			fired = true
			o.cond.Broadcast()
			o.mu.Unlock()
		}
		var reset, stop func()
		if o.hooks != nil && o.hooks.putClock != nil {
			reset, stop = o.hooks.putClock(fire) // a test's (proxyHooks)
		} else {
			t := time.AfterFunc(o.stall, fire)
			reset = func() { t.Reset(o.stall) }
			stop = func() { t.Stop() }
		}
		defer stop()
		seen := o.read
		for o.midLine && !o.closed {
			if fired {
				if o.read == seen {
					return errServerStalled
				}
				seen, fired = o.read, false
				reset()
			}
			o.cond.Wait()
		}
	}
	if o.closed || o.ended {
		return errRelayClosed
	}
	o.ended = last
	if _, err := o.w.Write(line); err != nil {
		return err
	}
	return o.w.Flush()
}

// startTLS does the two handshakes of a STARTTLS the server accepted.
func (ps *proxySession) startTLS(ctx context.Context, client, server net.Conn) (net.Conn, net.Conn, error) {
	if ps.cfg.downTLS == nil {
		return nil, nil, errors.New("the client asked for STARTTLS but the proxy has no certificate (--self-signed or --cert/--key)")
	}
	hctx, cancel := context.WithTimeout(ctx, ps.cfg.dialTimeout)
	defer cancel()
	// The handshakes are bounded by hctx; the client's write deadline
	// left by the last relayed write (clientWriter: that write's start
	// plus the bound) would cut the proxy's handshake short of it. (The
	// server's writes get a deadline each, upstreamConn.)
	client.SetWriteDeadline(time.Time{})
	ts := tls.Client(server, ps.cfg.upstreamTLS)
	errc := make(chan error, 1)
	go func() { errc <- ts.HandshakeContext(hctx) }()
	tc := tls.Server(client, ps.cfg.downTLS)
	err := tc.HandshakeContext(hctx)
	if serr := <-errc; err == nil && serr != nil {
		err = fmt.Errorf("upstream: %w", serr)
	} else if err != nil {
		err = fmt.Errorf("client: %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	return tc, ts, nil
}

// printer renders the lines of one direction, with credentials redacted:
// LOGIN's password, AUTHENTICATE's initial response and every line of a
// SASL exchange.
type printer struct {
	prefix  string
	buf     []byte
	sasl    bool   // the whole line is redacted
	command string // the client's command, for LOGIN and AUTHENTICATE
	word    int    // words of the line so far (the tag is word 0)
	// secrets, on the client's side, records what is redacted, so that
	// the server's echo of it can be redacted too.
	secrets *secretSet
	// secretLit: the line so far ends in a literal that is redacted.
	secretLit bool
	// redact, on the server's side, holds the client's credentials, to
	// be redacted from the line before it is cut at maxPrinted: add keeps
	// slack bytes more (the longest credential's printed form), so that
	// a credential across the cut is whole when it is redacted.
	redact *secretSet
	slack  int
	cut    bool // add dropped some of the line
	// settled: the line's content was redacted and cut (settle); only the
	// proxy's notes follow.
	settled bool
}

// maxPrinted bounds one printed line.
const maxPrinted = 4096

func (p *printer) begin(sasl bool, command string) {
	p.buf = append(p.buf[:0], p.prefix...)
	p.sasl, p.command, p.word, p.secretLit = sasl, command, 0, false
	p.cut, p.settled = false, false
	p.slack = 0
	if p.redact != nil {
		p.slack = p.redact.longest()
	}
}

// settle ends the line's content: the credentials in it are redacted,
// then it is cut at maxPrinted (at a character's start).
func (p *printer) settle() {
	if p.settled {
		return
	}
	p.settled = true
	if p.redact != nil {
		if p.cut {
			// A credential across the cut is there in part, which
			// redact (of whole credentials) would not find.
			p.buf = p.buf[:p.redact.cutPartial(p.buf, len(p.prefix))]
		}
		p.buf = p.redact.redact(p.buf)
	}
	if len(p.buf) > maxPrinted {
		i := maxPrinted
		for i > 0 && !utf8.RuneStart(p.buf[i]) {
			i--
		}
		p.buf = p.buf[:i]
		p.cut = true
	}
}

// note appends the proxy's own words about the line, after its content.
func (p *printer) note(s string) {
	p.settle()
	p.buf = append(p.buf, s...)
}

// rawCommandName returns the name of the command that line (the first
// part of a line the server reads as text) would be read as, in upper
// case: the atom after its first word; "" when there is none.
func rawCommandName(line []wire.Token) string {
	i := 0
	for i < len(line) && line[i].Kind == wire.KindSP {
		i++
	}
	for i < len(line) && line[i].Kind != wire.KindSP && line[i].Kind != wire.KindCRLF {
		i++
	}
	if i+1 < len(line) && line[i].Kind == wire.KindSP && line[i+1].Kind == wire.KindAtom {
		return strings.ToUpper(string(line[i+1].Bytes()))
	}
	return ""
}

// redactedCommand reports whether the command's arguments after the first
// are secret.
func redactedCommand(cmd string) bool { return cmd == "LOGIN" || cmd == "AUTHENTICATE" }

// tokens appends a line's tokens (or the part of it up to a literal).
func (p *printer) tokens(line []wire.Token) {
	if p.sasl {
		n := 0
		for _, tok := range line {
			if tok.Kind != wire.KindCRLF {
				n += len(wire.AppendToken(nil, tok))
				p.secret(tok)
			}
		}
		p.buf = append(p.buf, "[SASL data redacted, "...)
		p.buf = strconv.AppendInt(p.buf, int64(n), 10)
		p.buf = append(p.buf, " bytes]"...)
		return
	}
	for _, tok := range line {
		switch tok.Kind {
		case wire.KindCRLF:
			continue
		case wire.KindSP:
			p.add([]byte{' '})
			continue
		}
		p.secretLit = false
		if p.word >= 3 && redactedCommand(p.command) {
			p.add([]byte("***"))
			p.secret(tok)
			p.secretLit = tok.Kind == wire.KindLiteral
		} else if tok.Kind == wire.KindLiteral {
			info := tok.Literal()
			p.add([]byte("{" + strconv.FormatInt(info.Size, 10) + " bytes}"))
		} else {
			p.add(wire.AppendToken(nil, tok))
		}
		if p.word == 0 || tok.Kind != wire.KindLParen && tok.Kind != wire.KindLBracket {
			p.word++
		}
	}
}

// secret records a redacted token's value, when the printer keeps them.
func (p *printer) secret(tok wire.Token) {
	if p.secrets != nil && tok.Kind != wire.KindLiteral {
		p.secrets.add(tok.Bytes())
	}
}

// raw notes a line relayed without tokenizing it.
func (p *printer) raw(secret bool) {
	if len(p.buf) == 0 {
		p.buf = append(p.buf, p.prefix...)
	}
	if secret {
		p.note("[redacted]")
	}
	p.note(" [not tokenized: relayed unchanged]")
}

// add appends b, up to maxPrinted, with control characters (C0, DEL, C1
// as UTF-8), the line and paragraph separators and bidirectional controls
// (esc.Unsafe) and bytes that are not UTF-8 (a raw 0x9b is CSI to an 8-bit
// terminal) escaped as \xNN, byte by byte, and a backslash before an 'x'
// as \x5c, as internal/printable does.
func (p *printer) add(b []byte) {
	for len(b) > 0 {
		if len(p.buf) >= maxPrinted+p.slack || p.settled {
			p.cut = true
			return
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || esc.Unsafe(r) || r == '\\' && len(b) > 1 && b[1] == 'x' {
			for _, c := range b[:n] {
				p.buf = append(p.buf, fmt.Sprintf("\\x%02x", c)...)
			}
		} else {
			p.buf = append(p.buf, b[:n]...)
		}
		b = b[n:]
	}
}

// refused returns the line printed so far, marked as not relayed.
func (p *printer) refused() []byte {
	p.note(" [not relayed: answered by the proxy]")
	return p.end()
}

// cont returns the line printed so far, for a line that goes on after a
// synchronizing literal; the rest is printed after "...".
func (p *printer) cont() []byte {
	b := p.end()
	p.buf = append(append(p.buf, p.prefix...), "..."...)
	return b
}

// end returns the printed line and starts the next.
func (p *printer) end() []byte {
	p.settle()
	if p.cut {
		p.buf = append(p.buf, "..."...)
	}
	p.buf = append(p.buf, '\n')
	b := p.buf
	p.buf = p.buf[:0:0]
	p.cut, p.settled = false, false
	return b
}

// selfSignedCert makes a certificate for localhost, 127.0.0.1, ::1 and
// host, valid for a week.
func selfSignedCert(host string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "imapkit proxy"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsUnspecified() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	} else if host != "" && host != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, nil
}
