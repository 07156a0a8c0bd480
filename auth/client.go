package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/imapkit/imapkit/session"
)

// Options configures a Client. A nil *Options is the zero Options: no TLS
// requirement, and passwords refused in the clear on a connection that is
// neither TLS nor loopback.
type Options struct {
	// Session configures the session that Open starts.
	Session *session.Options
	// RequireTLS makes Open upgrade a plaintext connection with STARTTLS
	// and fail (ErrTLSRequired, closing the connection) when the server
	// does not offer STARTTLS, when STARTTLS fails, or when a plaintext
	// connection is pre-authenticated (PREAUTH). It never falls back to
	// plaintext, whatever the server says, and loopback is no exception.
	RequireTLS bool
	// TLSConfig is used for STARTTLS. Nil means the defaults of package
	// transport with Session.ServerName, or the host a transport.Dial
	// connection was dialled as.
	TLSConfig *tls.Config
	// AllowInsecurePassword lets LOGIN and the mechanisms that send a
	// password or token in the clear (see SendsCleartext) run on a
	// connection that is neither TLS nor loopback, where anyone on the
	// path can read the password. Off by default.
	AllowInsecurePassword bool
}

// Client authenticates one IMAP session and applies the credential policy.
// It knows whether the connection is protected because it opened the
// session on it (and the session knows of STARTTLS). Its methods are safe
// for concurrent use: nothing in it changes after Open, and the session
// orders the commands.
type Client struct {
	s     *session.Session
	opts  Options
	tls   bool // the connection was TLS when the Client was made (implicit TLS); never written after, so read without a lock
	local bool // the peer is on this machine (loopback, Unix socket, pipe)
	peer  string
}

// Open starts a session on conn (see session.Open) and, with
// Options.RequireTLS, makes sure the connection is TLS before it returns.
// Whether conn is TLS (a *tls.Conn) and whether its peer is local decide
// which credentials may be sent later.
func Open(ctx context.Context, conn net.Conn, opts *Options) (*Client, error) {
	c := &Client{}
	if opts != nil {
		c.opts = *opts
	}
	_, c.tls = conn.(interface{ ConnectionState() tls.ConnectionState })
	c.local = isLocal(conn.RemoteAddr())
	if a := conn.RemoteAddr(); a != nil {
		c.peer = a.String()
	}
	s, preauth, err := openSession(ctx, conn, c.opts.Session)
	if err != nil {
		return nil, err
	}
	c.s = s
	if !c.opts.RequireTLS || c.tls {
		return c, nil
	}
	if preauth {
		closeSession(s)
		return nil, fmt.Errorf("%w: the server pre-authenticated a plaintext connection (PREAUTH)", ErrTLSRequired)
	}
	if !hasCap(s, "STARTTLS") {
		closeSession(s)
		return nil, fmt.Errorf("%w: the server does not offer STARTTLS", ErrTLSRequired)
	}
	if err := c.StartTLS(ctx); err != nil {
		closeSession(s)
		return nil, fmt.Errorf("%w: STARTTLS failed: %w", ErrTLSRequired, err)
	}
	return c, nil
}

// Session returns the session, for everything after authentication.
func (c *Client) Session() *session.Session { return c.s }

// TLS reports whether the connection is TLS: implicit, or upgraded by
// STARTTLS (by this Client, by Open, or on the session directly:
// Session.TLS).
func (c *Client) TLS() bool { return c.tls || c.s.TLS() }

// StartTLS upgrades the connection (Session.StartTLS) with
// Options.TLSConfig; the session remembers that it is TLS (TLS).
func (c *Client) StartTLS(ctx context.Context) error {
	return startTLS(ctx, c.s, c.opts.TLSConfig)
}

// cleartextOK reports whether a password may be sent in the clear.
func (c *Client) cleartextOK() bool {
	return c.TLS() || c.local || c.opts.AllowInsecurePassword
}

func (c *Client) insecure(what string) error {
	return fmt.Errorf("%w (%s to %s; use TLS or set Options.AllowInsecurePassword)", ErrInsecure, what, c.peer)
}

// Login sends the LOGIN command (imaplib's login). It is refused before
// anything is sent when the server announced LOGINDISABLED
// (ErrLoginDisabled) or when the connection is neither TLS nor loopback
// (ErrInsecure). A wrong password is an *Error. The password is redacted
// in traces.
func (c *Client) Login(ctx context.Context, username, password string) error {
	if hasCap(c.s, "LOGINDISABLED") {
		return ErrLoginDisabled
	}
	if !c.cleartextOK() {
		return c.insecure("LOGIN")
	}
	return runLogin(ctx, c.s, username, password)
}

// Mechanism is a SASL client mechanism: the method set of go-sasl's
// sasl.Client, declared here so that packages above auth take any
// sasl.Client without importing go-sasl. Start returns the mechanism's name
// and its initial response (nil for none); Next answers a server challenge.
type Mechanism interface {
	Start() (mech string, ir []byte, err error)
	Next(challenge []byte) (response []byte, err error)
}

var _ Mechanism = sasl.Client(nil)

// Authenticate runs AUTHENTICATE with m, any go-sasl client (NewPlain,
// NewSCRAMSHA256, ...). The initial response goes on the command line when
// the server offers SASL-IR. Mechanisms that send a password in the clear
// are refused on unprotected connections (ErrInsecure). A refusal by the
// server is an *Error; a mechanism that fails in the middle (a wrong SCRAM
// server signature) cancels the exchange with "*" and returns a
// *CanceledError, with the connection still usable (closed when the
// server answers the "*" with OK: ErrCancelAccepted). On success the
// session is in state AUTH with fresh capabilities.
func (c *Client) Authenticate(ctx context.Context, m Mechanism) error {
	name, ir, err := m.Start()
	if err != nil {
		return err
	}
	// Upper-cased in ASCII only: strings.ToUpper made "PLAIN" of "plaın".
	name = strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}, name)
	if !validMechanism(name) {
		return fmt.Errorf("%w %q", errBadMechanism, name)
	}
	if SendsCleartext(name) && !c.cleartextOK() {
		return c.insecure("AUTHENTICATE " + name)
	}
	detail := func() error {
		if d, ok := m.(interface{ detail() error }); ok {
			return d.detail()
		}
		return nil
	}
	if sh, ok := m.(interface{ secrets() []string }); ok {
		// The session sends them base64-encoded: it must know them to
		// keep a server's echo of them out of its trace and errors.
		for _, sec := range sh.secrets() {
			b := []byte(sec)
			c.s.AddSecret(b) // which keeps a copy of its own
			clear(b)
		}
	}
	if err := authenticate(ctx, c.s, name, ir, hasCap(c.s, "SASL-IR"), m.Next, detail); err != nil {
		if sh, ok := m.(interface{ secrets() []string }); ok {
			redactError(err, sh.secrets())
		}
		return err
	}
	if v, ok := m.(interface{ complete() error }); ok {
		if err := v.complete(); err != nil {
			closeSession(c.s)
			return err
		}
	}
	return nil
}

// AuthenticateFunc runs AUTHENTICATE mechanism with a callback, like
// imaplib's authenticate(mechanism, authobject): f receives each decoded
// challenge and returns the response (base64-encoded by the exchange), or
// ErrCancel (or any error) to cancel with "*". No initial response is
// sent. Unknown mechanisms count as sending a password in the clear.
func (c *Client) AuthenticateFunc(ctx context.Context, mechanism string, f func(challenge []byte) ([]byte, error)) error {
	return c.Authenticate(ctx, &funcClient{name: mechanism, f: f, add: c.s.AddSecret})
}

// ProxyAuth sends PROXYAUTH user (imaplib's proxyauth): an administrator
// already authenticated acts as user from now on (Cyrus).
func (c *Client) ProxyAuth(ctx context.Context, user string) error {
	return runProxyAuth(ctx, c.s, user)
}

// Credentials are what AuthenticateBest may use.
type Credentials struct {
	// Username is the authentication identity.
	Username string
	// Password, for SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN and LOGIN.
	Password string
	// AuthorizationID, when set, is the identity to act as (a master or
	// admin user logging in for another user). AuthenticateBest then uses
	// PLAIN (or OAUTHBEARER, EXTERNAL): CRAM-MD5, LOGIN and XOAUTH2 cannot
	// carry it, and SCRAM can but Dovecot 2.3 answers it with NO
	// [AUTHORIZATIONFAILED] (NewSCRAMSHA256 still takes one).
	AuthorizationID string
	// Token is an OAuth 2.0 access token, for OAUTHBEARER and XOAUTH2.
	Token string
	// External offers EXTERNAL (a TLS client certificate).
	External bool
}

// Choose returns the strongest mechanism among those the server offers
// (the AUTH= capabilities in caps) that the credentials allow: EXTERNAL,
// then OAUTHBEARER and XOAUTH2 for a token, then SCRAM-SHA-256,
// SCRAM-SHA-1, CRAM-MD5, PLAIN and LOGIN for a password. Mechanisms that
// send a secret in the clear are skipped unless cleartextOK. It returns
// the mechanism's name and a client for it, or ErrNoMechanism, or
// ErrInsecure when only mechanisms sending a secret in the clear would do.
// SCRAM is skipped unless its PRECIS preparation (OpaqueString) accepts
// the username and the password unchanged. It refuses an emoji with its
// variation selector, a zero-width joiner, a control character or a
// character newer than the Unicode version of golang.org/x/text; it
// changes a non-ASCII space (U+00A0, the no-break space) to an ASCII one
// and decomposed characters to composed ones (NFC). SCRAM could not log in
// with the first, nor with the second on a server that keys SCRAM on the
// password as stored (Dovecot); the next mechanism sends the password as
// it is.
func Choose(caps []string, cred *Credentials, cleartextOK bool) (mechanism string, m sasl.Client, err error) {
	offered := map[string]bool{}
	for _, c := range caps {
		if m, ok := strings.CutPrefix(strings.ToUpper(c), "AUTH="); ok {
			offered[m] = true
		}
	}
	type cand struct {
		name string
		ok   bool
		make func() sasl.Client
	}
	pw := cred.Password != "" && cred.Username != ""
	noAuthz := cred.AuthorizationID == ""
	scram := pw && noAuthz && scramPreparable(cred.Username, cred.Password)
	cands := []cand{
		{External, cred.External, func() sasl.Client { return NewExternal(cred.AuthorizationID) }},
		{OAuthBearer, cred.Token != "", func() sasl.Client { return NewOAuthBearer(cred.AuthorizationID, cred.Token, "", 0) }},
		{XOAuth2, cred.Token != "" && noAuthz, func() sasl.Client { return NewXOAuth2(cred.Username, cred.Token) }},
		{SCRAMSHA256, scram, func() sasl.Client { return NewSCRAMSHA256(cred.AuthorizationID, cred.Username, cred.Password) }},
		{SCRAMSHA1, scram, func() sasl.Client { return NewSCRAMSHA1(cred.AuthorizationID, cred.Username, cred.Password) }},
		{CRAMMD5, pw && noAuthz, func() sasl.Client { return NewCRAMMD5(cred.Username, cred.Password) }},
		{Plain, pw, func() sasl.Client { return NewPlain(cred.AuthorizationID, cred.Username, cred.Password) }},
		{Login, pw && noAuthz, func() sasl.Client { return NewLogin(cred.Username, cred.Password) }},
	}
	refused := false
	for _, c := range cands {
		if !c.ok || !offered[c.name] {
			continue
		}
		if SendsCleartext(c.name) && !cleartextOK {
			refused = true
			continue
		}
		return c.name, c.make(), nil
	}
	if refused {
		return "", nil, ErrInsecure
	}
	return "", nil, ErrNoMechanism
}

// AuthenticateBest authenticates with the strongest mechanism that the
// server offers and the credentials and the connection allow (Choose), and
// returns its name. The IMAP LOGIN command is not a fallback: call Login
// when this returns ErrNoMechanism.
func (c *Client) AuthenticateBest(ctx context.Context, cred *Credentials) (string, error) {
	name, m, err := Choose(caps(c.s), cred, c.cleartextOK())
	if errors.Is(err, ErrInsecure) {
		return "", c.insecure("AUTHENTICATE")
	}
	if err != nil {
		return "", err
	}
	return name, c.Authenticate(ctx, m)
}

// isLocal reports whether a is on this machine: a loopback IP, a Unix
// socket, an in-memory pipe (transport.Pipe, net.Pipe) or a child process
// (transport.Exec).
func isLocal(a net.Addr) bool {
	if a == nil {
		return false
	}
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	switch a.Network() {
	case "unix", "unixpacket", "pipe", "command":
		return true
	case "tcp", "tcp4", "tcp6":
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}
