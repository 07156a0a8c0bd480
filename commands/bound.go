package commands

import (
	"errors"

	"github.com/imapkit/imapkit/session"
)

// collectBound bounds what a collecting method (List, Search, Sort,
// FetchAll) keeps of a pulled answer, as the session bounds a collected
// Run: the session's MaxResultBytes, counted in session.Item.Size (wire
// bytes plus a fixed overhead per response; FetchAll counts the memory of
// a message's copy instead when it is larger, see Message.size). Past it,
// the method reads on to the end of the answer (the command ends as the
// server ends it) but drops what comes, and returns what it kept with a
// *session.ResultTooLargeError. A nil bound keeps everything (the
// iterators, which keep nothing).
type collectBound struct {
	cmd     string
	limit   int64
	used    int64
	dropped int
	// sections: the body sections the session's own bound on the
	// answer's queue left out (absorb).
	sections int
	// before, when set, runs before absorb takes in the session's drops:
	// FetchAll counts there the message it has not counted yet, which
	// came before them.
	before func()
}

func (c *Client) newBound(cmd string) *collectBound {
	return &collectBound{cmd: cmd, limit: c.s.MaxResultBytes()}
}

// keep counts a response of size bytes and reports whether it may be
// kept: once one is dropped, every later one is.
func (b *collectBound) keep(size int64) bool {
	if b == nil {
		return true
	}
	if b.dropped > 0 || b.used+size > b.limit {
		b.dropped++
		return false
	}
	b.used += size
	return true
}

// err is the *session.ResultTooLargeError of a bound that dropped
// something (or took in the session's, absorb), or nil.
func (b *collectBound) err() error {
	if b == nil || b.dropped == 0 && b.sections == 0 {
		return nil
	}
	return &session.ResultTooLargeError{Command: b.cmd, Limit: b.limit, Dropped: b.dropped, Sections: b.sections}
}

// absorb takes in err, the error that ended a pulled answer, when it is
// the session's *session.ResultTooLargeError: the session's reader went
// on ahead of the collecting loop (another goroutine's command waiting
// behind the answer, or responses large enough) and the queue of what
// the loop had not taken yet passed the same MaxResultBytes, so the
// session dropped the rest. That is b's bound passed at another place:
// which of the two a large answer passes first hangs on how far the
// reader got ahead, and the result must not. The responses the session
// dropped count as b's, what was kept is returned with b.err(), and its
// numbers are checked for a renumbering, as when b drops. b.err() does
// not say Queued: the caller ran nothing in a loop of its own, and
// Queued's advice is for that. It returns nil then, and err otherwise (a
// nil b, an iterator's, takes in nothing).
func (b *collectBound) absorb(err error) error {
	rt, ok := err.(*session.ResultTooLargeError)
	if b == nil || !ok {
		return err
	}
	if b.before != nil {
		b.before()
	}
	b.dropped += rt.Dropped
	b.sections += rt.Sections
	return nil
}

// tooLarge reports whether err is a *session.ResultTooLargeError: the
// collecting methods return what they kept with it.
func tooLarge(err error) bool {
	var rt *session.ResultTooLargeError
	return errors.As(err, &rt)
}
