package commands

import (
	"context"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// ACLEntry is one identifier and its rights (RFC 4314).
type ACLEntry struct {
	Identifier string
	Rights     string
}

// GetACL sends GETACL: the access control list of a mailbox.
func (c *Client) GetACL(ctx context.Context, mailbox string) ([]ACLEntry, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "GETACL", Args: func(e *wire.Encoder) { c.mailbox(e, mailbox) }}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	var out []ACLEntry
	for _, d := range r.Data {
		if a, ok := d.(*codec.ACL); ok {
			for _, en := range a.Entries {
				out = append(out, ACLEntry{Identifier: string(en.Identifier), Rights: string(en.Rights)})
			}
		}
	}
	return out, nil
}

// SetACL sends SETACL: rights may start with + or - to add or remove.
func (c *Client) SetACL(ctx context.Context, mailbox, identifier, rights string) error {
	return c.simpleTo(ctx, "SETACL", mailbox, func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().AString(identifier).SP().AString(rights)
	})
}

// DeleteACL sends DELETEACL: the identifier's entry goes.
func (c *Client) DeleteACL(ctx context.Context, mailbox, identifier string) error {
	return c.simpleTo(ctx, "DELETEACL", mailbox, func(e *wire.Encoder) { c.mailbox(e, mailbox).SP().AString(identifier) })
}

// MyRights sends MYRIGHTS: the rights of the logged-in user.
func (c *Client) MyRights(ctx context.Context, mailbox string) (string, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "MYRIGHTS", Args: func(e *wire.Encoder) { c.mailbox(e, mailbox) }}, nil, mailbox))
	if err != nil {
		return "", err
	}
	want, _ := c.encodeMailbox(mailbox) // the command went: no error
	for _, d := range r.Data {
		if m, ok := d.(*codec.MyRights); ok && codec.SameMailbox(string(m.Mailbox), want) {
			return string(m.Rights), nil
		}
	}
	return "", &MissingError{Command: "MYRIGHTS", Response: "MYRIGHTS"}
}

// ListRights is the answer to LISTRIGHTS: the rights always granted to an
// identifier, and the groups of rights that may be granted.
type ListRights struct {
	Required string
	Optional []string
}

// ListRights sends LISTRIGHTS.
func (c *Client) ListRights(ctx context.Context, mailbox, identifier string) (*ListRights, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "LISTRIGHTS", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().AString(identifier)
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	for _, d := range r.Data {
		if l, ok := d.(*codec.ListRights); ok {
			return &ListRights{Required: string(l.Required), Optional: strs(l.Optional)}, nil
		}
	}
	return nil, &MissingError{Command: "LISTRIGHTS", Response: "LISTRIGHTS"}
}
