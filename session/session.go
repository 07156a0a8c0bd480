package session

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// Options configures a Session. A nil *Options is equivalent to a zero
// Options. A timeout longer than about nine years (2^58 ns) is taken as
// that.
type Options struct {
	// Tokenizer sets the wire limits (line length, literal sizes, depth).
	Tokenizer *wire.TokenizerOptions
	// Logger receives a debug-level record for every line sent and
	// received (redacted) and for every command's start and end. Nil
	// means no logging.
	Logger *slog.Logger
	// Trace, when set, receives every line sent ("C: ") and received
	// ("S: "), redacted: LOGIN passwords, AUTHENTICATE payloads and the
	// literals of either become "***"; other literals are summarised as
	// "<N bytes>" unless TraceLiterals is set. It is called on the
	// session's own goroutines too (the reader's; the one that flushes
	// what an unsent command's predecessors left buffered, which may
	// call the connection's Write and Logger as well), and Close, Abort
	// and Done wait for those to end: a Trace writer that blocks makes
	// them wait as long.
	Trace io.Writer
	// TraceLiterals includes the bytes of literals (but never secrets) in
	// the trace.
	TraceLiterals bool
	// TagPrefix fixes the tag prefix, for deterministic tags in tests
	// ("A" gives A1, A2, ...). Empty means a random prefix of four letters
	// A to P, as imaplib picks. It may hold ASCII letters, digits, '-',
	// '.' and '_' only (tags the server's answers give back whole; "X["
	// would be read back as "X", and its commands never answered): Open
	// refuses any other with an error matching wire.ErrInvalidTag.
	TagPrefix string
	// GreetingTimeout bounds Open when its context has no deadline: the
	// greeting and the CAPABILITY that may follow. Zero means
	// DefaultGreetingTimeout, negative no limit.
	GreetingTimeout time.Duration
	// StallTimeout aborts the session when, while a command waits for the
	// server, no byte arrives for this long: it counts from the last byte
	// received, so a slow download that keeps coming is never cut. IDLE
	// is exempt from its continuation request ("+") until DONE is sent
	// (its "+" is owed at once, as any answer), and so is a connection
	// with nothing in flight; a command
	// waits for the server once its bytes have been handed to the
	// connection (all of them, or those up to a synchronizing literal's
	// "+"), so the time its Args takes, its wait for its turn to be
	// written, and the time its bytes wait in the write buffer for the
	// next command's (pipelining), do not count when nothing handed to
	// the connection before it is in flight. Nor does the time the client
	// takes to answer a continuation request ("+") to a command when
	// someone will answer it (the OnContinue of a running Wait, or a
	// caller who took Continuations: an OAuth token fetched, a SASL step
	// asking the user; not a "+" no one takes, nor one after IDLE's
	// DONE), nor the time a
	// synchronizing literal's body takes to come from its io.Reader after
	// its "+": the server owes nothing until the answer is out. It covers
	// the STARTTLS handshake. A stall is detected between StallTimeout and
	// 17/16 of it after the last byte (the read deadline is not moved on
	// every read). While the session writes (an APPEND's message going
	// out over a slow link), the server taking the bytes in is alive: no
	// stall counts then, nor for a StallTimeout after, or eight after a
	// write that waited for room (the send buffer drains as slowly); the
	// writes have their own bound instead: a write the server takes no
	// byte of for four StallTimeouts aborts the session (a *TimeoutError,
	// TimeoutWrite). Zero means DefaultStallTimeout, negative no limit.
	StallTimeout time.Duration
	// CommandTimeout bounds a command's whole run when its context has no
	// deadline, so that a server trickling bytes for ever cannot hold it.
	// For a pulled command (Command.Pull) only the time its caller waits
	// in Next for the server counts, and after Wait (or the end of Next's
	// context) the whole time: a loop whose body is slow (a typed
	// client's Fetch over a large mailbox) is never cut while the server
	// keeps up with it. Neither counts the time spent reading the
	// literal bodies the caller gave (an APPEND's message from a slow
	// io.Reader), nor the time in OnData, nor the time in a Sections
	// handler but for its reads of the body; and a command that sends
	// such bodies gets a second more per 16 KiB of them, so that a large
	// APPEND over a slow link (128 kbit/s and up) is not cut while the
	// server takes it in (100 MiB: 1 h 47 min more). When the context has a
	// deadline, a command abandoned at the deadline
	// (its answer is still read and thrown away) gets StallTimeout more to
	// end (the command bound itself when StallTimeout is negative). Either way the session is aborted when the bound passes: IMAP
	// has no other way to stop a command. IDLE is exempt. Zero means
	// DefaultCommandTimeout, negative no limit.
	CommandTimeout time.Duration
	// History is the number of trace lines kept for abort errors; 0 means
	// 20.
	History int
	// TraceCapture bounds what the trace keeps of one server line (and of
	// one literal when TraceLiterals is set): the rest is not traced. Zero
	// means DefaultTraceCapture.
	TraceCapture int
	// MaxResultBytes bounds the responses a command collects in
	// Result.Data, each counted as the larger of its bytes received plus
	// 256 and the memory of its copy (codec.CloneSize: up to 20 times the
	// bytes received): past it, the rest is dropped
	// and the command ends with a *ResultTooLargeError (its tagged status
	// in the Result). Commands with OnData or Sections stream instead and
	// have no bound. Zero (or a negative value) means DefaultMaxResultBytes.
	MaxResultBytes int64
	// MaxUnsolicited bounds the queue of responses waiting for
	// OnUnsolicited: when the handler falls that far behind, new ones are
	// dropped and counted (DroppedUnsolicited). Zero means
	// DefaultMaxUnsolicited.
	MaxUnsolicited int
	// MaxNumbers bounds the numbers of one SEARCH or SORT answer, which
	// the decoder reads without keeping its line, however long
	// (codec.DecoderOptions.MaxNumbers: the ranges of an ESEARCH's ALL
	// or a VANISHED, and the nodes of a THREAD answer, are bounded from
	// it too). Past it the answer fails with an error matching
	// codec.ErrTooManyNumbers. Zero means codec.DefaultMaxNumbers;
	// negative, no bound.
	MaxNumbers int
	// MaxKept bounds the responses Responses keeps per name (the oldest
	// go first), MaxKeptNames the names it keeps: the server chooses
	// them. Zero means DefaultMaxKept and DefaultMaxKeptNames.
	MaxKept, MaxKeptNames int
	// MaxKeptBytes bounds the memory of the responses Responses keeps,
	// and apart that of the queue of OnUnsolicited, counted as
	// codec.CloneSize counts a copy (a response can take 20 times its
	// bytes on the wire): the oldest kept responses, of any name, make
	// room for a new one (one larger than the bound alone is dropped);
	// the queue drops new ones. Both are counted (DroppedUnsolicited).
	// Zero means DefaultMaxKeptBytes.
	MaxKeptBytes int64
	// OnUnsolicited receives, in order, every untagged response that no
	// command asked for (EXISTS, EXPUNGE, flag updates, VANISHED, ALERT,
	// ...), on a goroutine of its own: it may run commands.
	OnUnsolicited func(codec.Response)
	// ServerName is used to verify the certificate on STARTTLS when the
	// tls.Config has none. Empty, the host of a connection from
	// transport.Dial is (transport.ServerName).
	ServerName string
}

// Session is one IMAP connection: it writes commands, matches responses to
// them and enforces the state table. Its methods are safe for concurrent
// use; commands from several goroutines are pipelined.
type Session struct {
	opts Options
	log  *slog.Logger

	conn    net.Conn     // wc, or the TLS conn over it after STARTTLS: set under wmu and mu, read under either (or on the reader goroutine, which sets it)
	wc      *watchConn   // the raw connection, with the read deadlines
	cw      *countWriter // what bw wrote to the connection
	secrets *secrets     // credentials sent, redacted from server text
	tr      *tracer
	tok     *wire.Tokenizer
	pr      *peekReader // under tok: the reader waits in it while idle
	dec     *codec.Decoder

	wmu      writeLock     // serialises writes; held while a command is sent
	bw       *lazyWriter   // a pooled buffer while something is to be written
	enc      *wire.Encoder // from encoderPool while something is to be written
	wwaiters int32         // goroutines waiting for wmu (guarded by mu): flush coalescing
	// unauths counts the tagged OKs that took the session to NONAUTH
	// (UNAUTHENTICATE; under mu: Unauthentications). With wwaiters, in
	// the room one int took (Session's size class).
	unauths uint32

	mu         sync.Mutex
	welcome    *codec.Status // the greeting, decoded; nil until Welcome while welcomeRaw is set
	welcomeRaw string        // the greeting's line as received, until Welcome decodes it (a string: 8 bytes less, for catch)
	caps       []string
	inflight   []*Pending // sent commands in the order written (the first nsent), then registered ones
	nsent      int
	flightArr  []*Pending          // a small array for inflight, reused from its start
	byTag      map[string]*Pending // inflight by tag
	counts     flightCounts        // what canStart and armStall need to know of inflight
	// idleDeflater: the session went idle while a write held wmu, so the
	// writer gives the deflater back as it unlocks (see idleWait). Here,
	// after counts, to fill its word.
	idleDeflater atomic.Bool
	changed      chan struct{} // closed when inflight changes, the session ends or a flushBehind goroutine does; nil until a goroutine waits
	bound        *time.Timer   // the command bound (CommandTimeout) of the commands in flight
	boundAt      time.Time     // when bound fires; zero when it is not armed
	tagPrefix    string
	tagN         uint64
	err          error // set when the session is over
	selected     string
	count        msgCount // the selected mailbox's message count (exists.go)
	state        State
	capsStale    bool
	readOnly     bool       // the selected mailbox is read-only
	enabled      enabledExt // extensions ENABLE turned on (UTF-8 mode, QRESYNC, CONDSTORE)
	litPlus      bool       // LITERAL+ announced: the encoder's options
	litMinus     bool       // LITERAL- announced
	tlsOn        bool
	compressed   bool // COMPRESS=DEFLATE is on
	store        map[string][]keptResponse
	contTarget   *Pending // the command sending a synchronizing literal
	catch        *Catch   // the newest Catch running, the others by prev (catch.go)
	events       []codec.Response
	eventsCond   *sync.Cond
	pullCond     *sync.Cond // pulled commands and the reader waiting for each other (mu)
	co           coState    // the reading coroutine (mu)
	demanders    int32      // goroutines waiting for the reader to go on (mu)
	// uidValidity is the selected mailbox's UIDVALIDITY as its SELECT's
	// answer, or the last change after it, gave it; 0 when unknown (mu;
	// exists.go: uidValidityCodeLocked). Here, beside demanders (int32),
	// to fill its word: Session's size class.
	uidValidity uint32
	// bodyRead is the lent body section whose caller is reading the
	// connection now (pullBody.Read): an interrupted read of it is not
	// read again (retryRead) when its context has ended.
	bodyRead atomic.Pointer[pullBody]
	// wq holds the commands waiting in Start for their turn, IDLE
	// excepted, in the order they came: made when the first one waits
	// (mu; write.go).
	wq *waitQueue
	// hull bounds the message sets of the commands in flight that take
	// FETCH responses by them: made when the first starts (mu; write.go).
	hull *setHull

	rl readLoopState // touched by the reader goroutine alone

	maxEvents, maxKept, maxNames int32 // the bounds, defaults applied (int32: Session's size class)
	// selections counts the changes of the selected mailbox (mu;
	// exists.go: Selections), in the room the three int32 leave before
	// the next int64. 32 bits: a 16-bit count came back to its value
	// after 65,535 SELECTs, and a split command bound to one mailbox
	// (Command.Selection) went on in another.
	selections                 uint32
	maxKeptBytes               int64  // MaxKeptBytes, the default applied
	keptBytes, eventBytes      int64  // what the store and the events hold (codec.CloneSize; under mu)
	droppedEvents, droppedKept uint64 // what the bounds dropped (under mu)

	ww writeWatch // interrupts a write when its command's context ends

	readerDone chan struct{}
	// done is closed once every goroutine of the session has returned:
	// by the event goroutine after the reader, or by the reader when
	// there is no OnUnsolicited (Done).
	done      chan struct{}
	inHandler bool // OnUnsolicited is running
	// sentDone: a DONE went out for an IDLE (mu; read.go: strayDone).
	sentDone bool
	// contWait: a command waits for a "+", its bytes before it flushed
	// (mu; write.go: waitLiteral, stallOwedLocked).
	contWait bool
	// behind counts flushBehind's goroutines running (mu; write.go),
	// behindWaits set while one waits for the write lock: the reader
	// waits for them as it ends (readLoop), so that Close and Done
	// leave none. Here, in the byte the bools leave before renumbered
	// (Session's size class).
	behind uint8
	// renumbered counts the events after which sequence numbers may name
	// other messages (changed under mu; exists.go: Renumbered). Atomic,
	// so that Renumbered takes no lock: a Fetch by sequence numbers
	// reads it before each message it yields.
	renumbered atomic.Uint32
}

// readLoopState is the state that only the reader touches, kept apart from
// the fields guarded by mu (as x/net/http2 keeps its clientConnReadLoop):
// it needs no lock, and a field here read by anything but the reader is a
// bug. The Pending fields marked "reader goroutine only" are its
// per-command part.
//
// It belongs to whoever drives the reading coroutine (see pull.go): the
// reader goroutine, or a pulled command's caller in Next. One drives at a
// time (coState.running, under mu).
type readLoopState struct {
	// respSize: the wire bytes of the response being routed, plus
	// responseOverhead; while it is read, the tokenizer's offset where
	// it began (sectionHandler: what it holds so far).
	respSize int64
	skipped  int64 // bytes of body sections left out of it (past MaxResultBytes)
	streamed int64 // bytes of body sections streamed out of it to a pulled command
	// lineHeld: bytes of small body sections of it collected because
	// the line kept less than half its bound free, within the line's
	// bound instead of MaxResultBytes (sectionHandler).
	lineHeld int64

	yield   func(coKind) bool // the coroutine's yield
	holder  *Pending          // the pulled command whose caller drives, or nil
	inCo    bool              // the coroutine is running (not a body read by a caller); beside the next bools (Session's size class)
	yielded bool              // the response being routed was lent (coItem)
	// direct: a direct step reads (Session.step), not the coroutine.
	// event is what a direct step, or the coroutine (which yields only
	// its kind), hands the goroutine that drove it: taken and cleared
	// as step or drive returns (see coEvent).
	direct bool
	// listDelim is the selected mailbox's hierarchy delimiter, as the
	// last LIST or LSUB response naming it or a parent of it during this
	// selection gave it; 0 before one (exists.go: listDelim). Under mu.
	// In the room direct leaves (Session's size class).
	listDelim byte
	// listFlat: a LIST or LSUB response of this selection named the
	// selected mailbox itself with a NIL delimiter (a flat hierarchy:
	// it has no parent); listDelim is then 0. Under mu.
	listFlat bool
	event    coEvent
	// cancelable: the caller that drives has a context that can end;
	// upgrade: a TLS or COMPRESS upgrade comes next (see coBeforeRead).
	cancelable, upgrade bool
	// guessed: a body section of the response being read was streamed
	// to a command chosen before its UID was read (Pending.guessed):
	// deliver checks the guess.
	guessed bool
	// inUser: a Command.Sections handler runs (callSections): a panic
	// then is the handler's, not the decoder's (decodeNext).
	inUser bool
	// unowned: body sections of the response being read left out (past
	// MaxResultBytes) before it could be told whose they are (their UID
	// came after them, with more than one UID command that may own
	// them): charged to the command the response goes to (deliver).
	unowned int32
}

// Pending is a command in flight.
type Pending struct {
	s      *Session
	tag    string
	name   string // the command's name for the rules: "UID FETCH"
	wname  string // the name as sent: "UID" for imaplib's uid("FETCH", ...)
	cmd    *Command
	info   commandInfo
	cont   chan []byte   // continuation requests for this command; made on first use (under s.mu)
	done   chan struct{} // closed when the command is over; made on first use (under s.mu)
	ended  bool          // the command is over: result and err are set (under s.mu)
	blocks bool          // a command waited behind this one (under s.mu)
	// writing: send is writing the command, a flush its bytes (the last
	// in the write buffer), or Continue a line of it: the write may wait
	// for the server, which may wait for the reader: the reader goes on
	// for it (otherDemand: for any other pulled command, not for this
	// one, whose own answer is not held up by its own write) (under s.mu).
	writing bool
	// cut: the session ended the command (abortWith, from any goroutine)
	// while the reader may still be building its result: Wait returns no
	// result then (under s.mu, set before done is closed).
	cut bool
	// answering: a command that waits on the server (IDLE) was sent a
	// continuation line (DONE) and now waits for its answer like any
	// command: the stall timeout applies (under s.mu).
	answering bool
	// serverWait: a command that waits on the server (IDLE) got its
	// continuation request ("+") and was not sent DONE yet: it waits
	// with no end of its own, counted in flightCounts.waits, and the
	// stall timeout is off; before its "+" it is owed one like any
	// answer (under s.mu).
	serverWait bool
	// The continuation flags, contOwed, contWaiter, contTaken, refusing
	// and contHeld (below, among the small fields), are not one state:
	// they are two facts about the command's one "+" at a time (at most
	// one waits: cont holds one, and a second before the first is
	// answered is a protocol error in route), and more than one is true
	// at once by design. Who answers: contWaiter (a Wait with OnContinue
	// runs), contTaken (the caller took Continuations), refusing
	// (RefuseContinuations answers "*" from now on), or none of them (no
	// one yet, or no one any more: Wait gave up, abandoned, or the
	// command answers, IDLE after DONE). And the "+" itself: contHeld
	// (handed over and not answered), contOwed (held, and someone other
	// than the refusal will answer it: the stall timeout is off). The
	// invariant, under s.mu, which TestContFlagsTransitions
	// checks after every transition:
	//
	//   - contOwed implies contHeld, and contWaiter or contTaken, and
	//     neither refusing nor answering; it is never set once the
	//     command is abandoned, and abandoning clears it (Wait's,
	//     Next's or a pulled body's context: abandonLocked);
	//   - contWaiter and contTaken are never both set (contWaiter only
	//     with Command.OnContinue, contTaken only without:
	//     Continuations is nil for such a command);
	//   - refusing implies none of contWaiter, contTaken, contOwed
	//     (refusing is for good; Wait and Continuations set no answerer
	//     after it);
	//   - contHeld goes with any of them, refusing and abandoned
	//     included (the refusal answers a held "+" the caller took).
	//
	// The transitions: route sets contHeld and, through owedLocked,
	// contOwed when an answerer is there; Continuations and Wait set
	// their answerer and owe a "+" waiting in the channel
	// (answererLocked); Continue clears contOwed and leaves contHeld
	// only for a "+" routed while its line was flushed, then owes that
	// one; noAnswerer (OnContinue's error or panic) clears contWaiter
	// and contOwed; abandoning (Wait, Next, a pulled body: abandonLocked)
	// clears contWaiter, contTaken and contOwed and keeps contHeld (an
	// abandoned Wait, Next or body also refuses, with OnContinue:
	// abandonPulledLocked); RefuseContinuations sets
	// refusing and clears the three.
	//
	// contOwed: a continuation request ("+", not a literal's) was handed
	// to someone who will answer it (contWaiter or contTaken), and the
	// answer (Continue) has not gone yet: the client owes the server its
	// line, the server owes nothing, and the stall timeout is off
	// (stallOwedLocked). A flag, not a count: one line answers every "+"
	// taken so far (two "+" to IDLE, one DONE). Never set once the command
	// is answering (IDLE after DONE) or abandoned: a "+" no one will answer
	// must not leave the timer off for good (under s.mu).
	contOwed bool
	// contWaiter: Wait is running with Command.OnContinue and answers the
	// "+" it finds (a "+" it took is its own to answer, RefuseContinuations
	// leaves it); contTaken: the caller took Continuations() (under s.mu).
	contWaiter bool
	contTaken  bool
	// refusing: RefuseContinuations has started answering the command's
	// "+" with "*"; none is owed from then on (under s.mu).
	refusing bool
	// enableAsked: for an ENABLE, the extensions its arguments asked for
	// (enabledBit); enableGot: those of them its ENABLED responses named.
	// The session takes enableGot for Enabled once the tagged OK comes
	// (transition): an ENABLED the command did not ask for, or one for a
	// command refused, turns nothing on (RFC 5161 section 3.2). In the
	// bytes the bools leave before onBlock (Pending's size class).
	enableAsked, enableGot enabledExt
	// answerRO: for a SELECT or EXAMINE, the last of [READ-ONLY] and
	// [READ-WRITE] its answer gave in an untagged OK after the boundary
	// ([CLOSED], closedBoundaryLocked), accessUnsaid for none
	// (untaggedStatus, reader goroutine, under s.mu): the tagged OK's
	// code, when it has one, decides (transition), as commands'
	// MailboxState takes them. In the bytes the bools leave before
	// onBlock.
	answerRO answerAccess

	onBlock *blockFunc // AfterBlocking's function, until called or stopped (under s.mu)
	result  *Result
	rbox    *resultBox // result's memory, shared with its Status
	err     error
	start   time.Time
	upgrade func() error // run on the reader goroutine after a tagged OK

	// written is set once endOff is known, before the command's last
	// byte is written (wire.Encoded.WriteToSized); endOff is the count of
	// bytes the connection must have taken for the command to be sent. A
	// tagged response before that is forged (see complete).
	written atomic.Bool
	// unannounced counts the FETCH responses delivered to the command for
	// messages above the mailbox's count (exists.go), saturated; with
	// unannouncedSeq, the first one's number, and unannouncedMax, the
	// largest: an EXISTS read before the tagged answer that reaches it
	// announced them late (announcedLate) (under s.mu). Here, it fills written's
	// word.
	unannounced uint32
	endOff      int64
	// readMark is how many bytes had been read from the server when the
	// command began to be written: an answer read before that was sent
	// before the server saw the command (an injection).
	readMark int64
	// syncLit is set for a command with a synchronizing literal: a tagged
	// NO or BAD before all of it is sent refuses the literal.
	syncLit atomic.Bool
	// abandoned is set when Wait's context ended, or a pulled command's
	// Next's or body's (abandonLocked): the answer is read and thrown away.
	// Its word also tells whether the command's OnData runs, and whether
	// a Wait waits for it to return (abandonWord).
	abandoned abandonWord
	// bound is the command bound (CommandTimeout): the session is
	// aborted if the command is still in flight bound after start
	// (boundAt); zero for none. Session.bound fires for the earliest.
	bound time.Duration
	// caller is the clock of the time the command spent on the caller's
	// side: reading the literal bodies the caller gave (an APPEND's
	// message, from its io.Reader), in OnData, in a Sections handler
	// outside its reads. The command bound does not count it. Made on
	// first use (callerClockOf).
	caller atomic.Pointer[callerClock]
	pull   *puller // Command.Pull's handoff (guarded by s.mu)
	// dataBytes counts the wire bytes of the responses collected in
	// result.Data, dropped the responses left out past MaxResultBytes
	// (reader goroutine only).
	dataBytes       int64
	dropped         int
	droppedSections int

	// What the command's arguments target, read from its encoded bytes:
	// the message set of FETCH/STORE (to route pipelined FETCH responses)
	// and the mailbox of SELECT/EXAMINE/STATUS.
	set        codec.SeqSet
	mailbox    string
	decodeErr  error // a response meant for this command could not be decoded
	hasSet     bool
	hasMailbox bool
	gotStatus  bool // a STATUS response for its mailbox was routed to it
	// guessed: a body section of the response being read was streamed
	// to this command before its UID was read (reader goroutine only).
	guessed bool
	// contHeld: a continuation request ("+", not a literal's) was handed
	// to the command's channel and no answer (Continue) has gone since:
	// it waits there, or someone took it and has not answered. Unlike
	// contOwed it does not depend on who will answer (set after a Wait
	// was abandoned, or with no answerer yet): RefuseContinuations
	// answers such a "+" that the caller took. Continue clears it as it
	// commits to writing its line (before the flush, under the lock the
	// reader settles an OK under): a tagged OK read with it set came with
	// a challenge not answered, and holds the commands behind
	// (holdLocked). Among the small fields for the struct's size (under
	// s.mu).
	contHeld bool
	// gaveUp: the client cancelled the command's continuation exchange
	// ("*" about to be written, Continue) or gave it up
	// (RefuseContinuations, an abandoned Wait with OnContinue): a tagged
	// OK to such an AUTHENTICATE aborts the session (complete,
	// ErrCancelAccepted) instead of taking it to AUTH (under s.mu).
	gaveUp bool
	// settled: the reader took a tagged OK that takes the session to
	// AUTH with no "*" written (acceptedCancel, in the same critical
	// section that reads gaveUp): Continue writes nothing from then on
	// (ErrCommandEnded), so a "*" either goes before the OK is settled,
	// and the OK aborts the session, or not at all, and Wait aborts it
	// (acceptedBeforeCancel) (under s.mu).
	settled bool
	// closed: for a SELECT or EXAMINE, its answer's [CLOSED] was read,
	// the one boundary between the mailbox closed and the one selected
	// (closedBoundaryLocked); another is no command's (reader goroutine,
	// under s.mu). In the byte the bools leave before unannouncedSeq
	// (Pending's size class).
	closed bool

	unannouncedSeq uint32 // see unannounced
	unannouncedMax uint32
	// lastUID is the largest UID of the FETCH responses routed to a UID
	// FETCH or UID STORE (reader goroutine only): once it reaches the
	// largest of its set, no body can be its (targetLocked's guess).
	lastUID uint32
	// selection is, for a command that selects a mailbox (SELECT,
	// EXAMINE: Transition ToSelected), the count of Session.Selections
	// its start made; 0 for others. Set before Start returns, never
	// changed (Selection).
	selection uint32
	// renumberedAt is Session.Renumbered when the command was put in
	// flight (under s.mu, before it was sent), renumberedEnd when it
	// ended (endLocked, under s.mu): RenumberedInFlight.
	renumberedAt, renumberedEnd uint32
}

// boundAt is when the command bound aborts the session if the command is
// still in flight (bound after start; there is no bound when bound is 0).
// Computed, not kept: start never changes, and the 24 bytes of a kept
// time leave the room Pending's size class needs (selection).
func (p *Pending) boundAt() time.Time { return p.start.Add(p.bound) }

// RenumberedInFlight reports whether the session read an EXPUNGE (or a
// VANISHED, or anything else that changes Session.Renumbered) while the
// command was in flight: from when it was put in flight, before it was
// sent, until its tagged response (or until now, if it has not ended).
// A command by sequence numbers (FETCH, STORE, SEARCH) runs with no
// command that may see an EXPUNGE beside it, and RFC 9051 section 5.5
// allows the server none during its answer: one read then makes the
// numbers of its responses after it name other messages than those
// before it. What is read after the command ended, while its caller
// still reads its queued answer (Next), does not count. One atomic load
// when nothing was renumbered since the command began, the session's lock
// otherwise.
func (p *Pending) RenumberedInFlight() bool { return p.renumberedSinceCount(p.renumberedAt) }

// RenumberedAfter reports whether the session read an EXPUNGE (or
// anything else RenumberedInFlight counts) after it, a response of p that
// Next handed out, and before p ended (or until now, if it has not): the
// numbers of that response, current when it was read, may name other
// messages now. For a command whose server may send an EXPUNGE amid its
// answer (SORT, THREAD: RFC 9051 section 7.5.1 forbids it only during
// FETCH, STORE and SEARCH), an EXPUNGE before its numbers leaves them
// current; only one after them makes them stale. Like Item.Renumbered
// it does not depend on how far the reader has gone on while the caller
// was busy.
func (p *Pending) RenumberedAfter(it Item) bool { return p.renumberedSinceCount(it.renumbered) }

// renumberedSinceCount reports whether Session.Renumbered moved from mark
// by the time p ended (by now, if it has not): RenumberedInFlight and
// RenumberedAfter. One atomic load when it has not moved at all.
func (p *Pending) renumberedSinceCount(mark uint32) bool {
	s := p.s
	if s.renumbered.Load() == mark {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.renumbered.Load()
	if p.ended {
		end = p.renumberedEnd
	}
	return end != mark
}

// RenumberedAt returns Session.Renumbered as it was when the command was
// put in flight (before it was sent). A caller that took the count at some
// earlier point (a command sent in parts, say) and compares it with this
// and with Item.Renumbered learns, for each response, whether anything
// was renumbered between that point and the response, whatever has been
// read since.
func (p *Pending) RenumberedAt() uint32 { return p.renumberedAt }

// renumberedSince reports whether Session.Renumbered moved since p was put
// in flight: for Item.Renumbered, read on the reading coroutine as it hands
// a response to p, so it says what was read before that response.
func (p *Pending) renumberedSince() bool { return p.s.renumbered.Load() != p.renumberedAt }

// Selection returns, for a SELECT or EXAMINE (a command whose Rules
// transition is ToSelected), the count of Session.Selections that names
// the mailbox it selects: the count its start made, which stays the
// session's while that mailbox stays selected (until another SELECT or
// EXAMINE starts, the mailbox is closed, or this one fails). Reading
// Session.Selections once the command is over could give the count of a
// SELECT another goroutine started since; this cannot. Commands given it
// in Command.Selection are not sent once another mailbox was selected or
// the mailbox closed (ErrReselected). It is 0 for any other command.
func (p *Pending) Selection() uint32 { return p.selection }

// takesContinuations reports whether p may get continuation requests that
// are not for a literal of its own (Rules.Continuations).
func (p *Pending) takesContinuations() bool { return p.info.conts }

// Tag returns the command's tag.
func (p *Pending) Tag() string { return p.tag }

// Done returns a channel closed when the command is over. For a pulled
// command (Command.Pull) the answer is read only as Next or Wait ask for
// it: waiting on Done without calling them, while a lent response or body
// of it is held, can wait for ever (unless other commands make the
// reader go on). The same holds for any command while the goroutine
// that waits on Done, or another, holds a lent item of a pulled command:
// a channel cannot tell a wait from a poll, so Done does not make the
// reader go on (it would read a streamed body into memory, up to
// MaxResultBytes and an error past it, for a caller that only looked:
// TestPulledBodyStreamsBesideDonePolled). To wait beside a held item,
// call Wait, which does (TestPulledLentWaitNotStuck); a caller left
// waiting on Done is freed by the command's bound (CommandTimeout).
func (p *Pending) Done() <-chan struct{} {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.doneLocked()
}

// AfterBlocking arranges to call f in its own goroutine once another
// command waits for this one to end, and at once if one already does; f is
// not called once the command is over. Only a command that runs alone
// (IDLE, AUTHENTICATE, SELECT, ...) holds the others back, so f is called
// only for such a command. A command that the caller ends when it likes,
// IDLE, can end itself then to let the waiting commands through, as
// commands.Client.Idle does. Calling stop stops f from being called; it
// reports whether it did. A later call of AfterBlocking replaces f. A
// waiting command that itself waits on the server (a second IDLE) does
// not count: two IDLEs would end each other in turn.
func (p *Pending) AfterBlocking(f func()) (stop func() bool) {
	b := &blockFunc{f: f}
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	switch {
	case p.ended:
	case p.blocks:
		go f()
	default:
		p.onBlock = b
	}
	return func() bool {
		p.s.mu.Lock()
		defer p.s.mu.Unlock()
		if p.onBlock != b {
			return false
		}
		p.onBlock = nil
		return true
	}
}

// blockFunc is a function given to AfterBlocking (a pointer, to tell
// registrations apart).
type blockFunc struct{ f func() }

// Continuations returns the channel of the continuation requests ("+"
// lines) the server sends to this command, decoded text only. Literal
// continuations are consumed by the session itself.
//
// For a command with Command.OnContinue it returns nil, a channel that
// never delivers: that command's continuation requests are Wait's to
// answer, through OnContinue, and one the caller took from under Wait
// would be answered by no one (the server waiting for a line, every later
// command behind it). A select on it with Done, or a context, waits for
// those instead.
//
// As Done, a wait on this channel does not make the reader go on while a
// pulled command's caller holds a lent item: a "+" that comes after the
// rest of that command's answer is seen once the item is released (Next,
// or the body read), or, if it never is, the command's bound ends the
// wait. The library's own commands that take continuations run alone
// (IDLE, AUTHENTICATE) or wait in Wait (a literal's "+"), so only a
// caller's own Rules with Continuations, beside a pulled command, can
// meet it (TestPulledLentContinuationsHeld).
func (p *Pending) Continuations() <-chan []byte {
	if p.cmd.OnContinue != nil {
		return nil
	}
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if !p.refusing {
		// After RefuseContinuations the refusal answers: the caller
		// is no answerer (and so owes no "+": owedLocked).
		p.contTaken = true
		p.s.answererLocked(p)
	}
	return p.contLocked()
}

// Result is the outcome of a command: its tagged status and the untagged
// responses that belong to it. It owns its memory.
type Result struct {
	Tag    string
	Status *codec.Status
	Data   []codec.Response
	// FollowUpErr is the error of what the session ran after the command
	// succeeded, on its own: the CAPABILITY that follows an
	// authentication whose OK did not carry them. The command itself
	// succeeded.
	FollowUpErr error
}

// Command describes one command for Run: its name, its arguments, and what
// of the server's answer belongs to it.
type Command struct {
	// Name is sent after the tag: "NOOP", "SELECT", "UID FETCH". It
	// selects the state check and the pipelining rules.
	Name string
	// Args appends the arguments; each begins with e.SP(). Nil for none.
	Args func(e *wire.Encoder)
	// Want says which untagged responses belong to the command. Nil
	// means the default for Name (FETCH responses for FETCH, LIST for
	// LIST, ...). A response of a kind the defaults for Name do not take
	// goes to a command with Want only when no other command in flight
	// wants it (a Want that takes everything takes nothing from the
	// commands pipelined beside it); so does a FETCH response that a
	// FETCH or STORE command's Want takes but its message set does not
	// hold (another client's flag change), which without Want is
	// unsolicited. Want does not change the pipelining rules, which go
	// by Name.
	Want func(r codec.Response) bool
	// OnData, when set, receives each response that belongs to the
	// command instead of Result.Data. It runs where the session reads
	// responses (its reader goroutine, or the goroutine of another
	// command's caller in Pending.Next, see Command.Pull): it must not run
	// commands nor wait for other goroutines, and the response is valid
	// only until it returns. Once Pending.Wait has returned (the command's
	// end, or its context's error: the rest of the answer is then thrown
	// away), or Start an error, no OnData of the command runs any more:
	// one running as the context ended has returned first, so that what
	// OnData fills is the caller's alone after Wait (a Wait that gave up
	// waits for that one OnData to return).
	OnData func(r codec.Response)
	// Sections, when set, streams the body sections of the FETCH
	// responses that belong to the command (see codec.SectionHandler). It
	// runs where OnData runs, under the same rules. A section that comes
	// before its message's UID while more than one UID FETCH that may ask
	// for bodies (not NoBodies) is in flight goes (here or with Pull) to
	// the one of them whose
	// answers have not reached the top of its set yet (servers answer by
	// ascending UID), and is checked once the UID is read: should it name
	// another command's message, both end with an error matching
	// ErrMisrouted. When more than one may still own it, it is not
	// streamed but kept in the FETCH, which goes by its UID, within
	// Options.MaxResultBytes (past it, Section.Missing and a
	// *ResultTooLargeError). Servers that send the UID first (Dovecot,
	// Cyrus) are routed by it.
	Sections codec.SectionHandler
	// OnContinue answers continuation requests that are not a literal's
	// (AUTHENTICATE): it gets the request's text and returns the line to
	// send, without CRLF. Wait calls it. Returning an error cancels the
	// exchange with "*" (Wait sends it: no Pending.RefuseContinuations
	// needed); so does a panic, which then goes on to Wait's caller.
	// Pending.RefuseContinuations called from it leaves the "+" it was
	// given to Wait (answered with what it returns) and refuses the later
	// ones. With it, Wait is the command's only answerer:
	// Pending.Continuations returns nil (a channel that never delivers).
	// For a challenge an AUTHENTICATE's server sent with its tagged OK,
	// what it returns is the verdict (Pending.Continue): an empty
	// response accepts the challenge; a non-empty one (the exchange was
	// not over for the client: SCRAM's client-final-message to a
	// server-first-message) aborts the session, as an error does
	// (ErrCancelAccepted).
	OnContinue func(text []byte) ([]byte, error)
	// Messages is the message set the command targets (FETCH, STORE and
	// their UID forms, whose Rules say UIDs): pipelined
	// FETCH responses are routed by it, and commands whose sets may
	// overlap are not pipelined. Nil means the session reads it from the
	// encoded arguments (from a trial encoding when the command starts,
	// for a command that takes FETCH responses). The session keeps a
	// sorted copy, so that routing a response costs O(log r) for r ranges
	// in any order: the caller may reuse the set once Start returns.
	Messages *codec.SeqSet
	// Mailbox is the mailbox the command targets (SELECT, EXAMINE,
	// STATUS), as a Go string: pipelined STATUS responses are routed by
	// it. Empty means the session reads it back from the encoded
	// arguments. It is the name as the session keeps names: decoded from
	// modified UTF-7, or in UTF-8 mode (Session.UTF8Enabled) as sent,
	// "&" and all.
	Mailbox string
	// Pull delivers the command's responses, and its FETCH body sections
	// as they stream, through Pending.Next on the caller's goroutine,
	// without copies when the caller keeps up, instead of Result.Data,
	// OnData or Sections.
	Pull bool
	// Rules gives the rules of a command the session's table does not
	// know (an extension); nil means the table's. A command that is in
	// neither is allowed in any state, runs alone, and gets its
	// continuation requests through Continuations.
	Rules *Rules
	// AnyState allows the command in every state (imaplib's xatom).
	AnyState bool
	// Secret marks the whole command as secret in traces.
	Secret bool
	// Selection, when not zero, is the count of Session.Selections the
	// command is meant for: if another mailbox was selected (or the
	// mailbox closed) before the command's turn came, it is not sent,
	// and Start returns a *NotSentError wrapping ErrReselected. A client
	// that splits one job in several commands (a long UID set) gives
	// each the count read before the first, so that a SELECT run by
	// another goroutine in between does not send the rest to another
	// mailbox. A count of 0 (no mailbox selected yet on the session) is
	// checked only with CheckSelection: a caller that read the count
	// sets CheckSelection too (package commands does), or a 0 it read
	// would check nothing.
	Selection uint32
	// CheckSelection makes the session check Selection even when it is
	// 0: a command meant for the authenticated state of a session that
	// never selected a mailbox (commands.Client.Idle called there) is
	// not sent once one was selected.
	CheckSelection bool
	// Renumbered, when CheckRenumbered is set, is the count of
	// Session.Renumbered the command's sequence numbers were read at (a
	// part of a long set, read before the first part): if sequence
	// numbers may have changed before the command's turn came (an
	// EXPUNGE or VANISHED that another goroutine's command brought, a
	// SELECT), it is not sent, and Start returns a *NotSentError
	// wrapping ErrRenumbered. Checked when the command starts: from then
	// on, the pipelining rules keep commands during which the server may
	// expunge from running beside one whose Rules say SeqNums. (Checked
	// by its caller before the command waited for its turn, a part
	// queued behind another goroutine's NOOP went out after the NOOP's
	// EXPUNGE, and flagged messages nobody named.) One exception: a
	// command whose count was current when it began to wait for its
	// turn, whose Messages has a known largest number (no "*"), and
	// during whose wait every change was an EXPUNGE of a message
	// numbered above that number, is sent: its numbers name the same
	// messages. A VANISHED (UIDs: which numbers is unknown), a SELECT,
	// an EXPUNGE read before the wait, or criteria without Messages
	// (a SEARCH's) still refuse it.
	Renumbered      uint32
	CheckRenumbered bool
	// UIDValidity, when CheckUIDValidity is set, is the count of
	// Session.UIDValidityChanges the command's UIDs were read at (the
	// call of a job of several commands on UIDs, such as the UID STORE
	// and UID EXPUNGE of package commands' fallback Move): if the
	// selected mailbox's UIDVALIDITY changed before the command's turn
	// came, its UIDs may name other messages, and it is not sent: Start
	// returns a *NotSentError wrapping ErrUIDValidity.
	UIDValidity      uint32
	CheckUIDValidity bool
	// NotIfEmpty: a command on sequence numbers whose set holds "*"
	// (FETCH 1:*) is not sent when, at its turn, the selected mailbox is
	// known to hold no message (Exists: 0, known): "*" then names no
	// message, and servers answer such a set BAD. Start returns a
	// *NotSentError wrapping ErrNoMessages. Checked when the command
	// starts, not when it is called: a command that waited for its turn
	// behind one whose answer expunged the mailbox's last messages (a
	// NOOP, a UID FETCH with VANISHED) sees the count those left.
	NotIfEmpty bool
	// NoBodies says that the command asks for no body section (a UID
	// FETCH of flags or envelopes): a FETCH body that comes before its
	// UID is not its, whatever its set, and it does not keep such a body
	// from being streamed to the command it is for (see Sections). UID
	// STORE is taken as such whatever this says.
	NoBodies bool
	// Catch, when set (a Catch of this session), is marked when the
	// command goes in flight, under the lock that routes every response:
	// Catch.TakeMarked then returns what the Catch collected before the
	// command was sent, and leaves what came after (once the command
	// ended, or what its Want did not take) for the next Take. A watcher
	// whose command takes every response the Catch would (a NOOP between
	// two IDLEs) hands on what TakeMarked returns, then the command's
	// data, then what the Catch took after it: the server's order, even
	// when the command's answer was read before Start returned.
	Catch *Catch
}

// Open reads the server's greeting on conn and starts the session. The
// greeting * OK gives state NONAUTH, * PREAUTH gives AUTH; * BYE or
// anything else is an error. Capabilities come from the greeting or are
// asked for.
//
// When ctx has no deadline, Options.GreetingTimeout bounds Open. Errors:
// ErrGreeting for a greeting that is not OK or PREAUTH (a BYE greeting is a
// *ByeError too), ErrNotIMAP4, a *TimeoutError for the greeting timeout;
// a greeting that cannot be read gives the connection's error (io.EOF for
// a hang-up) or the decoder's (a *codec.DecodeError, wrapping a
// *wire.LimitError for a line past a bound), wrapped; an Options.TagPrefix
// that tags could not carry whole matches wire.ErrInvalidTag (conn is
// closed, nothing read).
func Open(ctx context.Context, conn net.Conn, opts *Options) (*Session, error) {
	if opts != nil && !validTagPrefix(opts.TagPrefix) {
		conn.Close()
		return nil, fmt.Errorf("session: Options.TagPrefix %q: only ASCII letters, digits, '-', '.' and '_' come back whole in a tag: %w", opts.TagPrefix, wire.ErrInvalidTag)
	}
	s := newSession(conn, opts)
	greeting := time.Duration(0)
	if _, ok := ctx.Deadline(); !ok {
		if greeting = orDuration(s.opts.GreetingTimeout, DefaultGreetingTimeout); greeting > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, greeting)
			defer cancel()
		}
	}
	ctxErr := func() error {
		if greeting > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{What: TimeoutGreeting, After: greeting, Err: ctx.Err()}
		}
		return ctx.Err()
	}
	release := deadlineWhile(ctx, s.wc.setHard)
	g, err := s.decodeNext()
	release()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("session: reading the greeting: %w", ctxErr())
		}
		return nil, fmt.Errorf("session: reading the greeting: %w", err)
	}
	st, ok := g.(*codec.Status)
	if !ok || st.Tag != nil || (st.Kind != codec.StatusOK && st.Kind != codec.StatusPREAUTH) {
		conn.Close()
		if ok && st.Kind == codec.StatusBYE && st.Tag == nil {
			return nil, fmt.Errorf("%w: %w", ErrGreeting, &ByeError{Status: codec.CloneResponse(st).(*codec.Status)})
		}
		return nil, fmt.Errorf("%w: not * OK or * PREAUTH", ErrGreeting)
	}
	// The greeting is kept as its line's bytes (often a tenth of a
	// decoded copy) and decoded when Welcome asks, which few callers do.
	if raw, err := s.tok.RawLine(); err == nil {
		s.welcomeRaw = string(raw)
	} else {
		s.welcome = codec.CloneResponse(st).(*codec.Status)
	}
	s.state = StateNonAuth
	if st.Kind == codec.StatusPREAUTH {
		s.state = StateAuth
	}
	if c := st.Code; c != nil && c.Kind == codec.CodeCapability {
		s.setCaps(c.Caps)
	} else {
		s.capsStale = true
	}
	s.startGoroutines()
	if s.capsStale {
		if _, err := s.Capabilities(ctx); err != nil {
			s.Close()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("session: asking for capabilities: %w", ctxErr())
			}
			return nil, err
		}
	}
	if s.ProtocolVersion() == "" {
		s.Close()
		return nil, ErrNotIMAP4
	}
	return s, nil
}

func newSession(conn net.Conn, opts *Options) *Session {
	s := &Session{store: map[string][]keptResponse{}, byTag: map[string]*Pending{}}
	if opts != nil {
		s.opts = *opts
	}
	s.wc = &watchConn{Conn: conn, stall: orDuration(s.opts.StallTimeout, DefaultStallTimeout)}
	if k := testStallSpeed; k > 1 && s.wc.stall > 0 {
		s.wc.nominal, s.wc.stall = s.wc.stall, s.wc.stall/k
	}
	s.conn = s.wc
	s.secrets = &secrets{}
	if s.opts.MaxResultBytes <= 0 {
		// Resolved in place: a field of its own would take Session past
		// its size class.
		s.opts.MaxResultBytes = DefaultMaxResultBytes
	}
	s.maxEvents = int32(min(cmp.Or(max(s.opts.MaxUnsolicited, 0), DefaultMaxUnsolicited), math.MaxInt32))
	s.maxKept = int32(min(cmp.Or(max(s.opts.MaxKept, 0), DefaultMaxKept), math.MaxInt32))
	s.maxNames = int32(min(cmp.Or(max(s.opts.MaxKeptNames, 0), DefaultMaxKeptNames), math.MaxInt32))
	s.maxKeptBytes = cmp.Or(max(s.opts.MaxKeptBytes, 0), DefaultMaxKeptBytes)
	s.log = s.opts.Logger
	if s.opts.History <= 0 {
		s.opts.History = defaultHistory
	}
	s.tr = newTracer(s.opts.Trace, s.opts.TraceLiterals, s.log, s.opts.History,
		cmp.Or(max(s.opts.TraceCapture, 0), DefaultTraceCapture))
	s.tr.secrets = s.secrets
	s.tr.beforeRead = s.coBeforeRead
	s.tr.retryRead = s.retryRead
	s.pr = &peekReader{r: s.tr.reader(s.wc)}
	s.tok = wire.NewTokenizer(s.pr, s.opts.Tokenizer)
	// SkipLargeMetadata: a METADATA value over MaxStringLiteral is read
	// past and named (commands.GetMetadata's *MetadataTooLargeError), not
	// a failure of the whole response.
	// BeforeSkip: a syntax error's excerpt is redacted as a part of its
	// line while the tokenizer holds it (redactHeld).
	s.dec = codec.NewDecoder(s.tok, &codec.DecoderOptions{SectionHandler: s.sectionHandler, MaxNumbers: s.opts.MaxNumbers, SkipLargeMetadata: true, BeforeSkip: s.redactHeld})
	s.cw = &countWriter{w: s.tr.writer(s.wc), ww: &s.ww}
	s.cw.out = s.armOut
	s.bw = &lazyWriter{w: s.cw}
	s.tagPrefix = s.opts.TagPrefix
	if s.tagPrefix == "" {
		var b [2]byte
		rand.Read(b[:])
		s.tagPrefix = int2AP(4096 + uint64(binary.BigEndian.Uint16(b[:]))%(65536-4096))
	}
	s.eventsCond = sync.NewCond(&s.mu)
	s.pullCond = sync.NewCond(&s.mu)
	_, s.tlsOn = conn.(*tls.Conn)
	return s
}

func (s *Session) startGoroutines() {
	s.readerDone = make(chan struct{})
	s.done = make(chan struct{})
	go s.readLoop()
	if s.opts.OnUnsolicited != nil {
		// Without a handler there is nothing to run: no goroutine.
		go s.eventLoop()
	}
}

// AddSecret adds a credential the session must keep out of what it shows:
// wherever the server echoes it, it becomes "***" in status texts, errors
// and the trace. Passwords given to wire.Encoder.Password and arguments
// written inside wire.Encoder.Secret are added by the session itself; a
// SASL mechanism adds what it sends encoded (its password, its token). The
// session remembers the last 16.
func (s *Session) AddSecret(secret []byte) { s.secrets.add(secret) }

// Welcome returns the server's greeting (imaplib's welcome). The session
// keeps the greeting's line and decodes it on the first call; every call
// returns the same Status.
func (s *Session) Welcome() *codec.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.welcome == nil {
		s.welcome = decodeGreeting([]byte(s.welcomeRaw), s.opts.Tokenizer)
		s.welcomeRaw = ""
	}
	return s.welcome
}

// defaultHistory is Options.History's default: the trace lines an
// AbortError carries.
const defaultHistory = 20

// decodeGreeting decodes the greeting's line as Open read it. The line
// decoded once already, with the same tokenizer options; should it not
// (it cannot), the greeting is an empty * OK rather than nil.
func decodeGreeting(raw []byte, opts *wire.TokenizerOptions) *codec.Status {
	r, err := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(raw), opts), nil).Next()
	if st, ok := r.(*codec.Status); ok && err == nil {
		return codec.CloneResponse(st).(*codec.Status)
	}
	return &codec.Status{Kind: codec.StatusOK}
}

// State returns the connection state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// MaxResultBytes is the bound Options.MaxResultBytes set (or
// DefaultMaxResultBytes): what one command may collect, counted as
// Item.Size counts. Layers above that collect a pulled answer (the typed
// client's List, Search, Sort, FetchAll) keep to it too.
func (s *Session) MaxResultBytes() int64 { return s.opts.MaxResultBytes }

// MaxNumbers is the most numbers one SEARCH or SORT answer may hold
// (Options.MaxNumbers, or codec.DefaultMaxNumbers; math.MaxInt for no
// bound). Layers above that ask for answers of unknown size use it to ask
// in parts.
func (s *Session) MaxNumbers() int {
	switch n := s.opts.MaxNumbers; {
	case n < 0:
		return math.MaxInt
	case n == 0:
		return codec.DefaultMaxNumbers
	default:
		return n
	}
}

// MaxLineLength is the longest line the session reads, its CRLF not
// counted (wire.TokenizerOptions.MaxLineLength, or wire.DefaultMaxLineLength):
// a longer one ends the session (wire.ErrLineTooLong), but for the
// answers of SEARCH, SORT and THREAD, read without keeping their bytes
// and bounded by MaxNumbers instead.
func (s *Session) MaxLineLength() int {
	if o := s.opts.Tokenizer; o != nil && o.MaxLineLength > 0 {
		return o.MaxLineLength
	}
	return wire.DefaultMaxLineLength
}

// Caps returns the capabilities last announced, upper-cased: by a
// CAPABILITY response, or a CAPABILITY response code of the greeting or
// of an OK (a NO's or a BAD's is not taken). After STARTTLS and after
// authentication they are asked for again.
func (s *Session) Caps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.caps...)
}

// HasCap reports whether the server announced capability c.
func (s *Session) HasCap(c string) bool {
	c = strings.ToUpper(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.caps {
		if x == c {
			return true
		}
	}
	return false
}

// Capabilities returns the capabilities, asking the server when they are
// stale (after STARTTLS or authentication).
func (s *Session) Capabilities(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	stale := s.capsStale
	s.mu.Unlock()
	if stale {
		if _, err := s.Run(ctx, &Command{Name: "CAPABILITY"}); err != nil {
			return nil, err
		}
	}
	return s.Caps(), nil
}

// ProtocolVersion returns IMAP4rev2, IMAP4rev1 or IMAP4, whichever the
// server offers first in that order, or "" for none.
func (s *Session) ProtocolVersion() string {
	for _, v := range []string{"IMAP4REV2", "IMAP4REV1", "IMAP4"} {
		if s.HasCap(v) {
			return map[string]string{"IMAP4REV2": "IMAP4rev2", "IMAP4REV1": "IMAP4rev1", "IMAP4": "IMAP4"}[v]
		}
	}
	return ""
}

// UTF8Enabled reports whether UTF-8 mode is on: mailbox names and quoted
// strings go as UTF-8, not in modified UTF-7. It is on once ENABLE
// UTF8=ACCEPT or IMAP4rev2 succeeded, and while the capabilities offer
// IMAP4rev2 without IMAP4rev1: such a server speaks IMAP4rev2 from the
// start (RFC 9051 section 6.1.1), whose names are UTF-8 (section 5.1). It
// follows the capabilities last announced: a server whose capabilities
// after authentication add or drop IMAP4rev1 turns it off or on with
// them (not ENABLE's part). Enabled still reports only what ENABLE
// turned on.
func (s *Session) UTF8Enabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.utf8Locked()
}

// utf8Locked is UTF8Enabled under mu. The capabilities are looked at
// each time (as HasCap does) rather than kept in a field: Session is at
// its size class's end (TestStructSizeClasses), and STARTTLS, which
// forgets them, needs nothing more.
func (s *Session) utf8Locked() bool {
	if s.enabled&enabledUTF8 != 0 {
		return true
	}
	rev1, rev2 := false, false
	for _, c := range s.caps {
		switch c {
		case "IMAP4REV1":
			rev1 = true
		case "IMAP4REV2":
			rev2 = true
		}
	}
	return rev2 && !rev1
}

// enabledExt is the set of extensions the server said ENABLE turned on
// (its ENABLED response, RFC 5161), those the session and the layers
// above act on.
type enabledExt uint8

// answerAccess is what the untagged OKs of a SELECT's answer said of the
// mailbox's access (Pending.answerRO).
type answerAccess uint8

const (
	accessUnsaid answerAccess = iota
	accessReadOnly
	accessReadWrite
)

const (
	enabledUTF8      enabledExt = 1 << iota // UTF8=ACCEPT, or IMAP4rev2
	enabledIMAP4rev2                        // IMAP4rev2
	enabledQResync                          // QRESYNC (CONDSTORE with it)
	enabledCondStore                        // CONDSTORE
)

// enabledArgs is the set of extensions an ENABLE's encoded arguments ask
// for (the atoms after its name on its first line).
func enabledArgs(rest []byte) enabledExt {
	if i := bytes.IndexAny(rest, "\r\n"); i >= 0 {
		rest = rest[:i]
	}
	var asked enabledExt
	for _, a := range bytes.Fields(rest) {
		asked |= enabledBit(string(a))
	}
	return asked
}

// enabledBit maps an ENABLED capability to its bit, 0 for one the session
// does not track.
func enabledBit(c string) enabledExt {
	switch strings.ToUpper(c) {
	case "UTF8=ACCEPT":
		return enabledUTF8
	case "IMAP4REV2":
		return enabledIMAP4rev2 | enabledUTF8
	case "QRESYNC":
		return enabledQResync | enabledCondStore // RFC 7162 section 3.2.3
	case "CONDSTORE":
		return enabledCondStore
	}
	return 0
}

// Enabled reports whether the server said (ENABLED, RFC 5161) that ENABLE
// turned ext on, in any case: UTF8=ACCEPT (also on with IMAP4rev2),
// IMAP4rev2, QRESYNC, CONDSTORE (also on with QRESYNC). It reports false
// for any other extension, and for CONDSTORE turned on otherwise than by
// ENABLE (SELECT (CONDSTORE), a FETCH of MODSEQ: RFC 7162's
// CONDSTORE-enabling commands). An UNAUTHENTICATE accepted turns them
// all off again, as the server does (Cyrus answers a SELECT (QRESYNC ...)
// after it with BAD until ENABLE is sent again).
func (s *Session) Enabled(ext string) bool {
	b := enabledBit(ext)
	s.mu.Lock()
	defer s.mu.Unlock()
	return b != 0 && s.enabled&b == b
}

func (s *Session) setCaps(caps []codec.Bytes) {
	s.caps = s.caps[:0]
	if len(caps) > maxCaps {
		caps = caps[:maxCaps]
	}
	for _, c := range caps {
		s.caps = append(s.caps, strings.ToUpper(string(c)))
	}
	s.capsStale = false
	plus, minus := false, false
	for _, c := range s.caps {
		plus = plus || c == "LITERAL+"
		minus = minus || c == "LITERAL-"
	}
	// The encoder takes them at the next command (see send): the write
	// lock must not be taken here, under mu, maybe on the reader goroutine
	// while a writer waits for a "+" that only the reader can deliver.
	s.litPlus, s.litMinus = plus, minus
}

// maxCaps bounds the capabilities kept of one announcement: servers send
// tens; a hostile one's 500,000 would take 12 MB for the session's life
// and make every HasCap (a few per command) scan them all.
const maxCaps = 1024

// deadlineWhile makes set(past) interrupt the connection when ctx ends
// before release is called; release undoes it. Unlike a bare
// context.AfterFunc, release waits for a running interruption to finish, so
// that no deadline in the past is left behind on the connection.
func deadlineWhile(ctx context.Context, set func(time.Time) error) (release func()) {
	if ctx.Done() == nil {
		return func() {} // nothing can end it; no allocation
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		set(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
			set(time.Time{})
		}
	}
}

// nextTag returns a new tag (under mu).
func (s *Session) nextTag() string {
	s.tagN++
	return s.tagPrefix + strconv.FormatUint(s.tagN, 10)
}

// Err returns the error that ended the session, or nil while it runs.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close closes the connection without LOGOUT. Commands in flight end with
// ErrClosed. No goroutine of the session is left when Close returns (so
// Close waits for one that is in the caller's code as it ends: the
// reader, or the goroutine that flushes buffered commands for others,
// may be in Options.Trace's Write, Options.Logger's handler or the
// connection's Write; a Trace writer that blocks makes Close wait), and
// the unsolicited responses received before it have been handed to
// OnUnsolicited, unless Close finds the handler running:
//
// Close called from OnUnsolicited, or while the handler runs, does not wait
// for it (it cannot tell whether it was called from the handler, which
// would wait for itself): the handler's goroutine goes on with the
// responses already queued and ends after them. A program that must know
// the handler is done, for instance before closing a channel the handler
// sends on, says so itself (a sync.WaitGroup or a flag under its own
// lock), or waits on Done outside the handler.
func (s *Session) Close() error {
	s.abortWith(ErrClosed)
	s.waitGoroutines()
	return nil
}

// Abort ends the session as a failed connection does: the connection is
// closed, and the commands in flight and every later call fail with an
// *AbortError (errors.Is ErrAborted) that wraps err, with the history of
// the exchanges. It is for a caller that finds the connection unusable, as
// commands.Client.Idle does when the server does not let IDLE end. Like
// Close, it leaves no goroutine of the session behind (and called from
// OnUnsolicited, does not wait for it). A session that has already ended
// keeps its first error.
func (s *Session) Abort(err error) {
	s.abort(err)
	s.waitGoroutines()
}

// waitGoroutines waits, once the session has ended, for its reader
// goroutine and for OnUnsolicited's, unless called from the handler.
func (s *Session) waitGoroutines() {
	if s.readerDone != nil {
		<-s.readerDone
		s.mu.Lock()
		inHandler := s.inHandler
		s.mu.Unlock()
		if !inHandler {
			<-s.done
		}
	}
}

// Done returns a channel that is closed once the session has ended (Close,
// Logout, Abort, or a failed connection) and every goroutine it started
// has returned: its reader, and OnUnsolicited's with the responses queued
// for it, which Close does not wait for when it finds the handler running.
// A program that must know the handler is done (before it closes a channel
// the handler sends on, say) waits on Done after Close; waiting on it from
// OnUnsolicited itself never ends.
func (s *Session) Done() <-chan struct{} { return s.done }

// Logout sends LOGOUT, reads the server's BYE and closes the connection.
func (s *Session) Logout(ctx context.Context) error {
	_, err := s.Run(ctx, &Command{Name: "LOGOUT"})
	s.Close()
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	return err
}

// Mailbox returns the selected mailbox and whether it is read-only (opened
// with EXAMINE, or reported READ-ONLY by the server), or "" outside the
// SELECTED state. The SELECT's answer says it as commands' MailboxState
// reads it: its tagged OK's [READ-ONLY] or [READ-WRITE], or else the last
// of them in its untagged OKs (after its [CLOSED]); a NO's or BAD's says
// nothing. An untagged [READ-ONLY] read later, while the mailbox is
// selected, makes it read-only (a NO's too: the side that writes nothing).
func (s *Session) Mailbox() (name string, readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateSelected {
		return "", false
	}
	return s.selected, s.readOnly
}

// int2AP writes n in base 16 with the digits A to P, as imaplib makes its
// tag prefixes (commands.Int2AP is the public copy).
func int2AP(n uint64) string {
	var buf [16]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = 'A' + byte(n&0xF)
		n >>= 4
	}
	return string(buf[i:])
}

// validTagPrefix reports whether every byte of p is an ASCII letter, a
// digit, '-', '.' or '_': bytes that the encoder writes in a tag and that
// the decoder reads back as part of it (it reads a tag as an atom, which
// stops at '[', and the encoder refuses ']', '+' and the atom-specials).
func validTagPrefix(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
