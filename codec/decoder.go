package codec

import (
	"errors"
	"io"
	"math"

	"github.com/imapkit/imapkit/wire"
)

// SectionHandler receives a FETCH body section while the FETCH response is
// being decoded: s describes the section (its Data is nil) and r streams
// its body. Whatever the handler leaves unread is skipped. An error from
// the handler ends the decoding of that response with that error; the
// decoder stays in step with the stream.
//
// f holds what the response carried before the section, and no more: the
// items after it (often FLAGS, or the UID when a server sends it last) are
// still zero during the call. Servers usually send UID first, but none has
// to: a handler that files bodies by f.UID checks that it is set.
type SectionHandler func(f *Fetch, s *Section, r io.Reader) error

// ErrKeepInline is returned by a SectionHandler that has read nothing of
// the body to have it kept in Section.Data, as without a handler (it must
// fit the tokenizer's MaxStringLiteral). A handler streams large bodies
// and lets small ones through this way, without a copy.
var ErrKeepInline = errors.New("codec: keep the section inline")

// DecoderOptions configures a Decoder. A nil *DecoderOptions is equivalent
// to a zero DecoderOptions.
type DecoderOptions struct {
	// SectionHandler, when set, receives every body section whose body is
	// a literal, streamed. Without it, a body of up to the tokenizer's
	// MaxStringLiteral is returned in Section.Data and a larger one fails
	// that response with wire.ErrStringTooLarge (the stream stays in step).
	SectionHandler SectionHandler

	// MaxNumbers bounds the numbers of one SEARCH or SORT response; the
	// ranges of an ESEARCH response's ALL (ESORT's too) or of a VANISHED
	// response to half of it (a range takes 8 bytes); and the nodes of a
	// THREAD response to an eighth of it (a node costs about eight times
	// a number's 4 bytes). Zero means DefaultMaxNumbers; negative, no
	// bound. Past it the response fails with a *wire.LimitError wrapping
	// ErrTooManyNumbers.
	//
	// These responses are read without keeping their bytes (see
	// wire.Tokenizer.Drop) once they pass 64 KiB or half the tokenizer's
	// MaxLineLength (a set, ALL's or VANISHED's, once it passes
	// MaxLineLength), so their line may be longer than MaxLineLength:
	// this bound takes its place. A response read that way is not resumed
	// after an error from the reader (a deadline): it is abandoned with a
	// *DecodeError.
	MaxNumbers int

	// BeforeSkip, when set, is called with the error of a response that
	// cannot be decoded, before its rest is skipped, while the tokenizer
	// still holds the bytes it read of it (wire.Tokenizer.Held): a
	// session redacts the excerpt of the server's bytes that a
	// *wire.SyntaxError in err quotes against the line it was cut from.
	// It must not read from the tokenizer. It is not called for an error
	// of the reader's (a deadline, EOF).
	BeforeSkip func(err error)

	// SkipLargeMetadata, when set, reads past a METADATA value (RFC 5464)
	// larger than the tokenizer's MaxStringLiteral and names its entry,
	// with the value's size, in Metadata.Skipped, the rest of the response
	// decoded; without it such a value fails the whole response with
	// wire.ErrStringTooLarge. A response whose value is read past this way
	// is not resumed after an error from the reader (a deadline) met
	// while it is: it is abandoned with a *DecodeError, as one whose
	// section went to a SectionHandler is (the value's bytes are gone).
	// A session sets it.
	SkipLargeMetadata bool
}

// DefaultMaxNumbers is the default of DecoderOptions.MaxNumbers: 2,097,152
// numbers (8 MiB as []uint32), a SEARCH of every message of a mailbox of
// two million; an ESEARCH's ALL may hold 1,048,576 ranges and a THREAD
// response 262,144 nodes. A hostile server that sends numbers without end
// makes a session's heap grow by about 15 MiB before it gives up.
const DefaultMaxNumbers = 1 << 21

// ErrTooManyNumbers means a SEARCH or SORT response held more numbers, an
// ESEARCH response's ALL or a VANISHED response more ranges, or a THREAD
// response more nodes, than DecoderOptions.MaxNumbers allows.
var ErrTooManyNumbers = errors.New("codec: too many numbers in one response")

// dropAfter is how far into a SEARCH, SORT or THREAD response the decoder
// starts to give up the bytes it has read (wire.Tokenizer.Drop), or half
// the tokenizer's MaxLineLength if less: shorter ones keep their line,
// and are resumed after a deadline as any response.
const dropAfter = 64 << 10

// Decoder turns the tokens of server responses into typed values.
type Decoder struct {
	t    *wire.Tokenizer
	opts DecoderOptions

	msg msgArena    // envelopes and body structures, reused
	fw  *flyweights // one reusable value per response type (Unshare replaces it)
	// dropFw: the last response's values took more than keepBytes; the
	// next call to Next takes fresh ones.
	dropFw bool
	skip   bool   // the rest of an abandoned response must be skipped first
	name   string // the name of the response being decoded, for errors
	tag    []byte // the tag of the response being decoded, for errors
	// tagDone: tag was followed by its SP, so it is the whole tag
	// (DecodeError.TagComplete).
	tagDone bool
	off     int64 // the stream offset where the response being decoded began
	// dropAt is the stream offset past which a SEARCH, SORT or THREAD
	// response being decoded is long and gives up its bytes (dropLong);
	// math.MaxInt64 once it did. Set by numbers and threads (longAt).
	dropAt int64

	maxNumbers int // DecoderOptions.MaxNumbers, resolved (math.MaxInt: none)
	nodes      int // the nodes of the THREAD response being decoded
}

// NewDecoder returns a decoder reading from t. It does no I/O.
func NewDecoder(t *wire.Tokenizer, opts *DecoderOptions) *Decoder {
	d := &Decoder{t: t, fw: new(flyweights)}
	if opts != nil {
		d.opts = *opts
	}
	switch d.maxNumbers = d.opts.MaxNumbers; {
	case d.maxNumbers == 0:
		d.maxNumbers = DefaultMaxNumbers
	case d.maxNumbers < 0:
		d.maxNumbers = math.MaxInt
	}
	return d
}

// Unshare makes the decoder stop reusing the memory of the responses it has
// returned: the last response (and its tokenizer bytes) stays valid for as
// long as its holder keeps it, and the next ones are decoded into new
// memory. Call it between two responses, for example to hand a response to
// another goroutine without copying it while reading on (see
// wire.Tokenizer.Unshare).
func (d *Decoder) Unshare() error {
	if err := d.t.Unshare(); err != nil {
		return err
	}
	d.fw = new(flyweights)
	d.msg = msgArena{}
	d.tag = nil
	return nil
}

// Tokenizer returns the decoder's tokenizer.
func (d *Decoder) Tokenizer() *wire.Tokenizer { return d.t }
