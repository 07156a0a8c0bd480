package commands

import (
	"context"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// StatusItem is a set of STATUS items.
type StatusItem = codec.StatusItem

// The STATUS items (RFC 9051, RFC 7162, RFC 8438, RFC 7889, RFC 8474).
const (
	StatusMessages      = codec.StatusMessages
	StatusRecent        = codec.StatusRecent // IMAP4rev1 only
	StatusUIDNext       = codec.StatusUIDNext
	StatusUIDValidity   = codec.StatusUIDValidity
	StatusUnseen        = codec.StatusUnseen
	StatusDeleted       = codec.StatusDeleted // IMAP4rev2
	StatusSize          = codec.StatusSize
	StatusHighestModSeq = codec.StatusHighestModSeq
	StatusAppendLimit   = codec.StatusAppendLimit
	StatusMailboxID     = codec.StatusMailboxID
)

var statusItemNames = []struct {
	item StatusItem
	name string
}{
	{StatusMessages, "MESSAGES"}, {StatusRecent, "RECENT"}, {StatusUIDNext, "UIDNEXT"},
	{StatusUIDValidity, "UIDVALIDITY"}, {StatusUnseen, "UNSEEN"}, {StatusDeleted, "DELETED"},
	{StatusSize, "SIZE"}, {StatusHighestModSeq, "HIGHESTMODSEQ"}, {StatusAppendLimit, "APPENDLIMIT"},
	{StatusMailboxID, "MAILBOXID"},
}

// MailboxStatus is the answer to STATUS: the codec's values with the
// mailbox name decoded. MailboxStatus.Has tells which items were sent.
type MailboxStatus struct {
	Name string
	codec.MailboxStatus
}

// encodeStatusItems writes a parenthesized list of items.
func encodeStatusItems(e *wire.Encoder, items StatusItem) {
	e.List(func(e *wire.Encoder) {
		first := true
		for _, n := range statusItemNames {
			if items&n.item != 0 {
				if !first {
					e.SP()
				}
				first = false
				e.Atom(n.name)
			}
		}
	})
}

// Status sends STATUS for the items (imaplib's status). A zero items asks
// for MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN.
func (c *Client) Status(ctx context.Context, mailbox string, items StatusItem) (*MailboxStatus, error) {
	if items == 0 {
		items = StatusMessages | StatusUIDNext | StatusUIDValidity | StatusUnseen
	}
	r, err := c.run(ctx, c.target(&session.Command{Name: "STATUS", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP()
		encodeStatusItems(e, items)
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	for _, d := range r.Data {
		if st, ok := d.(*codec.MailboxStatus); ok {
			return c.mailboxStatus(st), nil
		}
	}
	return nil, &MissingError{Command: "STATUS", Response: "STATUS"}
}

func (c *Client) mailboxStatus(st *codec.MailboxStatus) *MailboxStatus {
	return &MailboxStatus{Name: c.decodeMailbox(st.Mailbox), MailboxStatus: *st}
}

// MissingError reports a command that succeeded without the untagged
// response its answer needs.
type MissingError struct {
	Command, Response string
}

// Error implements error.
func (e *MissingError) Error() string {
	return "commands: " + e.Command + " succeeded without a " + e.Response + " response"
}
