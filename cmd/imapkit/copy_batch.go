package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// batchSend is the sending of a batch's messages (copyBatch), a group
// (one APPEND) at a time: meta are those not sent yet, their bodies
// taken from one FETCH (fetchBodies), and singly counts those to send one
// at a time (retrySingly).
type batchSend struct {
	*mailboxCopy
	meta   []*commands.Message
	bodies *bodyPuller
	stop   func() // ends the bodies' FETCH
	singly int
}

// fetchBodies starts the FETCH of the bodies of meta, the one before
// ended: at the batch's start, and from a group on when it is sent again
// one message at a time (its bodies were read, or left half read, by the
// refused APPEND), or after a message skipped.
func (b *batchSend) fetchBodies(ctx context.Context) {
	b.ap.settle() // no Read of a cancelled APPEND left in the bodies
	b.stop()
	var next func() (*commands.Message, error, bool)
	next, b.stop = iter.Pull2(b.src.c.Fetch(ctx, commands.UIDs(uidsOf(b.meta)...), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: -1}))
	b.bodies = &bodyPuller{next: next, warn: func(uid uint32, skipped error) {
		fmt.Fprintf(b.out.stderr, "imapkit copy: %s: UID %d: %v: skipped (the body came too, and is copied)\n", printable(b.name), uid, skipped)
	}}
}

// sendGroup sends the next group of meta in one APPEND (as many messages
// as appender.groupFull allows, or one), recorded as pending before it
// is sent; a failure that leaves the batch going on (the group sent again
// one at a time, or its message skipped) returns nil, as the group's
// copy does.
func (b *batchSend) sendGroup(ctx context.Context) error {
	n := 0
	var bytes int64
	for n < len(b.meta) && !b.ap.groupFull(n, bytes) && (b.singly == 0 || n < 1) {
		bytes += b.meta[n].Size
		n++
	}
	group := b.meta[:n]
	rest := b.meta[n:]
	pend, err := b.ap.prepare(ctx, len(group))
	if err != nil {
		return err
	}
	items, sizes := b.appendItems(group, pend)
	if err := b.recordPending(ctx, group, pend); err != nil {
		return err
	}
	dstUIDs, err := b.ap.send(ctx, items)
	if err != nil {
		return b.groupFailed(ctx, group, rest, err)
	}
	if err := hook(ctx, "appended"); err != nil {
		return err
	}
	box := b.box
	b.meta = rest
	b.singly = max(b.singly-len(group), 0)
	box.mapAppended(pend.DstUIDValidity, uidsOf(group), dstUIDs)
	box.LastUID, box.Pending, box.PendingUID, box.PendingSrc = group[len(group)-1].UID, nil, 0, nil
	box.Copied += int64(len(group))
	if err := b.state.save(b.path); err != nil {
		return err
	}
	for _, s := range sizes {
		b.p.add(s)
	}
	return nil
}

// appendItems are the APPEND's items of group, whose pending record is
// pend: each message is opened when its turn in the APPEND comes, its
// size that of the FETCH's literal, read from the source just then
// (RFC822.SIZE only sized the group), and counted in sizes.
func (b *batchSend) appendItems(group []*commands.Message, pend *pendingAppend) ([]appendItem, []int64) {
	items := make([]appendItem, len(group))
	sizes := make([]int64, len(group))
	// dirty: a size of the record changed and not saved yet (a
	// literal of another size than RFC822.SIZE, sizeDiffers; a
	// CRLFSize, bareLFsEnded): saved once, before the last bytes
	// of the group's last message.
	dirty := false
	for i, m := range group {
		pb := &pulledBody{p: b.bodies, uid: m.UID, n: &sizes[i], empty: b.hooks.empty,
			sized: func(n int64) error { sizeDiffers(pend, i, n, &dirty); return nil },
			ended: func(lfs int64) error {
				return bareLFsEnded(pend, i, lfs, &dirty, func() error { return b.state.save(b.path) })
			}}
		items[i] = appendItem{open: pb.openSized, flags: appendableFlags(m.Flags), date: m.InternalDate,
			binary: b.box.isBinary(m.UID)} // literal8 with BINARY
	}
	return items, sizes
}

// recordPending records group as the entry's pending group, pend, and
// saves the state, before the group is sent.
func (b *batchSend) recordPending(ctx context.Context, group []*commands.Message, pend *pendingAppend) error {
	box := b.box
	// What the next run looks for when UIDNEXT says the group
	// landed (appender.confirm): each message's RFC822.SIZE on
	// the source (its literal's, as a rule: 0 is unknown, an
	// empty message goes as a blank line; when it is not, an
	// Exchange's, sizeDiffers records the literal's size before
	// the message is sent) and the INTERNALDATE the APPEND sets.
	// A message going as literal8 has no size told: a server may
	// rewrite a binary part. A date a server may not keep is not
	// recorded (recordedDate).
	pend.Messages = make([]pendingMsg, len(group))
	now := time.Now()
	for i, m := range group {
		pend.Messages[i].Date = recordedDate(m.InternalDate, now)
		if undatedAppend(m.InternalDate) {
			pend.Undated++
		}
		if m.Size > 0 && !(b.ap.binary && box.isBinary(m.UID)) {
			pend.Messages[i].Size = m.Size
		}
	}
	if err := savePending(func() {
		box.Pending, box.PendingUID, box.PendingSrc = pend, group[len(group)-1].UID, uidsOf(group)
	}, func() {
		box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
	}, func() error { return b.state.save(b.path) }); err != nil {
		return err
	}
	return hook(ctx, "pending")
}

// groupFailed handles err, the failure of the APPEND of group (rest are
// the messages after it): nil when the batch goes on, the group sent
// again one message at a time or its message skipped; else the batch's
// error.
func (b *batchSend) groupFailed(ctx context.Context, group, rest []*commands.Message, err error) error {
	ap, box := b.ap, b.box
	// An Open the APPEND left running (its context ended)
	// is over before bodies (cur) is looked at.
	ap.settle()
	if notAppended(err) {
		// Refused: the group is not pending any more (and
		// is sent again by the next run).
		box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
		if serr := b.state.save(b.path); serr != nil {
			return errors.Join(err, serr)
		}
	}
	if ap.retrySingly(len(group), err) {
		// Refused NO (full, a message too big or one
		// the destination will not take): nothing of the
		// group was appended. Its messages go one at a
		// time, so that those it takes are copied.
		if b.hooks.note != nil {
			b.hooks.note(fmt.Sprintf("the destination refused the APPEND of UIDs %d to %d (%v): sending them one at a time", group[0].UID, group[len(group)-1].UID, err))
		}
		b.singly = len(group)
		b.fetchBodies(ctx)
		return nil
	}
	if len(group) == 1 && ap.binary && box.isBinary(group[0].UID) && notAppended(err) && binaryRefusal(err) {
		return b.binaryRefused(ctx, group[0].UID, rest, err)
	}
	if errors.Is(err, wire.ErrNUL) && errors.Is(err, session.ErrAborted) && b.bodies.cur != 0 {
		// Met in a message's literal (not in an
		// argument, refused before anything was sent).
		return b.unsendableNUL(b.bodies.cur, group[0].UID, err)
	}
	if errors.Is(err, commands.ErrTooBig) && notAppended(err) && b.bodies.cur != 0 {
		// Over APPENDLIMIT by the size of its literal,
		// though not by its RFC822.SIZE (checked above):
		// found when its turn came, in the middle of a
		// MULTIAPPEND (the session aborted) or before
		// its own APPEND.
		return b.unsendableTooBig(b.bodies.cur, group[0].UID, err)
	}
	return nameRefused(len(group), func() string { return fmt.Sprintf("UID %d", group[0].UID) }, err)
}

// binaryRefused handles the refusal err of the message of source UID
// uid, holding a NUL, sent alone as literal8, and refused all the same
// (Cyrus: "NO Message contains NUL characters"): it cannot be sent.
// Skipped with --skip-unsendable, which left it stopping the mailbox at
// every run: the batch goes on with rest.
func (b *batchSend) binaryRefused(ctx context.Context, uid uint32, rest []*commands.Message, err error) error {
	if b.hooks.skip == nil {
		return binaryRefusedError(fmt.Sprintf("UID %d", uid), err)
	}
	b.hooks.skip(uid, fmt.Sprintf("holds a NUL byte, which the destination refused even as literal8 (%v)", err))
	if err := b.state.save(b.path); err != nil {
		return err
	}
	b.meta = rest
	b.singly = max(b.singly-1, 0)
	if len(b.meta) > 0 {
		b.fetchBodies(ctx) // the rest's, from the next message
	}
	return nil
}

// sizeDiffers is called with n, the size of the literal the source sent
// for message i of the pending group p, when its turn in the APPEND comes,
// before a byte of it is sent. When n is not the size p records for it
// (the source's RFC822.SIZE: a source whose RFC822.SIZE is not the size of
// what it sends, as Exchange's, TestCopyWrongRFC822Size), the next run
// would not find the message by its size on the destination (whose
// RFC822.SIZE is the literal's) and would send again a group that landed:
// a duplicate at every interrupted run. The record then takes n, the size
// the destination will report, and *dirty says so: the state is saved
// once for the group, before the last bytes of its last message go out
// (bareLFsEnded), not once for each such message (an Exchange source,
// whose RFC822.SIZE differs for every message, cost a synced save per
// message: TestCopyWrongRFC822SizeSavesPerGroup). A group cannot land
// before those bytes (a MULTIAPPEND lands whole; without one, groups are
// of one message): a run that dies before the save leaves on disk the
// record of a group that did not land (UIDNEXT unmoved, or its messages
// not found: sent again, as they must be); once the save is done the
// record holds the sizes the destination will report. A message
// recorded without a size (0: literal8, or none told) keeps none. Every
// other message keeps its own size: a group whose dates are not recorded
// (recordedDate) is still told by its sizes, and a message is not matched
// by its date alone to another client's (TestCopySizeDiffersDateOnlyNotLost).
// On the goroutine of an APPEND's Open, while copyBatch waits for the
// APPEND (or settles it) and touches neither the state nor p.
func sizeDiffers(p *pendingAppend, i int, n int64, dirty *bool) {
	if p == nil || i >= len(p.Messages) || p.Messages[i].Size == 0 || p.Messages[i].Size == n {
		return
	}
	p.Messages[i].Size = n
	*dirty = true
}

// bareLFsEnded is called with lfs, the count of bare LFs (an LF without a
// CR before it) of message i of the pending group p, before the last bytes
// of its literal are sent. Dovecot's RFC822.SIZE counts each as CRLF: the
// size recorded (the literal's, sizeDiffers) would not find the message,
// and the next run would send again a group that landed, a duplicate
// (TestCopyBareLFInterruptedFound). The record takes the size with them
// made CRLF too (pendingMsg.CRLFSize), as import's does, and *dirty says
// so; at the group's last message the state is saved when dirty (by this
// or by sizeDiffers): a group cannot land before its last literal's last
// bytes (a MULTIAPPEND whole; without one, groups are of one message).
// One save per group holding bare LFs or a literal of another size than
// its RFC822.SIZE. A message recorded without a size keeps none. On the
// goroutine that reads the literal for the APPEND, while copyBatch waits
// for it and touches neither the state nor p.
func bareLFsEnded(p *pendingAppend, i int, lfs int64, dirty *bool, save func() error) error {
	if p == nil || i >= len(p.Messages) {
		return nil
	}
	if m := &p.Messages[i]; lfs > 0 && m.Size > 0 {
		m.CRLFSize = m.Size + lfs
		*dirty = true
	}
	if i == len(p.Messages)-1 && *dirty {
		*dirty = false
		return save()
	}
	return nil
}

func uidsOf(ms []*commands.Message) []uint32 {
	u := make([]uint32, len(ms))
	for i, m := range ms {
		u[i] = m.UID
	}
	return u
}

// batchHooks are what copyBatch calls back: empty for each 0-byte
// message (appended as a blank line), note to say something on stderr,
// skip (nil without --skip-unsendable) for a message the destination
// cannot take (why says why), which it records in the state as skipped.
type batchHooks struct {
	empty func(uid uint32)
	note  func(string)
	skip  func(uid uint32, why string)
}
