package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// NotifyFilter chooses the mailboxes of a NotifyGroup (RFC 5465 section 6).
type NotifyFilter uint8

// The mailbox filters of NOTIFY.
const (
	// NotifySelected is the selected mailbox, whichever it is.
	NotifySelected NotifyFilter = iota + 1
	// NotifySelectedDelayed is the selected mailbox, with its expunges
	// held back until a command that allows them (NOOP, IDLE, ...):
	// message numbers do not move under a command in flight.
	NotifySelectedDelayed
	// NotifyInboxes are the mailboxes where new mail is delivered.
	NotifyInboxes
	// NotifyPersonal are the user's own mailboxes.
	NotifyPersonal
	// NotifySubscribed are the subscribed mailboxes.
	NotifySubscribed
	// NotifySubtree are NotifyGroup.Mailboxes and every mailbox below
	// them.
	NotifySubtree
	// NotifyMailboxes are NotifyGroup.Mailboxes alone.
	NotifyMailboxes
)

var notifyFilterNames = [...]string{NotifySelected: "SELECTED", NotifySelectedDelayed: "SELECTED-DELAYED",
	NotifyInboxes: "INBOXES", NotifyPersonal: "PERSONAL", NotifySubscribed: "SUBSCRIBED",
	NotifySubtree: "SUBTREE", NotifyMailboxes: "MAILBOXES"}

// NotifyEvent is a set of NOTIFY events (RFC 5465 section 5).
type NotifyEvent uint16

// The events of NOTIFY. For the selected mailbox they come as EXISTS,
// EXPUNGE (or VANISHED) and FETCH responses; for the others as STATUS
// responses (MessageNew, MessageExpunge, FlagChange with CONDSTORE), LIST
// responses (MailboxName, SubscriptionChange) and METADATA responses.
const (
	NotifyMessageNew NotifyEvent = 1 << iota
	NotifyMessageExpunge
	NotifyFlagChange
	NotifyAnnotationChange
	NotifyMailboxName
	NotifySubscriptionChange
	NotifyMailboxMetadataChange
	NotifyServerMetadataChange
)

var notifyEventNames = []struct {
	ev   NotifyEvent
	name string
}{
	{NotifyMessageNew, "MessageNew"}, {NotifyMessageExpunge, "MessageExpunge"}, {NotifyFlagChange, "FlagChange"},
	{NotifyAnnotationChange, "AnnotationChange"}, {NotifyMailboxName, "MailboxName"},
	{NotifySubscriptionChange, "SubscriptionChange"}, {NotifyMailboxMetadataChange, "MailboxMetadataChange"},
	{NotifyServerMetadataChange, "ServerMetadataChange"},
}

// NotifyGroup is one event group of NOTIFY SET: the events the server is
// to report for some mailboxes.
type NotifyGroup struct {
	Filter NotifyFilter
	// Mailboxes are the mailboxes of NotifySubtree and NotifyMailboxes
	// (at least one); names as everywhere in this package.
	Mailboxes []string
	// Events are the events to report; none sends NONE (no events for
	// these mailboxes, which excludes them from a wider group before).
	// The server requires NotifyMessageNew and NotifyMessageExpunge
	// together, and both with NotifyFlagChange.
	Events NotifyEvent
	// Fetch, for the selected mailbox only, are the items the server
	// sends with each new message (a FETCH response with the EXISTS);
	// nil sends none.
	Fetch *FetchItems
}

// NotifyOptions are the options of Notify.
type NotifyOptions struct {
	// Status asks the server for the STATUS of every mailbox of the groups
	// that are not the selected one at once (NOTIFY SET STATUS): Notify
	// returns them.
	Status bool
}

// Notify sends NOTIFY SET (RFC 5465): from then on, the server reports the
// events of groups as they happen, without the client asking. They come
// as untagged responses: to the Idle callback during Idle (the usual way
// to wait for them), else to session.Options.OnUnsolicited and Response.
// A later Notify replaces the groups; NotifyNone ends them. It returns
// the STATUS responses that opts.Status asks for, and ErrUnsupported,
// sending nothing, when the server lacks NOTIFY. A server that does not
// know an event answers NO with the BADEVENT response code (in the
// *session.StatusError) listing those it does. A server that falls too far
// behind sends an untagged OK with the NOTIFICATIONOVERFLOW response code
// (a *codec.Status among the events) and stops: call Notify again, and
// resynchronise the mailboxes whose events were lost (STATUS, or QRESYNC
// for the selected one).
//
// The session tells a notification from a command's answer by its kind
// alone: a STATUS or LIST notification that comes while a STATUS or LIST
// command is in flight joins that command's answer (a STATUS command takes
// only its own mailbox's), as it would for any server's unsolicited data
// of those kinds.
func (c *Client) Notify(ctx context.Context, opts *NotifyOptions, groups ...NotifyGroup) ([]*MailboxStatus, error) {
	if !c.s.HasCap("NOTIFY") {
		return nil, fmt.Errorf("%w: NOTIFY", ErrUnsupported)
	}
	if len(groups) == 0 {
		return nil, errors.New("commands: NOTIFY SET needs at least one group (NotifyNone ends the notifications)")
	}
	for i, g := range groups {
		if g.Filter < NotifySelected || g.Filter > NotifyMailboxes {
			return nil, fmt.Errorf("commands: NOTIFY group %d: no filter", i)
		}
		var known NotifyEvent
		for _, n := range notifyEventNames {
			known |= n.ev
		}
		if g.Events&^known != 0 {
			// Sent as an empty list, "(PERSONAL ())".
			return nil, fmt.Errorf("commands: NOTIFY group %d: unknown event bits %#x", i, uint16(g.Events&^known))
		}
		many := g.Filter == NotifySubtree || g.Filter == NotifyMailboxes
		if many != (len(g.Mailboxes) > 0) {
			return nil, fmt.Errorf("commands: NOTIFY group %d: mailboxes go with NotifySubtree and NotifyMailboxes, which need them", i)
		}
		if g.Fetch != nil && (g.Filter > NotifySelectedDelayed || g.Events&NotifyMessageNew == 0) {
			return nil, fmt.Errorf("commands: NOTIFY group %d: Fetch goes with the selected mailbox's NotifyMessageNew alone", i)
		}
		if g.Fetch != nil {
			if g.Fetch.ChangedSince > 0 || g.Fetch.Vanished {
				return nil, fmt.Errorf("commands: NOTIFY group %d: no CHANGEDSINCE or VANISHED in Fetch", i)
			}
			for _, s := range g.Fetch.Sections {
				if err := s.check(); err != nil {
					return nil, err
				}
			}
		}
	}
	status := opts != nil && opts.Status
	r, err := c.run(ctx, &session.Command{Name: "NOTIFY", Args: func(e *wire.Encoder) {
		e.SP().Atom("SET")
		if status {
			e.SP().Atom("STATUS")
		}
		for _, g := range groups {
			e.SP().List(func(e *wire.Encoder) { c.encodeNotifyGroup(e, g) })
		}
	}})
	if err != nil {
		return nil, err
	}
	var out []*MailboxStatus
	for _, d := range r.Data {
		if st, ok := d.(*codec.MailboxStatus); ok {
			out = append(out, c.mailboxStatus(st))
		}
	}
	return out, nil
}

// encodeNotifyGroup writes the inside of an event group.
func (c *Client) encodeNotifyGroup(e *wire.Encoder, g NotifyGroup) {
	e.Atom(notifyFilterNames[g.Filter])
	if len(g.Mailboxes) > 0 {
		e.SP().List(func(e *wire.Encoder) {
			for i, m := range g.Mailboxes {
				if i > 0 {
					e.SP()
				}
				enc, err := c.encodeMailbox(m)
				if err != nil {
					e.Fail("Mailbox", err)
					return
				}
				e.Mailbox(enc)
			}
		})
	}
	if g.Events == 0 {
		e.SP().Atom("NONE")
		return
	}
	e.SP().List(func(e *wire.Encoder) {
		first := true
		for _, n := range notifyEventNames {
			if g.Events&n.ev == 0 {
				continue
			}
			if !first {
				e.SP()
			}
			first = false
			e.Atom(n.name)
			if n.ev == NotifyMessageNew && g.Fetch != nil {
				g.Fetch.encode(e, false)
			}
		}
	})
}

// NotifyNone sends NOTIFY NONE: the server reports no more events (and
// goes back to the unsolicited responses of RFC 9051 for the selected
// mailbox).
func (c *Client) NotifyNone(ctx context.Context) error {
	if !c.s.HasCap("NOTIFY") {
		return fmt.Errorf("%w: NOTIFY", ErrUnsupported)
	}
	_, err := c.run(ctx, &session.Command{Name: "NOTIFY", Args: func(e *wire.Encoder) { e.SP().Atom("NONE") }})
	return err
}
