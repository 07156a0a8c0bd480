package testserver

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kind names an IMAP server implementation that the package can start.
type Kind string

// Dovecot is the Dovecot 2.3 IMAP server (Debian package dovecot-imapd).
const Dovecot Kind = "dovecot"

// Accounts known to every server started by this package.
const (
	// Password is the password of Alice, Bob and TinyUser.
	Password = "pass"
	// Alice is an ordinary user; Options.Seed messages go into her INBOX.
	Alice = "alice"
	// Bob is a second ordinary user (for ACL and sharing tests).
	Bob = "bob"
	// MasterUser is a Dovecot master user: log in as "alice*master" with
	// MasterPassword (or SASL PLAIN with authzid "alice", authcid "master")
	// to act as alice. It cannot log in as itself.
	MasterUser = "master"
	// MasterPassword is the password of MasterUser.
	MasterPassword = "masterpass"
	// TinyUser has password Password and a storage quota of 20 KiB, so that
	// an APPEND of a few sample messages fails with [OVERQUOTA].
	TinyUser = "tiny"
)

// TinyQuotaKiB is the storage quota of TinyUser in KiB.
const TinyQuotaKiB = 20

// ServerName is the DNS name in the server certificate.
const ServerName = "localhost"

// Options configures Start. A nil *Options is the same as the zero value.
type Options struct {
	// Kind selects the server implementation; "" means Dovecot.
	Kind Kind
	// Seed is the number of generated messages (SampleMessages(Seed)) put
	// into alice's INBOX at start (0 = none). Use SeedMailbox for more.
	Seed int
	// ClientCerts makes the server ask for TLS client certificates signed
	// by its CA and offer AUTH=EXTERNAL, which logs in as the certificate's
	// common name (see Server.ClientCert). Clients without a certificate
	// are served as before.
	ClientCerts bool
}

// Server is a running IMAP server. Its exported fields are set by Start and
// must not be modified.
type Server struct {
	// Kind is the server implementation.
	Kind Kind
	// Dir is the directory holding all of the server's state: config,
	// certificates, logs, mail.
	Dir string
	// PlainAddr is "127.0.0.1:port" of the IMAP listener on plain TCP
	// (STARTTLS is offered).
	PlainAddr string
	// TLSAddr is "127.0.0.1:port" of the IMAP listener with implicit TLS.
	TLSAddr string
	// ServerName is the name in the server certificate ("localhost"); the
	// certificate also has the IP SANs 127.0.0.1 and ::1.
	ServerName string
	// CAPEM is the PEM encoding of the self-signed CA certificate that
	// signed the server certificate.
	CAPEM []byte

	impl backend
	tm   *tlsMaterial

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// backend is what a Kind has to implement. A new server implementation
// (e.g. Cyrus imapd) adds a type implementing it and an entry in backends.
type backend interface {
	// start writes the configuration into s.Dir, starts the server and
	// waits until it accepts connections; it sets s.PlainAddr and
	// s.TLSAddr. On error everything it started must be stopped again.
	start(s *Server, tlsFiles *tlsMaterial, opts *Options) error
	// stop stops the server and every process it started and waits for
	// them to exit. It is called at most once.
	stop() error
	// streamCommand returns an argv speaking IMAP on stdin/stdout,
	// preauthenticated as user.
	streamCommand(user string) []string
	// seedMailbox adds msgs to mailbox of user, creating it if needed.
	seedMailbox(user, mailbox string, msgs [][]byte) error
}

// backends maps every supported Kind to its constructor.
var backends = map[Kind]func() backend{
	Dovecot: func() backend { return &dovecot{} },
}

// Start starts a server whose whole state lives in dir, which must be an
// existing empty directory owned by the caller. When running as root, Start
// may add search (o+x) permission to dir and its ancestors so that the
// unprivileged mail user can reach the mail store. Call Stop when done.
//
// A missing or unusable server binary is an error, never a silent skip.
func Start(dir string, opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	kind := opts.Kind
	if kind == "" {
		kind = Dovecot
	}
	newBackend, ok := backends[kind]
	if !ok {
		return nil, fmt.Errorf("testserver: unknown server kind %q", kind)
	}
	if opts.Seed < 0 {
		return nil, fmt.Errorf("testserver: negative Seed %d", opts.Seed)
	}
	abs, err := checkDir(dir)
	if err != nil {
		return nil, err
	}
	tm, err := newTLSMaterial(abs)
	if err != nil {
		return nil, fmt.Errorf("testserver: generating certificates: %w", err)
	}
	s := &Server{
		Kind:       kind,
		Dir:        abs,
		ServerName: ServerName,
		CAPEM:      tm.caPEM,
		impl:       newBackend(),
		tm:         tm,
	}
	if err := s.impl.start(s, tm, opts); err != nil {
		return nil, fmt.Errorf("testserver: starting %s: %w", kind, err)
	}
	if opts.Seed > 0 {
		if err := s.SeedMailbox(Alice, "INBOX", SampleMessages(opts.Seed)); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// TB is the part of testing.TB that StartT uses; a *testing.T or
// *testing.B is one. The package does not import testing, so that the
// demo in the CLI binary does not link it.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// StartT starts a server in t.TempDir() and registers t.Cleanup(s.Stop).
// Any failure (including a missing server binary) is reported with t.Fatal;
// StartT never skips the test.
func StartT(t TB, opts *Options) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("testserver: stop: %v", err)
		}
	})
	return s
}

// Stop stops the server and every process it started, and waits for them
// to exit; processes of StreamCommand that are still running are ended too.
// It is safe to call Stop more than once (and concurrently); later calls
// return the result of the first. Stop does not remove s.Dir.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		s.stopErr = s.impl.stop()
	}
	return s.stopErr
}

// TLSConfig returns a new client configuration that trusts the server's
// CA: RootCAs is the CA, ServerName is s.ServerName and MinVersion is
// TLS 1.2.
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	return &tls.Config{
		RootCAs:    pool,
		ServerName: s.ServerName,
		MinVersion: tls.VersionTLS12,
	}
}

// ClientCert returns a new TLS client certificate for user, signed by the
// server's CA, for EXTERNAL on a server started with Options.ClientCerts.
func (s *Server) ClientCert(user string) (tls.Certificate, error) {
	return s.tm.clientCert(user)
}

// StreamCommand returns an argv that speaks IMAP on its stdin and stdout,
// already authenticated as user: it starts with a "* PREAUTH" greeting.
// The command only works while the server runs. It writes Dovecot's
// informational log lines (e.g. "imap(alice)...: Info: Disconnected") to
// its stderr.
func (s *Server) StreamCommand(user string) []string {
	return s.impl.streamCommand(user)
}

// SeedMailbox appends msgs to mailbox (e.g. "INBOX" or "Archive/2024") of
// user, creating the mailbox if needed. It writes the messages directly
// into the mail store and then makes the server pick them up, so tens of
// thousands of messages take seconds. Messages get no flags; each
// message's INTERNALDATE is taken from its Date header when that parses.
// Sessions that have the mailbox selected see the new messages at their
// next NOOP.
func (s *Server) SeedMailbox(user, mailbox string, msgs [][]byte) error {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return errors.New("testserver: SeedMailbox: server is stopped")
	}
	if err := checkUser(user); err != nil {
		return err
	}
	if mailbox == "" {
		return errors.New("testserver: SeedMailbox: empty mailbox name")
	}
	if err := s.impl.seedMailbox(user, mailbox, msgs); err != nil {
		return fmt.Errorf("testserver: SeedMailbox(%s, %q): %w", user, mailbox, err)
	}
	return nil
}

// Users returns the names of the accounts that can log in with Password.
func Users() []string { return []string{Alice, Bob, TinyUser} }

func checkUser(user string) error {
	for _, u := range Users() {
		if u == user {
			return nil
		}
	}
	return fmt.Errorf("testserver: unknown user %q (known: %s)", user, strings.Join(Users(), ", "))
}

// checkDir verifies that dir is an existing empty directory and returns its
// absolute path.
func checkDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("testserver: empty directory name")
	}
	abs, err := absClean(dir)
	if err != nil {
		return "", fmt.Errorf("testserver: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("testserver: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("testserver: %s is not a directory", abs)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("testserver: %w", err)
	}
	if len(ents) > 0 {
		return "", fmt.Errorf("testserver: directory %s is not empty", abs)
	}
	if strings.ContainsAny(abs, " \t\n\"'<>%$\\{}#") {
		return "", fmt.Errorf("testserver: directory name %q contains characters the server configuration cannot quote", abs)
	}
	return abs, nil
}

// testPortsTaken, when set (tests), may give freePorts the ports it
// returns instead: a port another process took (TestForeignServerOnPort).
var testPortsTaken func(n int) []int

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are free
// when returned, but another process may grab them before the server binds
// them: backends retry on bind failures.
func freePorts(n int) ([]int, error) {
	if testPortsTaken != nil {
		if ports := testPortsTaken(n); ports != nil {
			return ports, nil
		}
	}
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitReady waits until the server greets with "* OK" and its name on plainAddr and a
// TLS handshake followed by "* OK" succeeds on tlsAddr. exited is closed
// when the server process died; then waitReady gives up at once. Call it
// only once the server holds its listeners (waitBound): before, what
// answers may be another process that took the port, and a failure would
// not be the server's.
func waitReady(plainAddr, tlsAddr, name string, tc *tls.Config, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		select {
		case <-exited:
			return errors.New("server process exited during start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %v: %v", timeout, lastErr)
		}
		c, err := net.DialTimeout("tcp", plainAddr, time.Second)
		if err != nil {
			lastErr = err
			time.Sleep(10 * time.Millisecond)
			continue
		}
		err = readGreeting(c, deadline, name)
		c.Close()
		if err != nil {
			return fmt.Errorf("plain listener %s: %w", plainAddr, err)
		}
		break
	}
	d := &net.Dialer{Timeout: time.Until(deadline)}
	c, err := tls.DialWithDialer(d, "tcp", tlsAddr, tc)
	if err != nil {
		return fmt.Errorf("TLS listener %s: %w", tlsAddr, err)
	}
	defer c.Close()
	if err := readGreeting(c, deadline, name); err != nil {
		return fmt.Errorf("TLS listener %s: %w", tlsAddr, err)
	}
	return nil
}

// errForeignServer: another process holds the port of the server being
// started (it took the port between freePorts and the server's bind): a
// server other than this one greeted there, or (Cyrus) the master could
// not bind it or does not hold its listener. The start tries other
// ports.
var errForeignServer = errors.New("another server answered on the port")

// readGreeting reads a greeting on c, which must be "* OK" and hold name
// (the server's own name, in its configured greeting), else
// errForeignServer.
func readGreeting(c net.Conn, deadline time.Time, name string) error {
	if err := c.SetReadDeadline(deadline); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") || !strings.Contains(line, name) {
		return fmt.Errorf("%w: unexpected greeting %q", errForeignServer, strings.TrimSpace(line))
	}
	return nil
}

// logTail returns the last max bytes of the file at path, prefixed so it
// can be appended to an error message.
func logTail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("\n(no log: %v)", err)
	}
	if len(b) > max {
		b = b[len(b)-max:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return fmt.Sprintf("\n(log %s is empty)", path)
	}
	return fmt.Sprintf("\nlast lines of %s:\n%s", path, s)
}

func absClean(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}

// Shared is one server for a whole test binary: Get starts it on first use
// (tests that do not need it do not pay for it) and fails the calling test
// if it cannot; TestMain calls Stop after m.Run. A missing server fails the
// tests that need it; nothing is skipped.
type Shared struct {
	// Prefix names the temporary directory ("imapkit-session-").
	Prefix string
	// Options are given to Start.
	Options *Options

	once sync.Once
	srv  *Server
	dir  string
	err  error
}

// Get returns the server, starting it on the first call.
func (s *Shared) Get(t TB) *Server {
	t.Helper()
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp(TempBase(), s.Prefix); s.err != nil {
			return
		}
		s.srv, s.err = Start(s.dir, s.Options)
	})
	if s.err != nil {
		t.Fatalf("starting dovecot: %v", s.err)
	}
	return s.srv
}

// Stop stops the server if it was started and removes its directory.
func (s *Shared) Stop() error {
	var err error
	if s.srv != nil {
		err = s.srv.Stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
	return err
}
