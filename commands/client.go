package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// ErrNoAuth is returned by Login, Authenticate and ProxyAuth of a Client
// made with New: it does not know whether its connection is protected, so
// it cannot apply the credential policy of package auth. Make the Client
// with Open or NewAuth instead.
var ErrNoAuth = errors.New("commands: this Client has no auth.Client (made with New): use Open or NewAuth to log in")

// ErrUnsupported is returned, before anything is sent, for a command whose
// extension the server does not advertise when there is no safe fallback.
var ErrUnsupported = errors.New("commands: the server does not support this")

// ErrNotEnabled is wrapped by the error of a method that needs an
// extension ENABLE turns on (QRESYNC for Select's QResync and
// FetchItems.Vanished) when it is not on: nothing is sent (the server
// would answer BAD).
var ErrNotEnabled = errors.New("commands: extension not enabled")

// needEnabled returns an error wrapping ErrNotEnabled when ext is not on.
func (c *Client) needEnabled(ext, what string) error {
	if c.s.Enabled(ext) {
		return nil
	}
	return fmt.Errorf("%w: %s needs %s: call Enable(ctx, %q) after logging in, before selecting a mailbox", ErrNotEnabled, what, ext, ext)
}

// Client is a typed IMAP client over one session. Its methods are safe for
// concurrent use.
type Client struct {
	s      *session.Session
	ac     *auth.Client
	maxSet atomic.Int64 // SetMaxSetLength's limit; 0: the default
	names  rawNames     // the listed names that do not encode back
	idling atomic.Bool  // an Idle runs (ErrIdleActive)
}

// New returns a Client for s. It does no I/O. Login and Authenticate need
// the credential policy of package auth and return ErrNoAuth on such a
// Client; use NewAuth or Open to log in through this package.
func New(s *session.Session) *Client { return &Client{s: s} }

// NewAuth returns a Client for the session of ac, which Login,
// Authenticate, ProxyAuth and StartTLS use. It does no I/O.
func NewAuth(ac *auth.Client) *Client { return &Client{s: ac.Session(), ac: ac} }

// Open starts a session on conn with package auth (auth.Open, which reads
// the greeting and applies opts.RequireTLS) and returns a Client for it.
func Open(ctx context.Context, conn net.Conn, opts *auth.Options) (*Client, error) {
	ac, err := auth.Open(ctx, conn, opts)
	if err != nil {
		return nil, err
	}
	return NewAuth(ac), nil
}

// Session returns the underlying session: the escape hatch for anything
// this package does not wrap.
func (c *Client) Session() *session.Session { return c.s }

// Exists returns the number of messages in the selected mailbox as the
// session has followed it since SELECT or EXAMINE: the last EXISTS, less
// the messages expunged since (EXPUNGE, VANISHED). known is false when no
// mailbox is selected, or while a SELECT or EXAMINE has not had its EXISTS
// yet. New mail shows up after any command that lets the server speak
// (Noop is the usual one) or during Idle. See session.Session.Exists.
func (c *Client) Exists() (n uint32, known bool) { return c.s.Exists() }

// Auth returns the auth.Client, or nil for a Client made with New.
func (c *Client) Auth() *auth.Client { return c.ac }

// run runs a command and returns its result; a NO or BAD is a
// *session.StatusError returned with the result.
func (c *Client) run(ctx context.Context, cmd *session.Command) (*session.Result, error) {
	return c.s.Run(ctx, c.bound(ctx, cmd))
}

// selectionKey is the context key of the selections (session.Selections)
// that the commands run with the context are bound to: MailboxState.Bind,
// or bindSelection. Its value is a *binding.
type selectionKey struct{}

// binding is the value of selectionKey: the selection sel of session s,
// to which the commands of s run with the context are bound, and the
// bindings of other sessions the context carries (outer, at most one a
// session). A binding is of one session: the count of another session is
// a number that means nothing here (MailboxState.Bind), and a Client on
// any other session ignores it.
type binding struct {
	s   *session.Session
	sel uint32
	// uidv, when checkUIDV is set, is the session's UIDValidityChanges
	// count the commands are bound to too (bindSelection: the jobs that
	// act on UIDs they read): they are not sent once the selected
	// mailbox's UIDVALIDITY changed (session.ErrUIDValidity).
	uidv      uint32
	checkUIDV bool
	outer     *binding
}

// withBinding returns ctx bound as nb says (its session's binding),
// keeping the bindings ctx carries for other sessions and dropping its
// binding of nb.s.
func withBinding(ctx context.Context, nb binding) context.Context {
	b := &nb
	b.outer = nil
	tail := &b.outer
	old, _ := ctx.Value(selectionKey{}).(*binding)
	for o := old; o != nil; o = o.outer {
		if o.s != nb.s {
			cp := *o
			cp.outer = nil
			*tail = &cp
			tail = &(*tail).outer
		}
	}
	return context.WithValue(ctx, selectionKey{}, b)
}

// bindingOf returns the binding of c's session that ctx carries, or nil;
// a binding of another session is not c's.
func (c *Client) bindingOf(ctx context.Context) *binding {
	b, _ := ctx.Value(selectionKey{}).(*binding)
	for ; b != nil; b = b.outer {
		if b.s == c.s {
			return b
		}
	}
	return nil
}

// binding returns the selection of c's session that ctx is bound to, and
// whether it is bound to one.
func (c *Client) binding(ctx context.Context) (uint32, bool) {
	if b := c.bindingOf(ctx); b != nil {
		return b.sel, true
	}
	return 0, false
}

// bindSelection returns ctx carrying the session's selection count, unless
// it carries one of this session already (MailboxState.Bind, an outer
// job), and its UIDValidityChanges count, unless it carries one already:
// the commands run with it (bound) are not sent once another mailbox was
// selected (session.ErrReselected), nor once the selected mailbox's
// UIDVALIDITY changed (session.ErrUIDValidity: the UIDs read before may
// name other messages). Move's and Replace's fallbacks, which remove what
// they copied or replaced with commands of their own, run under it, so
// that a SELECT another goroutine runs meanwhile, or a UIDVALIDITY the
// server announces in the answer to their COPY, cannot make them flag and
// expunge other messages than they copied.
func (c *Client) bindSelection(ctx context.Context) context.Context {
	b := c.bindingOf(ctx)
	if b != nil && b.checkUIDV {
		return ctx
	}
	nb := binding{s: c.s, sel: c.s.Selections()}
	if b != nil {
		nb.sel = b.sel
	}
	nb.uidv, nb.checkUIDV = c.s.UIDValidityChanges(), true
	return withBinding(ctx, nb)
}

// selection returns the selection ctx is bound to (MailboxState.Bind,
// bindSelection), or else the session's now: what a job of several
// commands binds its later commands to.
func (c *Client) selection(ctx context.Context) uint32 {
	if sel, ok := c.binding(ctx); ok {
		return sel
	}
	return c.s.Selections()
}

// bound gives cmd the selection ctx carries for c's session
// (MailboxState.Bind, bindSelection), if any, and returns it: the session
// then sends cmd only while that selection holds
// (session.Command.Selection, checked even when 0).
func (c *Client) bound(ctx context.Context, cmd *session.Command) *session.Command {
	if b := c.bindingOf(ctx); b != nil {
		cmd.Selection, cmd.CheckSelection = b.sel, true
		if b.checkUIDV {
			// The job's count, read before the UIDs it acts on.
			cmd.UIDValidity, cmd.CheckUIDValidity = b.uidv, true
		}
	}
	return cmd
}

// reselected returns the error of a method that sends nothing (or may
// send nothing) under a ctx bound to a selection that no longer holds: a
// *session.NotSentError wrapping session.ErrReselected, as the session's
// own check gives; nil when ctx is not bound or its selection holds.
// What a method reads of the selected mailbox (Exists, Mailbox) to decide
// to send nothing is read first, then checked with reselected: the
// selection held when it was read if it holds after (the count only
// moves on).
func (c *Client) reselected(ctx context.Context) error {
	if sel, ok := c.binding(ctx); ok && sel != c.s.Selections() {
		return &session.NotSentError{Err: session.ErrReselected}
	}
	return nil
}

// exists is Session.Exists for a method run with ctx: the count is not
// known when ctx is bound to a selection that no longer holds (it would
// be another mailbox's).
func (c *Client) exists(ctx context.Context) (n uint32, known bool) {
	n, known = c.s.Exists()
	if c.reselected(ctx) != nil {
		return 0, false
	}
	return n, known
}

// simple runs a command with a fixed set of arguments and only its status.
func (c *Client) simple(ctx context.Context, name string, args func(e *wire.Encoder)) error {
	_, err := c.run(ctx, &session.Command{Name: name, Args: args})
	return err
}

// simpleTo is simple for a command on a mailbox (see target).
func (c *Client) simpleTo(ctx context.Context, name, mailbox string, args func(e *wire.Encoder)) error {
	_, err := c.run(ctx, c.target(&session.Command{Name: name, Args: args}, nil, mailbox))
	return err
}

// target gives cmd its routing facts and returns it: the message set it
// targets (session.Command.Messages: set's numbers, when set is not nil
// and not "$", which only the server can resolve) and the mailbox it
// targets (session.Command.Mailbox, when mailbox is not ""). The
// Client's name is the name as the session keeps and compares names (the
// name SelectedUIDValidity returns): in UTF-8 mode it is sent as is and
// the session keeps names as sent; else it is the decoded name, as the
// session decodes the names it reads from modified UTF-7. The
// session routes pipelined FETCH and STATUS answers by them instead of
// reading the encoded arguments back. Every command of this package that
// has a message set or a mailbox argument goes through here, and so
// gets its sequence-number check (seqChecked) when set holds sequence
// numbers: called when the command is built, at the call.
func (c *Client) target(cmd *session.Command, set *Set, mailbox string) *session.Command {
	if set != nil && !set.Saved {
		cmd.Messages = &set.Nums
	}
	c.seqChecked(cmd, set != nil && set.renumberable())
	if set != nil && set.UID && !set.Saved {
		// UIDs name the messages they name under the UIDVALIDITY of
		// the call: a change before the command's turn stops it
		// (session.Command.UIDValidity).
		cmd.UIDValidity, cmd.CheckUIDValidity = c.s.UIDValidityChanges(), true
	}
	if mailbox != "" {
		cmd.Mailbox = mailbox
	}
	return cmd
}

// seqChecked marks cmd, whose arguments hold sequence numbers that an
// EXPUNGE can make name other messages when numbered is true (a
// Set.renumberable set, Criteria.numbered criteria), with the session's
// Renumbered count now, the call's time: a command that waits for its turn
// (behind a FETCH another goroutine reads, behind a NOOP queued before
// it) and would go out after an EXPUNGE the session read meanwhile is not
// sent (session.Command.CheckRenumbered; ErrRenumbered), rather than act
// on the messages that came to bear the numbers. It is the one place
// that sets the check: target calls it for every command built on a
// Set, criteriaChecked for every command built on Criteria, and a split
// run (splitRun.command) only moves the mark back to the call of the
// whole. It returns cmd.
func (c *Client) seqChecked(cmd *session.Command, numbered bool) *session.Command {
	if numbered {
		cmd.CheckRenumbered, cmd.Renumbered = true, c.s.Renumbered()
	}
	return cmd
}

// criteriaChecked is seqChecked for a command whose arguments hold cr
// (SEARCH, SORT, THREAD): checked when cr holds sequence numbers.
func (c *Client) criteriaChecked(cmd *session.Command, cr *Criteria) *session.Command {
	return c.seqChecked(cmd, cr != nil && cr.numbered())
}

// utf8 reports whether mailbox names go as UTF-8.
func (c *Client) utf8() bool { return c.s.UTF8Enabled() }

// encodeMailbox returns name as sent on the wire: as a LIST or LSUB
// answer gave it when its Name does not encode back to that or is not a
// name a caller could send (rawNames), else in modified UTF-7 (as it is
// under UTF-8). A name that is not valid UTF-8 or holds a NUL or another
// C0 control character (checkMailboxName) is an error wrapping
// ErrMailboxName, unless it is such a listed Name: the server's own name goes back as it was listed ("Caf\xe9" in Latin-1,
// in UTF-8 mode too; "&AAA-"), a name the caller made up is refused.
func (c *Client) encodeMailbox(name string) (string, error) {
	utf8 := c.utf8()
	if raw, ok := c.names.raw(name, utf8, c.s.Unauthentications()); ok {
		return raw, nil
	}
	if err := checkMailboxName(name); err != nil {
		return "", err
	}
	if utf8 {
		return name, nil
	}
	return codec.EncodeMailbox(name), nil
}

// ErrMailboxName is the error of a command given a mailbox name that is
// not valid UTF-8 or holds a NUL, before anything is sent: converted to
// modified UTF-7, each invalid byte became U+FFFD, so that Delete("Old\xff")
// deleted "Old\uFFFD", a mailbox nobody named. So is a name holding a
// C0 control character (U+0001 to U+001F: tab, CR, LF...), which RFC
// 9051 section 5.1 forbids in mailbox names and Dovecot and Cyrus refuse
// to create: Dovecot echoed a line feed of one raw in its NO, which broke
// the connection. DEL, the C1 controls and U+2028/U+2029, which RFC 9051
// forbids too but Dovecot creates (and Cyrus, but DEL), and which break
// no line, are sent: a mailbox that holds one stays reachable by its
// name. A MailboxInfo.Name the Client remembers from a LIST or LSUB
// answer is not refused: it goes as the server listed it. The Client
// does not remember a name whose bytes as listed hold a C0 control (a CR
// LF in a literal, a tab in a quoted string): it is refused like any
// other, so that no control byte is ever sent in a mailbox name. The
// same holds for a name a LIST gave in modified UTF-7 that decodes to a
// control ("a&AAo-b") once the Client no longer remembers it (past 4,096
// names or 1 MiB, or a name over 1 KiB: see MailboxInfo.Name), and for
// one that only an OLDNAME, a STATUS, NAMESPACE or NOTIFY response gave:
// those are not remembered.
var ErrMailboxName = errors.New("commands: invalid mailbox name")

// ErrModSeq is returned, wrapped with the option that holds it, for a
// mod-sequence past 2^63-1 given to send (FetchItems.ChangedSince,
// StoreOptions.UnchangedSince, SelectOptions.QResync's ModSeq,
// Criteria.ModSeq): RFC 7162 makes a mod-sequence a positive 63-bit
// number, and nothing is sent. The codec refuses such a value from a
// server (a *codec.DecodeError, or a [HIGHESTMODSEQ] that is text), so a
// mod-sequence the client was given by the server always goes back.
var ErrModSeq = errors.New("commands: mod-sequence past 2^63-1 (RFC 7162)")

// checkModSeq refuses a mod-sequence that RFC 7162 has no room for
// (ErrModSeq): what is the option that holds it, for the message.
func checkModSeq(what string, v uint64) error {
	if v > 1<<63-1 {
		return fmt.Errorf("%w: %s %d", ErrModSeq, what, v)
	}
	return nil
}

// mailbox appends a mailbox name argument (after a space) as
// encodeMailbox gives it; a name it refuses fails the command
// (ErrMailboxName).
func (c *Client) mailbox(e *wire.Encoder, name string) *wire.Encoder {
	enc, err := c.encodeMailbox(name)
	if err != nil {
		return e.Fail("Mailbox", err)
	}
	return e.SP().Mailbox(enc)
}

// atom writes s as an atom that is no flag: a leading backslash, which
// wire.Encoder.Atom lets through for flags, fails the command (wrapping
// wire.ErrInvalidAtom) where the grammar wants a plain atom (a capability,
// an object ID, a sort key, a quota resource).
func atom(e *wire.Encoder, s string) *wire.Encoder {
	if strings.HasPrefix(s, `\`) {
		return e.Fail("Atom", fmt.Errorf("%q: a backslash begins only a flag: %w", s, wire.ErrInvalidAtom))
	}
	return e.Atom(s)
}

// upperASCII upper-cases the letters a-z of s, and nothing else:
// strings.ToUpper maps "ſ" to "S" and "ı" to "I", which made an atom
// (SUBJECT, PLAIN) of a word that was none.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// CheckMailboxName returns the error a command gives, before anything is
// sent, a mailbox name its caller made up that is not valid UTF-8 or holds
// a NUL or another C0 control character (RFC 9051 section 5.1; see
// ErrMailboxName), wrapping ErrMailboxName, and nil for any other name:
// a program can check the names it was given before it connects. (A Name a LIST
// answer gave is not refused by a command; see ErrMailboxName.)
func CheckMailboxName(name string) error { return checkMailboxName(name) }

// checkMailboxName returns an error wrapping ErrMailboxName for a name
// that is not valid UTF-8, holds a NUL, or holds another C0 control
// character (mailboxControl).
func checkMailboxName(name string) error {
	switch {
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrMailboxName, name)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("%w: %q holds a NUL byte: %w", ErrMailboxName, name, wire.ErrNUL)
	}
	if i := strings.IndexFunc(name, mailboxControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("%w: %q holds the control character %U (RFC 9051 section 5.1)", ErrMailboxName, name, r)
	}
	return nil
}

// mailboxControl tells the characters a caller's mailbox name may not
// hold: the C0 controls, which RFC 9051 section 5.1 (as RFC 6855 section
// 3) forbids, and Dovecot and Cyrus refuse in a new name. Sent (in
// modified UTF-7, "a&AAo-b"), a name with a line feed came back raw in
// Dovecot's "NO Mailbox doesn't exist: a<LF>b", whose second half was
// read as the answer of an unknown tag "b": the session was aborted
// (TestMailboxNameControlRefused). The other characters RFC 9051 forbids
// (DEL, C1, U+2028, U+2029) are not refused: they end no line, and
// Dovecot and Cyrus create and list mailboxes holding them, which a
// Client that has not listed them (the CLI's typed names) must reach
// (TestMailboxNameServerMadeReachable).
func mailboxControl(r rune) bool {
	return r < 0x20
}

// decodeMailbox turns a mailbox name from a response into UTF-8.
func (c *Client) decodeMailbox(b []byte) string {
	return decodeMailbox(b, c.utf8())
}

func decodeMailbox(b []byte, utf8 bool) string {
	if utf8 {
		// RFC 6855: after ENABLE UTF8=ACCEPT the server sends UTF-8; a
		// name still in modified UTF-7 is left as sent.
		return string(b)
	}
	if s, err := codec.DecodeMailbox(b); err == nil {
		return s
	}
	return codec.DecodeMailboxLenient(b)
}

// hasCap reports whether the server advertises capability name (case
// insensitive). IMAP4rev2 implies the extensions RFC 9051 folded in.
func (c *Client) hasCap(name string) bool {
	if c.s.HasCap(name) {
		return true
	}
	switch strings.ToUpper(name) {
	case "MOVE", "UIDPLUS", "ESEARCH", "ENABLE", "IDLE", "NAMESPACE", "UNSELECT",
		"LITERAL-", "SASL-IR", "BINARY", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "STATUS=SIZE",
		"SEARCHRES":
		return c.s.HasCap("IMAP4rev2")
	}
	return false
}

// strs converts codec byte strings to Go strings.
func strs(l []codec.Bytes) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, b := range l {
		out[i] = flagString(b)
	}
	return out
}

// interned returns the interned string of b, for common flags, mailbox
// attributes and section specifiers: no allocation per message. A switch
// on the bytes (the compiler searches by length, then by value, without
// converting b) costs a few nanoseconds where a map lookup, hashing b,
// cost about four times as much (BenchmarkFetchMetadataVsCodec/Borrow
// did three per message).
func interned(b []byte) (string, bool) {
	switch string(b) {
	case `\Seen`:
		return `\Seen`, true
	case `\Answered`:
		return `\Answered`, true
	case `\Flagged`:
		return `\Flagged`, true
	case `\Deleted`:
		return `\Deleted`, true
	case `\Draft`:
		return `\Draft`, true
	case `\Recent`:
		return `\Recent`, true
	case `\*`:
		return `\*`, true
	case `$Forwarded`:
		return `$Forwarded`, true
	case `$MDNSent`:
		return `$MDNSent`, true
	case `$Junk`:
		return `$Junk`, true
	case `$NotJunk`:
		return `$NotJunk`, true
	case `$Phishing`:
		return `$Phishing`, true
	case `NonJunk`:
		return `NonJunk`, true
	case `Junk`:
		return `Junk`, true
	case `\HasChildren`:
		return `\HasChildren`, true
	case `\HasNoChildren`:
		return `\HasNoChildren`, true
	case `\Noselect`:
		return `\Noselect`, true
	case `\NonExistent`:
		return `\NonExistent`, true
	case `\Noinferiors`:
		return `\Noinferiors`, true
	case `\Marked`:
		return `\Marked`, true
	case `\Unmarked`:
		return `\Unmarked`, true
	case `\Subscribed`:
		return `\Subscribed`, true
	case `HEADER`:
		return `HEADER`, true
	case `TEXT`:
		return `TEXT`, true
	case `MIME`:
		return `MIME`, true
	case `HEADER.FIELDS`:
		return `HEADER.FIELDS`, true
	case `HEADER.FIELDS.NOT`:
		return `HEADER.FIELDS.NOT`, true
	case `\Remote`:
		return `\Remote`, true
	case `\All`:
		return `\All`, true
	case `\Archive`:
		return `\Archive`, true
	case `\Drafts`:
		return `\Drafts`, true
	case `\Junk`:
		return `\Junk`, true
	case `\Sent`:
		return `\Sent`, true
	case `\Trash`:
		return `\Trash`, true
	case `\Important`:
		return `\Important`, true
	}
	return "", false
}

// flagString returns b as a string, without allocating for common flags.
func flagString(b []byte) string {
	if s, ok := interned(b); ok {
		return s
	}
	return string(b)
}

// checkFlags returns an error naming the first of flags that is not a
// flag (an atom, after an optional backslash: no space, control byte,
// non-ASCII byte or any of ( ) { % * " \ ]), wrapping
// wire.ErrInvalidAtom; before anything is sent.
func checkFlags(flags []string) error {
	for _, f := range flags {
		switch i := wire.BadAtom(f); {
		case i == len(f):
			return fmt.Errorf("commands: flag %q is empty: %w", f, wire.ErrInvalidAtom)
		case i >= 0:
			return fmt.Errorf("commands: flag %q holds %s, which no flag may: %w", f, printable.QuoteChar(f[i:]), wire.ErrInvalidAtom)
		}
	}
	return nil
}

// checkSettableFlags is checkFlags for the flags a client sets (APPEND,
// STORE): a flag with a backslash must also be one of the system flags a
// client may set, \Seen, \Answered, \Flagged, \Deleted or \Draft, in any
// case. \Recent (the server's alone), a typo such as \Seeen, or another
// flag-extension is refused before anything is sent: Dovecot answers such
// an APPEND "BAD Invalid system flag" before its message, and then reads
// the message, already sent as a non-synchronizing literal (LITERAL+), as
// commands of its own: whoever wrote the message ran commands on the
// account. The error wraps wire.ErrInvalidAtom.
func checkSettableFlags(flags []string) error {
	if err := checkFlags(flags); err != nil {
		return err
	}
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) {
			continue
		}
		switch strings.ToLower(f) {
		case `\seen`, `\answered`, `\flagged`, `\deleted`, `\draft`:
		default:
			return fmt.Errorf("commands: flag %q is no system flag a client may set (\\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft), and a keyword has no backslash: %w", f, wire.ErrInvalidAtom)
		}
	}
	return nil
}

// encodeFlags writes a parenthesized list of flags. A flag must be a
// flag atom (optionally with a leading backslash): see checkFlags.
func encodeFlags(e *wire.Encoder, flags []string) *wire.Encoder {
	return e.List(func(e *wire.Encoder) {
		for i, f := range flags {
			if i > 0 {
				e.SP()
			}
			e.Atom(f)
		}
	})
}

// HighestModSeq returns the selected mailbox's HIGHESTMODSEQ as the server
// last gave it (session.Session.HighestModSeq): the SELECT's, or a later
// FETCH's, STORE's or EXPUNGE's tagged [HIGHESTMODSEQ]. Keep this value for
// the next Select's QResync or Fetch's ChangedSince, not the largest
// Message.ModSeq a Fetch yielded: a server may send a message's new MODSEQ
// before the expunge of a lower one, and resyncing from the higher value
// loses that expunge (RFC 7162 errata 1810).
func (c *Client) HighestModSeq() (uint64, bool) { return c.s.HighestModSeq() }
