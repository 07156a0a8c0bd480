// Package wire reads and writes the bytes of the IMAP protocol (RFC 3501,
// RFC 9051): a streaming, zero-copy tokenizer for either direction and a
// command encoder. It knows IMAP's lexical rules (atoms, numbers, quoted
// strings, literals, lists) but not its grammar: package codec turns tokens
// into typed responses. It imports nothing else from this module, so a proxy,
// a capture analyser or another client can use it alone.
//
// # Borrowed bytes
//
// The tokenizer hands out sub-slices of its own reused buffer instead of
// copies. Every such slice is valid until the next line is read: a line is
// one response or command up to its final CRLF, literals included, and "the
// next line is read" means the first Tokenizer call after the CRLF that ended
// it. Rewind(m) ends the validity of the slices returned after m was taken
// (they will be read again), not of those returned before it. Copy what you
// keep (string(b), bytes.Clone(b), Token.String). The
// slices are capped (b[i:j:j]), so appending to one never writes into the
// buffer. Reading a line of up to half the buffer's size allocates nothing.
//
// # Literals
//
// Literal reads a literal header ({n}, {n+} or ~{n}) and leaves its body
// open. LiteralBytes returns the body when it is at most MaxStringLiteral
// bytes; LiteralReader streams a body of any size (up to MaxLiteral) as an
// io.Reader. A body the caller does not read is skipped by the next call. An
// announced size is never used to allocate: a peer that announces
// {9999999999} and sends ten bytes costs ten bytes.
//
// # Proxies
//
// A relay that tokenizes what it passes on reads each line with
// AppendUntilLiteral (which stops at every literal header, so a client's
// synchronizing literal is forwarded before its body is awaited), passes
// the bytes on unchanged with Forward and ForwardLiteral (ForwardLine for a
// line that does not tokenize, ForwardLongLine for one whose token does not
// fit MaxLineLength), and flushes when ShouldFlush says so.
// The client's tokenizer is made with TokenizerOptions.Commands: it reads
// commands, where no line is a status response, a continuation request or
// a bare code, and every literal header is one (a command named OK, or a
// line that begins with '+', has its literal, as the server reads it).
// Dialog follows the state the two directions share (SASL exchanges, IDLE's
// DONE, STARTTLS and COMPRESS completions), and marks the client lines a
// tracer redacts though the server reads them as commands (Event.MaybeSASL:
// a SASL response the AUTHENTICATE's completion came before; of those,
// Event.LikelySASL the ones most likely a response, which a tracer keeps
// as credentials). The text of
// a server's status responses and continuation requests comes as one
// KindText token.
// See docs/proxy.md.
//
// # Limits
//
// TokenizerOptions holds every limit with its default: MaxLineLength
// (1 MiB, like imaplib's 1,000,000), MaxStringLiteral (64 KiB), MaxDepth
// (100), MaxLiteral (1 GiB) and MaxLineTokens (65,536). Exceeding one gives
// a *LimitError wrapping ErrLineTooLong, ErrStringTooLarge, ErrTooDeep,
// ErrLiteralTooLarge or ErrTooManyTokens.
// Malformed input gives a *SyntaxError with the stream offset, what was
// expected and what was found (a byte that is there: a read's failure,
// the end of the stream included, is returned as it is, see Interrupted
// reads). After either, SkipLine gets back in step with
// the stream. MaxLineLength bounds the bytes a line keeps in the buffer,
// its final CRLF not counted (a line of exactly MaxLineLength bytes reads;
// one byte more fails with ErrLineTooLong, at the latest when its CRLF is
// read): a reader that keeps none of a line's bytes (it converts numbers as it reads
// them) calls Drop, and the line is then read to its end (or to Keep) in a
// buffer that does not grow, whatever its length. It does not bound the
// Tokens AppendLine and AppendUntilLiteral append (48 bytes each, and a
// 1 MiB line can hold a million tokens): MaxLineTokens bounds those of one
// call, and ErrTooManyTokens is no failure: the next call goes on with the
// line.
//
// # Interrupted reads
//
// Every tokenizer method either consumes a whole token or nothing. When the
// reader fails in the middle of a token (a read deadline, say), the method
// returns that error and keeps every byte read so far; calling it again
// resumes. Mark and Rewind let a parser that was interrupted in the middle of
// a line start that line over. Streamed literals keep their place as well: a
// LiteralReader that returns a timeout can be read again. The end of the
// stream is a read error too: within a line it is io.ErrUnexpectedEOF,
// before a line's first byte io.EOF, never a *SyntaxError "got EOF" (a run
// the end cuts, an atom, a number, spaces, is returned as it is, and the
// next call meets the end; a NIL it cuts, "N" or "NI" where NString or
// AcceptNIL looks for NIL, is io.ErrUnexpectedEOF). SkipLine, ForwardLine,
// ForwardLongLine and RefuseLine resume too, ForwardLine from the first
// byte its writer did not accept; until one so interrupted is called again
// (or Reset), the line is its own: other calls fail with ErrSkipPending
// (io.EOF once the stream ended), and Drop does nothing; one interrupted
// before the next line's first byte came took nothing, and leaves
// nothing pending.
//
// # Tolerances
//
// Real servers are sloppy. The tokenizer accepts, by default: keywords and
// names in any case (NIL, nil); runs of spaces where one belongs (SP); spaces
// before the end of a line (CRLF); '[' and ']' inside flags (Flag: Gmail's
// $Label[test]) and astrings; bytes with the high bit set in quoted strings
// and astrings. With TokenizerOptions.LenientLineEnds it also accepts a
// bare LF as a line end.
package wire
