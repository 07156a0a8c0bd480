// The proxy command: its flags, the accept loop and the refusal of
// clients over --max-connections. A connection's relay is proxySession
// (proxy_session.go).

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

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
	// dial, when set, connects to the upstream server in place of a TCP
	// dial of addr (a test's in-memory server, in a synctest bubble).
	dial func(ctx context.Context, addr string) (net.Conn, error)
	// serverLine, when set, is called by the server's direction once a
	// server's line's start was told (wire.Dialog.Server, which hands a
	// literal awaiting the server's word its go-ahead or refusal), with
	// what the line is, before the rest of its handling: a test holds
	// the direction there.
	serverLine func(ev wire.Event)
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

// dialUpstream connects to the upstream server at addr: a TCP dial,
// unless a test set h.dial. h may be nil.
func (h *proxyHooks) dialUpstream(ctx context.Context, addr string) (net.Conn, error) {
	if h != nil && h.dial != nil {
		return h.dial(ctx, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
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
	fs, f := newProxyFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "imapkit proxy: %s\n", errorLine(err))
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 3
	}
	if fs.NArg() > 0 {
		return fail(usagef("unexpected argument %q", fs.Arg(0)))
	}
	cfg, err := f.config(stdout, stderr)
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "imapkit proxy: listening on %s, upstream %s\n", ln.Addr(), f.upstream)
	if err := serveProxy(env.ctx(), ln, cfg, f.once); err != nil {
		return fail(err)
	}
	return 0
}

// proxyFlags are the proxy command's flags.
type proxyFlags struct {
	listen, upstream  string
	caFile            string
	insecure          bool
	certFile, keyFile string
	selfSigned        bool
	certOut           string
	implicitTLS, once bool
	timeout           time.Duration
	maxConns          int
	insecurePlain     bool
}

// newProxyFlags returns the proxy command's flag set, which parses into
// the proxyFlags it returns, its messages and usage going to stderr.
func newProxyFlags(stderr io.Writer) (*flag.FlagSet, *proxyFlags) {
	f := &proxyFlags{timeout: 30 * time.Second}
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:1143", "accept clients on this `address`")
	fs.StringVar(&f.upstream, "upstream", "", "the server: imaps://HOST[:PORT] (TLS) or imap://HOST[:PORT] (STARTTLS when the client asks for it)")
	fs.StringVar(&f.caFile, "ca-file", "", "trust only the CA certificates in this PEM `file` for the upstream server")
	fs.BoolVar(&f.insecure, "insecure-skip-verify", false, "do not verify the upstream server's certificate (anyone on the path can read everything)")
	fs.StringVar(&f.certFile, "cert", "", "the proxy's certificate for clients (PEM `file`; with --key)")
	fs.StringVar(&f.keyFile, "key", "", "the private key of --cert (PEM `file`)")
	fs.BoolVar(&f.selfSigned, "self-signed", false, "generate a self-signed certificate for clients (localhost, 127.0.0.1, ::1 and the --listen host)")
	fs.StringVar(&f.certOut, "cert-out", "", "with --self-signed, write the generated certificate (PEM) to this `file`, for the client to trust")
	fs.BoolVar(&f.implicitTLS, "tls", false, "clients connect with TLS (imaps); otherwise in the clear, with STARTTLS when there is a certificate")
	fs.BoolVar(&f.once, "once", false, "stop after the first client's connection ends")
	fs.Var(positiveDuration{&f.timeout}, "timeout", "bound on connecting to the upstream server, on TLS handshakes, on each write to the client or the server without progress, on the wait of the proxy's own answers for a server's line stopped in its middle, on the server's silence once the client has ended its side and is owed no answer, and on the server's close after its BYE (the waiting on it; 64 times it for the whole close) (a `duration` more than 0)")
	fs.IntVar(&f.maxConns, "max-connections", defaultMaxProxyConns, "relay at most `n` clients at once (more than 0); a client past it gets \"* BYE\" (with --tls: the connection's end) and no upstream connection")
	fs.BoolVar(&f.insecurePlain, "insecure-plaintext", false, "relay LOGIN and AUTHENTICATE to an imap:// upstream that is not on loopback without STARTTLS (anyone on the path can read the password)")
	fs.Usage = func() { proxyUsage(fs) }
	return fs, f
}

// proxyUsage prints the proxy command's usage.
func proxyUsage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), proxyUsageText, defaultMaxProxyConns)
	fs.PrintDefaults()
}

// proxyUsageText is the proxy command's usage before its flags.
const proxyUsageText = `usage: imapkit proxy --listen ADDR --upstream URL [--tls] [--cert F --key F | --self-signed] [--once]

A man-in-the-middle trace proxy for debugging a mail client: it relays
the bytes between the client and the upstream server and prints
the tokenized conversation on stdout, credentials redacted (C: client, S:
server). A STARTTLS the client sends is mirrored on both sides; after
COMPRESS the bytes are relayed without decoding. See docs/cli.md.
To an imap:// upstream not on loopback, LOGIN and AUTHENTICATE are refused
(a tagged NO from the proxy) until STARTTLS, unless --insecure-plaintext.
Without a certificate, the proxy answers a client's STARTTLS with NO.
At most --max-connections clients (default %d) are relayed at once; one more
gets "* BYE" (with --tls: the connection's end) and no upstream connection.
A {n+} literal goes upstream as {n}, so that the server says whether it
reads it; lines without a tag or that cannot be tokenized get a BAD.
Exit status: 0 when stopped, 2 for bad usage, 3 when it cannot listen or
lines of the trace could not be written (reported on stderr at once).

`

// config checks the flags and returns the proxy's configuration: the
// trace to stdout, a write error of it reported on stderr. An error in
// the flags is a *usageError (exit status 2); others (a certificate that
// cannot be made or written) are not.
func (f *proxyFlags) config(stdout, stderr io.Writer) (*proxyConfig, error) {
	if f.upstream == "" {
		return nil, usagef("--upstream URL is required")
	}
	if f.maxConns <= 0 {
		return nil, usagef("--max-connections must be more than 0")
	}
	up, err := parseURL(f.upstream)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	cfg := &proxyConfig{upstream: up, implicitTLS: f.implicitTLS, out: stdout, errOut: stderr, dialTimeout: f.timeout, insecurePlaintext: f.insecurePlain, maxConns: f.maxConns}
	cf := &connFlags{caFile: f.caFile, insecureSkipVerify: f.insecure}
	if cfg.upstreamTLS, err = cf.tlsConfig(up.host); err != nil {
		return nil, &usageError{err.Error()}
	}
	if cfg.downTLS, err = f.downstreamTLS(stderr); err != nil {
		return nil, err
	}
	if f.certOut != "" && !f.selfSigned {
		return nil, usagef("--cert-out goes with --self-signed")
	}
	if cfg.implicitTLS && cfg.downTLS == nil {
		return nil, usagef("--tls needs a certificate: --cert/--key or --self-signed")
	}
	return cfg, nil
}

// downstreamTLS returns the TLS configuration with the proxy's own
// certificate for clients (--cert/--key, or --self-signed: its
// fingerprint goes to stderr, the certificate to --cert-out), nil when
// there is none.
func (f *proxyFlags) downstreamTLS(stderr io.Writer) (*tls.Config, error) {
	var cert tls.Certificate
	switch {
	case f.selfSigned && (f.certFile != "" || f.keyFile != ""):
		return nil, usagef("give either --self-signed or --cert/--key")
	case f.selfSigned:
		host, _, _ := net.SplitHostPort(f.listen)
		c, der, err := selfSignedCert(host)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(der)
		fmt.Fprintf(stderr, "imapkit proxy: self-signed certificate, SHA-256 %s\n", hex.EncodeToString(sum[:]))
		if f.certOut != "" {
			p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
			if err := os.WriteFile(f.certOut, p, 0o644); err != nil {
				return nil, err
			}
		}
		cert = c
	case f.certFile != "" || f.keyFile != "":
		if f.certFile == "" || f.keyFile == "" {
			return nil, usagef("--cert and --key go together")
		}
		c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		cert = c
	default:
		return nil, nil
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// serveProxy accepts clients on ln until ctx ends (or, with once, until
// the first client's connection ends), and relays each to the upstream
// server. It closes ln and waits for every connection before it returns.
// When lines of the trace could not be written, it returns an error
// saying so (after the connections ended: the relay goes on without
// them).
func serveProxy(ctx context.Context, ln net.Listener, cfg *proxyConfig, once bool) (err error) {
	cfg = cfg.withHooksOf(ctx)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	s := newProxyServer(cfg, cancel, once)
	// On any return, no more clients come before the connections are
	// waited for (the listener stayed open, and a client connecting then
	// waited in its backlog for ever).
	defer func() {
		ln.Close()
		if ferr := s.wait(); err == nil {
			err = ferr
		}
	}()
	for id := 1; ; id++ {
		c, err := ln.Accept()
		if err != nil {
			if retry, err := s.acceptFailed(ctx, err); !retry {
				return err
			}
			id--
			continue
		}
		s.delay = 0
		if s.refusedOverLimit(ctx, c, id) {
			continue
		}
		s.relay(ctx, c, id)
		if once {
			ln.Close()
			<-ctx.Done()
			return nil
		}
	}
}

// withHooksOf returns cfg with the test's settings that ctx holds
// (startProxy puts them there) when cfg has none.
func (cfg *proxyConfig) withHooksOf(ctx context.Context) *proxyConfig {
	if h, ok := ctx.Value(proxyHooksKey{}).(*proxyHooks); ok && cfg.hooks == nil {
		c := *cfg
		c.hooks = h
		return &c
	}
	return cfg
}

// proxyServer is serveProxy's state: what its accept loop shares with
// the connections it starts.
type proxyServer struct {
	cfg      *proxyConfig
	out      *lockedWriter
	limit    int // --max-connections
	refusals *refusalLog
	accepts  *rateLog
	wg       sync.WaitGroup // the connections relayed or drained
	// slots holds a token for each connection relayed.
	slots chan struct{}
	// drains holds a token for each refused client whose connection is
	// drained (refuseOverLimit).
	drains chan struct{}
	delay  time.Duration // the wait after a passing Accept error
	// cancel ends the run after the first connection, with once.
	cancel context.CancelFunc
	once   bool
}

// newProxyServer returns serveProxy's state at its start.
func newProxyServer(cfg *proxyConfig, cancel context.CancelFunc, once bool) *proxyServer {
	limit := cfg.maxConns
	if limit <= 0 {
		limit = defaultMaxProxyConns
	}
	out := &lockedWriter{w: cfg.out, errOut: cfg.errOut}
	s := &proxyServer{
		cfg: cfg, out: out, limit: limit,
		refusals: newRefusalLog(out, limit), accepts: newAcceptLog(out),
		slots: make(chan struct{}, limit), drains: make(chan struct{}, maxRefusalDrains),
		cancel: cancel, once: once,
	}
	if h := cfg.hooks; h != nil && h.now != nil {
		s.refusals.now, s.accepts.now = h.now, h.now
	}
	if h := cfg.hooks; h != nil && h.every > 0 {
		s.refusals.every, s.accepts.every = h.every, h.every
	}
	return s
}

// wait waits for every connection, prints what the rate limits of the
// trace counted and did not print yet, and returns the trace's failure.
func (s *proxyServer) wait() error {
	s.wg.Wait()
	s.refusals.close() // the refusals not printed yet, counted
	s.accepts.close()
	return s.out.failure()
}

// acceptFailed handles an error of Accept: it reports whether the loop
// goes on (retry), after a wait, or ends, with err (nil when ctx ended).
func (s *proxyServer) acceptFailed(ctx context.Context, err error) (retry bool, _ error) {
	if ctx.Err() != nil {
		return false, nil
	}
	if !temporaryAccept(err) {
		return false, err
	}
	// Out of file descriptors, say, while many clients are connected: it
	// passes as they leave. Retried with a growing wait, as net/http's
	// Server does. The trace says so at most once a second (acceptLog).
	s.delay = min(max(2*s.delay, 5*time.Millisecond), time.Second)
	acceptFailed(s.accepts, err, s.delay)
	select {
	case <-s.cfg.hooks.acceptWait(s.delay):
		return true, nil
	case <-ctx.Done():
		return false, nil
	}
}

// refusedOverLimit takes a slot for client c, or, with none free, refuses
// it (refuseOverLimit) and reports so.
func (s *proxyServer) refusedOverLimit(ctx context.Context, c net.Conn, id int) bool {
	select {
	case s.slots <- struct{}{}:
		return false
	default:
	}
	// The refusal's drain runs beside the accept loop, at most
	// maxRefusalDrains at once; past them the refusal closes at once, as
	// it did.
	select {
	case s.drains <- struct{}{}:
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.drains }()
			refuseOverLimit(ctx, c, s.cfg, id, s.limit, s.refusals, true)
		}()
	default:
		refuseOverLimit(ctx, c, s.cfg, id, s.limit, s.refusals, false)
	}
	return true
}

// relay relays client c (connection id), in a slot refusedOverLimit
// took, beside the accept loop; with once, its end ends the run.
func (s *proxyServer) relay(ctx context.Context, c net.Conn, id int) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.slots }()
		ps := &proxySession{id: id, cfg: s.cfg, out: s.out}
		ps.serve(ctx, c)
		if s.once {
			s.cancel()
		}
	}()
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
// proxyCloseLinger in all (drainClient, as closeClient does), before the close: a
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
	drainClient(ctx, c, 4<<10)
}

// temporaryAccept reports whether an error of Accept passes: no file
// descriptor or buffer memory left for the moment, or a connection aborted
// by its client before it was accepted.
func temporaryAccept(err error) bool {
	for _, e := range temporaryAcceptErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
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
