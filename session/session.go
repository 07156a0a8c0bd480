package session

import (
	"bufio"
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
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// Options configures a Session. A nil *Options is equivalent to a zero
// Options.
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
	// "<N bytes>" unless TraceLiterals is set.
	Trace io.Writer
	// TraceLiterals includes the bytes of literals (but never secrets) in
	// the trace.
	TraceLiterals bool
	// TagPrefix fixes the tag prefix, for deterministic tags in tests
	// ("A" gives A1, A2, ...). Empty means a random prefix of four letters
	// A to P, as imaplib picks.
	TagPrefix string
	// GreetingTimeout bounds Open when its context has no deadline: the
	// greeting and the CAPABILITY that may follow. Zero means
	// DefaultGreetingTimeout, negative no limit.
	GreetingTimeout time.Duration
	// StallTimeout aborts the session when, while a command waits for the
	// server, no byte arrives for this long: it counts from the last byte
	// received, so a slow download that keeps coming is never cut. IDLE
	// is exempt, and so is a connection with nothing in flight. It covers
	// the STARTTLS handshake. Zero means DefaultStallTimeout, negative no
	// limit.
	StallTimeout time.Duration
	// CommandTimeout bounds a command's whole run when its context has no
	// deadline, so that a server trickling bytes for ever cannot hold it.
	// When the context has a deadline, a command abandoned at the deadline
	// (its answer is still read and thrown away) gets StallTimeout more to
	// end. Either way the session is aborted when the bound passes: IMAP
	// has no other way to stop a command. IDLE is exempt. Zero means
	// DefaultCommandTimeout, negative no limit.
	CommandTimeout time.Duration
	// History is the number of trace lines kept for abort errors; 0 means
	// 20.
	History int
	// MaxResultBytes bounds the responses a command collects in
	// Result.Data, counted in bytes received plus 256 per response (about
	// what the decoded values cost): past it, the rest is dropped
	// and the command ends with a *ResultTooLargeError (its tagged status
	// in the Result). Commands with OnData or Sections stream instead and
	// have no bound. Zero means DefaultMaxResultBytes.
	MaxResultBytes int64
	// MaxUnsolicited bounds the queue of responses waiting for
	// OnUnsolicited: when the handler falls that far behind, new ones are
	// dropped and counted (DroppedUnsolicited). Zero means
	// DefaultMaxUnsolicited.
	MaxUnsolicited int
	// MaxKept bounds the responses Responses keeps per name (the oldest
	// go first), MaxKeptNames the names it keeps: the server chooses
	// them. Zero means DefaultMaxKept and DefaultMaxKeptNames.
	MaxKept, MaxKeptNames int
	// OnUnsolicited receives, in order, every untagged response that no
	// command asked for (EXISTS, EXPUNGE, flag updates, VANISHED, ALERT,
	// ...), on a goroutine of its own: it may run commands.
	OnUnsolicited func(codec.Response)
	// ServerName is used to verify the certificate on STARTTLS when the
	// tls.Config has none.
	ServerName string
}

// Session is one IMAP connection: it writes commands, matches responses to
// them and enforces the state table. Its methods are safe for concurrent
// use; commands from several goroutines are pipelined.
type Session struct {
	opts Options
	log  *slog.Logger

	conn    net.Conn
	wc      *watchConn   // the raw connection, with the read deadlines
	cw      *countWriter // what bw wrote to the connection
	secrets *secrets     // credentials sent, redacted from server text
	tr      *tracer
	tok     *wire.Tokenizer
	dec     *codec.Decoder

	wmu      writeLock // serialises writes; held while a command is sent
	bw       *bufio.Writer
	enc      *wire.Encoder
	wwaiters int // goroutines waiting for wmu (guarded by mu): flush coalescing

	mu         sync.Mutex
	state      State
	welcome    *codec.Status
	caps       []string
	capsStale  bool
	inflight   []*Pending
	changed    chan struct{} // closed and replaced whenever inflight changes
	tagPrefix  string
	tagN       uint64
	err        error // set when the session is over
	readOnly   bool  // the selected mailbox is read-only
	selected   string
	utf8       bool
	litPlus    bool // LITERAL+ announced: the encoder's options
	litMinus   bool // LITERAL- announced
	tlsOn      bool
	compressed bool // COMPRESS=DEFLATE is on
	store      map[string][]codec.Response
	contTarget *Pending // the command sending a synchronizing literal
	events     []codec.Response
	eventsCond *sync.Cond
	pullCond   *sync.Cond // pulled commands and the reader waiting for each other (mu)
	demanders  int        // goroutines waiting for the reader to go on (mu)

	respSize  int64 // wire bytes of the response being routed (reader goroutine)
	maxResult int64 // Options.MaxResultBytes or its default

	maxEvents, maxKept, maxNames int    // the bounds, defaults applied
	droppedEvents, droppedKept   uint64 // what the bounds dropped (under mu)

	readerDone chan struct{}
	eventsDone chan struct{}
	inHandler  bool // OnUnsolicited is running
}

// Pending is a command in flight.
type Pending struct {
	s       *Session
	tag     string
	name    string // the command's name for the rules: "UID FETCH"
	wname   string // the name as sent: "UID" for imaplib's uid("FETCH", ...)
	cmd     *Command
	info    commandInfo
	cont    chan []byte   // continuation requests for this command
	done    chan struct{} // closed when the command is over
	result  *Result
	err     error
	start   time.Time
	upgrade func() error // run on the reader goroutine after a tagged OK

	// written is set once the command's bytes are all in bw, endOff the
	// count of bytes the connection must have taken for them to be sent.
	// A tagged response before that is forged (see complete).
	written atomic.Bool
	endOff  int64
	// readMark is how many bytes had been read from the server when the
	// command's bytes were all written: an answer read before that was
	// sent before the server saw the command (an injection).
	readMark int64
	// syncLit is set for a command with a synchronizing literal: a tagged
	// NO or BAD before all of it is sent refuses the literal.
	syncLit atomic.Bool
	// abandoned is set when Wait's context ended: the answer is read and
	// thrown away.
	abandoned atomic.Bool
	timer     *time.Timer // the command bound (CommandTimeout)
	pull      *puller     // Command.Pull's handoff (guarded by s.mu)
	// dataBytes counts the wire bytes of the responses collected in
	// result.Data, dropped the responses left out past MaxResultBytes
	// (reader goroutine only).
	dataBytes int64
	dropped   int

	// What the command's arguments target, read from its encoded bytes:
	// the message set of FETCH/STORE (to route pipelined FETCH responses)
	// and the mailbox of SELECT/EXAMINE/STATUS.
	set        codec.SeqSet
	hasSet     bool
	uid        bool
	mailbox    string
	hasMailbox bool
	decodeErr  error // a response meant for this command could not be decoded
}

// takesContinuations reports whether p may get continuation requests that
// are not for a literal of its own (Rules.Continuations).
func (p *Pending) takesContinuations() bool { return p.info.conts }

// Tag returns the command's tag.
func (p *Pending) Tag() string { return p.tag }

// Done returns a channel closed when the command is over.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Continuations returns the channel of the continuation requests ("+"
// lines) the server sends to this command, decoded text only. Literal
// continuations are consumed by the session itself.
func (p *Pending) Continuations() <-chan []byte { return p.cont }

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
	// LIST, ...).
	Want func(r codec.Response) bool
	// OnData, when set, receives each response that belongs to the
	// command instead of Result.Data. It runs on the session's reader
	// goroutine: it must not run commands, and the response is valid only
	// until it returns.
	OnData func(r codec.Response)
	// Sections, when set, streams the body sections of the FETCH
	// responses that belong to the command (see codec.SectionHandler). It
	// runs on the reader goroutine.
	Sections codec.SectionHandler
	// OnContinue answers continuation requests that are not a literal's
	// (AUTHENTICATE): it gets the request's text and returns the line to
	// send, without CRLF. Wait calls it. Returning an error cancels the
	// exchange with "*".
	OnContinue func(text []byte) ([]byte, error)
	// Messages is the message set the command targets (FETCH, STORE and
	// their UID forms: UIDs when the name starts with "UID "): pipelined
	// FETCH responses are routed by it. Nil means the session reads it
	// back from the encoded arguments.
	Messages *codec.SeqSet
	// Mailbox is the mailbox the command targets (SELECT, EXAMINE,
	// STATUS), as a Go string: pipelined STATUS responses are routed by
	// it. Empty means the session reads it back from the encoded
	// arguments.
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
}

// Open reads the server's greeting on conn and starts the session. The
// greeting * OK gives state NONAUTH, * PREAUTH gives AUTH; * BYE or
// anything else is an error. Capabilities come from the greeting or are
// asked for.
//
// When ctx has no deadline, Options.GreetingTimeout bounds Open. Errors:
// ErrGreeting for a greeting that is not OK or PREAUTH (a BYE greeting is a
// *ByeError too), ErrNotIMAP4, a *TimeoutError for the greeting timeout.
func Open(ctx context.Context, conn net.Conn, opts *Options) (*Session, error) {
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
			return &TimeoutError{What: "greeting", After: greeting, Err: ctx.Err()}
		}
		return ctx.Err()
	}
	release := deadlineWhile(ctx, s.wc.setHard)
	g, err := s.dec.Next()
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
	s.welcome = codec.CloneResponse(st).(*codec.Status)
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
	s := &Session{changed: make(chan struct{}), store: map[string][]codec.Response{}}
	if opts != nil {
		s.opts = *opts
	}
	s.wc = &watchConn{Conn: conn, stall: orDuration(s.opts.StallTimeout, DefaultStallTimeout)}
	s.conn = s.wc
	s.secrets = &secrets{}
	s.maxResult = s.opts.MaxResultBytes
	if s.maxResult <= 0 {
		s.maxResult = DefaultMaxResultBytes
	}
	s.maxEvents = cmp.Or(max(s.opts.MaxUnsolicited, 0), DefaultMaxUnsolicited)
	s.maxKept = cmp.Or(max(s.opts.MaxKept, 0), DefaultMaxKept)
	s.maxNames = cmp.Or(max(s.opts.MaxKeptNames, 0), DefaultMaxKeptNames)
	s.log = s.opts.Logger
	if s.opts.History <= 0 {
		s.opts.History = 20
	}
	s.tr = newTracer(s.opts.Trace, s.opts.TraceLiterals, s.log, s.opts.History)
	s.tr.secrets = s.secrets
	s.tok = wire.NewTokenizer(s.tr.reader(s.wc), s.opts.Tokenizer)
	s.dec = codec.NewDecoder(s.tok, &codec.DecoderOptions{SectionHandler: s.sectionHandler})
	s.cw = &countWriter{w: s.tr.writer(s.wc)}
	s.bw = bufio.NewWriterSize(s.cw, 16<<10)
	s.enc = wire.NewEncoder(nil)
	s.tagPrefix = s.opts.TagPrefix
	if s.tagPrefix == "" {
		var b [2]byte
		rand.Read(b[:])
		s.tagPrefix = codec.Int2AP(4096 + uint64(binary.BigEndian.Uint16(b[:]))%(65536-4096))
	}
	s.eventsCond = sync.NewCond(&s.mu)
	s.pullCond = sync.NewCond(&s.mu)
	_, s.tlsOn = conn.(*tls.Conn)
	return s
}

func (s *Session) startGoroutines() {
	s.readerDone = make(chan struct{})
	s.eventsDone = make(chan struct{})
	go s.readLoop()
	go s.eventLoop()
}

// Welcome returns the server's greeting (imaplib's welcome).
func (s *Session) Welcome() *codec.Status { return s.welcome }

// State returns the connection state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Caps returns the capabilities last announced, upper-cased. After STARTTLS
// and after authentication they are asked for again.
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

// UTF8Enabled reports whether UTF-8 mode is on (ENABLE UTF8=ACCEPT or
// IMAP4rev2 succeeded).
func (s *Session) UTF8Enabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.utf8
}

func (s *Session) setCaps(caps []codec.Bytes) {
	s.caps = s.caps[:0]
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

// deadlineWhile makes set(past) interrupt the connection when ctx ends
// before release is called; release undoes it. Unlike a bare
// context.AfterFunc, release waits for a running interruption to finish, so
// that no deadline in the past is left behind on the connection.
func deadlineWhile(ctx context.Context, set func(time.Time) error) (release func()) {
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

// Run sends cmd, waits for its tagged response and returns its result.
// A tagged NO or BAD is a *StatusError (with the Result still returned).
func (s *Session) Run(ctx context.Context, cmd *Command) (*Result, error) {
	p, err := s.Start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Start sends cmd and returns at once: the command is in flight. Commands
// started together are pipelined, within RFC 9051 section 5.5: a command
// that must run alone (STARTTLS, AUTHENTICATE, IDLE, COMPRESS, LOGIN,
// SELECT, ...) waits until the others are done and holds back the next
// ones, and commands that use message sequence numbers are not pipelined
// with commands during which the server may send EXPUNGE.
func (s *Session) Start(ctx context.Context, cmd *Command) (*Pending, error) {
	ps, err := s.start(ctx, []*Command{cmd})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// StartBatch starts several commands and sends them in one write when they
// may be pipelined.
func (s *Session) StartBatch(ctx context.Context, cmds []*Command) ([]*Pending, error) {
	return s.start(ctx, cmds)
}

func (s *Session) start(ctx context.Context, cmds []*Command) ([]*Pending, error) {
	ps := make([]*Pending, 0, len(cmds))
	for i, cmd := range cmds {
		var flush func()
		if i > 0 {
			// The batch's earlier commands may still be in the buffer:
			// send them before waiting for them to end.
			flush = func() { s.flush(ctx) }
		}
		p, err := s.register(ctx, cmd, flush)
		if err != nil {
			if i > 0 {
				s.flush(ctx)
			}
			return ps, err
		}
		if err := s.send(ctx, p, i == len(cmds)-1); err != nil {
			return ps, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// register waits until cmd may start, checks the state and registers it.
// flush, when not nil, is called once (without mu) before it waits.
func (s *Session) register(ctx context.Context, cmd *Command, flush func()) (*Pending, error) {
	name := strings.ToUpper(strings.Join(strings.Fields(cmd.Name), " "))
	if name == "" || strings.ContainsAny(name, "\r\n\x00") {
		return nil, errors.New("session: invalid command name")
	}
	wname := name
	if name == "UID" {
		// imaplib's uid("FETCH", ...): the subcommand is the first
		// argument; its rules, routing and data apply.
		name = "UID " + uidSubcommand(cmd)
	}
	info, known := lookup(name)
	switch {
	case cmd.Rules != nil:
		info, known = compile(*cmd.Rules), true
	case !known:
		info = unknownCommand
	}
	if err := ctx.Err(); err != nil {
		return nil, notSent(err)
	}
	s.mu.Lock()
	for {
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		if s.canStart(info) {
			break
		}
		if flush != nil {
			s.mu.Unlock()
			flush()
			flush = nil
			s.mu.Lock()
			continue
		}
		ch := s.changed
		s.demanders++ // the commands in flight must end: the reader must go on
		s.pullCond.Broadcast()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			s.demanders--
			s.mu.Unlock()
			return nil, notSent(ctx.Err())
		}
		s.mu.Lock()
		s.demanders--
	}
	if known && !cmd.AnyState && !info.allowed.has(s.state) {
		st := s.state
		s.mu.Unlock()
		return nil, &StateError{Command: name, State: st, Allowed: info.allowed.list()}
	}
	p := &Pending{s: s, tag: s.nextTag(), name: name, wname: wname, cmd: cmd, info: info,
		cont: make(chan []byte, 1), done: make(chan struct{}), start: time.Now()}
	if cmd.Pull {
		p.pull = &puller{}
	}
	if info.transition == ToSelected {
		// As imaplib: the responses kept from the mailbox selected before
		// are forgotten.
		clear(s.store)
	}
	s.inflight = append(s.inflight, p)
	if len(s.inflight) == 1 {
		s.armStall()
	}
	s.mu.Unlock()
	if !info.waits {
		if d := s.commandBound(ctx); d > 0 {
			p.timer = time.AfterFunc(d, func() {
				select {
				case <-p.done:
				default:
					s.abort(&TimeoutError{What: "command", After: d})
				}
			})
		}
	}
	return p, nil
}

// commandBound returns how long a command started with ctx may run before
// the session is aborted (0: no bound).
func (s *Session) commandBound(ctx context.Context) time.Duration {
	bound := orDuration(s.opts.CommandTimeout, DefaultCommandTimeout)
	if bound == 0 {
		return 0
	}
	if dl, ok := ctx.Deadline(); ok {
		grace := orDuration(s.opts.StallTimeout, DefaultStallTimeout)
		if grace == 0 {
			grace = bound
		}
		return time.Until(dl) + grace
	}
	return bound
}

// canStart applies the pipelining rules (under mu).
func (s *Session) canStart(info commandInfo) bool {
	for _, q := range s.inflight {
		if q.info.alone || info.alone {
			return false
		}
		if info.seqNums && !q.info.noExpunge {
			return false
		}
		if q.info.seqNums && !info.noExpunge {
			return false
		}
	}
	return true
}

// armStall turns the stall timeout on while commands wait, IDLE excepted
// (under mu).
func (s *Session) armStall() {
	on := len(s.inflight) > 0
	for _, p := range s.inflight {
		if p.info.waits {
			on = false
		}
	}
	s.wc.arm(on)
}

// send encodes and writes p's command. A failure after bytes may have gone
// out aborts the session: the connection can no longer be trusted to be in
// step.
func (s *Session) send(ctx context.Context, p *Pending, last bool) error {
	s.mu.Lock()
	s.wwaiters++
	s.mu.Unlock()
	locked := s.wmu.lockCtx(ctx)
	s.mu.Lock()
	s.wwaiters--
	plus, minus, utf8 := s.litPlus, s.litMinus, s.utf8
	s.mu.Unlock()
	if !locked {
		// The context ended while the command waited for its turn to be
		// written (behind an APPEND waiting for "+", say): not sent.
		err := notSent(ctx.Err())
		s.finish(p, nil, err)
		return err
	}
	defer s.wmu.Unlock()
	if o := s.enc.Options(); o.LiteralPlus != plus || o.LiteralMinus != minus || o.UTF8 != utf8 {
		o.LiteralPlus, o.LiteralMinus, o.UTF8 = plus, minus, utf8
		s.enc.SetOptions(&o)
	}
	if err := ctx.Err(); err != nil {
		// The context ended while the command waited for its turn to be
		// written: it is not sent.
		err = notSent(err)
		s.finish(p, nil, err)
		return err
	}
	e := s.enc.Begin(p.tag).SP()
	for i, w := range strings.Fields(p.wname) {
		if i > 0 {
			e.SP()
		}
		e.Atom(w)
	}
	if p.cmd.Args != nil {
		p.cmd.Args(e)
	}
	wc, err := e.End()
	if err != nil {
		s.finish(p, nil, err)
		// A command that skipped its flush counted on this one.
		if s.bw.Buffered() > 0 && s.shouldFlush() {
			if ferr := s.bw.Flush(); ferr != nil {
				s.abort(ferr)
			}
		}
		return err
	}
	p.noteTarget(wc)
	for _, sec := range wc.Secrets() {
		s.secrets.add([]byte(sec))
	}
	defer deadlineWhile(ctx, s.conn.SetWriteDeadline)()
	if p.cmd.Secret {
		s.tr.clientSecret(p.tag, p.name)
	} else {
		s.tr.client(wc)
	}
	if len(wc.Parts) > 1 {
		p.syncLit.Store(true)
		// The "+" for this command's literals may arrive as soon as the
		// first part is flushed: route it here, not to whatever command
		// registered last.
		s.mu.Lock()
		s.contTarget = p
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.contTarget = nil
			s.mu.Unlock()
		}()
	}
	if s.log != nil {
		s.log.Debug("imap command", "tag", p.tag, "command", p.name)
	}
	_, err = wc.WriteTo(s.bw, func() error { return s.waitLiteral(ctx, p) })
	if err == nil {
		p.endOff = s.cw.n.Load() + int64(s.bw.Buffered())
		p.readMark = s.tr.delivered.Load()
		p.written.Store(true)
	}
	if err == nil && last && s.shouldFlush() {
		err = s.bw.Flush()
	}
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) || errors.Is(err, errCommandDone) {
			// The server refused the literal: the command is over and
			// the connection in step.
			return nil
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (cancelled while sending %s)", ctx.Err(), p.name)
		}
		s.abort(err)
		return s.Err()
	}
	return nil
}

var errCommandDone = errors.New("session: command ended before its literal was sent")

// noteTarget records what the command targets, for routing: the typed
// facts of the Command, or else what its encoded arguments say (raw
// commands): the message set of a FETCH or STORE, the mailbox of a SELECT,
// EXAMINE or STATUS, whether quoted, an atom or a literal.
func (p *Pending) noteTarget(wc *wire.Encoded) {
	switch p.info.target {
	case TargetMessages:
		if p.cmd.Messages != nil {
			p.set = p.cmd.Messages.Clone()
			p.hasSet = true
			p.uid = strings.HasPrefix(p.name, "UID ")
			return
		}
	case TargetMailbox:
		if p.cmd.Mailbox != "" {
			p.mailbox, p.hasMailbox = p.cmd.Mailbox, true
			return
		}
	default:
		return
	}
	data := wc.Parts[0].Data
	skip := len(p.tag) + 1 + len(p.wname)
	if p.wname != p.name {
		skip += len(p.name) - len("UID") // "UID" then " FETCH" in the arguments
	}
	if len(data) <= skip || data[skip] != ' ' {
		return
	}
	rest := data[skip+1:]
	if p.info.target == TargetMessages {
		end := bytes.IndexAny(rest, " \r")
		if end < 0 {
			return
		}
		if err := p.set.ParseInto(rest[:end]); err == nil {
			p.hasSet = true
			p.uid = strings.HasPrefix(p.name, "UID ")
		}
		return
	}
	switch {
	case len(rest) == 0:
	case rest[0] == '"':
		var b []byte
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				b = append(b, rest[i])
				continue
			}
			if c == '"' {
				p.mailbox, p.hasMailbox = codec.DecodeMailboxLenient(b), true
				return
			}
			b = append(b, c)
		}
	case rest[0] == '{' || rest[0] == '~':
		// A literal: its bytes follow the header's CRLF, in this part
		// (LITERAL+) or at the start of the next (after the "+").
		nl := bytes.Index(rest, []byte("}\r\n"))
		if nl < 0 {
			return
		}
		hdr := bytes.TrimSuffix(bytes.TrimLeft(rest[:nl], "~{"), []byte("+"))
		n, err := strconv.Atoi(string(hdr))
		if err != nil || n < 0 {
			return
		}
		body := rest[nl+3:]
		if len(body) == 0 && len(wc.Parts) > 1 {
			body = wc.Parts[1].Data
		}
		if len(body) >= n {
			p.mailbox, p.hasMailbox = codec.DecodeMailboxLenient(body[:n]), true
		}
	default:
		end := bytes.IndexAny(rest, " \r")
		if end > 0 {
			p.mailbox, p.hasMailbox = codec.DecodeMailboxLenient(rest[:end]), true
		}
	}
}

// uidSubcommand returns the first word of cmd's arguments, upper-cased:
// the subcommand of imaplib's uid("FETCH", ...) sent as the command UID.
func uidSubcommand(cmd *Command) string {
	if cmd.Args == nil {
		return ""
	}
	e := wire.NewEncoder(nil)
	e.Begin("X")
	cmd.Args(e)
	wc, err := e.End()
	if err != nil {
		return ""
	}
	f := strings.Fields(string(wc.Parts[0].Data[1:]))
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(f[0])
}

// shouldFlush reports whether no other command is about to be written:
// when one is, its writer flushes both.
func (s *Session) shouldFlush() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wwaiters == 0
}

// flush writes what is buffered.
func (s *Session) flush(ctx context.Context) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.bw.Flush(); err != nil {
		s.abort(err)
	}
}

// waitLiteral waits for the "+" that lets a synchronizing literal go.
func (s *Session) waitLiteral(ctx context.Context, p *Pending) error {
	defer s.demand()()
	select {
	case <-p.cont:
		return nil
	case <-p.done:
		if p.err != nil {
			return p.err
		}
		return errCommandDone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits for the command's tagged response. It answers continuation
// requests with Command.OnContinue. When ctx ends first, Wait returns
// ctx's error and the command's answer is consumed in the background.
func (p *Pending) Wait(ctx context.Context) (*Result, error) {
	// Without OnContinue the continuations stay in Continuations() for the
	// caller (IDLE); a nil channel never delivers.
	var cont chan []byte
	if p.cmd.OnContinue != nil {
		cont = p.cont
	}
	if p.pull != nil {
		// What was not taken with Next is dropped from here on.
		p.s.mu.Lock()
		p.pull.closed = true
		p.pull.queue = nil
		p.s.pullCond.Broadcast()
		p.s.mu.Unlock()
	}
	defer p.s.demand()()
	for {
		select {
		case <-p.done:
			if p.err == nil && p.info.refresh {
				// RFC 9051 section 6.2: capabilities change with
				// authentication; ask unless the OK carried them. Its
				// failure does not undo the command's success.
				if _, err := p.s.Capabilities(ctx); err != nil && p.result != nil {
					p.result.FollowUpErr = err
				}
			}
			return p.result, p.err
		case text := <-cont:
			resp, err := p.cmd.OnContinue(text)
			line := resp
			if err != nil {
				line = []byte("*")
			}
			if werr := p.Continue(ctx, line); werr != nil {
				return nil, werr
			}
			if err != nil {
				<-p.done
				return p.result, err
			}
		case <-ctx.Done():
			// The answer is still read, in the background, and thrown
			// away: nothing piles up for a caller who left.
			p.abandoned.Store(true)
			return nil, ctx.Err()
		}
	}
}

// Continue sends one line in answer to a continuation request (an
// AUTHENTICATE response, IDLE's DONE). The line must not hold CR, LF or
// NUL.
func (p *Pending) Continue(ctx context.Context, line []byte) error {
	for _, c := range line {
		if c == '\r' || c == '\n' || c == 0 {
			return errors.New("session: continuation line holds CR, LF or NUL")
		}
	}
	s := p.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.Err(); err != nil {
		return err
	}
	defer deadlineWhile(ctx, s.conn.SetWriteDeadline)()
	if p.info.secretCont || p.cmd.Secret {
		s.secrets.add(line)
		s.tr.line('C', []byte("***"))
	} else {
		s.tr.line('C', line)
	}
	s.bw.Write(line)
	s.bw.WriteString("\r\n")
	if err := s.bw.Flush(); err != nil {
		s.abort(err)
		return s.Err()
	}
	return nil
}

// Err returns the error that ended the session, or nil while it runs.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close closes the connection without LOGOUT. Commands in flight end with
// ErrClosed. No goroutine of the session is left when Close returns.
//
// Close called from OnUnsolicited (or while it runs) does not wait for the
// handler to return; the handler's goroutine ends right after it.
func (s *Session) Close() error {
	s.abortWith(ErrClosed)
	if s.readerDone != nil {
		<-s.readerDone
		s.mu.Lock()
		inHandler := s.inHandler
		s.mu.Unlock()
		if !inHandler {
			<-s.eventsDone
		}
	}
	return nil
}

// Logout sends LOGOUT, reads the server's BYE and closes the connection.
func (s *Session) Logout(ctx context.Context) error {
	_, err := s.Run(ctx, &Command{Name: "LOGOUT"})
	s.Close()
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	return err
}

// abort ends the session after a connection-level failure.
func (s *Session) abort(err error) {
	s.abortWith(&AbortError{Err: err, History: s.tr.history()})
}

func (s *Session) abortWith(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	pend := s.inflight
	s.inflight = nil
	s.state = StateLogout
	close(s.changed)
	s.changed = make(chan struct{})
	s.eventsCond.Broadcast()
	s.pullCond.Broadcast()
	s.mu.Unlock()
	s.conn.Close()
	for _, p := range pend {
		if p.timer != nil {
			p.timer.Stop()
		}
		p.err = err
		close(p.done)
	}
	if s.log != nil && !errors.Is(err, ErrClosed) {
		s.log.Debug("imap session aborted", "err", err)
	}
}

// finish ends p with its result (under no lock).
func (s *Session) finish(p *Pending, r *Result, err error) {
	s.mu.Lock()
	for i, q := range s.inflight {
		if q == p {
			// In place: a copy per answer costs O(n²) with n commands
			// pipelined (1000 NOOPs: 5.5 MB). Mostly the oldest ends.
			if i == 0 {
				s.inflight[0] = nil
				s.inflight = s.inflight[1:]
			} else {
				copy(s.inflight[i:], s.inflight[i+1:])
				s.inflight[len(s.inflight)-1] = nil
				s.inflight = s.inflight[:len(s.inflight)-1]
			}
			break
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
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
	if p.timer != nil {
		p.timer.Stop()
	}
	p.result, p.err = r, err
	close(p.done)
	if s.log != nil {
		st := ""
		if r != nil && r.Status != nil {
			st = r.Status.Kind.String()
		}
		s.log.Debug("imap command done", "tag", p.tag, "command", p.name, "status", st, "elapsed", time.Since(p.start), "err", err)
	}
}

// readLoop reads and routes every response until the session ends.
func (s *Session) readLoop() {
	defer close(s.readerDone)
	for {
		off := s.tok.Offset()
		r, err := s.dec.Next()
		s.respSize = s.tok.Offset() - off + responseOverhead
		if err != nil {
			if s.Err() != nil {
				return
			}
			var de *codec.DecodeError
			if errors.As(err, &de) && !isTimeout(err) && !errors.Is(err, wire.ErrOutOfStep) {
				// One response could not be decoded; the stream is in
				// step. The command it was probably meant for fails, so
				// that missing data is never silent.
				if s.log != nil {
					s.log.Debug("imap undecodable response", "err", err)
				}
				s.blame(de)
				continue
			}
			if isTimeout(err) {
				s.mu.Lock()
				waiting := false
				for _, p := range s.inflight {
					waiting = waiting || !p.info.waits
				}
				s.mu.Unlock()
				if !waiting {
					// A deadline left from a command that has ended.
					s.wc.arm(false)
					continue
				}
				err = &TimeoutError{What: "stall", After: s.wc.stall, Err: err}
			}
			if err == io.EOF {
				if s.State() == StateLogout {
					s.abortWith(ErrClosed) // the server closed after LOGOUT
					return
				}
				err = io.ErrUnexpectedEOF
			}
			s.abort(err)
			return
		}
		if err := s.route(r); err != nil {
			s.abort(err)
			return
		}
	}
}

// blame attaches an undecodable response to the command it was most likely
// meant for: the command with its tag when it was tagged, else the oldest
// that wants responses of its name, else the oldest.
func (s *Session) blame(de *codec.DecodeError) {
	s.mu.Lock()
	if de.Tag != "" {
		// The command's own status could not be read: end it with the
		// error rather than leave it waiting forever.
		for _, p := range s.inflight {
			if p.tag == de.Tag {
				s.mu.Unlock()
				s.finish(p, nil, fmt.Errorf("session: %s: its tagged response could not be decoded: %w", p.name, de))
				return
			}
		}
	}
	defer s.mu.Unlock()
	var target *Pending
	for _, p := range s.inflight {
		if de.Name == "FETCH" && !p.wants(&codec.Fetch{}) {
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
}

// isTimeout reports a read or write deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
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
		s.mu.Unlock()
		if target == nil {
			return &ProtocolError{Reason: "continuation request with no command in flight"}
		}
		if target != lit && target.cmd.OnContinue == nil && !target.takesContinuations() {
			return &ProtocolError{Reason: "continuation request for " + target.name + ", which does not take one"}
		}
		select {
		case target.cont <- append([]byte(nil), r.Text...):
		default:
			return &ProtocolError{Reason: "continuation request for " + target.name + ", which did not ask for one"}
		}
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
			s.mu.Lock()
			var p *Pending
			for _, q := range s.inflight {
				if q.tag == tag {
					p = q
				}
			}
			s.mu.Unlock()
			if p == nil {
				return &ProtocolError{Reason: "tagged response for an unknown tag " + strconv.Quote(printable([]byte(tag)))}
			}
			if !p.sent() {
				return &ProtocolError{Reason: "tagged response for " + p.name + " before it was sent"}
			}
			s.finish(p, nil, fmt.Errorf("session: %s: the server answered %s %s", p.name,
				printable(r.Name), printable(s.secrets.redact(r.Rest))))
			return nil
		}
	case *codec.Capability:
		s.mu.Lock()
		s.setCaps(r.Caps)
		s.mu.Unlock()
	case *codec.Enabled:
		for _, c := range r.Caps {
			if strings.EqualFold(string(c), "UTF8=ACCEPT") || strings.EqualFold(string(c), "IMAP4REV2") {
				s.mu.Lock()
				s.utf8 = true // the encoder takes it at the next command
				s.mu.Unlock()
			}
		}
	}
	s.deliver(r)
	return nil
}

// deliver gives an untagged data response to the oldest command that wants
// it, else to the unsolicited stream. Mailbox-state responses (EXISTS,
// EXPUNGE, RECENT, VANISHED) go to the stream in any case, so that a
// mailbox tracker sees them all, in order.
func (s *Session) deliver(r codec.Response) {
	s.mu.Lock()
	target := s.targetLocked(r)
	s.mu.Unlock()
	taken := false
	if target != nil {
		taken = true
		switch {
		case target.abandoned.Load():
			// Its caller has gone: read and thrown away.
		case target.pull != nil:
			// Handed over last, after keep and event below.
		case target.cmd.OnData != nil:
			target.cmd.OnData(r)
		case target.dataBytes+s.respSize > s.maxResult:
			// Over the bound of a collecting Run: dropped, and the
			// command ends with a ResultTooLargeError.
			target.dropped++
		default:
			target.dataBytes += s.respSize
			if target.result == nil {
				target.result = &Result{Tag: target.tag}
			}
			target.result.Data = append(target.result.Data, codec.CloneResponse(r))
		}
	}
	switch r.(type) {
	case *codec.Exists, *codec.Expunge, *codec.Recent, *codec.Vanished:
		taken = false
	case *codec.Status:
		if taken {
			s.keep(r) // response codes stay available to Responses
		}
	}
	if !taken {
		s.keep(r)
		s.event(r)
	}
	if target != nil && target.pull != nil && !target.abandoned.Load() {
		s.pullDeliver(target, r)
	}
}

// targetLocked finds the command r belongs to (under mu): the oldest that
// wants it, except for STATUS responses, which go to the STATUS command for
// their mailbox, and FETCH responses, which go to the command whose
// message set holds the message (pipelined FETCHes are answered
// interleaved); a FETCH for a message no such command asked for is
// unsolicited (a flag change by another client).
func (s *Session) targetLocked(r codec.Response) *Pending {
	if st, ok := r.(*codec.MailboxStatus); ok {
		// Pipelined STATUS commands: match the mailbox when a server
		// answers them out of order.
		name := codec.DecodeMailboxLenient(st.Mailbox)
		for _, p := range s.inflight {
			if p.info.target == TargetMailbox && p.hasMailbox && p.mailbox == name && p.wants(r) {
				return p
			}
		}
	}
	f, isFetch := r.(*codec.Fetch)
	var first, dynamic *Pending
	for _, p := range s.inflight {
		if !p.wants(r) {
			continue
		}
		if !isFetch {
			return p
		}
		if !p.hasSet {
			if first == nil {
				first = p
			}
			continue
		}
		n := f.Seq
		if p.uid {
			if f.Has&codec.FetchUID == 0 {
				// Not decoded yet (a streamed body comes first): best guess.
				if first == nil {
					first = p
				}
				continue
			}
			n = f.UID
		}
		if p.set.Contains(n) {
			return p
		}
		if p.set.Dynamic() && dynamic == nil {
			// "*" is the largest number in use, which the session does
			// not know: 1000:* on a mailbox whose last UID is 30 is
			// 30:1000, and UID FETCH * returns the last message.
			dynamic = p
		}
	}
	if dynamic != nil {
		return dynamic
	}
	return first
}

// wants reports whether r belongs to p: Command.Want, or the command's
// rules; a tagged ESEARCH goes to its tag.
func (p *Pending) wants(r codec.Response) bool {
	if p.cmd.Want != nil {
		return p.cmd.Want(r)
	}
	if es, ok := r.(*codec.ESearch); ok && es.Tag != nil {
		return string(es.Tag) == p.tag
	}
	return p.info.wants(codec.ResponseName(r))
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
		case codec.CodeCapability:
			s.mu.Lock()
			s.setCaps(c.Caps)
			s.mu.Unlock()
		case codec.CodeReadOnly:
			// The selected mailbox became read-only: mailbox state
			// (Mailbox) and an unsolicited response, never an error
			// handed to whichever command comes next.
			s.mu.Lock()
			selecting := false
			for _, p := range s.inflight {
				selecting = selecting || p.info.transition == ToSelected
			}
			if s.state == StateSelected && !selecting {
				s.readOnly = true
			}
			s.mu.Unlock()
		}
	}
	s.deliver(r)
	return nil
}

// keep stores r for Responses (imaplib's untagged_responses), bounded to
// the last 1000 of each name. Data that a command took is in its Result
// instead.
func (s *Session) keep(r codec.Response) {
	name := codec.ResponseName(r)
	if name == "" {
		return
	}
	c := codec.CloneResponse(r)
	if st, ok := c.(*codec.Status); ok {
		st.Text = s.secrets.redact(st.Text)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepLocked(name, c)
	if st, ok := r.(*codec.Status); ok && st.Code != nil {
		s.keepLocked(strings.ToUpper(string(st.Code.Name)), c)
	}
}

// keepLocked stores c under name within the store's bounds (under mu):
// the last MaxKept responses of a name, and at most MaxKeptNames names (the
// server chooses them; a new name past the bound is dropped and counted).
func (s *Session) keepLocked(name string, c codec.Response) {
	l, ok := s.store[name]
	if !ok && len(s.store) >= s.maxNames {
		s.droppedKept++
		return
	}
	if len(l) >= s.maxKept {
		s.droppedKept++
		if len(l) >= 2*s.maxKept {
			// Slide in place once the list is twice the bound: amortised
			// O(1) per response, and the array never grows past it.
			n := copy(l, l[len(l)-s.maxKept+1:])
			clear(l[n:])
			l = l[:n]
		}
	}
	l = append(l, c)
	s.store[name] = l
}

// Responses pops the untagged responses stored under name (imaplib's
// response(code)): a response name such as "EXISTS", "FETCH" or "OK", or a
// response code such as "READ-ONLY" or "ALERT".
func (s *Session) Responses(name string) []codec.Response {
	name = strings.ToUpper(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.store[name]
	delete(s.store, name)
	if len(l) > s.maxKept {
		l = l[len(l)-s.maxKept:]
	}
	return l
}

// DroppedUnsolicited returns how many unsolicited responses were dropped
// because OnUnsolicited fell Options.MaxUnsolicited behind, and how many
// kept responses the bounds of Responses dropped.
func (s *Session) DroppedUnsolicited() (events, kept uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.droppedEvents, s.droppedKept
}

// Recent returns pending RECENT data, or sends NOOP to prod the server and
// returns what it brought (imaplib's recent()).
func (s *Session) Recent(ctx context.Context) ([]codec.Response, error) {
	if l := s.Responses("RECENT"); len(l) > 0 {
		return l, nil
	}
	if _, err := s.Run(ctx, &Command{Name: "NOOP"}); err != nil {
		return nil, err
	}
	return s.Responses("RECENT"), nil
}

// sent reports whether all of p's bytes have reached the connection.
func (p *Pending) sent() bool {
	return p.written.Load() && p.s.cw.n.Load() >= p.endOff
}

// cloneStatus copies st, with the credentials the session sent redacted
// from its text.
func (s *Session) cloneStatus(st *codec.Status) *codec.Status {
	c := codec.CloneResponse(st).(*codec.Status)
	c.Text = s.secrets.redact(c.Text)
	return c
}

// notSent marks err as "the command was not sent": safe to retry.
func notSent(err error) error { return &NotSentError{Err: err} }

// complete handles a tagged status response.
func (s *Session) complete(st *codec.Status) error {
	tag := string(st.Tag)
	s.mu.Lock()
	var p *Pending
	for _, q := range s.inflight {
		if q.tag == tag {
			p = q
			break
		}
	}
	s.mu.Unlock()
	if p == nil {
		return &ProtocolError{Reason: "tagged response for an unknown tag " + strconv.Quote(printable([]byte(tag)))}
	}
	if !p.sent() && (st.Kind == codec.StatusOK || !p.syncLit.Load()) {
		// The server cannot answer a command it has not seen: a forged
		// completion (an injected line, a broken server). A NO or BAD
		// that refuses a literal before its "+" is the one legal case.
		return &ProtocolError{Reason: "tagged " + st.Kind.String() + " for " + p.name + " before the command was sent"}
	}
	if p.written.Load() && s.tok.Offset() <= p.readMark {
		// Sent now, but the answer had been received before: it was
		// waiting in the buffer (in the greeting's packet, say) when
		// the command went out.
		return &ProtocolError{Reason: "tagged " + st.Kind.String() + " for " + p.name + " received before the command was sent"}
	}
	r := p.result
	if r == nil {
		r = &Result{Tag: p.tag}
	}
	r.Status = s.cloneStatus(st)
	var err error
	if st.Kind != codec.StatusOK {
		err = &StatusError{Command: p.name, Status: r.Status}
	} else if p.decodeErr != nil {
		err = fmt.Errorf("session: %s: part of the answer could not be decoded: %w", p.name, p.decodeErr)
	} else if p.dropped > 0 {
		err = &ResultTooLargeError{Command: p.name, Limit: s.maxResult, Dropped: p.dropped}
	} else if p.name == "SELECT" && st.Code != nil && st.Code.Kind == codec.CodeReadOnly {
		// imaplib's readonly: writing was asked and the server opened
		// the mailbox read-only. It is selected; the error goes to this
		// command alone, with its result.
		err = &ReadOnlyError{Mailbox: p.mailbox}
	}
	s.transition(p, r.Status)
	if st.Kind == codec.StatusOK && p.upgrade != nil {
		if uerr := p.upgrade(); uerr != nil {
			s.finish(p, r, uerr)
			return fmt.Errorf("%s: %w", p.name, uerr)
		}
	}
	s.finish(p, r, err)
	return nil
}

// transition applies the state table's transitions for p's outcome.
func (s *Session) transition(p *Pending, st *codec.Status) {
	ok := st.Kind == codec.StatusOK
	s.mu.Lock()
	defer s.mu.Unlock()
	capCode := st.Code != nil && st.Code.Kind == codec.CodeCapability
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
			s.readOnly = p.name == "EXAMINE" || (st.Code != nil && st.Code.Kind == codec.CodeReadOnly)
		} else {
			s.state = StateAuth
			s.selected, s.readOnly = "", false
		}
	case ToAuthAlways:
		s.state = StateAuth
		s.selected, s.readOnly = "", false
	case ToLogout:
		s.state = StateLogout
	case ToNonAuth:
		if ok {
			s.state = StateNonAuth
			s.selected, s.readOnly = "", false
		}
	}
	if ok && p.info.refresh && !capCode {
		s.capsStale = true
	}
}

// Mailbox returns the selected mailbox and whether it is read-only (opened
// with EXAMINE, or reported READ-ONLY by the server), or "" outside the
// SELECTED state.
func (s *Session) Mailbox() (name string, readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateSelected {
		return "", false
	}
	return s.selected, s.readOnly
}

// event queues r for OnUnsolicited.
func (s *Session) event(r codec.Response) {
	if s.opts.OnUnsolicited == nil {
		return
	}
	s.mu.Lock()
	if len(s.events) >= s.maxEvents {
		// The handler is too slow for the server: drop rather than grow
		// without bound (waiting could deadlock a handler that runs
		// commands). DroppedUnsolicited tells how many.
		s.droppedEvents++
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c := codec.CloneResponse(r)
	if st, ok := c.(*codec.Status); ok {
		st.Text = s.secrets.redact(st.Text)
	}
	s.mu.Lock()
	s.events = append(s.events, c)
	s.eventsCond.Signal()
	s.mu.Unlock()
}

// eventLoop calls OnUnsolicited in order on its own goroutine.
func (s *Session) eventLoop() {
	defer close(s.eventsDone)
	for {
		s.mu.Lock()
		for len(s.events) == 0 && s.err == nil {
			s.eventsCond.Wait()
		}
		if len(s.events) == 0 {
			s.mu.Unlock()
			return
		}
		r := s.events[0]
		s.events[0] = nil
		s.events = s.events[1:]
		s.inHandler = true
		s.mu.Unlock()
		s.opts.OnUnsolicited(r)
		s.mu.Lock()
		s.inHandler = false
		s.mu.Unlock()
	}
}

// sectionHandler streams FETCH bodies to the command that wants them.
func (s *Session) sectionHandler(f *codec.Fetch, sec *codec.Section, r io.Reader) error {
	s.mu.Lock()
	target := s.targetLocked(f)
	s.mu.Unlock()
	small := sec.Size <= int64(wireMaxString(s.opts.Tokenizer))
	if target != nil && target.pull != nil {
		if small {
			return codec.ErrKeepInline // in the FETCH, no copy
		}
		return s.pullSection(target, f, sec, r)
	}
	if target != nil && target.cmd.Sections != nil {
		return target.cmd.Sections(f, sec, r)
	}
	if small {
		return codec.ErrKeepInline
	}
	// Nobody streams it: collect it, as imaplib does, within what the
	// command may still hold (Options.MaxResultBytes). Past that the body
	// is skipped and the command ends with a ResultTooLargeError; the rest
	// of the FETCH (UID, FLAGS, ...) still arrives.
	limit := s.maxResult
	if target != nil {
		limit -= target.dataBytes
	}
	if sec.Size > limit {
		if target != nil {
			target.dropped++
		}
		sec.Missing = true
		return nil
	}
	b := make([]byte, sec.Size)
	if _, err := io.ReadFull(r, b); err != nil {
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

// StartTLS upgrades the connection (RFC 9051 section 6.2.1). It refuses
// when TLS is already on or the server lacks STARTTLS. Every byte received
// before the handshake is thrown away, and the capabilities are asked for
// again.
func (s *Session) StartTLS(ctx context.Context, cfg *tls.Config) error {
	s.mu.Lock()
	on := s.tlsOn
	s.mu.Unlock()
	if on {
		return ErrTLSActive
	}
	if !s.HasCap("STARTTLS") {
		return ErrStartTLSUnavailable
	}
	host := s.opts.ServerName
	if cfg != nil && cfg.ServerName != "" {
		host = cfg.ServerName
	}
	p, err := s.register(ctx, &Command{Name: "STARTTLS"}, nil)
	if err != nil {
		return err
	}
	p.upgrade = func() error {
		raw := s.wc // the handshake's reads keep the stall timeout
		tc, err := transport.StartTLS(ctx, raw, host, cfg)
		if err != nil {
			return err
		}
		if n := s.tok.Buffered(); n > 0 && s.log != nil {
			s.log.Warn("imap: discarding bytes received after STARTTLS's OK (possible injection)", "bytes", n)
		}
		s.wmu.Lock()
		s.conn = tc
		s.tok.Reset(s.tr.reader(tc))
		s.cw.w = s.tr.writer(tc)
		s.wmu.Unlock()
		s.mu.Lock()
		s.tlsOn = true
		s.caps = nil
		s.capsStale = true
		s.mu.Unlock()
		return nil
	}
	if err := s.send(ctx, p, true); err != nil {
		return err
	}
	if _, err := p.Wait(ctx); err != nil {
		return err
	}
	_, err = s.Capabilities(ctx)
	return err
}
