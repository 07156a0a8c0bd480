// Package transport provides the byte streams that carry IMAP4 traffic
// between a client and a server.
//
// It is the lowest layer of imapkit (transport -> wire -> codec -> session
// -> commands) and never parses IMAP: it only opens, upgrades and closes
// connections. Every connection type it returns implements [net.Conn], so
// upper layers can set read and write deadlines uniformly.
//
// Available transports:
//
//   - [Dial]: plain TCP (port 143 by default), typically followed by
//     STARTTLS and [StartTLS].
//   - [DialTLS]: implicit TLS (port 993 by default).
//   - [StartTLS]: upgrade an established plain connection to TLS after the
//     server's tagged OK to the STARTTLS command.
//   - [Exec]: talk to a child process over its stdin and stdout, like
//     Python imaplib's IMAP4_stream (for example "doveadm exec imap" or
//     "ssh host imapd"). [ExecWithOptions] with
//     [ExecOptions.SameProcessGroup] leaves the child in the caller's
//     process group, for a child that may ask on the terminal.
//   - [Pipe]: a buffered, in-memory connection pair for tests.
//
// # Latency
//
// On Linux the TCP connections of [Dial] and [DialTLS] ask for an
// immediate ACK before each read (TCP_QUICKACK): a server that writes a
// response in pieces with Nagle's algorithm on, as Cyrus does, otherwise
// waits up to 40 ms for a delayed ACK on every such response. The
// connection then wraps the *net.TCPConn (its methods are promoted, and
// NetConn returns it); [Options].DelayedAcks keeps the kernel's default.
//
// # Security
//
// TLS certificate and host name verification are always on unless the
// caller explicitly disables them in its own [tls.Config]. The minimum TLS
// version defaults to TLS 1.2. Configurations passed in are cloned, never
// modified.
//
// When upgrading with STARTTLS, the caller must throw away every byte it has
// read from the plain connection and buffered (for example inside a
// [bufio.Reader]) before calling [StartTLS]. Bytes that arrive in the same
// packet as the server's "OK" may have been injected by an attacker and must
// never be interpreted as if they had been protected by TLS (see curl
// CVE-2021-22947).
//
// # Timeouts
//
// The context of [Dial], [DialTLS] and [StartTLS] bounds their wait. When it
// has no deadline, [DefaultDialTimeout] bounds the TCP connection attempt
// (unless [Options].Dialer sets a Timeout or Deadline) and
// [DefaultHandshakeTimeout] the TLS handshake, so that no call waits for
// ever on a silent peer; past them they fail with a [*TimeoutError]. A
// deadline on the context, shorter or longer, replaces them.
//
// # Errors
//
// Errors returned by the constructors in this package start with
// "transport: " and wrap the underlying error, so [errors.Is] and
// [errors.As] work, for example with [context.DeadlineExceeded] or
// [*tls.CertificateVerificationError].
package transport
