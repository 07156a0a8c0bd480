package codec

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/imapkit/imapkit/wire"
)

// DecodeError reports a response that could not be decoded. The decoder
// skipped the rest of that response's line, so the stream stays in step and
// the next call to Next reads the next response.
type DecodeError struct {
	Offset int64  // stream offset where the response began
	Name   string // the response name when known, e.g. "FETCH"
	// Tag is the tag of a tagged response ("" for untagged ones), so
	// that a client can end the command whose status it could not read.
	Tag string
	// TagComplete reports that Tag was followed by the space that ends
	// a tag: Tag is the whole tag the server sent ("Z9 " gives "Z9",
	// complete). When false, a non-empty Tag may be only the start of a
	// tag the decoder could not read: "A%1 OK" gives Tag "A" (a tag
	// stops at the "%", as at any byte that is no ASTRING-CHAR), "A1\r\n"
	// gives "A1", both incomplete. "a]1 OK" gives "a]1", complete: ']'
	// is an ASTRING-CHAR, and so part of a tag (RFC 9051).
	TagComplete bool
	// Seq is a FETCH response's message number ("* 12 FETCH"), and UID
	// its UID when the response gave it before the failure; both 0
	// otherwise. They say which message the failure lost.
	Seq, UID uint32
	Err      error // the cause: a *wire.SyntaxError, a *wire.LimitError, ...
}

// Error implements error.
func (e *DecodeError) Error() string {
	name := e.Name
	if name == "" {
		name = "response"
	}
	return fmt.Sprintf("codec: cannot decode %s%s at offset %d: %v", name, e.message(), e.Offset, e.Err)
}

// message says which message a FETCH's failure lost, or "".
func (e *DecodeError) message() string {
	switch {
	case e.Seq == 0:
		return ""
	case e.UID == 0:
		return fmt.Sprintf(" of message %d", e.Seq)
	}
	return fmt.Sprintf(" of message %d (UID %d)", e.Seq, e.UID)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// errSyntax is a codec-level syntax error (the tokenizer reports its own).
type errSyntax string

func (e errSyntax) Error() string { return "codec: " + string(e) }

// flyweights holds one reusable value of each response type.
type flyweights struct {
	status     Status
	code       Code
	cont       Continuation
	caps       Capability
	enabled    Enabled
	flags      Flags
	exists     Exists
	recent     Recent
	expunge    Expunge
	fetch      Fetch
	list       List
	mstatus    MailboxStatus
	search     Search
	esearch    ESearch
	sort       Sort
	thread     Thread
	namespace  Namespace
	quota      Quota
	quotaRoot  QuotaRoot
	acl        ACL
	listRights ListRights
	myRights   MyRights
	annotation Annotation
	metadata   Metadata
	id         ID
	vanished   Vanished
	unknown    Unknown
}

// Next reads and decodes one response. The response and everything it
// holds are valid until the next call to Next.
//
// A response that cannot be skipped within the tokenizer's limits (a line
// that goes on past MaxLineLength, a literal over MaxLiteral) gives a
// *DecodeError matching wire.ErrOutOfStep: the stream is lost and every
// later call fails; close the connection.
//
// Errors: an error from the underlying reader (a deadline, say) is
// returned as it is; Next can then be called again and resumes the same
// response, unless a body section had already been streamed, in which case
// the response is abandoned (the error is a *DecodeError wrapping the cause)
// and Next skips the rest of it. The end of the stream inside a response
// is such an error, io.ErrUnexpectedEOF, wherever it cuts (a word, a
// number or a sequence set cut short included), never a syntax error. A
// response that cannot be decoded gives a
// *DecodeError and the stream stays in step; when the reader fails while
// the rest of its line is skipped, the *DecodeError wraps that error too
// (errors.Is finds both: a deadline, a reset, io.ErrUnexpectedEOF), and
// after a deadline the next call goes on skipping it. io.EOF means the
// stream ended cleanly between responses.
func (d *Decoder) Next() (Response, error) {
	t := d.t
	if d.skip {
		d.skip = false
		if err := t.SkipLine(); err != nil {
			if isIOError(err) {
				d.skip = true
				return nil, err
			}
			return nil, &DecodeError{Offset: t.Offset(), Err: err}
		}
	}
	if d.fw == nil || d.dropFw {
		// After a response whose values took more than keepBytes, fresh
		// reusable values: one huge response (a hostile server's 500,000
		// flags, 12 MB) does not pin its memory for the decoder's
		// lifetime. The previous response is invalid from here on.
		d.fw, d.dropFw = flyweightPool.Get().(*flyweights), false // see Release
	}
	m := t.Mark()
	off := t.Offset()
	d.off = off
	d.msg.reset()
	d.name = ""
	d.tag, d.tagDone = d.tag[:0], false
	r, err := d.decode()
	if err == nil {
		if err = t.CRLF(); err == nil {
			// A value takes at most about 24 times its bytes on the wire:
			// only a response of more than keepBytes/24 can hold more
			// than keepBytes, and only such a one is measured.
			if t.Offset()-off > keepBytes/24 {
				d.dropFw = CloneSize(r) > keepBytes
			}
			return r, nil
		}
	}
	if t.Offset()-off > keepBytes/24 {
		// A long response failed: what its values took (a SEARCH past
		// MaxNumbers, 8 MiB) is not kept for reuse either.
		d.dropFw = true
	}
	if isIOError(err) {
		if err == io.EOF && t.Offset() == off {
			return nil, io.EOF
		}
		if t.Rewind(m) == nil {
			return nil, err
		}
		d.skip = true
		return nil, d.decodeError(off, err)
	}
	if d.opts.BeforeSkip != nil {
		d.opts.BeforeSkip(err)
	}
	if serr := t.SkipLine(); serr != nil {
		if isIOError(serr) {
			// The read failed while the rest of the malformed response
			// was skipped (a stall timeout, a reset, EOF): the error
			// wraps that failure too, so that the caller sees the read
			// error (errors.Is(err, os.ErrDeadlineExceeded)) rather
			// than a bad response it may read past. Before, it got the
			// syntax error alone: a session read again, with a new
			// deadline, and a server that sent a lone " " and went
			// silent was cut after two stall timeouts, not one.
			d.skip = true
			err = &skipError{err: err, how: "the read failed while skipping the rest", serr: serr}
		} else if errors.Is(serr, wire.ErrOutOfStep) {
			// The stream cannot be brought back in step (an endless
			// line, a literal over the limit): report that, so that the
			// caller closes the connection instead of calling again.
			// What failed the response is kept (errors.Is finds both).
			err = &skipError{err: err, how: "skipping the rest", serr: serr}
		}
	}
	return nil, d.decodeError(off, err)
}

// skipError is a malformed response's error (err) with the error met
// while its rest was skipped (serr): errors.Is and As find both. Its
// message is made when asked for, not when it is made (fmt.Errorf): a
// session redacts the excerpt of a *wire.SyntaxError in err in place (a
// credential the server echoed), which a message made at once kept
// whole (TestRedactSyntaxExcerptInWrappedError).
type skipError struct {
	err  error
	how  string
	serr error
}

func (e *skipError) Error() string   { return e.err.Error() + "; " + e.how + ": " + e.serr.Error() }
func (e *skipError) Unwrap() []error { return []error{e.err, e.serr} }

// decodeError is the *DecodeError of the response being decoded.
func (d *Decoder) decodeError(off int64, err error) *DecodeError {
	e := &DecodeError{Offset: off, Name: d.name, Tag: string(d.tag), TagComplete: d.tagDone, Err: err}
	if d.name == "FETCH" {
		e.Seq, e.UID = d.fw.fetch.Seq, d.fw.fetch.UID
	}
	return e
}

// isIOError reports errors that come from the reader rather than from the
// bytes: those leave the response unfinished rather than malformed.
func isIOError(err error) bool {
	// The common cases without errors.As, which allocates.
	switch err.(type) {
	case *wire.SyntaxError, *wire.LimitError, errSyntax, *handlerError:
		return false
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return true
	}
	var se *wire.SyntaxError
	var le *wire.LimitError
	var ce errSyntax
	var he *handlerError
	return !errors.As(err, &se) && !errors.As(err, &le) && !errors.As(err, &ce) && !errors.As(err, &he) &&
		!errors.Is(err, wire.ErrLiteralPending)
}

// handlerError wraps an error returned by a SectionHandler.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return "codec: section handler: " + e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

func (d *Decoder) decode() (Response, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case '*':
		t.Expect('*')
		if err := t.SP(); err != nil {
			return nil, err
		}
		return d.untagged()
	case '+':
		t.Expect('+')
		r := &d.fw.cont
		*r = Continuation{}
		if ok, err := t.AtEOL(); err != nil || ok {
			r.Text = Bytes{}
			return r, err
		}
		if err := t.SP(); err != nil {
			return nil, err
		}
		b, err := t.Text()
		r.Text = Bytes(b)
		return r, err
	case '[':
		// Exchange sends "[COPYUID ...]" after MOVE with neither "*" nor
		// a status: a response code on its own.
		return d.bareCode()
	}
	// The tag: ASTRING-CHARs, ']' and '[' included ("a]1", as a server
	// may echo a client's tag), not an atom (which stops at ']').
	tag, err := t.Tag()
	if err != nil {
		return nil, err
	}
	d.tag = append(d.tag, tag...) // kept for DecodeError; no allocation once grown
	if err := t.SP(); err != nil {
		return nil, err
	}
	d.tagDone = true // the whole tag: DecodeError.TagComplete
	name, err := t.Atom()
	if err != nil {
		return nil, err
	}
	kind := statusKind(name)
	if kind == 0 || kind == StatusPREAUTH || kind == StatusBYE {
		// A tagged response must be OK, NO or BAD (RFC 3501 and RFC
		// 9051, response-tagged: resp-cond-state); BYE and PREAUTH are
		// untagged only. Keep it raw.
		return d.unknown(Bytes(tag), name, 0, false)
	}
	d.name = kind.String()
	return d.statusResp(Bytes(tag), kind)
}

func statusKind(name []byte) StatusKind {
	switch {
	case eqFold(name, "OK"):
		return StatusOK
	case eqFold(name, "NO"):
		return StatusNO
	case eqFold(name, "BAD"):
		return StatusBAD
	case eqFold(name, "BYE"):
		return StatusBYE
	case eqFold(name, "PREAUTH"):
		return StatusPREAUTH
	}
	return 0
}

// eqFold reports whether b equals the ASCII name s, ignoring ASCII case
// on both sides ("FLAGS", "flags" and "Flags" are all equal).
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, e := b[i], s[i]
		if c == e {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= e && e <= 'Z' {
			e += 'a' - 'A'
		}
		if c != e {
			return false
		}
	}
	return true
}

// untagged decodes what follows "* ".
func (d *Decoder) untagged() (Response, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return nil, err
	}
	if c >= '0' && c <= '9' {
		n, err := d.num32()
		if err != nil {
			return nil, err
		}
		if err := t.SP(); err != nil {
			return nil, err
		}
		name, err := t.Atom()
		if err != nil {
			return nil, err
		}
		if n == 0 && (eqFold(name, "FETCH") || eqFold(name, "EXPUNGE")) {
			// message-data = nz-number SP ("EXPUNGE" / ("FETCH" ...)):
			// a message 0 is no message (and "*" in a SeqSet). EXISTS
			// and RECENT are counts, 0 included.
			d.name = "EXPUNGE"
			if eqFold(name, "FETCH") {
				d.name = "FETCH"
				d.fw.fetch.Seq, d.fw.fetch.UID = 0, 0 // not the last FETCH's
			}
			return nil, errSyntax("message number 0 (numbers start at 1)")
		}
		switch {
		case eqFold(name, "FETCH"):
			d.name = "FETCH"
			return d.fetchResp(n)
		case eqFold(name, "EXISTS"):
			d.name = "EXISTS"
			d.fw.exists = Exists{Count: n}
			return &d.fw.exists, nil
		case eqFold(name, "RECENT"):
			d.name = "RECENT"
			d.fw.recent = Recent{Count: n}
			return &d.fw.recent, nil
		case eqFold(name, "EXPUNGE"):
			d.name = "EXPUNGE"
			d.fw.expunge = Expunge{Seq: n}
			return &d.fw.expunge, nil
		}
		return d.unknown(Bytes("*"), name, n, true)
	}
	switch c {
	case '-':
		// "* -1 FETCH ...": a message number cannot be negative. An
		// error, rather than an unknown response that a command waiting
		// for its data would never see.
		return nil, errSyntax("negative message number")
	case '[':
		// "* [COPYUID ...]": a response code without a status (Exchange).
		return d.bareCode()
	case '{':
		// An untagged response that starts with a literal: no name to
		// know it by. It is kept raw, literal included.
		return d.unknownRest(Bytes("*"))
	}
	name, err := t.Atom()
	if err != nil {
		return nil, err
	}
	if k := statusKind(name); k != 0 {
		d.name = k.String()
		return d.statusResp(nil, k)
	}
	dec, ok := untaggedByName(name)
	if !ok {
		return d.unknown(Bytes("*"), name, 0, false)
	}
	d.name = dec.name
	return dec.fn(d)
}

type untaggedDecoder struct {
	name string
	fn   func(*Decoder) (Response, error)
}

var untaggedDecoders = []untaggedDecoder{
	{"CAPABILITY", (*Decoder).capabilityResp},
	{"ENABLED", (*Decoder).enabledResp},
	{"FLAGS", (*Decoder).flagsResp},
	{"LIST", (*Decoder).listResp},
	{"LSUB", (*Decoder).lsubResp},
	{"STATUS", (*Decoder).statusDataResp},
	{"SEARCH", (*Decoder).searchResp},
	{"ESEARCH", (*Decoder).esearchResp},
	{"SORT", (*Decoder).sortResp},
	{"THREAD", (*Decoder).threadResp},
	{"NAMESPACE", (*Decoder).namespaceResp},
	{"QUOTA", (*Decoder).quotaResp},
	{"QUOTAROOT", (*Decoder).quotaRootResp},
	{"ACL", (*Decoder).aclResp},
	{"LISTRIGHTS", (*Decoder).listRightsResp},
	{"MYRIGHTS", (*Decoder).myRightsResp},
	{"ANNOTATION", (*Decoder).annotationResp},
	{"METADATA", (*Decoder).metadataResp},
	{"ID", (*Decoder).idResp},
	{"VANISHED", (*Decoder).vanishedResp},
}

func untaggedByName(name []byte) (untaggedDecoder, bool) {
	for _, u := range untaggedDecoders {
		if eqFold(name, u.name) {
			return u, true
		}
	}
	return untaggedDecoder{}, false
}

// unknown keeps a response raw.
func (d *Decoder) unknown(tag Bytes, name []byte, n uint32, hasNum bool) (Response, error) {
	t := d.t
	r := &d.fw.unknown
	*r = Unknown{Tag: tag, Name: Bytes(name), Num: n, HasNum: hasNum, Rest: Bytes{}}
	if ok, err := t.AtEOL(); err != nil || ok {
		return r, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	rest, err := t.Rest()
	if err != nil {
		return nil, err
	}
	r.Rest = Bytes(rest)
	return r, nil
}

// unknownRest keeps the rest of the line raw as an Unknown without a name.
func (d *Decoder) unknownRest(tag Bytes) (Response, error) {
	r := &d.fw.unknown
	*r = Unknown{Tag: tag, Name: Bytes{}, Rest: Bytes{}}
	rest, err := d.t.Rest()
	if err != nil {
		return nil, err
	}
	r.Rest = Bytes(rest)
	return r, nil
}

// bareCode decodes a response code sent without a status, "[" code "]"
// [SP text], into a Status whose Kind is 0. Unlike in a status response,
// the code must parse: a line that starts with "[" and holds no code is
// not a response.
func (d *Decoder) bareCode() (Response, error) {
	t := d.t
	d.name = "CODE"
	r := &d.fw.status
	*r = Status{Text: Bytes{}}
	code, err := d.respCode()
	if err != nil {
		return nil, err
	}
	r.Code = code
	if ok, err := t.AtEOL(); err != nil || ok {
		return r, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	m := t.Mark()
	text, err := t.Text()
	if err != nil {
		return nil, err
	}
	if _, lit := wire.LiteralSuffix(text); lit {
		// "* [ALERT] {12}": no status line, so every other reader of
		// the line (Next, SkipLine, a relay's AppendLine, the tracer)
		// reads "{12}" as a literal's header. Taken for text, the body
		// would be read as the next response ("A001 OK done" inside
		// it, a completion to the client and data to a relay and the
		// trace). The response is refused, its text given back, so
		// that Next's SkipLine frames the line as they do.
		if rerr := t.Rewind(m); rerr != nil {
			return nil, rerr
		}
		return nil, errSyntax("a bare response code's text ends in a literal's header")
	}
	r.Text = Bytes(text)
	return r, nil
}

// statusResp decodes resp-text after the status name.
func (d *Decoder) statusResp(tag Bytes, kind StatusKind) (Response, error) {
	r := &d.fw.status
	*r = Status{Tag: tag, Kind: kind, Text: Bytes{}}
	code, text, err := d.respText()
	if err != nil {
		return nil, err
	}
	r.Code, r.Text = code, text
	return r, nil
}

// respText decodes [SP ["[" code "]" [SP]] text]. A missing text is
// accepted (a tolerance), and so is a code the decoder cannot parse: then
// the whole remainder is the text. Not a MODIFIED whose set is wrong (a 0,
// a "*"): dropped, it said every message was stored (keptCodeError).
func (d *Decoder) respText() (*Code, Bytes, error) {
	t := d.t
	if ok, err := t.AtEOL(); err != nil || ok {
		return nil, Bytes{}, err
	}
	if err := t.SP(); err != nil {
		return nil, nil, err
	}
	var code *Code
	if c, err := t.Peek(); err != nil {
		return nil, nil, err
	} else if c == '[' {
		m := t.Mark()
		var err error
		code, err = d.respCode()
		if err != nil {
			var kept *keptCodeError
			if isIOError(err) || errors.As(err, &kept) {
				return nil, nil, err
			}
			// Not a code after all: the text begins with '['.
			if rerr := t.Rewind(m); rerr != nil {
				return nil, nil, err
			}
			code = nil
		} else if ok, err := t.AtEOL(); err != nil {
			return nil, nil, err
		} else if ok {
			return code, Bytes{}, nil
		} else if c, err := t.Peek(); err != nil {
			return nil, nil, err
		} else if c == ' ' {
			if err := t.SP(); err != nil {
				return nil, nil, err
			}
		}
	}
	text, err := t.Text()
	if err != nil {
		return nil, nil, err
	}
	return code, Bytes(text), nil
}

// num32 reads a 32-bit number.
func (d *Decoder) num32() (uint32, error) {
	n, err := d.t.Number()
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, errSyntax(fmt.Sprintf("number %d overflows 32 bits", n))
	}
	return uint32(n), nil
}

// maxModSeq is the largest mod-sequence (RFC 7162 section 7:
// mod-sequence-value is a positive 63-bit number).
const maxModSeq = 1<<63 - 1

// modSeq reads a mod-sequence (HIGHESTMODSEQ, the MODSEQ of SEARCH, SORT
// and ESEARCH): a number past maxModSeq is a syntax error, as it is in a
// FETCH's MODSEQ (signed), so that no value the client could not send
// back (QRESYNC, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ) is taken.
func (d *Decoder) modSeq() (uint64, error) {
	n, err := d.t.Number()
	if err == nil && n > maxModSeq {
		return 0, errSyntax(fmt.Sprintf("mod-sequence %d past 2^63-1 (RFC 7162)", n))
	}
	return n, err
}

// signed reads a number that some servers send negative (Exchange's -1
// sizes, Zoho's MODSEQ -1).
func (d *Decoder) signed() (int64, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return 0, err
	}
	neg := false
	if c == '-' {
		t.Expect('-')
		neg = true
	}
	n, err := t.Number()
	if err != nil {
		return 0, err
	}
	if n > 1<<63-1 {
		return 0, errSyntax("number overflows 63 bits")
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// sp consumes SP unless the line ends: it reports whether more follows.
func (d *Decoder) sp() (bool, error) {
	if ok, err := d.t.AtEOL(); err != nil || ok {
		return false, err
	}
	return true, d.t.SP()
}

// skipSpaces consumes spaces if any (tolerance inside lists).
func (d *Decoder) skipSpaces() error {
	c, ok := d.t.PeekBuffered()
	if !ok {
		var err error
		if c, err = d.t.Peek(); err != nil {
			return err
		}
	}
	if c == ' ' {
		return d.t.SP()
	}
	return nil
}

// list calls item for each element of a parenthesized list, tolerating
// extra spaces. "NIL" stands for an empty list when nilOK.
func (d *Decoder) list(nilOK bool, item func() error) error {
	t := d.t
	if nilOK {
		if ok, err := t.AcceptNIL(); err != nil || ok {
			return err
		}
	}
	if err := t.Expect('('); err != nil {
		return err
	}
	for {
		if err := d.skipSpaces(); err != nil {
			return err
		}
		if ok, err := t.Accept(')'); err != nil || ok {
			return err
		}
		if err := item(); err != nil {
			return err
		}
	}
}

// keepBytes bounds the memory of the values a decoder keeps for reuse from
// one response to the next (see Next), as msgArenaKeep does for envelopes
// and body structures: a 200,000-number SEARCH (800 KB) is still decoded
// again without allocating.
const keepBytes = 1 << 20

// flagList reads a parenthesized list of flags into dst[:0].
func (d *Decoder) flagList(dst []Bytes) ([]Bytes, error) {
	dst = dst[:0]
	err := d.list(false, func() error {
		f, err := d.t.Flag()
		dst = append(dst, Bytes(f))
		return err
	})
	return dst, err
}

// astring reads an astring as Bytes. A quoted string with a backslash
// before a byte other than '"' and '\\' is read as lenientQuoted says.
func (d *Decoder) astring() (Bytes, error) {
	m := d.t.Mark()
	b, err := d.t.AString()
	if err != nil {
		return d.quotedFallback(m, err)
	}
	return Bytes(b), nil
}

// nstring reads NIL (nil) or a string, with astring's fallback for
// quoted strings.
func (d *Decoder) nstring() (Bytes, error) {
	m := d.t.Mark()
	b, isNil, err := d.t.NString()
	if err != nil {
		return d.quotedFallback(m, err)
	}
	if isNil {
		return nil, nil
	}
	if b == nil {
		b = []byte{}
	}
	return Bytes(b), nil
}

// quotedFallback handles a syntax error err met reading a string at m:
// when a quoted string starts there, it is reread with lenientQuoted;
// otherwise, or when that fails too, err is returned.
func (d *Decoder) quotedFallback(m wire.Mark, err error) (Bytes, error) {
	if _, ok := err.(*wire.SyntaxError); !ok {
		return nil, err
	}
	if rerr := d.t.Rewind(m); rerr != nil {
		return nil, err
	}
	if c, perr := d.t.Peek(); perr != nil || c != '"' {
		d.t.Rewind(m)
		return nil, err
	}
	b, lerr := d.lenientQuoted()
	if lerr != nil {
		if isIOError(lerr) {
			return nil, lerr
		}
		d.t.Rewind(m)
		return nil, err
	}
	return b, nil
}

// lenientQuoted reads the quoted string at the tokenizer's position as
// GroupWise sends them: a backslash before a byte other than '"' and '\\'
// (as in "\(Standard\)") is not an escape, and the backslash and the byte
// are kept. The string ends at the first unescaped quote; CR and LF are not
// allowed in it, and its parentheses and brackets must balance (the
// tokenizer counts them toward the nesting depth as it consumes them). The
// work is linear in the string's length. On failure the tokenizer may have
// moved: the caller rewinds.
func (d *Decoder) lenientQuoted() (Bytes, error) {
	t := d.t
	m := t.Mark()
	depth := t.Depth()
	if err := t.Expect('"'); err != nil {
		return nil, err
	}
	esc := false
	for {
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		switch c {
		case '\r', '\n':
			return nil, errSyntax("quoted string not closed")
		case '"':
			if err := t.Expect('"'); err != nil {
				return nil, err
			}
			raw, err := t.Since(m)
			if err != nil {
				return nil, err
			}
			if t.Depth() != depth {
				return nil, errSyntax("unbalanced parentheses in a quoted string")
			}
			return d.unescapeQuoted(raw[1:len(raw)-1:len(raw)-1], esc), nil
		case '\\':
			if err := t.Expect('\\'); err != nil {
				return nil, err
			}
			if c, err = t.Peek(); err != nil {
				return nil, err
			}
			if c == '"' || c == '\\' {
				esc = true
				if err := t.Expect(c); err != nil {
					return nil, err
				}
			}
		default:
			if err := t.Expect(c); err != nil {
				return nil, err
			}
		}
	}
}

// unescapeQuoted returns the content of a quoted string, val, with the
// escapes \" and \\ removed (in the arena) when esc; other backslashes stay.
func (d *Decoder) unescapeQuoted(val []byte, esc bool) Bytes {
	if !esc {
		if val == nil {
			val = []byte{}
		}
		return Bytes(val)
	}
	a := &d.msg
	n := len(a.unesc)
	for i := 0; i < len(val); i++ {
		c := val[i]
		if c == '\\' && i+1 < len(val) && (val[i+1] == '"' || val[i+1] == '\\') {
			i++
			c = val[i]
		}
		a.unesc = append(a.unesc, c)
	}
	return Bytes(a.unesc[n:len(a.unesc):len(a.unesc)])
}

// seqSet reads a sequence set into s.
func (d *Decoder) seqSet(s *SeqSet) error {
	b, err := d.t.SeqSet()
	if err != nil {
		return err
	}
	if err := s.ParseInto(b); err != nil {
		if c := b[len(b)-1]; c == ':' || c == ',' {
			// A set the end of the stream cut after a ':' or a ','
			// ("1:", then the end): SeqSet returns the run whole, and
			// the next byte is not there. The cut, not a syntax error.
			if err := d.cutErr(); err != nil {
				return err
			}
		}
		// The SeqSetError's text begins with the package's own
		// "codec: ", which errSyntax adds again.
		return errSyntax(strings.TrimPrefix(err.Error(), "codec: "))
	}
	return nil
}

// cutErr is the read's error when the next byte cannot be read
// (io.ErrUnexpectedEOF where the stream ends), and nil when it can or
// when that fails for another reason than the read (a line over the
// bound). A run the end of the stream cuts is returned whole
// (wire.Tokenizer.Atom, SeqSet), so a decoder that finds it malformed
// asks cutErr first: a run that looks cut and then the end is the cut, a
// read error, not the server's syntax. Error paths only.
func (d *Decoder) cutErr() error {
	if _, err := d.t.Peek(); err != nil && isIOError(err) {
		return err
	}
	return nil
}

// wordErr is the error of an atom, got, where the grammar has the word
// want: the read's error when got is a proper prefix of want (any case)
// and the stream ends after it ("EARLIE", then the end, see cutErr), else
// a syntax error "expected want".
func (d *Decoder) wordErr(got []byte, want string) error {
	if len(got) < len(want) && eqFold(got, want[:len(got)]) {
		if err := d.cutErr(); err != nil {
			return err
		}
	}
	return errSyntax("expected " + want)
}

// rawValue skips one value (atom, number, string, NIL or nested list) and
// returns its raw bytes.
func (d *Decoder) rawValue() (Bytes, error) {
	t := d.t
	m := t.Mark()
	depth := 0
	for {
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		if c == '\r' || c == '\n' {
			if depth > 0 {
				return nil, errSyntax("line ended inside a value")
			}
		}
		if depth > 0 && c == ' ' {
			// A failed SP (a read error after the space) must end the
			// value: looking at the same space again would loop.
			if err := t.SP(); err != nil {
				return nil, err
			}
			continue
		}
		if depth == 0 && (c == ' ' || c == ')' || c == ']' || c == '\r' || c == '\n') {
			b, err := t.Since(m)
			if err != nil {
				return nil, err
			}
			if len(b) == 0 {
				return nil, errSyntax("expected a value")
			}
			return Bytes(b), nil
		}
		tok, err := t.Next()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case wire.KindLParen, wire.KindLBracket:
			depth++
		case wire.KindRParen, wire.KindRBracket:
			depth--
		case wire.KindLiteral:
			if _, err := t.LiteralBytes(); err != nil {
				return nil, err
			}
		}
		if depth == 0 && tok.Kind != wire.KindLParen && tok.Kind != wire.KindLBracket {
			// A lone atom, number, string or NIL, or the list just closed.
			b, err := t.Since(m)
			return Bytes(b), err
		}
	}
}
