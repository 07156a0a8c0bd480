// Package codec turns the tokens of IMAP server responses (RFC 3501,
// RFC 9051 and the common extensions) into typed values, and writes those
// values back. It sits between package wire, whose tokenizer it reads, and
// package session, which runs commands; it does no I/O of its own and
// knows nothing of commands or connections, so a proxy, a capture
// analyser, a test server or another client can use it alone, with wire
// only.
//
// A Decoder reads one response per call to Next and returns a Response: a
// closed set of types (*Status, *Fetch, *List, ...; see Response), with
// *Unknown for any response it does not know, which is never an error.
// AppendResponse writes a Response in canonical syntax: decode, append and
// decode again gives the same value. The package also holds the value
// parsers that responses need: dates (ParseInternalDate,
// ParseMessageDate), sequence sets (SeqSet), modified UTF-7 mailbox names
// (DecodeMailbox, EncodeMailbox) and RFC 2047 header words (DecodeHeader),
// and what reading a message's parts takes: BodyStructure.TextPart finds
// its text, BodyStructure.Decode undoes a part's transfer encoding and
// charset as it streams (DecodeTransfer, DecodeCharset).
//
// # Using the Decoder alone
//
// Wrap any io.Reader (a connection, a capture file) in a wire.Tokenizer
// and the tokenizer in a Decoder, then call Next until io.EOF:
//
//	d := codec.NewDecoder(wire.NewTokenizer(conn, nil), nil)
//	for {
//		resp, err := d.Next()
//		...
//		switch r := resp.(type) {
//		case *codec.Fetch:
//			...
//		}
//	}
//
// See ExampleDecoder. The tokenizer's wire.TokenizerOptions hold the limits (line
// length, string literal size, nesting depth); DecoderOptions.SectionHandler
// streams FETCH body sections instead of holding them.
//
// # Borrowed bytes
//
// Decoding allocates next to nothing once the Decoder has grown (nothing
// for the FETCH metadata of BenchmarkDecodeFetchMetadata): a Response and
// everything it holds (every Bytes, slice, Envelope and BodyStructure)
// borrow the tokenizer's buffer and the Decoder's reused values, and are
// valid until the next call to Next. Copy what you keep: CloneResponse, or
// the Clone method of the type (Fetch.Clone, Envelope.Clone, ...), makes a
// deep copy that owns its memory, in a few allocations whatever its size;
// Bytes.String copies one value.
//
// # Errors
//
// A response that cannot be decoded gives a *DecodeError; the rest of its
// line has been skipped and the next call to Next reads the next response.
// The exception is a response that cannot be skipped within the
// tokenizer's limits, which matches wire.ErrOutOfStep: the stream is lost.
// An error of the underlying reader (a deadline) is returned as is, and
// Next may be called again to resume.
//
// # Tolerance
//
// Real servers stray from the grammar, and the Decoder accepts what they
// are known to send, as long as the meaning stays clear: extra or missing
// spaces inside lists, atoms where a string belongs, names and keywords in
// any case, lists that end early (the missing fields are zero), a response
// code without a status (Exchange), negative sizes (Exchange's -1), a body
// section sent without a value (Yandex), and more; testdata/quirks holds a
// capture of each server it was checked against. What it cannot read is a
// *DecodeError. What it writes, by contrast, is strict: AppendResponse
// follows the grammar and takes the forms of strings from wire.StringForm,
// the Encoder's policy.
package codec
