package session

import (
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestRedactSyntaxEverySyntaxError: an error holding two syntax errors
// (a malformed response's and its skip's, codec's skipError: both wrapped,
// Unwrap() []error), each quoting a part of an echoed password, shows
// neither once redacted: errors.As found the first only.
func TestRedactSyntaxEverySyntaxError(t *testing.T) {
	const pw = "Tr0ub4dor-correct-horse-battery-staple"
	x := &secrets{}
	x.add([]byte(pw))
	first := &wire.SyntaxError{Offset: 10, Expected: "flag", Got: strconv.Quote(pw[:16]) + "..."}
	skip := &wire.SyntaxError{Offset: 60, Expected: "']' to end the response code before its literal", Got: strconv.Quote(pw[len(pw)-11:] + "{5}\r\n")}
	err := error(&codec.DecodeError{Offset: 0, Name: "FLAGS", Err: &bothErrors{first, &oneError{skip}}})
	x.redactSyntax(err)
	msg := err.Error()
	for i := 0; i+5 <= len(pw); i++ {
		if strings.Contains(msg, pw[i:i+5]) {
			t.Fatalf("the redacted error shows %q of the password: %s", pw[i:i+5], msg)
		}
	}
}

// bothErrors is codec's skipError as its caller sees it: a message made
// when asked, both errors wrapped.
type bothErrors struct{ a, b error }

func (e *bothErrors) Error() string   { return e.a.Error() + "; skipping the rest: " + e.b.Error() }
func (e *bothErrors) Unwrap() []error { return []error{e.a, e.b} }

// oneError is wire's out-of-step error: one cause, its message made when
// asked.
type oneError struct{ err error }

func (e *oneError) Error() string { return e.err.Error() + " (out of step)" }
func (e *oneError) Unwrap() error { return e.err }
