package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// CopyResult is the COPYUID of a copy or move (UIDPLUS, RFC 4315): the
// destination's UIDVALIDITY and the source UIDs with the UIDs they got,
// in the same order. It is nil when the server sent no COPYUID.
type CopyResult struct {
	UIDValidity uint32
	Src, Dst    codec.SeqSet
}

// ErrMoveUnsupported is returned by Move when the server has neither MOVE
// nor UIDPLUS: the fallback could expunge messages it did not copy, so it
// is refused and nothing is sent.
var ErrMoveUnsupported = errors.New("commands: the server has neither MOVE nor UIDPLUS; refusing to move by COPY and EXPUNGE")

// MoveIncompleteError reports a fallback move whose COPY succeeded but
// whose removal from the source failed: the messages are in both
// mailboxes. Copy holds the COPYUID.
type MoveIncompleteError struct {
	Copy *CopyResult
	Err  error
}

// Error implements error.
func (e *MoveIncompleteError) Error() string {
	return "commands: move: messages copied but not removed from the source: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *MoveIncompleteError) Unwrap() error { return e.Err }

// Copy copies the messages in set to mailbox (COPY, or UID COPY). An
// empty set sends nothing and returns an empty result.
func (c *Client) Copy(ctx context.Context, set Set, mailbox string) (*CopyResult, error) {
	if c.holdsNone(set) {
		return &CopyResult{}, nil // nothing to send
	}
	r, err := c.run(ctx, c.target(&session.Command{Name: set.name("COPY"), Args: func(e *wire.Encoder) {
		c.mailbox(set.encode(e), mailbox)
	}}, &set, mailbox))
	if err != nil {
		return nil, err
	}
	return copyUID(r), nil
}

func copyUID(r *session.Result) *CopyResult {
	if st := r.Status; st != nil && st.Code != nil && st.Code.Kind == codec.CodeCopyUID {
		return &CopyResult{UIDValidity: st.Code.UIDValidity, Src: st.Code.Src.Clone(), Dst: st.Code.Dst.Clone()}
	}
	for _, d := range r.Data {
		// Servers that send COPYUID untagged before the tagged OK of MOVE
		// (RFC 6851 section 4.3).
		if st, ok := d.(*codec.Status); ok && st.Code != nil && st.Code.Kind == codec.CodeCopyUID {
			return &CopyResult{UIDValidity: st.Code.UIDValidity, Src: st.Code.Src.Clone(), Dst: st.Code.Dst.Clone()}
		}
	}
	return nil
}

// Move moves the messages in set to mailbox (an empty set sends nothing
// and returns an empty result): MOVE (RFC 6851) when the
// server offers it; otherwise, with UIDPLUS only, COPY, then STORE
// +FLAGS.SILENT (\Deleted) and UID EXPUNGE of exactly those UIDs, the last
// two only after the COPY succeeded (a *MoveIncompleteError when they
// fail). Without either it returns ErrMoveUnsupported and sends nothing.
func (c *Client) Move(ctx context.Context, set Set, mailbox string) (*CopyResult, error) {
	if c.holdsNone(set) {
		return &CopyResult{}, nil // nothing to send
	}
	if c.hasCap("MOVE") {
		r, err := c.run(ctx, c.target(&session.Command{
			Name: set.name("MOVE"),
			Args: func(e *wire.Encoder) { c.mailbox(set.encode(e), mailbox) },
			Want: func(r codec.Response) bool {
				switch r := r.(type) {
				case *codec.Expunge, *codec.Vanished:
					return true
				case *codec.Status:
					return r.Code != nil && r.Code.Kind == codec.CodeCopyUID
				}
				return false
			},
		}, &set, mailbox))
		if err != nil {
			return nil, err
		}
		return copyUID(r), nil
	}
	if !c.hasCap("UIDPLUS") {
		return nil, ErrMoveUnsupported
	}
	uids := set
	if !set.UID {
		// UID EXPUNGE needs the UIDs: ask for them first.
		uids = Set{UID: true}
		ms, err := c.FetchAll(ctx, set, &FetchItems{UID: true})
		if err != nil {
			return nil, err
		}
		nums := make([]uint32, len(ms))
		for i, m := range ms {
			nums[i] = m.UID
		}
		uids.Nums.AddNum(nums...) // in one sort, whatever the server's order
		if uids.Nums.IsEmpty() {
			return nil, nil
		}
	}
	cp, err := c.Copy(ctx, uids, mailbox)
	if err != nil {
		return nil, err
	}
	if _, err := c.Store(ctx, uids, AddFlags, []string{`\Deleted`}, &StoreOptions{Silent: true}); err != nil {
		return cp, &MoveIncompleteError{Copy: cp, Err: err}
	}
	if _, err := c.Expunge(ctx, &uids); err != nil {
		return cp, &MoveIncompleteError{Copy: cp, Err: fmt.Errorf("UID EXPUNGE: %w", err)}
	}
	return cp, nil
}
