package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// copyRun is one account's copy (copyAccount): what the copies of its
// mailboxes share. Its methods are the run's steps; a mailbox's copy is
// a mailboxCopy's.
type copyRun struct {
	o     *copyOpts
	out   *output
	state *copyState
	path  string  // the state file
	dt    *target // the destination, connected to again (reconnectDst)
	src   *conn
	dst   *conn // the current connection: a new one once a session ended
	m     *nameMapper
	// fresh are the destination mailboxes this run created, each with
	// the source mailboxes copied to it in this run: the copies earlier
	// runs made to one (deleted since) are not in it, whatever those
	// mailboxes put there. A source mailbox among them (its turn again)
	// finds its own copies there: its entry is kept.
	fresh map[string]map[string]bool
	// try is what the tries of the mailbox being copied share: a new
	// one for its first try (copyTry), the same for a try after a
	// stopped one (a *retryMailboxError).
	try *mailboxTry
}

// loadState reads the run's state file, that of the accounts st and dt,
// locked until unlock is called: the state is read once and trusted
// until the end of the run, so a second run of the same job at the same
// time must not start. An entry recorded under "inbox" is moved to
// "INBOX" there (foldInbox).
func (run *copyRun) loadState(st, dt *target) (unlock func(), err error) {
	o := run.o
	srcUser, dstUser := firstNonEmpty(o.src.user, st.user), firstNonEmpty(o.dst.user, dt.user)
	run.state = &copyState{Version: 1, Src: accountKey(st, srcUser), Dst: accountKey(dt, dstUser), Mailboxes: map[string]*copyBox{}}
	run.path = copyStatePath(o.stateDir, run.state.Src, run.state.Dst)
	l, err := lockState(run.path)
	var ue *stateUnwritableError
	if errors.As(err, &ue) {
		ue.advice += fmt.Sprintf("; or give --state-dir a writable directory (with a copy of %s in it, to go on where the last run stopped)", printable(filepath.Base(run.path)))
	}
	if err != nil {
		return nil, err
	}
	if err := loadCopyState(run.path, run.state); err != nil {
		l.unlock()
		return nil, err
	}
	return l.unlock, nil
}

// mailboxesToCopy returns the source mailboxes the run copies: those
// named (INBOX's children as the source names them:
// nameMapper.foldInboxChildren), else every one the source lists, and
// clashes, the error of each that cannot be copied (a name two listed
// mailboxes decode to: sourceMailboxes; names mapped to one destination:
// destClashes). A --restart-mailbox of a mailbox the source does not
// list refuses the run.
func (run *copyRun) mailboxesToCopy(ctx context.Context, named []string) (mailboxes []string, clashes map[string]error, err error) {
	o := run.o
	if run.m, err = newNameMapper(ctx, run.src.c, run.dst.c, o.maps.to); err != nil {
		return nil, nil, err
	}
	if mailboxes, o.restart, err = run.m.foldInboxChildren(ctx, named, o.restart, run.state); err != nil {
		return nil, nil, err
	}
	if len(mailboxes) == 0 {
		if mailboxes, clashes, err = run.m.sourceMailboxes(ctx); err != nil {
			return nil, nil, err
		}
	}
	if err := restartAmongNamed(o.restart, named, run.m.srcDelim); err != nil {
		return nil, nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(o.restart)) {
		if !slices.Contains(mailboxes, name) {
			return nil, nil, fmt.Errorf("--restart-mailbox %s: %w: the source lists no such mailbox: nothing done", shellQuote(name), errRestartRefused)
		}
	}
	return mailboxes, run.m.destClashes(mailboxes, clashes), nil
}

// restartAmongNamed is checkRestart's check made again once the source's
// delimiter (delim) is known: each --restart-mailbox name must be among
// the mailboxes typed, when some are, INBOX's children compared with
// their prefix folded (inboxChild), whether the source lists them or
// not. Before connecting, INBOX followed by any ASCII punctuation passes
// as a child of INBOX (maybeDelimiter); one followed by what is not the
// source's delimiter is no child but another mailbox, whose name is
// case-sensitive (RFC 3501 5.1: only INBOX itself is not): "INBOX-x"
// named and "--restart-mailbox inbox-x" with the delimiter "/". It
// passed the check, connected, and was refused as a name "the source
// lists no such mailbox" (exit 1), where the same typo with a letter
// after INBOX is a usage error (exit 2). Now both are the usage error,
// in the same words, nothing done (TestCopyRestartInboxPunctDovecot).
// A child typed in two cases that the source does not list ("inbox/New"
// named, "--restart-mailbox INBOX/New") is one name, as before
// connecting: it is left to the check that the source lists it (exit 1;
// it was compared here after foldInboxChildren, which folds only a
// listed name, and refused as not named:
// TestCopyRestartUnlistedInboxChildCaseNoSuchMailbox).
func restartAmongNamed(restart map[string]bool, typed []string, delim string) error {
	if len(typed) == 0 {
		return nil
	}
	named := func(name string) bool {
		return slices.ContainsFunc(typed, func(t string) bool { return inboxChild(t, delim) == inboxChild(name, delim) })
	}
	for _, name := range slices.Sorted(maps.Keys(restart)) {
		if !named(name) {
			return usagef("--restart-mailbox %s: not among the mailboxes named (%s): nothing done", shellQuote(name), shellQuoteAll(typed))
		}
	}
	return nil
}

// copyMailboxes copies mailboxes, one after the other: one that fails
// (clashes holds the error of some) is reported on stderr and the run
// goes on with the next; the run's error then counts them
// (*mailboxesError). A mailbox's copy stopped to be tried again (a
// *retryMailboxError) goes again at once, its report added to the next
// try's.
func (run *copyRun) copyMailboxes(ctx context.Context, mailboxes []string, clashes map[string]error) error {
	var firstErr error
	failed := 0
	// prev is the report of a mailbox's copy stopped to be tried again
	// (a *retryMailboxError): added to the next try's.
	var prev *copyResult
	for i := 0; i < len(mailboxes); i++ {
		name := mailboxes[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := run.reconnectDst(ctx); err != nil {
			return err
		}
		dname := run.dstName(name)
		r, err := run.copyTry(ctx, name, dname, clashes[name], prev != nil)
		r = prev.add(r)
		prev = nil
		var retry *retryMailboxError
		if errors.As(err, &retry) {
			// A message holding a NUL, or over APPENDLIMIT by
			// the size of its body, met when its turn came
			// (which may have cost the destination's session),
			// is recorded now (sent as literal8, skipped, or
			// to stop before: stopBefore): the mailbox goes
			// again, over a new connection when the session
			// ended (reconnectDst).
			prev = r
			i--
			continue
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", printable(name), err)
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(run.out.stderr, "imapkit copy: %s\n", printable(err.Error()))
			if firstErr == nil {
				firstErr = err
			}
			failed++
			continue
		}
		if err := run.report(name, dname, r); err != nil {
			return err
		}
	}
	if firstErr != nil {
		return &mailboxesError{failed: failed, total: len(mailboxes), first: firstErr}
	}
	return nil
}

// reconnectDst connects to the destination again when the session of
// the current connection ended (with the mailbox before: an APPEND
// abandoned mid-way, a message the library refused once its turn came or
// one that could not be read whole from the source; or the server closed
// it): the next mailbox and those after it get the new connection. Over
// the closed one, every later mailbox failed ("creating B on the
// destination: session: command not sent"), at every run.
func (run *copyRun) reconnectDst(ctx context.Context) error {
	serr := run.dst.c.Session().Err()
	if serr == nil {
		return nil
	}
	nd, err := run.o.dst.connect(ctx, run.dt, run.out.stdin, run.out.stderr)
	if err != nil {
		return fmt.Errorf("destination: connecting again (its session ended: %v): %w", serr, err)
	}
	run.dst.close()
	run.dst, run.m.dst = nd, nd.c
	return nil
}

// dstName is the destination mailbox the source mailbox name is copied
// to (nameMapper.dstName). Its entry's destination is set to it when the
// entry names the same mailbox as a run before INBOX's children were
// named "INBOX"+delimiter did.
func (run *copyRun) dstName(name string) string {
	m := run.m
	dname := m.dstName(name)
	if b := run.state.Mailboxes[name]; b != nil && b.Dst != dname && inboxChild(b.Dst, m.dstDelim) == dname && !m.have[b.Dst] {
		// Recorded by a run before INBOX's children were named
		// "INBOX"+delimiter (nameMapper.dstName): the same
		// mailbox, on a server whose INBOX prefix is
		// case-insensitive. The state's key is the source's name,
		// unchanged. Not when the destination lists the recorded
		// name too: a server listing both keeps them apart, and the
		// copy goes on where it was
		// (TestInboxChildBothListedKeepsCopy, found by
		// review).
		b.Dst = dname
	}
	return dname
}

// copyTry is one try of the copy of the source mailbox name to dname
// (retrying: a try after one stopped to be tried again), which clash,
// when not nil, fails before anything is asked: a name two listed
// mailboxes decode to (sourceMailboxes), or names mapped to one
// destination (destClashes). A CREATE the destination refuses (a name it
// does not allow: Dovecot refuses "a.b" and "~x", which Cyrus takes)
// fails that mailbox, not the run: it stopped every mailbox after it, at
// every run.
func (run *copyRun) copyTry(ctx context.Context, name, dname string, clash error, retrying bool) (*copyResult, error) {
	if clash != nil {
		return nil, clash
	}
	restart, err := run.checkBeforeCreate(ctx, name, dname, retrying)
	if err != nil {
		return nil, err
	}
	created, err := run.ensureDst(ctx, name, dname, restart)
	if err != nil {
		return nil, err
	}
	if !retrying {
		run.try = &mailboxTry{restart: restart, dstFresh: run.fresh[dname] != nil && !run.fresh[dname][name] && !created}
	}
	if created {
		run.fresh[dname] = map[string]bool{}
	}
	if run.fresh[dname] != nil {
		run.fresh[dname][name] = true
	}
	return run.copyMailbox(ctx, name, dname, created)
}

// checkBeforeCreate is what is asked of the source mailbox name before
// its destination mailbox dname is created, so that a refusal creates
// nothing: whether --restart-mailbox restarts it (restartCheck, on its
// first try), the entries the state records it under (dupsError), and,
// unless it restarts, whether its entry may be gone on with
// (refuseBeforeCreate, on its first try).
func (run *copyRun) checkBeforeCreate(ctx context.Context, name, dname string, retrying bool) (restart bool, err error) {
	dstExists := run.m.have[dname] || strings.EqualFold(dname, "INBOX")
	if !retrying && run.o.restart[name] {
		if restart, err = restartCheck(ctx, run.src.c, run.dst.c, name, dname, dstExists, run.fresh[dname] != nil, run.state, run.o, run.out.stderr); err != nil {
			return false, err
		}
	}
	if !restart && len(run.state.dups[name]) > 0 {
		return false, run.state.dupsError(name)
	}
	if !restart && !retrying {
		if err := refuseBeforeCreate(ctx, run.src.c, name, dname, dstExists, run.state); err != nil {
			return false, err
		}
	}
	return restart, nil
}

// ensureDst creates the destination mailbox dname of the source mailbox
// name unless it exists (nameMapper.ensure); created says it did. The
// entry a restart is to remove counts for nothing: as on a first run.
func (run *copyRun) ensureDst(ctx context.Context, name, dname string, restart bool) (created bool, err error) {
	listed := run.m.have[dname]
	except := ""
	if restart {
		except = name
	}
	if created, err = run.m.ensure(ctx, dname, run.state.copiedTo(dname, except)); err != nil {
		what := "creating %s on the destination"
		if listed {
			what = "the destination's %s"
		}
		return false, fmt.Errorf(what+": %w (--map %s copies it under another name)", printable(dname), err, shellQuote(name+"=NAME"))
	}
	return created, nil
}

// report prints the report r of the mailbox name copied to dname: its
// --json object, or a line on stdout.
func (run *copyRun) report(name, dname string, r *copyResult) error {
	out := run.out
	if out.json {
		return out.emit(r)
	}
	fmt.Fprintf(out.stdout, "%s -> %s: copied %d messages (%d bytes); last UID %d", printable(name), printable(dname), r.Copied, r.Bytes, r.LastUID)
	if r.Vanished > 0 {
		fmt.Fprintf(out.stdout, "; %d expunged during the copy, skipped", r.Vanished)
	}
	if r.Skipped > 0 {
		fmt.Fprintf(out.stdout, "; %d skipped (the destination cannot take them: see the warnings)", r.Skipped)
	}
	if r.FlagsUpdated > 0 || r.FlagsUnmatched > 0 {
		fmt.Fprintf(out.stdout, "; flags updated on %d", r.FlagsUpdated)
		if r.FlagsUnmatched > 0 {
			fmt.Fprintf(out.stdout, " (%d copies not found)", r.FlagsUnmatched)
		}
	}
	fmt.Fprintln(out.stdout)
	return nil
}

// copyMailbox copies the messages of name not copied yet to dname;
// created says that this run created dname. It is one try of the
// mailbox (copyTry): run.try is what its tries in this run share.
func (run *copyRun) copyMailbox(ctx context.Context, name, dname string, created bool) (*copyResult, error) {
	mc := &mailboxCopy{copyRun: run, name: name, dname: dname}
	if err := mc.openEntry(ctx); err != nil {
		return nil, err
	}
	if err := mc.openDst(ctx, created); err != nil {
		return nil, err
	}
	if err := mc.settlePending(ctx); err != nil {
		return nil, err
	}
	box, try := mc.box, run.try
	mc.res = &copyResult{Src: run.state.Src, Dst: run.state.Dst, Mailbox: name, MailboxBase64: run.m.asSent(name), DstMailbox: dname, UIDValidity: box.UIDValidity}
	if err := mc.carryFlags(ctx); err != nil {
		return nil, err
	}
	// From here on try holds the flags' plan, and the HIGHESTMODSEQ
	// they were compared after, of this try or the first's.
	if try.plan == flagSyncUnchanged && box.LastUID == 0 && mc.ms.HighestModSeq != 0 && !mc.ms.NoModSeq {
		// Nothing was copied before: every message copied from here on
		// has flags as of this EXAMINE or later. Recorded now (saved
		// with the first group), so that a first run stopped mid-way
		// leaves the next one the changes to look for.
		box.HighestModSeq = mc.ms.HighestModSeq
	}
	uids, err := mc.newUIDs(ctx)
	if err != nil {
		return nil, err
	}
	mc.startProgress(uids.len())
	if err := mc.copyNew(ctx, uids); err != nil {
		var retry *retryMailboxError
		if !errors.As(err, &retry) {
			return nil, err
		}
		mc.progressDone()
		return mc.res, err
	}
	mc.progressDone()
	if try.plan != flagSyncOff && try.modSeq != 0 && !try.noModSeq {
		// The next run carries the changes made since the EXAMINE the
		// flags were compared after (this try's, or the first's).
		box.HighestModSeq = try.modSeq
	}
	// The restart is over: a later --restart-mailbox of it is a new
	// one, checked as any (it was taken for the same command run again
	// after a kill, "already restarted", and did nothing:
	// TestCopyRestartedClearedAtEnd, found by review).
	box.Restarted = false
	return mc.res, run.state.save(run.path)
}
