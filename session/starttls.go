// STARTTLS (RFC 9051 section 6.2.1).

package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// TLS reports whether the connection is TLS: a *tls.Conn given to Open, or
// upgraded by StartTLS.
func (s *Session) TLS() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsOn
}

// StartTLS upgrades the connection (RFC 9051 section 6.2.1). It refuses,
// sending nothing, when TLS is already on, when COMPRESS=DEFLATE is on
// (ErrCompressActive: after COMPRESS and UNAUTHENTICATE the handshake
// would go under the deflate stream), when the server lacks STARTTLS,
// and when there is no server name to verify the certificate against
// (cfg.ServerName, Options.ServerName, or the host a connection from
// transport.Dial was dialled as: transport.ErrNoServerName). Every byte received
// before the handshake is thrown away, and what the session learnt in the
// clear is forgotten (RFC 9051 section 6.2.1): the capabilities, asked for
// again, with the LITERAL+ or LITERAL- they announced, what an ENABLED
// said, and the responses kept for Responses. The unsolicited responses
// read in the clear and not yet handed to Options.OnUnsolicited when
// STARTTLS's OK comes are dropped (counted in DroppedUnsolicited), and so
// is what a running Catch holds, with its count of responses its bound
// dropped in the clear (neither counted in DroppedUnsolicited: a Take after
// StartTLS returns, and reports as dropped, only what came over TLS),
// whether the handshake succeeds or fails. OnUnsolicited is handed at most
// one pre-TLS response after the OK: the one the event loop took off the
// queue before the OK came (it hands each on after releasing the
// session's lock), handed on as the OK is read; one handed before the OK
// stays handed. The handshake after STARTTLS's OK is not ended by ctx: when ctx
// ends first, StartTLS returns its error and the session goes on with the
// handshake, for transport.DefaultHandshakeTimeout past ctx's deadline at
// most (or DefaultHandshakeTimeout, ctx having none), and the stall
// timeout; a failure then ends the session, as any handshake failure does.
func (s *Session) StartTLS(ctx context.Context, cfg *tls.Config) error {
	s.mu.Lock()
	on, compressed := s.tlsOn, s.compressed
	s.mu.Unlock()
	if on {
		return ErrTLSActive
	}
	if compressed {
		// COMPRESS, then UNAUTHENTICATE: the handshake would run on the
		// raw connection under a deflate stream that stays on.
		return fmt.Errorf("session: STARTTLS: %w (TLS cannot go under COMPRESS=DEFLATE: upgrade before compressing)", ErrCompressActive)
	}
	if !s.HasCap("STARTTLS") {
		return ErrStartTLSUnavailable
	}
	host := s.opts.ServerName
	if cfg != nil && cfg.ServerName != "" {
		host = cfg.ServerName
	}
	if host == "" {
		// The host a connection from transport.Dial was dialled as.
		host = transport.ServerName(s.wc.Conn)
	}
	if host == "" && (cfg == nil || !cfg.InsecureSkipVerify) {
		// Known before anything is sent: after STARTTLS's OK the
		// session would be lost with it.
		return fmt.Errorf("session: STARTTLS: %w (set session.Options.ServerName, or ServerName in the tls.Config, to the host the certificate must name)", transport.ErrNoServerName)
	}
	p, err := s.register(ctx, &Command{Name: "STARTTLS"}, nil)
	if err != nil {
		return err
	}
	p.upgrade = func() error {
		// Before the handshake, whatever its outcome: nothing read in
		// the clear reaches the caller after STARTTLS's OK, but the one
		// response the event loop may have taken already.
		s.dropPreTLSEvents()
		raw := s.wc // the handshake's reads keep the stall timeout
		// Not ended by the caller's context: once STARTTLS's OK has come
		// the handshake must run or the session is lost, and a StartTLS
		// returning its context's error means, as for any command, that
		// the session goes on. Its bound: the caller's deadline and
		// transport.DefaultHandshakeTimeout more (so that the caller's
		// context always ends first), else DefaultHandshakeTimeout
		// (transport's own); the stall timeout too (raw is s.wc).
		hctx := context.WithoutCancel(ctx)
		if d, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			hctx, cancel = context.WithDeadline(hctx, d.Add(s.wc.handshakeAllowance()))
			defer cancel()
		}
		tc, err := transport.StartTLS(hctx, raw, host, cfg)
		var tte *transport.TimeoutError
		if err != nil && isTimeout(err) && !errors.As(err, &tte) && hctx.Err() == nil {
			// Not its context, not transport's own bound: the session's
			// stall timeout cut the handshake (raw is s.wc).
			err = &TimeoutError{What: TimeoutStall, After: s.wc.stallAfter(), Err: err}
		}
		if err != nil {
			return err
		}
		if n := s.tok.Buffered() + s.pr.n - s.pr.off; n > 0 && s.log != nil {
			s.log.Warn("imap: discarding bytes received after STARTTLS's OK (possible injection)", "bytes", n)
		}
		s.wmu.Lock()
		s.tr.restart()
		s.tok.Reset(s.pr.reset(s.tr.reader(tc)))
		s.cw.w = s.tr.writer(tc)
		// conn is set under both locks: writers read it under wmu,
		// abortWith (Close, Abort, from any goroutine, sometimes with
		// wmu held) under mu.
		s.mu.Lock()
		s.conn = tc
		s.tlsOn = true
		s.forgetPreTLSLocked()
		s.mu.Unlock()
		s.wmu.Unlock()
		return nil
	}
	if err := s.send(ctx, p, true); err != nil {
		return err
	}
	if _, err := p.Wait(ctx); err != nil {
		return err
	}
	_, err = s.Capabilities(ctx)
	return err
}

// forgetPreTLSLocked forgets what the session learnt in the clear (under
// mu), as RFC 9051 section 6.2.1 asks: anyone on the path could have
// written it. The capabilities (asked for again), the LITERAL+ and
// LITERAL- the encoder took from them (a LITERAL+ added to the clear
// greeting would otherwise shape the password's literal when the
// CAPABILITY after TLS fails), what an ENABLED turned on, and the
// responses kept for Responses (an ALERT, a CAPABILITY, STARTTLS's own
// OK). The rest of the session holds nothing from before: STARTTLS is
// refused past NONAUTH, so no mailbox is selected (its count, its
// UIDVALIDITY) and no one is authenticated. What stays: the greeting
// (Welcome, as received), the counters, and the unsolicited responses
// already handed to OnUnsolicited, which saw them as they came (those
// still queued were dropped as the OK came: dropPreTLSEvents).
func (s *Session) forgetPreTLSLocked() {
	s.caps = nil
	s.capsStale = true
	s.litPlus, s.litMinus = false, false
	s.enabled = 0
	s.clearStoreLocked()
}

// dropPreTLSEvents drops the unsolicited responses read in the clear and
// not yet handed on, as STARTTLS's OK comes (on the reader goroutine,
// before the handshake): those queued for OnUnsolicited (counted in
// DroppedUnsolicited) and those the running Catches hold (a Catch's Stop
// would queue them for OnUnsolicited). Anyone on the path could have
// written them (the STARTTLS response-injection class; RFC 9051 section
// 6.2.1), and handed on after StartTLS returned they would pass for
// responses of the TLS connection. The one the handler is running with,
// and those handed to it or taken from a Catch before, stay handed; so
// does the one the event loop took off the queue before this and has not
// handed to the handler yet (it calls the handler after unlocking mu): it
// may reach the handler after the OK. What a Catch held is not counted in
// DroppedUnsolicited (dropPreTLSLocked).
func (s *Session) dropPreTLSEvents() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.droppedEvents += uint64(len(s.events))
	clear(s.events)
	s.events = s.events[:0]
	s.eventBytes = 0
	for c := s.catch; c != nil; c = c.prev {
		c.dropPreTLSLocked()
	}
}

// dropPreTLSLocked empties c as STARTTLS's OK comes (under mu): what it
// held, and its count of what its bound dropped in the clear, with the
// "full" state that count stands for (fullLocked), so that what the TLS
// connection brings is caught and a Take reports nothing of the clear
// stream. Neither is counted in DroppedUnsolicited: it was bound for a
// Take, not for OnUnsolicited.
func (c *Catch) dropPreTLSLocked() {
	c.items, c.at, c.bytes, c.dropped = nil, nil, 0, 0
	c.mark, c.markBytes, c.markDropped = 0, 0, 0
}

// handshakeAllowance is how long StartTLS's handshake may go on past the
// caller's deadline: transport.DefaultHandshakeTimeout; when a test runs
// the stall timeout faster (testStallSpeed), that as much faster, so that
// the caller's deadline, the stall timeout and the handshake's bound keep
// their order and ratios (TestStartTLSDeadlineCalledStall).
func (c *watchConn) handshakeAllowance() time.Duration {
	if c.nominal != 0 && c.stall > 0 {
		if k := c.nominal / c.stall; k > 1 {
			return transport.DefaultHandshakeTimeout / k
		}
	}
	return transport.DefaultHandshakeTimeout
}
