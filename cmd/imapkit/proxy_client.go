// The client's direction of a relayed connection (clientToServer): it
// reads the client's lines, refuses what it must not relay
// (proxy_refuse.go), forwards the rest and the literals, and waits on the
// server's word for STARTTLS and COMPRESS.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// clientToServerEnded ends the client's direction, whichever way it
// ended (the client's end at a line's end or in the middle of a literal,
// an error, after COMPRESS). A write to the server that stalled
// (upstreamConn) ends the connection, whichever write it was (a flush, a
// literal's body, the relay after COMPRESS): the server's direction would
// otherwise wait on a server that is no longer there for the client.
// Then the server is told (closeUpstreamWrite): otherwise one that waits
// for the rest of a literal, or an idle one, holds the upstream
// connection and both directions until its own timeout (Dovecot: 30
// minutes). That is a write too, a TLS server's close_notify, which a
// server that reads nothing stalls as well: it is checked again after
// (before, such a stall went untraced, and the connection waited for the
// server's direction's silence bound; found by review).
func (ps *proxySession) clientToServerEnded() {
	if ps.serverStallEnds() {
		ps.closeUpstreamWrite()
		return
	}
	ps.closeUpstreamWrite()
	ps.serverStallEnds()
}

// serverStallEnds traces a stalled write to the server and closes the
// connection, and reports whether it did.
func (ps *proxySession) serverStallEnds() bool {
	if !ps.serverStalled.Load() {
		return false
	}
	ps.logf(serverStallTrace, ps.cfg.dialTimeout)
	ps.closeAll()
	return true
}

// clientToServer relays and prints what the client sends: a line at a
// time, in pieces (up to a literal, or MaxLineTokens tokens); a command's
// first piece may be refused, a literal's body waits for the server's
// word, and a STARTTLS or COMPRESS for its completion.
func (ps *proxySession) clientToServer(ctx context.Context) {
	r := ps.newClientRelay()
	defer ps.clientToServerEnded()
	for {
		more, err := r.readPiece()
		if errors.Is(err, wire.ErrSyntax) {
			if !r.refuseUntokenized(ctx) {
				return
			}
			continue
		}
		if err != nil {
			r.readFailed(err)
			return
		}
		r.firstPiece = r.start
		if r.start {
			switch r.beginCommand(ctx) {
			case clientNext:
				continue
			case clientEnd:
				return
			}
		}
		if !r.withinBounds() {
			return
		}
		r.p.tokens(r.line)
		if more {
			if _, err := r.tk.Forward(r.w); err != nil {
				ps.clientErr(err)
				return
			}
			continue
		}
		if last := r.line[len(r.line)-1]; last.Kind == wire.KindLiteral {
			if !r.literal(ctx, last.Literal()) {
				return
			}
			continue
		}
		wait, ok := r.lastPiece()
		if !ok || wait && !r.switchStreams(ctx) {
			return
		}
	}
}

// clientRelay is the state of the client's direction (clientToServer)
// from one piece of a line to the next.
type clientRelay struct {
	ps             *proxySession
	client, server net.Conn  // the current layers (TLS after STARTTLS)
	in             *clientIn // the tokenizer's reader, of client
	tk             *wire.Tokenizer
	w              *bufio.Writer // to the server
	p              printer
	line           []wire.Token // the current piece
	ev             wire.Event   // the current line's (from its first piece)
	start          bool         // the next piece starts a line
	// secure: credentials may go upstream (TLS there, loopback, or the
	// user's explicit choice).
	secure    bool
	lineStart int64 // where the current line began in the client's stream
	litBytes  int64 // the bodies of its literals relayed so far
	// firstPiece: the current piece is its line's first (nothing of
	// the line went to the server before it).
	firstPiece bool
	// owedEnd: a password literal (secretLiteral), or another literal
	// of a LOGIN or AUTHENTICATE (owedRest), was refused at its
	// synchronizing header, by the proxy or by the server (oweRefused):
	// where its body would end in the client's stream, 0 when none is
	// owed. A client that did not wait for the "+" sends the body all
	// the same: a line that begins before owedEnd may be (a part of) it
	// (owedBodyLine).
	owedEnd int64
	// owedRest: the literal refused was another of a LOGIN's or
	// AUTHENTICATE's (a user name's): the rest of the command, its
	// password, follows the body on the same line (owedBodyLine).
	owedRest bool
	// owedSized: the refused literal's size was known (oweBody), so
	// where its body and the LOGIN's CRLF would end is too.
	owedSized bool
	// owedSent: where the bytes the client sent before it could have
	// read the server's refusal of the literal end (completedAt, when it
	// was this command's completion; 0: not known): a line that ends
	// there or before is (a part of) the body, whatever its shape.
	owedSent int64
	// owed: the current line is taken for (a part of) such a body, and
	// not relayed; owedShape: it has a command's shape (owedCommand) but
	// is the body's length to the byte (answered with its tag).
	owed, owedShape bool
}

// clientStep is what the client's direction does after a step of a line.
type clientStep int

const (
	clientOn   clientStep = iota // go on with the line
	clientNext                   // the line is done: read the next
	clientEnd                    // the direction ends
)

// newClientRelay returns the client's direction at its start, on the
// current layers.
func (ps *proxySession) newClientRelay() *clientRelay {
	client, server := ps.conns()
	r := &clientRelay{ps: ps, client: client, server: server, start: true}
	// The client's commands, never read as a server's lines: "a1 OK {5+}"
	// has a literal, as its server reads it (TokenizerOptions.Commands).
	r.in = &clientIn{c: client, read: &ps.clientRead}
	r.tk = wire.NewTokenizer(r.in, &wire.TokenizerOptions{Commands: true})
	r.w = bufio.NewWriterSize(server, 32<<10)
	r.p.prefix = fmt.Sprintf("[%d] C: ", ps.id)
	r.p.secrets = &ps.secrets
	r.p.client = true
	r.secure = ps.cfg.upstream.tls || ps.cfg.insecurePlaintext || isLoopback(server)
	return r
}

// readPiece reads the next piece of the client's line, up to its end or
// its first literal. A line of more than MaxLineTokens tokens comes in
// pieces: more reports that the next call goes on with the same line.
func (r *clientRelay) readPiece() (more bool, err error) {
	if r.start {
		r.lineStart, r.litBytes = r.tk.Offset(), 0
	}
	r.line, err = r.tk.AppendUntilLiteral(r.line[:0])
	more = errors.Is(err, wire.ErrTooManyTokens)
	if more {
		err = nil
	}
	return more, err
}

// refuseUntokenized answers a line that does not tokenize, which is not
// relayed: the server may read it otherwise than ForwardLine would
// relay it (a "{n+}" after the error relayed as a literal, its body a
// command the server runs, hidden from the trace and from the
// credentials check). It reports whether the direction goes on.
func (r *clientRelay) refuseUntokenized(ctx context.Context) bool {
	ps, w, p := r.ps, r.w, &r.p
	if !r.start {
		// Part of the command went upstream already: it
		// cannot be refused, and the rest may not be relayed.
		ps.logf("* client side: a command that does not tokenize after its first part: closing")
		ps.closeAll()
		return false
	}
	// Even with no token: the Dialog counts the line, and
	// says whether the server reads it as text.
	if ps.dialog.WouldWait(r.line) {
		if err := w.Flush(); err != nil {
			ps.clientErr(err)
			return false
		}
	}
	var err error
	if r.ev, err = ps.dialog.ClientWait(ctx, r.line); err != nil {
		return false
	}
	r.owedBodyLine()
	p.beginClient(r.ev, r.ev.Command)
	r.start = false
	if r.ev.Raw {
		// The server reads the line as text: the proxy's
		// answer would not be the server's.
		ps.logf("* client side: a SASL or IDLE line that does not tokenize: closing")
		ps.closeAll()
		return false
	}
	why := ""
	if len(r.line) > 0 {
		why = ps.refusal(r.ev, r.line, r.secure)
	}
	if why == "" {
		why = "BAD imapkit proxy: a line that cannot be tokenized is not relayed"
	}
	p.note("[redacted]")
	ps.out.line(p.refused())
	r.start = true
	return r.answerRefused(why, false)
}

// readFailed ends the direction on an error reading the client (its end:
// io.EOF). What was read of an unfinished line is not relayed: it was
// not classified (a LOGIN cut by a limit or by the client's end would
// reach the server in part).
func (r *clientRelay) readFailed(err error) {
	ps := r.ps
	ferr := r.w.Flush()
	if err != io.EOF {
		// (Closed: the other direction ended the connection,
		// after a LOGOUT say, and said why.)
		ps.clientErr(err)
		ps.closeAll()
		return
	}
	if ferr != nil {
		ps.clientErr(ferr)
	}
	// The client is done sending: let the server finish (the
	// deferred closeUpstreamWrite).
}

// beginCommand reads a line's first piece into the Dialog (r.ev) and
// refuses the command when the proxy must not relay it.
func (r *clientRelay) beginCommand(ctx context.Context) clientStep {
	ps, tk, w, p, line := r.ps, r.tk, r.w, &r.p, r.line
	// A line sent during AUTHENTICATE or IDLE before the server's
	// word waits for it: it decides how the server reads the line;
	// and a command waits while 1,024 commands await their
	// completions. What is buffered goes out first: the word may
	// answer it.
	if ps.dialog.WouldWait(line) {
		if err := w.Flush(); err != nil {
			ps.clientErr(err)
			return clientEnd
		}
	}
	var err error
	if r.ev, err = ps.dialog.ClientWait(ctx, line); err != nil {
		return clientEnd
	}
	r.owedBodyLine()
	ev := r.ev
	cmd := ev.Command
	if ev.Kind == wire.LineCommand && ev.Raw {
		// The server reads the line as the IDLE's answer, but a
		// confused client may have sent a command there: its
		// credentials are redacted all the same, and not sent
		// in the clear (the proxy cannot answer for the server,
		// which ends the IDLE on such a line: it closes).
		cmd = rawCommandName(line)
		if cred := credentialCommand(line); cred != "" && !r.secure {
			ps.logf("* client side: %s sent as the IDLE's answer, to an upstream in the clear: not relayed; closing", cred)
			ps.closeAll()
			return clientEnd
		}
	}
	// A line the client may have meant as a SASL response (sent before
	// it read the AUTHENTICATE's completion) is printed as one: it may
	// be a credential, though the server reads it as a command.
	p.beginClient(ev, cmd)
	r.start = false
	why := ps.refusal(ev, line, r.secure)
	if why == "" && r.owed {
		why = "BAD imapkit proxy: a line that may be a refused password literal's body is not relayed (a command sent again is)"
		if r.owedRest {
			why = "BAD imapkit proxy: a line that may be the rest of a LOGIN whose literal was refused is not relayed (a command sent again is)"
		}
	}
	if why == "" && ev.Kind == wire.LineCommand {
		why = midLineRefusal(ev.Command, line)
	}
	if why == "" && ev.Kind == wire.LineCommand && !ev.Raw && tk.Offset()-r.lineStart > maxCommandLine {
		why = fmt.Sprintf("BAD imapkit proxy: a command line over %d bytes is not relayed", maxCommandLine)
	}
	if why == "" {
		return clientOn
	}
	p.tokens(line)
	ps.out.line(p.refused())
	if !r.answerRefused(why, true) {
		return clientEnd
	}
	r.start = true
	return clientNext
}

// owedBodyLine tells whether the line just read (r.ev), which begins
// before owedEnd, after a password literal refused at its synchronizing
// header, is (a part of) that literal's body, which a client that did
// not wait for the "+" sends all the same (RFC 9051 forbids it; a
// client that gives up waiting may): the body's bytes, then the LOGIN's
// CRLF, each line of a body with a line break in it beginning before
// owedEnd. Such a line is printed redacted and kept as a credential, as
// the response owed to a challenge is (Event.LikelySASL), not relayed
// (owed: beginCommand refuses it) and answered as such a line is.
//
// A line with a command's shape (owedCommand: a tag, a command name the
// library knows) read to its end or to a literal's header is a command
// (a client that waited sends its next command there), printed and
// relayed as any other, and so is a line with a tag and a command name
// the library does not know (XLIST) that runs past where the body's CRLF
// would be (the literal's size known); unless its end is where the body
// and its CRLF would end, to the byte: then it is taken for the body all the same (a
// password may read "go CHECK mail"), not printed or relayed, and
// answered with its tag (owedShape), so that a client that meant it
// (and waits for that tag) sends it again; that one is relayed.
//
// Before stop 60 only the next line was taken for the body, whatever
// its shape, and relayed: a password with a space in it ("secret pw")
// went to the server as a command line, which it may echo in its BAD
// to the client and its logs; a well-behaved client's next command was
// printed redacted and its words kept as credentials ("a2 NOOP", then
// "*** OK *** completed"). Before stop 59 the body was printed whole
// ("C: secretpw") and echoed as the tag of the proxy's BAD.
func (r *clientRelay) owedBodyLine() {
	r.owed, r.owedShape = false, false
	if r.owedEnd == 0 {
		return
	}
	if r.lineStart >= r.owedEnd {
		r.owedEnd = 0 // past the body: no more owed
		return
	}
	if r.ev.Kind != wire.LineCommand || r.ev.Raw {
		return
	}
	command := owedCommand(r.ev)
	// A line the client had sent (the proxy had read it to the end of
	// this piece) before it could have read the server's refusal is the
	// body, whatever its shape: a client that waited for the server's
	// word sends nothing there. Before, an under-counted password sent
	// at once ("{12}" for "secret Xmas12") with an x-command's or a
	// known command's shape was relayed
	// (TestProxyUnderCountedPasswordLiteralSentAtOnceNotRelayed).
	if sentEarly := r.owedSent > 0 && r.tk.Offset() <= r.owedSent; sentEarly {
		r.owed, r.owedShape = true, command
		r.ev.MaybeSASL, r.ev.LikelySASL = true, true
		return
	}
	// After a user name's body, the rest of the LOGIN runs past it on
	// the same line, after a space ("alice hunter2", read as a tag and a
	// command): a line with a space where the body would end is taken
	// for that, whatever its shape
	// (TestProxyRefusedUserLiteralRestNotRelayed); another is a client's
	// that waited (TestProxyPlaintextCredentials' "A4 NOOP").
	// (rest holds whether or not the literal's size was known: for one
	// not known, owedEnd is taken one byte past its header, and a line
	// with a space there stays owed, as it was before owedSized;
	// TestProxyLineAfterRefusedLiteralOfUnknownSizeOwed's "u check mate".)
	runsPast := r.tk.Offset() > r.owedEnd+2
	rest := r.owedRest && runsPast && maySpaceAt(r.line, r.owedEnd-r.lineStart)
	past := r.owedSized && runsPast
	if command && r.pieceEnds() && r.tk.Offset() != r.owedEnd+2 && !rest {
		return
	}
	// A line with a tag and an experimental command's name (RFC 9051's
	// x-command, "X" atom: XLIST, XAPPLEPUSHSERVICE) the library does not
	// know, whose first piece already runs past where the body and its
	// CRLF would end, is taken for a command: the body's last line ends
	// there, at its CRLF, and a line break ends a piece (or, after a user
	// name's body, the LOGIN's rest has a space there: rest); the
	// literal's size must be known (owedSized: else the next line is
	// owed whatever its length). Before, it got the proxy's BAD, which
	// the server never sent
	// (TestProxyExtensionCommandAfterRefusedPasswordLiteral). Only an
	// x-command's: a client that announced fewer bytes than its password
	// has (characters counted, not UTF-8 bytes) and did not wait sends a
	// body that runs past there too, and with any command name a
	// password with a space in it ("secret de passé" as {15}) was relayed
	// and printed (TestProxyRefusedPasswordLiteralBodyNotRelayed's "a
	// byte more than announced"). One that ends before that is not told
	// from a line of a body with a line break in it, and stays owed
	// unless its command is known (the same test's "an extension's
	// shape, then a line break").
	if past && !rest && r.ev.Tag != "" && strings.HasPrefix(r.ev.Command, "X") {
		return
	}
	r.owed, r.owedShape = true, command
	r.ev.MaybeSASL, r.ev.LikelySASL = true, true
}

// maySpaceAt reports whether the byte at k in the line whose first piece
// is line may be a space: it is one, or a token before it (a quoted
// string, a literal) may not be as sent, or the piece ends before it.
func maySpaceAt(line []wire.Token, k int64) bool {
	var pos int64
	var b []byte
	for _, tok := range line {
		switch tok.Kind {
		case wire.KindQuoted, wire.KindLiteral, wire.KindPartial:
			return true // its length as sent not known here
		case wire.KindCRLF:
			return false
		}
		b = wire.AppendToken(b[:0], tok)
		if k < pos+int64(len(b)) {
			return tok.Kind == wire.KindSP
		}
		pos += int64(len(b))
	}
	return true
}

// owedCommand reports whether ev, a client's line, has a command's shape:
// a tag (as the Dialog reads one) and a command name the library knows
// (session.CommandRules), "UID FETCH" and the like included.
func owedCommand(ev wire.Event) bool {
	if ev.Tag == "" || ev.Command == "" {
		return false
	}
	_, ok := session.CommandRules(ev.Command)
	return ok
}

// pieceEnds reports whether the current piece ends its line, or ends at a
// literal's header (its CRLF read): where the line's first part ends is
// known.
func (r *clientRelay) pieceEnds() bool {
	if len(r.line) == 0 {
		return false
	}
	k := r.line[len(r.line)-1].Kind
	return k == wire.KindCRLF || k == wire.KindLiteral
}

// syncLiteralSize returns the size of the synchronizing literal that ends
// line (a piece), -1 when none does (a "{0}" is one of size 0).
func syncLiteralSize(line []wire.Token) int64 {
	if len(line) == 0 || line[len(line)-1].Kind != wire.KindLiteral {
		return -1
	}
	if lit := line[len(line)-1].Literal(); !lit.NonSync {
		return lit.Size
	}
	return -1
}

// oweRefused records that the synchronizing literal that ends the
// current piece (of size bytes, < 0 not known) was refused at its header,
// when it is a credential's or may be followed by one: a password
// literal (secretLiteral), one on a line taken for such a body (owed),
// or another literal of a LOGIN or AUTHENTICATE (a user name: the
// password follows its body, owedRest). Before, only a password
// literal's body was owed: "a1 LOGIN {5}" refused, then "alice hunter2"
// from a client that did not wait, was printed whole and relayed.
func (r *clientRelay) oweRefused(size int64) {
	switch {
	case r.secretLiteral() || r.owed:
		r.oweBody(size)
		r.owedRest = false
	case r.p.credential():
		r.oweBody(size)
		r.owedRest = true
	}
}

// oweUntokenized records that a line that does not tokenize, refused
// (refuseUntokenized), ended at a synchronizing literal's header, which
// the refusal replaced (RefuseLineWaits' waits): a body of a size not
// known is owed (the next line, whatever its length: owedBodyLine) when
// the line may be a credential's: a LOGIN or AUTHENTICATE, a line taken
// for a body (owed), or one whose command is not known (the error came
// before it). Which of its literals the header was is not known either:
// the password may follow the body on the same line (owedRest). Before,
// nothing was owed: "a1 LOGIN alice {99999999999999999999}" (a header of
// more than 18 digits does not tokenize), then the password of a client
// that did not wait, "x2 XLIST secret", was relayed as a command and
// printed whole.
func (r *clientRelay) oweUntokenized() {
	if !r.owed && r.ev.Command != "" && !redactedCommand(r.ev.Command) && credentialCommand(r.line) == "" {
		return
	}
	r.owedRest = !r.owed
	r.oweBody(-1)
}

// oweBody records that the synchronizing literal of size bytes that
// ends the current piece, one oweRefused owes, was refused at its
// header, the tokenizer just past that header: its body may follow
// (owedBodyLine). size < 0 (not known): the next line only; 0 (an
// empty password) owes the next line too, but its size is known
// (owedSized: before, "{0}" was taken for a size not known, and a client
// that waited got the proxy's BAD for an extension's command there:
// TestProxyExtensionCommandAfterRefusedEmptyPasswordLiteral).
func (r *clientRelay) oweBody(size int64) {
	r.owedEnd = r.tk.Offset() + max(size, 1)
	r.owedSized = size >= 0
	r.owedSent = 0
}

// answerRefused sends the proxy's answer to a refused command (why), and
// reads the rest of the command without relaying it: refuse, or, for a
// line that does not tokenize, refuseLine. It reports whether the
// direction goes on.
func (r *clientRelay) answerRefused(why string, tokenized bool) bool {
	ps, tk := r.ps, r.tk
	// What the client sent before the answer, it sent without having
	// read it (owedSent).
	sent := ps.clientRead.Load()
	// Commands relayed before it go out first: the client
	// may wait for their answers.
	if err := r.w.Flush(); err != nil {
		ps.clientErr(err)
		return false
	}
	// The answer of a line printed redacted as SASL does not echo its
	// tag (its first word: the whole of a SASL response): it goes
	// untagged, "* BAD ...", which the trace prints too; but for one
	// of two words (a command's shape: no SASL response has a space)
	// read whole, its literals none, which the proxy read to its end
	// as the client framed it (taggedRefusal), the first word is the
	// command's tag: its tagged answer is what the client waits for,
	// and the session goes on.
	tag := r.ev.Tag
	if tag == "" && r.ev.Kind == wire.LineCommand && !r.ev.Raw {
		// A tag with "]" in it, which the Dialog does not take for
		// one (bracketTag): the client's all the same.
		tag = bracketTag(r.line)
	}
	if r.ev.MaybeSASL && !(tokenized && taggedRefusal(r.line)) && !r.owedShape {
		tag = ""
	}
	// The trace shows the answer's tag only where it showed the line: it
	// prints "***" for the tag of a line it printed redacted, as SASL
	// data or as a line that does not tokenize (injectAnswer).
	hideTag := !tokenized || r.p.sasl
	var waits bool
	var err error
	if tokenized && r.owedLiteralHeader() {
		// The "{n+}" is the body's last bytes: no literal body follows,
		// and the client's next bytes are its next command. Read as a
		// literal, they were swallowed and never answered.
		if _, err = tk.Forward(io.Discard); err == nil {
			err = tk.RefuseLiteral() // (the piece dropped first, as refuse drops it)
		}
		if err == nil {
			err = ps.injectAnswer(tag, why, hideTag)
		}
	} else if tokenized {
		waits, err = ps.refuse(tk, r.line, tag, why, r.lineStart, hideTag)
	} else {
		waits, err = ps.refuseLine(tk, tag, why, r.lineStart, hideTag)
	}
	if err != nil {
		ps.refuseFailed(err)
		ps.closeAll()
		return false
	}
	// A literal refused at its header: a credential's body may follow
	// (oweRefused says which literals owe one).
	if waits && tokenized {
		r.oweRefused(syncLiteralSize(r.line))
		if r.owedEnd != 0 {
			// Before, the order was not recorded here, and an
			// under-counted password sent at once behind a LOGIN
			// the proxy refused in plaintext went upstream
			// (TestProxyUnderCountedPasswordAfterOwnRefusalNotRelayed).
			r.owedSent = sent
		}
	}
	if waits && !tokenized {
		r.oweUntokenized()
	}
	if r.ev.MaybeSASL && tag == "" && spacedLine(r.line) {
		// A command (two words: no SASL response) whose answer could
		// not name its tag, as its framing is not known: a literal is
		// owed (a "{n}" whose client may wait for a "+", or a "{n+}"
		// whose body a client that meant the line as its SASL
		// response never sends), or its rest did not tokenize. Its
		// client waits for a tagged answer (a LOGIN's literal for a
		// "+" or the completion) that never comes. It is told, and
		// the connection ends: before, it went on and the client
		// waited for ever (TestProxyRefusedOwedPasswordLiteralAnswered).
		// (A line that may be a refused password literal's body,
		// owed, is told as such: it was told as an owed SASL
		// response before stop 60.)
		if r.owed {
			ps.logf("* client side: a refused line that may be a password literal's body, its framing not known (its answer names no tag): closing")
			ps.bye("imapkit proxy: a refused line that may be a password literal's body, its framing not known: closing")
		} else {
			ps.logf("* client side: a refused command sent as the response owed to a challenge (its answer names no tag): closing")
			ps.bye("imapkit proxy: a refused command sent where a SASL response was owed: closing")
		}
		ps.closeAll()
		return false
	}
	if tag == "" && waits {
		// A command that ended at a synchronizing literal's header,
		// answered untagged (no tag, or a line of one word that may be
		// a SASL response): its client waits for a "+" that only a
		// tagged answer replaces (RFC 9051 7.5; an untagged BAD names
		// no command), and with no tag to answer, no answer can end the
		// wait. A "+" would take its next bytes for the literal's body,
		// which a client that did not wait sends as its next command.
		// Its framing is lost: it is told, and the connection ends.
		// Before, the session went on and such a client waited until
		// its own timeout (Dovecot gives such a line no word at all).
		ps.logf("* client side: a refused command ending in a synchronizing literal, answered untagged (its client may wait for a \"+\"): closing")
		ps.bye("imapkit proxy: a synchronizing literal on a line answered untagged: closing")
		ps.closeAll()
		return false
	}
	return true
}

// owedLiteralHeader reports whether the current piece, a line taken for
// a refused password literal's body (owed), ends in a non-synchronizing
// literal's header exactly where the body and the LOGIN's CRLF end: the
// header is the body's ("secret {3+}"), no literal
// (TestProxyRefusedPasswordLiteralBodyEndingInLiteralHeader).
func (r *clientRelay) owedLiteralHeader() bool {
	if !r.owed || r.tk.Offset() != r.owedEnd+2 || len(r.line) == 0 {
		return false
	}
	last := r.line[len(r.line)-1]
	return last.Kind == wire.KindLiteral && last.Literal().NonSync
}

// taggedRefusal reports whether a refused line the client may have
// meant as a SASL response is answered with its tag: it has two words
// (spacedLine) and was read whole, to its CRLF, with no literal, so its
// framing is known. line is the line's first piece: one that ends in its
// CRLF holds no literal, as AppendUntilLiteral stops after a literal's
// header (KindLiteral last) or at MaxLineTokens (no CRLF).
func taggedRefusal(line []wire.Token) bool {
	return len(line) > 0 && line[len(line)-1].Kind == wire.KindCRLF && spacedLine(line)
}

// spacedLine reports whether line (a piece's tokens) has two words, a
// space between two tokens: no SASL response has (wire.Dialog's rule for
// Event.MaybeSASL).
func spacedLine(line []wire.Token) bool {
	seen, gap := false, false
	for _, tok := range line {
		switch tok.Kind {
		case wire.KindCRLF:
		case wire.KindSP:
			gap = seen
		default:
			if gap {
				return true
			}
			seen = true
		}
	}
	return false
}

// withinBounds closes the connection on a line relayed in part that
// has grown past its bound, and reports whether it is within.
func (r *clientRelay) withinBounds() bool {
	ps, tk, ev := r.ps, r.tk, r.ev
	if ev.Kind == wire.LineCommand && !ev.Raw && tk.Offset()-r.lineStart-r.litBytes > maxCommandLine {
		// A later part of the line (the first part went up) takes it
		// past the bound: it cannot be refused any more.
		ps.logf("* client side: a command line over %d bytes (literals not counted): closing", maxCommandLine)
		ps.closeAll()
		return false
	}
	if ev.Raw && tk.Offset()-r.lineStart > maxRawLine {
		// A SASL response or IDLE's answer: the server reads it as
		// text, but not without end, and what it does at its limit
		// differs (Cyrus 3.6 fails the AUTHENTICATE after 21,847
		// bytes of a response and runs the rest of the line as a
		// command; Dovecot closes the connection).
		ps.logf("* client side: a SASL response or IDLE answer of more than %d bytes: closing", maxRawLine)
		ps.closeAll()
		return false
	}
	return true
}

// literal relays a piece of a line that ends in a literal's header
// (lit), and the literal's body when the server reads one. It reports
// whether the direction goes on.
func (r *clientRelay) literal(ctx context.Context, lit wire.LiteralInfo) bool {
	if r.ev.Raw {
		return r.rawLiteral(lit)
	}
	if refused, ok := r.secretLiteralRefused(lit); refused {
		return ok
	}
	ps, p := r.ps, &r.p
	// The server's word comes next: "+" or the command's
	// completion. The client sends a synchronizing literal's body
	// only if the server lets it: refused (APPEND's NO
	// [TRYCREATE]), its next line is a new command, not literal
	// data. A non-synchronizing literal goes to the server as
	// synchronizing, so that the server says whether it reads the
	// body (Dovecot runs the bytes after "a NOOP {18+}" as a
	// command of their own); its "+" is not relayed.
	ps.out.line(p.cont())
	goAhead, ok := r.askForBody(ctx, lit)
	if !ok {
		return false
	}
	if !goAhead {
		return r.dropBody(lit)
	}
	return r.forwardBody()
}

// rawLiteral relays a SASL response or IDLE's answer that ends in a
// literal's header: the server reads it as text, so "{n}" ends it, and
// no body follows.
func (r *clientRelay) rawLiteral(lit wire.LiteralInfo) bool {
	ps, tk, w, p, line := r.ps, r.tk, r.w, &r.p, r.line
	if lit.NonSync && credentialCommand(line) != "" {
		// A LOGIN or AUTHENTICATE as IDLE's answer, ending in "{n+}":
		// the server reads the line as text and what follows as a
		// new command, but the client, taking it for a command, has
		// sent the literal's body behind it: a password, which would
		// be printed (and relayed) as a command line. The connection
		// closes. (Other such lines go on as the server reads them.)
		ps.logf("* client side: a %s ending in a non-synchronizing literal as the IDLE's answer: closing", credentialCommand(line))
		ps.closeAll()
		return false
	}
	if _, err := tk.Forward(w); err != nil {
		ps.clientErr(err)
		return false
	}
	if err := tk.RefuseLiteral(); err != nil {
		ps.clientErr(err)
		ps.closeAll()
		return false
	}
	ps.out.line(p.end())
	r.start = true
	if err := w.Flush(); err != nil {
		ps.clientErr(err)
		return false
	}
	return true
}

// askForBody forwards the piece, the literal's header as synchronizing,
// and reports whether the server lets the body follow (goAhead), and
// whether the direction goes on (ok).
func (r *clientRelay) askForBody(ctx context.Context, lit wire.LiteralInfo) (goAhead, ok bool) {
	ps, tk, w := r.ps, r.tk, r.w
	// Unless the server's word is expected, the command was completed
	// already (an APPEND's NO after its first message): the server
	// reads the rest of its line to a synchronizing literal's header,
	// or this as a line without a tag, and no body.
	expected := ps.dialog.ExpectContinuation(lit)
	if _, err := tk.ForwardAsSync(w); err != nil {
		ps.clientErr(err)
		return false, false
	}
	if err := w.Flush(); err != nil {
		ps.clientErr(err)
		return false, false
	}
	if !expected {
		return false, true
	}
	// The client's end while the server decides is found (clientIn.watch):
	// the server's silence is bounded from then on.
	stop := r.in.watch(ps.clientEnding, ps.stopping.Load)
	goAhead, err := ps.dialog.WaitContinuation(ctx)
	stop()
	if err != nil {
		return false, false
	}
	return goAhead, true
}

// dropBody ends a literal the server does not read.
func (r *clientRelay) dropBody(lit wire.LiteralInfo) bool {
	ps, tk, p := r.ps, r.tk, &r.p
	var err error
	if lit.NonSync {
		// The client sent the body: it and the rest of the
		// command are dropped, as the server did not read them.
		err = tk.RefuseCommand(r.line)
		if errors.Is(err, wire.ErrSyntax) {
			// A rest that does not tokenize: dropped to
			// the line's end all the same.
			err = tk.RefuseLine()
		}
		p.note(" [dropped: the literal the client sent as {n+} and the rest of its command; the server refused it]")
		ps.out.line(p.end())
	} else {
		err = tk.RefuseLiteral()
		// A literal the server refused: a credential's body may
		// follow (oweRefused).
		r.oweRefused(lit.Size)
		if m := ps.completedAt.Load(); r.owedEnd != 0 && m != nil && m.tag == r.ev.Tag && r.ev.Tag != "" {
			r.owedSent = m.read
		}
	}
	if err != nil {
		ps.clientErr(err)
		ps.closeAll()
		return false
	}
	r.start = true
	return true
}

// forwardBody relays a literal's body the server asked for.
//
// The body of a literal on a line printed as SASL data (a command sent
// as the response owed to an unanswered challenge: Event.LikelySASL; a
// line of one word, the other MaybeSASL lines, has no command and is
// refused) is kept as a credential too, its first maxRawLine bytes (no
// SASL response through the proxy is longer): it was relayed unrecorded,
// and a server's echo of it was printed in the clear
// (TestProxyLongSASLResponseNotInTrace). A password literal is kept
// whole (no longer than maxSecretLiteral: secretLiteralRefused). Either
// is kept before its bytes past the first maxRawLine go to the server,
// or when the body ends or fails, whichever comes first
// (captureWriter).
func (r *clientRelay) forwardBody() bool {
	ps, tk, w := r.ps, r.tk, r.w
	var lw io.Writer = w
	var cw *captureWriter
	if r.p.secretLit || r.p.sasl {
		// A password sent as a literal, or what may be a SASL
		// response: keep it to redact.
		if _, err := tk.Forward(w); err != nil {
			ps.clientErr(err)
			return false
		}
		cw = &captureWriter{w: w, max: maxRawLine, keep: ps.secrets.addOpen}
		lw = cw
	}
	n, err := tk.ForwardLiteral(lw)
	if cw != nil {
		cw.record()
	}
	if err != nil {
		ps.clientErr(err)
		return false
	}
	r.litBytes += n
	return true
}

// maxSecretLiteral bounds a literal printed redacted (a LOGIN's password)
// that the proxy relays: such a body is kept as a credential whole, to
// redact a server's echo of it, and one longer (a password of more than
// 16 KiB has no use) is not relayed. It was kept up to 1,024 bytes, and
// the rest of a longer one echoed was printed.
const maxSecretLiteral = maxRawLine

// secretLiteralRefused refuses a literal printed redacted (a password)
// of more than maxSecretLiteral bytes, and reports whether it did (and,
// ok, whether the direction goes on): the command gets the proxy's BAD
// when nothing of it went to the server (the literal ends its first
// piece), otherwise the connection closes.
//
// A literal of a LOGIN or AUTHENTICATE printed as SASL data (the line is
// the response owed to an unanswered challenge: the server reads it as a
// command) is one too: the printer, which redacts the whole line, never
// marks its password (printer.secretLit), and one over the bound was
// relayed, only its first maxRawLine bytes kept to redact an echo
// (TestProxyRefusedOwedPasswordLiteralAnswered). Its BAD is untagged
// ("* BAD"), then a BYE, and the connection closes (answerRefused: a
// literal owed, the line's framing not known).
func (r *clientRelay) secretLiteralRefused(lit wire.LiteralInfo) (refused, ok bool) {
	if !r.secretLiteral() || lit.Size <= maxSecretLiteral {
		return false, true
	}
	ps, p := r.ps, &r.p
	if !r.firstPiece {
		ps.logf("* client side: a password literal of more than %d bytes after the command's first part: closing", maxSecretLiteral)
		ps.closeAll()
		return true, false
	}
	ps.out.line(p.refused())
	if !r.answerRefused(fmt.Sprintf("BAD imapkit proxy: a password literal of more than %d bytes is not relayed", maxSecretLiteral), true) {
		return true, false
	}
	r.start = true
	return true, true
}

// secretLiteral reports whether the literal that ends the current piece
// is a credential that the proxy keeps whole: a literal printed redacted
// (a LOGIN's password, an AUTHENTICATE's initial response), or any
// literal of a LOGIN or AUTHENTICATE printed as SASL data.
func (r *clientRelay) secretLiteral() bool {
	return r.p.secretLit || r.p.sasl && redactedCommand(r.ev.Command)
}

// lastPiece relays the last piece of a line, to its end, and reports
// whether it is a STARTTLS or COMPRESS whose completion the direction
// waits for (wait), and whether the direction goes on (ok).
func (r *clientRelay) lastPiece() (wait, ok bool) {
	ps, tk, w, p, ev := r.ps, r.tk, r.w, &r.p, r.ev
	wait = ev.Kind == wire.LineCommand && (ev.Command == "STARTTLS" || ev.Command == "COMPRESS")
	if wait && ev.Command == "STARTTLS" {
		if n := tk.Buffered() + r.in.buffered(); n > 0 {
			r.startTLSPipelined(n)
			return false, false
		}
	}
	if wait {
		ps.mu.Lock()
		ps.awaiting = ev.Tag
		ps.mu.Unlock()
	}
	if _, err := tk.Forward(w); err != nil {
		ps.clientErr(err)
		return false, false
	}
	ps.out.line(p.end())
	r.start = true
	// After AUTHENTICATE, IDLE or a SASL response, the next line may
	// wait in ClientWait for the server's answer to this one: it must
	// have gone out, though the client sent more behind it.
	answered := ev.Kind == wire.LineSASL || ev.Kind == wire.LineCommand && (ev.Command == "AUTHENTICATE" || ev.Command == "IDLE")
	if tk.ShouldFlush() || wait || answered {
		if err := w.Flush(); err != nil {
			ps.clientErr(err)
			return false, false
		}
	}
	return wait, true
}

// startTLSPipelined refuses a STARTTLS line, read to its end, behind
// which the client sent n bytes more before its completion (read ahead
// with the line: the tokenizer's buffer, clientIn's): a TLS ClientHello
// sent at once, or commands in the clear. Such bytes are dropped at the
// switch (switchStreams), lest bytes sent in the clear, by the client or
// by anyone on the path, pass for ones sent over TLS (the command
// injection of CVE-2011-0411); so the STARTTLS is not relayed, the client
// gets a tagged BAD (its first piece: nothing of the line went upstream),
// then a BYE, and the connection closes. Before, the STARTTLS went
// upstream all the same and the proxy's handshake waited for a
// ClientHello it had dropped: the client hung for the --timeout with no
// word of why (TestProxyStartTLSPipelinedRefused).
func (r *clientRelay) startTLSPipelined(n int) {
	ps, p := r.ps, &r.p
	ps.out.line(p.refused())
	ps.logf("* client side: %d bytes sent after STARTTLS before its completion (a TLS handshake begun early, or commands): not relayed; closing", n)
	if r.firstPiece {
		if err := ps.injectAnswer(r.ev.Tag, "BAD imapkit proxy: bytes sent after STARTTLS before its completion are not relayed; closing", false); err != nil {
			ps.closeAll()
			return
		}
	}
	ps.bye("imapkit proxy: bytes sent after STARTTLS before its completion: closing")
	ps.closeAll()
}

// switchStreams waits for the server's answer to a STARTTLS or COMPRESS
// (from the server's direction), which decides what the streams become,
// and reports whether the direction goes on: after COMPRESS it relays
// the rest of the connection as it comes, and ends.
func (r *clientRelay) switchStreams(ctx context.Context) bool {
	ps := r.ps
	var res switchResult
	select {
	case res = <-ps.switched:
	case <-ctx.Done():
		return false
	}
	if res.err != nil {
		return false
	}
	if !res.ok {
		return true
	}
	if r.ev.Command == "COMPRESS" {
		// Bytes read ahead belong to the compressed stream.
		// Its errors are traced as before COMPRESS: a write to
		// the server that failed (*serverWriteError) as the
		// server's side, a read of the client as the client's
		// (clientErr; a stall by clientToServerEnded). Before,
		// they were dropped: a server's reset after COMPRESS was
		// traced nowhere (found by review).
		if b := r.tk.Detach(); len(b) > 0 {
			if _, err := r.server.Write(b); err != nil {
				ps.clientErr(err)
				return false
			}
		}
		if _, err := io.Copy(r.server, r.in); err != nil { // (what was read ahead first)
			ps.clientErr(err)
		}
		return false
	}
	r.client, r.server = res.client, res.server
	r.secure = true
	r.owedEnd = 0 // a new stream, its offsets from 0
	r.in.reset(r.client)
	r.tk.Reset(r.in) // nothing read before the handshake is relayed
	r.w.Reset(r.server)
	return true
}

// maxRawLine bounds a line the server reads as text (a SASL response, the
// line that answers IDLE) that the proxy relays: it is under the shortest
// limit a server was seen to apply before reading the rest of the line as
// a command (Cyrus 3.6: 21,847 bytes of a SASL response). A GSSAPI token
// longer than that would not get through Cyrus either.
const maxRawLine = 16 << 10

// maxCommandLine bounds a command line the proxy relays, literal bodies
// not counted: under Dovecot 2.3's limit (65,536 bytes), past which its
// APPEND parser ends the command where it stands and runs the rest of the
// line as a new command. Dovecot refuses longer lines of other commands
// anyway; Cyrus takes words of up to 128 KiB.
const maxCommandLine = 64000
