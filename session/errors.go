package session

import (
	"errors"
	"strings"

	"github.com/imapkit/imapkit/codec"
)

// Sentinel errors, for errors.Is.
var (
	// ErrAborted: the connection is unusable (imaplib's abort): EOF, BYE
	// outside LOGOUT, a tagged response for an unknown tag, a limit
	// exceeded, an idle-read timeout, a command cancelled in the middle of
	// a literal. Reconnect and retry. Every *AbortError matches it.
	ErrAborted = errors.New("session: connection aborted")
	// ErrClosed: the session was closed by the caller.
	ErrClosed = errors.New("session: closed")
	// ErrNo matches a *StatusError for a tagged NO.
	ErrNo = errors.New("session: command failed (NO)")
	// ErrBad matches a *StatusError for a tagged BAD.
	ErrBad = errors.New("session: command rejected (BAD)")
	// ErrReadOnly matches a *ReadOnlyError (imaplib's readonly).
	ErrReadOnly = errors.New("session: mailbox is read-only")
)

// StatusError is a command's tagged NO or BAD (imaplib's error). A NO is a
// result the caller may expect (no such mailbox, over quota); a BAD is a
// program error. errors.Is(err, ErrNo) and errors.Is(err, ErrBad) tell them
// apart; Status has the response code and text.
type StatusError struct {
	Command string        // the command's name, e.g. "SELECT"
	Status  *codec.Status // owned by the error
}

// Error implements error.
func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString("session: ")
	b.WriteString(e.Command)
	b.WriteString(": ")
	b.WriteString(e.Status.Kind.String())
	if c := e.Status.Code; c != nil {
		b.WriteString(" [")
		b.Write(c.Name)
		b.WriteString("]")
	}
	if len(e.Status.Text) > 0 {
		b.WriteByte(' ')
		b.Write(e.Status.Text)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNo) and errors.Is(err, ErrBad) work.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNo:
		return e.Status.Kind == codec.StatusNO
	case ErrBad:
		return e.Status.Kind == codec.StatusBAD
	}
	return false
}

// Code returns the response code, or nil.
func (e *StatusError) Code() *codec.Code { return e.Status.Code }

// StateError reports a command used outside the states that allow it. It
// is returned before anything is sent.
type StateError struct {
	Command string
	State   State
	Allowed []State
}

// Error implements error, in imaplib's words.
func (e *StateError) Error() string {
	names := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		names[i] = s.String()
	}
	return "session: command " + e.Command + " illegal in state " + e.State.String() +
		", only allowed in states " + strings.Join(names, ", ")
}

// AbortError is a connection-level failure. It matches ErrAborted and wraps
// its cause; History holds the last exchanges on the connection, redacted
// (imaplib's _cmd_log).
type AbortError struct {
	Err     error
	History []string
}

// Error implements error.
func (e *AbortError) Error() string { return "session: connection aborted: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *AbortError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrAborted) true.
func (e *AbortError) Is(target error) bool { return target == ErrAborted }

// ReadOnlyError: a mailbox selected read-write was reported READ-ONLY
// (imaplib's readonly). Select it again and retry.
type ReadOnlyError struct {
	Mailbox string
}

// Error implements error.
func (e *ReadOnlyError) Error() string {
	return "session: mailbox " + e.Mailbox + " is read-only"
}

// Is makes errors.Is(err, ErrReadOnly) true.
func (e *ReadOnlyError) Is(target error) bool { return target == ErrReadOnly }
