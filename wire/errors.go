package wire

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error returned by the tokenizer that concerns a
// limit wraps one of these, so callers test them with errors.Is.
var (
	// ErrLineTooLong means a line held more bytes than MaxLineLength.
	ErrLineTooLong = errors.New("wire: line too long")
	// ErrLiteralTooLarge means a literal announced more bytes than MaxLiteral.
	ErrLiteralTooLarge = errors.New("wire: literal too large")
	// ErrStringTooLarge means a literal asked for as bytes (LiteralBytes,
	// String, AString, NString) is larger than MaxStringLiteral; read it with
	// LiteralReader instead.
	ErrStringTooLarge = errors.New("wire: literal too large to return as a string")
	// ErrTooDeep means parentheses or brackets nested deeper than MaxDepth.
	ErrTooDeep = errors.New("wire: nesting too deep")
	// ErrTooManyTokens means AppendLine or AppendUntilLiteral appended
	// MaxLineTokens tokens and the line goes on. It is not a failure of
	// the stream: the tokens returned with it are valid, and the next call
	// goes on with the same line.
	ErrTooManyTokens = errors.New("wire: too many tokens for one call")
	// ErrNumberOverflow means a number does not fit in 64 bits.
	ErrNumberOverflow = errors.New("wire: number overflows 64 bits")
	// ErrCannotRewind means Rewind was given a mark from an earlier line, or
	// the tokenizer streamed a literal since the mark was taken.
	ErrCannotRewind = errors.New("wire: mark is no longer valid")
	// ErrLiteralPending means LiteralBytes or LiteralReader was called when
	// no literal header had just been read.
	ErrLiteralPending = errors.New("wire: no literal is pending")
	// ErrOutOfStep means the tokenizer could not get back in step with its
	// stream within its limits: SkipLine met a literal over MaxLiteral or a
	// line that went on past MaxLineLength. The error also matches the
	// limit's own sentinel (ErrLiteralTooLarge, ErrLineTooLong) and
	// *LimitError. Every later call fails the same way: close the
	// connection.
	ErrOutOfStep = errors.New("wire: stream out of step")
	// ErrLiteralOpen means Unshare was called while a literal was open.
	ErrLiteralOpen = errors.New("wire: a literal is open")
	// ErrSyntax matches every *SyntaxError: errors.Is(err, ErrSyntax) tells
	// malformed input from I/O errors and limits without allocating (unlike
	// errors.As with a new target on every call).
	ErrSyntax = errors.New("wire: syntax error")
	// ErrForwardGap means Forward cannot write what was consumed because
	// some of it left the buffer unforwarded: the previous line was not
	// forwarded before the next one began, SkipLine dropped bytes, or a
	// literal body was skipped or streamed before the bytes ahead of it
	// were forwarded. Relaying on would corrupt the stream: close it.
	ErrForwardGap = errors.New("wire: consumed bytes were dropped before they were forwarded")
	// ErrSkipPending means a call was made while a SkipLine, ForwardLine,
	// ForwardLongLine or RefuseLine of the current line that a read or
	// write error interrupted waits to be resumed. The interrupted call
	// gave up part of the line (or of a literal in it) and keeps what it
	// needs to frame the rest: reading tokens there would take the middle
	// of the line (the digits of a literal's header, a literal's body)
	// for tokens, and a Drop would restart the line's count. Call the
	// interrupted method again (SkipLine may resume a ForwardLine), or
	// Reset. Once the end of the stream interrupted the skip, those calls
	// return io.EOF instead. A skip interrupted before any byte of the
	// next line came (an idle deadline between two lines) took nothing:
	// no call fails with it then.
	ErrSkipPending = errors.New("wire: an interrupted skip of the line must be resumed first")
	// ErrHeaderForwarded means ForwardAsSync was called for a literal whose
	// header was forwarded already, as it was sent.
	ErrHeaderForwarded = errors.New("wire: the literal header was forwarded already")
)

// outOfStepError is the sticky error of a tokenizer out of step.
type outOfStepError struct{ cause error }

func (e *outOfStepError) Error() string {
	return e.cause.Error() + " (stream out of step, the connection must be closed)"
}

// Unwrap returns ErrOutOfStep and the cause, for errors.Is and errors.As.
func (e *outOfStepError) Unwrap() []error { return []error{ErrOutOfStep, e.cause} }

// SyntaxError reports input that does not match what the caller asked for.
// It says where (the stream offset of the offending byte), what was expected
// and what was found.
type SyntaxError struct {
	Offset   int64  // stream offset of the first offending byte
	Expected string // what the caller asked for, e.g. "atom" or "')'"
	Got      string // a short quoted excerpt of what was found, or "EOF"
	Err      error  // an optional sentinel such as ErrNumberOverflow
}

// Error implements error.
func (e *SyntaxError) Error() string {
	s := "wire: syntax error at offset " + strconv.FormatInt(e.Offset, 10) +
		": expected " + e.Expected + ", got " + e.Got
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Unwrap returns the sentinel, if any.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Is reports whether target is ErrSyntax, so that errors.Is(err, ErrSyntax)
// matches every *SyntaxError.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// LimitError reports input that exceeded one of the tokenizer's limits. It
// wraps ErrLineTooLong, ErrLiteralTooLarge, ErrStringTooLarge, ErrTooDeep
// or ErrTooManyTokens.
type LimitError struct {
	Offset int64 // stream offset where the limit was hit
	Limit  int64 // the configured limit
	// Got is the size or depth found (for literals: the announced size;
	// for ErrTooManyTokens, Limit+1: the line has more tokens than one
	// call returns).
	Got int64
	Err error // the sentinel
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%v at offset %d: %d exceeds the limit of %d", e.Err, e.Offset, e.Got, e.Limit)
}

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Err }

// excerpt quotes up to 16 bytes of b for an error message.
func excerpt(b []byte) string {
	if len(b) == 0 {
		return "EOF"
	}
	if len(b) > 16 {
		return strconv.Quote(string(b[:16])) + "..."
	}
	return strconv.Quote(string(b))
}
