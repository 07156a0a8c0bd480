package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// The exit codes of the commands that talk to a server (docs/cli.md).
const (
	exitOK       = 0 // success
	exitNo       = 1 // the server refused: a NO (or BAD) answer
	exitUsage    = 2 // bad arguments
	exitConnFail = 3 // connection, TLS, protocol or local I/O error
)

// sys returns the run's environment and terminal.
func (f *connFlags) sys() *sysEnv {
	if f.env == nil {
		return osEnv
	}
	return f.env
}

// usageError is an error in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// connFlags are the flags every command that talks to a server takes.
type connFlags struct {
	user               string
	sasl               string
	authzid            string
	certFile, keyFile  string
	passwordFile       string
	oauthTokenFile     string
	caFile             string
	insecureSkipVerify bool
	insecurePlaintext  bool
	timeout            time.Duration
	debug              bool
	json               bool
	stream             string
	// passwordEnv is the environment variable holding the password;
	// "" means IMAPKIT_PASSWORD (copy's destination uses another).
	passwordEnv string
	// env is the run's environment and terminal; nil means the
	// process's own (osEnv).
	env *sysEnv
	// used is the secret of the last successful login, kept for the
	// next one to the same account (copy's reconnection to the
	// destination): a --password-file that is a pipe (<(pass show x))
	// or a FIFO gives it once, and a prompt would ask again in a run
	// left unattended. It lives in this process's memory only.
	used usedSecret
	// tune, when set, adjusts the session's options before dial opens
	// it: a command's own flags (serverCmd.session).
	tune func(*session.Options)
}

// usedSecret is a secret (a password or an OAuth token) that logged in
// to the account key names.
type usedSecret struct {
	key, password, token string
}

// register adds the connection flags to fs.
func (f *connFlags) register(fs *flag.FlagSet, env *sysEnv) {
	f.env = env
	fs.StringVar(&f.user, "user", "", "user name (overrides the URL's)")
	fs.StringVar(&f.sasl, "sasl", "", "SASL mechanism (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, EXTERNAL, ANONYMOUS); default: the strongest offered, then LOGIN (EXTERNAL with --cert)")
	fs.StringVar(&f.authzid, "authzid", "", "act as this `user` (authorization identity: a master or admin user logs in for another; PLAIN, SCRAM, OAUTHBEARER, EXTERNAL)")
	fs.StringVar(&f.certFile, "cert", "", "TLS client certificate, PEM `file` (for --sasl EXTERNAL); needs --key")
	fs.StringVar(&f.keyFile, "key", "", "the private key of --cert, PEM `file`")
	fs.StringVar(&f.passwordFile, "password-file", "", "read the password from the first line of this `file` (default: $IMAPKIT_PASSWORD, else a prompt on the terminal)")
	fs.StringVar(&f.oauthTokenFile, "oauth-token-file", "", "read an OAuth 2.0 access token from this `file` (OAUTHBEARER or XOAUTH2)")
	fs.StringVar(&f.caFile, "ca-file", "", "trust only the CA certificates in this PEM `file`")
	fs.BoolVar(&f.insecureSkipVerify, "insecure-skip-verify", false, "do not verify the server's certificate (anyone on the path can read everything)")
	fs.BoolVar(&f.insecurePlaintext, "insecure-plaintext", false, "on imap://, go on without TLS when the server offers no STARTTLS, and allow the password in the clear")
	f.timeout = 30 * time.Second
	fs.Var(positiveDuration{&f.timeout}, "timeout", "bound on connecting and logging in, and on the server's silence during a command (a `duration` more than 0)")
	fs.BoolVar(&f.debug, "debug", false, "print the IMAP exchange on stderr (credentials redacted)")
	fs.BoolVar(&f.json, "json", false, "print JSON (one object per line; see docs/cli.md)")
	fs.StringVar(&f.stream, "stream", "", "talk IMAP to this shell `command`'s stdin/stdout instead of a URL (e.g. 'ssh host imapd')")
}

// positiveDuration is a duration flag that must be more than 0: a
// --timeout of 0 or less would fail every command at once.
type positiveDuration struct{ d *time.Duration }

func (p positiveDuration) String() string {
	if p.d == nil {
		return ""
	}
	return p.d.String()
}

func (p positiveDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("parse error")
	}
	if d <= 0 {
		return errors.New("must be more than 0")
	}
	*p.d = d
	return nil
}

// target is where to connect, from a URL.
type target struct {
	tls  bool   // imaps://
	host string // without the port
	addr string // host:port
	user string
}

// parseURL parses imap://user@host:port or imaps://user@host:port.
// A URL holding a password is refused before it is parsed, and without
// quoting it: a malformed one (bad port, bad escape, other scheme) would
// otherwise be printed whole in the error, password included.
func parseURL(raw string) (*target, error) {
	if !strings.Contains(raw, "://") {
		return nil, usagef("bad URL %q: it must start with imap:// or imaps://", redactURL(raw))
	}
	if redactURL(raw) != raw {
		return nil, usagef("bad URL: it may hold a password; give it in $IMAPKIT_PASSWORD or --password-file instead")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usagef("bad URL %q: %v", raw, errors.Unwrap(err))
	}
	t := &target{}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "imap":
		port = transport.DefaultPort
	case "imaps":
		t.tls, port = true, transport.DefaultTLSPort
	default:
		return nil, usagef("bad URL %q: the scheme must be imap:// or imaps://", raw)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return nil, usagef("bad URL: it holds a password; give it in $IMAPKIT_PASSWORD or --password-file instead")
		}
		t.user = u.User.Username()
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("bad URL %q: only imap[s]://user@host:port is understood (no path or query)", raw)
	}
	t.host = u.Hostname()
	if t.host == "" {
		return nil, usagef("bad URL %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	t.addr = net.JoinHostPort(t.host, port)
	return t, nil
}

// redactURL returns raw with anything that may be a password replaced by
// xxxxx, without parsing it: it works on URLs that do not parse, and errs
// on the side of redacting. Whatever stands between the scheme's "://"
// and the last '@' is the user information when it holds a ':' (a
// password may hold '/', '?', '#' or '@', typed as they are): from its
// first ':' to the last '@' is replaced. Without "://" (imaps:/alice:pw@host,
// a typo), everything from the first ':' to the last '@' is replaced
// when the two are there in that order.
func redactURL(raw string) string {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	c := strings.IndexByte(raw[start:at], ':')
	if c < 0 {
		return raw
	}
	return raw[:start+c] + ":xxxxx" + raw[at:]
}

// isURL reports whether s looks like an imap:// or imaps:// URL.
func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "imap://") || strings.HasPrefix(l, "imaps://")
}

// splitURL takes the server URL off the positional arguments: the first
// argument when it is an imap[s]:// URL, else $IMAPKIT_URL. Only the first
// argument may be the server: a URL further on (a search value, a mailbox
// name) is an argument, never a server to send the password to. With
// --stream no URL is needed.
func (f *connFlags) splitURL(args []string) (*target, []string, error) {
	raw := ""
	if len(args) > 0 && isURL(args[0]) {
		raw = args[0]
		args = args[1:]
	}
	if raw == "" && f.stream == "" {
		raw = f.sys().getenv("IMAPKIT_URL")
		if raw == "" {
			return nil, args, usagef("no server: give imap://user@host or imaps://user@host first (or set $IMAPKIT_URL, or use --stream)")
		}
	}
	if raw == "" {
		return nil, args, nil
	}
	if f.stream != "" {
		return nil, args, usagef("give either a URL or --stream, not both")
	}
	t, err := parseURL(raw)
	return t, args, err
}

// streamArgs runs --stream's command as sh -c, started by env with the
// passwords' variables taken out of the environment: the command (ssh, a
// local imapd) needs no password, and neither what it starts nor the
// shell itself (its /proc/PID/environ is readable by the command) should
// hold one. (transport.Exec cannot be given an environment: the child
// inherits this process's.)
//
// With shareTerminal (the command runs in imapkit's process group: see
// hasTerminal) the shell ignores SIGINT first, and so does what it runs
// (ssh leaves an ignored SIGINT ignored), as sftp has its ssh do: the
// terminal's Ctrl-C is imapkit's to handle, which stops the command that
// runs, logs out and closes the connection (the shell goes on with the
// next command, idle exits 0); were the --stream command killed by the
// same Ctrl-C, there would be no connection left for any of that.
//
// A simple command (execSimple) is run with exec: it is then the shell's
// process, the one transport.Exec's parent-death signal kills when
// imapkit dies (a second Ctrl-C, a SIGKILL) and Close kills. dash forks
// even the one command of sh -c: ssh went on running, reparented, after
// imapkit was killed, and on a stalled network did not see its stdin end.
func streamArgs(command string, shareTerminal bool) (name string, args []string) {
	if execSimple(command) {
		command = "exec " + strings.TrimLeft(command, " \t")
	}
	if shareTerminal {
		command = "trap '' INT\n" + command
	}
	return "/usr/bin/env", []string{"-u", "IMAPKIT_PASSWORD", "-u", "IMAPKIT_DST_PASSWORD", "/bin/sh", "-c", command}
}

// tlsConfig returns the TLS configuration for host.
func (f *connFlags) tlsConfig(host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: f.insecureSkipVerify}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", printable(f.caFile))
		}
		cfg.RootCAs = pool
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, usagef("--cert and --key go together")
	}
	if f.certFile != "" {
		cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// conn is an open connection to a server.
type conn struct {
	c      *commands.Client
	ac     *auth.Client
	t      *target // nil with --stream
	flags  *connFlags
	stderr io.Writer
	cc     *transport.CommandConn // --stream's child, or nil
	// caps records the capabilities at each step, for probe.
	capsGreeting, capsTLS []string
}

// dial connects and, on imap://, runs STARTTLS as the policy says
// (required unless loopback or --insecure-plaintext). It does not log in.
func (f *connFlags) dial(ctx context.Context, t *target, stderr io.Writer) (*conn, error) {
	sopts := &session.Options{StallTimeout: f.timeout}
	if f.debug {
		sopts.Trace = stderr
	}
	if f.tune != nil {
		f.tune(sopts)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var nc net.Conn
	var cfg *tls.Config
	var cc *transport.CommandConn
	if f.stream != "" {
		var err error
		share := f.sys().hasTerminal()
		name, args := f.sys().streamCommand(streamArgs(f.stream, share))
		cc, err = transport.ExecWithOptions(ctx, &transport.ExecOptions{SameProcessGroup: share}, name, args...)
		if err != nil {
			return nil, err
		}
		nc = cc
	} else {
		var err error
		if cfg, err = f.tlsConfig(t.host); err != nil {
			return nil, err
		}
		sopts.ServerName = t.host
		if t.tls {
			nc, err = transport.DialTLS(ctx, t.addr, cfg, nil)
		} else {
			nc, err = transport.Dial(ctx, t.addr, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	ac, err := auth.Open(ctx, nc, &auth.Options{
		Session:               sopts,
		TLSConfig:             cfg,
		AllowInsecurePassword: f.insecurePlaintext,
	})
	if err != nil {
		nc.Close()
		return nil, withChildStderr(cc, err)
	}
	cn := &conn{c: commands.NewAuth(ac), ac: ac, t: t, flags: f, stderr: stderr, cc: cc}
	cn.capsGreeting = cn.c.Caps()
	if t != nil && !t.tls {
		s := ac.Session()
		plainOK := f.insecurePlaintext || isLoopback(nc)
		switch {
		case s.State() != session.StateNonAuth && !plainOK:
			s.Close()
			return nil, fmt.Errorf("%s pre-authenticated a plaintext connection: refusing it (use imaps://, or --insecure-plaintext)", t.addr)
		case s.State() == session.StateNonAuth && s.HasCap("STARTTLS"):
			if err := ac.StartTLS(ctx); err != nil {
				s.Close()
				return nil, fmt.Errorf("STARTTLS: %w", err)
			}
			cn.capsTLS = cn.c.Caps()
		case !plainOK:
			s.Close()
			return nil, fmt.Errorf("%s offers no STARTTLS: refusing plaintext (use imaps://, or --insecure-plaintext to send everything readable by anyone on the path)", t.addr)
		}
	}
	return cn, nil
}

// isLoopback reports whether the connection's peer is on this machine.
func isLoopback(c net.Conn) bool {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// connect dials and logs in: the usual start of a command.
func (f *connFlags) connect(ctx context.Context, t *target, stdin io.Reader, stderr io.Writer) (*conn, error) {
	cn, err := f.dial(ctx, t, stderr)
	if err != nil {
		return nil, err
	}
	if err := cn.login(ctx); err != nil {
		cn.c.Session().Close()
		return nil, withChildStderr(cn.cc, err)
	}
	return cn, nil
}

// failed is err, with --stream's child's last words added when the
// session failed (the connection, not a NO, nor a local error such as
// stdout not writable): "ssh: Could not resolve hostname" says more than
// "reading the greeting: EOF". The session is closed first, so that the
// child's stderr is complete; after any other error it stays open, and
// close logs out.
func (cn *conn) failed(err error) error {
	if err == nil || cn.cc == nil {
		return err
	}
	if !errors.Is(err, session.ErrAborted) && cn.c.Session().Err() == nil {
		return err
	}
	cn.c.Session().Close()
	return withChildStderr(cn.cc, err)
}

// maxChildStderr bounds the part of the child's stderr shown in an error.
const maxChildStderr = 500

// withChildStderr adds the end of the stream child's standard error
// (its last lines, escaped, on one line) to err. cc must be closed, or
// its child gone, for the tail to be whole.
func withChildStderr(cc *transport.CommandConn, err error) error {
	if cc == nil || err == nil {
		return err
	}
	var lines []string
	for _, l := range strings.Split(string(cc.Stderr()), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, printable(l))
		}
	}
	if len(lines) == 0 {
		return err
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	tail := strings.Join(lines, " / ")
	if len(tail) > maxChildStderr {
		tail = "..." + strings.ToValidUTF8(tail[len(tail)-maxChildStderr:], "")
	}
	return fmt.Errorf("%w (--stream command's stderr: %s)", err, tail)
}

// login authenticates unless the session is already (PREAUTH).
func (cn *conn) login(ctx context.Context) error {
	f := cn.flags
	if cn.c.Session().State() != session.StateNonAuth {
		return nil
	}
	user := f.user
	if user == "" && cn.t != nil {
		user = cn.t.user
	}
	sasl := strings.ToUpper(f.sasl)
	if sasl == "" && f.certFile != "" {
		sasl = auth.External
	}
	noSecret := sasl == auth.External || sasl == auth.Anonymous
	if user == "" && !noSecret {
		return usagef("no user name: put it in the URL (imaps://USER@host) or give --user")
	}
	cred := &auth.Credentials{Username: user, AuthorizationID: f.authzid}
	key := user
	if cn.t != nil {
		key += "\x00" + cn.t.addr
	}
	if noSecret {
		// No password: EXTERNAL proves who we are with the certificate,
		// ANONYMOUS does not.
	} else if f.used.key == key && f.used.key != "" {
		// Logged in before in this run: the file is not read again nor
		// the prompt shown again.
		cred.Password, cred.Token = f.used.password, f.used.token
	} else if f.oauthTokenFile != "" {
		tok, err := readSecretFile(f.oauthTokenFile)
		if err != nil {
			return err
		}
		cred.Token = tok
	} else {
		pw, err := f.password(user, cn.t)
		if err != nil {
			return err
		}
		cred.Password = pw
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var err error
	if sasl != "" {
		var m auth.Mechanism
		if m, err = mechanism(sasl, cred, cn.t); err != nil {
			return err
		}
		err = cn.ac.Authenticate(ctx, m)
	} else {
		_, err = cn.ac.AuthenticateBest(ctx, cred)
		if errors.Is(err, auth.ErrNoMechanism) && cred.Password != "" && cred.AuthorizationID == "" {
			err = cn.ac.Login(ctx, user, cred.Password)
		}
	}
	if err == nil && !noSecret {
		f.used = usedSecret{key: key, password: cred.Password, token: cred.Token}
	}
	return err
}

// mechanism returns the SASL client named.
func mechanism(name string, cred *auth.Credentials, t *target) (auth.Mechanism, error) {
	needPW := func() error {
		if cred.Password == "" {
			return usagef("--sasl %s needs a password", name)
		}
		return nil
	}
	needTok := func() error {
		if cred.Token == "" {
			return usagef("--sasl %s needs --oauth-token-file", name)
		}
		return nil
	}
	switch name {
	case auth.Login, auth.CRAMMD5, auth.XOAuth2, auth.Anonymous:
		if cred.AuthorizationID != "" {
			return nil, usagef("--sasl %s cannot carry --authzid: use PLAIN, SCRAM or EXTERNAL", name)
		}
	}
	switch name {
	case auth.Plain:
		return auth.NewPlain(cred.AuthorizationID, cred.Username, cred.Password), needPW()
	case auth.Login:
		return auth.NewLogin(cred.Username, cred.Password), needPW()
	case auth.CRAMMD5:
		return auth.NewCRAMMD5(cred.Username, cred.Password), needPW()
	case auth.SCRAMSHA1:
		return auth.NewSCRAMSHA1(cred.AuthorizationID, cred.Username, cred.Password), needPW()
	case auth.SCRAMSHA256:
		return auth.NewSCRAMSHA256(cred.AuthorizationID, cred.Username, cred.Password), needPW()
	case auth.XOAuth2:
		return auth.NewXOAuth2(cred.Username, cred.Token), needTok()
	case auth.OAuthBearer:
		host := ""
		if t != nil {
			host = t.host
		}
		// Its one identity (a=) is the authorization identity: --authzid,
		// else --user (the token says who logs in).
		authz := cred.AuthorizationID
		if authz == "" {
			authz = cred.Username
		}
		return auth.NewOAuthBearer(authz, cred.Token, host, 0), needTok()
	case auth.External:
		return auth.NewExternal(cred.AuthorizationID), nil
	case auth.Anonymous:
		// The trace is --user's name, if any (RFC 4505: an email address
		// or an opaque string).
		return auth.NewAnonymous(cred.Username), nil
	}
	return nil, usagef("--sasl %s: unknown mechanism", printable(name))
}

// password returns the password: $IMAPKIT_PASSWORD, --password-file, or a
// prompt without echo on the terminal. It never comes from a flag's value.
func (f *connFlags) password(user string, t *target) (string, error) {
	if f.passwordFile != "" {
		return readSecretFile(f.passwordFile)
	}
	env, fileFlag := f.passwordEnv, "--dst-password-file"
	if env == "" {
		env, fileFlag = "IMAPKIT_PASSWORD", "--password-file"
	}
	if pw, ok := f.sys().lookupEnv(env); ok {
		return pw, nil
	}
	tty, err := f.sys().openTTY()
	if err != nil {
		return "", usagef("no password: set $%s or give %s (no terminal to ask on)", env, fileFlag)
	}
	defer tty.Close()
	// The descriptor without tty.Fd(), which would put it back in
	// blocking mode: the read below must stay in the runtime's poller,
	// where a deadline wakes it.
	fd := -1
	if rc, err := tty.SyscallConn(); err == nil {
		rc.Control(func(u uintptr) { fd = int(u) })
	}
	if fd < 0 || !term.IsTerminal(fd) {
		return "", usagef("no password: set $%s or give %s (no terminal to ask on)", env, fileFlag)
	}
	where := "the server"
	if t != nil {
		where = t.addr
	}
	interrupted := f.sys().ctx()
	if interrupted.Err() != nil {
		return "", errors.New("reading the password: interrupted")
	}
	// Echo goes off before the prompt is drawn: with term.ReadPassword
	// the prompt came first, and what was typed as soon as it showed was
	// echoed until ReadPassword turned echo off (TestPasswordPromptPTY
	// saw its password on the screen in a CI run under load).
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	defer term.Restore(fd, old)
	// Ctrl-C or SIGTERM (the interrupted context) wakes the read: a
	// deadline in the past ends it in this goroutine, which then restores
	// the terminal and returns; nothing is left reading the terminal.
	// The prompt ignored the signal before, and the second one killed the
	// process with the terminal still raw (no echo). Where the terminal
	// is not in the poller (SetReadDeadline fails), the interrupt
	// restores the terminal's state at least: the read goes on, and a
	// second signal ends the process with echo on.
	pollable := tty.SetReadDeadline(time.Time{}) == nil
	stop := context.AfterFunc(interrupted, func() {
		if pollable {
			tty.SetReadDeadline(time.Now())
		} else {
			term.Restore(fd, old)
		}
	})
	pw, err := term.NewTerminal(tty, "").ReadPassword(fmt.Sprintf("Password for %s at %s: ", user, where))
	stop()
	fmt.Fprint(tty, "\r\n")
	if interrupted.Err() != nil || err == io.EOF {
		err = errors.New("interrupted") // SIGTERM, Ctrl-C or Ctrl-D
	}
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return pw, nil
}

// readSecretFile returns the first line of a file, without its line end.
func readSecretFile(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	line, err := bufio.NewReader(fh).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// logoutAfterInterrupt bounds the LOGOUT of a command that was
// interrupted (Ctrl-C, SIGTERM): the user wants out, and a stalled server
// must not hold the process for another --timeout.
const logoutAfterInterrupt = time.Second

// close logs out (bounded by the timeout, and by logoutAfterInterrupt
// from an interrupt, whether it came before or during the LOGOUT) and
// closes the connection.
func (cn *conn) close() {
	ctx, cancel := context.WithTimeout(context.Background(), cn.flags.timeout)
	defer cancel()
	var mu sync.Mutex
	var timer *time.Timer
	done := false
	env := cn.flags.sys()
	interrupted := env.ctx()
	if interrupted.Err() != nil {
		// The signals' default action back before the LOGOUT goes out:
		// a second signal during it ends the process, whether or not
		// main's goroutine has released them yet.
		env.release()
	}
	stop := context.AfterFunc(interrupted, func() {
		env.release()
		mu.Lock()
		defer mu.Unlock()
		if !done {
			timer = time.AfterFunc(logoutAfterInterrupt, cancel)
		}
	})
	defer func() {
		stop()
		mu.Lock()
		done = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
	}()
	cn.c.Logout(ctx)
	cn.c.Session().Close()
}

// exitCode maps an error to the exit code and prints it as one line. env
// is the run's (its interrupted context; nil: not interrupted).
func exitCode(env *sysEnv, stderr io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	msg := errorLine(err)
	if env.ctx().Err() != nil {
		// Before the message: a second Ctrl-C the user presses on
		// seeing it must end the process, and main's goroutine may not
		// have given the signals their default action back yet (a
		// loaded machine: TestSecondInterruptExits caught it swallowed).
		env.release()
	}
	fmt.Fprintf(stderr, "imapkit %s: %s\n", name, msg)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, commands.ErrTooBig):
		// A message over the server's APPENDLIMIT: its stated limit
		// refuses it, as a NO [TOOBIG] would, at every run; not a
		// connection error for scripts to retry (matched before an
		// aborted session, which a too-big message found mid-way
		// through a MULTIAPPEND costs).
		return exitNo
	case errors.Is(err, session.ErrAborted), errors.Is(err, session.ErrClosed):
		return exitConnFail
	case argumentError(err) && !perMailbox(err):
		return exitUsage
	case copyDoneAmiss(err):
		return exitNo
	case errors.Is(err, commands.ErrRenumbered) && !ownNumbers(err):
		// The sequence numbers given (--seq) name other messages now
		// (an EXPUNGE amid a STORE's answer, the store done; or before
		// the command went): a retry by the same numbers would act on
		// other messages, so not the retryable 3. Numbers imapkit
		// worked out itself (ownSeqError) are worked out again by a
		// retry: 3, below.
		return exitNo
	case errors.Is(err, session.ErrNo), errors.Is(err, session.ErrBad), errors.Is(err, errNotFound),
		errors.Is(err, commands.ErrUnsupported), errors.Is(err, commands.ErrMoveUnsupported),
		errors.Is(err, errShellFailed), errors.Is(err, errNeedsBinary), errors.Is(err, errUIDsExhausted),
		errors.Is(err, errCaseMerge), errors.Is(err, errPendingUnknown),
		errors.Is(err, errDstChanged), errors.Is(err, errSrcUIDValidity), errors.Is(err, errRestartRefused), errors.Is(err, errMapChanged), errors.Is(err, errInboxTwice),
		errors.Is(err, errStateTwice), errors.Is(err, errHardLinked), errors.Is(err, errStateUnusable), errors.Is(err, errStateUnwritable),
		errors.Is(err, errMboxUnusable), errors.Is(err, errDirNotMade):
		return exitNo
	}
	return exitConnFail
}

// errorLine returns err's message as the one line exitCode prints: its
// first line, shown by printable. The paths of the file system's errors in
// it (*fs.PathError's, *os.LinkError's, wherever they are wrapped) are
// made printable before the line is cut: a file name holding a newline
// cut the message there (what came after it lost), and one holding an
// escape drove the terminal. imapkit's own messages print their paths by
// printable already; this is for the errors of package os they wrap.
func errorLine(err error) string {
	msg := err.Error()
	for _, p := range errorPaths(err, nil) {
		if q := printable(p); q != p {
			msg = strings.ReplaceAll(msg, p, q)
		}
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return printable(msg)
}

// errorPaths appends to paths the paths of the file system's errors in
// err's tree (errors.Unwrap's, and errors.Join's), at most a few dozen.
func errorPaths(err error, paths []string) []string {
	for depth := 0; err != nil && len(paths) < 64 && depth < 64; depth++ {
		switch e := err.(type) {
		case *fs.PathError:
			paths = append(paths, e.Path)
		case *os.LinkError:
			paths = append(paths, e.Old, e.New)
		case interface{ Unwrap() []error }:
			for _, w := range e.Unwrap() {
				paths = errorPaths(w, paths)
			}
			return paths
		}
		err = errors.Unwrap(err)
	}
	return paths
}

// ownSeqError is the error of a command by sequence numbers that imapkit
// worked out itself (headers' newest messages, the last message's UID),
// not the user's (--seq): when the numbers changed amid its answer
// (commands.ErrRenumbered), nothing the user gave names other messages,
// and a run again works them out anew, so exitCode keeps the retryable 3.
type ownSeqError struct{ err error }

func (e *ownSeqError) Error() string { return e.err.Error() }
func (e *ownSeqError) Unwrap() error { return e.err }

// ownSeq returns err marked as ownSeqError's (nil for nil).
func ownSeq(err error) error {
	if err == nil {
		return nil
	}
	return &ownSeqError{err}
}

// ownNumbers reports whether err is of a command by sequence numbers
// imapkit worked out itself (ownSeqError).
func ownNumbers(err error) bool {
	var o *ownSeqError
	return errors.As(err, &o)
}

// copyDoneAmiss reports whether err is of a cp or mv that was done, but not
// all as asked: a COPYUID naming UIDs not sent (*commands.CopyUIDError:
// copied, or moved, with no mapping kept), or a move that left in the
// source the messages its COPYUID does not show copied
// (commands.ErrNotAllCopied: another client expunged them meanwhile),
// having moved the others. They exit 1, not 3: nothing failed on the
// connection, and a script that retries on 3 would copy the messages
// twice. An aborted connection is matched before (exit 3).
func copyDoneAmiss(err error) bool {
	var cu *commands.CopyUIDError
	return errors.Is(err, commands.ErrNotAllCopied) || errors.As(err, &cu)
}

// argumentErrors are the library's refusals of an argument, before
// anything is sent: what the user gave cannot go in a command (a keyword
// holding '"' or 'é', a flag such as \Seeen, a mailbox name that is not
// UTF-8, a NUL, search strings or a charset the rules of UTF-8 refuse,
// raw syntax the encoder refuses). They exit 2, as a usage error: the run
// can never work as given, and a script that retries on 3 (a connection
// error) would retry it for ever. An error of an aborted connection is
// matched first: a NUL met mid-literal has cost the connection (exit 3).
var argumentErrors = []error{
	wire.ErrInvalidAtom, wire.ErrNUL, wire.ErrInvalidRaw, wire.ErrInvalidSpecial,
	wire.ErrUnbalancedList, wire.ErrEmptySeqSet, wire.ErrInvalidText,
	commands.ErrMailboxName, commands.ErrCharsetUTF8, commands.ErrSearchNotUTF8,
	commands.ErrACLRights,
}

// argumentError reports whether err is one of argumentErrors.
func argumentError(err error) bool {
	for _, e := range argumentErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// perMailbox reports whether err sums up copy's run over many mailboxes:
// there an argument error comes of what the source listed (a name the
// destination cannot be given), not of what the user typed, and exits 3
// as other failures of the run.
func perMailbox(err error) bool {
	var me *mailboxesError
	return errors.As(err, &me)
}

// errNotFound reports that what was asked for is not on the server (a
// UID that does not exist): exit code 1, as for a NO.
var errNotFound = errors.New("not found")

// execSimple reports whether command is one simple command that sh can
// run with exec in front of it: no list, pipeline, subshell, background
// job, command substitution or newline (a quoted ";" counts too: such a
// command runs as written), a first word that is neither an assignment,
// a redirection, nor a shell keyword or builtin (exec cd fails where cd
// ran). Anything
// else runs as written, under the shell.
func execSimple(command string) bool {
	if strings.ContainsAny(command, ";&|()`\n") || strings.Contains(command, "$(") {
		return false
	}
	fields := strings.Fields(command)
	if len(fields) == 0 || strings.ContainsAny(fields[0], "=<>") {
		// An assignment, or a redirection that may come before one
		// ("2>/dev/null FOO=bar cmd": exec would run FOO=bar).
		return false
	}
	switch strings.Trim(fields[0], `'"`) {
	case "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
		"in", "function", "select", "time", "{", "}", "[[", "]]", "!", ".", ":", "alias", "bg", "break",
		"cd", "command", "continue", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts",
		"hash", "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift",
		"test", "[", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait",
		"source", "echo":
		return false
	}
	return true
}
