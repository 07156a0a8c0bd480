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

// clientToServer relays and prints what the client sends.
func (ps *proxySession) clientToServer(ctx context.Context) {
	client, server := ps.conns()
	defer ps.clientToServerEnded()
	tk := wire.NewTokenizer(client, nil)
	w := bufio.NewWriterSize(server, 32<<10)
	var p printer
	p.prefix = fmt.Sprintf("[%d] C: ", ps.id)
	p.secrets = &ps.secrets
	var line []wire.Token
	var ev wire.Event
	start := true
	// secure: credentials may go upstream (TLS there, loopback, or the
	// user's explicit choice).
	secure := ps.cfg.upstream.tls || ps.cfg.insecurePlaintext || isLoopback(server)
	var lineStart int64 // where the current line began in the client's stream
	var litBytes int64  // the bodies of its literals relayed so far
	for {
		var err error
		if start {
			lineStart, litBytes = tk.Offset(), 0
		}
		line, err = tk.AppendUntilLiteral(line[:0])
		// A line of more than MaxLineTokens tokens comes in pieces: the
		// next call goes on with the same line.
		more := errors.Is(err, wire.ErrTooManyTokens)
		if more {
			err = nil
		}
		if err != nil {
			if errors.Is(err, wire.ErrSyntax) {
				// A line that does not tokenize is not relayed: the
				// server may read it otherwise than ForwardLine would
				// relay it (a "{n+}" after the error relayed as a
				// literal, its body a command the server runs, hidden
				// from the trace and from the credentials check).
				if !start {
					// Part of the command went upstream already: it
					// cannot be refused, and the rest may not be relayed.
					ps.logf("* client side: a command that does not tokenize after its first part: closing")
					ps.closeAll()
					return
				}
				// Even with no token: the Dialog counts the line, and
				// says whether the server reads it as text.
				if ps.dialog.WouldWait(line) {
					if err := w.Flush(); err != nil {
						ps.clientErr(err)
						return
					}
				}
				if ev, err = ps.dialog.ClientWait(ctx, line); err != nil {
					return
				}
				p.begin(ev.Kind == wire.LineSASL, ev.Command)
				start = false
				if ev.Raw {
					// The server reads the line as text: the proxy's
					// answer would not be the server's.
					ps.logf("* client side: a SASL or IDLE line that does not tokenize: closing")
					ps.closeAll()
					return
				}
				why := ""
				if len(line) > 0 {
					why = ps.refusal(ev, secure)
				}
				if why == "" {
					why = "BAD imapkit proxy: a line that cannot be tokenized is not relayed"
				}
				p.note("[redacted]")
				ps.out.line(p.refused())
				start = true
				// Commands relayed before it go out first: the client
				// may wait for their answers.
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
				if err := ps.refuseLine(tk, ev.Tag, why, lineStart); err != nil {
					ps.refuseFailed(err)
					ps.closeAll()
					return
				}
				continue
			}
			// What was read of an unfinished line is not relayed: it was
			// not classified (a LOGIN cut by a limit or by the client's
			// end would reach the server in part).
			ferr := w.Flush()
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
			return
		}
		if start {
			// A line sent during AUTHENTICATE or IDLE before the server's
			// word waits for it: it decides how the server reads the line;
			// and a command waits while 1,024 commands await their
			// completions. What is buffered goes out first: the word may
			// answer it.
			if ps.dialog.WouldWait(line) {
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
			}
			if ev, err = ps.dialog.ClientWait(ctx, line); err != nil {
				return
			}
			cmd := ev.Command
			if ev.Kind == wire.LineCommand && ev.Raw {
				// The server reads the line as the IDLE's answer, but a
				// confused client may have sent a command there: its
				// credentials are redacted all the same, and not sent
				// in the clear (the proxy cannot answer for the server,
				// which ends the IDLE on such a line: it closes).
				cmd = rawCommandName(line)
				if redactedCommand(cmd) && !secure {
					ps.logf("* client side: %s sent as the IDLE's answer, to an upstream in the clear: not relayed; closing", cmd)
					ps.closeAll()
					return
				}
			}
			p.begin(ev.Kind == wire.LineSASL, cmd)
			start = false
			why := ps.refusal(ev, secure)
			if why == "" && ev.Kind == wire.LineCommand {
				why = midLineRefusal(ev.Command, line)
			}
			if why == "" && ev.Kind == wire.LineCommand && !ev.Raw && tk.Offset()-lineStart > maxCommandLine {
				why = fmt.Sprintf("BAD imapkit proxy: a command line over %d bytes is not relayed", maxCommandLine)
			}
			if why != "" {
				p.tokens(line)
				ps.out.line(p.refused())
				// Commands relayed before it go out first: the client
				// may wait for their answers.
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
				if err := ps.refuse(tk, line, ev.Tag, why, lineStart); err != nil {
					ps.refuseFailed(err)
					ps.closeAll()
					return
				}
				start = true
				continue
			}
		}
		if ev.Kind == wire.LineCommand && !ev.Raw && tk.Offset()-lineStart-litBytes > maxCommandLine {
			// A later part of the line (the first part went up) takes it
			// past the bound: it cannot be refused any more.
			ps.logf("* client side: a command line over %d bytes (literals not counted): closing", maxCommandLine)
			ps.closeAll()
			return
		}
		if ev.Raw && tk.Offset()-lineStart > maxRawLine {
			// A SASL response or IDLE's answer: the server reads it as
			// text, but not without end, and what it does at its limit
			// differs (Cyrus 3.6 fails the AUTHENTICATE after 21,847
			// bytes of a response and runs the rest of the line as a
			// command; Dovecot closes the connection).
			ps.logf("* client side: a SASL response or IDLE answer of more than %d bytes: closing", maxRawLine)
			ps.closeAll()
			return
		}
		p.tokens(line)
		if more {
			if _, err := tk.Forward(w); err != nil {
				ps.clientErr(err)
				return
			}
			continue
		}
		last := line[len(line)-1]
		if last.Kind == wire.KindLiteral && ev.Raw && last.Literal().NonSync && redactedCommand(rawCommandName(line)) {
			// A LOGIN or AUTHENTICATE as IDLE's answer, ending in "{n+}":
			// the server reads the line as text and what follows as a
			// new command, but the client, taking it for a command, has
			// sent the literal's body behind it: a password, which would
			// be printed (and relayed) as a command line. The connection
			// closes. (Other such lines go on as the server reads them.)
			ps.logf("* client side: a %s ending in a non-synchronizing literal as the IDLE's answer: closing", rawCommandName(line))
			ps.closeAll()
			return
		}
		if last.Kind == wire.KindLiteral && ev.Raw {
			// A SASL response or IDLE's answer: the server reads it as
			// text, so "{n}" ends it, and no body follows.
			if _, err := tk.Forward(w); err != nil {
				ps.clientErr(err)
				return
			}
			if err := tk.RefuseLiteral(); err != nil {
				ps.clientErr(err)
				ps.closeAll()
				return
			}
			ps.out.line(p.end())
			start = true
			if err := w.Flush(); err != nil {
				ps.clientErr(err)
				return
			}
			continue
		}
		if last.Kind == wire.KindLiteral {
			// The server's word comes next: "+" or the command's
			// completion. The client sends a synchronizing literal's body
			// only if the server lets it: refused (APPEND's NO
			// [TRYCREATE]), its next line is a new command, not literal
			// data. A non-synchronizing literal goes to the server as
			// synchronizing, so that the server says whether it reads the
			// body (Dovecot runs the bytes after "a NOOP {18+}" as a
			// command of their own); its "+" is not relayed.
			lit := last.Literal()
			ps.out.line(p.cont())
			goAhead := false
			if ps.dialog.ExpectContinuation(lit) {
				if _, err := tk.ForwardAsSync(w); err != nil {
					ps.clientErr(err)
					return
				}
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
				if goAhead, err = ps.dialog.WaitContinuation(ctx); err != nil {
					return
				}
			} else {
				// The command was completed already (an APPEND's NO
				// after its first message): the server reads the rest
				// of its line to a synchronizing literal's header, or
				// this as a line without a tag, and no body.
				if _, err := tk.ForwardAsSync(w); err != nil {
					ps.clientErr(err)
					return
				}
				if err := w.Flush(); err != nil {
					ps.clientErr(err)
					return
				}
			}
			if !goAhead {
				if lit.NonSync {
					// The client sent the body: it and the rest of the
					// command are dropped, as the server did not read them.
					err = tk.RefuseCommand(line)
					if errors.Is(err, wire.ErrSyntax) {
						// A rest that does not tokenize: dropped to
						// the line's end all the same.
						err = tk.RefuseLine()
					}
					p.note(" [dropped: the literal the client sent as {n+} and the rest of its command; the server refused it]")
					ps.out.line(p.end())
				} else {
					err = tk.RefuseLiteral()
				}
				if err != nil {
					ps.clientErr(err)
					ps.closeAll()
					return
				}
				start = true
				continue
			}
			var lw io.Writer = w
			var cw *captureWriter
			if p.secretLit {
				// A password sent as a literal: keep it to redact.
				if _, err := tk.Forward(w); err != nil {
					ps.clientErr(err)
					return
				}
				cw = &captureWriter{w: w, max: 1024}
				lw = cw
			}
			n, err := tk.ForwardLiteral(lw)
			if err != nil {
				ps.clientErr(err)
				return
			}
			litBytes += n
			if cw != nil {
				ps.secrets.add(cw.buf)
			}
			continue
		}
		wait := ev.Kind == wire.LineCommand && (ev.Command == "STARTTLS" || ev.Command == "COMPRESS")
		if wait {
			ps.mu.Lock()
			ps.awaiting = ev.Tag
			ps.mu.Unlock()
		}
		if _, err := tk.Forward(w); err != nil {
			ps.clientErr(err)
			return
		}
		ps.out.line(p.end())
		start = true
		// After AUTHENTICATE, IDLE or a SASL response, the next line may
		// wait in ClientWait for the server's answer to this one: it must
		// have gone out, though the client sent more behind it.
		answered := ev.Kind == wire.LineSASL || ev.Kind == wire.LineCommand && (ev.Command == "AUTHENTICATE" || ev.Command == "IDLE")
		if tk.ShouldFlush() || wait || answered {
			if err := w.Flush(); err != nil {
				ps.clientErr(err)
				return
			}
		}
		if !wait {
			continue
		}
		// The server's answer decides what the streams become.
		var res switchResult
		select {
		case res = <-ps.switched:
		case <-ctx.Done():
			return
		}
		if res.err != nil {
			return
		}
		if !res.ok {
			continue
		}
		if ev.Command == "COMPRESS" {
			// Bytes read ahead belong to the compressed stream.
			// Its errors are traced as before COMPRESS: a write to
			// the server that failed (*serverWriteError) as the
			// server's side, a read of the client as the client's
			// (clientErr; a stall by clientToServerEnded). Before,
			// they were dropped: a server's reset after COMPRESS was
			// traced nowhere (found by review).
			if b := tk.Detach(); len(b) > 0 {
				if _, err := server.Write(b); err != nil {
					ps.clientErr(err)
					return
				}
			}
			if _, err := io.Copy(server, client); err != nil {
				ps.clientErr(err)
			}
			return
		}
		client, server = res.client, res.server
		secure = true
		tk.Reset(client) // nothing read before the handshake is relayed
		w.Reset(server)
	}
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
