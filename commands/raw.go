package commands

import (
	"context"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Xatom sends any command (imaplib's xatom and _simple_command): name,
// then args written as they are (checked by wire.Encoder.Raw: no CR, LF,
// NUL, 8-bit or literal). It is allowed in every state. Every untagged
// response the server sends while it runs comes back in Result.Data,
// typed where the codec knows it (codec.Unknown otherwise).
func (c *Client) Xatom(ctx context.Context, name, args string) (*session.Result, error) {
	return c.Do(ctx, name, func(e *wire.Encoder) {
		if args != "" {
			e.SP().Raw(args)
		}
	})
}

// Do sends any command with its arguments written by args (each after
// e.SP()), allowed in every state, and returns every untagged response
// sent while it runs.
//
// A RENAME sent so while a mailbox is selected whose hierarchy delimiter
// the session does not know first asks LIST "" with the selected name,
// as Rename does for a name that may be a parent of it (here the name is
// not known before args writes it): the session then knows whether the
// RENAME took the selected mailbox's name
// (session.Session.SelectedUIDValidity). Without it, a RENAME of a
// parent ("Work" of the selected "Work/Inbox") left the name held with
// the renamed mailbox's UIDVALIDITY.
func (c *Client) Do(ctx context.Context, name string, args func(e *wire.Encoder)) (*session.Result, error) {
	if strings.EqualFold(strings.TrimSpace(name), "RENAME") {
		// As the session sends it (upper-cased, trimmed: " rename"
		// goes as RENAME). Any name may be a parent's: "" begins
		// every selected name.
		c.learnSelectedDelim(ctx, "")
	}
	return c.run(ctx, &session.Command{
		Name:     name,
		Args:     args,
		AnyState: true,
		Want: func(r codec.Response) bool {
			_, cont := r.(*codec.Continuation)
			return !cont
		},
	})
}
