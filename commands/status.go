package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	// Name is the mailbox: from Status, the name the caller gave,
	// whatever the server's spelling of it (the case of INBOX, a name
	// in modified UTF-7 in UTF-8 mode); from List with ReturnStatus,
	// the LIST's name as List decodes it. The name as the server wrote
	// it is in Mailbox.
	Name string
	codec.MailboxStatus
	// Refused holds the items the server refused with BAD, which Status
	// (or List with ReturnStatus) then asked for no more (see Status and
	// ListIter). An APPENDLIMIT among them may
	// still be in AppendLimit, from the server's APPENDLIMIT=n capability.
	Refused StatusItem
}

// StatusItemError is returned by Status when the server refused (BAD) an
// item that was all there was left to ask for: Item is that item, Name its
// name on the wire, Err the server's *session.StatusError.
type StatusItemError struct {
	Item StatusItem
	Name string
	Err  error
}

// Error implements error.
func (e *StatusItemError) Error() string {
	return "commands: the server refused STATUS " + e.Name + ": " + e.Err.Error()
}

// Unwrap returns the server's error.
func (e *StatusItemError) Unwrap() error { return e.Err }

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
// for MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN. The result's Name is
// mailbox as given.
//
// Servers refuse a whole STATUS with BAD for one item they do not know:
// Cyrus 3.6 advertises APPENDLIMIT=n but answers "BAD Invalid Status
// attributes appendlimit" to any STATUS asking for APPENDLIMIT (and does
// the same for DELETED). On a BAD, Status asks again without the item the
// server's text names, or without APPENDLIMIT when it names none, until
// the server answers or there is no such item left (then the BAD is
// returned as it is); the items dropped are in MailboxStatus.Refused. A
// refused APPENDLIMIT is filled from the APPENDLIMIT=n capability, which
// RFC 7889 section 3 makes the limit of every mailbox. When the refused
// item was the only one, the error is a *StatusItemError, unless
// APPENDLIMIT=n answers it: then STATUS MESSAGES checks the mailbox.
func (c *Client) Status(ctx context.Context, mailbox string, items StatusItem) (*MailboxStatus, error) {
	if items == 0 {
		items = StatusMessages | StatusUIDNext | StatusUIDValidity | StatusUnseen
	}
	var known StatusItem
	for _, n := range statusItemNames {
		known |= n.item
	}
	if items&^known != 0 {
		return nil, fmt.Errorf("commands: Status: unknown StatusItem bits %#x", uint64(items&^known))
	}
	ask := items
	var refused StatusItem
	for {
		st, err := c.statusOnce(ctx, mailbox, ask)
		if err == nil {
			st.Refused = refused
			if refused&StatusAppendLimit != 0 {
				if n, ok := c.capAppendLimit(); ok {
					st.AppendLimit = n
					st.Items |= StatusAppendLimit
				}
			}
			return st, nil
		}
		if !errors.Is(err, session.ErrBad) {
			return nil, err
		}
		item, name := refusedStatusItem(err, ask)
		if item == 0 {
			return nil, err
		}
		refused |= item
		ask &^= item
		if ask == 0 {
			if _, ok := c.capAppendLimit(); ok && item == StatusAppendLimit {
				ask = StatusMessages
				continue
			}
			return nil, &StatusItemError{Item: item, Name: name, Err: err}
		}
	}
}

// statusOnce sends one STATUS.
func (c *Client) statusOnce(ctx context.Context, mailbox string, items StatusItem) (*MailboxStatus, error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "STATUS", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP()
		encodeStatusItems(e, items)
	}, Want: func(r codec.Response) bool {
		// Of the STATUS responses for the mailbox (the session routes
		// them by name), those with an item asked for, or none: two
		// STATUS of one mailbox for other items, answered in the other
		// order, took each other's answer.
		st, ok := r.(*codec.MailboxStatus)
		return ok && (st.Items&items != 0 || st.Items == 0)
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	var out *MailboxStatus
	for _, d := range r.Data {
		// Every STATUS the command took is its mailbox's (the session
		// routes them by name): the answer, and with NOTIFY set maybe a
		// notification besides, with some of the same items.
		if st, ok := d.(*codec.MailboxStatus); ok {
			out = c.mergeStatus(out, st)
		}
	}
	if out == nil {
		return nil, &MissingError{Command: "STATUS", Response: "STATUS"}
	}
	// The name given, not the server's spelling of it: in UTF-8 mode a
	// server that still writes modified UTF-7 answers "aé" with
	// "a&AOk-" (the session routes it by the decoded name), which
	// decodeMailbox keeps as sent, another mailbox's name there
	// (TestStatusNameAsGiven).
	out.Name = mailbox
	return out, nil
}

// mergeStatus lays the items of st over dst, a status of the same mailbox
// (nil for none yet), and returns it: a server with NOTIFY set sends the
// STATUS of its notifications, with items of its own choosing, beside the
// answer to STATUS or LIST-STATUS. An item sent twice has the later value,
// items the codec does not know (Unknown) too, by tag: a server repeating
// them made the list grow with every STATUS (a ListIter held 242 MiB for
// one mailbox, and each merge copied the whole list: quadratic). At most
// maxMergedUnknown tags are added to the first STATUS's.
func (c *Client) mergeStatus(dst *MailboxStatus, st *codec.MailboxStatus) *MailboxStatus {
	if dst == nil {
		return c.mailboxStatus(st)
	}
	d := &dst.MailboxStatus
	if st.Has(StatusMessages) {
		d.Messages = st.Messages
	}
	if st.Has(StatusRecent) {
		d.Recent = st.Recent
	}
	if st.Has(StatusUIDNext) {
		d.UIDNext = st.UIDNext
	}
	if st.Has(StatusUIDValidity) {
		d.UIDValidity = st.UIDValidity
	}
	if st.Has(StatusUnseen) {
		d.Unseen = st.Unseen
	}
	if st.Has(StatusDeleted) {
		d.Deleted = st.Deleted
	}
	if st.Has(StatusSize) {
		d.Size = st.Size
	}
	if st.Has(StatusHighestModSeq) {
		d.HighestModSeq = st.HighestModSeq
	}
	if st.Has(StatusAppendLimit) {
		d.AppendLimit = st.AppendLimit
	}
	if st.Has(StatusMailboxID) {
		d.MailboxID = st.MailboxID
	}
	d.Items |= st.Items
	if len(st.Unknown) > 0 {
		d.Unknown = mergeUnknown(d.Unknown, st.Unknown)
	}
	return dst
}

// maxMergedUnknown bounds the unknown STATUS items merging adds: real
// servers send a few, if any.
const maxMergedUnknown = 64

// mergeUnknown lays the items of add over have, by tag (ASCII case
// insensitive): a tag held takes the later value, a new one is appended
// while have holds fewer than maxMergedUnknown. The result is a new slice
// (have may be the first STATUS's own array), made once per merge of a
// bounded size: linear in what the server sends.
func mergeUnknown(have, add []codec.ListExtension) []codec.ListExtension {
	if len(have) > maxMergedUnknown {
		return have // the first STATUS's, as sent; nothing merged into it
	}
	out := make([]codec.ListExtension, len(have), min(maxMergedUnknown, len(have)+len(add)))
	copy(out, have)
	for _, u := range add {
		if i := slices.IndexFunc(out, func(h codec.ListExtension) bool { return bytes.EqualFold(h.Tag, u.Tag) }); i >= 0 {
			out[i] = u
		} else if len(out) < maxMergedUnknown {
			out = append(out, u)
		}
	}
	return out
}

// refusedStatusItem returns the item of asked that the text of a BAD
// names (as a word, in any case; the only one it names), or APPENDLIMIT
// when it names none and APPENDLIMIT was asked; 0 when neither.
func refusedStatusItem(err error, asked StatusItem) (StatusItem, string) {
	var se *session.StatusError
	if errors.As(err, &se) && se.Status != nil {
		words := strings.FieldsFunc(string(se.Status.Text), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		})
		var named []int
		for i, n := range statusItemNames {
			if asked&n.item != 0 && slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(w, n.name) }) {
				named = append(named, i)
			}
		}
		if len(named) == 1 {
			// A text that names several (it echoes the command) names
			// none.
			return statusItemNames[named[0]].item, statusItemNames[named[0]].name
		}
	}
	if asked&StatusAppendLimit != 0 {
		return StatusAppendLimit, "APPENDLIMIT"
	}
	return 0, ""
}

// capAppendLimit returns n of the server's APPENDLIMIT=n capability.
func (c *Client) capAppendLimit() (uint64, bool) {
	for _, cp := range c.s.Caps() {
		if v, ok := strings.CutPrefix(strings.ToUpper(cp), "APPENDLIMIT="); ok {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				return n, true
			}
		}
	}
	return 0, false
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
	a := "a "
	if e.Response != "" && strings.ContainsRune("AEIOU", rune(e.Response[0])) {
		a = "an "
	}
	return "commands: " + e.Command + " succeeded without " + a + e.Response + " response"
}
