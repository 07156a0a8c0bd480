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
// something, or nil.
func (b *collectBound) err() error {
	if b == nil || b.dropped == 0 {
		return nil
	}
	return &session.ResultTooLargeError{Command: b.cmd, Limit: b.limit, Dropped: b.dropped}
}

// tooLarge reports whether err is a *session.ResultTooLargeError: the
// collecting methods return what they kept with it.
func tooLarge(err error) bool {
	var rt *session.ResultTooLargeError
	return errors.As(err, &rt)
}
