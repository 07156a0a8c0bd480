// The server's direction of a relayed connection (serverToClient): it
// relays the server's lines to the client, long lines in pieces, and
// carries out a STARTTLS or COMPRESS that the server accepts
// (endServerLine).

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// serverToClient relays and prints what the server sends, and carries out
// STARTTLS and COMPRESS when the server accepts them: a line at a time,
// in pieces (up to a literal, or MaxLineTokens tokens; past the line
// bound, the rest as it comes).
func (ps *proxySession) serverToClient(ctx context.Context) {
	r := ps.newServerRelay()
	for {
		more, long, err := r.readPiece()
		if errors.Is(err, wire.ErrSyntax) {
			goOn, ferr := r.untokenized(ctx)
			if ferr == nil {
				if !goOn {
					return
				}
				continue
			}
			r.readFailed(ferr, true)
			return
		}
		if err != nil {
			r.readFailed(err, false)
			return
		}
		if r.start {
			r.ev = ps.tellServerLine(r.line)
			if isByeLine(r.ev, r.line) {
				ps.serverSaidBye()
			}
			r.p.begin(r.ev.Kind == wire.LineSASL, "")
			r.start = false
		}
		r.p.tokens(r.line)
		if r.ev.Stray {
			ps.strayClose(&r.p, r.ev)
			return
		}
		var goOn bool
		switch {
		case long:
			goOn = r.longRest(ctx)
		case r.ev.Withhold:
			goOn = r.withhold(more)
		case more || r.line[len(r.line)-1].Kind == wire.KindLiteral:
			goOn = r.forwardPiece(more)
		default:
			goOn = r.lastPiece(ctx)
		}
		if !goOn {
			return
		}
	}
}

// tellServerLine tells the Dialog the start of a server's line (its first
// piece, whether or not the rest tokenizes) and returns its Event. A
// completion's mark of the client's bytes read (completedAt) is taken
// first: before any of the line is relayed, what the client sent so far
// it sent without having read it. And before dialog.Server, which hands a
// literal awaiting the server's word its refusal: the client's direction
// reads the mark as soon as it has it (dropBody). Before, the mark came
// after, and a client's direction that read it first had the previous
// completion's (TestProxyPasswordLiteralRefusalMarkedBeforeItIsTold);
// until stop 63 a completion that did not tokenize ("a1 NO{x") took no
// mark at all, and a password sent at once behind the LOGIN it refused
// was read by its shape alone (TestProxyUntokenizedRefusalOfPasswordLiteralMarked).
// Then the test's hook (proxyHooks.serverLine) sees the Event.
func (ps *proxySession) tellServerLine(line []wire.Token) wire.Event {
	if tag := completionTag(line); tag != "" {
		ps.completedAt.Store(&readMark{tag: tag, read: ps.clientRead.Load()})
	}
	ev := ps.dialog.Server(line)
	if h := ps.cfg.hooks; h != nil && h.serverLine != nil {
		h.serverLine(ev)
	}
	return ev
}

// serverRelay is the state of the server's direction (serverToClient)
// from one piece of a line to the next.
type serverRelay struct {
	ps    *proxySession
	tk    *wire.Tokenizer
	w     *clientOut
	p     printer
	line  []wire.Token // the current piece
	ev    wire.Event   // the current line's (from its first piece)
	start bool         // the next piece starts a line
}

// newServerRelay returns the server's direction at its start, on the
// current layers.
func (ps *proxySession) newServerRelay() *serverRelay {
	_, server := ps.conns()
	r := &serverRelay{ps: ps, w: ps.toClient, start: true}
	r.tk = wire.NewTokenizer(ps.upstreamReader(server), nil)
	r.p.prefix = fmt.Sprintf("[%d] S: ", ps.id)
	r.p.redact = &ps.secrets
	return r
}

// readPiece reads the next piece of the server's line. more: the line
// goes on (MaxLineTokens tokens). long: a token that does not fit the
// line bound (a VANISHED (EARLIER) or ESEARCH set of a million ranges,
// which the codec reads in pieces), or text between two literals as
// long: the rest of the line is relayed without tokenizing it, in pieces
// (longRest). Its first tokens must be here, to tell the Dialog what the
// line is.
func (r *serverRelay) readPiece() (more, long bool, err error) {
	tk := r.tk
	r.line, err = tk.AppendUntilLiteral(r.line[:0])
	more = errors.Is(err, wire.ErrTooManyTokens) // the line goes on
	if more {
		err = nil
	}
	long = errors.Is(err, wire.ErrLineTooLong) && tk.Broken() == nil && (!r.start || len(r.line) > 0)
	if long {
		err = nil
	}
	return more, long, err
}

// cutLine prints the part of a line relayed before the relay ended
// inside it (a hang-up, the proxy's own close, a failed write), which
// p holds: before, it was not printed, and the trace left out the last
// thing the client got. Not after the proxy's own BYE, which nothing
// follows (errRelayClosed).
func (r *serverRelay) cutLine(err error) {
	if errors.Is(err, errRelayClosed) {
		return
	}
	r.p.note(" [the connection ended inside this line]")
	r.ps.out.line(r.p.end())
}

// untokenized relays the rest of a line that does not tokenize as it
// comes (ForwardLongLine), and reports whether the direction goes on;
// err is ForwardLongLine's error (the line is printed: readFailed
// ends the relay).
func (r *serverRelay) untokenized(ctx context.Context) (goOn bool, err error) {
	ps, tk, w, p := r.ps, r.tk, r.w, &r.p
	if r.start {
		// A line with no token read has no Event: not
		// the last line's. Nor is it passed to the Dialog
		// (which would read it as the completion of no
		// command: out of step); it is redacted inside an
		// AUTHENTICATE exchange, whatever its shape (nothing
		// of it is printed). Before, it began no printed line:
		// it kept the last line's state, printed after a
		// challenge as "[SASL data redacted, 0 bytes]" without
		// the line's prefix, and after an untagged line inside
		// the exchange as not redacted (found by review).
		r.ev = wire.Event{}
		sasl := ps.dialog.Authenticating()
		if len(r.line) > 0 {
			r.ev = ps.tellServerLine(r.line)
			sasl = r.ev.Kind == wire.LineSASL
			if isByeLine(r.ev, r.line) {
				ps.serverSaidBye()
			}
		}
		p.begin(sasl, "")
		if r.ev.Stray {
			// Out of step ("zz9 OK{x"): as for a line that
			// tokenizes, nothing of it is relayed. Before,
			// it was relayed unchanged and the relay went on.
			p.tokens(r.line)
			p.note(" [not tokenized]")
			ps.strayClose(p, r.ev)
			return false, nil
		}
		// The line's Event from the tokens read before the
		// error ("a1 OK\"x", "a1 OK{x": tokens a1 SP OK):
		// Unspaced, endServerLine does not switch.
		r.start = false
	}
	if len(r.line) > 0 {
		p.tokens(r.line) // (a SASL line's would say "0 bytes")
	}
	p.raw(p.sasl)
	err = tk.ForwardLongLine(w, maxServerLine)
	if !errors.Is(err, errRelayClosed) {
		// Not printed as relayed after the proxy's own
		// BYE: nothing reached the client (found by review).
		ps.out.line(p.end())
	}
	r.start = true
	if err != nil {
		return false, err
	}
	// Flushed, as the line ends; a STARTTLS or
	// COMPRESS it completes is carried out (or
	// refused) as for a line that tokenizes: the
	// client's direction waits for it.
	return ps.endServerLine(ctx, r.ev, tk, false), nil
}

// readFailed ends the direction on err, an error reading the server (its
// end: io.EOF) or, for a line that does not tokenize (printed), relaying
// its rest. The tokens read of an unfinished line are relayed: printed
// as such.
func (r *serverRelay) readFailed(err error, printed bool) {
	ps, tk, w, p := r.ps, r.tk, r.w, &r.p
	if !printed {
		if r.start && len(r.line) > 0 {
			r.ev = ps.tellServerLine(r.line)
			p.begin(r.ev.Kind == wire.LineSASL, "")
			r.start = false
		}
		if !r.start {
			p.tokens(r.line)
		}
	}
	_, ferr := tk.Forward(w)
	if ferr == nil {
		ferr = w.Flush()
	}
	if !printed && !r.start {
		r.cutLine(ferr)
	}
	if err != io.EOF && !errors.Is(err, net.ErrClosed) {
		ps.serverErr(err)
	}
	ps.abandonSwitch(err)
}

// longRest relays the rest of a line over the line bound as it comes,
// given up as it goes (the buffer does not grow); a literal at a line's
// end is relayed as one, and what follows it too, to the line's end. It
// reports whether the direction goes on.
func (r *serverRelay) longRest(ctx context.Context) bool {
	ps, tk, w, p, ev := r.ps, r.tk, r.w, &r.p, r.ev
	var to io.Writer = w
	if ev.Withhold {
		to = io.Discard
	}
	if !p.sasl {
		r.printLongHead()
	}
	from := tk.Offset()
	if err := tk.ForwardLongLine(to, maxServerLine); err != nil {
		if !errors.Is(err, errRelayClosed) {
			// After the proxy's own BYE nothing of the line
			// reached the client: not printed (found by review).
			ps.out.line(p.end())
		}
		ps.serverErr(err)
		ps.abandonSwitch(err)
		return false
	}
	p.note(fmt.Sprintf(" [a token or text over %d bytes: the rest of the line, %d bytes, relayed without tokenizing]", tk.MaxLineLength(), tk.Offset()-from))
	ps.out.line(p.end())
	r.start = true
	if ev.Withhold {
		return w.endLine(tk.ShouldFlush()) == nil
	}
	// Over the line bound, which the codec shares: an
	// imapkit client reads the line as a DecodeError (line
	// too long), and a STARTTLS or COMPRESS it completes is
	// not carried out but closes, as for Event.Unspaced.
	return ps.endServerLine(ctx, ev, tk, true)
}

// printLongHead prints the start of what is not tokenized of a long
// line, as the printed line's room allows: bytes already buffered, up to
// the line's end; escaped and redacted as the rest. As add, it takes
// slack bytes more than it prints, and where it stops short of the
// line's end (what is buffered, what PeekAt allows, the bound) the line
// is cut: settle drops a credential's start there.
func (r *serverRelay) printLongHead() {
	tk, p := r.tk, &r.p
	var head []byte
	ended := false
	for i := 0; i < min(tk.Buffered(), maxPrinted+p.slack); i++ {
		c, err := tk.PeekAt(i)
		if err != nil {
			break
		}
		if c == '\r' || c == '\n' {
			ended = true
			break
		}
		head = append(head, c)
	}
	p.add(head)
	if !ended {
		p.cut = true
	}
}

// withhold drops the "+" for a literal the client sent as
// non-synchronizing (forwarded as synchronizing): the client expects
// none. A "+" line announces no literal. It reports whether the
// direction goes on.
func (r *serverRelay) withhold(more bool) bool {
	ps, tk, w, p := r.ps, r.tk, r.w, &r.p
	if _, err := tk.Forward(io.Discard); err != nil {
		ps.serverErr(err)
		return false
	}
	if more {
		giveUpForwarded(tk)
		return true
	}
	p.note(" [withheld: the go-ahead for a literal the client sent as {n+}, relayed as {n}]")
	ps.out.line(p.end())
	r.start = true
	// The lines before it were held for it (more was buffered):
	// they go now, as they would at the end of a relayed line.
	return w.endLine(tk.ShouldFlush()) == nil
}

// forwardPiece relays a piece of a line that goes on: the line goes on
// (more), or the piece ends in a literal's header, relayed with its
// body. It reports whether the direction goes on.
func (r *serverRelay) forwardPiece(more bool) bool {
	ps, tk, w := r.ps, r.tk, r.w
	var err error
	if more {
		_, err = tk.Forward(w)
	} else {
		_, err = tk.ForwardLiteral(w)
	}
	if err != nil {
		r.cutLine(err)
		ps.serverErr(err)
		return false
	}
	giveUpForwarded(tk)
	return true
}

// lastPiece relays the last piece of a line, to its end (endServerLine),
// and reports whether the direction goes on.
func (r *serverRelay) lastPiece(ctx context.Context) bool {
	ps, tk, p := r.ps, r.tk, &r.p
	if _, err := tk.Forward(r.w); err != nil {
		r.cutLine(err)
		ps.serverErr(err)
		return false
	}
	ps.out.line(p.end())
	r.start = true
	return ps.endServerLine(ctx, r.ev, tk, false)
}

// strayClose ends the relay on a server's line out of step (ev.Stray),
// at the line's start, nothing of it relayed: the server reads something
// as a literal (or a SASL response) that the proxy relayed as commands.
// The client gets what was relayed before this line, then a BYE of the
// proxy's own, then the connection's end (closeClient). p holds what is
// printed of the line; it is marked as not relayed (before, a line that
// tokenized was printed as a line relayed, "S: zz9 OK done", though the
// client never had it).
func (ps *proxySession) strayClose(p *printer, ev wire.Event) {
	p.note(" [out of step: not relayed]")
	ps.out.line(p.end())
	ps.closeBye = "imapkit proxy: the server's answers are out of step with the client's commands; closing"
	if ev.Kind == wire.LineCompletion {
		ps.logf("* server side: the completion of a command the proxy did not relay as one: the proxy and the server read the client differently; closing")
	} else {
		ps.logf("* server side: a \"+\" that answers nothing the client sent: the proxy and the server read the client differently; closing")
	}
	ps.closeAll()
}

// endServerLine ends a server's line relayed whole (ev is its Event): it
// flushes when it should, and carries out a STARTTLS or COMPRESS the line
// completes. An OK that completes one with Event.Unspaced set, or on a
// line over the tokenizer's line bound (overLong: relayed in pieces), the
// codec reads as a DecodeError: an imapkit client does not switch, while
// the server may, and the connection is closed instead. It reports
// whether the server's direction goes on.
func (ps *proxySession) endServerLine(ctx context.Context, ev wire.Event, tk *wire.Tokenizer, overLong bool) bool {
	w := ps.toClient
	sw := ev.Kind == wire.LineCompletion && (ev.Command == "STARTTLS" || ev.Command == "COMPRESS") && ps.takeAwaiting(ev.Tag)
	if err := w.endLine(tk.ShouldFlush() || sw); err != nil {
		return false
	}
	if !sw {
		return true
	}
	if ev.Status != "OK" {
		ps.switched <- switchResult{}
		return true
	}
	if ev.Unspaced || overLong {
		// The server switches, the client (reading the line as an
		// error) does not: neither can be followed. The codec's line
		// bound is the proxy tokenizer's (the default).
		why := "does not parse as OK (expected SP or the line's end after OK)"
		if overLong {
			why = fmt.Sprintf("is over the line bound of %d bytes (a client reads it as an error)", tk.MaxLineLength())
		}
		err := fmt.Errorf("the completion of %s %s, while the server may take it up: closing", ev.Command, why)
		ps.logf("* server side: %v", err)
		ps.closeAll()
		ps.abandonSwitch(err)
		return false
	}
	if ev.Command == "COMPRESS" {
		ps.relayCompressed(tk)
		return false
	}
	return ps.switchTLS(ctx, tk)
}

// relayCompressed relays the rest of the connection from the server to
// the client after the server accepted COMPRESS, without decoding it:
// the bytes read ahead (tk's), then the rest as it comes.
func (ps *proxySession) relayCompressed(tk *wire.Tokenizer) {
	client, server := ps.conns()
	ps.logf("* COMPRESS=DEFLATE active: relaying the rest of the connection without decoding it")
	ps.switched <- switchResult{ok: true}
	// The relay's errors are traced as the other lines': a write
	// to the client as the client's side (clientWriteError), a
	// read of the server (a reset, the silence bound after the
	// client's end: errServerSilent) as the server's. Before, the
	// copy's error was dropped: a connection cut at the silence
	// bound, or by the server's reset, ended with no word of why
	// (found by review).
	cw := clientErrWriter{ps.clientWriter(client)}
	if b := tk.Detach(); len(b) > 0 {
		if _, err := cw.Write(b); err != nil {
			ps.serverErr(err)
			return
		}
	}
	if _, err := io.Copy(cw, ps.rawUpstreamReader(server)); err != nil {
		ps.serverErr(err)
	}
}

// switchTLS carries out a STARTTLS the server accepted: a TLS layer on
// both sides, which both directions take up (tk and clientOut here, the
// client's direction by switchResult), then on. It reports whether the
// server's direction goes on.
func (ps *proxySession) switchTLS(ctx context.Context, tk *wire.Tokenizer) bool {
	client, server := ps.conns()
	nc, ns, err := ps.startTLS(ctx, client, server)
	if err != nil {
		ps.logf("* STARTTLS: %v", err)
		ps.abandonSwitch(err)
		return false
	}
	ps.logf("* STARTTLS: TLS on both sides")
	// The server's lines over TLS are a stream of their own: the first
	// does not follow the completion before the handshake (TLS records
	// do), and no echo goes on across the switch. The carry of the
	// last line in the clear (where anyone on the path may have written)
	// redacted the first line's start where it read as a credential's
	// rest ("*** still here"): kept through the switch before stop 60,
	// as the library's tracer does not keep its own (its restart).
	ps.secrets.restart()
	ps.mu.Lock()
	ps.client, ps.server = nc, ns
	ps.mu.Unlock()
	tk.Reset(ps.upstreamReader(ns)) // nothing read before the handshake is relayed
	ps.toClient.reset(ps.clientWriter(nc))
	ps.switched <- switchResult{ok: true, client: nc, server: ns}
	return true
}

// abandonSwitch tells the client's direction, if it waits on a STARTTLS
// or COMPRESS (clientRelay.switchStreams), that the server's direction
// ended with err; it never waits itself.
func (ps *proxySession) abandonSwitch(err error) {
	select {
	case ps.switched <- switchResult{err: err}:
	default:
	}
}

// maxServerLine bounds what the relay passes on of a server's line
// without tokenizing it (from the last point where it was cut into
// pieces: a token or a status response's text longer than the line
// bound, the text between two literals, a line that does not tokenize),
// literal bodies not counted. Such a line is relayed in pieces, in a
// buffer that does not grow. It is 16 bytes for each of the
// codec.DefaultMaxNumbers numbers the library decodes of one answer with
// its default options (32 MiB): a SEARCH or SORT of 2,097,152 numbers of
// up to 10 digits is 23 MB, as is an ESEARCH's ALL or a VANISHED of
// 1,048,576 ranges. Before, the bound was the tokenizer's 1 MiB, and a
// VANISHED (EARLIER) of 1.4 MB that the library reads closed the relay.
const maxServerLine = 16 * codec.DefaultMaxNumbers

// giveUpForwarded gives up the bytes of the current line that were
// consumed, all forwarded and printed already (Drop, then Keep at once:
// MaxLineLength counts from here). MaxLineLength bounds what a line keeps
// in memory, and the relay keeps nothing of what it passed on: a server's
// line longer than 1 MiB (the SEARCH answer of 300,000 UIDs, 2.4 MB) is
// relayed in pieces in a buffer that does not grow, where it closed the
// connection. A piece is at most MaxLineTokens tokens, and the line's
// text between two literals at most MaxLineLength.
func giveUpForwarded(tk *wire.Tokenizer) {
	tk.Drop()
	tk.Keep()
}

// completionTag returns the tag of a server's line that completes a
// command, from its first piece: every byte up to the first space, as
// wire.Dialog.Server reads it; "" for an untagged line, a continuation,
// or a line that begins with a space. Where it reads a tag other than
// Server's (a token no tag has), the mark it keys (completedAt) matches
// no command, and the shapes decide alone (owedBodyLine).
func completionTag(line []wire.Token) string {
	if len(line) == 0 {
		return ""
	}
	switch line[0].Kind {
	case wire.KindStar, wire.KindPlus, wire.KindSP, wire.KindCRLF:
		return ""
	}
	var b []byte
	for _, t := range line {
		if t.Kind == wire.KindSP || t.Kind == wire.KindCRLF {
			break
		}
		b = wire.AppendToken(b, t)
	}
	return string(b)
}
