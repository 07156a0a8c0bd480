// The read loop and routing: the reader goroutine decodes every response
// and hands it to the command it belongs to, to the unsolicited stream, or
// both; tagged responses end commands and apply the state table.

package session

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/growread"
	"github.com/imapkit/imapkit/wire"
)

// abort ends the session after a connection-level failure.
func (s *Session) abort(err error) { s.abortCut(err, -1) }

// abortCut is abort after a write failed (was cut) once the connection
// had taken the bytes up to handed (Session.handedOut): a command written
// whose last byte lies past it was cut off, and its error matches
// ErrWriteCut (abortEnd). handed < 0: no write failed.
func (s *Session) abortCut(err error, handed int64) {
	s.abortEnd(&AbortError{Err: err, History: s.tr.history()}, handed)
}

// abortWith ends the session with err, the error of every command in
// flight: with a write blocked then, the commands it carries end with err
// alone, not ErrWriteCut (how much of it the connection took is known only
// when it returns; TestCutWriteEarlierCommandsBySessionEnd); its own
// command's writer still tells that one.
func (s *Session) abortWith(err error) { s.abortEnd(err, -1) }

// abortEnd is abortWith, except that a command written whose last byte
// the connection did not take (its end past handed, when handed >= 0)
// gets err with ErrWriteCut: the server did not run it, as send tells the
// command whose own write was cut. The command being written when the
// write failed gets its error from its writer.
func (s *Session) abortEnd(err error, handed int64) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	pend, nsent := s.inflight, s.nsent
	s.inflight = nil
	s.nsent = 0
	clear(s.byTag)
	s.counts = flightCounts{} // a hold's count too (holdLocked)
	if s.wq != nil {
		s.wq.held = nil
	}
	s.hull = nil
	s.state = StateLogout
	s.unselectedLocked()
	s.changedLocked()
	if s.bound != nil {
		s.bound.Stop()
	}
	for i, p := range pend {
		p.err = err
		switch {
		case i >= nsent:
			// Registered, waiting for its turn to be written: not a
			// byte of it went out, and its caller may send it again
			// (ErrNotSent), not the error of a literal it never had.
			p.err = notSent(err)
		case handed >= 0 && p.written.Load() && p.endOff > handed:
			// Written before the write that failed (a batch's, its
			// bytes in the buffer that write flushed), and its last
			// byte did not go out: cut off, as that write's own
			// command (TestCutFlushEarlierCommandsWriteCut).
			p.err = &cutWriteError{abort: err}
		}
		p.cut = true
		p.endLocked()
		if p.pull != nil {
			p.pull.unwatch()
		}
	}
	s.eventsCond.Broadcast()
	s.pullCond.Broadcast()
	// Read under mu: STARTTLS's upgrade may be replacing it on the
	// reader goroutine (under wmu and mu; wmu cannot be taken here, the
	// writers abort with it held).
	conn := s.conn
	s.mu.Unlock()
	s.ww.close()
	conn.Close()
	s.wc.stopInflater() // its worker goroutine, under COMPRESS
	if s.log != nil && !errors.Is(err, ErrClosed) {
		s.log.Debug("imap session aborted", "err", err)
	}
}

// finish ends p with its result (under no lock).
func (s *Session) finish(p *Pending, r *Result, err error) {
	s.mu.Lock()
	if p.ended {
		// Ended already (the session was aborted): the first outcome
		// stays.
		s.mu.Unlock()
		return
	}
	s.removeInflightLocked(p)
	// The renumbering count as p leaves flight: a command started
	// between here and endLocked below (a SELECT queued behind p) may
	// renumber before p ends, and that is not p's (RenumberedInFlight).
	renumberedEnd := s.renumbered.Load()
	s.changedLocked()
	s.armStall()
	if p.pull != nil {
		p.pull.ended = true
		s.pullCond.Broadcast()
	}
	s.mu.Unlock()
	if p.pull != nil {
		// Next's context no longer needs watching once the queue is
		// taken; a caller that never comes back must not leave it.
		defer func() {
			s.mu.Lock()
			if pl := p.pull; pl.stop != nil && len(pl.queue) == 0 && !pl.hasSlot {
				pl.stop()
				pl.stop, pl.ctx = nil, nil
			}
			s.mu.Unlock()
		}()
	}
	s.mu.Lock()
	p.result, p.err = r, err
	p.endLocked()
	p.renumberedEnd = renumberedEnd
	s.mu.Unlock()
	if s.log != nil {
		st := ""
		if r != nil && r.Status != nil {
			st = r.Status.Kind.String()
		}
		s.log.Debug("imap command done", "tag", p.tag, "command", p.name, "status", st, "elapsed", time.Since(p.start), "err", err)
	}
}

// readLoop is the reader goroutine: it drives the reading coroutine
// (readCo) whenever no pulled command's caller does, until the session
// ends. See the top of pull.go.
func (s *Session) readLoop() {
	// over: the loop returned, not a panic going through (a user's
	// callback run by the decoder with s.mu held: waitBehind would wait
	// for that lock, and the panic, which ends the program, never would;
	// TestWantPanicInSectionHandler).
	over := false
	defer func() {
		if over {
			s.waitBehind() // flushBehind's goroutines: none outlives the reader
			// Nothing the server sends is read any more: the
			// credentials kept to redact it are zeroed and let go.
			s.secrets.forget()
			s.tr.forgetCarry()
		}
		close(s.readerDone)
		if s.opts.OnUnsolicited == nil {
			close(s.done) // no event goroutine to close it
		}
	}()
	next, stop := iter.Pull(s.readCo)
	defer stop()
	s.mu.Lock()
	s.co.next = next
	for {
		ok, keep := s.resumableLocked()
		if s.co.done {
			s.mu.Unlock()
			over = true
			return
		}
		if !ok {
			s.pullCond.Wait()
			continue
		}
		lent, body := s.co.lent, s.co.body
		s.co.running, s.co.holder, s.co.io = true, nil, false
		if keep {
			s.mu.Unlock()
			err := s.keepLent(lent, body)
			s.mu.Lock()
			if err != nil {
				s.co.running, s.co.stuck = false, true
				continue
			}
		}
		s.co.lent, s.co.body, s.co.stuck = nil, nil, false
		s.mu.Unlock()
		ev, more := s.drive(nil, false)
		s.mu.Lock()
		s.co.running = false
		if !more {
			s.co.done = true
			s.pullCond.Broadcast()
			s.mu.Unlock()
			over = true
			return
		}
		s.coEventLocked(ev, nil)
	}
}

// redactHeld is the decoder's BeforeSkip: the excerpt of a malformed
// response's syntax error is redacted as a part of its line, which the
// tokenizer still holds (secrets.redactSyntaxHeld), before the rest is
// skipped. readOne redacts the excerpt alone after (redactSyntax).
func (s *Session) redactHeld(err error) {
	if !s.secrets.any() {
		return
	}
	held, off := s.tok.Held()
	s.secrets.redactSyntaxHeld(err, held, off)
}

// readCo reads and routes every response until the session ends: the
// reading coroutine.
func (s *Session) readCo(yield func(coKind) bool) {
	s.rl.yield = yield
	for {
		if s.readOne() {
			return
		}
		if s.rl.holder != nil && !s.rl.yielded {
			// A caller drives: it looks at its command between two
			// responses (has it ended? has its context?).
			yield(coRouted)
		}
	}
}

// readOne reads and routes one response, on the reading coroutine or, in
// a direct step (see Session.step), on a pulled command's caller without
// it. It reports whether the reading is over (the session has ended).
func (s *Session) readOne() (over bool) {
	s.rl.yielded = false
	s.idleWait()
	off := s.tok.Offset()
	s.rl.skipped, s.rl.streamed, s.rl.guessed, s.rl.unowned, s.rl.lineHeld = 0, 0, false, 0, 0
	s.rl.respSize = off
	r, err := s.decodeNext()
	s.rl.respSize = s.tok.Offset() - off - s.rl.skipped + responseOverhead
	if err != nil {
		if s.Err() != nil {
			return true
		}
		s.secrets.redactSyntax(err)
		if b := s.pr.broken; b != nil {
			// The connection failed: whatever the decoder made of it
			// (a response abandoned after a streamed section is a
			// *codec.DecodeError that wraps the failure), the session
			// ends with the failure itself rather than reading again.
			err = b
		}
		// A *codec.DecodeError may wrap the read's failure too: a
		// response found malformed whose rest could not be skipped (a
		// lone " " and then a stall). The failure wins: a timeout is a
		// stall (read again, with a new deadline, a server that sent a
		// byte and went silent was cut after two stall timeouts), any
		// other failure is kept in pr.broken (above).
		var de *codec.DecodeError
		if errors.As(err, &de) && !isTimeout(err) && !errors.Is(err, wire.ErrOutOfStep) {
			// One response could not be decoded; the stream is in
			// step. The command it was probably meant for fails, so
			// that missing data is never silent.
			if s.log != nil {
				s.log.Debug("imap undecodable response", "err", err)
			}
			if err := s.blame(de); err != nil {
				s.abort(err)
				return true
			}
			return false
		}
		if isTimeout(err) {
			s.mu.Lock()
			// A command not sent yet, or sent with its bytes still
			// in the write buffer, waits for no answer (armStall).
			waiting := false
			if s.stallOwedLocked() {
				for _, p := range s.inflight[:s.nsent] {
					waiting = waiting || !p.waitsOnServer()
				}
			}
			if !waiting {
				// A deadline left from a command that has ended.
				// Turned off under mu: a command sent between
				// the check and the turning off (markSent,
				// armOut) would otherwise be left with no
				// deadline at all.
				s.wc.arm(false)
				s.mu.Unlock()
				if de != nil {
					// A malformed response whose rest the deadline
					// cut (the decoder skips it on the next read):
					// still blamed, as one read whole is.
					if err := s.blame(de); err != nil {
						s.abort(err)
						return true
					}
				}
				return false
			}
			s.mu.Unlock()
			if de != nil {
				// The stall's error is the read's own: a DecodeError
				// in it would tell callers that one response could
				// not be decoded and the session goes on (errors.As),
				// of a session that ends here
				// (TestStallAfterMalformedIsNotDecodeError, found by
				// review).
				if s.log != nil {
					s.log.Debug("imap undecodable response cut by the stall", "err", err)
				}
				err = timeoutCause(err)
			}
		}
		s.readFailed(err)
		return true
	}
	if err := s.route(r); err != nil {
		s.abort(err)
		return true
	}
	return false
}

// callSections calls the command's Sections handler, from within the
// decoder: a panic in it is the handler's, and decodeNext lets it go on.
func (s *Session) callSections(p *Pending, f *codec.Fetch, sec *codec.Section, r io.Reader) error {
	s.rl.inUser = true
	err := p.cmd.Sections(f, sec, r)
	s.rl.inUser = false
	return err
}

// decodeNext is s.dec.Next with a guard: a panic of the decoder's own
// code (wire, codec, this package: a bug) becomes an error matching
// ErrDecoderPanic, which ends the session (it is not a *codec.DecodeError:
// the decoder's state after it is unknown). A panic of the user's code
// that runs within (Sections, the conn, Trace, Logger, a Want the section
// handler calls with mu held) is not caught, nor one while mu is held.
// A deferred function costs a few nanoseconds per response.
func (s *Session) decodeNext() (r codec.Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			if s.rl.inUser || s.pr.inRead {
				// A Sections handler's panic, or one of a read of
				// the connection (the conn, a Trace writer, a
				// Logger): not the decoder's. It goes on as before
				// (callbacks must not panic: docs/session.md).
				s.rl.inUser, s.pr.inRead = false, false
				panic(v)
			}
			if !s.muFreeSoon() {
				// mu is held by the code that panicked (the section
				// handler routes under it, and calls a Command.Want
				// there): ending the session would take it again
				// and hang for ever. It goes on as a panic, as
				// before: a crash, not a hang.
				panic(v)
			}
			r, err = nil, decoderPanic(s.log, v)
		}
	}()
	return s.dec.Next()
}

// muFreeSoon reports whether mu can be taken within a second (taking and
// releasing it): another goroutine holds it for moments (Start, Wait,
// State...), the code that panicked with it held for ever.
func (s *Session) muFreeSoon() bool {
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		if s.mu.TryLock() {
			s.mu.Unlock()
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// decoderPanic is the error for a panic v of the decoder; the stack goes
// to log when there is one.
func decoderPanic(log *slog.Logger, v any) error {
	if log != nil {
		log.Error("imap decoder panic (a bug in imapkit: please report it)", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}
	return fmt.Errorf("%w: %v", ErrDecoderPanic, v)
}

// readFailed ends the session after a read from the connection failed
// with err (on the goroutine that reads: the reader, or the caller of a
// streamed body's Read), and returns the session's error: the one it ended
// with before, if it had. A timeout is a stall (*TimeoutError); io.EOF is
// io.ErrUnexpectedEOF, or ErrClosed after LOGOUT.
func (s *Session) readFailed(err error) error {
	if e := s.Err(); e != nil {
		// Closed or aborted already: the read failed because of it.
		return e
	}
	if b := s.pr.broken; b != nil {
		err = b
	}
	switch {
	case isTimeout(err):
		err = &TimeoutError{What: TimeoutStall, After: s.wc.stallAfter(), Err: err}
	case err == io.EOF && s.State() == StateLogout:
		s.abortWith(ErrClosed) // the server closed after LOGOUT
		return s.Err()
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	s.abort(err)
	return s.Err()
}

// blame attaches an undecodable response to the command it was most likely
// meant for: the command with its tag when it was tagged, else the oldest
// that wants responses of its name, else the oldest. It returns an error
// that aborts the session for a tagged one that fails taggedFor's checks
// (an unknown tag, an answer for a command not sent, or received before it
// was sent).
func (s *Session) blame(de *codec.DecodeError) error {
	if tag := de.Tag; tag != "" && tag != "*" && tag != "+" {
		s.mu.Lock()
		known := s.byTag[tag] != nil
		s.mu.Unlock()
		// A whole tag (its bytes and the space after it, TagComplete)
		// that no command has is the server out of step, as a
		// decodable "Z9 OK" is: taggedFor aborts the session
		// ("tagged response for an unknown tag"), where it was blamed
		// on whatever command was oldest in flight, failing a NOOP
		// whose own answer was a clean OK (TestBlameUnknownTag). A tag
		// that is not whole may be only the start of one the decoder
		// could not read ("A%1 OK" gives "A", a prefix of a real
		// "A1"): it is blamed as an untagged line is, below, since it
		// may be any line the decoder could not read. A whole tag is
		// what the server sent, never a misread prefix of another:
		// "A1 " with "A12" in flight aborts, as "A1 OK" does.
		if known || de.TagComplete || s.isStrayDone([]byte(tag)) {
			// The command's own status could not be read: end it
			// with the error rather than leave it waiting forever,
			// after the checks of any tagged answer (taggedFor: a
			// stray answer to a DONE is dropped, an unknown tag
			// aborts), in the state a failure leaves (as for a
			// *codec.Unknown in route).
			p, err := s.taggedFor([]byte(tag), "response", false)
			if p == nil {
				return err
			}
			s.transition(p, &unknownStatus)
			s.finish(p, nil, fmt.Errorf("session: %s: its tagged response could not be decoded: %w", p.name, de))
			return nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The oldest command that takes responses of its name (a FETCH: by
	// its Want too; an ESEARCH, SEARCH, SORT, LIST...: by the command
	// table), else the oldest: blamed on a NOOP ahead of it, a SEARCH
	// whose answer could not be read ended with no error and no result.
	var target *Pending
	for _, p := range s.inflight {
		switch {
		case de.Name == "FETCH" && !p.wants(&codec.Fetch{}):
			continue
		case de.Name != "FETCH" && de.Name != "" && !p.info.wants(de.Name):
			continue
		}
		target = p
		break
	}
	if target == nil && len(s.inflight) > 0 {
		target = s.inflight[0]
	}
	if target != nil && target.decodeErr == nil {
		target.decodeErr = de
	}
	return nil
}

// isTimeout reports a read or write deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// timeoutCause is the first error in err's tree (depth first, as
// errors.Is walks it) that is a timeout itself: the read's failure a
// *codec.DecodeError wraps beside its syntax error; err when none is.
func timeoutCause(err error) error {
	var walk func(e error) error
	walk = func(e error) error {
		if e == nil {
			return nil
		}
		if ne, ok := e.(net.Error); (ok && ne.Timeout()) || e == os.ErrDeadlineExceeded {
			return e
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			return walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				if f := walk(c); f != nil {
					return f
				}
			}
		}
		return nil
	}
	if c := walk(err); c != nil {
		return c
	}
	return err
}

// route hands a response to its command, to the unsolicited stream, or
// both. It returns an error for protocol violations that abort the session.
func (s *Session) route(r codec.Response) error {
	switch r := r.(type) {
	case *codec.Continuation:
		s.mu.Lock()
		lit := s.contTarget
		target := lit
		if target == nil && len(s.inflight) > 0 {
			// Continuation-driven commands (AUTHENTICATE, IDLE, or any
			// with OnContinue) run alone; else the newest command.
			target = s.inflight[len(s.inflight)-1]
		}
		if target == nil {
			s.mu.Unlock()
			return &ProtocolError{Reason: "continuation request with no command in flight"}
		}
		if target != lit && target.cmd.OnContinue == nil && !target.takesContinuations() {
			s.mu.Unlock()
			return &ProtocolError{Reason: "continuation request for " + target.name + ", which does not take one"}
		}
		if target != lit && target.info.transition == ToAuth && target.contHeld && len(target.cont) == 0 {
			// The "+" before was taken (Continuations, a Wait's
			// OnContinue, the refusal) and not answered: Continue
			// clears contHeld, under mu, before it writes. A server
			// that sends the next challenge (SCRAM's
			// server-final-message, perhaps with its OK) before
			// reading the response did not wait for the client:
			// aborted, before an OK after it could take the session
			// to AUTH with a challenge the caller, whose answer to
			// the older one says ErrCommandEnded, may never judge.
			s.mu.Unlock()
			return &ProtocolError{Reason: "continuation request for " + target.name + " before the client's response to the one before it"}
		}
		// Handed over and counted as owed under mu: a Wait that gives
		// up (under mu) either finds it counted and clears it or is
		// seen here, and the answer (Continue), which comes after,
		// finds it counted.
		select {
		case target.contLocked() <- append([]byte(nil), r.Text...):
		default:
			s.mu.Unlock()
			return &ProtocolError{Reason: "continuation request for " + target.name + ", which did not ask for one"}
		}
		if target != lit {
			// The client owes the answer now, the server nothing
			// until it is out (Continue): no stall timeout
			// meanwhile, if someone will answer.
			target.contHeld = true
			s.owedLocked(target)
			s.serverWaitLocked(target) // IDLE: exempt from the stall timeout from its "+"
		}
		s.mu.Unlock()
		return nil
	case *codec.Status:
		if r.Tag != nil {
			return s.complete(r)
		}
		return s.untaggedStatus(r)
	case *codec.Unknown:
		if tag := string(r.Tag); tag != "*" && tag != "+" {
			// A tagged response that is not OK, NO or BAD ends its
			// command with an error; for an unknown tag it is an abort.
			// The same checks as an OK's (taggedFor): a stray answer
			// to a DONE is dropped, one for an unknown tag, for a
			// command not sent, or received before it was sent, aborts.
			p, err := s.taggedFor(r.Tag, "response", false)
			if p == nil {
				return err
			}
			// Only this command ends; the error is typed (ErrProtocol),
			// not bare text. Its state change is a failure's, as for a
			// BAD (transition): a SELECT, CLOSE or UNSELECT leaves no
			// mailbox selected (the server may have any, or none), a
			// LOGIN or AUTHENTICATE no authentication, a LOGOUT or an
			// UNAUTHENTICATE the session as it was.
			s.transition(p, &unknownStatus)
			name, rest := s.secrets.redactNameRest(r.Name, r.Rest)
			s.finish(p, nil, fmt.Errorf("session: %s: %w", p.name, &ProtocolError{Reason: "the server answered " +
				printable(name) + " " + printable(rest)}))
			return nil
		}
	case *codec.Capability:
		s.mu.Lock()
		s.setCaps(r.Caps)
		s.mu.Unlock()
	case *codec.Enabled:
		s.mu.Lock()
		s.enabledLocked(r)
		s.mu.Unlock()
	}
	s.deliver(r)
	return nil
}

// enabledLocked notes an ENABLED response (under mu). RFC 5161 section
// 3.2: the server sends it only in answer to ENABLE, naming what that
// ENABLE asked for. It counts only while an ENABLE is in flight, sent,
// and only for what it asked (Pending.enableAsked); the session takes
// it when the tagged OK comes (transition), a NO or a BAD leaving
// Enabled as it was. Any other ENABLED (unsolicited, before STARTTLS,
// naming what was not asked) turns nothing on: mailbox names stay in
// modified UTF-7.
func (s *Session) enabledLocked(r *codec.Enabled) {
	var p *Pending
	for _, q := range s.inflight[:s.nsent] {
		if q.name == "ENABLE" && !q.ended {
			p = q
			break
		}
	}
	if p == nil {
		return
	}
	for _, c := range r.Caps {
		p.enableGot |= enabledBit(string(c)) & p.enableAsked
	}
}

// AlwaysEvent reports the responses the session gives its unsolicited
// stream (Options.OnUnsolicited, Responses) even when a command takes
// them: the mailbox-state responses EXISTS, EXPUNGE, RECENT and VANISHED,
// so that a tracker of the mailbox sees them all, in order.
func AlwaysEvent(r codec.Response) bool {
	switch r.(type) {
	case *codec.Exists, *codec.Expunge, *codec.Recent, *codec.Vanished:
		return true
	}
	return false
}

// deliver gives an untagged data response to the oldest command that wants
// it, else to the newest Catch running (catch.go), else to the unsolicited
// stream. Mailbox-state responses (EXISTS,
// EXPUNGE, RECENT, VANISHED) go to the stream in any case, so that a
// mailbox tracker sees them all, in order.
func (s *Session) deliver(r codec.Response) { s.deliverAs(r, true) }

// deliverAs is deliver; without route, r goes to no command in flight,
// whatever it is (the newest Catch, else the unsolicited stream): a
// [CLOSED] that is not its SELECT's boundary (closedBoundaryLocked).
func (s *Session) deliverAs(r codec.Response, route bool) {
	s.mu.Lock()
	var target *Pending
	byWant := false
	if route {
		target, byWant = s.routeLocked(r)
	}
	if f, ok := r.(*codec.Fetch); ok && (target != nil && target.info.uids || s.rl.guessed || s.rl.unowned != 0) {
		s.checkGuessLocked(f, target) // not called for the FETCH of a FETCH by sequence numbers
	}
	if byWant {
		s.countLocked(r, nil)
	} else {
		s.countLocked(r, target)
	}
	s.listDelim(r)
	// What no command takes goes to the newest Catch, under the lock
	// that decided no command in flight takes it (catch.go).
	caught := target == nil && s.catchLocked(r)
	if f, ok := r.(*codec.Fetch); ok && target != nil && target.pull != nil && s.lendableLocked(target) {
		// The fast path of a pulled FETCH (a header sync's every
		// message): lent to its waiting or driving caller under the
		// lock that routed it. A FETCH is neither kept nor an event
		// when a command takes it.
		s.mu.Unlock()
		s.lend(target, f)
		return
	}
	// OnData is called only if the command was not abandoned, decided
	// under the lock that abandons it, and marked running there: a Wait
	// that gives up from now on returns once it has returned
	// (dataQuietLocked), so that no OnData of the command runs after
	// (TestOnDataNotRunAfterCancelledWaitReturned).
	onData := target != nil && target.pull == nil && target.cmd.OnData != nil && target.abandoned.beginData()
	s.mu.Unlock()
	taken := caught
	if target != nil {
		taken = true
		switch {
		case onData:
			s.callOnData(target, r)
		case target.abandoned.Load():
			// Its caller has gone: read and thrown away.
		case target.pull != nil:
			// Handed over last, after keep and event below.
		default:
			// A collecting Run keeps a copy: it counts the larger of
			// the bytes received and the memory of the copy.
			size := max(s.rl.respSize, codec.CloneSize(r))
			if target.dataBytes+size > s.opts.MaxResultBytes {
				// Over the bound: dropped, and the command ends with
				// a ResultTooLargeError. A later one that fits the
				// room left is kept (a SELECT's EXISTS or UIDVALIDITY
				// after a long run of changed FETCHes), unlike a
				// pulled command's queue, which keeps a prefix.
				target.dropped++
				break
			}
			target.dataBytes += size
			res := target.resultOrNew()
			res.Data = append(res.Data, codec.CloneResponse(r))
		}
	}
	if AlwaysEvent(r) {
		taken = false
	} else if _, ok := r.(*codec.Status); ok && taken || caught {
		// Response codes stay available to Responses; so does what a
		// Catch took (no command did): only OnUnsolicited misses it,
		// which the Catch's holder gets it instead of.
		s.keep(r)
	}
	if !taken {
		s.keep(r)
		s.event(r)
	}
	if target != nil && target.pull != nil && !target.abandoned.Load() {
		s.pullDeliver(target, r)
	}
}

// callOnData calls p's OnData with r, marked running by deliverAs
// (abandonWord.beginData), and wakes a Wait that waits for it to return
// (dataQuietLocked), a panic in it too.
func (s *Session) callOnData(p *Pending, r codec.Response) {
	defer s.dataReturned(p)
	if p.bound > 0 {
		// The handler's time is the caller's, not the server's: the
		// command bound leaves it out.
		c := callerClockOf(p)
		c.begin()
		p.cmd.OnData(r)
		c.end()
		return
	}
	p.cmd.OnData(r)
}

// dataReturned marks p's OnData returned (under no lock), and wakes the
// Wait that waits for it, if one does.
func (s *Session) dataReturned(p *Pending) {
	if p.abandoned.endData() {
		s.mu.Lock()
		s.pullCond.Broadcast()
		s.mu.Unlock()
	}
}

// targetLocked finds the command r belongs to (under mu): the oldest that
// wants it, except for STATUS responses, which go to the STATUS command for
// their mailbox, and FETCH and VANISHED (EARLIER) responses, which go to
// the command whose message set holds the messages (pipelined FETCHes are
// answered interleaved); a FETCH for a message no such command asked for
// is unsolicited (a flag change by another client), unless a command's
// own Want takes it. A command whose Want takes a kind its rules do not,
// or a FETCH no command's set holds, gets r only when no other command
// wants it.
func (s *Session) targetLocked(r codec.Response) *Pending {
	p, _ := s.routeLocked(r)
	return p
}

// statusByNameLocked finds the STATUS command in flight, for the mailbox
// name (as the session keeps names: mailboxNameLocked), that r, a STATUS
// response, answers (under mu): the oldest that wants r and has no answer
// yet, else the oldest that wants r. named reports whether a STATUS in
// flight, or a command that wants r, names the mailbox, wanting r or not.
func (s *Session) statusByNameLocked(r codec.Response, name string) (target *Pending, named bool) {
	var answered *Pending
	for _, p := range s.inflight {
		if p.info.target != TargetMailbox || !p.hasMailbox || !codec.ExactMailbox(p.mailbox, name) {
			continue
		}
		if !p.wants(r) {
			named = named || p.name == "STATUS"
			continue
		}
		named = true
		if !p.gotStatus {
			p.gotStatus = true
			return p, true
		}
		if answered == nil {
			answered = p
		}
	}
	return answered, named
}

// routeLocked is targetLocked, and reports whether r goes to its command
// only because the command's own Want takes what neither its rules nor
// its message set give it: then the command is not charged with an
// unannounced FETCH (its own answers were in order).
func (s *Session) routeLocked(r codec.Response) (target *Pending, byWant bool) {
	if st, ok := r.(*codec.Status); ok && st.Code != nil && (st.Code.Kind == codec.CodeCopyUID || st.Code.Kind == codec.CodeAppendUID) {
		// An untagged OK [COPYUID] answers a MOVE (RFC 6851 section
		// 4.3), an untagged OK [APPENDUID] a REPLACE (RFC 8508), each
		// of which takes untagged OKs only as a fallback, as a NOOP
		// that polls for events does: the oldest fallback took it, and
		// Move said the server sent no COPYUID.
		cmd := "MOVE"
		if st.Code.Kind == codec.CodeAppendUID {
			cmd = "REPLACE"
		}
		for _, p := range s.inflight {
			if (p.name == cmd || p.name == "UID "+cmd) && p.wants(r) {
				return p, false
			}
		}
	}
	isStatus := false
	if st, ok := r.(*codec.MailboxStatus); ok {
		// Pipelined STATUS commands: match the mailbox when a server
		// answers them out of order.
		// Two STATUS for the same mailbox: the oldest that has no answer
		// yet gets it.
		name := s.mailboxNameLocked(st.Mailbox)
		isStatus = true
		p, named := s.statusByNameLocked(r, name)
		if p == nil && !named && s.utf8Locked() {
			// In UTF-8 mode names are kept as sent, yet a server may
			// still write them in modified UTF-7 ("a&AOk-" for the
			// "aé" the command sent): its decoded name is taken, but
			// only when no command in flight names the mailbox as sent
			// ("R&-D" and "R&D", both pending, stay two mailboxes).
			// Without it the answer went to the unsolicited stream
			// (TestTranscriptStatusUTF8ModeAnsweredInUTF7).
			if dec := codec.DecodeMailboxLenient(st.Mailbox); dec != name {
				p, _ = s.statusByNameLocked(r, dec)
			}
		}
		if p != nil {
			return p, false
		}
	}
	f, isFetch := r.(*codec.Fetch)
	v, _ := r.(*codec.Vanished)
	earlier := v != nil && v.Earlier
	name := codec.ResponseName(r)
	var first, dynamic, fallback *Pending
	firstDone := false // first is a UID command whose set is answered (uidsDone)
	for _, p := range s.inflight {
		if !p.wantsNamed(r, name) {
			continue
		}
		if v != nil && !earlier && p.info.target == TargetMessages {
			// A live VANISHED reports an expunge (RFC 7162 section
			// 3.2.10): a UID FETCH in flight gets it (OnVanished) only
			// when no command that expunges does. Given to the UID
			// FETCH, an EXPUNGE or UID MOVE pipelined beside it lost the
			// VANISHED that answered it (its result said nothing was
			// expunged).
			if first == nil {
				first = p
			}
			continue
		}
		if isStatus && p.info.target == TargetMailbox && p.hasMailbox {
			// Another mailbox's STATUS (none matched above: a NOTIFY
			// STATUS event): not this command's answer, whose mailbox is
			// known (TestStatusOtherMailboxNotTaken).
			continue
		}
		if p.cmd.Want != nil && !p.info.wants(name) {
			// A Want that takes what its command's rules do not
			// (commands.Client.Do, a NOOP that polls for events):
			// only what no other command takes, else it would take
			// the answers of the commands pipelined after it.
			if fallback == nil {
				fallback = p
			}
			continue
		}
		if !isFetch && !earlier {
			return p, false
		}
		if !p.hasSet {
			if first == nil {
				first = p
			}
			continue
		}
		if earlier {
			// VANISHED (EARLIER) answers a UID FETCH ... VANISHED
			// (RFC 7162) with UIDs of its set: given by set as FETCH
			// is, for UID FETCH commands with sets apart in flight.
			if p.info.uids && p.set.Overlaps(v.UIDs) {
				return p, false
			}
			if p.set.Dynamic() && dynamic == nil {
				dynamic = p
			}
			continue
		}
		n := f.Seq
		if p.info.uids {
			if f.Has&codec.FetchUID == 0 {
				if flagsOnly(f) {
					// FLAGS (and MODSEQ) alone, no UID: a flag change
					// another client made, which Dovecot and Cyrus
					// report so during a UID FETCH or UID STORE of
					// other messages; an answer to a UID command
					// carries the UID (RFC 9051 section 6.4.9). Taken
					// as this command's, it was an extra message with
					// UID 0 in a Fetch and never reached the
					// unsolicited stream (TestUIDCommandLeavesFlagChange).
					// A command whose own Want takes it (every
					// response: commands.Client.Do, imapkit's raw,
					// shell and idle --new) gets it if no other
					// command does, as it gets other kinds.
					if p.cmd.Want != nil && fallback == nil {
						fallback = p
					}
					continue
				}
				// Not decoded yet (a streamed body comes first: the
				// section is in f already), or a server that leaves the
				// UID out of an answer with more in it: best guess, the
				// oldest whose answer has not gone past its set yet
				// (servers answer in order, by ascending UID: Dovecot
				// sends the FETCH data of pipelined UID FETCHes before
				// their tagged OKs, and the oldest took the next
				// one's). deliver checks the guess once the UID is read
				// (checkGuessLocked). (Leaving all of these to the
				// unsolicited stream split a message whose body had
				// been routed here, and lost a quirky server's answer.)
				if len(f.Sections) > 0 && p.noBodies() {
					continue // a body is not its
				}
				if done := p.uidsDone(); first == nil || firstDone && !done {
					first, firstDone = p, done
				}
				continue
			}
			n = f.UID
		}
		if p.set.Contains(n) {
			return p, false
		}
		if p.set.Dynamic() && dynamic == nil && !(s.count.known && f.Seq < s.count.n) {
			// "*" is the largest number in use, which the session does
			// not know: 1000:* on a mailbox whose last UID is 30 is
			// 30:1000, and UID FETCH * returns the last message. Only
			// the last message can be that answer: another client's
			// flag change of message 2 of 7, during a Fetch of new mail
			// (UIDNext:*), was taken for new mail and never reached
			// the unsolicited stream.
			dynamic = p
		} else if p.cmd.Want != nil && fallback == nil {
			// Not of its set, but its own Want takes it: see flagsOnly
			// above.
			fallback = p
		}
	}
	if dynamic != nil {
		return dynamic, false
	}
	if first != nil {
		return first, false
	}
	return fallback, fallback != nil
}

// flagsOnly reports whether f holds nothing but FLAGS and MODSEQ: no
// other item, no body section (one being streamed is in f.Sections
// already), nothing unknown.
func flagsOnly(f *codec.Fetch) bool { return f.Has&codec.FetchUID == 0 && flagChange(f) }

// flagChange reports whether f holds FLAGS (and MODSEQ, UID) alone: the
// shape of a flag change another client made, as well as of an answer to a
// FETCH of FLAGS.
func flagChange(f *codec.Fetch) bool {
	return f.Has&^(codec.FetchFlags|codec.FetchModSeq|codec.FetchUID) == 0 && len(f.Sections) == 0 && len(f.BinarySizes) == 0 && len(f.Unknown) == 0
}

// wants reports whether r belongs to p: Command.Want, or the command's
// rules; a tagged ESEARCH goes to its tag, an ESEARCH without a tag that
// names messages only to a command of the kind its UID indicator says.
func (p *Pending) wants(r codec.Response) bool { return p.wantsNamed(r, codec.ResponseName(r)) }

// wantsNamed is wants for r named name (codec.ResponseName), for a
// caller that asks several commands.
func (p *Pending) wantsNamed(r codec.Response, name string) bool {
	if p.cmd.Want != nil {
		return p.s.callWant(p, r)
	}
	if es, ok := r.(*codec.ESearch); ok {
		if es.Tag != nil {
			return string(es.Tag) == p.tag
		}
		// RFC 4731 section 3.1: the UID indicator is there when the
		// numbers are UIDs, the answer of a UID command (UID SEARCH,
		// UID SORT): an ESEARCH of UIDs is not a SEARCH's answer, nor
		// one of sequence numbers a UID SEARCH's. One that names no
		// messages (no data, or COUNT alone) is of either kind: servers
		// leave the indicator out of an empty UID SEARCH's answer.
		if es.NamesMessages() && es.UID != strings.HasPrefix(p.name, "UID ") {
			return false
		}
	}
	return p.info.wants(name)
}

// callWant calls p's Want with mu held. When a pulled command's caller
// drives the reading (Next: co.holder), a panic in it is kept for that
// caller (puller.wantPanic) and Want taken as false: unwinding here, with
// mu held by code that unlocks it in one place or another (a defer, or
// not), would leave mu locked or unlock it twice. driveFor then aborts
// the session and panics on the caller's goroutine. On the reader
// goroutine it panics there (callbacks on the session's goroutines must
// not panic: docs/session.md).
func (s *Session) callWant(p *Pending, r codec.Response) (w bool) {
	if h := s.co.holder; s.co.running && h != nil && h.pull != nil {
		defer func() {
			if v := recover(); v != nil {
				if h.pull.wantPanic == nil {
					h.pull.wantPanic = &wantPanic{cmd: p.name, v: v}
				}
				w = false
			}
		}()
	}
	return p.cmd.Want(r)
}

// wantPanic is a panic of a Command.Want kept for the caller of Next.
type wantPanic struct {
	cmd string
	v   any
}

// untaggedStatus handles * OK, * NO, * BAD and * BYE.
func (s *Session) untaggedStatus(r *codec.Status) error {
	if r.Kind == codec.StatusBYE {
		s.mu.Lock()
		loggingOut := s.state == StateLogout
		for _, p := range s.inflight {
			loggingOut = loggingOut || p.info.transition == ToLogout
		}
		s.mu.Unlock()
		s.keep(r)
		s.event(r)
		if !loggingOut {
			return &ByeError{Status: s.cloneStatus(r)}
		}
		return nil
	}
	if c := r.Code; c != nil {
		switch c.Kind {
		case codec.CodeHighestModSeq, codec.CodeNoModSeq:
			if r.Kind == codec.StatusOK { // a NO or BAD's code is no state
				s.mu.Lock()
				s.modSeqCodeLocked(c)
				s.mu.Unlock()
			}
		case codec.CodeClosed:
			s.mu.Lock()
			boundary := s.closedBoundaryLocked()
			s.mu.Unlock()
			if !boundary {
				// No command's: a SELECT's reader (commands'
				// selectReader) resets at the [CLOSED] it is given,
				// and would forget the HIGHESTMODSEQ the session
				// keeps.
				s.deliverAs(r, false)
				return nil
			}
		case codec.CodeCapability:
			// Only an OK's (RFC 9051 section 7.1: the code goes with
			// the greeting or an OK): a NO's or a BAD's is no list of
			// the server's capabilities, and turned them into
			// whatever it named (TestTranscriptCapabilitiesOnlyFromOK).
			if r.Kind == codec.StatusOK {
				s.mu.Lock()
				s.setCaps(c.Caps)
				s.mu.Unlock()
			}
		case codec.CodeUIDValidity:
			if r.Kind == codec.StatusOK {
				s.mu.Lock()
				s.uidValidityCodeLocked(uint32(c.Num)) // 32 bits, never 0 (codec)
				s.mu.Unlock()
			}
		case codec.CodeReadOnly, codec.CodeReadWrite:
			// The selected mailbox became read-only: mailbox state
			// (Mailbox) and an unsolicited response, never an error
			// handed to whichever command comes next. In a SELECT's
			// or EXAMINE's answer, an OK's says how the mailbox is
			// opened, with the tagged OK's (answerRO).
			s.mu.Lock()
			var selecting *Pending
			for _, p := range s.inflight {
				if p.info.transition == ToSelected {
					selecting = p
					break
				}
			}
			switch {
			case selecting != nil:
				if r.Kind == codec.StatusOK {
					selecting.answerRO = accessReadWrite
					if c.Kind == codec.CodeReadOnly {
						selecting.answerRO = accessReadOnly
					}
				}
			case s.state == StateSelected && c.Kind == codec.CodeReadOnly:
				s.readOnly = true
			}
			s.mu.Unlock()
		}
	}
	s.deliver(r)
	return nil
}

// closedBoundaryLocked reports whether a [CLOSED] just read is the
// boundary between the mailbox closed and the one selected (RFC 7162
// section 3.2.11), the one rule by which the session and the commands
// above it (commands' selectReader, which is given only this one) take
// it: the first of the answer of the SELECT or EXAMINE in flight. Then
// what came before was the previous mailbox's: its HIGHESTMODSEQ,
// UIDVALIDITY, EXISTS (the count: Exists) and [READ-ONLY] or
// [READ-WRITE] are forgotten. Another [CLOSED] of the answer, or one
// outside a SELECT's answer (a hostile server's: RFC 7162 sends it only
// when a SELECT or EXAMINE closes a mailbox), changes nothing; forgotten
// at each, the
// HIGHESTMODSEQ read between them made Session.HighestModSeq and the
// MailboxState of the select disagree (under mu, reader goroutine).
func (s *Session) closedBoundaryLocked() bool {
	for _, p := range s.inflight {
		if p.info.transition == ToSelected {
			if p.closed {
				return false
			}
			p.closed = true
			p.answerRO = accessUnsaid // the closed mailbox's
			s.count.modseq, s.count.hasModSeq = 0, false
			s.uidValidity = 0 // the closed mailbox's too
			// Its EXISTS too: the new mailbox's sets the count again,
			// or, if the answer has none (a hostile server's), the
			// count is not known, as MailboxState.Exists is 0
			// (TestSelectClosedCodeForgetsExists).
			s.count.n, s.count.known = 0, false
			return true
		}
	}
	return false
}

// uidsDone reports whether the FETCH responses routed to p, a UID FETCH
// or UID STORE, have reached the largest UID of its set (reader
// goroutine only): a server answers by ascending UID, so no later
// response is p's. O(1): p.set is canonical (routingSet), its largest
// UID the end of its last range; it is asked once per FETCH response and
// command in flight.
func (p *Pending) uidsDone() bool {
	if !p.hasSet || p.lastUID == 0 || p.set.Dynamic() {
		return false
	}
	rs := p.set.Ranges()
	if len(rs) == 0 {
		return false
	}
	return p.lastUID >= rs[len(rs)-1].Stop
}

// noBodies reports whether p asks for no body section (Command.NoBodies,
// or a UID STORE).
func (p *Pending) noBodies() bool { return p.cmd.NoBodies || p.name == "UID STORE" }

// openUIDCommandsLocked counts the commands in flight that take f by UID
// (UID FETCH, UID STORE) and whose answer has not gone past their set
// (uidsDone), under mu: those that may own a FETCH whose UID is not read
// yet.
func (s *Session) openUIDCommandsLocked(f *codec.Fetch) int {
	n := 0
	for _, p := range s.inflight {
		if p.info.bySet && p.info.uids && !p.noBodies() && p.wants(f) && !p.uidsDone() {
			n++
		}
	}
	return n
}

// checkGuessLocked follows the FETCH responses given to UID commands
// (Pending.lastUID), and checks where a FETCH whose body was streamed
// before its UID was read went against where its UID sends it (under mu,
// on the reader): when the guess was wrong (a server that answered
// pipelined UID FETCHes out of order, with the UID after the body), the
// body went to the wrong command and its message lacks it. Both end with
// an error matching ErrMisrouted, never a silent mix.
func (s *Session) checkGuessLocked(f *codec.Fetch, target *Pending) {
	if n := s.rl.unowned; n > 0 {
		s.rl.unowned = 0
		if target != nil {
			target.droppedSections += int(n)
		}
	}
	if target != nil && target.info.uids && f.Has&codec.FetchUID != 0 && !flagChange(f) && target.set.Contains(f.UID) {
		// An answer of its set; not a flag change another client made
		// (FLAGS alone, which may name any message of the set, before
		// the answers that come ahead of it).
		target.lastUID = max(target.lastUID, f.UID)
	}
	if !s.rl.guessed {
		return
	}
	s.rl.guessed = false
	for _, p := range s.inflight {
		if !p.guessed {
			continue
		}
		p.guessed = false
		if p == target {
			continue
		}
		err := &codec.DecodeError{Name: "FETCH", Seq: f.Seq, UID: f.UID, Err: ErrMisrouted}
		for _, q := range []*Pending{p, target} {
			if q != nil && q.decodeErr == nil {
				q.decodeErr = err
			}
		}
	}
}

// strayDone reports a tagged answer to a "DONE" the session sent for an
// IDLE the server ended at the same time, reading the DONE as a command
// whose tag is DONE (Dovecot: "DONE BAD ..."; any kind of answer, or one
// that cannot be decoded: taggedFor, blame): IMAP's own race, not the
// server's fault, so it is dropped (logged) rather than abort the session.
// No tag of the session's is "DONE" (TagPrefix and a number). Only the
// drop is to call it (taggedFor): blame, which asks first, asks
// isStrayDone, so that one stray answer is logged once.
func (s *Session) strayDone(tag []byte) bool {
	if !s.isStrayDone(tag) {
		return false
	}
	if s.log != nil {
		s.log.Debug("imap answer to a DONE sent as the server ended IDLE, dropped")
	}
	return true
}

// isStrayDone is strayDone's test, without the log.
func (s *Session) isStrayDone(tag []byte) bool {
	s.mu.Lock()
	sent := s.sentDone
	s.mu.Unlock()
	return sent && strings.EqualFold(string(tag), "DONE")
}

// cloneStatus copies st, with the credentials the session sent redacted
// from its text.
func (s *Session) cloneStatus(st *codec.Status) *codec.Status {
	c := codec.CloneResponse(st).(*codec.Status)
	c.Text = s.secrets.redactLineEnd(c.Text) // a secret may go on past the line's end
	if k := c.Code; k != nil && s.secrets.any() {
		// A server may echo a credential as a code (statusString prints
		// its name), or in the arguments of one it does not know. The
		// typed fields of the codes it knows (CAPABILITY, PERMANENTFLAGS,
		// ...) are left as they are: redacting a common word there would
		// change what the caller reads.
		k.Name, k.Raw = s.secrets.redact(k.Name), s.secrets.redact(k.Raw)
	}
	return c
}

// taggedFor returns the command a tagged response answers, after the
// checks every tagged answer goes through, whatever its kind (complete's
// OK, NO and BAD; route's *codec.Unknown): what is the answer's kind for
// the errors ("OK", "response"), refusal whether it may refuse a
// synchronizing literal before its "+" (a NO or BAD). It returns a nil
// command with a nil error for a stray answer to a DONE (strayDone),
// dropped, and with a *ProtocolError, which aborts the session, for an
// unknown tag, a command not sent yet, or an answer received before its
// command was sent.
func (s *Session) taggedFor(tag []byte, what string, refusal bool) (*Pending, error) {
	s.mu.Lock()
	p := s.byTag[string(tag)]
	s.mu.Unlock()
	if p == nil {
		if s.strayDone(tag) {
			return nil, nil
		}
		return nil, &ProtocolError{Reason: "tagged response for an unknown tag " + strconv.Quote(printable(s.secrets.redactLineStart(tag)))}
	}
	if !p.sent() && (!refusal || !p.syncLit.Load()) {
		// The server cannot answer a command it has not seen: a forged
		// completion (an injected line, a broken server). A NO or BAD
		// that refuses a literal before its "+" is the one legal case.
		return nil, &ProtocolError{Reason: "tagged " + what + " for " + p.name + " before the command was sent"}
	}
	if p.written.Load() && s.tok.Offset() <= p.readMark {
		// Sent now, but the answer had been received before: it was
		// waiting in the buffer (in the greeting's packet, say) when
		// the command went out.
		return nil, &ProtocolError{Reason: "tagged " + what + " for " + p.name + " received before the command was sent"}
	}
	return p, nil
}

// complete handles a tagged status response.
func (s *Session) complete(st *codec.Status) error {
	p, perr := s.taggedFor(st.Tag, st.Kind.String(), st.Kind != codec.StatusOK)
	if p == nil {
		return perr
	}
	s.setStatus(p, st)
	s.keepCode(st) // imaplib's response(code) sees tagged codes too
	r := p.result
	var err error
	if st.Kind != codec.StatusOK {
		err = &StatusError{Command: p.name, Status: r.Status}
	} else if p.decodeErr != nil {
		err = fmt.Errorf("session: %s: part of the answer could not be decoded: %w", p.name, p.decodeErr)
	} else if p.dropped > 0 || p.droppedSections > 0 {
		s.mu.Lock()
		queued := p.pull != nil && p.pull.overflow
		s.mu.Unlock()
		err = &ResultTooLargeError{Command: p.name, Limit: s.opts.MaxResultBytes, Dropped: p.dropped, Sections: p.droppedSections, Queued: queued}
	} else if p.unannounced > 0 && !strings.HasPrefix(p.name, "UID ") && !s.announcedLate(p) {
		s.mu.Lock()
		err = &UnannouncedError{Command: p.name, Count: int(p.unannounced), Seq: p.unannouncedSeq, Exists: s.count.n}
		s.mu.Unlock()
	} else if p.unannounced > 0 && s.log != nil {
		// A UID command's answer is read by UID: a message it names
		// before the server announced it (Cyrus does so when one is
		// delivered while it answers, and may send the EXISTS with a
		// later command) costs the caller nothing. Nor does a command
		// whose own answer announced them before its end
		// (announcedLate). Session.Unannounced counts them.
		s.log.Debug("imap FETCH for messages not yet announced", "command", p.name, "count", p.unannounced, "seq", p.unannouncedSeq, "max", p.unannouncedMax)
	} else if p.info.transition == ToSelected && !p.info.readOnly && openedReadOnly(p, st) {
		// imaplib's readonly: writing was asked and the server opened
		// the mailbox read-only. It is selected; the error goes to this
		// command alone, with its result.
		err = &ReadOnlyError{Mailbox: p.mailbox}
	}
	if perr := s.acceptedCancel(p, st); perr != nil {
		return perr
	}
	s.transition(p, r.Status)
	if h := testHookTransitioned.Load(); h != nil {
		(*h)(p)
	}
	if st.Kind == codec.StatusOK && p.upgrade != nil {
		// The upgrade reads from the connection (a TLS handshake): on
		// the reader goroutine, not a pulled command's caller.
		s.rl.upgrade = true
		s.coBeforeRead()
		s.rl.upgrade = false
		// No interrupt left for a caller that drove (interruptDriver):
		// the handshake or the inflater would take it for a failure.
		s.wc.clearInterrupt()
		if uerr := p.upgrade(); uerr != nil {
			// The session ends before the caller hears of it: a command
			// it runs next must find it ended with this error, not
			// write on the connection the failed handshake closed
			// (startTLSStalls saw a write error win the race).
			err := fmt.Errorf("%s: %w", p.name, uerr)
			s.abort(err)
			s.finish(p, r, uerr)
			return err
		}
	}
	s.finish(p, r, err)
	return nil
}

// acceptedCancel returns the *ProtocolError (ErrCancelAccepted) for a
// tagged OK to an AUTHENTICATE whose exchange the client cancelled: a
// "*" was written (Continue, or RefuseContinuations answering a "+" after
// the caller's context ended, its mechanism failed or panicked). RFC
// 4422 section 3.5 says the server MUST fail an aborted exchange, and
// the session it would take to AUTH is logged in as whoever the server
// chose, with a server not proven (SCRAM's signature not checked).
// Returned to the reader before transition, it aborts the session: the
// state never becomes AUTH. RefuseContinuations alone is not a
// cancellation: an OnContinue may call it and return the exchange's
// final response, which the server then rightly answers OK. An OK with
// no "*" written is settled here (p.settled, under the lock Continue
// sets gaveUp under): no "*" goes after it (Continue says
// ErrCommandEnded), and the one who cancels then aborts the session
// itself, as an ErrCancelAccepted too: Wait for an OnContinue that
// failed or panicked (acceptedBeforeCancel), package auth's cancel
// (abortAccepted). An OK settled so with a challenge not answered
// (contHeld: sent together) holds the commands behind p until the client's
// verdict on it (holdLocked). nil otherwise. Neither rule is for another
// change of state (SELECT, CLOSE, UNAUTHENTICATE...): those have no
// challenge for the client to judge, and their state follows the server's
// answer (docs/session.md, TestSelectOKAfterCallerGaveUpSelects).
func (s *Session) acceptedCancel(p *Pending, st *codec.Status) error {
	if st.Kind != codec.StatusOK || p.info.transition != ToAuth {
		return nil
	}
	s.mu.Lock()
	gaveUp := p.gaveUp
	// Settled under the lock Continue takes to set gaveUp: no "*" is
	// written after this OK (Continue says ErrCommandEnded).
	p.settled = !gaveUp
	if p.settled && p.contHeld {
		// A challenge came with the OK and is not answered (Continue
		// clears contHeld as it commits to writing a response): the
		// commands queued behind p wait for the client's verdict.
		s.holdLocked(p)
	}
	s.mu.Unlock()
	if !gaveUp {
		return nil
	}
	return &ProtocolError{kind: ErrCancelAccepted,
		Reason: "tagged OK for " + p.name + " after the client cancelled the exchange"}
}

// openedReadOnly reports whether the answer of p, a SELECT or EXAMINE
// ended by the OK st, opened the mailbox read-only: the tagged OK's
// [READ-ONLY] or [READ-WRITE], or else the last of them an untagged OK
// gave after the answer's boundary (answerRO), as commands' MailboxState
// reads them. An untagged OK [READ-ONLY] was taken for nothing: the
// session held writable a mailbox whose Select said read-only
// (TestSelectUntaggedReadOnlyHeld).
func openedReadOnly(p *Pending, st *codec.Status) bool {
	if c := st.Code; c != nil && (c.Kind == codec.CodeReadOnly || c.Kind == codec.CodeReadWrite) {
		return c.Kind == codec.CodeReadOnly
	}
	return p.answerRO == accessReadOnly
}

// testHookTransitioned, set by tests, runs on the reader goroutine once
// a tagged answer's state change is made, before its command ends.
var testHookTransitioned atomic.Pointer[func(p *Pending)]

// unknownStatus is what transition takes for a tagged response that is
// neither OK, NO nor BAD (route): a failure, with no response code. It is
// only read.
var unknownStatus = codec.Status{Kind: codec.StatusBAD}

// transition applies the state table's transitions for p's outcome.
func (s *Session) transition(p *Pending, st *codec.Status) {
	ok := st.Kind == codec.StatusOK
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		// Aborted while the answer was read (the challenge held with
		// an AUTHENTICATE's OK refused: refuseHeld): the state stays
		// LOGOUT.
		return
	}
	// A tagged OK's CAPABILITY code only (a LOGIN's, an AUTHENTICATE's):
	// a refusal's names no capability list of the server
	// (TestTranscriptCapabilitiesOnlyFromOK).
	capCode := ok && st.Code != nil && st.Code.Kind == codec.CodeCapability
	if capCode {
		s.setCaps(st.Code.Caps)
	}
	switch p.info.transition {
	case ToAuth:
		if ok {
			s.state = StateAuth
		}
	case ToSelected:
		if ok {
			s.state = StateSelected
			s.selected = p.mailbox
			s.readOnly = p.info.readOnly || openedReadOnly(p, st)
			if c := st.Code; c != nil && c.Kind == codec.CodeUIDValidity {
				// Its tagged OK's, the answer's last word, as
				// commands' MailboxState takes it (RFC 9051 puts it
				// in an untagged OK; a server that puts it here
				// still says it of this mailbox).
				s.uidValidity = uint32(c.Num) // 32 bits, never 0 (codec)
			}
		} else {
			// Any failure leaves no mailbox selected, and ends the
			// selection before it (Selections). RFC 9051 says so of a
			// NO; of a BAD, Dovecot does the same, but Cyrus keeps the
			// old mailbox selected: the session cannot tell which, and
			// takes the side that sends nothing to a mailbox the caller
			// did not mean, refusing the SELECTED state's commands and
			// those bound to the old selection until a SELECT succeeds
			// (TestBadSelectCyrus).
			s.state = StateAuth
			s.selected, s.readOnly = "", false
			s.unselectedLocked()
		}
	case ToAuthAlways:
		s.state = StateAuth
		s.selected, s.readOnly = "", false
		s.unselectedLocked()
	case ToLogout:
		if ok {
			// A LOGOUT refused (NO, BAD) leaves the session as it
			// was: commands may still go (TestRefusedLogoutKeepsSession).
			s.state = StateLogout
			s.unselectedLocked()
		}
	case ToNonAuth:
		if ok {
			s.state = StateNonAuth
			s.unauths++
			s.selected, s.readOnly = "", false
			s.unselectedLocked()
			// What ENABLE turned on ends with the authentication: the
			// next user's session starts without it (Cyrus 3.6;
			// TestUnauthenticateCyrus), UTF-8 mailbox names too.
			s.enabled = 0
			// The responses kept for Responses are the previous user's
			// (an ALERT naming their mailbox, their INBOX's EXISTS): the
			// next one must not be handed them.
			s.clearStoreLocked()
		}
	}
	if ok {
		s.nameGoneLocked(p) // a RENAME or DELETE of the selected mailbox's name
	}
	if ok && p.enableGot != 0 {
		// What the ENABLE asked for and its ENABLED named (enabledLocked).
		// UTF-8 mode: the encoder takes it at the next command, which
		// starts after this one (ENABLE runs alone).
		s.enabled |= p.enableGot
	}
	if ok && p.info.refresh && !capCode {
		s.capsStale = true
	}
	if ok {
		s.modSeqCodeLocked(st.Code) // a FETCH's, STORE's, EXPUNGE's [HIGHESTMODSEQ]
	}
}

// sectionHandler streams FETCH bodies to the command that wants them.
func (s *Session) sectionHandler(f *codec.Fetch, sec *codec.Section, r io.Reader) error {
	small := sec.Size <= int64(wireMaxString(s.opts.Tokenizer))
	// A small body kept inline (codec.ErrKeepInline: LiteralBytes) stays
	// in the line's buffer and counts against MaxLineLength: the small
	// sections of one FETCH together passed it (20 of 60,000 bytes ended
	// the session, wire.ErrLineTooLong). They are kept inline only while
	// the line keeps half its bound free for what follows them (the rest
	// of the FETCH, which counts too: one that filled the room to the
	// last bytes left none for the " FLAGS (...))" after it,
	// TestSmallSectionsLeaveRoom); the others are collected.
	// One that fits the line's room counting those collected so (room)
	// is collected within the line's bound, as it was kept inline
	// before: the FETCH's memory, its line and those sections, stays
	// within MaxLineLength, and a FETCH under it is read whole whatever
	// MaxResultBytes (a 600 KB FETCH of small sections came back with
	// sections Missing under a MaxResultBytes of 256 KiB,
	// TestSmallSectionsMissingUnderResultBound). Past the room,
	// as a large one, within MaxResultBytes.
	room := int64(s.tok.LineRoom()) - s.rl.lineHeld
	lineHeld := small && sec.Size <= room
	inline := small && sec.Size <= room-int64(s.tok.MaxLineLength()/2)
	s.mu.Lock()
	if inline && s.counts.streams == 0 {
		// Whoever it is for keeps it in the FETCH (only a Sections
		// handler takes small bodies): no routing needed. A header
		// literal in every message of a header sync comes here.
		s.mu.Unlock()
		return codec.ErrKeepInline
	}
	target := s.targetLocked(f)
	unknown := false
	if target != nil && target.info.uids && f.Has&codec.FetchUID == 0 {
		switch {
		case s.openUIDCommandsLocked(f) > 1:
			// Its UID comes after it, and more than one UID command
			// may own it (a long Fetch's parts ahead; two Fetch
			// loops): kept in the FETCH, which goes by its UID once
			// read, within MaxResultBytes. Streamed to the oldest, it
			// went to another command than the rest of its message
			// (a message of UID 0 with the other's body), and a guess
			// by the answers so far failed where a UID of the set is
			// gone.
			target, unknown = nil, true
		case target.pull != nil && !small || target.cmd.Sections != nil:
			// Streamed to the one command whose answer has not gone
			// past its set: deliver checks it once the UID is read
			// (checkGuessLocked).
			target.guessed, s.rl.guessed = true, true
		}
	}
	s.mu.Unlock()
	if target != nil && target.pull != nil {
		if !small {
			return s.pullSection(target, f, sec, r)
		}
		// A small one stays in the FETCH (Section.Data): inline, no
		// copy, or collected below when the line has no room for it.
	} else if target != nil && target.cmd.Sections != nil {
		if target.bound == 0 {
			return s.callSections(target, f, sec, r)
		}
		// The handler's time is the caller's but for its reads of the
		// body, which wait for the server: the command bound counts
		// only those.
		c := callerClockOf(target)
		c.begin()
		err := s.callSections(target, f, sec, &sectionTimer{r: r, c: c})
		c.end()
		return err
	}
	if inline {
		return codec.ErrKeepInline
	}
	if lineHeld {
		// Small, in the room the line would have left had it been
		// kept inline: within the line's bound (above).
		s.rl.lineHeld += sec.Size
		return collectSection(sec, r)
	}
	// Nobody streams it (or it is small, for a pulling command, and the
	// line has no room for it): collect it, as imaplib does, within what the
	// command may still hold (Options.MaxResultBytes), less what this
	// FETCH collected already (a FETCH of many large sections held each
	// up to the bound: memory without bound). Past that the body is
	// skipped and the command ends with a ResultTooLargeError; the rest
	// of the FETCH (UID, FLAGS, ...) still arrives.
	held := s.tok.Offset() - s.rl.respSize - s.rl.skipped - s.rl.streamed
	limit := s.opts.MaxResultBytes - held
	switch {
	case target != nil:
		limit -= target.dataBytes
	case !unknown:
		// No command's: at most what Responses may keep
		// (MaxKeptBytes); collected within MaxResultBytes, a 60 MB
		// body no command asked for was held, then copied, to be
		// dropped.
		limit = min(limit, s.maxKeptBytes-held)
	}
	if sec.Size > limit {
		if target != nil {
			target.droppedSections++
		} else if unknown {
			s.rl.unowned++ // charged where the FETCH goes (deliver)
		}
		// The FETCH is charged without the body it left out.
		s.rl.skipped += sec.Size
		sec.Missing = true
		return nil
	}
	return collectSection(sec, r)
}

// collectSection reads the body r of sec, a streamed section, into memory
// of its own: it goes on in the FETCH as Section.Data (sectionHandler).
// The memory grows as the body's bytes arrive, not at the size its
// literal announced (growread: at most 1 MiB before any arrive, then
// never more than twice what came). Before, a server that announced 60 MB
// (within MaxResultBytes) and sent a few bytes had the session allocate
// the 60 MB at once, held until the stall timeout if it then stalled
// (TestCollectedSectionAllocatesAsItArrives).
func collectSection(sec *codec.Section, r io.Reader) error {
	b, err := growread.Read(r, sec.Size)
	if err != nil {
		return err
	}
	sec.Data = b
	sec.Streamed = false
	return nil
}

func wireMaxString(o *wire.TokenizerOptions) int {
	if o != nil && o.MaxStringLiteral > 0 {
		return o.MaxStringLiteral
	}
	return wire.DefaultMaxStringLiteral
}
