package commands

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// ReplaceIncompleteError is returned by Replace without REPLACE when the
// new message was appended but the old one could not be removed: both are
// in their mailboxes, unless Unknown. Append is the new message's
// APPENDUID.
type ReplaceIncompleteError struct {
	Append *AppendResult
	// Old is the old message's UID.
	Old uint32
	// Deleted says that the old message was flagged \Deleted before its
	// UID EXPUNGE failed: it stays so, and the next EXPUNGE of the
	// mailbox, by this client or another, removes it. Clear the flag
	// (Store with RemoveFlags) to keep it.
	Deleted bool
	// Unknown says that the failing command's answer was not had (the
	// connection lost, the context ended): it may have run. The old
	// message may carry \Deleted (STORE) or be gone (UID EXPUNGE): look
	// before acting on it.
	Unknown bool
	Err     error
}

// Error implements error.
func (e *ReplaceIncompleteError) Error() string {
	if e.Unknown {
		what := "flagged \\Deleted"
		if e.Deleted {
			what = "removed"
		}
		return fmt.Sprintf("commands: replace: the new message was appended; the old one (UID %d) may or may not have been %s (no answer): %v", e.Old, what, e.Err)
	}
	left := ""
	if e.Deleted {
		left = `, left flagged \Deleted`
	}
	return fmt.Sprintf("commands: replace: the new message was appended but the old one (UID %d%s) not removed: %v", e.Old, left, e.Err)
}

// answerLost reports whether err, of a command that was started, leaves
// its outcome unknown: neither the server's NO or BAD nor not sent.
func answerLost(err error) bool {
	var refused *session.StatusError
	return !errors.As(err, &refused) && !errors.Is(err, session.ErrNotSent)
}

// Unwrap returns the cause. It never matches session.ErrNotSent: the new
// message was appended, and a Replace tried again would append it twice
// (partlyDone).
func (e *ReplaceIncompleteError) Unwrap() error { return partlyDone(e.Err) }

// partlyDone returns err, the failure of a step of work already partly
// done, as the cause of the whole: when that step was not sent
// (session.ErrNotSent, which says "safe to retry"), the result keeps its
// text and the step's own cause (a context's error, ErrReselected, the
// session's end) but no longer matches ErrNotSent: the work done before
// it makes a retry of the whole unsafe (a message copied or appended
// again).
//
// Only the branch that leads to the *session.NotSentError is rebuilt:
// the others (a copy's *SplitError or *session.ResultTooLargeError
// joined beside it) stay as they are, for errors.As and errors.Is.
func partlyDone(err error) error {
	if ns, ok := err.(*session.NotSentError); ok {
		return &stepNotSentError{msg: ns.Error(), errs: []error{ns.Err}}
	}
	if err == nil || !errors.Is(err, session.ErrNotSent) {
		return err
	}
	var errs []error
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		errs = x.Unwrap()
	case interface{ Unwrap() error }:
		errs = []error{x.Unwrap()}
	default:
		return err
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = partlyDone(e)
	}
	return &stepNotSentError{msg: err.Error(), errs: out}
}

// stepNotSentError: see partlyDone.
type stepNotSentError struct {
	msg  string
	errs []error
}

func (e *stepNotSentError) Error() string   { return e.msg }
func (e *stepNotSentError) Unwrap() []error { return e.errs }

// Replace replaces one message of the selected mailbox with another
// (REPLACE or UID REPLACE, RFC 8508), as a mail client saves a draft
// again: it appends the new message, size bytes read from r, to mailbox
// (the selected one or another) with opts as Append takes them, and
// expunges msg, which holds a single UID or sequence number. It returns
// the new message's APPENDUID.
//
// Where the server offers REPLACE, both happen at once or neither does.
// Without it, with UIDPLUS, Replace appends, then (only once the APPEND
// succeeded) stores \Deleted on msg and expunges it alone (UID EXPUNGE): a
// failure in between leaves both messages and returns a
// *ReplaceIncompleteError. Without either it sends nothing and returns
// ErrUnsupported, rather than expunge other messages marked \Deleted.
// As in Move, its commands go to the mailbox selected when it began or not
// at all (session.ErrReselected), and none after the mailbox's
// UIDVALIDITY changed since the call (ErrUIDValidity: a
// *ReplaceIncompleteError once the APPEND is done). The fallback first asks for msg's UID
// (UID FETCH): with no mailbox selected, msg not there, or the mailbox open
// read-only, it appends nothing and returns a *session.StateError, an
// error, or ErrMailboxReadOnly.
func (c *Client) Replace(ctx context.Context, msg Set, mailbox string, r io.Reader, size int64, opts *AppendOptions) (*AppendResult, error) {
	rg := msg.Nums.Ranges()
	if msg.Saved || len(rg) != 1 || rg[0].Start != rg[0].Stop || rg[0].Start == 0 {
		return nil, fmt.Errorf("commands: Replace takes one message, not %s", msg)
	}
	r, size, o, err := c.prepareAppend(r, size, opts)
	if err != nil {
		return nil, err
	}
	// The old message is removed from this mailbox or not at all
	// (session.ErrReselected).
	ctx = c.bindSelection(ctx)
	if c.hasCap("REPLACE") {
		sel := c.s.Selections()
		res, err := c.run(ctx, c.target(&session.Command{
			Name: msg.name("REPLACE"),
			Args: func(e *wire.Encoder) {
				c.appendMessage(c.mailbox(msg.encode(e), mailbox), r, size, &o)
			},
			Want: func(r codec.Response) bool {
				switch r := r.(type) {
				case *codec.Expunge, *codec.Vanished:
					return true
				case *codec.Status:
					// APPENDUID in an untagged OK, as RFC 8508's
					// example has it.
					return r.Code != nil && r.Code.Kind == codec.CodeAppendUID
				}
				return false
			},
		}, &msg, mailbox))
		if err != nil {
			return nil, err
		}
		return c.checkAppendUID(appendResult(res), sel, mailbox), nil
	}
	if !c.hasCap("UIDPLUS") {
		return nil, fmt.Errorf("%w: REPLACE (and no UIDPLUS to expunge the old message alone)", ErrUnsupported)
	}
	// UID EXPUNGE needs the UID: asked for before anything changes,
	// which also finds, before the new message is appended, that no
	// mailbox is selected (a *session.StateError, after a SELECT still in
	// flight), that the old message is not there, or that the mailbox is
	// open read-only: the fallback appended first, then could not remove
	// the old one (a second copy at each try).
	ms, err := c.FetchAll(ctx, msg, &FetchItems{UID: true})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 || ms[0].UID == 0 {
		return nil, fmt.Errorf("commands: replace: no message %s", msg)
	}
	old := UIDs(ms[0].UID)
	if err := c.writable(ctx); err != nil {
		return nil, err
	}
	res, err := c.Append(ctx, mailbox, r, size, &o)
	if err != nil {
		return nil, err
	}
	if _, err := c.Store(ctx, old, AddFlags, []string{`\Deleted`}, &StoreOptions{Silent: true}); err != nil {
		return res, &ReplaceIncompleteError{Append: res, Old: ms[0].UID, Unknown: answerLost(err), Err: err}
	}
	if _, err := c.Expunge(ctx, &old); err != nil {
		return res, &ReplaceIncompleteError{Append: res, Old: ms[0].UID, Deleted: true, Unknown: answerLost(err), Err: fmt.Errorf("UID EXPUNGE: %w", err)}
	}
	return res, nil
}
