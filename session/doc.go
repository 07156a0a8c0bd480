// Package session runs one IMAP4rev1/IMAP4rev2 connection (RFC 3501,
// RFC 9051): it writes tagged commands, reads every response, matches
// responses to the commands that asked for them and enforces the state
// table. It is the layer above the typed responses of package codec and
// below package commands, the typed client (Run sends any command it does
// not wrap), and it
// covers what Python's imaplib.IMAP4 object does, plus pipelining,
// streaming, cancellation and concurrency.
//
// # Opening
//
// Open takes any net.Conn: plain TCP or implicit TLS from package transport
// (Dial, DialTLS), a child process speaking IMAP on its standard input and
// output (transport.Exec, imaplib's IMAP4_stream), or one end of a
// transport.Pipe in tests. It reads the greeting: "* OK" gives state
// NONAUTH, "* PREAUTH" gives AUTH, anything else ("* BYE") is an error. The
// capabilities come from the greeting's CAPABILITY code or are asked for,
// and a server that offers none of IMAP4rev2, IMAP4rev1 and IMAP4 is
// refused (ProtocolVersion). StartTLS upgrades a plain connection: it is
// refused when TLS is on already, COMPRESS=DEFLATE is on, or STARTTLS is
// not offered, throws away whatever the server sent before the handshake
// (an injection defence), forgets what it learnt in the clear (RFC 9051
// section 6.2.1: the capabilities and the LITERAL+ or LITERAL- they
// announced, what an ENABLED said, the responses kept for Responses), and
// asks for the capabilities again. After LOGIN and AUTHENTICATE the
// capabilities are taken from the tagged OK's CAPABILITY code when it has
// one and asked for otherwise. LITERAL+ and LITERAL- decide how literals
// are sent; a successful ENABLE UTF8=ACCEPT turns on UTF-8 quoted strings
// (UTF8Enabled), as do capabilities offering IMAP4rev2 without IMAP4rev1
// (an IMAP4rev2 session from the start, RFC 9051 section 6.1.1). An
// ENABLED counts only for what the ENABLE in flight asked, once its
// tagged OK comes (RFC 5161 section 3.2): an unsolicited one, or one
// before a NO or BAD, turns nothing on. A successful UNAUTHENTICATE
// turns off what ENABLE turned on, ends the selection and forgets the
// responses kept for Responses: nothing of the previous user is left.
// Compress turns on COMPRESS=DEFLATE (RFC 4978), switching both
// directions right after the server's OK.
//
// # Running commands
//
// There is one generic entry point. A Command names the command ("NOOP",
// "SELECT", "UID FETCH") and appends its arguments with a wire.Encoder,
// which picks atom, quoted string or literal for each value and never lets
// an argument end the line:
//
//	r, err := s.Run(ctx, &session.Command{
//		Name: "SELECT",
//		Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") },
//	})
//
// Run sends the command and waits for its tagged response. The Result has
// the tagged status and the untagged responses that belong to the command
// (Command.Want, or by default the responses the command's name calls for:
// FETCH for FETCH and STORE, LIST for LIST, EXISTS and FLAGS for SELECT,
// ...), decoded by package codec and owned by the caller. A tagged NO or
// BAD is a *StatusError, returned together with the Result. OnData receives
// the command's responses one by one instead of collecting them, Sections
// streams FETCH body sections of any size through an io.Reader (the
// tokenizer's MaxStringLiteral bounds only what is collected), and
// OnContinue answers the continuation requests of AUTHENTICATE (through
// Wait, their only answerer: Continuations is nil for such a command). Secret
// keeps a whole command out of traces. Run is Start followed by
// Pending.Wait.
//
// # States
//
// State follows RFC 9051 section 3 with imaplib's names: NONAUTH, AUTH,
// SELECTED and LOGOUT. LOGIN and AUTHENTICATE lead to AUTH when they
// succeed; SELECT and EXAMINE to SELECTED when they succeed and to AUTH
// when they fail; CLOSE and UNSELECT to AUTH whatever the answer; LOGOUT
// to LOGOUT. A command used in a state that does not allow it is refused
// with a *StateError before anything is sent, with imaplib's message and a hint
// ("command FETCH illegal in state AUTH, only allowed in states SELECTED (select a mailbox first)");
// AllowedStates tells the states of each command the session knows.
// Command.AnyState sends a known command in any state, and a command the
// session does not know is allowed in every state, like imaplib's xatom.
//
// # Pipelining
//
// The methods of a Session are safe for concurrent use, and commands that
// several goroutines start, or that one goroutine starts with Start or
// StartBatch without waiting, are pipelined: written back to back and
// answered in any order. StartBatch writes a batch in one go when its
// commands may run together. The rules of RFC 9051 section 5.5 decide what
// may run together:
//
//   - a command whose outcome changes what later commands mean (STARTTLS,
//     AUTHENTICATE, LOGIN, SELECT, EXAMINE, CLOSE, UNSELECT, ENABLE, IDLE,
//     COMPRESS, LOGOUT, and any command the session does not know) runs
//     alone: it waits until the commands in flight are done, and later
//     ones wait for it (Pending.AfterBlocking tells it when one does, so
//     that an IDLE can end for them); it lets the commands already waiting
//     go first, and IDLE lets even those that run alone go first; while it
//     waits for its turn, the commands started after it wait too, so that
//     a steady stream of pipelined commands cannot hold it back for ever;
//   - a command that uses message sequence numbers (FETCH, STORE, COPY,
//     MOVE, SEARCH, ...) does not run together with a command during which
//     the server may send EXPUNGE, since the numbers would shift under it;
//   - two commands that take FETCH responses (FETCH, STORE and their UID
//     forms) do not run together when their message sets may overlap:
//     untagged responses carry no tag, so their answers could not be told
//     apart (a set with "*", or sets of UIDs and of sequence numbers, may
//     overlap anything). Their sets are Command.Messages or, for a raw
//     command, the set its arguments start with;
//   - two commands that take the same kind of untagged data with nothing
//     in it to name its command (SEARCH, SORT and THREAD; LIST and LSUB;
//     NAMESPACE, ID, CAPABILITY and ENABLED; QUOTA; ACL, MYRIGHTS and
//     LISTRIGHTS; METADATA and ANNOTATION; EXPUNGE; a STATUS command and a
//     LIST) do not run together. Two STATUS commands do: their answers go
//     by mailbox;
//   - a command that waits for its turn by one of the last three rules is
//     not overtaken by later commands that would hold it back again, once
//     what held it back when it came is over.
//
// A server may also run pipelined commands in parallel and interleave
// their untagged data: Dovecot answers six pipelined UID FETCH commands
// with the data of four of them followed by four tagged OKs, and four
// pipelined UID SEARCH with their four SEARCH responses first. FETCH (and
// VANISHED (EARLIER)) responses are therefore given to the command whose
// message set holds the message (its UID for the UID forms), read from the
// command's encoded arguments; other data goes to the oldest command in
// flight that wants it. A Command.Want of its own overrides both, except
// that a response of a kind the command's rules do not take goes to it only
// when no other command in flight wants it.
//
// # Untagged data
//
// Every untagged response is routed once, as it arrives, by the session's
// reader (its reader goroutine; or, while a pulled command's caller waits
// in Pending.Next and nobody else reads, that caller's goroutine, which
// then gets its responses without a goroutine handoff). It goes to the command it belongs to; a response that
// no command wants is unsolicited. CAPABILITY data and codes update Caps,
// an ENABLED answering an ENABLE updates UTF8Enabled, and "* BYE" outside LOGOUT aborts the
// session. The responses that describe the selected mailbox (EXISTS,
// EXPUNGE, RECENT, VANISHED) are always unsolicited too, even when a
// command took them, so that a mailbox tracker sees every one in order.
//
// Unsolicited responses are handed, in the order they arrived, to
// Options.OnUnsolicited on a goroutine of its own, which may run commands;
// Done tells when it has returned for good after Close.
// They are also kept, with the response codes of untagged status responses
// (ALERT, READ-ONLY, UIDVALIDITY, ...), for Responses, which pops them by
// name like imaplib's response(code), and forgets when a mailbox is
// selected, as imaplib does. The server chooses the names, so the store is
// bounded: the last Options.MaxKept responses per name (1000),
// Options.MaxKeptNames names (64) and Options.MaxKeptBytes of memory (16
// MiB, counted as codec.CloneSize counts a copy); the OnUnsolicited queue
// holds at most Options.MaxUnsolicited (10000) responses and MaxKeptBytes
// of memory when the handler falls behind. What the bounds drop is
// counted (DroppedUnsolicited). The codes of a
// tagged response are in its Result.Status, and kept for Responses under
// the code's name as imaplib keeps them (READ-ONLY of an EXAMINE,
// APPENDUID of an APPEND, COPYUID of a COPY). Recent returns pending RECENT
// data or prods the server with NOOP, like imaplib's recent(), of the
// mailbox selected at its call (nothing, and no NOOP, when none is): a
// SELECT started meanwhile gives ErrReselected rather than another
// mailbox's count; RecentIn is Recent for a selection count the caller
// read before.
//
// # The message count
//
// In the SELECTED state the session follows the selected mailbox's message
// count, as the responses are read: an EXISTS sets it, an EXPUNGE takes
// one from it, a VANISHED (not a VANISHED (EARLIER)) takes the number of
// its UIDs. A SELECT or EXAMINE forgets it when it starts, until the new
// mailbox's EXISTS; CLOSE, UNSELECT, a failed SELECT and the end of the
// session forget it too. Exists returns it, with known false while it is
// unknown. A server must not name a message it has not announced (RFC 9051
// section 7.5.2, RFC 3501 section 7.4.2): a FETCH response for a message
// above the known count is still delivered where it belongs (the
// command's Result, OnData, Next, or the unsolicited stream), so nothing
// is lost, and the command it went to ends, after all its data, with an
// *UnannouncedError (ErrUnannounced) and its Result, as a
// *ResultTooLargeError does; a command by UID does not (its answer is
// read by UID, and Cyrus names a message delivered while it answers
// before it announces it), nor one whose own answer announces every such
// message with an EXISTS before its tagged response (Cyrus answers a
// FETCH by sequence number so for a message delivered as it starts). Unannounced counts every such response of
// the session, unsolicited ones and EXPUNGE or VANISHED of messages never
// announced included. With the count unknown nothing is checked.
//
// # The table of commands
//
// Everything the session knows of a command is one row of its table
// (CommandRules): the states it is allowed in, whether it runs alone, uses
// sequence numbers or forbids EXPUNGE while it runs, the untagged
// responses that belong to it, what its arguments target, its state
// transition, whether the capabilities change with it, and whether it
// takes continuation requests. Command.Rules gives the row of an extension
// command the table does not know. Command.Messages and Command.Mailbox
// give the routing facts of a command (its message set, its mailbox), so
// that pipelined FETCH and STATUS responses answered out of order reach
// the right command; without them the session reads them back from the
// encoded arguments, literals included. The name "UID" with the
// subcommand as its first argument (imaplib's uid("FETCH", ...)) gets the
// rules of "UID FETCH".
//
// # Pull delivery
//
// A Command with Pull set hands its responses to the caller's goroutine
// through Pending.Next, in order, with backpressure: when the caller waits
// in Next, the decoder's own response is handed over without a copy and is
// valid until the next call to Next; when the caller is busy, copies queue
// (64) and then the reader waits. Body sections over the tokenizer's
// MaxStringLiteral come as items whose Body streams them; smaller ones stay
// in Section.Data. The caller may run other commands between two calls to
// Next: when another goroutine needs the reader (it waits for an answer,
// in Wait, or for its turn, or writes: a command, a batch's buffered
// commands, a Continue line; not one waiting on Done, see Pending.Done), a
// held response is kept valid (codec.Decoder.Unshare) and a half-read
// body is read into memory, within MaxResultBytes. Run, which collects copies in Result.Data, stays
// for small results; it is bounded by Options.MaxResultBytes (64 MiB):
// past it the rest is dropped and the command ends with a
// *ResultTooLargeError. A FETCH body over the string limit is collected
// within that bound, never failing the response.
//
// # Cancellation
//
// Every call that waits takes a context. What happens when it ends depends
// on how far the command got:
//
//   - before the command was sent (a context that is already done, or one
//     that ends while the command waits for its turn: behind commands that
//     must run alone, or for the connection while another command writes):
//     nothing is sent, and the error is a *NotSentError (ErrNotSent) that
//     wraps the context's error: safe to retry, whatever the command;
//   - while the caller waits for the answer (Wait, Run, Next): the call
//     returns the context's error at once; the command stays in flight, its
//     answer is read and thrown away in the background, and the session
//     goes on (for at most the stall timeout after the deadline: then the
//     session is aborted, IMAP having no other way to stop a command);
//   - while the command is being written (a write blocked on a full
//     connection, a streamed literal, or the wait for the "+" that lets a
//     synchronizing literal go): a write that ends within 50 ms goes out
//     whole (the command is sent; the call returns the context's error);
//     past that, the server is in the middle of the command and the
//     connection can no longer be trusted, so the session aborts: that
//     command's error matches both the context's error and an
//     *AbortError, the other commands' the *AbortError alone. So does a
//     context that ends while a Read of a literal's body (an io.Reader of
//     the caller's, an APPEND's message) waits: when the context can end,
//     such a body (but for a *bytes.Reader, *strings.Reader or
//     *bytes.Buffer handed to the session as it is; wrapped, as package
//     commands wraps a *bytes.Buffer to look for a NUL, it is pumped too)
//     is read on a goroutine of its own (one 16 KiB buffer with it, let go
//     when the body has been read), and the writer stops waiting for the
//     command's body reads 50 ms after the first of them found the
//     context ended (one grace for all the command's bodies, however
//     many), as a write gets 50 ms. A write to the connection in
//     progress when the context ended gets 50 ms, and the first write
//     after it (after the body reads) 50 ms of its own (a goroutine the
//     scheduler did not run must not find its deadline passed), so a
//     command whose context ended goes on being written for at most about
//     150 ms: a write under way, the body reads, the writes after them,
//     each cut past its 50 ms. The body's goroutine ends when the Read
//     returns (the session does not close the reader: it is the
//     caller's), as the one net/http leaves on a blocked request body;
//     so, after an error that wraps the context's, the reader may still be inside a Read, and the caller
//     must not reuse it, or look at what its Read writes, until that Read
//     returns. A panic of such a Read after the writer stopped waiting is
//     raised on that goroutine (it would otherwise be lost). A command cut
//     off while it was written, for this or any other reason (its body's
//     Read failed, the connection failed), fails with an error matching
//     ErrWriteCut: the server did not run it (but under COMPRESS=DEFLATE,
//     a connection write that fails after the command's last byte went
//     into the deflater, which may have delivered the whole command: the
//     error then matches ErrAborted alone); so does a command written
//     before it whose last byte that write had not got out (a batch's,
//     left in the write buffer), when that write's failure ends the
//     session; not when the session ended first for another reason
//     while the write was blocked (a BYE, a read error, Close, Abort:
//     that error alone), nor under COMPRESS=DEFLATE once its bytes went
//     into the deflater (ErrAborted alone): see ErrWriteCut. The session
//     is aborted with a cause that has the body's error text but not its
//     chain: only the cut command's error matches what its body's error
//     wraps (the earlier commands' match ErrWriteCut and ErrAborted,
//     nothing of the body's). A server that refuses a literal with NO or BAD instead of
//     "+" ends the command normally; a body's Read or Open error is
//     never taken for such a refusal, even when it wraps a *StatusError
//     (a body read from another session's FETCH that answered NO). A
//     Part.Open that the command starts with (nothing but plain text
//     before it: an AppendMany's first message) runs before any of the
//     command's bytes is written: when it fails, or blocks past the
//     context's end, the command is not sent (*NotSentError) and the
//     session goes on; it is not called when the context has ended by
//     the command's turn.
//
// StartBatch writes its commands' bytes in one write where it can; the
// write of what its earlier commands left in the write buffer (before a
// later command waits for its turn) is bounded by the batch's context as
// a command's write is: cut 50 ms after the context ends when blocked,
// which aborts the session (those commands' bytes may be half out), the
// later commands not sent: StartBatch's error matches ErrNotSent, the
// context's error and the *AbortError (ErrAborted), as a command whose
// own write is cut (but not ErrWriteCut: nothing of it was written); a
// caller retries it on another session. An earlier command whose last
// byte that write did not get out ends with an error matching
// ErrWriteCut (and ErrAborted): the server did not run it (under
// COMPRESS=DEFLATE, only if not all its bytes had gone into the
// deflater; the exceptions are ErrWriteCut's). A command that ends without
// being written (its context ended first, its Args or Open failed)
// leaves what other commands left in the buffer counting on it to be
// flushed without it, on a goroutine of the session's, bounded by the
// write stall bound, not by its context (that write is theirs): its
// caller does not wait for it.
//
// Timeouts have defaults that make a client written with defaults safe:
// Open is bounded by Options.GreetingTimeout (30 s) when its context has no
// deadline; Options.StallTimeout (60 s) aborts the session when, while a
// command waits, no byte arrives for that long (it counts bytes, so a slow
// download that keeps coming is never cut, and it covers the STARTTLS
// handshake; IDLE is exempt from its "+" until DONE is sent, not before
// its "+", and so is a connection
// with nothing in flight, the time the client takes to answer a "+"
// that someone will answer (a running Wait's OnContinue, a caller who
// took Continuations), and the time the server spends taking in what
// the session writes, which a write stall of four times as long bounds
// instead, and eight stall timeouts after a write that waited for room,
// while the send buffer drains); Options.CommandTimeout (15 min) bounds a command whose context
// has no deadline, so that a server trickling bytes for ever cannot hold
// it (of a pulled command, it counts the time the caller waits in Next,
// not the time its loop's body takes). Each fires as a *TimeoutError (ErrTimeout, os.ErrDeadlineExceeded).
// Abort ends the session for a reason of the caller's, as a failed
// connection does. Close ends
// the session at once: commands in flight, and calls waiting to start, end
// with ErrClosed, and no goroutine of the session is left. Logout sends
// LOGOUT, reads the BYE and closes.
//
// # Tracing
//
// Options.Trace receives every line sent ("C: ") and received ("S: "), and
// Options.Logger a debug record for each line and for each command's start
// and end (with its status and duration). Both are redacted: LOGIN
// passwords (wire.Encoder.Password), arguments written inside
// wire.Encoder.Secret (a SASL initial response), Command.Secret commands and
// the client's lines of an AUTHENTICATE exchange become "***", and the
// bodies of literals are summarised as "<N bytes>" unless
// Options.TraceLiterals is set. The server's lines are redacted too: every
// credential the session sent is replaced by "***" wherever the server
// echoes it, and control bytes are escaped as \xNN, so a server cannot
// write terminal escapes to the user's screen; the same holds for every
// error the session builds from server text (the raw text stays in the
// typed fields, Status.Text, with credentials redacted). The last Options.History lines (20
// by default) are kept, redacted and cut to 240 bytes, and an
// *AbortError carries them, as imaplib prints its _cmd_log on abort.
//
// # Errors
//
// A tagged NO or BAD is a *StatusError, matched by errors.Is with ErrNo or
// ErrBad; a command refused by the state table is a *StateError; a dead
// connection is an *AbortError, matched by ErrAborted, whose cause says why:
// EOF, a *ByeError (ErrBye, with its response code), a *ProtocolError
// (ErrProtocol: a tagged response for an unknown tag, decodable or not
// when its tag was read whole, see codec.DecodeError.TagComplete; or one
// for a command not yet sent or received before it was sent, whatever its
// kind; a continuation request nobody asked for; a tagged OK to an
// AUTHENTICATE the client cancelled with "*" or gave up, which also
// matches ErrCancelAccepted: the session aborts before reaching AUTH),
// a *TimeoutError
// (ErrTimeout), a line or literal over the tokenizer's limits
// (wire.ErrOutOfStep with wire.ErrLineTooLong or wire.ErrLiteralTooLarge),
// a cancelled write. A
// tagged response that is neither OK, NO nor BAD (an unknown name, or a
// BYE or PREAUTH, which are untagged only) aborts nothing: it ends its
// command alone with an error wrapping a *ProtocolError (ErrProtocol, not
// ErrAborted), the session in the state a BAD to that command leaves. A
// SELECT that the server answers [READ-ONLY] is a *ReadOnlyError (ErrReadOnly)
// for that SELECT alone, with its Result; the mailbox is selected. A mailbox
// that turns read-only while selected is mailbox state (Mailbox) and an
// unsolicited response, never an error. A command by sequence numbers that
// was sent FETCH responses for messages above the mailbox's count is an
// *UnannouncedError (ErrUnannounced), with its Result. A command whose context ended
// before it was sent is a *NotSentError (ErrNotSent). Open's refusals are
// ErrGreeting (with a *ByeError for a BYE greeting) and ErrNotIMAP4;
// StartTLS's are ErrTLSActive, ErrStartTLSUnavailable and, under
// COMPRESS=DEFLATE (COMPRESS, then UNAUTHENTICATE), ErrCompressActive; Compress's are
// ErrCompressActive and ErrCompressUnavailable (and CompressLevel's, for a
// level compress/flate does not know, ErrCompressLevel). A command whose
// Command.Renumbered count is stale is not sent (ErrRenumbered), nor one
// whose Command.UIDValidity count is (ErrUIDValidity: the selected
// mailbox's UIDVALIDITY changed, UIDValidityChanges), nor one with
// Command.NotIfEmpty whose turn comes while the selected mailbox is known
// to hold no message (ErrNoMessages); a
// command whose responses passed Options.MaxResultBytes is a
// *ResultTooLargeError (ErrResultTooLarge); pipelined UID FETCHes a server answers out of
// order, so that a body went to another command than its message, end
// with ErrMisrouted; a pulled body section read after its command was
// given up is ErrBodyDropped. A session closed by Close or Logout returns
// ErrClosed. The caller's mistakes are refused before
// anything is sent, and the session goes on: a Command whose Name is
// empty or holds CR, LF or NUL is ErrInvalidCommand (from Start and Run),
// a Pending.Continue line holding one of them is ErrInvalidContinuation,
// and Pending.Next on a command not started with Pull is ErrNotPull. A
// Continue on a command that has already ended (the server answered it
// first) sends nothing and is ErrCommandEnded. A panic of the caller's
// code that the session saw (a Command's Args or Want, a body's Read, a
// Trace writer or slog handler) ends the command with an error matching
// ErrPanicked (a *NotSentError when nothing of it had gone out, else an
// *AbortError for every command in flight) and goes on to the caller; a
// panic of the decoder's own code on a server's bytes (a bug of this
// module) ends the session with an *AbortError matching ErrDecoderPanic
// instead of the process. See docs/errors.md for imaplib's error, abort
// and readonly.
//
// # From imaplib
//
//	imaplib                          session
//	IMAP4(host, port)                transport.Dial, then Open
//	IMAP4_SSL(host, ssl_context=)    transport.DialTLS, then Open
//	IMAP4_stream(command)            transport.Exec, then Open
//	M.starttls(ssl_context)          s.StartTLS(ctx, cfg)
//	M.login(user, password)          s.Run(ctx, &Command{Name: "LOGIN", ...})
//	M.select(mbox, readonly=True)    Run EXAMINE (SELECT when read-write)
//	M.fetch, M.uid('FETCH', ...)     Run FETCH, UID FETCH or UID + "FETCH" (Pull to stream)
//	M.xatom(name, ...)               Run with AnyState or an unknown Name
//	M.response(code)                 s.Responses(code)
//	M.recent()                       s.Recent(ctx)
//	M.capabilities                   s.Caps(), s.HasCap, s.Capabilities(ctx)
//	M.PROTOCOL_VERSION               s.ProtocolVersion()
//	M.welcome                        s.Welcome()
//	M.state                          s.State()
//	M.utf8_enabled                   s.UTF8Enabled()
//	M.debug = 4                      Options.Trace (and Options.Logger)
//	M.logout(), M.shutdown()         s.Logout(ctx), s.Close()
//	M.error, M.abort, M.readonly     *StatusError and *StateError,
//	                                 *AbortError, *ReadOnlyError
//
// Unlike imaplib, a tagged NO is an error value (with the Result still
// returned), every literal the server announces is bounded by the
// tokenizer's limits, and responses are decoded into typed values.
package session
