package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// ACLEntry is one identifier and its rights (RFC 4314).
type ACLEntry struct {
	Identifier string
	Rights     string
}

// GetACL sends GETACL: the access control list of a mailbox. ACL
// responses that name another mailbox (an unsolicited one, or a hostile
// server's) are not its answer and are left out; the mailbox is matched
// as MyRights matches it. An answer without an ACL of the mailbox (RFC
// 4314 requires one, "* ACL INBOX" for an empty list) is a
// *MissingError.
func (c *Client) GetACL(ctx context.Context, mailbox string) ([]ACLEntry, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "GETACL", Args: func(e *wire.Encoder) { c.mailbox(e, mailbox) }}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	want, _ := c.encodeMailbox(mailbox) // the command went: no error
	own := ownMailbox(r.Data, want, aclMailbox)
	var out []ACLEntry
	answered := false
	for _, d := range r.Data {
		if a, ok := d.(*codec.ACL); ok && own(d) {
			answered = true
			for _, en := range a.Entries {
				out = append(out, ACLEntry{Identifier: string(en.Identifier), Rights: string(en.Rights)})
			}
		}
	}
	if !answered {
		// GETACL is answered with the mailbox's ACL (RFC 4314 section
		// 3.3), even an empty one: without it nothing is known of the
		// list, not "no entries".
		return nil, &MissingError{Command: "GETACL", Response: "ACL"}
	}
	return out, nil
}

// SetACL sends SETACL: rights may start with + or - to add or remove.
// Rights are ASCII letters and digits (RFC 4314 section 2.1); others (a
// line feed, a space) are refused before anything is sent, with an error
// wrapping ErrACLRights.
func (c *Client) SetACL(ctx context.Context, mailbox, identifier, rights string) error {
	if err := checkRights(rights); err != nil {
		return err
	}
	return c.simpleTo(ctx, "SETACL", mailbox, func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().AString(identifier).SP().AString(rights)
	})
}

// DeleteACL sends DELETEACL: the identifier's entry goes.
func (c *Client) DeleteACL(ctx context.Context, mailbox, identifier string) error {
	return c.simpleTo(ctx, "DELETEACL", mailbox, func(e *wire.Encoder) { c.mailbox(e, mailbox).SP().AString(identifier) })
}

// MyRights sends MYRIGHTS: the rights of the logged-in user. The answer
// is the MYRIGHTS that names the mailbox as sent (INBOX alone in any
// case); only when none does, one that names it with INBOX at its head in
// another case (Dovecot answers "inbox/x" with "INBOX/x"). A MYRIGHTS of
// another mailbox is not taken: without one of the mailbox, a
// *MissingError.
func (c *Client) MyRights(ctx context.Context, mailbox string) (string, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "MYRIGHTS", Args: func(e *wire.Encoder) { c.mailbox(e, mailbox) }}, nil, mailbox))
	if err != nil {
		return "", err
	}
	want, _ := c.encodeMailbox(mailbox) // the command went: no error
	own := ownMailbox(r.Data, want, myRightsMailbox)
	for _, d := range r.Data {
		if m, ok := d.(*codec.MyRights); ok && own(d) {
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

// ListRights sends LISTRIGHTS. The answer is the LISTRIGHTS of the
// mailbox (matched as MyRights matches it) and the identifier: as sent,
// or else in another ASCII case; a LISTRIGHTS of another mailbox or
// identifier is not taken: without one, a *MissingError.
func (c *Client) ListRights(ctx context.Context, mailbox, identifier string) (*ListRights, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "LISTRIGHTS", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().AString(identifier)
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	want, _ := c.encodeMailbox(mailbox) // the command went: no error
	own := ownMailbox(r.Data, want, listRightsMailbox)
	var folded *codec.ListRights
	for _, d := range r.Data {
		if l, ok := d.(*codec.ListRights); ok && own(d) {
			if string(l.Identifier) == identifier {
				return listRights(l), nil
			}
			if folded == nil && equalFold(string(l.Identifier), identifier) {
				folded = l
			}
		}
	}
	if folded != nil {
		return listRights(folded), nil
	}
	return nil, &MissingError{Command: "LISTRIGHTS", Response: "LISTRIGHTS"}
}

func listRights(l *codec.ListRights) *ListRights {
	return &ListRights{Required: string(l.Required), Optional: strs(l.Optional)}
}

func aclMailbox(d codec.Response) ([]byte, bool) {
	a, ok := d.(*codec.ACL)
	if !ok {
		return nil, false
	}
	return a.Mailbox, true
}

func myRightsMailbox(d codec.Response) ([]byte, bool) {
	m, ok := d.(*codec.MyRights)
	if !ok {
		return nil, false
	}
	return m.Mailbox, true
}

func listRightsMailbox(d codec.Response) ([]byte, bool) {
	l, ok := d.(*codec.ListRights)
	if !ok {
		return nil, false
	}
	return l.Mailbox, true
}

// ErrACLRights is the error of SetACL given rights that are not ASCII
// letters and digits after an optional "+" or "-" (RFC 4314 section
// 2.1), before anything is sent: a line feed in them went out in a
// literal, and Dovecot echoed it raw in a BAD the client could not
// decode (TestSetACLRightsRefused).
var ErrACLRights = errors.New("commands: invalid ACL rights")

// checkRights refuses rights that are not ASCII letters and digits after
// an optional "+" or "-" (ErrACLRights).
func checkRights(rights string) error {
	r := strings.TrimPrefix(strings.TrimPrefix(rights, "+"), "-")
	if len(r) < len(rights)-1 {
		return fmt.Errorf("%w: %q", ErrACLRights, rights)
	}
	for i := 0; i < len(r); i++ {
		if b := r[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
			return fmt.Errorf("%w: %q holds %q", ErrACLRights, rights, b)
		}
	}
	return nil
}
