package auth

// This file is the only one that talks to package session: opening,
// STARTTLS, capabilities, and the LOGIN, AUTHENTICATE and PROXYAUTH
// commands. The mechanisms and the policy do not depend on it.

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

func openSession(ctx context.Context, conn net.Conn, o *session.Options) (s *session.Session, preauth bool, err error) {
	s, err = session.Open(ctx, conn, o)
	if err != nil {
		return nil, false, err
	}
	return s, s.State() == session.StateAuth, nil
}

func hasCap(s *session.Session, c string) bool { return s.HasCap(c) }

func caps(s *session.Session) []string { return s.Caps() }

func startTLS(ctx context.Context, s *session.Session, cfg *tls.Config) error {
	return s.StartTLS(ctx, cfg)
}

func closeSession(s *session.Session) { s.Close() }

// abortAccepted aborts s, whose server answered OK to an AUTHENTICATE
// the client cancelled before the "*" went (cancel), and returns the
// abort: an *session.AbortError wrapping a *session.ProtocolError and
// session.ErrCancelAccepted, as the session's own abort of an OK to a
// "*" written matches ErrCancelAccepted, ErrProtocol and ErrAborted. A
// session that had ended already keeps its error; the one returned is
// this abort's all the same.
func abortAccepted(s *session.Session) error {
	cause := fmt.Errorf("%w: %w", session.ErrCancelAccepted,
		&session.ProtocolError{Reason: "tagged OK for AUTHENTICATE read before the client's \"*\""})
	s.Abort(cause)
	if err := s.Err(); errors.Is(err, session.ErrCancelAccepted) {
		return err
	}
	return &session.AbortError{Err: cause}
}

// runLogin sends LOGIN; the password is marked secret for traces.
func runLogin(ctx context.Context, s *session.Session, user, pass string) error {
	_, err := s.Run(ctx, &session.Command{Name: "LOGIN", Secret: true,
		Args: func(e *wire.Encoder) { e.SP().AString(user).SP().Password(pass) }})
	return refusal("LOGIN", "", err)
}

// runProxyAuth sends PROXYAUTH user (imaplib's proxyauth).
func runProxyAuth(ctx context.Context, s *session.Session, user string) error {
	_, err := s.Run(ctx, &session.Command{Name: "PROXYAUTH",
		Args: func(e *wire.Encoder) { e.SP().AString(user) }})
	return refusal("PROXYAUTH", "", err)
}

// refusal turns a tagged NO or BAD into an *Error.
func refusal(command, mech string, err error, detail ...error) error {
	var se *session.StatusError
	if !errors.As(err, &se) {
		return err
	}
	e := &Error{Command: command, Mechanism: mech, Status: se.Status, errs: []error{err}}
	for _, d := range detail {
		if d != nil {
			e.errs = append(e.errs, d)
		}
	}
	return e
}

// authenticate runs AUTHENTICATE name: the initial response ir (nil for
// none) goes on the command line when saslIR, else in answer to the first
// continuation request; every challenge is base64-decoded and given to
// next, whose answer is base64-encoded. An error from next (or an
// undecodable challenge) sends "*" and waits for the tagged answer. When
// ctx ends in the middle, "*" answers any further challenge in the
// background, so that the connection stays in step.
func authenticate(ctx context.Context, s *session.Session, name string, ir []byte, saslIR bool,
	next func(challenge []byte) ([]byte, error), detail func() error) error {
	inline := saslIR && ir != nil
	p, err := s.Start(ctx, &session.Command{Name: "AUTHENTICATE", Secret: true,
		Args: func(e *wire.Encoder) {
			e.SP().Atom(name)
			switch {
			case inline && len(ir) == 0:
				// "=" (RFC 4959) is no secret: were it one, the
				// trace would hide every "=" the server sends.
				e.SP().Atom(encode(ir))
			case inline:
				e.SP().Secret(func(e *wire.Encoder) { e.Atom(encode(ir)) })
			}
		}})
	if err != nil {
		return err
	}
	owed := !inline && ir != nil // the initial response waits for the first "+"
	for {
		select {
		case <-p.Done():
			if err := lateChallenge(ctx, s, p, name, next, owed, ir); err != nil {
				return err
			}
			_, err := p.Wait(ctx)
			return refusal("AUTHENTICATE", name, err, detail())
		case text := <-p.Continuations():
			resp, cerr := answer(p, next, text, owed, ir)
			owed = false
			if cerr != nil {
				return cancel(ctx, s, p, name, cerr)
			}
			line := ""
			if len(resp) > 0 {
				line = base64.StdEncoding.EncodeToString(resp)
			}
			if err := p.Continue(ctx, []byte(line)); errors.Is(err, session.ErrCommandEnded) {
				// The server answered (a NO after its challenge) before
				// the response went: that answer is the result.
				// (A challenge sent before it, after the one just
				// taken, is a protocol violation that has aborted the
				// session: the session's route.) A challenge still
				// queued is the mechanism's to check (lateChallenge).
				if err := lateChallenge(ctx, s, p, name, next, false, ir); err != nil {
					return err
				}
				_, err := p.Wait(ctx)
				return refusal("AUTHENTICATE", name, err, detail())
			} else if err != nil {
				return err
			}
		case <-ctx.Done():
			p.RefuseContinuations()
			return ctx.Err()
		}
	}
}

// lateChallenge checks a challenge still queued once the command has
// ended: the server sent its last challenge (SCRAM's server-final-message)
// and its tagged answer together, and select took the end first. The
// challenge is still the mechanism's to check. Its response is given to
// Continue, which writes nothing after the answer but lets the commands
// the session held behind the AUTHENTICATE go; its error cancels, and an OK is then
// aborted (cancel). A mechanism that panics on it aborts a session the
// OK took to AUTH as its error would (abortAccepted), and the panic goes
// on, as callNext lets it for a challenge before the answer. nil when no
// challenge was queued or the mechanism accepted it.
func lateChallenge(ctx context.Context, s *session.Session, p *session.Pending, mech string,
	next func([]byte) ([]byte, error), owed bool, ir []byte) error {
	var text []byte
	select {
	case text = <-p.Continuations():
	default:
		return nil
	}
	returned := false
	defer func() {
		if !returned && s.State() == session.StateAuth {
			// Before the panic goes on: the session must not stay
			// authenticated to a server whose challenge went unchecked.
			abortAccepted(s)
		}
	}()
	resp, cerr := answer(p, next, text, owed, ir)
	returned = true
	if cerr != nil {
		return cancel(ctx, s, p, mech, cerr)
	}
	// The verdict: the challenge accepted. Nothing is written (the
	// command is over: ErrCommandEnded); the session holds the commands
	// queued behind the AUTHENTICATE until it is given (Pending.Continue).
	line := ""
	if len(resp) > 0 {
		line = base64.StdEncoding.EncodeToString(resp)
	}
	if err := p.Continue(ctx, []byte(line)); err != nil && !errors.Is(err, session.ErrCommandEnded) {
		return err
	}
	return nil
}

// answer is the response to the continuation request text: ir when it
// is owed (the initial response, not sent on the command line), else
// next's answer to the decoded challenge (callNext).
func answer(p *session.Pending, next func([]byte) ([]byte, error), text []byte, owed bool, ir []byte) ([]byte, error) {
	if owed {
		return ir, nil
	}
	chal, derr := base64.StdEncoding.DecodeString(string(text))
	if derr != nil {
		return nil, fmt.Errorf("auth: the server's challenge is not base64: %w", derr)
	}
	return callNext(p, next, chal)
}

// callNext calls next with a challenge. When it panics (the caller's
// mechanism or AuthenticateFunc callback), the exchange is cancelled with
// "*" and any later challenge answered so: RefuseContinuations answers
// the "+" taken here and not answered, and every later one, on a
// goroutine of its own whose writes the session bounds (the caller's
// context may have ended). The server, left waiting for a line, would
// hold every later command behind it. The panic goes on.
func callNext(p *session.Pending, next func([]byte) ([]byte, error), chal []byte) (resp []byte, err error) {
	returned := false
	defer func() {
		if !returned {
			p.RefuseContinuations()
		}
	}()
	resp, err = next(chal)
	returned = true
	return resp, err
}

// cancel sends "*" and waits for the server's tagged answer. A further
// challenge (a hostile or confused server) is answered "*" too
// (RefuseContinuations): unanswered, it would leave the server waiting
// and the command behind it until ctx or the command timeout ends. A
// tagged OK to the "*" aborts the session (session.ErrCancelAccepted,
// as for an OK to a "*" the refusal sent in the background): the
// *CanceledError holds that error and matches ErrCancelAccepted,
// session.ErrProtocol and session.ErrAborted.
func cancel(ctx context.Context, s *session.Session, p *session.Pending, mech string, cause error) error {
	// ErrCancelAccepted: the OK to the "*" was read while its write still
	// waited, and aborted the session, cutting the write: the abort is the
	// answer, as below.
	if err := p.Continue(ctx, []byte("*")); err != nil && !errors.Is(err, session.ErrCommandEnded) && !errors.Is(err, session.ErrCancelAccepted) {
		return err
	}
	p.RefuseContinuations()
	// Sent, or the server ended the command first: its answer follows.
	select {
	case <-p.Done():
		_, err := p.Wait(ctx)
		ce := &CanceledError{Mechanism: mech, Err: cause}
		var se *session.StatusError
		switch {
		case errors.As(err, &se):
			ce.Status = se.Status
		case errors.Is(err, session.ErrCancelAccepted):
			// RFC 4422 section 3.5: the server MUST fail an aborted
			// exchange. The session aborted itself before reaching
			// AUTH (acceptedCancel in package session).
			ce.abort = err
		case err != nil:
			return err // the session ended
		default:
			// The server's OK was read before the "*" went (or the "*"
			// came after it: ErrCommandEnded): the session is in AUTH
			// with a server that accepted an exchange the client
			// cancelled. Aborted, as acceptedCancel aborts it when the
			// OK answers a "*" already written, with an error that
			// matches what that one does (ErrCancelAccepted,
			// ErrProtocol, ErrAborted).
			ce.abort = abortAccepted(s)
		}
		return ce
	case <-ctx.Done():
		return ctx.Err() // RefuseContinuations answers what comes
	}
}

func encode(b []byte) string {
	if len(b) == 0 {
		return "=" // RFC 4959: an empty initial response
	}
	return base64.StdEncoding.EncodeToString(b)
}
