// Package auth authenticates IMAP sessions: it adapts SASL mechanisms
// (github.com/emersion/go-sasl's Client interface) to AUTHENTICATE
// (RFC 9051 section 6.2.2, RFC 4959 SASL-IR), sends LOGIN and PROXYAUTH,
// and holds the rules about when credentials may be sent.
//
// # Opening
//
// Open starts a session (package session) on a connection and remembers
// whether it is protected: TLS (a *tls.Conn, or STARTTLS run through the
// Client) or local (a loopback address, a Unix socket, an in-memory pipe,
// a child process). Client.Session returns the session for everything
// after authentication.
//
// # Mechanisms
//
// NewPlain (with an authorization identity for master and admin users),
// NewLogin (answers "Username:" and "Password:" in either order),
// NewCRAMMD5, NewSCRAMSHA1 and NewSCRAMSHA256 (RFC 5802, RFC 7677; the
// server's signature is verified, and credentials are prepared with the
// PRECIS OpaqueString profile), NewXOAuth2 and NewOAuthBearer (RFC 7628;
// the server's JSON error becomes an *OAuthError), NewExternal (TLS client
// certificates) and NewAnonymous. Any other sasl.Client works with
// Client.Authenticate, and Client.AuthenticateFunc takes a callback like
// imaplib's authenticate(mechanism, authobject). Choose and
// Client.AuthenticateBest pick the strongest mechanism the server offers
// and the credentials allow.
//
// # The exchange
//
// The initial response goes on the AUTHENTICATE line when the server
// offers SASL-IR (an empty one as "="), and in answer to the first
// continuation request otherwise. Challenges and responses are base64.
// When the mechanism or the callback fails in the middle (ErrCancel, a
// wrong SCRAM server signature, a challenge that is not base64), the
// client sends "*" and waits for the server's tagged answer, so the
// connection stays in step: the error is a *CanceledError and another
// attempt may follow. A server that answers the "*" with OK (RFC 4422
// section 3.5 says it MUST fail the exchange) would leave the session
// authenticated, to a server not proven (a wrong SCRAM signature) or as
// whoever it chose: the session aborts itself before it reaches AUTH,
// and the *CanceledError matches ErrCancelAccepted, session.ErrProtocol
// and session.ErrAborted. The session aborts so for an OK to the "*" sent in the
// background after the caller's context ended in the middle (or a
// mechanism panicked); an OK read before the "*" went aborts the
// session too (the *CanceledError matches the same three). An exchange
// the caller gave up with no "*" sent (its context ended while it
// waited for the tagged answer, for SCRAM before the
// server-final-message came) is not cancelled: an OK then leaves the
// session in AUTH, though Authenticate returned the context's error;
// check Session.State, or close a session whose Authenticate failed.
//
// A server may send its last challenge (SCRAM's server-final-message) and
// its tagged OK together: the challenge is still handed to the mechanism,
// whose refusal aborts the session (ErrCancelAccepted), and the session
// holds the commands queued behind the AUTHENTICATE (other goroutines')
// until Authenticate has given the mechanism's verdict: none is written
// to a server the mechanism may still refuse. The mechanism accepts that
// challenge with an empty response; one with more to say (SCRAM's
// client-final-message, for a server that sent its server-first-message
// with the OK and never proved itself) shows the OK premature, and the
// session is aborted too (ErrCancelAccepted). A server that sends a
// challenge before the client's answer to the one before it (the
// server-final-message before the client-final-message) breaks the
// exchange's order: the session aborts itself as it reads it
// (session.ErrProtocol).
//
// SCRAM refuses a server-first-message asking for fewer than 4096
// PBKDF2 iterations (RFC 5802 section 5.1 and RFC 7677 say a
// server SHOULD ask for at least that; Dovecot and Cyrus do by default)
// or more than 1 << 22: the client cancels with "*" and the error is a
// *CanceledError. A low count is the server's choice and makes the
// client's proof cheap to attack offline (a man in the middle off TLS,
// where SCRAM is allowed, would ask for 1). There is no option to accept
// fewer: for a server whose keys were made so, use PLAIN over TLS. When the caller's context ends in the middle, any
// further challenge is answered with "*" in the background. A refusal by
// the server is an *Error that unwraps to the *session.StatusError. On
// success the session is in state AUTH and its capabilities are fresh.
//
// # Policy
//
// The defaults cannot leak a password:
//
//   - LOGIN, and every mechanism that sends a password or bearer token in
//     the clear (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, and any mechanism the
//     package does not know; see SendsCleartext), is refused with
//     ErrInsecure before anything is sent on a connection that is neither
//     TLS nor local, unless Options.AllowInsecurePassword is set.
//   - LOGIN is not sent when the server announces LOGINDISABLED
//     (ErrLoginDisabled).
//   - With Options.RequireTLS, Open upgrades a plaintext connection with
//     STARTTLS and fails with ErrTLSRequired, closing the connection,
//     when the server does not offer STARTTLS, when STARTTLS fails, or
//     when a plaintext connection is pre-authenticated (PREAUTH). It is
//     never opportunistic, loopback included.
//   - Commands carrying credentials are marked secret, so traces and
//     abort histories show "***"; errors never quote credentials.
//
// # From imaplib
//
//	imaplib                              auth
//	M.login(user, password)              c.Login(ctx, user, password)
//	M.login_cram_md5(user, password)     c.Authenticate(ctx, NewCRAMMD5(user, password))
//	M.authenticate(mech, authobject)     c.AuthenticateFunc(ctx, mech, f)
//	M.proxyauth(user)                    c.ProxyAuth(ctx, user)
//	M.starttls(ssl_context)              c.StartTLS(ctx), or Options.RequireTLS
package auth
