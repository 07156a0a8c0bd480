package session

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// Sentinel errors, for errors.Is.
var (
	// ErrAborted: the connection is unusable (imaplib's abort): EOF, BYE
	// outside LOGOUT, a tagged response for an unknown tag, a limit
	// exceeded, an idle-read timeout, a command cancelled in the middle of
	// a literal. Reconnect and retry. Every *AbortError matches it.
	ErrAborted = sentinel("session: connection aborted")
	// ErrClosed: the session was closed by the caller.
	ErrClosed = sentinel("session: closed")
	// ErrNo matches a *StatusError for a tagged NO.
	ErrNo = sentinel("session: command failed (NO)")
	// ErrBad matches a *StatusError for a tagged BAD.
	ErrBad = sentinel("session: command rejected (BAD)")
	// ErrReadOnly matches a *ReadOnlyError (imaplib's readonly).
	ErrReadOnly = sentinel("session: mailbox is read-only")
	// ErrProtocol matches a *ProtocolError: the server broke the protocol
	// (a tagged response for a command not yet sent, or received before
	// it was sent, whatever its kind; an unknown tag; a continuation
	// request nobody asked for). The session is aborted, but for a tagged
	// response that is neither OK, NO nor BAD for a command sent: that
	// ends its command alone.
	ErrProtocol = sentinel("session: protocol violation by the server")
	// ErrCancelAccepted matches the abort of a session whose server
	// answered OK to an AUTHENTICATE the client cancelled with "*"
	// (Pending.Continue, or Pending.RefuseContinuations answering a "+",
	// which the auth package calls when the caller's context ends or a
	// mechanism panics; a Wait with Command.OnContinue abandoned): RFC
	// 4422 section 3.5 says the server MUST fail such an exchange. The
	// session is aborted before it reaches AUTH (it would be logged in as
	// whoever the server chose, to a server not proven): the error is an
	// *AbortError wrapping a *ProtocolError, and matches ErrAborted and
	// ErrProtocol too. An OK read before the "*" could go (the server
	// sent a challenge and its OK together) is the same: no "*" is
	// written after it, and Wait aborts the session when OnContinue
	// refuses (or panics on) that challenge, the session in AUTH only
	// until then.
	ErrCancelAccepted = sentinel("session: the server accepted an authentication exchange the client cancelled")
	// ErrBye matches a *ByeError: the server said BYE.
	ErrBye = sentinel("session: server said BYE")
	// ErrGreeting matches the errors of Open for a greeting that is not
	// "* OK" or "* PREAUTH" (a BYE greeting also matches ErrBye).
	ErrGreeting = sentinel("session: bad greeting")
	// ErrNotIMAP4 is returned by Open when the server announces none of
	// IMAP4rev2, IMAP4rev1 and IMAP4.
	ErrNotIMAP4 = sentinel("session: server not IMAP4 compliant")
	// ErrStartTLSUnavailable: the server does not offer STARTTLS. On a
	// connection that should have it, this is what a stripping attack
	// looks like: do not go on without TLS.
	ErrStartTLSUnavailable = sentinel("session: the server does not offer STARTTLS")
	// ErrTLSActive: STARTTLS on a connection that is already TLS.
	ErrTLSActive = sentinel("session: TLS is already on")
	// ErrCompressUnavailable: the server does not offer COMPRESS=DEFLATE.
	ErrCompressUnavailable = sentinel("session: the server does not offer COMPRESS=DEFLATE")
	// ErrCompressActive: compression is already on (Compress), or is on
	// and StartTLS would have to go under it (COMPRESS, UNAUTHENTICATE,
	// then STARTTLS).
	ErrCompressActive = sentinel("session: compression is already on")
	// ErrTimeout matches a *TimeoutError: one of the session's own
	// timeouts fired (greeting, stall, command). A TimeoutError also
	// matches os.ErrDeadlineExceeded.
	ErrTimeout = sentinel("session: timeout")
)

// ErrCommandEnded is what Pending.Continue returns, having sent nothing,
// when the command has ended: the server answered it before the line was
// written (a server that ends IDLE on its own while the client sends
// DONE).
var ErrCommandEnded = sentinel("session: the command has ended")

// ErrBodyDropped is the error of a read of a pulled command's body
// section after the command's answer was given up (Pending.Wait, or the
// context of Pending.Next ended) while the section was being read, or
// once the context of the Next that handed the section out has ended
// (the error then matches that context's error too: see Item.Body).
var ErrBodyDropped = sentinel("session: the section's command was waited for or abandoned while it was read")

// ErrReselected is wrapped by the *NotSentError of a command whose
// Command.Selection no longer held when its turn came: another mailbox was
// selected, or the mailbox closed, since.
var ErrReselected = sentinel("session: the selected mailbox changed")

// ErrNotSent matches a *NotSentError.
var ErrNotSent = sentinel("session: command not sent")

// NotSentError reports a command that ended before any of its bytes were
// sent (its context ended while it waited for its turn, another mailbox
// was selected, the session was closed, the Part.Open it starts with
// failed: see wire.Encoder.LiteralFunc): it is safe to retry, whatever it
// was, on this session unless the error also matches ErrClosed or
// ErrAborted (the session has ended: on another one). It wraps the cause,
// so errors.Is(err, context.DeadlineExceeded) still holds; a failed Open's
// error as an *OpenError, which keeps this package's sentinels of its
// chain (another session's) out of errors.Is and errors.As. Any other error
// of a command that was started means it may have run, but for one
// matching ErrWriteCut.
type NotSentError struct{ Err error }

// Error implements error.
func (e *NotSentError) Error() string { return "session: command not sent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *NotSentError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotSent) true.
func (e *NotSentError) Is(target error) bool { return target == ErrNotSent }

// OpenError is the cause a *NotSentError wraps when the Part.Open a
// command starts with failed before any byte of the command was written
// (see wire.Encoder.LiteralFunc; commands' AppendMany opens its first
// message so): Err is what the Open returned (or the context's error, when
// the context ended while that Open blocked), whole.
//
// Through errors.Is and errors.As an OpenError matches what Err matches
// (the caller's own errors, a context's error, another package's), but
// never this package's sentinel errors and error types: an Open that
// reads its message from another session (a copy tool) may fail with that
// session's ErrWriteCut, ErrAborted, ErrClosed, *TimeoutError or
// *StatusError, none of which is true of this command, which was not
// sent, nor of this session, which goes on. Nor does it match what such
// an error answers for (a *TimeoutError's os.ErrDeadlineExceeded) or is
// found as through an interface (a *TimeoutError as an interface{
// Timeout() bool }): the errors of Err's chain whose type this package
// declares are passed over, their Is and As methods not asked, and only
// what they wrap is looked at. Reach them, when needed, through Err
// itself.
type OpenError struct{ Err error }

// Error implements error: Err's text.
func (e *OpenError) Error() string { return e.Err.Error() }

// Is reports whether an error of Err's chain that is not of this
// package's types matches target (is it, or its Is method says so),
// unless target is one of this package's sentinel errors.
func (e *OpenError) Is(target error) bool {
	if target == nil || declaredHere(target) {
		return false
	}
	comparable := reflect.TypeOf(target).Comparable()
	return foreignChain(e.Err, func(err error) bool {
		if comparable && err == target {
			return true
		}
		x, ok := err.(interface{ Is(error) bool })
		return ok && x.Is(target)
	})
}

// As finds the first error of Err's chain that is not of this package's
// types and matches target (as errors.As would), unless target points to
// one of this package's types.
func (e *OpenError) As(target any) bool {
	v := reflect.ValueOf(target)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() || declaredHere(target) {
		return false
	}
	to := v.Type().Elem()
	return foreignChain(e.Err, func(err error) bool {
		if reflect.TypeOf(err).AssignableTo(to) {
			v.Elem().Set(reflect.ValueOf(err))
			return true
		}
		x, ok := err.(interface{ As(any) bool })
		return ok && x.As(target)
	})
}

// foreignChain walks err's chain depth first, as errors.Is and errors.As
// do (Unwrap() error and Unwrap() []error), and reports whether match
// holds for one of its errors whose type is not declared in this package:
// such an error is not asked, only what it wraps is walked.
func foreignChain(err error, match func(error) bool) bool {
	for err != nil {
		if !declaredHere(err) && match(err) {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if foreignChain(err, match) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// declaredHere reports whether v's type, or the type it points to (a
// pointer to a pointer, as errors.As's target may be, too), is declared
// in this package: its errors, its sentinel errors (of type
// *sentinelError), and errors.As's targets for them.
func declaredHere(v any) bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == sessionPkg
}

// sessionPkg is this package's import path, as reflect gives it.
var sessionPkg = reflect.TypeOf(OpenError{}).PkgPath()

// sentinelError is the type of this package's sentinel errors, which
// sentinel makes: declared here, so that an OpenError tells them from
// other packages' errors by their type (TestSentinelsDeclaredHere checks
// that every package-level error variable is made so).
type sentinelError struct{ text string }

// Error implements error.
func (e *sentinelError) Error() string { return e.text }

// sentinel returns a new sentinel error with text, as errors.New does.
func sentinel(text string) error { return &sentinelError{text} }

// ErrWriteCut matches the error of a command whose writing failed part
// way (its context ended past the write's grace, a Read or Open of its
// literal's body failed or was cut, the connection failed), which aborts
// the session: the command's last byte never went out, and with the
// connection closed before it the server did not run the command (an
// APPEND appended nothing). Unlike a *NotSentError, the session is gone:
// retry on a new one. The error matches ErrAborted too, the context's
// error when the context had ended, and the body's error (with its chain)
// when a body's Read or Open failed. A command written before the cut one
// whose last byte did not go out either (a batch's earlier command, its
// bytes in the buffer that the cut write, or StartBatch's flush of them
// before a later command, was pushing out) matches ErrWriteCut and
// ErrAborted too (since stop 53; before, ErrAborted alone), but neither
// the context's error nor the body's, when the write's failure ended the
// session (the connection's write error, the write stall bound, the
// context of the command written). Such a command matches ErrAborted
// alone (it may have run: the safe side): under COMPRESS=DEFLATE once
// all its bytes went into the deflater (what the deflater took is
// counted, not what reached the connection, which lags it); and when the
// session ended first for another reason while the write was blocked (a
// BYE, a read error or timeout, Close, Abort): it ends then with that
// error (ErrClosed for Close), before the blocked write returns to tell
// how much the connection took; only the command being written, whose
// writer learns it as the write returns, still gets ErrWriteCut. The
// other commands in flight get an *AbortError whose
// cause has the body's error text but not its chain (a body read from
// another session may wrap ErrWriteCut, ErrNotSent, a context's error or
// that session's *StatusError, none of which is true of them). Under
// COMPRESS=DEFLATE, a connection write that fails once the command's last
// byte went into the deflater is not a cut: the write may have delivered
// the whole command (all but the sync flush's marker), and the server
// may run it; its error matches ErrAborted alone (answer not known).
var ErrWriteCut = sentinel("session: the command was cut off while it was written")

// ErrDecoderPanic: decoding a server's response panicked. That is a bug
// of this module, met on bytes no test or fuzz target had tried; rather
// than the panic ending the whole process from the session's reader
// goroutine, the session ends with an *AbortError wrapping this error
// (its text holds the panic's value; the stack goes to Options.Logger at
// level Error). Please report it.
var ErrDecoderPanic = sentinel("session: decoding a response panicked (a bug in imapkit)")

// ErrInvalidCommand: a Command's Name is empty (after normalising) or
// holds CR, LF or NUL, which would end its line and start another command.
// Start and Run return it before anything is sent or registered.
var ErrInvalidCommand = sentinel("session: invalid command name")

// ErrInvalidContinuation: a line given to Pending.Continue holds CR, LF or
// NUL, which would end the line and start another command. Nothing was
// sent; the command goes on.
var ErrInvalidContinuation = sentinel("session: continuation line holds CR, LF or NUL")

// ErrNotPull: Pending.Next was called on a command not started with
// Command.Pull. It is the caller's mistake; the command goes on.
var ErrNotPull = sentinel("session: Next on a command not started with Pull")

// ErrPanicked is matched by the error of a panic in the caller's code
// that the session saw while it sent a command (its Args, a body's Read
// or Open, a Trace writer or slog handler) or read for a pulled one (a
// Command.Want, the reading a Pending.Next drives): the command ends with
// it (a *NotSentError when nothing of it had gone out, else the session
// is aborted and every command in flight ends with an *AbortError
// wrapping it), and the panic goes on to the caller. Its text names the
// command and the panic's value. A panic of the decoder itself is
// ErrDecoderPanic.
var ErrPanicked = sentinel("session: panic")

// ErrResultTooLarge matches a *ResultTooLargeError.
var ErrResultTooLarge = sentinel("session: result too large")

// ResultTooLargeError: a command's responses passed Options.MaxResultBytes
// and the rest were dropped. The command ran; its Result holds the tagged
// status and the responses kept. Stream large answers with
// Command.OnData and Command.Sections, or raise the option.
//
// A pulled command (Command.Pull) holds only what its caller has not taken
// yet: Queued says that this passed the bound. The reader had to go on
// while the caller did not take the responses, most often because the
// caller ran another command before it was done with this one (in a
// Fetch loop's body, say). Servers answer pipelined commands in order, so
// that command's answer comes after the whole rest of this one's, which
// was queued meanwhile. Run such commands after the loop (collect the
// messages' UIDs, then one STORE), or on a session of their own.
type ResultTooLargeError struct {
	Command  string
	Limit    int64 // the bound (Options.MaxResultBytes), in bytes
	Dropped  int   // responses left out
	Sections int   // body sections left out (Section.Missing), their FETCH kept
	Queued   bool  // the queue of a pulled command passed the bound
}

// Error implements error.
func (e *ResultTooLargeError) Error() string {
	what := ": answer over Options.MaxResultBytes ("
	if e.Queued {
		what = ": answer queued while its caller did not take it (another command waiting for its end?) over Options.MaxResultBytes ("
	}
	return "session: " + e.Command + what +
		strconv.FormatInt(e.Limit, 10) + " bytes): " + strconv.Itoa(e.Dropped) + " responses and " +
		strconv.Itoa(e.Sections) + " body sections left out"
}

// Is makes errors.Is(err, ErrResultTooLarge) true.
func (e *ResultTooLargeError) Is(target error) bool { return target == ErrResultTooLarge }

// ProtocolError reports a server that broke the protocol. The session is
// aborted: the error reaches the caller wrapped in an *AbortError; but a
// tagged response that is neither OK, NO nor BAD ends its command alone,
// whose error wraps the *ProtocolError (the session goes on, in the state
// the same command answered BAD leaves: a SELECT, CLOSE or UNSELECT with
// no mailbox selected, a LOGIN, LOGOUT or UNAUTHENTICATE as refused).
type ProtocolError struct {
	Reason string // what the server did, with server text escaped
	kind   error  // a sentinel it matches besides ErrProtocol (ErrCancelAccepted), or nil
}

// Error implements error.
func (e *ProtocolError) Error() string { return "protocol violation: " + e.Reason }

// Is makes errors.Is(err, ErrProtocol) true.
// An OK to a cancelled AUTHENTICATE matches ErrCancelAccepted too.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol || e.kind != nil && target == e.kind
}

// ByeError is the server's BYE: at the greeting (from Open), or outside
// LOGOUT (the session is aborted and the ByeError is the AbortError's
// cause). Status holds the response code (say [UNAVAILABLE]) and the text,
// raw.
type ByeError struct {
	Status *codec.Status // owned by the error
}

// Error implements error.
func (e *ByeError) Error() string { return "server said " + statusString(e.Status) }

// Is makes errors.Is(err, ErrBye) true, and ErrGreeting when the BYE was
// the greeting.
func (e *ByeError) Is(target error) bool { return target == ErrBye }

// Code returns the response code, or nil.
func (e *ByeError) Code() *codec.Code { return e.Status.Code }

// TimeoutError reports one of the session's own timeouts.
type TimeoutError struct {
	What  string        // which timeout: TimeoutGreeting, TimeoutStall, TimeoutWrite or TimeoutCommand; the typed client adds its own (commands.TimeoutIdleDone, ...)
	After time.Duration // the timeout that fired
	Err   error         // the cause, when there is one
}

// The values of TimeoutError.What for the session's own timeouts.
const (
	// TimeoutGreeting: no greeting came within Options.GreetingTimeout
	// (or before Open's context ended).
	TimeoutGreeting = "greeting"
	// TimeoutStall: commands were waiting for the server and no byte came
	// within Options.StallTimeout.
	TimeoutStall = "stall"
	// TimeoutCommand: a command ran past Options.CommandTimeout (or past
	// its context's deadline and the stall timeout's grace), or an
	// AUTHENTICATE answered OK with its last challenge sent together got
	// no verdict on that challenge by then (Pending.Continue).
	TimeoutCommand = "command"
	// TimeoutWrite: the server took no byte of what the session was
	// sending within four times Options.StallTimeout.
	TimeoutWrite = "write"
)

// errLateUnsettled is the cause (TimeoutError.Err) of the TimeoutCommand
// abort of a session whose AUTHENTICATE, answered OK with a challenge sent
// together, got no verdict on that challenge by its bound (holdLocked).
var errLateUnsettled = sentinel("session: no verdict on the challenge that came with the AUTHENTICATE's OK")

// Error implements error.
func (e *TimeoutError) Error() string {
	var s string
	switch e.What {
	case TimeoutStall:
		s = "no byte from the server in " + e.After.String()
	case TimeoutCommand:
		if e.Err == errLateUnsettled {
			// The command is done (its OK read); the verdict on
			// the challenge that came with it is not.
			s = "authentication's late challenge not settled in " + e.After.String()
			break
		}
		s = "command not done in " + e.After.String()
	case TimeoutWrite:
		s = "the server took no byte in " + e.After.String()
	default:
		s = e.What + " timeout after " + e.After.String()
	}
	return s
}

// Is makes errors.Is(err, ErrTimeout) and errors.Is(err,
// os.ErrDeadlineExceeded) true.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == os.ErrDeadlineExceeded
}

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

// Unwrap returns the cause, if any.
func (e *TimeoutError) Unwrap() error { return e.Err }

// statusString renders a status for an error: kind, code name and text,
// with control bytes escaped.
func statusString(st *codec.Status) string {
	var b strings.Builder
	b.WriteString(st.Kind.String())
	if c := st.Code; c != nil {
		b.WriteString(" [")
		b.WriteString(printable(c.Name))
		b.WriteString("]")
	}
	if len(st.Text) > 0 {
		b.WriteByte(' ')
		b.WriteString(printable(st.Text))
	}
	return b.String()
}

// StatusError is a command's tagged NO or BAD (imaplib's error). A NO is a
// result the caller may expect (no such mailbox, over quota); a BAD is a
// program error. errors.Is(err, ErrNo) and errors.Is(err, ErrBad) tell them
// apart; Status has the response code and text.
type StatusError struct {
	Command string        // the command's name, e.g. "SELECT"
	Status  *codec.Status // owned by the error
}

// Error implements error.
// The server's text is written with control bytes escaped; the raw text
// is in Status.Text. Credentials the session sent are redacted from both.
func (e *StatusError) Error() string {
	return "session: " + e.Command + ": " + statusString(e.Status)
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

// HasCode tells whether err is (or wraps) a *StatusError whose response
// code is of kind k: HasCode(err, codec.CodeTryCreate) after an APPEND or
// COPY says that creating the mailbox first would help.
func HasCode(err error, k codec.CodeKind) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status != nil && se.Status.Code != nil && se.Status.Code.Kind == k
}

// StateError reports a command used outside the states that allow it. It
// is returned before anything is sent.
type StateError struct {
	Command string
	State   State
	Allowed []State
}

// Error implements error, in imaplib's words, with what to do when that
// is plain: "(select a mailbox first)", "(log in first)".
func (e *StateError) Error() string {
	names := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		names[i] = s.String()
	}
	msg := "session: command " + e.Command + " illegal in state " + e.State.String() +
		", only allowed in states " + strings.Join(names, ", ")
	switch {
	case e.State == StateLogout:
		return msg + " (the session has logged out)"
	case e.State == StateNonAuth && !slices.Contains(e.Allowed, StateNonAuth):
		return msg + " (log in first)"
	case e.State == StateAuth && len(e.Allowed) == 1 && e.Allowed[0] == StateSelected:
		return msg + " (select a mailbox first)"
	}
	return msg
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
	return "session: mailbox " + printable([]byte(e.Mailbox)) + " is read-only"
}

// Is makes errors.Is(err, ErrReadOnly) true.
func (e *ReadOnlyError) Is(target error) bool { return target == ErrReadOnly }

// ErrMisrouted is matched by the error of the commands a FETCH body went
// astray between: a body that comes before its message's UID while more
// than one UID FETCH is in flight, and only one of them may still own it
// by the answers so far (servers answer by ascending UID), is streamed to
// that one (Command.Sections); a server that answers otherwise sends it
// to another command than its message. Both commands end with an error
// that matches ErrMisrouted (the message that lacks its body, and the
// body yielded without its message), rather than a silent mix. Running
// such fetches one after the other avoids it.
var ErrMisrouted = sentinel("session: a FETCH body came before its UID and went to another command than its message (pipelined UID FETCH answered out of order)")

// ErrRenumbered is wrapped by the *NotSentError of a command whose
// Command.Renumbered count is stale: sequence numbers may have come to
// name other messages since it was read (at the call of a command of
// package commands on sequence numbers, or before the first of the
// commands a long set was split into); not when the command waited for
// its turn from then on and the only changes were EXPUNGEs above its
// set's largest number (see Command.Renumbered). commands.ErrRenumbered
// is the same error.
var ErrRenumbered = sentinel("sequence numbers changed since they were read (a message expunged): they would name other messages")

// ErrNoMessages is wrapped by the *NotSentError of a command with
// Command.NotIfEmpty whose turn came while the selected mailbox was known
// to hold no message: its set, holding "*", named none.
var ErrNoMessages = sentinel("session: the selected mailbox holds no message")

// ErrUIDValidity is wrapped by the *NotSentError of a command whose
// Command.UIDValidity count is stale: the selected mailbox's UIDVALIDITY
// changed since the count was read (an untagged OK [UIDVALIDITY], RFC
// 9051 section 2.3.1.1), and the UIDs read before may name other
// messages, or none (Session.UIDValidityChanges). Select the mailbox
// again and read the UIDs anew. commands.ErrUIDValidity is the same
// error.
var ErrUIDValidity = sentinel("session: the mailbox's UIDVALIDITY changed since its UIDs were read: they may name other messages")
