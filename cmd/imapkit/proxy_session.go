// One relayed connection (proxySession): its set-up, its two directions
// (proxy_client.go, proxy_server.go) run side by side, STARTTLS, and how
// it ends: which side's error is printed, the proxy's own BYE, and the
// client's close.

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// proxySession is one client's connection and its upstream.
type proxySession struct {
	id  int
	cfg *proxyConfig
	out *lockedWriter

	mu             sync.Mutex
	client, server net.Conn // the current layers (TLS after STARTTLS)
	dialog         wire.Dialog
	// toClient is what the client receives: the server's bytes, and the
	// proxy's own answers between the server's lines.
	toClient *clientOut
	// switched carries the outcome of a STARTTLS or COMPRESS from the
	// server's direction to the client's, which waits for it.
	switched chan switchResult
	// awaiting is the tag of the STARTTLS or COMPRESS that the client's
	// direction forwarded and waits on ("" when none; under mu): only its
	// completion changes the streams.
	awaiting string
	// secrets are the credentials the client sent, redacted from what
	// the server's lines are printed with (a server may echo them).
	secrets secretSet
	// stalled: a write to the client timed out (clientWriter).
	stalled atomic.Bool
	// serverStalled: a write to the server made no progress for the
	// --timeout (upstreamConn).
	serverStalled atomic.Bool
	// stopping: closeAll was called; the client direction's errors from
	// then on are its doing, not news (the closer said why).
	stopping atomic.Bool
	// clientDone: the client's direction has ended (the client's end,
	// an error): from then on the server must bring something the relay
	// writes to the client within silenceBound (upstreamReader).
	clientDone atomic.Bool
	// byeTime is the server's time to close after its first untagged BYE
	// (under deadlineMu): the server is going away, and from then it has
	// the --timeout of the proxy's waiting on it to close its connection
	// (upstreamReader).
	byeTime byeWait
	// clientBase is the client's connection below any TLS layer, whose
	// writes end at the close's bound after the server's BYE.
	clientBase *clientConn
	// byeEnded: a write to the client ended at that bound (clientConn);
	// byeTold: a read of the server did, and its error says so.
	byeEnded, byeTold atomic.Bool
	// clientRead counts the bytes read from the client's current layer
	// (clientIn: the tokenizer's reads and watch's), in the client's
	// tokenizer's offsets (both from 0 after STARTTLS).
	clientRead atomic.Int64
	// completedAt is clientRead as the server's last completion began,
	// before it was relayed (nil: none yet): the bytes the client sent
	// before it could have read that completion.
	completedAt atomic.Pointer[readMark]
	// deadlineMu orders the two setters of the server connection's read
	// deadline (upstreamReader.Read before a read, clientEnding at the
	// client's end), so that a BYE's bound set by one is not overwritten
	// by a later one that the other computed before the BYE.
	deadlineMu sync.Mutex
	// closeBye is the text of the proxy's own "* BYE" that closeClient
	// sends the client before it closes ("" for none). Set by the
	// server's direction only, at a server line's start; a constant of
	// the proxy's, never the server's bytes.
	closeBye string
}

// readMark is how many of the client's bytes were read (clientRead) as
// the server's completion of the command tagged tag began.
type readMark struct {
	tag  string
	read int64
}

type switchResult struct {
	ok     bool // the server accepted: the streams changed
	err    error
	client net.Conn // STARTTLS: the new layers
	server net.Conn
}

func (ps *proxySession) logf(format string, a ...any) {
	ps.out.line([]byte(fmt.Sprintf("[%d] ", ps.id) + fmt.Sprintf(format, a...) + "\n"))
}

// serve relays one client's connection until either side closes it.
func (ps *proxySession) serve(ctx context.Context, client net.Conn) {
	defer client.Close()
	ps.logf("* client %s connected", client.RemoteAddr())
	hctx, cancel := context.WithTimeout(ctx, ps.cfg.dialTimeout)
	// Below any TLS layer (--tls, a later STARTTLS), so that every
	// write to the client is bounded, a TLS record's too.
	ps.clientBase = &clientConn{Conn: client, bound: ps.writeBound(), stalled: &ps.stalled}
	client = ps.clientBase
	if ps.cfg.implicitTLS {
		tc := tls.Server(client, ps.cfg.downTLS)
		if err := tc.HandshakeContext(hctx); err != nil {
			cancel()
			ps.logf("* client TLS handshake: %v", err)
			return
		}
		client = tc
	}
	server, err := ps.cfg.hooks.dialUpstream(hctx, ps.cfg.upstream.addr)
	if err == nil {
		// Below any TLS layer (imaps, a later STARTTLS), so that every
		// write to the server is bounded, a TLS record's too.
		server = &upstreamConn{Conn: server, bound: ps.writeBound(), stalled: &ps.serverStalled}
	}
	if err == nil && ps.cfg.upstream.tls {
		tc := tls.Client(server, ps.cfg.upstreamTLS)
		if err = tc.HandshakeContext(hctx); err != nil {
			server.Close()
		}
		server = tc
	}
	cancel()
	if err != nil {
		ps.logf("* upstream %s: %v", ps.cfg.upstream.addr, err)
		return
	}
	defer server.Close()
	ps.client, ps.server = client, server
	ps.switched = make(chan switchResult, 1)
	ps.toClient = newClientOut(ps.clientWriter(client), ps.writeBound())
	ps.toClient.hooks = ps.cfg.hooks
	// closeAll ends both directions, whichever ends first; on the
	// proxy's shutdown both connections close at once.
	stop := context.AfterFunc(ctx, func() {
		c, s := ps.conns()
		c.Close()
		s.Close()
	})
	defer stop()
	done := make(chan struct{})
	// The client direction may wait for the server's word on a literal:
	// it ends with the server direction.
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	go func() {
		defer close(done)
		ps.clientToServer(cctx)
	}()
	ps.serverToClient(ctx)
	ccancel()
	ps.toClient.close()
	ps.closeAll()
	<-done
	// Both directions are done: nothing more of the server's is printed,
	// and the credentials' copies are zeroed (they were left to the
	// garbage collector: TestProxySecretsZeroedAtEnd).
	ps.secrets.forget()
	ps.closeClient(ctx)
	// Once closeClient is done: its flush of what was relayed (and of
	// the proxy's BYE) is bounded by --timeout as every write to the
	// client, and a client that reads nothing stalls it there too, not
	// only the server's direction before it.
	if ps.stalled.Load() {
		ps.logf("* client side: a write to the client made no progress for %v (it reads nothing): closing", ps.cfg.dialTimeout)
	}
	if ps.byeEnded.Load() && !ps.byeTold.Load() {
		ps.logf("* server side: %v", ps.byeLingerError())
	}
	ps.logf("* connection closed")
}

// closeAll ends both directions: it closes the upstream connection (the
// server's direction reads its end, the client's fails to write) and
// stops the client's direction reading, but leaves the client's
// connection open: serve closes it (closeClient) once both directions
// are done, after the client got what was relayed to it. Before, it
// closed the client's connection at once: what the proxy had buffered
// for the client (the lines before the one it closes on, not flushed
// while more of the server's bytes were buffered) was dropped, and
// closing a socket with the client's bytes unread in it sends a reset,
// which can destroy what is still in flight to the client: it read
// nothing, not even the greeting.
func (ps *proxySession) closeAll() {
	ps.stopping.Store(true)
	c, s := ps.conns()
	s.Close()
	c.SetReadDeadline(time.Now())
}

// clientErr prints the error that ends the client's direction, unless
// the connection is closing already (closeAll: the read deadline it sets,
// the upstream it closed) or closed. A write to the server that failed
// (*serverWriteError) is the server's side, and printed so. The client's
// direction passes every failed write to the server here: a Forward's, a
// Flush's, the relay's after COMPRESS (before, a failed Flush returned
// silently, and a server's reset found there was traced nowhere; found by
// review).
func (ps *proxySession) clientErr(err error) {
	// (A write to the server that stalled, within a Forward: the
	// stall's own line says it, clientToServer.)
	if ps.stopping.Load() || errors.Is(err, net.ErrClosed) || ps.serverStalled.Load() {
		return
	}
	var sw *serverWriteError
	if errors.As(err, &sw) {
		ps.logf("* server side: a write to the server failed: %s", errText(sw.err))
		return
	}
	ps.logf("* client side: %s", errText(err))
}

// proxyCloseLinger bounds how long closeClient reads (and drops) what a
// client still sends after the proxy half-closed its connection, before
// it closes it for good; proxyCloseQuiet ends it sooner, once the client
// sent nothing for that long (a client that read the end and keeps its
// side open, or closes it later: nothing of it is unread).
const (
	proxyCloseLinger = 2 * time.Second
	proxyCloseQuiet  = 200 * time.Millisecond
)

// closeClient closes the client's connection as a server does, once
// both directions are done: what is buffered for the client is flushed
// (each stretch of a write without a byte going bounded by --timeout:
// clientConn), then the proxy's "* BYE" if the server's direction set
// one (closeBye), then a half-close (over TLS a close_notify first), so
// the client reads all of it and then its end;
// what the client still sends is read and dropped until it closes its
// side or is quiet for proxyCloseQuiet, for at most proxyCloseLinger,
// and only then is the connection closed: closing with the client's
// bytes unread would send a reset (drainClient). On the proxy's shutdown
// (ctx done, before or during the drain), or when the client does not
// read (a write failed), it closes at once. The flush's writes are
// bounded by --timeout for each stretch without a byte going; the
// close_notify's by crypto/tls's own 5 s.
func (ps *proxySession) closeClient(ctx context.Context) {
	client, _ := ps.conns()
	defer client.Close()
	if ctx.Err() != nil {
		return
	}
	var bye []byte
	if ps.closeBye != "" {
		bye = []byte("* BYE " + ps.closeBye + "\r\n")
	}
	// The BYE is printed once the client has it (flushed): a client
	// that reads nothing got nothing, and the stall is printed instead
	// (serve).
	wrote, err := ps.toClient.finish(bye)
	if wrote {
		ps.traceOwn(bye)
	}
	if err != nil {
		return
	}
	raw := client
	if tc, ok := client.(*tls.Conn); ok {
		// The close_notify's write is bounded by crypto/tls itself, at
		// 5 s (it sets its own write deadline, over any set here), not
		// by --timeout.
		if tc.CloseWrite() != nil {
			return
		}
		raw = tc.NetConn()
	}
	cw, ok := raw.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	drainClient(ctx, raw, 32<<10)
}

// drainClient reads what client c still sends, after the proxy's
// half-close, and drops it, bufSize bytes at a time: until its end (or
// any error), proxyCloseQuiet of silence, proxyCloseLinger in all, or
// ctx's end (the proxy's shutdown). The caller closes c after it: closing
// with the client's bytes unread would send a reset, which can destroy
// what was sent last (a BYE) in flight. closeClient and refuseOverLimit
// drain so.
//
// The shutdown's deadline (now, set when ctx ends) wins over the loop's:
// ctx is checked again after each deadline the loop sets. A shutdown
// between the loop's check and its SetReadDeadline had its deadline
// overwritten by the loop's, and the drain went on for up to
// proxyCloseQuiet after it (TestDrainClientShutdownDeadlineWins). ctx's
// error is set before its AfterFunc runs: a shutdown after the check
// sets its deadline after the loop's.
func drainClient(ctx context.Context, c net.Conn, bufSize int) {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	end := time.Now().Add(proxyCloseLinger)
	buf := make([]byte, bufSize)
	for {
		d := time.Now().Add(proxyCloseQuiet)
		if d.After(end) {
			d = end
		}
		c.SetReadDeadline(d)
		if ctx.Err() != nil {
			return
		}
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// clientEnding bounds the server's silence from now on (upstreamReader),
// as the client's side has ended: at the end of the client's direction
// (closeUpstreamWrite), or when its end was read ahead while the
// direction waited for the server's word on a literal (clientIn.watch),
// where what the client sent before it may still go to the server.
func (ps *proxySession) clientEnding() {
	_, s := ps.conns()
	// The server's direction may be waiting in a read: from now on it is
	// bounded (upstreamReader), that one too.
	ps.toClient.clientEnded() // first: a read that sees clientDone finds wrote set
	ps.clientDone.Store(true)
	ps.deadlineMu.Lock()
	defer ps.deadlineMu.Unlock()
	at := ps.serverDeadline(ps.cfg.hooks.clock()().Add(ps.silenceBound()))
	ps.cfg.hooks.setReadDeadline(s, at)
}

// byeWait is the server's time to close after its BYE, three bounds:
//
//   - the --timeout of the proxy's reads of the server (the time the
//     proxy waits on it), not of the time the proxy spends writing to the
//     client; server activity does not reset it (a server that goes on
//     sending after its BYE has the --timeout in all);
//   - proxyByeMore bytes read from the server after the BYE (a
//     compliant server sends at most the tagged answer to a LOGOUT);
//   - proxyByeCloseTimeouts times the --timeout on the clock from the
//     BYE for the whole close: the proxy's writes to the client
//     (clientConn.setByeEnd) and its reads of the server.
//
// Before stop 63 it was the --timeout from the BYE on the clock: a client
// that read slowly held the proxy in its writes past it, and the server's
// bytes and its close, sent at once and waiting in the proxy's socket,
// were dropped unread at the proxy's next read
// (TestProxyByeSlowClientGetsAll). Then for a while the first bound
// alone: a server that trickled after its BYE (a line each 10 s, never
// closing) to a client that read slowly (a byte each 25 s) held the
// connection for as long as it went on, as the proxy hardly waited on
// it (TestProxyByeTrickleToSlowClientBounded); one that sent flat out
// to a fast client, for as long as it took to wait 30 s in all
// (TestProxyByeServerBytesBounded).
type byeWait struct {
	said bool
	left time.Duration // the rest of the --timeout
	// reading is when the read under way began (zero: none): its time
	// counts from there.
	reading time.Time
	// more is how many bytes the server may still send.
	more int64
	// end is when the close's time ends (on the proxy's clock).
	end time.Time
}

// proxyByeMore bounds the bytes the proxy reads from the server after
// its untagged BYE (counted from the read after the one that brought the
// BYE's start: what the tokenizer's buffer held then is not counted). A
// compliant server sends at most the tagged answer to a LOGOUT; the
// bound leaves room for untagged lines it sent before it saw its own
// close (64 KiB: TestProxyByeSlowClientGetsAll sends 40 KiB of ALERTs).
const proxyByeMore = 64 << 10

// proxyByeCloseTimeouts is the whole close's bound after the server's
// BYE, in --timeouts (32 minutes with the default 30 s): a client that
// reads proxyByeMore at 1 KiB per --timeout gets it all within it.
const proxyByeCloseTimeouts = 64

// serverSaidBye records that the server's line just begun is an
// untagged BYE (the first counts): the server is going away, and must
// close within the --timeout of the proxy's reads from now, send at most
// proxyByeMore bytes more, and the connection ends within
// proxyByeCloseTimeouts of the --timeout (byeWait: upstreamReader, and
// the writes to the client, clientConn). It is called by the server's
// direction between its reads.
func (ps *proxySession) serverSaidBye() {
	ps.deadlineMu.Lock()
	defer ps.deadlineMu.Unlock()
	if ps.byeTime.said {
		return
	}
	d := proxyByeCloseTimeouts * ps.writeBound()
	ps.byeTime = byeWait{said: true, left: ps.writeBound(), more: proxyByeMore, end: ps.cfg.hooks.clock()().Add(d)}
	if ps.clientBase != nil {
		ps.clientBase.setByeEnd(time.Now().Add(d), &ps.byeEnded)
	}
}

// byeLingerError is the error of a connection that did not end within
// proxyByeCloseTimeouts of the --timeout after the server's BYE.
func (ps *proxySession) byeLingerError() error {
	return fmt.Errorf("%w within %v (%d times --timeout) after it: closing", errServerByeLinger, proxyByeCloseTimeouts*ps.cfg.dialTimeout, proxyByeCloseTimeouts)
}

// serverDeadline returns the read deadline of the server's connection
// (on the proxy's clock): at (zero: none), or, after the server's BYE,
// the end of the BYE's time left (byeWait, counted from the read under
// way, else from now) or of the close's time when that comes first.
// Called with deadlineMu held.
func (ps *proxySession) serverDeadline(at time.Time) time.Time {
	if !ps.byeTime.said {
		return at
	}
	from := ps.byeTime.reading
	if from.IsZero() {
		from = ps.cfg.hooks.clock()()
	}
	end := from.Add(ps.byeTime.left)
	if ps.byeTime.end.Before(end) {
		end = ps.byeTime.end
	}
	if at.IsZero() || end.Before(at) {
		return end
	}
	return at
}

// byeReadStart records that a read of the server begins now (the
// server's time after its BYE runs during it), and returns the read's
// deadline, serverDeadline(at), and how many bytes it may bring (-1: no
// bound; 0: none, the server sent its proxyByeMore). Called with
// deadlineMu held.
func (ps *proxySession) byeReadStart(at time.Time) (time.Time, int64) {
	if !ps.byeTime.said {
		return at, -1
	}
	ps.byeTime.reading = ps.cfg.hooks.clock()()
	return ps.serverDeadline(at), max(ps.byeTime.more, 0)
}

// byeReadEnd takes the read that ended, which brought n bytes, from the
// server's time and bytes after its BYE, and reports whether that time is
// spent and whether the close's time is (lingered): a read deadline that
// passed is the BYE's (the read's deadline may have been set by
// clientEnding since the read began, so it is told by the time left).
func (ps *proxySession) byeReadEnd(n int) (spent, lingered bool) {
	ps.deadlineMu.Lock()
	defer ps.deadlineMu.Unlock()
	if !ps.byeTime.said || ps.byeTime.reading.IsZero() {
		return false, false
	}
	now := ps.cfg.hooks.clock()()
	ps.byeTime.left -= now.Sub(ps.byeTime.reading)
	ps.byeTime.reading = time.Time{}
	ps.byeTime.more -= int64(n)
	return ps.byeTime.left <= 0, !now.Before(ps.byeTime.end)
}

// isByeLine reports whether line, the first piece of a server's line of
// kind ev, is an untagged BYE ("* BYE ...", the name in any case).
func isByeLine(ev wire.Event, line []wire.Token) bool {
	return ev.Kind == wire.LineUntagged && len(line) >= 3 && line[0].Kind == wire.KindStar &&
		line[1].Kind == wire.KindSP && line[2].Kind == wire.KindAtom && bytes.EqualFold(line[2].Bytes(), []byte("BYE"))
}

// closeUpstreamWrite half-closes the current upstream connection, as the
// client's direction ends: the server reads the end of its input and ends
// the connection, and with it the server's direction, after it sent what
// it had to (a client that half-closed may still read it). Over TLS a
// close_notify goes first. Nothing else writes to the server by then; the
// write is bounded (upstreamConn: no progress for the --timeout), lest a
// server that does not read hold it.
func (ps *proxySession) closeUpstreamWrite() {
	ps.clientEnding()
	_, s := ps.conns()
	// The close_notify's write and the rest of what is written are
	// bounded by upstreamConn (no progress for the --timeout).
	if tc, ok := s.(*tls.Conn); ok {
		tc.CloseWrite()
		s = tc.NetConn()
	}
	if cw, ok := s.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		s.Close()
	}
}

func (ps *proxySession) conns() (client, server net.Conn) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.client, ps.server
}

// takeAwaiting reports whether the client's direction waits on the
// STARTTLS or COMPRESS tagged tag, and stops it waiting for another.
func (ps *proxySession) takeAwaiting(tag string) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.awaiting == "" || ps.awaiting != tag {
		return false
	}
	ps.awaiting = ""
	return true
}

// stalledMidLine prints why the connection closes when an answer of the
// proxy's own waited for a server's line that made no progress for
// --timeout (errServerStalled). No BYE can go: it would land inside the
// server's line; the client gets what was relayed, then the connection's
// end.
func (ps *proxySession) stalledMidLine() {
	ps.logf("* server side: sent nothing more of its line for %v while the proxy had an answer for the client (--timeout): closing", ps.cfg.dialTimeout)
}

// bye sends the client an untagged BYE of the proxy's own: the last line
// the client gets (clientOut.ended). It is printed once sent (flushed):
// before, it was printed first, and printed all the same when the client
// read nothing or the server's direction had ended (not written at all).
func (ps *proxySession) bye(text string) {
	line := []byte("* BYE " + text + "\r\n")
	err := ps.toClient.injectLast(line)
	if err == nil {
		ps.traceOwn(line)
	} else if errors.Is(err, errServerStalled) {
		ps.stalledMidLine()
	}
}

// serverErr prints the error that ends the server's direction, unless it
// is the client's side closed by the proxy's own BYE (errRelayClosed), or
// the connection is closing already (closeAll: the upstream it closed),
// as clientErr does: whoever closed said why. Before, the stall close
// was followed by "* server side: read tcp ...: use of closed network
// connection". A write to the client that failed (*clientWriteError) is
// the client's side, not the server's: a write that timed out is printed
// by serve (stalled), others as "* client side: ...".
func (ps *proxySession) serverErr(err error) {
	if errors.Is(err, errRelayClosed) || ps.stopping.Load() || errors.Is(err, net.ErrClosed) {
		return
	}
	var cw *clientWriteError
	if errors.As(err, &cw) {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			ps.logf("* client side: %s", errText(cw.err))
		}
		return
	}
	ps.logf("* server side: %s", errText(err))
}

// traceOwn prints a line of the proxy's own to the client, with the
// client's credentials redacted as from the server's lines: an answer
// echoes no line printed redacted (answerRefused), and this keeps it so.
func (ps *proxySession) traceOwn(line []byte) {
	var p printer
	p.prefix = fmt.Sprintf("[%d] P: ", ps.id)
	p.redact, p.own = &ps.secrets, true
	p.begin(false, "")
	p.add(bytes.TrimSuffix(line, []byte("\r\n")))
	ps.out.line(p.end())
}

// errText is err as the trace prints it: a *wire.SyntaxError without its
// excerpt of the input, which may be a password (a LOGIN's rest that does
// not tokenize); only its offset and what was expected are kept.
func errText(err error) string {
	var se *wire.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("a line that does not tokenize (at offset %d: expected %s)", se.Offset, se.Expected)
	}
	return err.Error()
}

// startTLS does the two handshakes of a STARTTLS the server accepted.
func (ps *proxySession) startTLS(ctx context.Context, client, server net.Conn) (net.Conn, net.Conn, error) {
	if ps.cfg.downTLS == nil {
		return nil, nil, errors.New("the client asked for STARTTLS but the proxy has no certificate (--self-signed or --cert/--key)")
	}
	hctx, cancel := context.WithTimeout(ctx, ps.cfg.dialTimeout)
	defer cancel()
	// The handshakes are bounded by hctx; the client's write deadline
	// left by the last relayed write (clientWriter: that write's start
	// plus the bound) would cut the proxy's handshake short of it. (The
	// server's writes get a deadline each, upstreamConn.)
	client.SetWriteDeadline(time.Time{})
	ts := tls.Client(server, ps.cfg.upstreamTLS)
	errc := make(chan error, 1)
	go func() { errc <- ts.HandshakeContext(hctx) }()
	tc := tls.Server(client, ps.cfg.downTLS)
	err := tc.HandshakeContext(hctx)
	if serr := <-errc; err == nil && serr != nil {
		err = fmt.Errorf("upstream: %w", serr)
	} else if err != nil {
		err = fmt.Errorf("client: %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	return tc, ts, nil
}
