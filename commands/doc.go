// Package commands is a typed IMAP client built on package session: one
// method per IMAP command, with Go arguments and typed results, for the
// whole surface of Python's imaplib and the common extensions.
//
// A Client wraps a *session.Session. New does no I/O; Session returns the
// session for anything this package does not wrap. Methods block, take a
// context first and are safe for concurrent use: calls from several
// goroutines are pipelined by the session within the rules of RFC 9051
// section 5.5. A tagged NO or BAD is a *session.StatusError (errors.Is
// with session.ErrNo or session.ErrBad).
//
// The selected mailbox is the connection's, shared by every goroutine:
// a Store or Expunge meant for the mailbox one goroutine selected would
// reach the one another goroutine selected since. MailboxState.Bind, on
// what Select or Examine returned, makes a context under which the
// methods of that Client (all but those of the connection itself: Login,
// Authenticate, StartTLS, Compress, Capability, Logout, ...; see Bind)
// send their commands only while that selection holds; once another
// mailbox was selected (or the same one again, or it was closed, or a
// SELECT failed), the method sends nothing and returns a
// *session.NotSentError matching session.ErrReselected. Calls with an
// unbound context are not checked, nor those of a Client on another
// connection: a binding is of its session.
//
// Message sets say what they hold: SeqNums and SeqRange make sets of
// message sequence numbers, UIDs and UIDRange sets of UIDs, and the kind of
// the set chooses between FETCH and UID FETCH, STORE and UID STORE, and so
// on. A set too long for one command line (DefaultMaxSetLength) is sent as
// several commands whose answers are joined (Client.SetMaxSetLength).
// Mailbox names are Go strings in UTF-8: the package encodes them in
// modified UTF-7 (RFC 3501 section 5.1.3), or sends them as UTF-8 once
// UTF8=ACCEPT or IMAP4rev2 is enabled or when the server offers IMAP4rev2
// without IMAP4rev1 (session.Session.UTF8Enabled), and decodes the names
// in responses the same way.
// A name a server listed in another form ("R&D", raw UTF-8) goes back as
// it was listed: see MailboxInfo.Name.
// Options are structs; a nil *Options means the defaults.
//
// A command about one mailbox, quota root or entry takes as its answer
// only the responses about it: an ACL, LISTRIGHTS, MYRIGHTS, QUOTAROOT or
// METADATA response of another mailbox (a notice, or a hostile server's),
// a QUOTA of another root, a GETMETADATA entry neither asked for nor within
// the asked DEPTH of one, are left out, and a command left without its
// answer returns a *MissingError. The mailbox is matched as sent (INBOX
// alone in any case, the session's rule for STATUS), or, only when no
// response names it so, with INBOX at its head in another case, as
// Dovecot spells "inbox/x" (see MyRights); a LIST-STATUS answer's STATUS
// and MYRIGHTS with the listed mailbox's own delimiter. Of two answers
// to a command that has one (ID, NAMESPACE), the last is taken.
//
// These commands, whose RFC requires their untagged answer even when
// there is nothing to say, return a *MissingError without it, never an
// empty result made up: SORT ("* SORT"; an ESEARCH is not its answer: the
// order is lost) and ESort, THREAD ("* THREAD"), GETACL ("* ACL INBOX"),
// GETQUOTAROOT ("* QUOTAROOT INBOX"; but no QUOTAROOT at all is no
// roots, no error: Dovecot 2.3 answers "OK No quota." so), NAMESPACE ("*
// NAMESPACE NIL NIL NIL"), ID ("* ID NIL", RFC 2971 section 3.2),
// MYRIGHTS, LISTRIGHTS, GETQUOTA and STATUS.
// SEARCH is the exception, for iCloud, which answers one that matches nothing with its
// tagged OK alone, also in ESEARCH's form: an answer with no search
// response at all is the empty result, as imaplib gives it (a server can
// always send an empty "* SEARCH"); one with only an ESEARCH that is not
// its own (of another tag, or of the other kind of numbers) is a
// *MissingError.
// Partial takes only the body section it asked for: the same kind, part,
// specifier, origin and, for HEADER.FIELDS (.NOT), the same field names
// (in any ASCII case and order).
//
// Fetch returns an iterator of messages, pulled from the session on the
// iterating goroutine (session.Command.Pull), so that a slow loop holds
// the server back instead of piling up memory. Message.NextSection hands
// each body section as an io.Reader: small ones come whole with their
// FETCH response and are read in place, large ones (over the tokenizer's
// string limit) are streamed while the server's bytes arrive, and a
// section the caller does not read is skipped. NextSection hands on the
// sections the server sent, asked for or not: Section.Answers tells the
// one asked for (the CLI's fetch and export write only that one). The
// loop body may run other commands on the Client, even while it holds a
// section.
//
// A Message's attributes are copied out of the decoder by default, so
// that they stay valid after the iteration moves on. FetchItems.Borrow
// lends them instead, without a copy: the Message, its Envelope,
// BodyStructure, Flags slice, Extra, BinarySizes, Unknown and Sections are
// valid only until the loop body returns (the same *Message is reused for the
// next message); its strings stay valid. Message.Clone copies a borrowed
// message to keep it.
//
// See docs/imaplib.md for every name of imaplib and its equivalent here.
package commands
