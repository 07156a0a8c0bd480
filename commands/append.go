package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// may hold NUL and raw 8-bit content.
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
// server sent none.
type AppendResult struct {
	UIDValidity uint32
	UID         uint32
}

// Append appends a message of size bytes read from r to mailbox. The
// message is streamed: it is never held whole in memory. The literal is
// non-synchronizing when the server's LITERAL+ or LITERAL- allows it; with
// UTF8=ACCEPT enabled it is sent in the UTF8 form of RFC 6855. Bare CR or
// LF are sent as they are (see NormalizeCRLF for imaplib's conversion).
// Reading fewer than size bytes from r aborts the session: the server is
// in the middle of the literal.
func (c *Client) Append(ctx context.Context, mailbox string, r io.Reader, size int64, opts *AppendOptions) (*AppendResult, error) {
	r, size, o, err := c.prepareAppend(r, size, opts)
	if err != nil {
		return nil, err
	}
	res, err := c.run(ctx, c.target(&session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		c.appendMessage(c.mailbox(e, mailbox), r, size, &o)
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	return appendResult(res), nil
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
	if err := checkFlags(o.Flags); err != nil {
		return nil, 0, o, err
	}
	if o.Binary && !c.hasCap("BINARY") {
		return nil, 0, o, fmt.Errorf("%w: BINARY", ErrUnsupported)
	}
	if o.NormalizeCRLF {
		var err error
		if r, size, err = normalizedReader(r, size); err != nil {
			return nil, 0, o, err
		}
		o.NormalizeCRLF = false
	}
	return r, size, o, nil
}

// appendMessage writes what follows the mailbox in APPEND and REPLACE:
// flags, date and the message (after a space each).
func (c *Client) appendMessage(e *wire.Encoder, r io.Reader, size int64, o *AppendOptions) {
	o.encode(e)
	e.SP()
	if c.utf8() && c.s.HasCap("UTF8=ACCEPT") {
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
	// arrives. An error from Open aborts the session: the server is in
	// the middle of the command.
	Open    func() (io.Reader, int64, error)
	Options *AppendOptions
}

// AppendManyResult is the APPENDUID of a MULTIAPPEND: the UIDs of the
// messages in order.
type AppendManyResult struct {
	UIDValidity uint32
	UIDs        codec.SeqSet
}

// AppendMany appends several messages to mailbox in one APPEND command
// (MULTIAPPEND, RFC 3502): all or none are added. Each message is streamed;
// one with Open set is opened only when its turn comes, so its size need
// not be known when the command starts. It returns ErrUnsupported when the
// server lacks MULTIAPPEND.
func (c *Client) AppendMany(ctx context.Context, mailbox string, msgs []AppendMessage) (*AppendManyResult, error) {
	if !c.hasCap("MULTIAPPEND") {
		return nil, fmt.Errorf("%w: MULTIAPPEND", ErrUnsupported)
	}
	if len(msgs) == 0 {
		return nil, errors.New("commands: AppendMany without messages")
	}
	utf8Form := c.utf8() && c.s.HasCap("UTF8=ACCEPT")
	msgs = slices.Clone(msgs) // the normalised readers replace the caller's
	for i := range msgs {
		m := &msgs[i]
		if m.Options != nil && m.Options.NormalizeCRLF {
			// As Append does (prepareAppend); a message opened when its
			// turn comes is normalised then.
			if open := m.Open; open != nil {
				m.Open = func() (io.Reader, int64, error) {
					r, n, err := open()
					if err != nil {
						return nil, 0, err
					}
					if n < 0 {
						return nil, 0, errors.New("commands: negative message size")
					}
					return normalizedReader(r, n)
				}
			} else if m.Size >= 0 {
				r, n, err := normalizedReader(m.R, m.Size)
				if err != nil {
					return nil, err
				}
				m.R, m.Size = r, n
			}
		}
		if m.Open == nil && m.Size < 0 {
			return nil, errors.New("commands: negative message size")
		}
		if m.Options != nil && m.Options.Binary && !c.hasCap("BINARY") {
			return nil, fmt.Errorf("%w: BINARY", ErrUnsupported)
		}
		if m.Options != nil {
			if err := checkFlags(m.Options.Flags); err != nil {
				return nil, err
			}
		}
	}
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
		out.UIDValidity = st.Code.UIDValidity
		out.UIDs = st.Code.Dst.Clone()
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
	var o AppendOptions
	if opts != nil {
		o = *opts
	}
	if err := checkFlags(o.Flags); err != nil {
		return nil, err
	}
	for _, p := range parts {
		if (p.URL == "") == (p.R == nil) || p.Size < 0 {
			return nil, errors.New("commands: a CATENATE part is a URL or a reader with its size")
		}
	}
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
					e.Atom("TEXT").SP().LiteralReader(p.Size, p.R, false)
				}
			}
		})
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	return appendResult(res), nil
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
			out.UIDValidity = st.Code.UIDValidity
			if rg := st.Code.Dst.Ranges(); len(rg) > 0 {
				out.UID = rg[0].Start
			}
			break
		}
	}
	return out
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
