package commands

import (
	"context"

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
func (c *Client) Do(ctx context.Context, name string, args func(e *wire.Encoder)) (*session.Result, error) {
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
