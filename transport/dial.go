package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/imapkit/imapkit/internal/printable"
)

// DefaultPort is the IANA-assigned port for IMAP4 over plain TCP (and
// STARTTLS). [Dial] uses it when the address has no port.
const DefaultPort = "143"

// DefaultTLSPort is the IANA-assigned port for IMAP4 over implicit TLS
// ("imaps"). [DialTLS] uses it when the address has no port.
const DefaultTLSPort = "993"

// DefaultDialTimeout bounds the TCP connection attempt of [Dial] and
// [DialTLS], name resolution included, when their context has no deadline
// and [Options].Dialer sets neither a Timeout nor a Deadline: an address
// that drops the SYNs would otherwise hold the caller for as long as the
// kernel retries (about two minutes on Linux).
const DefaultDialTimeout = 30 * time.Second

// DefaultHandshakeTimeout bounds the TLS handshake of [DialTLS] and
// [StartTLS] when their context has no deadline: a server (or a middlebox)
// that accepts the connection and never answers the ClientHello would
// otherwise hold the caller for ever. A context with a deadline, shorter or
// longer, replaces it.
const DefaultHandshakeTimeout = 30 * time.Second

// ErrNoServerName: TLS was asked for with no server name to verify the
// certificate against (no host name, and no tls.Config.ServerName), and
// without tls.Config.InsecureSkipVerify.
var ErrNoServerName = errors.New("transport: tls: no server name to verify the certificate against")

// TimeoutError reports that one of the package's default bounds
// ([DefaultDialTimeout], [DefaultHandshakeTimeout]) ended an operation
// whose context had no deadline. It wraps [context.DeadlineExceeded] (and
// what the operation returned), and is a [net.Error] whose Timeout method
// reports true. A deadline of the caller's own context ends an operation
// with the context's error instead.
type TimeoutError struct {
	Op    string        // "dial" or "tls handshake"
	Addr  string        // the address dialed, or the TLS server name
	After time.Duration // the default that fired
	Err   error         // what the operation returned
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("transport: %s with %s: no answer within %v (the default bound; give the context a deadline to choose another): %v", e.Op, e.Addr, e.After, e.Err)
}

// Unwrap returns what the operation returned and context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() []error { return []error{e.Err, context.DeadlineExceeded} }

// Timeout reports true: it is a timeout (net.Error).
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports false (net.Error; deprecated there).
func (e *TimeoutError) Temporary() bool { return false }

// bounded returns ctx with the default bound d when ctx has no deadline
// and limit is true, and a function telling whether an operation's error
// is the bound's doing: the bound's deadline passed (as withCtxErr tells
// it), ctx itself not ended.
func bounded(ctx context.Context, d time.Duration, limit bool) (context.Context, context.CancelFunc, func(error) bool) {
	if _, ok := ctx.Deadline(); ok || !limit {
		return ctx, func() {}, func(error) bool { return false }
	}
	bctx, cancel := context.WithTimeout(ctx, d)
	return bctx, cancel, func(err error) bool {
		return ctx.Err() == nil && errors.Is(withCtxErr(bctx, err), context.DeadlineExceeded)
	}
}

// Options tunes how [Dial] and [DialTLS] open TCP connections.
//
// A nil *Options is equivalent to a pointer to the zero value.
type Options struct {
	// Dialer opens the TCP connection. Its Timeout, Deadline, LocalAddr,
	// KeepAlive and other settings apply in addition to the context passed
	// to Dial or DialTLS (whichever expires first wins).
	//
	// nil means a zero net.Dialer, which enables TCP keep-alives with the
	// operating system's default interval (15 seconds in Go).
	Dialer *net.Dialer

	// DelayedAcks keeps the kernel's delayed ACKs. By default, on Linux,
	// the connection asks for an immediate ACK before each read
	// (TCP_QUICKACK): a server that writes a response in pieces with
	// Nagle's algorithm on (Cyrus does) otherwise waits up to 40 ms for
	// the ACK of the first piece before it sends the last one, on every
	// such response. The cost is a setsockopt call per read and an ACK
	// per segment received.
	DelayedAcks bool
}

func (o *Options) dialer() *net.Dialer {
	if o == nil || o.Dialer == nil {
		return &net.Dialer{}
	}
	return o.Dialer
}

// Dial opens a plain TCP connection to an IMAP server.
//
// addr is "host" or "host:port"; IPv6 literals may be written "[::1]",
// "[::1]:143" or "::1". When the port is missing, [DefaultPort] is used.
//
// The connection is not a *net.TCPConn but wraps one: the methods of
// *net.TCPConn are there (CloseWrite, SetKeepAlive, ...), NetConn returns
// it, and ServerName returns the host part of addr, which [StartTLS] and
// session.Session.StartTLS verify the server's certificate against when
// they are given no other name (imaplib's IMAP4(host).starttls() does the
// same): see [ServerName].
//
// ctx bounds the connection attempt only (including name resolution); once
// the connection is established, cancelling ctx has no effect on it. Use
// deadlines or Close for that. Without a deadline in ctx (or a Timeout or
// Deadline in [Options].Dialer), the attempt is bounded by
// [DefaultDialTimeout], and past it fails with a [*TimeoutError].
func Dial(ctx context.Context, addr string, opts *Options) (net.Conn, error) {
	host, hostport, err := splitAddr(addr, DefaultPort)
	if err != nil {
		return nil, err
	}
	return dial(ctx, host, hostport, opts)
}

// ServerName returns the TLS server name conn was opened for, when it
// tells one: a connection from [Dial] does (the host part of its address,
// an IPv6 zone left out), through a ServerName() string method; other
// connections give "". StartTLS and session.Session.StartTLS use it when
// neither their tls.Config nor the caller gives a name.
func ServerName(conn net.Conn) string {
	if sn, ok := conn.(interface{ ServerName() string }); ok {
		return sn.ServerName()
	}
	return ""
}

// hostConn is a TCP connection that remembers the host it was dialled as
// (Dial with DelayedAcks, or where TCP_QUICKACK does not exist). The
// methods of *net.TCPConn are promoted; NetConn returns it.
type hostConn struct {
	*net.TCPConn
	host string
}

// ServerName returns the host the connection was dialled as (see Dial).
func (c *hostConn) ServerName() string { return c.host }

// NetConn returns the underlying *net.TCPConn.
func (c *hostConn) NetConn() net.Conn { return c.TCPConn }

// withHost wraps a TCP connection in a hostConn; other connections are
// returned as they are.
func withHost(conn net.Conn, host string) net.Conn {
	if tc, ok := conn.(*net.TCPConn); ok {
		return &hostConn{TCPConn: tc, host: host}
	}
	return conn
}

func dial(ctx context.Context, host, hostport string, opts *Options) (net.Conn, error) {
	d := opts.dialer()
	bctx, cancel, fired := bounded(ctx, DefaultDialTimeout, d.Timeout == 0 && d.Deadline.IsZero())
	defer cancel()
	conn, err := d.DialContext(bctx, "tcp", hostport)
	if err != nil {
		if fired(err) {
			return nil, &TimeoutError{Op: "dial", Addr: hostport, After: DefaultDialTimeout, Err: err}
		}
		return nil, fmt.Errorf("transport: dial %s: %w", hostport, withCtxErr(ctx, err))
	}
	name := serverName(host)
	if opts == nil || !opts.DelayedAcks {
		return withQuickAck(conn, name), nil
	}
	return withHost(conn, name), nil
}

// DialTLS opens a connection to an IMAP server that speaks implicit TLS
// (IMAPS) and completes the TLS handshake.
//
// addr has the same forms as for [Dial]; when the port is missing,
// [DefaultTLSPort] is used.
//
// Certificate and host name verification are on by default. cfg may be nil,
// in which case a new configuration is used; otherwise cfg is cloned and
// never modified. On the clone, an empty ServerName defaults to the host part
// of addr and a zero MinVersion defaults to TLS 1.2. A MinVersion set by the
// caller is kept as is, so older versions are only ever enabled explicitly.
//
// ctx bounds both the TCP connection and the TLS handshake; without a
// deadline, [DefaultDialTimeout] and [DefaultHandshakeTimeout] bound them,
// and past either it fails with a [*TimeoutError]. If the handshake fails,
// the TCP connection is closed. Verification failures can be
// inspected with errors.As and [*tls.CertificateVerificationError].
func DialTLS(ctx context.Context, addr string, cfg *tls.Config, opts *Options) (*tls.Conn, error) {
	host, hostport, err := splitAddr(addr, DefaultTLSPort)
	if err != nil {
		return nil, err
	}
	config, err := tlsConfig(cfg, host)
	if err != nil {
		return nil, err
	}
	conn, err := dial(ctx, host, hostport, opts)
	if err != nil {
		return nil, err
	}
	tconn, err := handshake(ctx, conn, config, hostport)
	if te := (*TimeoutError)(nil); errors.As(err, &te) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("transport: tls handshake with %s: %w", hostport, escaped(err))
	}
	return tconn, nil
}

// StartTLS upgrades conn, an established plain connection, to TLS. Call it
// after the server has answered the STARTTLS command with a tagged OK.
//
// Before calling StartTLS the caller must discard every byte it has read
// from conn and buffered (for example in a [bufio.Reader] wrapped around
// conn): anything the server sent after its OK in plaintext may have been
// injected by an attacker (curl CVE-2021-22947) and must not be processed as
// part of the protected session. StartTLS reads only from conn itself, so the
// returned [*tls.Conn] starts from a clean state; plaintext bytes that are
// still in flight on conn make the handshake fail rather than being
// accepted.
//
// host names the server for certificate verification. It may be a host
// name, an IP address or a "host:port" address (the port is ignored). It is
// used when cfg.ServerName is empty; if both are empty, the name conn was
// dialled for is ([ServerName]: a connection from [Dial] has one); if
// there is none either, StartTLS fails with [ErrNoServerName].
// Otherwise cfg is treated as by [DialTLS]: nil means a new configuration,
// a non-nil cfg is cloned and never modified, and MinVersion defaults to
// TLS 1.2.
//
// ctx bounds the handshake; without a deadline, [DefaultHandshakeTimeout]
// does, and past it StartTLS fails with a [*TimeoutError]. Deadlines
// already set on conn also apply. On any error, conn is closed: its
// protocol state is unusable once STARTTLS has been accepted by the
// server.
func StartTLS(ctx context.Context, conn net.Conn, host string, cfg *tls.Config) (*tls.Conn, error) {
	if conn == nil {
		return nil, errors.New("transport: starttls: nil connection")
	}
	name := ""
	if host != "" {
		h, _, err := splitAddr(host, DefaultPort)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("transport: starttls: %w", err)
		}
		name = h
	}
	if name == "" {
		name = ServerName(conn)
	}
	config, err := tlsConfig(cfg, name)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tconn, err := handshake(ctx, conn, config, config.ServerName)
	if te := (*TimeoutError)(nil); errors.As(err, &te) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("transport: starttls handshake with %s: %w", config.ServerName, escaped(err))
	}
	return tconn, nil
}

// handshake runs the client side of a TLS handshake with addr on conn,
// within DefaultHandshakeTimeout when ctx has no deadline, closing conn
// when it fails.
func handshake(ctx context.Context, conn net.Conn, config *tls.Config, addr string) (*tls.Conn, error) {
	bctx, cancel, fired := bounded(ctx, DefaultHandshakeTimeout, true)
	defer cancel()
	tconn := tls.Client(conn, config)
	if err := tconn.HandshakeContext(bctx); err != nil {
		conn.Close()
		if fired(err) {
			return nil, &TimeoutError{Op: "tls handshake", Addr: addr, After: DefaultHandshakeTimeout, Err: err}
		}
		return nil, withCtxErr(ctx, err)
	}
	return tconn, nil
}

// tlsConfig returns a clone of cfg (or a new config) with the package
// defaults applied.
func tlsConfig(cfg *tls.Config, host string) (*tls.Config, error) {
	var c *tls.Config
	if cfg == nil {
		c = &tls.Config{}
	} else {
		c = cfg.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = serverName(host)
	}
	if c.ServerName == "" && !c.InsecureSkipVerify {
		return nil, ErrNoServerName
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c, nil
}

// serverName turns the host part of an address into a TLS server name: IPv6
// zones are dropped, because certificates cannot name them.
func serverName(host string) string {
	if i := strings.IndexByte(host, '%'); i >= 0 && strings.Contains(host, ":") {
		return host[:i]
	}
	return host
}

// withCtxErr makes sure err matches ctx.Err() with errors.Is when the
// context has ended, whatever error the operation happened to report.
//
// The net package turns a context deadline into a socket deadline, which
// may fire a moment before the context's own timer: a timeout at or after
// the context's deadline is reported as context.DeadlineExceeded too.
func withCtxErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil {
		var nerr net.Error
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) && errors.As(err, &nerr) && nerr.Timeout() {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// splitAddr parses addr ("host", "host:port", "[v6]", "[v6]:port" or a
// bare IPv6 literal) and returns the host and a "host:port" string suitable
// for net.Dial, with defaultPort filled in when no port is given.
func splitAddr(addr, defaultPort string) (host, hostport string, err error) {
	port := ""
	switch {
	case addr == "":
		return "", "", errors.New("transport: empty address")
	case strings.HasPrefix(addr, "["):
		end := strings.IndexByte(addr, ']')
		if end < 0 {
			return "", "", fmt.Errorf("transport: address %q: missing ']'", addr)
		}
		host = addr[1:end]
		rest := addr[end+1:]
		switch {
		case rest == "":
		case rest[0] == ':':
			port = rest[1:]
		default:
			return "", "", fmt.Errorf("transport: address %q: unexpected text after ']'", addr)
		}
		if _, perr := netip.ParseAddr(host); perr != nil || !strings.Contains(host, ":") {
			return "", "", fmt.Errorf("transport: address %q: invalid IPv6 literal", addr)
		}
	case strings.Count(addr, ":") > 1:
		// A bare IPv6 literal such as "::1" cannot carry a port.
		if _, perr := netip.ParseAddr(addr); perr != nil {
			return "", "", fmt.Errorf("transport: address %q: invalid IPv6 literal (use [addr]:port)", addr)
		}
		host = addr
	default:
		host = addr
		if i := strings.IndexByte(addr, ':'); i >= 0 {
			host, port = addr[:i], addr[i+1:]
		}
	}
	if host == "" {
		return "", "", fmt.Errorf("transport: address %q: missing host", addr)
	}
	if strings.ContainsAny(host, "[]") || strings.ContainsAny(port, "[]:") {
		return "", "", fmt.Errorf("transport: address %q: malformed", addr)
	}
	if port == "" {
		port = defaultPort
	}
	return host, net.JoinHostPort(host, port), nil
}

// escapedError is an error whose text is escaped (internal/printable): a
// TLS handshake's error quotes the certificate's names, which whoever
// answers the connection chose (x509.HostnameError lists them raw, and a
// name may hold terminal escapes). errors.As still finds the cause.
type escapedError struct{ err error }

func escaped(err error) error { return &escapedError{err} }

func (e *escapedError) Error() string { return printable.String(e.err.Error()) }

func (e *escapedError) Unwrap() error { return e.err }
