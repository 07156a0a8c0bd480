package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxQuoted is the longest string, in bytes, that the Encoder sends as
// a quoted string (or an atom) when EncoderOptions.MaxQuoted is 0. Longer
// strings are sent as literals, which keeps command lines well under the
// 8192-octet line length that RFC 7162 section 4 asks servers to accept.
const DefaultMaxQuoted = 1024

// LiteralMinusMax is the largest literal, in bytes, that may be sent as a
// non-synchronizing literal {n+} to a server that announced LITERAL-
// (RFC 7888 section 5). Larger literals are synchronizing.
const LiteralMinusMax = 4096

// EncoderOptions tells the Encoder what the server accepts. A nil
// *EncoderOptions means the zero value: plain IMAP4rev1 with synchronizing
// literals only, 7-bit quoted strings and DefaultMaxQuoted.
type EncoderOptions struct {
	// LiteralPlus: the server has LITERAL+ (RFC 7888); every literal is sent
	// non-synchronizing, {n+} (or ~{n+} for literal8). It wins over
	// LiteralMinus.
	LiteralPlus bool
	// LiteralMinus: the server has LITERAL- (RFC 7888); a literal is
	// non-synchronizing when it holds at most LiteralMinusMax bytes and
	// synchronizing otherwise.
	LiteralMinus bool
	// UTF8: UTF8=ACCEPT is enabled (RFC 6855) or the session is IMAP4rev2
	// (RFC 9051); valid 8-bit UTF-8 may be sent in quoted strings. Invalid
	// UTF-8 is always sent as a literal, and atoms stay 7-bit.
	UTF8 bool
	// MaxQuoted: strings (and astring atoms) longer than this many bytes are
	// sent as literals. 0 means DefaultMaxQuoted (1024); a negative value
	// sends every string, even the empty one, as a literal (Password, String,
	// AString, NString and Mailbox except INBOX).
	MaxQuoted int
}

// Sentinel errors wrapped by *EncodeError. Test them with errors.Is.
var (
	// ErrNotBegun means an Encoder method was called before Begin, or after
	// End without a new Begin.
	ErrNotBegun = errors.New("wire: command not begun")
	// ErrInvalidTag means the tag given to Begin is empty or holds a byte
	// that is not an atom character, or a '+'.
	ErrInvalidTag = errors.New("wire: invalid tag")
	// ErrInvalidAtom means Atom was given an empty string or a byte that may
	// not appear in an atom.
	ErrInvalidAtom = errors.New("wire: invalid atom")
	// ErrNUL means a string argument held a NUL byte. RFC 3501 and RFC 9051
	// allow NUL in no string form except literal8 (RFC 3516); send such data
	// with Literal8 or LiteralReader(..., true) where the command allows it.
	ErrNUL = errors.New("wire: NUL byte in string argument")
	// ErrInvalidRaw means Raw was given CR, LF, NUL, a byte >= 0x80, '{', an
	// unterminated or badly escaped quoted string, or a ')' with no '(' open.
	ErrInvalidRaw = errors.New("wire: invalid raw syntax")
	// ErrInvalidSpecial means Special was given a byte outside its small
	// allowed set.
	ErrInvalidSpecial = errors.New("wire: invalid special character")
	// ErrUnbalancedList means a ')' closed no open '(' or a '(' was still
	// open at End.
	ErrUnbalancedList = errors.New("wire: unbalanced parenthesized list")
	// ErrEmptySeqSet means SeqSet was given no ranges.
	ErrEmptySeqSet = errors.New("wire: empty sequence set")
	// ErrInvalidLiteral means LiteralReader was given a negative size, or a
	// nil reader with a positive size.
	ErrInvalidLiteral = errors.New("wire: invalid literal")
	// ErrInvalidText means Text was given CR, LF or NUL.
	ErrInvalidText = errors.New("wire: CR, LF or NUL in text")
	// ErrFakeLiteral means a command's line ends in bytes that read as a
	// literal header ("{5}", "{5+}") but are no literal's: text (Text,
	// Token) or pieces (Raw, Number) written before End. The server would
	// take the CRLF for the header's and the bytes after it, the next
	// command, for the literal's body.
	ErrFakeLiteral = errors.New("wire: command line ends in a literal header that is no literal's")
	// ErrNoWait means Encoded.WriteTo reached a part that must wait for a
	// continuation request but was given a nil wait function.
	ErrNoWait = errors.New("wire: synchronizing literal needs a wait function")
)

// EncodeError is the error returned by Encoder.End when a method of the
// Encoder rejected its input. It never quotes the rejected value, which may be
// a password; it says which method and argument failed and at which byte.
type EncodeError struct {
	// Op is the Encoder method that failed, e.g. "Atom" or "End".
	Op string
	// Arg is the position of the failing argument in the command: 0 is the
	// tag, 1 the first argument after it, and so on. For structural errors
	// (unbalanced lists, bad specials) it is the position of the last
	// argument written.
	Arg int
	// Offset is the index of the offending byte within the argument, or -1
	// when no single byte is at fault.
	Offset int
	// Err is one of the sentinels, e.g. ErrInvalidAtom or ErrNUL.
	Err error
}

// Error implements error.
func (e *EncodeError) Error() string {
	s := "wire: encode " + e.Op + ", argument " + strconv.Itoa(e.Arg)
	if e.Err != nil {
		s += ": " + strings.TrimPrefix(e.Err.Error(), "wire: ")
	}
	if e.Offset >= 0 {
		s += " at byte " + strconv.Itoa(e.Offset)
	}
	return s
}

// Unwrap returns the sentinel.
func (e *EncodeError) Unwrap() error { return e.Err }

// Part is a piece of an Encoded command that can be sent without waiting
// for the server. A command is split after each synchronizing literal
// header {n}\r\n: the next part has WaitContinuation set and may only be
// sent once the server has answered with a "+" continuation request.
type Part struct {
	// WaitContinuation: the previous part ended with a synchronizing literal
	// header; wait for the server's "+ ..." before sending this part.
	WaitContinuation bool
	// Data is the bytes to send. It is a sub-slice of the Encoder's buffer
	// and is valid until the next call to Begin.
	Data []byte
	// Body, when non-nil, is a streamed literal body: after Data, exactly
	// BodySize bytes are copied from it. The literal header is at the end of
	// Data (or of the previous part, for a synchronizing literal).
	Body io.Reader
	// BodySize is the number of bytes to copy from Body.
	BodySize int64
	// Open, when non-nil, is a literal whose size is learnt when it is
	// sent (Encoder.LiteralFunc): after Data, WriteTo calls it for the
	// body and its size, then writes the literal's header, waits for the
	// continuation request when the literal is synchronizing, and copies
	// exactly that many bytes. Body and BodySize are unused then.
	Open func() (io.Reader, int64, error)

	off     int             // offset of Data in the encoder's buffer, for redaction
	binary  bool            // Open's literal is a literal8
	litOpts *EncoderOptions // the options Open's header follows
}

// Encoded is one encoded command line, split at synchronizing literals. An
// Encoded returned by Encoder.End belongs to the Encoder and is valid until
// the next call to Begin.
type Encoded struct {
	// Tag is the tag given to Begin.
	Tag string
	// Parts are sent in order; see Part.
	Parts []Part

	secrets    []encSpan        // buffer offsets of secret arguments, ascending
	lits       []encSpan        // in-memory literal bodies outside secrets, each with its header's CRLF, ascending
	rawSecrets []string         // their values, for Secrets
	secretBody bool             // a streamed literal was written inside Secret: SecretBody
	lr         io.LimitedReader // WriteTo's body limiter, kept here to avoid allocating
	hdr        [32]byte         // WriteTo's buffer for the header of an Open literal
}

// Secrets returns the values of the command's secret arguments: the
// strings given to Password and PasswordBytes, and what was written inside
// Secret (without surrounding quotes), cut at each literal header
// written there and at each LiteralFunc, which are no secret: an
// in-memory literal's body is listed without its header, a streamed one's
// is not listed (SecretBody tells of it), nor is an empty value (Password
// of "", an empty string or literal inside Secret: replaced by "***" it
// would redact between every two bytes). A client redacts them from
// whatever the server sends back, so that a server echoing a password cannot put it
// in an error or a trace. The slice is valid until the encoder's next
// Begin.
func (c *Encoded) Secrets() []string { return c.rawSecrets }

// SecretBody reports whether a literal whose body is streamed (LiteralReader,
// LiteralFunc) was written inside Secret. Its body is a secret that Secrets
// does not list (the Encoded does not hold it, and the streamed literal's
// header is no secret): a client that zeroes the memory a secret went
// through (the buffers WriteTo writes it to) must do so for such a command
// too, whether or not Secrets is empty. A LiteralReader of size 0 streams
// nothing (its reader is never read) and does not count; a LiteralFunc
// always does (its size is known only as it is sent).
func (c *Encoded) SecretBody() bool { return c.secretBody }

// HasSecret reports whether a secret argument was written: Password or
// PasswordBytes, even of an empty value (which Secrets does not list), or
// anything inside Secret, a streamed literal's body included. A client
// that tells a command written with the Encoder's secret methods from one
// written without them (a raw LOGIN, whose every argument it must then
// take for a credential) asks HasSecret, not whether Secrets is empty.
func (c *Encoded) HasSecret() bool { return len(c.secrets) > 0 || c.secretBody }

// encSpan is a half-open range [start, end) of the encoder's buffer.
type encSpan struct{ start, end int }

// WriteTo writes the command to w. Before each part with WaitContinuation it
// flushes w if w has a Flush() error method (such as *bufio.Writer), then
// calls wait, which must return nil once the server has sent a "+"
// continuation request, or an error (for example because the server answered
// the command with NO or BAD): WriteTo then stops and returns that error
// unchanged, and the command is over. WriteTo does not flush w after the last
// part, so that commands can be pipelined; the caller flushes.
//
// wait may be nil when no part has WaitContinuation; otherwise WriteTo returns
// ErrNoWait. If copying a streamed Body fails or yields fewer than BodySize
// bytes, the server is left in the middle of a literal and the connection
// must be closed; the error wraps io.ErrUnexpectedEOF for a short body.
func (c *Encoded) WriteTo(w io.Writer, wait func() error) (int64, error) {
	return c.WriteToSized(w, wait, nil)
}

// WriteToSized is WriteTo that also calls sized, once, with the number of
// bytes the whole command takes (what WriteTo returns when it succeeds),
// as soon as that number is known and before the last of those bytes is
// written to w: before the first byte, or, for a command with Open
// literals, when the last of them has learnt its size, before its header
// is written. A client that must tell whether a response can be the
// server's answer to the whole command (which it cannot be before the last
// byte has gone out) learns from sized where that last byte lies, before
// the server can possibly answer. When WriteToSized fails before the size
// is known, sized is not called.
func (c *Encoded) WriteToSized(w io.Writer, wait func() error, sized func(total int64)) (int64, error) {
	total, opens := c.knownSize()
	if opens == 0 && sized != nil {
		sized(total)
		sized = nil
	}
	var n int64
	for i := range c.Parts {
		p := &c.Parts[i]
		if p.WaitContinuation {
			if f, ok := w.(interface{ Flush() error }); ok {
				if err := f.Flush(); err != nil {
					return n, err
				}
			}
			if wait == nil {
				return n, ErrNoWait
			}
			if err := wait(); err != nil {
				return n, err
			}
		}
		if len(p.Data) > 0 {
			m, err := w.Write(p.Data)
			n += int64(m)
			if err != nil {
				return n, err
			}
		}
		if p.Open != nil {
			opens--
			var onSize func(int64)
			if sized != nil {
				onSize = func(m int64) {
					if total += m; opens == 0 {
						sized(total)
						sized = nil
					}
				}
			}
			m, err := c.writeOpened(w, p, wait, onSize)
			n += m
			if err != nil {
				return n, err
			}
			continue
		}
		if p.BodySize > 0 {
			if p.Body == nil {
				return n, fmt.Errorf("wire: literal body: %w", ErrInvalidLiteral)
			}
			// io.CopyN without its allocation: the LimitedReader lives in c.
			c.lr = io.LimitedReader{R: p.Body, N: p.BodySize}
			m, err := io.Copy(w, &c.lr)
			c.lr.R = nil
			n += m
			if err == nil && m < p.BodySize {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return n, fmt.Errorf("wire: literal body (%d of %d bytes sent): %w", m, p.BodySize, err)
			}
		}
	}
	return n, nil
}

// knownSize returns the bytes the command takes but for its Open
// literals' headers and bodies, and the number of Open parts.
func (c *Encoded) knownSize() (total int64, opens int) {
	for i := range c.Parts {
		p := &c.Parts[i]
		total += int64(len(p.Data))
		if p.Open != nil {
			opens++
		} else {
			total += p.BodySize
		}
	}
	return total, opens
}

// writeOpened writes the literal of an Open part: its header, as the
// size it learns allows, then its body. onSize, when not nil, learns the
// bytes of header and body before the header is written.
func (c *Encoded) writeOpened(w io.Writer, p *Part, wait func() error, onSize func(int64)) (int64, error) {
	r, size, err := p.Open()
	if err != nil {
		return 0, fmt.Errorf("wire: literal body: %w", err)
	}
	if size < 0 || (r == nil && size > 0) {
		return 0, fmt.Errorf("wire: literal body: %w", ErrInvalidLiteral)
	}
	hdr, sync := appendLiteralHeader(c.hdr[:0], size, p.binary, p.litOpts)
	if onSize != nil {
		onSize(int64(len(hdr)) + size)
	}
	n, err := w.Write(hdr)
	if err != nil {
		return int64(n), err
	}
	if sync {
		if f, ok := w.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return int64(n), err
			}
		}
		if wait == nil {
			return int64(n), ErrNoWait
		}
		if err := wait(); err != nil {
			return int64(n), err
		}
	}
	if size == 0 {
		return int64(n), nil
	}
	c.lr = io.LimitedReader{R: r, N: size}
	m, err := io.Copy(w, &c.lr)
	c.lr.R = nil
	if err == nil && m < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return int64(n) + m, fmt.Errorf("wire: literal body (%d of %d bytes sent): %w", m, size, err)
	}
	return int64(n) + m, nil
}

// AppendRedacted appends a printable trace of the command to dst: the bytes
// that WriteTo sends, except that every secret argument (Password,
// PasswordBytes and whatever was written inside Secret), including a literal's
// header and data, is replaced by "***", and each streamed literal body is
// summarised as "<N bytes>". It does not read the bodies.
func (c *Encoded) AppendRedacted(dst []byte) []byte {
	dst, _ = c.appendTrace(dst, -1, false)
	return dst
}

// AppendSummary appends to dst the command as a trace shows it on one
// line: AppendRedacted's text, except that each literal's body, in memory
// or streamed, is shown as "<N bytes>" after its header and a space
// ("{5}\r\nhello" becomes "{5} <5 bytes>"), and the command's closing
// CRLF is left out. At most max bytes are appended (max < 0: no limit);
// cut reports that more would have followed. It neither reads nor copies
// a literal's body: its cost does not grow with the literals, and with a
// limit the bytes it appends do not grow with the command.
func (c *Encoded) AppendSummary(dst []byte, max int) (_ []byte, cut bool) {
	return c.appendTrace(dst, max, true)
}

// appendTrace is AppendRedacted (summary false: every byte sent but the
// secrets, literal bodies in memory included, and a streamed body as
// "<N bytes>") and AppendSummary (summary true: literal bodies as
// " <N bytes>" in place of their header's CRLF, and no final CRLF), within
// max bytes (max < 0: no limit). Secrets are "***" in both: one loop, so
// that the two cannot come to redact differently.
func (c *Encoded) appendTrace(dst []byte, max int, summary bool) (_ []byte, cut bool) {
	w := summaryWriter{dst: dst, room: max}
	if max < 0 {
		w.room = int(^uint(0) >> 1)
	}
	sizePrefix := "<"
	lits := c.lits[:0] // a redacted trace copies literal bodies as they are
	if summary {
		sizePrefix, lits = " <", c.lits
	}
	si, li := 0, 0
	for i := range c.Parts {
		p := &c.Parts[i]
		data, base := p.Data, p.off
		end := base + len(data)
		streamed := p.streamed()
		// A streamed literal's header ends its part's Data, or, for a
		// synchronizing one, the part before (its own Data is empty):
		// in a summary that CRLF is shown as the space before the
		// body's size. The last part ends with the command's CRLF.
		dropCRLF := summary && (streamed || i == len(c.Parts)-1 ||
			i+1 < len(c.Parts) && len(c.Parts[i+1].Data) == 0 && c.Parts[i+1].streamed())
		if dropCRLF && bytes.HasSuffix(data, []byte("\r\n")) {
			end -= 2
		}
		for pos := base; pos < end && !w.cut; {
			for si < len(c.secrets) && c.secrets[si].end <= pos {
				si++
			}
			for li < len(lits) && lits[li].end <= pos {
				li++
			}
			var sp encSpan
			lit, found := false, false
			if si < len(c.secrets) {
				sp, found = c.secrets[si], true
			}
			if li < len(lits) && (!found || lits[li].start < sp.start) {
				sp, lit, found = lits[li], true, true
			}
			if !found || sp.start >= end {
				w.add(data[pos-base : end-base])
				break
			}
			if sp.start > pos {
				w.add(data[pos-base : sp.start-base])
			}
			if sp.start >= base {
				// The span begins in this part: shown here.
				if lit {
					w.size(sizePrefix, int64(sp.end-sp.start-2))
				} else {
					w.add([]byte("***"))
				}
			}
			pos = min(sp.end, end)
		}
		if p.Open != nil {
			w.add([]byte("{?}<streamed>"))
		} else if streamed {
			w.size(sizePrefix, p.BodySize)
		}
	}
	return w.dst, w.cut
}

// streamed reports whether a literal body is streamed after p's Data
// (LiteralReader).
func (p *Part) streamed() bool { return p.Open == nil && (p.Body != nil || p.BodySize > 0) }

// summaryWriter appends appendTrace's text within room bytes.
type summaryWriter struct {
	dst  []byte
	room int
	cut  bool
}

func (w *summaryWriter) add(b []byte) {
	if w.cut || len(b) == 0 {
		return
	}
	if len(b) > w.room {
		b, w.cut = b[:w.room], true
	}
	w.dst = append(w.dst, b...)
	w.room -= len(b)
}

// size adds a literal's summary, prefix ("<" or " <"), N, " bytes>".
func (w *summaryWriter) size(prefix string, n int64) {
	var buf [32]byte
	b := append(buf[:0], prefix...)
	b = strconv.AppendInt(b, n, 10)
	w.add(append(b, " bytes>"...))
}

// String returns AppendRedacted as a string, so that printing an Encoded with
// the fmt package never shows a password.
func (c *Encoded) String() string {
	return string(c.AppendRedacted(nil))
}

// Encoder builds IMAP command lines (RFC 3501, RFC 9051) by appending to a
// buffer it reuses, so that encoding a command allocates nothing once the
// buffer has grown to size.
//
// Methods chain and never fail on their own: the first invalid input is
// remembered, later calls do nothing, and End reports it as an *EncodeError.
// Invalid input is never sent as-is.
//
// The Encoder, not the caller, chooses how a string is sent. String, AString,
// NString, Mailbox and Password send an atom (AString and Mailbox only), a
// quoted string or a literal as the server's options allow; a string with CR
// or LF is always a literal, so no argument can end the command line or
// start another command. Spaces are explicit: call SP between arguments.
//
// A typical command:
//
//	cmd, err := enc.Begin("A1").SP().Atom("LOGIN").SP().AString(user).SP().Password(pass).End()
//
// The zero Encoder is ready to use with default options. An Encoder is not
// safe for concurrent use.
type Encoder struct {
	opts    EncoderOptions
	buf     []byte
	parts   []Part
	secrets []encSpan
	// lits are the in-memory literal bodies written outside a secret,
	// each with the CRLF of its header, for Encoded.AppendSummary.
	lits []encSpan
	// rawSecrets holds the values of the secret arguments, for
	// Encoded.Secrets.
	rawSecrets []string
	// secretCuts are the spans of buf written inside the current
	// outermost Secret that are no secret, ascending: literal headers,
	// a zero-width span where a LiteralFunc's header will go, and one
	// after an in-memory literal's body (a value of its own).
	// Secret cuts its values there (addRawSecrets), then empties it.
	secretCuts []encSpan
	cmd        Encoded
	err        error
	tag        string
	begun      bool
	depth      int // open '(' count
	arg        int // position of the current argument
	secret     int // Secret nesting depth
	// secretBody: a streamed literal was written inside Secret
	// (Encoded.SecretBody).
	secretBody bool
	// resp: the line is a response (BeginResponse): literals never wait
	// for a continuation.
	resp bool
	// lineFrom is where in buf the bytes after the last literal begin
	// (its body, or its header when the body is streamed): End refuses
	// a command whose bytes from there end in a literal header.
	lineFrom int
	// high is the longest command buf held since the last Reset
	// (recorded by Begin as it starts the next): Reset zeroes up to it,
	// so that an earlier, longer command's bytes (a LOGIN's password)
	// left in the capacity past a shorter one's do not stay.
	high int
}

// NewEncoder returns an Encoder for a server with the given options; nil
// means the zero EncoderOptions.
func NewEncoder(opts *EncoderOptions) *Encoder {
	e := &Encoder{}
	e.SetOptions(opts)
	return e
}

// SetOptions changes the options for the commands that follow, for example
// after ENABLE UTF8=ACCEPT succeeded or after CAPABILITY revealed LITERAL+;
// nil means the zero EncoderOptions. It may be called between commands or in
// the middle of one.
func (e *Encoder) SetOptions(opts *EncoderOptions) {
	if opts == nil {
		e.opts = EncoderOptions{}
		return
	}
	e.opts = *opts
}

// Options returns the options in effect.
func (e *Encoder) Options() EncoderOptions { return e.opts }

// resetKeep is the largest buffer Reset keeps: one grown past it by a
// large command is let go.
const resetKeep = 16 << 10

// Reset forgets the commands encoded since the last Reset, for an Encoder
// kept in a pool or for long: it zeroes their bytes (a password written by
// Password included, that of an earlier command longer than the last one
// too), drops the references to their streamed bodies and secret values,
// invalidates the Encoded returned by End, and lets go of a buffer grown
// past 16 KiB. The options stay.
func (e *Encoder) Reset() {
	clear(e.buf[:max(len(e.buf), e.high)])
	clear(e.parts)
	clear(e.rawSecrets[:cap(e.rawSecrets)]) // Begin truncates it without clearing
	buf := e.buf[:0]
	if cap(buf) > resetKeep {
		buf = nil
	}
	*e = Encoder{opts: e.opts, buf: buf, parts: e.parts[:0], secrets: e.secrets[:0], lits: e.lits[:0], rawSecrets: e.rawSecrets[:0], secretCuts: e.secretCuts[:0]}
}

// setBuf makes b, which appended to e.buf, the buffer: every write to
// e.buf goes through it. When the append outgrew e.buf's array and moved
// to a new one, the old array is zeroed first: it may hold the start of a
// password, or an earlier, longer command's bytes (see high), and would
// otherwise go to the garbage collector as it is. Growth is rare (the
// array is kept from command to command), so is the clear.
func (e *Encoder) setBuf(b []byte) {
	if cap(b) != cap(e.buf) {
		e.outgrown(b)
		return
	}
	e.buf = e.buf[:len(b)] // the same array: only the length changes
}

// outgrown zeroes the array e.buf outgrew, and makes b the buffer.
func (e *Encoder) outgrown(b []byte) {
	clear(e.buf[:cap(e.buf)])
	e.buf = b
}

// zeroMoved is setBuf's check for a site that must stay inlinable (SP,
// BeginList: setBuf's cost would put them over the inliner's budget):
// after old, e.buf before it, was appended to and the result assigned to
// e.buf, it zeroes old's array when the append moved e.buf to a new one.
// The cap comparison tells: an append that reallocates always grows the
// capacity.
func (e *Encoder) zeroMoved(old []byte) {
	if cap(e.buf) != cap(old) {
		clear(old[:cap(old)])
	}
}

// Begin starts a new command: it resets the buffer (keeping its capacity),
// invalidates the Encoded returned by the previous End, clears any error, and
// writes the tag. The tag must be a non-empty string of atom characters
// without '+' (RFC 3501 "tag"); otherwise End reports ErrInvalidTag.
func (e *Encoder) Begin(tag string) *Encoder {
	clear(e.parts) // drop references to streamed bodies
	e.parts = append(e.parts[:0], Part{})
	if len(e.buf) > e.high {
		e.high = len(e.buf) // for Reset: the bytes past the next command's
	}
	e.buf = e.buf[:0]
	e.secrets = e.secrets[:0]
	e.lits = e.lits[:0]
	e.rawSecrets = e.rawSecrets[:0]
	e.secretCuts = e.secretCuts[:0]
	e.cmd = Encoded{}
	e.err = nil
	e.tag = tag
	e.begun = true
	e.depth = 0
	e.arg = 0
	e.secret = 0
	e.secretBody = false
	e.resp = false
	e.lineFrom = 0
	if len(tag) == 0 {
		e.fail("Begin", -1, ErrInvalidTag)
		return e
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; !encAtomChar[c] || c == '+' {
			e.fail("Begin", i, ErrInvalidTag)
			return e
		}
	}
	e.setBuf(append(e.buf, tag...))
	return e
}

// BeginResponse starts a response line, as a server or a proxy writes
// one: tag is "*" (an untagged response), "+" (a continuation request) or
// a command's tag (its completion). Then the methods write the response's
// data as they write arguments (a status response's text with Text). In a
// response a literal's header is always {n} and its body follows at once:
// the line is never split into parts that wait for a continuation.
func (e *Encoder) BeginResponse(tag string) *Encoder {
	if tag == "*" || tag == "+" {
		e.Begin("x")
		e.setBuf(append(e.buf[:0], tag...))
		e.tag = tag
	} else {
		e.Begin(tag)
	}
	e.resp = true
	return e
}

// Text writes s as it is: the text of a status response or a continuation
// request (resp-text), or a base64 SASL challenge. It refuses
// (ErrInvalidText) CR, LF and NUL, so that Text can neither end the line
// nor smuggle a second one.
func (e *Encoder) Text(s string) *Encoder {
	if !e.next("Text") {
		return e
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			e.fail("Text", i, ErrInvalidText)
			return e
		}
	}
	e.setBuf(append(e.buf, s...))
	return e
}

// Token writes tok back in its original form (see AppendToken), for a
// proxy or a test that rewrites a line token by token. A KindLiteral token
// writes its header and, when it holds one (AppendLine's), its body; in a
// command a synchronizing header ends the Part as Literal's does. A
// KindCRLF token is refused (ErrInvalidRaw): End ends the line.
func (e *Encoder) Token(tok Token) *Encoder {
	if !e.next("Token") {
		return e
	}
	switch tok.Kind {
	case KindCRLF, KindInvalid:
		e.fail("Token", 0, ErrInvalidRaw)
		return e
	case KindText:
		for i, c := range tok.b {
			if c == '\r' || c == '\n' || c == 0 {
				e.fail("Token", i, ErrInvalidText)
				return e
			}
		}
	case KindLiteral:
		info := tok.Literal()
		e.setBuf(AppendToken(e.buf, Token{Kind: KindLiteral, Num: tok.Num, flags: tok.flags}))
		if !e.resp && !info.NonSync {
			e.parts = append(e.parts, Part{WaitContinuation: true, off: len(e.buf)})
		}
		e.setBuf(append(e.buf, tok.b...))
		e.lineFrom = len(e.buf)
		return e
	case KindLParen:
		e.depth++
	case KindRParen:
		if e.depth == 0 {
			e.fail("Token", 0, ErrUnbalancedList)
			return e
		}
		e.depth--
	}
	e.setBuf(AppendToken(e.buf, tok))
	return e
}

// End appends the final CRLF and returns the command, or the first error any
// method met since Begin (an *EncodeError), including ErrUnbalancedList when
// a '(' is still open. The Encoded belongs to the Encoder and is valid until
// the next call to Begin. After End, Begin must be called again.
func (e *Encoder) End() (*Encoded, error) {
	if e.err == nil {
		if !e.begun {
			e.fail("End", -1, ErrNotBegun)
		} else if e.depth != 0 {
			e.fail("End", -1, ErrUnbalancedList)
		}
	}
	if e.err == nil && !e.resp {
		// The line after the last literal ends like a literal header
		// (literalSuffix, as a server's tokenizer reads it): the offset
		// is its '{'.
		if line := e.buf[e.lineFrom:]; len(line) > 0 {
			if _, ok := literalSuffix(line); ok {
				e.fail("End", e.lineFrom+bytes.LastIndexByte(line, '{'), ErrFakeLiteral)
			}
		}
	}
	e.begun = false
	if e.err != nil {
		return nil, e.err
	}
	e.setBuf(append(e.buf, '\r', '\n'))
	for i := range e.parts {
		end := len(e.buf)
		if i+1 < len(e.parts) {
			end = e.parts[i+1].off
		}
		e.parts[i].Data = e.buf[e.parts[i].off:end:end]
	}
	e.cmd = Encoded{Tag: e.tag, Parts: e.parts, secrets: e.secrets, lits: e.lits, rawSecrets: e.rawSecrets, secretBody: e.secretBody}
	return &e.cmd, nil
}

// Err returns the first error met since Begin, if any, without ending the
// command.
func (e *Encoder) Err() error { return e.err }

// Fail records err as the Encoder's error, unless it has one already, for
// a caller that finds an argument it cannot write (a layer above that
// checks its own arguments): nothing more is written, and End returns it
// in an *EncodeError naming op, so that the command is not sent.
func (e *Encoder) Fail(op string, err error) *Encoder {
	e.fail(op, -1, err)
	return e
}

// fail records the first error.
func (e *Encoder) fail(op string, off int, err error) {
	if e.err == nil {
		e.err = &EncodeError{Op: op, Arg: e.arg, Offset: off, Err: err}
	}
}

// ok reports whether a structural method may write.
func (e *Encoder) ok(op string) bool {
	if e.err != nil {
		return false
	}
	if !e.begun {
		e.fail(op, -1, ErrNotBegun)
		return false
	}
	return true
}

// next starts a new argument and reports whether it may be written.
func (e *Encoder) next(op string) bool {
	if !e.ok(op) {
		return false
	}
	e.arg++
	return true
}

// SP writes one space.
func (e *Encoder) SP() *Encoder {
	if e.ok("SP") {
		old := e.buf
		e.buf = append(e.buf, ' ') // plain, so that SP stays inlinable
		e.zeroMoved(old)
	}
	return e
}

// Atom writes s as an atom: a command name ("UID", "FETCH"), a keyword, a
// fetch attribute ("BODY.PEEK", "RFC822.SIZE") or a flag ("\Seen", "$Junk").
// s must be non-empty and made of atom characters (RFC 3501: any 7-bit
// printable except SP ( ) { % * " \ ]), except that a flag may start with one
// '\' followed by at least one atom character. Anything else is an error,
// ErrInvalidAtom: an atom is never quoted or sent as-is.
func (e *Encoder) Atom(s string) *Encoder {
	if !e.next("Atom") {
		return e
	}
	if off := encBadAtom(s); off != -1 {
		e.fail("Atom", off, ErrInvalidAtom)
		return e
	}
	e.setBuf(append(e.buf, s...))
	return e
}

// Number writes n in decimal.
func (e *Encoder) Number(n uint64) *Encoder {
	if e.next("Number") {
		e.setBuf(strconv.AppendUint(e.buf, n, 10))
	}
	return e
}

// String writes s as an IMAP "string": a quoted string when s is at most
// MaxQuoted bytes of 7-bit text (or valid UTF-8 with the UTF8 option) without
// CR or LF, otherwise a literal. In a quoted string only '\' and '"' are
// escaped. A NUL byte is an error, ErrNUL.
func (e *Encoder) String(s string) *Encoder {
	return encString(e, "String", s, false, false)
}

// StringBytes is String for a byte slice.
func (e *Encoder) StringBytes(b []byte) *Encoder {
	return encString(e, "StringBytes", b, false, false)
}

// AString writes s as an IMAP "astring": an atom when s is a non-empty atom
// (']' is not used in astring atoms, for the sake of lenient servers) of at
// most MaxQuoted bytes and not "NIL" in any case, else as String does. The
// empty string is sent as "".
func (e *Encoder) AString(s string) *Encoder {
	return encString(e, "AString", s, true, false)
}

// AStringBytes is AString for a byte slice.
func (e *Encoder) AStringBytes(b []byte) *Encoder {
	return encString(e, "AStringBytes", b, true, false)
}

// NString writes NIL when s is nil, else *s as String does.
func (e *Encoder) NString(s *string) *Encoder {
	if s == nil {
		if e.next("NString") {
			e.setBuf(append(e.buf, "NIL"...))
		}
		return e
	}
	return encString(e, "NString", *s, false, false)
}

// Mailbox writes a mailbox name as an astring, except that "INBOX" in any
// case is sent as INBOX (RFC 3501 section 5.1). The caller has already
// encoded the name in modified UTF-7 where needed (package codec does that);
// with the UTF8 option the name may be UTF-8.
func (e *Encoder) Mailbox(name string) *Encoder {
	if len(name) == 5 && strings.EqualFold(name, "INBOX") {
		if e.next("Mailbox") {
			e.setBuf(append(e.buf, "INBOX"...))
		}
		return e
	}
	return encString(e, "Mailbox", name, true, false)
}

// Password writes s as a quoted string or a literal, never as an atom (like
// Python's imaplib for LOGIN), and marks it secret: Encoded.AppendRedacted
// shows it as "***". A NUL byte is an error, ErrNUL.
func (e *Encoder) Password(s string) *Encoder {
	return encString(e, "Password", s, false, true)
}

// PasswordBytes is Password for a byte slice, so that the caller can wipe it
// afterwards (the Encoder's buffer keeps a copy until it is overwritten).
func (e *Encoder) PasswordBytes(b []byte) *Encoder {
	return encString(e, "PasswordBytes", b, false, true)
}

// Secret calls f and marks everything f writes as secret, so that
// Encoded.AppendRedacted replaces it by "***" (for example a SASL initial
// response in AUTHENTICATE). Nested secrets are part of the outer one.
// What f writes is listed by Encoded.Secrets, cut at every literal header
// (which is no secret) and at every LiteralFunc: the values either side
// are listed apart, an in-memory literal's body as one, without its
// header. The bodies of streamed literals (LiteralReader, LiteralFunc),
// which the Encoder never holds, make Encoded.SecretBody report true.
func (e *Encoder) Secret(f func(e *Encoder)) *Encoder {
	start := len(e.buf)
	e.secret++
	f(e)
	e.secret--
	if e.secret == 0 {
		if e.err == nil {
			e.markSecret(start)
			e.addRawSecrets(start)
		}
		e.secretCuts = e.secretCuts[:0]
	}
	return e
}

// cutSecret records buf[start:] (a literal header just written, or an
// empty span for a LiteralFunc or after a literal's body) as no part of
// the secret values around it, when inside Secret; outside it costs a
// comparison.
func (e *Encoder) cutSecret(start int) {
	if e.secret > 0 {
		e.secretCuts = append(e.secretCuts, encSpan{start, len(e.buf)})
	}
}

// addRawSecrets records for Encoded.Secrets what Secret wrote from
// e.buf[start:], cut at the spans secretCuts holds: a literal header
// ("{5+}") is no secret, and a client redacting it from what the server
// sends would hide a literal's size for nothing, and miss a value listed
// with it ("{6+}\r\npass") or merged with the next ("tok1  tok2", a
// LiteralFunc between them) when the server echoes the value alone.
func (e *Encoder) addRawSecrets(start int) {
	from := start
	for _, c := range e.secretCuts { // all inside: emptied at each Secret's end
		e.addRawSecret(e.buf[from:c.start])
		from = c.end
	}
	e.addRawSecret(e.buf[from:])
}

// addRawSecret records raw, without surrounding spaces and quotes, for
// Encoded.Secrets.
// An empty value ("" written inside Secret) is not listed: a client
// replacing each listed value by "***" would put one between every two
// bytes of what it redacts.
func (e *Encoder) addRawSecret(raw []byte) {
	raw = bytes.TrimSpace(raw)
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if len(raw) > 0 {
		e.rawSecrets = append(e.rawSecrets, string(raw))
	}
}

// markSecret records buf[start:] as secret unless an outer Secret covers it.
func (e *Encoder) markSecret(start int) {
	if e.secret == 0 && len(e.buf) > start {
		e.secrets = append(e.secrets, encSpan{start, len(e.buf)})
	}
}

// Literal writes b as a literal, whatever it holds, with a synchronizing or
// non-synchronizing header as the options allow. Literal does not check b:
// RFC 3501 forbids NUL in a literal, and a caller that must send NUL should
// use Literal8 where the command allows literal8. A synchronizing literal ends
// the current Part.
func (e *Encoder) Literal(b []byte) *Encoder {
	if e.next("Literal") {
		e.literalHeader(int64(len(b)), false)
		appendLiteralBody(e, b, false)
	}
	return e
}

// Literal8 writes b as a literal8, ~{n} or ~{n+} (RFC 3516 BINARY, RFC 9051),
// which may hold any byte including NUL. Only some commands accept it (APPEND
// to a server with BINARY or IMAP4rev2).
func (e *Encoder) Literal8(b []byte) *Encoder {
	if e.next("Literal8") {
		e.literalHeader(int64(len(b)), true)
		appendLiteralBody(e, b, false)
	}
	return e
}

// LiteralReader writes the header of a literal of size bytes, {n} (or literal8
// ~{n} when binary is true, which may hold NUL), whose body is streamed: the
// Encoder does not read r but hands it to the Encoded (Part.Body), and
// Encoded.WriteTo copies exactly size bytes from it. The rest of the command
// goes into a new Part. A size of 0 sends an empty literal and never touches
// r. A negative size, or a nil r with a positive size, is ErrInvalidLiteral.
func (e *Encoder) LiteralReader(size int64, r io.Reader, binary bool) *Encoder {
	if !e.next("LiteralReader") {
		return e
	}
	if size < 0 || (r == nil && size > 0) {
		e.fail("LiteralReader", -1, ErrInvalidLiteral)
		return e
	}
	e.literalHeader(size, binary)
	e.lineFrom = len(e.buf)
	if size > 0 {
		e.secretBody = e.secretBody || e.secret > 0
		p := &e.parts[len(e.parts)-1]
		p.Body, p.BodySize = r, size
		e.parts = append(e.parts, Part{off: len(e.buf)})
	}
	return e
}

// LiteralFunc writes a streamed literal whose size is learnt only when the
// command is sent: Encoded.WriteTo calls open when the literal's turn comes,
// for the body and its size, then writes the header ({n}, {n+}, or
// literal8's ~{n} when binary is true) as the options allow for that size,
// waits for the continuation request when the literal is synchronizing, and
// copies exactly size bytes from the body. So a command of several literals
// (a MULTIAPPEND, RFC 3502) can stream bodies whose sizes become known one
// at a time, each as the one before it has gone. An error from open, or a
// negative size, stops WriteTo in the middle of the command: the connection
// must then be closed. The rest of the command goes into a new Part. A nil
// open is ErrInvalidLiteral.
func (e *Encoder) LiteralFunc(open func() (io.Reader, int64, error), binary bool) *Encoder {
	if !e.next("LiteralFunc") {
		return e
	}
	if open == nil {
		e.fail("LiteralFunc", -1, ErrInvalidLiteral)
		return e
	}
	opts := e.opts
	p := &e.parts[len(e.parts)-1]
	p.Open, p.binary, p.litOpts = open, binary, &opts
	e.secretBody = e.secretBody || e.secret > 0
	e.cutSecret(len(e.buf)) // its header, rendered by WriteTo, goes here
	e.parts = append(e.parts, Part{off: len(e.buf)})
	e.lineFrom = len(e.buf)
	return e
}

// appendLiteralBody writes b, the body of the literal whose header was
// just written, and records it (with the header's CRLF) for
// Encoded.AppendSummary, unless it is secret: a secret is shown as "***"
// whole.
func appendLiteralBody[T encBytes](e *Encoder, b T, secret bool) {
	start := len(e.buf) - 2 // the header's CRLF
	e.setBuf(append(e.buf, b...))
	e.lineFrom = len(e.buf)
	e.cutSecret(len(e.buf)) // inside Secret, the body is a value of its own
	if !secret && e.secret == 0 {
		e.lits = append(e.lits, encSpan{start, len(e.buf)})
	}
}

// literalHeader writes {n}\r\n, {n+}\r\n, ~{n}\r\n or ~{n+}\r\n; after a
// synchronizing header it starts a Part that waits for a continuation.
func (e *Encoder) literalHeader(n int64, binary bool) {
	start := len(e.buf)
	if e.resp {
		b, _ := appendLiteralHeader(e.buf, n, binary, nil)
		e.setBuf(b)
		e.cutSecret(start)
		return
	}
	b, sync := appendLiteralHeader(e.buf, n, binary, &e.opts)
	e.setBuf(b)
	e.cutSecret(start)
	if sync {
		e.parts = append(e.parts, Part{WaitContinuation: true, off: len(e.buf)})
	}
}

// BeginList writes '(' and opens a parenthesized list; EndList closes it.
func (e *Encoder) BeginList() *Encoder {
	if e.ok("BeginList") {
		old := e.buf
		e.buf = append(e.buf, '(') // plain, so that BeginList stays inlinable
		e.zeroMoved(old)
		e.depth++
	}
	return e
}

// EndList writes ')' closing the innermost open list; with no list open it is
// an error, ErrUnbalancedList.
func (e *Encoder) EndList() *Encoder {
	if !e.ok("EndList") {
		return e
	}
	if e.depth == 0 {
		e.fail("EndList", -1, ErrUnbalancedList)
		return e
	}
	e.setBuf(append(e.buf, ')'))
	e.depth--
	return e
}

// List writes a parenthesized list: '(', whatever f writes, ')'. Items are
// separated by explicit SP calls inside f.
func (e *Encoder) List(f func(e *Encoder)) *Encoder {
	e.BeginList()
	f(e)
	return e.EndList()
}

// Special writes one syntax character: one of ( ) [ ] < > . * + % \ . '(' and
// ')' open and close a list as BeginList and EndList do. Any other byte is an
// error, ErrInvalidSpecial.
func (e *Encoder) Special(c byte) *Encoder {
	switch c {
	case '(':
		return e.BeginList()
	case ')':
		return e.EndList()
	case '[', ']', '<', '>', '.', '*', '+', '%', '\\':
		if e.ok("Special") {
			e.setBuf(append(e.buf, c))
		}
	default:
		if e.ok("Special") {
			e.fail("Special", 0, ErrInvalidSpecial)
		}
	}
	return e
}

// Raw writes caller-supplied syntax such as "BODY.PEEK[HEADER.FIELDS
// (FROM)]<0.100>" as-is. It rejects (ErrInvalidRaw) CR, LF, NUL, bytes >=
// 0x80 and '{' (so that Raw can neither end the line nor fake a literal
// header), quoted strings that are not terminated or escape anything but '\'
// and '"', and a ')' with no '(' open; parentheses outside quoted strings
// count towards the list balance that End checks.
func (e *Encoder) Raw(s string) *Encoder {
	if !e.next("Raw") {
		return e
	}
	depth, quoted := e.depth, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || c == '\r' || c == '\n' || c >= 0x80 || c == '{' {
			e.fail("Raw", i, ErrInvalidRaw)
			return e
		}
		if quoted {
			switch c {
			case '"':
				quoted = false
			case '\\':
				if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
					e.fail("Raw", i, ErrInvalidRaw)
					return e
				}
				i++
			}
			continue
		}
		switch c {
		case '"':
			quoted = true
		case '(':
			depth++
		case ')':
			if depth == 0 {
				e.fail("Raw", i, ErrInvalidRaw)
				return e
			}
			depth--
		}
	}
	if quoted {
		e.fail("Raw", len(s)-1, ErrInvalidRaw)
		return e
	}
	e.depth = depth
	e.setBuf(append(e.buf, s...))
	return e
}

// SeqSet writes a sequence set such as "1:5,7,9:*" (see SeqRange and
// AppendSeqSet). An empty set is an error, ErrEmptySeqSet.
func (e *Encoder) SeqSet(set []SeqRange) *Encoder {
	if !e.next("SeqSet") {
		return e
	}
	if len(set) == 0 {
		e.fail("SeqSet", -1, ErrEmptySeqSet)
		return e
	}
	e.setBuf(AppendSeqSet(e.buf, set))
	return e
}

// encBytes is a string or a byte slice.
type encBytes interface{ ~string | ~[]byte }

// Form is the form in which a string is written: an atom, a quoted string
// or a literal. StringForm picks it.
type Form uint8

// String forms.
const (
	FormAtom    Form = iota + 1 // as is: a non-empty run of atom characters
	FormQuoted                  // "...", with \ and " escaped
	FormLiteral                 // {n} CRLF followed by the n bytes
)

var formNames = [...]string{"", "atom", "quoted", "literal"}

// String returns "atom", "quoted" or "literal".
func (f Form) String() string {
	if int(f) < len(formNames) && f != 0 {
		return formNames[f]
	}
	return "?"
}

// StringForm returns the form in which s is written under opts (nil means
// the zero EncoderOptions). It is the one string-form policy of the
// module: the Encoder's String, AString, NString, Mailbox and Password
// methods follow it, and so does package codec when it writes responses.
// With astring set (an IMAP astring, such as a mailbox name) s may be an
// atom. The rules, in order:
//
//   - FormLiteral when s holds CR, LF or NUL, when it is longer than
//     MaxQuoted bytes (0 means DefaultMaxQuoted; a negative MaxQuoted makes
//     every string a literal), or when it holds a byte >= 0x80 and either
//     opts.UTF8 is off or s is not valid UTF-8;
//   - FormAtom when astring is set and s is a non-empty run of atom
//     characters (7-bit printable, none of ( ) { SP % * " \ ]) other than
//     NIL in any case;
//   - FormQuoted otherwise.
//
// A string with NUL can only be sent as literal8 (RFC 3516): the Encoder
// refuses it with ErrNUL, while AppendString writes it as a literal.
func StringForm[T ~string | ~[]byte](s T, astring bool, opts *EncoderOptions) Form {
	form, _ := encClassify(s, opts.maxQuoted(), opts != nil && opts.UTF8, astring)
	return form
}

// AppendString appends s to dst in the form StringForm picks: an atom as
// is, a quoted string with \ and " escaped, or a literal: the header {n}
// CRLF ({n+} when opts allow a non-synchronizing literal, as the Encoder
// decides) and the bytes of s. The caller of a synchronizing literal must
// wait for the peer's continuation request before sending the rest; a
// server writing responses sends {n} and goes on.
func AppendString[T ~string | ~[]byte](dst []byte, s T, astring bool, opts *EncoderOptions) []byte {
	switch StringForm(s, astring, opts) {
	case FormAtom:
		return append(dst, s...)
	case FormQuoted:
		return appendQuoted(growQuoted(dst, s), s)
	}
	dst, _ = appendLiteralHeader(dst, int64(len(s)), false, opts)
	return append(dst, s...)
}

// growQuoted returns dst with room for s quoted, grown at most once, to
// the exact size, when it is short of the worst case (every byte escaped):
// appendQuoted appends byte by byte, and would otherwise move dst to a new
// array several times for a long s, each left to the collector holding
// the bytes so far (a password's start; the Encoder's setBuf zeroes only
// the first: TestQuotedGrowsBufferOnce, TestAppendStringGrowsOnce).
func growQuoted[T encBytes](dst []byte, s T) []byte {
	if cap(dst)-len(dst) >= 2*len(s)+2 {
		return dst
	}
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			n++
		}
	}
	return slices.Grow(dst, n)
}

// appendQuoted appends s as a quoted string, escaping \ and ".
func appendQuoted[T encBytes](dst []byte, s T) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\', c)
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendLiteralHeader appends {n}\r\n, {n+}\r\n, ~{n}\r\n or ~{n+}\r\n as
// opts allow, and reports whether the literal is synchronizing.
func appendLiteralHeader(dst []byte, n int64, binary bool, opts *EncoderOptions) ([]byte, bool) {
	if binary {
		dst = append(dst, '~')
	}
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, n, 10)
	sync := opts == nil || !opts.LiteralPlus && !(opts.LiteralMinus && n <= LiteralMinusMax)
	if !sync {
		dst = append(dst, '+')
	}
	return append(dst, '}', '\r', '\n'), sync
}

// encString writes one string argument in the form StringForm picks.
func encString[T encBytes](e *Encoder, op string, s T, atomOK, secret bool) *Encoder {
	if !e.next(op) {
		return e
	}
	form, nul := encClassify(s, e.maxQuoted(), e.opts.UTF8, atomOK)
	if nul >= 0 {
		e.fail(op, nul, ErrNUL)
		return e
	}
	start := len(e.buf)
	switch form {
	case FormAtom:
		e.setBuf(append(e.buf, s...))
	case FormQuoted:
		// Grown at most once, for the worst case (every byte escaped):
		// appendQuoted appends byte by byte, and an array it outgrew in
		// the middle of a value (a password) would go unzeroed, setBuf
		// seeing only the first and the last (TestQuotedGrowsBufferOnce).
		if cap(e.buf)-len(e.buf) < 2*len(s)+2 {
			e.setBuf(growQuoted(e.buf, s))
		}
		e.setBuf(appendQuoted(e.buf, s))
	default:
		e.literalHeader(int64(len(s)), false)
		appendLiteralBody(e, s, secret)
	}
	if secret {
		e.markSecret(start)
		if e.secret == 0 && len(s) > 0 { // an empty one is not listed (addRawSecret)
			e.rawSecrets = append(e.rawSecrets, string(s))
		}
	}
	return e
}

// maxQuoted returns the effective MaxQuoted (-1 when every string is a
// literal).
func (e *Encoder) maxQuoted() int { return e.opts.maxQuoted() }

// maxQuoted returns the effective MaxQuoted of o (-1 when every string is
// a literal); a nil o has the default.
func (o *EncoderOptions) maxQuoted() int {
	m := 0
	if o != nil {
		m = o.MaxQuoted
	}
	switch {
	case m == 0:
		return DefaultMaxQuoted
	case m < 0:
		return -1
	default:
		return m
	}
}

// encClassify picks the form of s; nul is the index of the first NUL byte, or
// -1.
func encClassify[T encBytes](s T, maxQuoted int, utf8OK, atomOK bool) (form Form, nul int) {
	atom := atomOK && len(s) > 0
	crlf, eight := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			return FormLiteral, i
		case c == '\r' || c == '\n':
			crlf = true
		case c >= 0x80:
			eight = true
		}
		if !encAtomChar[c] {
			atom = false
		}
	}
	if crlf || len(s) > maxQuoted {
		return FormLiteral, -1
	}
	if eight && (!utf8OK || !encValidUTF8(s)) {
		return FormLiteral, -1
	}
	if atom && !encIsNIL(s) {
		return FormAtom, -1
	}
	return FormQuoted, -1
}

// encIsNIL reports whether s is "NIL" in any case.
func encIsNIL[T encBytes](s T) bool {
	return len(s) == 3 && s[0]|0x20 == 'n' && s[1]|0x20 == 'i' && s[2]|0x20 == 'l'
}

// BadAtom returns -1 when Encoder.Atom would write s (an atom, after an
// optional backslash, as flags have), else the index of the first byte
// that keeps it from being one (len(s) when s is empty or a lone '\').
// A client checks its arguments with it before a command is encoded.
func BadAtom(s string) int { return encBadAtom(s) }

// encBadAtom is BadAtom.
func encBadAtom(s string) int {
	i := 0
	if len(s) > 0 && s[0] == '\\' {
		i = 1
	}
	if i == len(s) {
		return i
	}
	for ; i < len(s); i++ {
		if !encAtomChar[s[i]] {
			return i
		}
	}
	return -1
}

// encAtomChar reports the ATOM-CHARs of RFC 3501: CHAR except atom-specials,
// that is 0x21-0x7e except ( ) { % * " \ ].
var encAtomChar = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`(){%*"\]`, rune(c))
	}
	return t
}()

// encValidUTF8 is utf8.Valid for both strings and byte slices, without
// converting (and so without allocating).
func encValidUTF8[T encBytes](s T) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			i++
			continue
		}
		var n int
		lo, hi := byte(0x80), byte(0xbf) // range of the second byte
		switch {
		case c >= 0xc2 && c <= 0xdf:
			n = 2
		case c == 0xe0:
			n, lo = 3, 0xa0 // no overlong forms
		case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
			n = 3
		case c == 0xed:
			n, hi = 3, 0x9f // no surrogates
		case c == 0xf0:
			n, lo = 4, 0x90 // no overlong forms
		case c >= 0xf1 && c <= 0xf3:
			n = 4
		case c == 0xf4:
			n, hi = 4, 0x8f // nothing above U+10FFFF
		default:
			return false
		}
		if i+n > len(s) || s[i+1] < lo || s[i+1] > hi {
			return false
		}
		for k := 2; k < n; k++ {
			if s[i+k] < 0x80 || s[i+k] > 0xbf {
				return false
			}
		}
		i += n
	}
	return true
}
