package auth

import (
	"bytes"
	"errors"
	"strings"

	"github.com/imapkit/imapkit/codec"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/session"
)

// Sentinel errors, for errors.Is.
var (
	// ErrCancel is what a challenge callback (AuthenticateFunc) or a
	// mechanism returns to cancel the exchange: the client sends the "*"
	// line and waits for the server's tagged answer. The error returned is
	// then a *CanceledError that matches ErrCancel.
	ErrCancel = errors.New("auth: exchange cancelled by the client")
	// ErrInsecure: the client refused to send a password or token in the
	// clear on a connection that is neither TLS nor loopback. Nothing was
	// sent. Use TLS, or set Options.AllowInsecurePassword.
	ErrInsecure = errors.New("auth: refusing to send credentials in the clear on a connection that is neither TLS nor loopback")
	// ErrLoginDisabled: the server announced LOGINDISABLED, so the LOGIN
	// command was not sent.
	ErrLoginDisabled = errors.New("auth: the server announced LOGINDISABLED")
	// ErrTLSRequired: Options.RequireTLS is set and TLS could not be had
	// (STARTTLS missing or failed, or PREAUTH on a plaintext connection).
	// The connection was closed before anything secret was sent.
	ErrTLSRequired = errors.New("auth: TLS required but not available")
	// ErrNoMechanism: no mechanism offered by the server (AUTH=) can be
	// used with the given credentials.
	ErrNoMechanism = errors.New("auth: no usable authentication mechanism")
	// ErrServerNotVerified: a SCRAM server did not prove that it knows the
	// password (wrong or missing server signature). When this happens
	// after the server said OK, the connection is closed.
	ErrServerNotVerified = errors.New("auth: the server's SCRAM signature is missing or wrong")
	// ErrCancelAccepted: the server answered OK to an exchange the client
	// cancelled with "*" (RFC 4422 section 3.5: it MUST fail it), a
	// hostile or broken server. The session, which the server would have
	// left authenticated as whoever it chose, is aborted by package
	// session before it reaches AUTH (session.ErrCancelAccepted): the
	// *CanceledError matches it, session.ErrProtocol and
	// session.ErrAborted. The same OK to a "*" sent in the background
	// (the caller's context ended in the middle, a mechanism panicked)
	// aborts the session too, after Authenticate returned the context's
	// error: later commands fail with an *AbortError matching
	// session.ErrCancelAccepted.
	ErrCancelAccepted = errors.New("auth: the server accepted an exchange the client cancelled")
)

// Error is a server's refusal: a tagged NO or BAD answer to AUTHENTICATE,
// LOGIN or PROXYAUTH. It unwraps to the session's *session.StatusError (so
// errors.Is(err, session.ErrNo) works) and, for XOAUTH2 and OAUTHBEARER,
// to the *OAuthError the server sent before it. It never holds
// credentials.
type Error struct {
	Command   string        // "AUTHENTICATE", "LOGIN" or "PROXYAUTH"
	Mechanism string        // the SASL mechanism for AUTHENTICATE
	Status    *codec.Status // the tagged answer
	errs      []error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("auth: ")
	b.WriteString(e.Command)
	if e.Mechanism != "" {
		b.WriteString(" " + e.Mechanism)
	}
	b.WriteString(" failed")
	if e.Status != nil {
		b.WriteString(": " + e.Status.Kind.String())
		if c := e.Status.Code; c != nil {
			b.WriteString(" [" + escapeText(c.Name) + "]")
		}
		if len(e.Status.Text) > 0 {
			b.WriteString(" " + escapeText(e.Status.Text))
		}
	}
	for _, err := range e.errs {
		if oe, ok := err.(*OAuthError); ok {
			b.WriteString(" (" + oe.Error() + ")")
		}
	}
	return b.String()
}

// Unwrap returns the session's status error and any detail the mechanism
// collected (an *OAuthError).
func (e *Error) Unwrap() []error { return e.errs }

// CanceledError reports an exchange that the client cancelled with "*":
// Err says why (ErrCancel from a callback, a mechanism's error such as a
// wrong SCRAM server signature, an undecodable challenge). Status is the
// server's tagged answer to the cancellation (NO or BAD). The connection
// is in step and may be used for another attempt, unless the server
// answered OK (a protocol violation): the session aborted itself then
// (session.ErrCancelAccepted), Status is nil, and the error matches
// ErrCancelAccepted, session.ErrProtocol and session.ErrAborted.
type CanceledError struct {
	Mechanism string
	Err       error
	Status    *codec.Status
	abort     error // the session's abort for an OK to the "*", or nil
}

// Error implements error.
func (e *CanceledError) Error() string {
	s := "auth: AUTHENTICATE " + e.Mechanism + " cancelled by the client: " + e.Err.Error()
	switch {
	case e.abort != nil:
		s += " (server answered OK: a protocol violation, the connection is closed)"
	case e.Status != nil:
		s += " (server answered " + e.Status.Kind.String() + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *CanceledError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCancel) true for every cancellation, and
// errors.Is(err, ErrCancelAccepted), errors.Is(err, session.ErrProtocol)
// and errors.Is(err, session.ErrAborted) true when the server answered
// the "*" with OK (the session is aborted).
func (e *CanceledError) Is(target error) bool {
	if target == ErrCancel {
		return true
	}
	if e.abort == nil {
		return false
	}
	return target == ErrCancelAccepted || errors.Is(e.abort, target)
}

// OAuthError is the JSON error a server sends as a challenge when it
// rejects an XOAUTH2 or OAUTHBEARER token (RFC 7628 section 3.2.2). The
// client answers it with the dummy response the mechanism defines and the
// server then fails the command; the *Error returned unwraps to this.
type OAuthError struct {
	Mechanism string
	// Status is the HTTP-like status ("invalid_token", "401", ...).
	Status string `json:"status"`
	// Schemes is the auth schemes the server accepts ("bearer").
	Schemes string `json:"schemes"`
	// Scope is the OAuth scope the token needs.
	Scope string `json:"scope"`
	// OpenIDConfiguration is the URL of the server's discovery document.
	OpenIDConfiguration string `json:"openid-configuration"`
	// Raw is the decoded challenge, in case it was not JSON.
	Raw []byte `json:"-"`
}

// Error implements error.
func (e *OAuthError) Error() string {
	s := "auth: " + e.Mechanism + " token rejected"
	if e.Status != "" {
		s += ": status " + esc.String(e.Status)
	}
	if e.Scope != "" {
		s += ", scope " + esc.String(e.Scope)
	}
	return s
}

// escapeText returns server text for an error message: control bytes (C0,
// DEL, C1), the line and paragraph separators, the bidirectional controls
// and invalid UTF-8 are escaped as \xNN (internal/printable), so that a
// server cannot write terminal escapes to the user's screen or reorder
// what it shows (as session's errors do).
// The raw bytes stay in Error.Status.Text.
func escapeText(b []byte) string { return esc.Escape(b) }

// redactError replaces the secrets of a mechanism by "***" in the server
// text an *Error or a *CanceledError (and the *session.StatusError inside)
// carries. The session redacts what it sent (the base64 payload); a server
// may echo the password it decoded from it.
func redactError(err error, secrets []string) {
	var oe *OAuthError
	if errors.As(err, &oe) {
		// The server's JSON: it may echo the token. Its fields are words
		// ("invalid_token"): a secret too short to be a real token
		// (a test's "tok") is not looked for there.
		for _, s := range secrets {
			if len(s) < minAnswerSecret {
				continue
			}
			for _, f := range []*string{&oe.Status, &oe.Schemes, &oe.Scope, &oe.OpenIDConfiguration} {
				*f = strings.ReplaceAll(*f, s, "***")
			}
			oe.Raw = bytes.ReplaceAll(oe.Raw, []byte(s), []byte("***"))
		}
	}
	var st **codec.Status
	var e *Error
	var ce *CanceledError
	switch {
	case errors.As(err, &e):
		st = &e.Status
	case errors.As(err, &ce):
		st = &ce.Status
	default:
		return
	}
	if *st == nil {
		return
	}
	text := (*st).Text
	for _, s := range secrets {
		if s != "" && bytes.Contains(text, []byte(s)) {
			text = bytes.ReplaceAll(text, []byte(s), []byte("***"))
		}
	}
	if bytes.Equal(text, (*st).Text) {
		return
	}
	c := codec.CloneResponse(*st).(*codec.Status)
	c.Text = text
	*st = c
	var se *session.StatusError
	if errors.As(err, &se) {
		se.Status = c
	}
}
