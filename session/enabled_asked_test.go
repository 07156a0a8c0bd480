package session_test

import (
	"testing"

	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestEnabledOnlyWhatAnEnableAskedAndGot: an ENABLED response turns on
// only what the ENABLE in flight asked for, and only once that ENABLE
// is answered OK (RFC 5161 section 3.2). An ENABLE refused (BAD after
// its ENABLED) turns nothing on; an ENABLED naming more than was asked
// turns on only what was asked; one answering a NOOP, nothing.
// Defaults.
func TestEnabledOnlyWhatAnEnableAskedAndGot(t *testing.T) {
	conn, wait := transcript.Start(t, `
		S: * PREAUTH [CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT QRESYNC CONDSTORE] hi
		C: A1 ENABLE UTF8=ACCEPT
		S: * ENABLED UTF8=ACCEPT
		S: A1 BAD not today
		C: A2 NOOP
		S: * ENABLED UTF8=ACCEPT CONDSTORE
		S: A2 OK done
		C: A3 ENABLE CONDSTORE
		S: * ENABLED CONDSTORE UTF8=ACCEPT QRESYNC
		S: A3 OK enabled
	`)
	s := transcript.Open(t, conn, &session.Options{TagPrefix: "A"})
	ctx := hangCtx(t)
	enable := func(ext string) *session.Command {
		return &session.Command{Name: "ENABLE", Args: func(e *wire.Encoder) { e.SP().Atom(ext) }}
	}
	check := func(when string, utf8, condstore bool) {
		t.Helper()
		if s.UTF8Enabled() != utf8 || s.Enabled("UTF8=ACCEPT") != utf8 || s.Enabled("CONDSTORE") != condstore || s.Enabled("QRESYNC") {
			t.Errorf("after %s: UTF8Enabled %v, CONDSTORE %v, QRESYNC %v; want %v, %v, false",
				when, s.UTF8Enabled(), s.Enabled("CONDSTORE"), s.Enabled("QRESYNC"), utf8, condstore)
		}
	}
	if _, err := s.Run(ctx, enable("UTF8=ACCEPT")); err == nil {
		t.Fatal("ENABLE answered BAD: no error")
	}
	check("an ENABLE refused after its ENABLED", false, false)
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	check("an ENABLED answering a NOOP", false, false)
	if _, err := s.Run(ctx, enable("CONDSTORE")); err != nil {
		t.Fatal(err)
	}
	check("ENABLE CONDSTORE answered with more", false, true)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
