package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// AppendOptions are the options of Append.
type AppendOptions struct {
	// Flags are set on the new message.
	Flags []string
	// Date is its internal date; zero leaves it to the server (now).
	Date time.Time
	// Binary sends the message as literal8 (RFC 3516 BINARY), so that it
	// may hold NUL and raw 8-bit content. A plain literal may not hold NUL
	// (RFC 3501, RFC 9051; Cyrus refuses it, Dovecot takes it but shows it
	// as 0x80 in BODY[]): without Binary, a message whose bytes can be read
	// before it is sent (a []byte; a reader with ReadAt that can say where
	// it is: *bytes.Reader, *strings.Reader, *os.File, *io.SectionReader)
	// is looked at first, and sent as literal8 when it holds a NUL and the
	// server has BINARY, or refused with an error wrapping wire.ErrNUL when
	// it has not; any other reader is checked as it is sent, and a NUL
	// aborts the session (the server is in the middle of the literal) with
	// an error wrapping wire.ErrNUL, nothing stored. Note that both Dovecot
	// and Cyrus rewrite a part labelled "Content-Transfer-Encoding: binary"
	// as base64 when it comes in literal8, and keep it as sent in a plain
	// literal.
	Binary bool
	// NormalizeCRLF turns every bare CR or LF of the message into CRLF,
	// as imaplib's append does. The message is still streamed: the reader
	// must be an io.ReadSeeker, read once to count the line ends (which
	// changes the size) and once to send: a message shorter than its size
	// is an error (wrapping io.ErrUnexpectedEOF) before anything is sent,
	// and one that converts to more bytes on the second read aborts the
	// session rather than being cut. AppendMany applies it to each
	// message that asks for it (one with Open, once opened).
	NormalizeCRLF bool
}

// AppendResult is the APPENDUID of an append (UIDPLUS): zero when the
// server sent none, or one the codec could not read (a UIDVALIDITY of 0,
// a "*" in its uid-set: RFC 4315), or one whose uid-set is not a single
// UID (a range such as "12:14" for one message), or, for an append to the
// selected mailbox (by name; INBOX in any case) while no other SELECT
// started, one whose UIDVALIDITY is not the one the session knows for it
// (session.Session.SelectedUIDValidity: its SELECT's, or a change an
// untagged OK [UIDVALIDITY] announced, before the tagged OK too): the UID
// is of a numbering the session's commands do not use, and a UID FETCH
// of it would find another message, or none. An append to a mailbox not
// selected is not checked: a caller that keeps the mailbox's UIDVALIDITY
// compares UIDValidity with it. Nor is one made after a RENAME or DELETE
// on this session took the selected mailbox's name (of it, or a RENAME of
// its parent, by the delimiter a LIST naming it or a parent of it gave
// during this selection, which Rename asks for when none did; not a
// RENAME of INBOX, which
// stays; however sent: Rename, Delete, Do, another Client) until the next
// SELECT (session.Session.SelectedUIDValidity): the name may be a new
// mailbox's (CREATE), with a UIDVALIDITY of its own. Another client's
// rename is not seen: a correct APPENDUID to a new mailbox by the
// selected one's old name is then dropped (a zero result, as from a
// server without UIDPLUS; the message was appended, nothing is lost).
// Names are compared as the session keeps them: in UTF-8 mode as sent
// ("R&D" and "R&-D", "aé" and "a&AOk-" are two mailboxes each), else
// decoded from modified UTF-7 (leniently), and the delimiter comes from a
// LIST response whose name is the selected one's or a parent's so
// compared. Without UTF-8 mode, two mailboxes whose names decode alike (a
// "R&D" listed raw, which a server writing names in modified UTF-7 never
// sends, and "R&-D") are one Name to the Client and one to the check: an
// APPEND to the other is checked against the selected one's UIDVALIDITY
// (a correct APPENDUID dropped), and a RENAME or DELETE of the other
// turns the check off until the next SELECT (the APPENDUID returned as
// sent: compare its UIDValidity).
type AppendResult struct {
	UIDValidity uint32
	UID         uint32
}

// Append appends a message of size bytes read from r to mailbox. The
// message is streamed: it is never held whole in memory. The literal is
// non-synchronizing when the server's LITERAL+ or LITERAL- allows it; with
// UTF8=ACCEPT enabled it is sent in the UTF8 form of RFC 6855. Bare CR or
// LF are sent as they are (see NormalizeCRLF for imaplib's conversion).
// r must hold exactly size bytes: when its length is known without
// reading (see ErrSizeMismatch), another length is an error before
// anything is sent; otherwise reading fewer than size bytes from r aborts
// the session (the server is in the middle of the literal), and bytes past
// size are left unread. A message larger than the server's APPENDLIMIT=n
// is ErrTooBig, before anything is sent. A Read of r that blocks does not
// outlive ctx: when ctx ends, Append returns an error matching ctx's,
// session.ErrAborted and session.ErrWriteCut (half the literal is on the
// wire, and the message was not appended), and the Read, left on a
// goroutine of its own, ends when r's Read returns (see "Cancellation" in
// the session package). So, after an error that wraps ctx's, r may still
// be inside a Read: the caller must not reuse r, close it in a way that
// is not safe during a Read, or look at state that its Read writes, until
// that Read has returned (as with net/http's Request.Body).
func (c *Client) Append(ctx context.Context, mailbox string, r io.Reader, size int64, opts *AppendOptions) (*AppendResult, error) {
	r, size, o, err := c.prepareAppend(r, size, opts)
	if err != nil {
		return nil, err
	}
	sel := c.s.Selections()
	res, err := c.run(ctx, c.target(&session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		c.appendMessage(c.mailbox(e, mailbox), r, size, &o)
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	return c.checkAppendUID(appendResult(res), sel, mailbox), nil
}

// prepareAppend checks a message to append (or to replace another with)
// and its options, and returns them ready to send: the options copied,
// the message converted already when they ask for NormalizeCRLF (which
// the copy then no longer asks for).
func (c *Client) prepareAppend(r io.Reader, size int64, opts *AppendOptions) (io.Reader, int64, AppendOptions, error) {
	var o AppendOptions
	if opts != nil {
		o = *opts
	}
	if size < 0 {
		return nil, 0, o, errors.New("commands: negative message size")
	}
	if err := o.check(); err != nil {
		return nil, 0, o, err
	}
	if o.Binary && !c.hasCap("BINARY") {
		return nil, 0, o, fmt.Errorf("%w: BINARY", ErrUnsupported)
	}
	if err := checkSize(r, size); err != nil {
		return nil, 0, o, err
	}
	// Before NormalizeCRLF, which neither makes nor removes a NUL, and
	// whose reader is no longer one whose bytes can be looked at first.
	// Not in UTF8 form (UTF8=ACCEPT enabled): a literal8, which may
	// carry a NUL, as AppendMany has it.
	var guard bool
	var err error
	if !c.appendUTF8() {
		if guard, err = c.checkNUL(r, size, &o); err != nil {
			return nil, 0, o, err
		}
	}
	if o.NormalizeCRLF {
		if r, size, err = normalizedReader(r, size); err != nil {
			return nil, 0, o, err
		}
		o.NormalizeCRLF = false
	}
	if err := c.checkAppendLimit(size); err != nil {
		return nil, 0, o, err
	}
	if guard {
		r = &nulGuard{r: r}
	}
	return r, size, o, nil
}

// appendMessage writes what follows the mailbox in APPEND and REPLACE:
// flags, date and the message (after a space each).
func (c *Client) appendMessage(e *wire.Encoder, r io.Reader, size int64, o *AppendOptions) {
	o.encode(e)
	e.SP()
	if c.appendUTF8() {
		for {
			g, ok := r.(*nulGuard)
			if !ok {
				break
			}
			r = g.r // literal8: NUL is allowed
		}
		e.Atom("UTF8").SP().List(func(e *wire.Encoder) { e.LiteralReader(size, r, true) })
	} else {
		e.LiteralReader(size, r, o.Binary)
	}
}

// AppendBytes appends msg (see Append).
func (c *Client) AppendBytes(ctx context.Context, mailbox string, msg []byte, opts *AppendOptions) (*AppendResult, error) {
	return c.Append(ctx, mailbox, bytes.NewReader(msg), int64(len(msg)), opts)
}

// AppendMessage is one message of AppendMany: Size bytes read from R, or,
// when Open is set, the reader and size that Open returns.
type AppendMessage struct {
	R    io.Reader
	Size int64
	// Open, when set, is called when the message's turn comes in the
	// command, after the message before it has been sent: it returns the
	// message and its size (R and Size are unused). So a MULTIAPPEND can
	// stream messages whose sizes are learnt one at a time, such as the
	// bodies of a FETCH, whose literal header gives each size as it
	// arrives. The first message's Open is called before any byte of the
	// command is written when nothing but plain text comes before it (the
	// tag, APPEND, the mailbox name, the message's flags and date): then
	// an error from it (its own, or AppendMany's checks of what it
	// returned: a negative size, ErrTooBig) leaves the command not sent,
	// the error matching session.ErrNotSent and Open's error (but none of
	// the session package's sentinels and types Open's error wraps, a
	// source session's ErrWriteCut say: see session.OpenError), and the
	// session goes on. An error from a later message's Open aborts the
	// session (session.ErrWriteCut): the server is in the middle of the
	// command; so does the first message's when the mailbox name goes as
	// a synchronizing literal (a name no quoted string can hold, longer
	// than 1024 bytes say, to a server without LITERAL+), whose "+" the
	// command waits for before Open is called. An Open that blocks does
	// not outlive AppendMany's ctx either: when ctx can end, Open runs on
	// a goroutine of its own, and once ctx has ended (and a short grace
	// passed) AppendMany returns ctx's error, with the session aborted or,
	// for a first message opened before any byte of the command is
	// written (as above), the command not sent (session.ErrNotSent) and
	// the session going on (that first Open is not called at all when
	// ctx has ended by then). The goroutine ends when Open returns, and
	// what it opened then is not read (nor closed).
	Open    func() (io.Reader, int64, error)
	Options *AppendOptions
}

// AppendManyResult is the APPENDUID of a MULTIAPPEND: the UIDs of the
// messages in order. It is zero (no UIDVALIDITY, UIDs empty) when the
// server sent none, or a uid-set that does not hold exactly one UID per
// message (another count, a UID twice), or a UIDVALIDITY other than the
// selected mailbox's when the messages went to it (as for AppendResult).
type AppendManyResult struct {
	UIDValidity uint32
	UIDs        codec.SeqSet
}

// AppendMany appends several messages to mailbox in one APPEND command
// (MULTIAPPEND, RFC 3502): all or none are added. Each message is streamed;
// one with Open set is opened only when its turn comes, so its size need
// not be known when the command starts. It returns ErrUnsupported when the
// server lacks MULTIAPPEND. A Read of a message that blocks does not
// outlive ctx, as in Append, nor does an Open that blocks, and the same
// holds: after an error that wraps
// ctx's, the message's reader (R, or what Open returned) may still be
// inside a Read, and Open may still run, which the caller must let return
// before it reuses the reader or looks at state its Read or Open writes.
// An error matching session.ErrWriteCut means none was appended. An error
// of a message's Read or Open (whatever it wraps: another session's
// *session.StatusError too) aborts the session with the command
// unfinished: the error matches session.ErrWriteCut, session.ErrAborted
// and the message's error; but for the first message's Open called before
// any byte of the command is written (see AppendMessage.Open), whose error
// leaves the command not sent (session.ErrNotSent).
func (c *Client) AppendMany(ctx context.Context, mailbox string, msgs []AppendMessage) (*AppendManyResult, error) {
	if !c.hasCap("MULTIAPPEND") {
		return nil, fmt.Errorf("%w: MULTIAPPEND", ErrUnsupported)
	}
	if len(msgs) == 0 {
		return nil, errors.New("commands: AppendMany without messages")
	}
	utf8Form := c.appendUTF8()
	msgs = slices.Clone(msgs) // the normalised readers replace the caller's
	for i := range msgs {
		m := &msgs[i]
		if open := m.Open; open != nil {
			// A message opened when its turn comes is checked (and
			// normalised) then: an error stops the command in the
			// middle, the session is aborted and none is added (the
			// first message's, opened before any byte of the
			// command is written, leaves the command not sent).
			normalize := m.Options != nil && m.Options.NormalizeCRLF
			binary := m.Options != nil && m.Options.Binary
			m.Open = func() (io.Reader, int64, error) {
				r, n, err := open()
				if err != nil {
					return nil, 0, err
				}
				if n < 0 {
					return nil, 0, errors.New("commands: negative message size")
				}
				if err := checkSize(r, n); err != nil {
					return nil, 0, err
				}
				if normalize {
					if r, n, err = normalizedReader(r, n); err != nil {
						return nil, 0, err
					}
				}
				if err := c.checkAppendLimit(n); err != nil {
					return nil, 0, err
				}
				if !binary && !utf8Form {
					r = &nulGuard{r: r}
				}
				return r, n, nil
			}
		} else if m.Size >= 0 {
			if err := checkSize(m.R, m.Size); err != nil {
				return nil, err
			}
			// As Append does (prepareAppend): NUL first, then CRLF.
			guard := false
			if !utf8Form {
				var o AppendOptions
				if m.Options != nil {
					o = *m.Options
				}
				var err error
				if guard, err = c.checkNUL(m.R, m.Size, &o); err != nil {
					return nil, err
				}
				if o.Binary && (m.Options == nil || !m.Options.Binary) {
					m.Options = &o // the caller's options are left as they are
				}
			}
			if m.Options != nil && m.Options.NormalizeCRLF {
				r, n, err := normalizedReader(m.R, m.Size)
				if err != nil {
					return nil, err
				}
				m.R, m.Size = r, n
			}
			if err := c.checkAppendLimit(m.Size); err != nil {
				return nil, err
			}
			if guard {
				m.R = &nulGuard{r: m.R}
			}
		}
		if m.Open == nil && m.Size < 0 {
			return nil, errors.New("commands: negative message size")
		}
		if m.Options != nil && m.Options.Binary && !c.hasCap("BINARY") {
			return nil, fmt.Errorf("%w: BINARY", ErrUnsupported)
		}
		if m.Options != nil {
			if err := m.Options.check(); err != nil {
				return nil, err
			}
		}
	}
	sel := c.s.Selections()
	res, err := c.run(ctx, c.target(&session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox)
		for _, m := range msgs {
			var o AppendOptions
			if m.Options != nil {
				o = *m.Options
			}
			o.encode(e)
			e.SP()
			lit := func(e *wire.Encoder, binary bool) {
				if m.Open != nil {
					e.LiteralFunc(m.Open, binary)
				} else {
					e.LiteralReader(m.Size, m.R, binary)
				}
			}
			if utf8Form {
				e.Atom("UTF8").SP().List(func(e *wire.Encoder) { lit(e, true) })
			} else {
				lit(e, o.Binary)
			}
		}
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	out := &AppendManyResult{}
	if st := res.Status; st != nil && st.Code != nil && st.Code.Kind == codec.CodeAppendUID {
		// As many UIDs as messages, each once, or the code counts as
		// none: a caller pairs them with msgs in order.
		if n, ok := distinctLen(st.Code.Dst); ok && n == uint64(len(msgs)) && !c.staleAppendUID(st.Code.UIDValidity, sel, mailbox) {
			out.UIDValidity = st.Code.UIDValidity
			out.UIDs = st.Code.Dst.Clone()
		}
	}
	return out, nil
}

// CatenatePart is one part of AppendCatenate: either URL, an IMAP URL of
// a message or section on the server (RFC 5092, e.g.
// "/INBOX;UIDVALIDITY=7/;UID=3/;SECTION=TEXT"), or Size bytes of text
// read from R.
type CatenatePart struct {
	URL  string
	R    io.Reader
	Size int64
}

// AppendCatenate appends a message built by the server from parts
// (CATENATE, RFC 4469): text sent by the client and pieces of messages
// already on the server, which are not downloaded. It returns
// ErrUnsupported when the server lacks CATENATE.
func (c *Client) AppendCatenate(ctx context.Context, mailbox string, parts []CatenatePart, opts *AppendOptions) (*AppendResult, error) {
	if !c.hasCap("CATENATE") {
		return nil, fmt.Errorf("%w: CATENATE", ErrUnsupported)
	}
	if len(parts) == 0 {
		return nil, errors.New("commands: AppendCatenate without parts")
	}
	var o AppendOptions
	if opts != nil {
		o = *opts
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	for _, p := range parts {
		if (p.URL == "") == (p.R == nil) || p.Size < 0 {
			return nil, errors.New("commands: a CATENATE part is a URL or a reader with its size")
		}
		if p.R != nil {
			if err := checkSize(p.R, p.Size); err != nil {
				return nil, err
			}
		}
	}
	sel := c.s.Selections()
	res, err := c.run(ctx, c.target(&session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox)
		o.encode(e)
		e.SP().Atom("CATENATE").SP().List(func(e *wire.Encoder) {
			for i, p := range parts {
				if i > 0 {
					e.SP()
				}
				if p.URL != "" {
					e.Atom("URL").SP().AString(p.URL)
				} else {
					// CATENATE's TEXT takes a plain literal: no NUL.
					e.Atom("TEXT").SP().LiteralReader(p.Size, &nulGuard{r: p.R}, false)
				}
			}
		})
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	return c.checkAppendUID(appendResult(res), sel, mailbox), nil
}

// ErrSizeMismatch is the error of Append, AppendMany, AppendCatenate and
// Replace given a reader that holds more or fewer bytes than the size
// given with it, found before anything is sent: the message would have
// been stored cut, or the session aborted in the middle of its literal.
// The length of a reader is known without reading it when it has a Len
// method (*bytes.Reader, *strings.Reader, *bytes.Buffer) or is an
// io.Seeker (*os.File of a regular file, *io.SectionReader); of other
// readers exactly size bytes are read, the rest left unread (pass an
// io.LimitReader or io.NewSectionReader to send part of a larger one on
// purpose). One that holds fewer aborts the session.
var ErrSizeMismatch = errors.New("commands: the message's reader does not hold the size given")

// checkSize returns an error wrapping ErrSizeMismatch when r's length is
// known without reading it (see ErrSizeMismatch) and is not size; one
// that holds fewer bytes wraps io.ErrUnexpectedEOF too.
func checkSize(r io.Reader, size int64) error {
	var n int64
	switch r := r.(type) {
	case nil:
		return nil
	case interface{ Len() int }:
		n = int64(r.Len())
	case io.Seeker:
		cur, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil // a pipe, say: not known
		}
		end, err := r.Seek(0, io.SeekEnd)
		if _, err2 := r.Seek(cur, io.SeekStart); err2 != nil {
			return fmt.Errorf("commands: the message's reader could not seek back after measuring it: %w", err2)
		}
		if err != nil {
			return nil
		}
		n = end - cur
	default:
		return nil
	}
	switch {
	case n > size:
		return fmt.Errorf("%w: it holds %d bytes, the size given is %d: the message would be stored cut", ErrSizeMismatch, n, size)
	case n < size:
		return fmt.Errorf("%w: it holds %d bytes, the size given is %d: %w", ErrSizeMismatch, n, size, io.ErrUnexpectedEOF)
	}
	return nil
}

// checkNUL looks, when the message is not sent as literal8 already, for
// a NUL in a message of size bytes read from r, with its options o,
// before anything is sent, when r's bytes can be read without moving it
// (io.ReaderAt, with Len and Size as *bytes.Reader and *strings.Reader
// have, or an io.Seeker to say where it is: a file, an io.SectionReader):
// holding a NUL, it is sent as literal8 (o.Binary set) when the server has
// BINARY, or refused with an error wrapping wire.ErrNUL. It reports guard
// when r cannot be looked at first (a pipe, a network stream, a reader
// already guarded): the caller wraps what it sends in a nulGuard, which
// fails the literal at the first NUL.
func (c *Client) checkNUL(r io.Reader, size int64, o *AppendOptions) (guard bool, err error) {
	if o.Binary || size == 0 {
		return false, nil
	}
	if _, ok := r.(*nulGuard); ok {
		return false, nil // guarded already (Replace's fallback calls Append)
	}
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return true, nil
	}
	var start int64
	switch v := r.(type) {
	case interface {
		Len() int
		Size() int64
	}:
		// Len is what is left from the read position, which ReadAt
		// does not see.
		start = v.Size() - int64(v.Len())
	case io.Seeker:
		if start, err = v.Seek(0, io.SeekCurrent); err != nil {
			return true, nil
		}
		// A file may change between this look and the send (rewritten,
		// or while the APPEND waits for "+"): still guarded.
		guard = true
	default:
		return true, nil
	}
	buf := make([]byte, min(size, 32<<10))
	for off := int64(0); off < size; {
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), size-off)], start+off)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			if !c.hasCap("BINARY") {
				return false, fmt.Errorf("commands: the message holds a NUL byte (at byte %d), which only literal8 may carry, and the server lacks BINARY: %w", off+int64(i), wire.ErrNUL)
			}
			o.Binary = true
			return false, nil
		}
		off += int64(n)
		if err != nil {
			// checkSize found its length (or could not): the send
			// reports a short read; a NUL past this is not looked for.
			return true, nil
		}
	}
	return guard, nil
}

// nulGuard passes a message's bytes through, and fails at the first NUL,
// which a plain literal may not carry: the literal stops there and the
// session is aborted, so that the server stores nothing.
type nulGuard struct {
	r   io.Reader
	off int64
}

// Read implements io.Reader.
func (g *nulGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if i := bytes.IndexByte(p[:n], 0); i >= 0 {
		return i, fmt.Errorf("commands: the message holds a NUL byte (at byte %d), which a plain literal may not carry: set AppendOptions.Binary (literal8, with BINARY): %w", g.off+int64(i), wire.ErrNUL)
	}
	g.off += int64(n)
	return n, err
}

// ErrTooBig is the error of an append of a message larger than the
// server's APPENDLIMIT=n capability (RFC 7889), returned before anything is
// sent: RFC 7889 asks clients not to send one, and a server may close the
// connection rather than read it.
var ErrTooBig = errors.New("commands: the message is larger than the server's APPENDLIMIT")

// checkAppendLimit returns an error wrapping ErrTooBig when the server's
// APPENDLIMIT=n capability is less than size.
func (c *Client) checkAppendLimit(size int64) error {
	if n, ok := c.capAppendLimit(); ok && uint64(size) > n {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooBig, size, n)
	}
	return nil
}

// normalizedReader returns r with bare CR and LF made CRLF, and its new
// size: r must be an io.ReadSeeker of size bytes, read once to count.
func normalizedReader(r io.Reader, size int64) (io.Reader, int64, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return nil, 0, errors.New("commands: NormalizeCRLF needs an io.ReadSeeker")
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0, err
	}
	n := &crlfReader{r: io.LimitReader(rs, size)}
	out, err := io.Copy(io.Discard, n)
	if err != nil {
		return nil, 0, err
	}
	if n.in != size {
		// Sent as it is, a short message aborts the session (Append);
		// converted, it would be sent cut, as if whole.
		return nil, 0, fmt.Errorf("commands: NormalizeCRLF: the message has %d bytes, not %d: %w", n.in, size, io.ErrUnexpectedEOF)
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, 0, err
	}
	return &crlfReader{r: io.LimitReader(rs, size), want: out, size: size}, out, nil
}

// errChanged is the error of the second read of a message to normalise
// that converts to more bytes than the first: the literal's size is sent
// already, so the session is aborted rather than the message cut.
var errChanged = errors.New("commands: NormalizeCRLF: the message changed between its two reads")

// crlfReader converts bare CR and LF to CRLF while reading.
type crlfReader struct {
	r       io.Reader
	buf     [4096]byte
	pending []byte // converted bytes not yet returned
	lastCR  bool   // the last byte read was a CR (its LF was added)
	err     error  // the error of r, returned once pending is drained
	in, out int64  // bytes read from r, bytes converted
	want    int64  // when not 0: the most bytes the conversion may make
	size    int64  // with want: the bytes of r, all of which must be read
}

func (c *crlfReader) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.r.Read(c.buf[:1024])
		c.in += int64(n)
		c.err = err
		out := c.buf[1024:1024] // room for 2048: every byte may double
		for _, b := range c.buf[:n] {
			switch {
			case b == '\n' && c.lastCR:
				// CRLF: the LF was added after the CR already.
			case b == '\n', b == '\r':
				out = append(out, '\r', '\n')
			default:
				out = append(out, b)
			}
			c.lastCR = b == '\r'
		}
		c.pending = out
		if c.out += int64(len(out)); c.want > 0 && (c.out > c.want || c.out == c.want && c.in < c.size && !c.restIsLF()) {
			// More than counted, or all of it with input left that
			// converts to more: the literal, its size sent, would go
			// out cut, the rest of the message unread (its input read
			// in chunks, the bound fell on a chunk's end).
			c.pending, c.err = nil, errChanged
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// restIsLF reads what is left of the input when the conversion has made
// all the bytes counted, and reports whether it converts to nothing: one
// LF after a CR (whose LF was added), the CR the last byte of a chunk.
func (c *crlfReader) restIsLF() bool {
	if !c.lastCR || c.size-c.in != 1 {
		return false
	}
	var b [1]byte
	n, err := io.ReadFull(c.r, b[:])
	c.in += int64(n)
	if err != nil || b[0] != '\n' {
		return false
	}
	c.lastCR = false
	return true
}

// checkAppendUID returns out, or a zero result when its UIDVALIDITY is
// not the one the session knows for mailbox (staleAppendUID).
func (c *Client) checkAppendUID(out *AppendResult, sel uint32, mailbox string) *AppendResult {
	if c.staleAppendUID(out.UIDValidity, sel, mailbox) {
		return &AppendResult{}
	}
	return out
}

// staleAppendUID reports whether an APPENDUID of UIDVALIDITY v, answering
// an APPEND (or REPLACE) to mailbox sent when the session's Selections
// count was sel, names a UIDVALIDITY other than the one the session knows
// for mailbox, the selected mailbox then and still (no SELECT started
// since): the UIDs the session's commands use are of its known value (a
// change would have come as an untagged OK [UIDVALIDITY], before the
// tagged OK), so the APPENDUID's UID is no fact a caller can use there.
// It is false when mailbox is not the selected one (by name: INBOX in any
// case), and when the session knows no value (session.Session.
// SelectedUIDValidity): nothing to check against, as once a RENAME or
// DELETE took the selected mailbox's name (SelectedUIDValidity says
// which): the name may now be a new mailbox's (CREATE), whose UIDVALIDITY
// is its own. Another client's rename or delete is not seen: a correct
// APPENDUID to a new mailbox by the selected one's old name is then
// dropped (a zero result; the message was appended).
func (c *Client) staleAppendUID(v, sel uint32, mailbox string) bool {
	name, cur, now, ok := c.s.SelectedUIDValidity()
	if !ok || v == 0 || now != sel {
		return false
	}
	// The session's name is the one the SELECT gave it (target: the
	// Client's name, as the session keeps names), kept as is.
	return sameMailbox(name, mailbox) && v != cur
}

// sameMailbox reports whether a and b name the same mailbox: equal, or
// both INBOX in any case.
func sameMailbox(a, b string) bool {
	return a == b || strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")
}

// appendResult reads the APPENDUID of an APPEND's tagged OK (UIDPLUS), or
// of an untagged OK the command took (REPLACE).
func appendResult(res *session.Result) *AppendResult {
	out := &AppendResult{}
	statuses := []*codec.Status{res.Status} // the tagged OK's first
	for _, d := range res.Data {
		if st, ok := d.(*codec.Status); ok {
			statuses = append(statuses, st) // REPLACE's untagged OK (RFC 8508)
		}
	}
	for _, st := range statuses {
		if st != nil && st.Code != nil && st.Code.Kind == codec.CodeAppendUID {
			// One message, one UID: a range ("12:14") or a list is a
			// broken or hostile answer, whose first UID is no fact
			// about the message. Such a code counts as none.
			if n, ok := distinctLen(st.Code.Dst); ok && n == 1 {
				out.UIDValidity = st.Code.UIDValidity
				out.UID = st.Code.Dst.Ranges()[0].Start
			}
			break
		}
	}
	return out
}

// check refuses, before anything is sent, options the server would
// refuse while it parses the APPEND, before the message: a flag a client
// may not set (checkSettableFlags), or a date whose year IMAP cannot
// write. Such a BAD came before a message already sent as a
// non-synchronizing literal, which Dovecot then read as commands.
func (o *AppendOptions) check() error {
	if err := checkSettableFlags(o.Flags); err != nil {
		return err
	}
	return checkInternalDate(o.Date)
}

// checkInternalDate returns an error when t, written as an INTERNALDATE
// (codec.AppendInternalDate: in its own zone, or in UTC for an offset IMAP
// cannot write), has a year outside 0-9999: its year has 4 digits, and
// Dovecot answers BAD to another before reading the literal. The year as
// written counts, not t's year in UTC: "31-Dec-9999 23:00:00 -0500" is
// valid (Dovecot and Cyrus take it).
func checkInternalDate(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	var buf [32]byte
	// "02-Jan-2006 15:04:05 -0700": the year as written is bytes 7 to
	// 10, four digits (a year -999 to -100 also takes four bytes).
	b := codec.AppendInternalDate(buf[:0], t)
	if len(b) != len("02-Jan-2006 15:04:05 -0700") || !digits(b[7:11]) {
		return fmt.Errorf("commands: date %s: an IMAP date's year has four digits (0-9999)", t.Format(time.RFC3339))
	}
	return nil
}

// digits reports whether b is ASCII digits only.
func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkDate returns an error when t's year, in its zone (a search date is
// written so: searchDate), lies outside 0-9999.
func checkDate(t time.Time) error {
	if !t.IsZero() && (t.Year() < 0 || t.Year() > 9999) {
		return fmt.Errorf("commands: date %s: an IMAP date's year has four digits (0-9999)", t.Format(time.RFC3339))
	}
	return nil
}

// encode writes the flags and internal date of an APPEND message, each
// after a space, when set.
func (o *AppendOptions) encode(e *wire.Encoder) {
	if len(o.Flags) > 0 {
		e.SP()
		encodeFlags(e, o.Flags)
	}
	if !o.Date.IsZero() {
		e.SP().String(string(codec.AppendInternalDate(nil, o.Date)))
	}
}

// appendUTF8 reports whether APPEND sends its message in the UTF8 form of
// RFC 6855: after an ENABLE that turned UTF-8 mode on (UTF8=ACCEPT, or
// IMAP4rev2, which the server's ENABLED gives), on a server offering
// UTF8=ACCEPT. Not for UTF-8 names alone (Session.UTF8Enabled on an
// IMAP4rev2-only server, where nothing was enabled): RFC 6855 lets a
// client use the UTF8 form only once it has enabled UTF8=ACCEPT.
func (c *Client) appendUTF8() bool {
	return c.s.Enabled("UTF8=ACCEPT") && c.s.HasCap("UTF8=ACCEPT")
}
