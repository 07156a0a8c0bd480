package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// mailboxCopy is one try of one mailbox's copy (copyRun.copyMailbox):
// the source mailbox name as selected (ms), its entry box, the appender
// to its destination mailbox dname, and the try's report res and
// progress p; hooks are what its batches call back (copyBatch).
type mailboxCopy struct {
	*copyRun
	name, dname string
	ms          *commands.MailboxState
	box         *copyBox
	ap          *appender
	res         *copyResult
	p           *progress
	hooks       *batchHooks
}

// openEntry selects the source mailbox, read-only, and sets box, its
// entry in the state: removed first when the try restarts it
// (restartMailbox), a new one when there is none, else refused when it
// does not fit (entryRefusal); its copies' progress forgotten when the
// destination mailbox was created by this run for another mailbox.
func (mc *mailboxCopy) openEntry(ctx context.Context) error {
	name, dname, state, try, stderr := mc.name, mc.dname, mc.state, mc.try, mc.out.stderr
	ss := mc.src.c.Session()
	ms, err := mc.src.c.Select(ctx, name, &commands.SelectOptions{ReadOnly: true, CondStore: ss.HasCap("CONDSTORE") || ss.HasCap("QRESYNC")})
	if err != nil {
		return err
	}
	mc.ms = ms
	box := state.Mailboxes[name]
	if try.restart {
		if err := restartMailbox(ctx, name, dname, state, mc.path, stderr); err != nil {
			return err
		}
		if box = state.Mailboxes[name]; box == nil {
			box = &copyBox{Dst: dname, UIDValidity: ms.UIDValidity, Restarted: true}
			state.Mailboxes[name] = box
		}
		try.restart = false
	}
	if box == nil {
		box = &copyBox{Dst: dname, UIDValidity: ms.UIDValidity}
		state.Mailboxes[name] = box
	} else if err := entryRefusal(name, dname, box, ms.UIDValidity, true); err != nil {
		return err
	}
	mc.box = box
	if try.dstFresh {
		// Created by this run for a mailbox before: the checks below
		// took the other mailbox's new copies for mail that cannot be
		// told from this one's, and refused it (errDstChanged), so
		// that two mailboxes merged into a deleted X could not both be
		// copied again (TestCopyRestartSharedDestination, found by
		// review).
		try.dstFresh = false
		if box.LastUID > 0 || box.Pending != nil {
			fmt.Fprintf(stderr, "imapkit copy: %s: warning: the destination mailbox %s was created by this run (for another mailbox copied to it): the mail copied to it before is gone; copying the mailbox whole again\n", printable(name), printable(dname))
			box.LastUID, box.HighestModSeq = 0, 0
			box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
			box.resetMap(0)
		}
	}
	return nil
}

// openDst sets ap, the appender to the destination mailbox (created says
// this run created it), once it is known to be the one the entry's last
// UID and map speak of, and saves the state.
func (mc *mailboxCopy) openDst(ctx context.Context, created bool) error {
	name, dname, box := mc.name, mc.dname, mc.box
	ap := newAppender(mc.dst.c, dname, mc.o.noMulti)
	ap.undated = &mc.o.undated
	mc.ap = ap
	// The destination mailbox must be the one the state's LastUID and
	// map speak of: deleted and created again since, it holds none of
	// the mail copied before, which a run trusting LastUID skipped for
	// good (TestCopyDstRecreatedSkipsSilently).
	startOver, err := ap.checkDst(ctx, box.DstUIDValidity, box.LastUID > 0 || box.Pending != nil, created,
		copyDstChangedHint(name, dname, mc.state))
	if err != nil {
		return err
	}
	if startOver {
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: warning: the destination mailbox %s is new and empty (UIDVALIDITY %d, recorded %d): the mail copied to it before is gone; copying the mailbox whole again\n", printable(name), printable(dname), ap.uidv, box.DstUIDValidity)
		box.LastUID, box.HighestModSeq = 0, 0
		box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
	}
	if startOver || box.DstUIDValidity != ap.uidv {
		// Recorded even when the destination has no UIDPLUS (no map
		// then): the next run checks against it.
		box.resetMap(ap.uidv)
	}
	return mc.state.save(mc.path)
}

// settlePending settles the entry's pending group, the one a run stopped
// while it was sent: recorded as copied when it landed on the destination
// (appender.landed), else to be sent again; the state saved.
func (mc *mailboxCopy) settlePending(ctx context.Context) error {
	name, dname, box, ap, path := mc.name, mc.dname, mc.box, mc.ap, mc.path
	if box.Pending == nil {
		return nil
	}
	ok, err := ap.landed(ctx, box.Pending, fmt.Sprintf(`check %s on the destination: if the messages of its pending group (source UIDs up to %d) are not there, remove %s.pending from %s (the next run copies them); if they are, also set %s.last_uid to its "pending_uid", %d`, printable(dname), box.PendingUID, stateKeyPath("mailboxes", name), path, stateKeyPath("mailboxes", name), box.PendingUID))
	if err != nil {
		return err
	}
	if ok {
		box.LastUID = box.PendingUID
		box.Copied += int64(box.Pending.Count)
		// The UIDs the messages were given, when they can be
		// told (pendingUIDs). Before, a group of UIDNEXT 0
		// (unknown) was mapped from UID 0, and the uint32
		// difference wrapped.
		if p := box.Pending; len(box.PendingSrc) == p.Count {
			dst := ap.confirmed // found by appender.confirm
			if dst == nil {
				dst = pendingUIDs(p, ap.next)
			}
			if len(dst) == p.Count {
				box.mapAppended(p.DstUIDValidity, box.PendingSrc, dst)
			}
		}
	}
	box.Pending, box.PendingUID, box.PendingSrc = nil, 0, nil
	return mc.state.save(path)
}

// carryFlags carries the flag changes of the mail copied before to its
// copies: compared once in a run, by the mailbox's first try, which
// records in try what it did (flagsDone); a later try reports that.
// Either way try then holds the plan as it ended (flagSyncOff when the
// destination refused the changes) and the EXAMINE's HIGHESTMODSEQ.
func (mc *mailboxCopy) carryFlags(ctx context.Context) error {
	box, try, res, ms := mc.box, mc.try, mc.res, mc.ms
	plan, since := mc.planFlags()
	modSeq, noModSeq := ms.HighestModSeq, ms.NoModSeq
	if try.flagsDone {
		res.FlagSync, plan, modSeq, noModSeq = try.flagSync, try.plan, try.modSeq, try.noModSeq
	} else {
		res.FlagSync = plan.String()
	}
	if !try.flagsDone && plan == flagSyncOff && box.LastUID > 0 {
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: note: %v\n", printable(mc.name), errNoCondStore)
	}
	if !try.flagsDone && (plan == flagSyncChanged || plan == flagSyncFull) {
		var err error
		if plan, err = mc.syncFlags(ctx, plan, since); err != nil {
			return err
		}
	}
	if !try.flagsDone {
		try.flagsDone, try.flagSync, try.plan, try.modSeq, try.noModSeq = true, res.FlagSync, plan, modSeq, noModSeq
	}
	return nil
}

// planFlags is planFlagSync's plan for the flags of the mail copied
// before, and the HIGHESTMODSEQ to carry the changes since. A recorded
// HIGHESTMODSEQ past 2^63-1 is taken as unknown, with a warning.
func (mc *mailboxCopy) planFlags() (flagSync, uint64) {
	box := mc.box
	var pastModSeq uint64
	if box.HighestModSeq > math.MaxInt64 {
		// Past 2^63-1 (RFC 7162), which no server sends now that the
		// codec refuses it, but a state an older imapkit wrote may
		// hold: asked for in FETCH CHANGEDSINCE, it failed the
		// mailbox at every run (commands.ErrModSeq, nothing sent).
		// Taken as unknown (0): what follows is the plan's.
		pastModSeq, box.HighestModSeq = box.HighestModSeq, 0
	}
	plan, since := planFlagSync(mc.src.c, mc.ms, box, mc.o.syncFlags)
	if pastModSeq != 0 {
		// With 0 recorded, planFlagSync gives flagSyncFull (mail was
		// copied before, or --sync-flags), flagSyncOff (the source
		// has no CONDSTORE now) or, nothing copied before,
		// flagSyncUnchanged.
		then := "flag changes of the mail copied before are not carried (the source does not offer CONDSTORE)"
		switch {
		case box.LastUID == 0:
			then = "no mail was copied before"
		case plan == flagSyncFull:
			then = "the flags of the mail copied before are compared in full"
		}
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: warning: the state's HIGHESTMODSEQ %d is past 2^63-1 (RFC 7162): taken as unknown; %s\n", printable(mc.name), pastModSeq, then)
	}
	return plan, since
}

// syncFlags carries the flags by plan (flagSyncChanged: the changes since
// the HIGHESTMODSEQ since; flagSyncFull: all compared) and returns the
// plan as it ended: flagSyncOff when the destination refused the
// changes, which does not stop the copy of new mail.
func (mc *mailboxCopy) syncFlags(ctx context.Context, plan flagSync, since uint64) (flagSync, error) {
	name, dname, box, res, dst := mc.name, mc.dname, mc.box, mc.res, mc.dst.c
	fs := &flagSyncer{src: mc.src.c, dst: dst, dname: dname, box: box, since: since}
	err := fs.syncFlags(ctx, box.LastUID)
	res.FlagsUpdated, res.FlagsUnmatched = fs.updated, fs.unknown
	if fs.selected && dst.Session().State() == session.StateSelected {
		// The flag sync SELECTed the destination mailbox: every
		// group's STATUS (appender.prepare) was then of the
		// selected mailbox, which RFC 9051 6.3.11 says a client
		// SHOULD NOT ask (a server may answer it from a stale
		// view, and the group is recorded at a stale UIDNEXT).
		// Left without an expunge (deselect).
		if derr := deselect(ctx, dst, dname, false); derr != nil {
			return plan, fmt.Errorf("after carrying flag changes: %w", derr)
		}
	}
	switch {
	case errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad):
		// A server that refuses (a keyword the destination does
		// not take, say) does not stop the copy of new mail;
		// the changes are tried again next run.
		// The answer as the server sent it, for --json (escaped
		// by the JSON writer); err.Error() escapes it for stderr.
		res.FlagsRefused = errorAsSent(err)
		fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: flag changes not carried: %s\n", printable(name), printable(err.Error()))
		plan = flagSyncOff
	case err != nil:
		return plan, fmt.Errorf("carrying flag changes: %w", err)
	}
	return plan, mc.state.save(mc.path) // the map may have grown
}

// newUIDs returns the UIDs of the source mailbox's messages after the
// last one copied.
func (mc *mailboxCopy) newUIDs(ctx context.Context) (*uidQueue, error) {
	box := mc.box
	uids := &uidQueue{}
	if mc.ms.Exists > 0 && box.LastUID < math.MaxUint32 {
		// At the largest UID nothing can be new: LastUID+1 wrapped to 0,
		// and "UID 0:*" is BAD, at every run.
		all, err := searchUIDs(ctx, mc.src.c, []string{"UID", fmt.Sprintf("%d:*", box.LastUID+1)})
		if err != nil {
			return nil, err
		}
		uids = newUIDQueue(all, box.LastUID)
	}
	return uids, nil
}

// startProgress sets p, the progress of the copy of n messages, and
// hooks, what the batches call back: a 0-byte message is counted and
// warned about once in the mailbox's tries; with --skip-unsendable, a
// message the destination cannot take is recorded as skipped.
func (mc *mailboxCopy) startProgress(n int) {
	name, box, res, try, stderr := mc.name, mc.box, mc.res, mc.try, mc.out.stderr
	p := newProgress(stderr, mc.out.json || mc.o.quiet, "copy "+name, n)
	mc.p = p
	// A group sent again one at a time, or a try after a stopped one,
	// opens a message again.
	if try.emptied == nil {
		try.emptied = map[uint32]bool{}
	}
	empty := func(uid uint32) {
		if try.emptied[uid] {
			return
		}
		try.emptied[uid] = true
		res.Empty++
		fmt.Fprintf(stderr, "imapkit copy: %s: UID %d is empty (0 bytes): appended as a blank line (an APPEND needs a byte)\n", printable(name), uid)
	}
	note := func(s string) {
		fmt.Fprintf(stderr, "imapkit copy: %s: %s\n", printable(name), printable(s))
	}
	mc.hooks = &batchHooks{empty: empty, note: note}
	if mc.o.skipUnsendable {
		mc.hooks.skip = func(uid uint32, why string) {
			res.Skipped++
			p.skip(1)
			box.Skipped = append(box.Skipped, uid)
			note(fmt.Sprintf("warning: UID %d %s: skipped (--skip-unsendable; the state records it, and no run sends it again)", uid, why))
		}
	}
}

// copyNew copies the messages of uids, copyFetchBatch at a time
// (copyBatch). A message expunged on the source during the copy is
// skipped once the source confirms it (confirmExpunged), the rest of its
// batch fetched again.
func (mc *mailboxCopy) copyNew(ctx context.Context, uids *uidQueue) error {
	box := mc.box
	for uids.len() > 0 {
		batch := uids.take(copyFetchBatch)
		err := mc.copyBatch(ctx, batch)
		var gone *vanishedError
		if errors.As(err, &gone) && !mc.ap.closed {
			// Its APPEND was not sent; the messages before it are
			// copied. Skipped, once the source confirms that it is
			// expunged: a UID is never used again, so the state may
			// move past it; the rest of the batch is fetched again.
			if err := confirmExpunged(ctx, mc.src.c, gone.uid); err != nil {
				return err
			}
			fmt.Fprintf(mc.out.stderr, "imapkit copy: %s: UID %d was expunged on the source during the copy: skipped\n", printable(mc.name), gone.uid)
			mc.res.Vanished++
			mc.p.skip(1)
			box.LastUID = max(box.LastUID, gone.uid)
			if err := mc.state.save(mc.path); err != nil {
				return err
			}
			var rest []uint32
			for _, u := range batch {
				if u > box.LastUID {
					rest = append(rest, u)
				}
			}
			uids.unshift(rest)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// progressDone ends the progress and puts its counts in the report.
func (mc *mailboxCopy) progressDone() {
	mc.p.done()
	mc.res.LastUID, mc.res.Copied, mc.res.Bytes = mc.box.LastUID, mc.p.n, mc.p.bytes
}

// confirmExpunged checks that the source no longer has uid, whose body it
// sent as NIL: after a NOOP (which reports the expunge to this session),
// UID SEARCH UID uid finds nothing. Anything else is an error: the message
// is not skipped.
func confirmExpunged(ctx context.Context, src *commands.Client, uid uint32) error {
	if err := src.Noop(ctx); err != nil {
		return err
	}
	found, err := searchUIDs(ctx, src, []string{"UID", fmt.Sprint(uid)})
	if err != nil {
		return err
	}
	if found.Contains(uid) {
		return &notExpungedError{uid}
	}
	return nil
}

// notExpungedError is confirmExpunged's error for a message the source
// still has.
type notExpungedError struct{ uid uint32 }

func (e *notExpungedError) Error() string {
	return fmt.Sprintf("UID %d: the source sent its body as NIL, or left it out of the FETCH answer, but still has it: not copied or exported (run again)", e.uid)
}

// copyBatch copies the messages of uids: their metadata first (flags,
// internal date, and RFC822.SIZE, which bounds the bytes of a group and
// stops at a message over the destination's APPENDLIMIT: those before it
// are copied, and it is a *tooBigError, never sent), then their bodies,
// each streamed from the FETCH into an APPEND with the size of the FETCH's
// literal. A body the source sends as NIL, or leaves out of the answer
// (the message was expunged since the metadata FETCH), stops it with a
// *vanishedError:
// the group it is in is not appended (without MULTIAPPEND, the group is
// that message alone; in a MULTIAPPEND, the APPEND is not sent when it is
// the group's first message, the destination's session going on, and is
// otherwise abandoned mid-way and the connection to the destination
// closed), and its pending record is dropped. A group of several messages the destination refuses with a
// tagged NO (groupRefusal: full, a message too big or one it will not
// take, with a response code or none) is sent again one message at a
// time, its bodies fetched again (note says so on stderr): those it takes
// are copied, and the first refused one stops it with an error naming its
// UID. hooks.empty is called for each 0-byte message, appended as a
// blank line.
func (mc *mailboxCopy) copyBatch(ctx context.Context, uids []uint32) error {
	meta, big, err := mc.batchMeta(ctx, uids)
	if err != nil {
		return err
	}
	if len(meta) == 0 {
		return big
	}
	b := &batchSend{mailboxCopy: mc, meta: meta, stop: func() {}}
	b.fetchBodies(ctx)
	defer func() { b.stop() }()
	// Before stop: a cancelled APPEND may have left a Read of a body
	// running (heldReader), in the FETCH's answer that stop ends.
	defer mc.ap.settle()
	for len(b.meta) > 0 {
		if err := b.sendGroup(ctx); err != nil {
			return err
		}
	}
	return big
}

// batchMeta returns the metadata of the messages of uids (those an
// earlier try or run skipped left out), sorted by UID and cut before the
// first one over the destination's APPENDLIMIT (by its RFC822.SIZE) or
// before the one the try before found unsendable (stopBefore): big is
// that one's error, for the batch to end with once those before it are
// copied.
func (mc *mailboxCopy) batchMeta(ctx context.Context, uids []uint32) (meta []*commands.Message, big error, err error) {
	box, p := mc.box, mc.p
	// The messages skipped by an earlier try or run are not sent again.
	if len(box.Skipped) > 0 {
		n := len(uids)
		uids = slices.DeleteFunc(slices.Clone(uids), box.isSkipped)
		p.skip(n - len(uids))
		if len(uids) == 0 {
			return nil, nil, nil
		}
	}
	set := commands.UIDs(uids...)
	meta, err = mc.src.c.FetchAll(ctx, set, &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(meta, func(a, b *commands.Message) int { return cmp.Compare(a.UID, b.UID) }) // not int(a)-int(b): 32-bit ints overflow
	if len(meta) < len(uids) {
		p.skip(len(uids) - len(meta)) // expunged meanwhile
	}
	return mc.cutUnsendable(meta)
}

// cutUnsendable is batchMeta's cut of meta. A message over the
// destination's APPENDLIMIT (by its RFC822.SIZE) is never sent: the
// library finds it too big only when its turn comes in the command (its
// size is learnt from the source's literal then), which aborts the
// session with the group half sent, and closed the connection for every
// mailbox after this one. The messages before it are copied; it fails
// the mailbox, naming it. With --skip-unsendable it is skipped (the state
// saved), and the rest goes on.
func (mc *mailboxCopy) cutUnsendable(meta []*commands.Message) (kept []*commands.Message, big, err error) {
	box, ap, hooks := mc.box, mc.ap, mc.hooks
	skipped := false
	for i := 0; i < len(meta); i++ {
		m := meta[i]
		if m.UID == box.stopUID && box.stopErr != nil {
			// Found unsendable in the middle of its group by
			// the try before (stopBefore).
			big = box.stopErr
			meta = meta[:i]
			break
		}
		if !ap.tooBig(m.Size) {
			continue
		}
		if hooks.skip != nil {
			hooks.skip(m.UID, fmt.Sprintf("is %d bytes (RFC822.SIZE), over the destination's APPENDLIMIT of %d", m.Size, ap.limit))
			meta = slices.Delete(meta, i, i+1)
			i--
			skipped = true
			continue
		}
		big = &tooBigError{uid: m.UID, size: m.Size, limit: ap.limit}
		meta = meta[:i]
		break
	}
	if skipped {
		if err := mc.state.save(mc.path); err != nil {
			return nil, nil, err
		}
	}
	return meta, big, nil
}

// unsendableNUL handles the failure err of an APPEND in which the message
// of source UID uid was found to hold a NUL byte (wire.ErrNUL, met in the
// middle of its literal: the destination's session is aborted, nothing of
// the group appended). With BINARY on the destination, the UID is
// recorded to go as literal8 (RFC 3516), and so, with --skip-unsendable
// (hooks.skip), is one skipped: the state is saved and a
// *retryMailboxError returned, for copyAccount to copy the mailbox again
// over a new connection. Otherwise the error names the UID and the
// option; when messages came before it in its group (first is the
// group's first UID), the mailbox is first tried again stopping before
// it (stopBefore), so that they are copied. A UID already recorded as
// binary is not tried again (nothing would change).
func (mc *mailboxCopy) unsendableNUL(uid, first uint32, err error) error {
	ap, box, hooks := mc.ap, mc.box, mc.hooks
	const why = "holds a NUL byte"
	switch {
	case ap.binary && !box.isBinary(uid):
		box.Binary = append(box.Binary, uid)
		hooks.note(fmt.Sprintf("UID %d holds a NUL byte: it goes as literal8 (BINARY); copying the mailbox again over a new connection", uid))
	case !ap.binary && hooks.skip != nil:
		hooks.skip(uid, "holds a NUL byte, which the destination (without BINARY) cannot take")
	case ap.binary:
		return stopBefore(box, uid, first, why, &refusedMessageError{what: fmt.Sprintf("UID %d", uid), err: err}, err)
	default:
		// Named by errNeedsBinary, not by the aborted session: the
		// destination can never take it (exit 1, a refusal, as
		// import's), where a lost connection (exit 3) is one a
		// script retries for ever.
		return stopBefore(box, uid, first, why, &refusedMessageError{what: fmt.Sprintf("UID %d", uid), err: fmt.Errorf("%w (--skip-unsendable skips it)", errNeedsBinary)}, err)
	}
	if serr := mc.state.save(mc.path); serr != nil {
		return errors.Join(err, serr)
	}
	return &retryMailboxError{uid: uid, why: why, err: err}
}

// unsendableTooBig handles the failure err (wrapping commands.ErrTooBig)
// of an APPEND, its group's first message first, in which the message of
// source UID uid was found over the destination's APPENDLIMIT when its
// turn came: its literal is larger than its RFC822.SIZE said (a source
// storing bare LF counts LF line ends and sends CRLF), so the check
// before the group was sent let it through. In a MULTIAPPEND the
// destination's session is aborted, nothing of the group appended: the
// error named no message, and --skip-unsendable did not skip it, so the
// mailbox stopped there at every run. With --skip-unsendable (hooks.skip)
// the UID is recorded as skipped, the state saved, and a
// *retryMailboxError returned, for copyAccount to copy the mailbox again
// (over a new connection when the session ended). Without it the error
// names the UID and the option; when messages came before it in its
// group, the mailbox is first tried again stopping before it
// (stopBefore), so that they are copied, as they are when RFC822.SIZE
// tells.
func (mc *mailboxCopy) unsendableTooBig(uid, first uint32, err error) error {
	ap, box, hooks := mc.ap, mc.box, mc.hooks
	if hooks.skip == nil {
		return stopBefore(box, uid, first, "is over the destination's APPENDLIMIT", &refusedMessageError{what: fmt.Sprintf("UID %d", uid), err: fmt.Errorf("over the destination's APPENDLIMIT of %d by the size of its body, though not by its RFC822.SIZE (--skip-unsendable skips it): %w", ap.limit, err)}, err)
	}
	hooks.skip(uid, fmt.Sprintf("is over the destination's APPENDLIMIT of %d by the size of its body (its RFC822.SIZE said less)", ap.limit))
	if serr := mc.state.save(mc.path); serr != nil {
		return errors.Join(err, serr)
	}
	return &retryMailboxError{uid: uid, why: "is over the destination's APPENDLIMIT", err: err}
}

// stopBefore ends a mailbox's copy at the message of source UID uid,
// found unsendable (why says why) when its turn in an APPEND came, in a
// group whose first message is first: named is the error that names it.
// Met mid-MULTIAPPEND, the failure abandoned the whole group, so the
// messages before it were not copied either, at any run. When it was
// not the group's first, box.stopUID and box.stopErr record it (in
// memory) and a *retryMailboxError (err its cause) is returned: the
// mailbox's next try copies the messages before it and then fails with
// named (copyBatch). So too when it was its group's first but err
// aborted the destination's session (met in the middle of its literal):
// the next try, over a new connection, stops before it without sending
// it, and the run ends with a clean LOGOUT (the group's first failed so
// at every run after the first, which starts at it). Otherwise, or when
// this try was already such a retry, named is returned.
func stopBefore(box *copyBox, uid, first uint32, why string, named, err error) error {
	if (uid == first && !errors.Is(err, session.ErrAborted)) || box.stopUID != 0 {
		return named
	}
	box.stopUID, box.stopErr = uid, named
	return &retryMailboxError{uid: uid, why: why, err: err}
}
