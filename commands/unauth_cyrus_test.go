//go:build linux

package commands_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestUnauthenticateCyrus: UNAUTHENTICATE (RFC 8437) against Cyrus, which
// offers it to its administrators alone. The session is back in NONAUTH
// with the capabilities read again, and another user can log in on the
// same connection. What ENABLE turned on before is off: Cyrus answers a
// SELECT (QRESYNC ...) after the next LOGIN with "BAD Invalid Select
// modifier QRESYNC". The session kept its enabled set, so Select with
// QResync went to the server for that BAD instead of the ErrNotEnabled
// that says to call Enable (and a UTF8=ACCEPT session would have gone on
// sending mailbox names as UTF-8). Unauthenticate had no test before.
func TestUnauthenticateCyrus(t *testing.T) {
	addr, alice := cyAlice(t)
	ctx := dvCtx(t)
	if err := alice.Unauthenticate(ctx); !errors.Is(err, commands.ErrUnsupported) {
		t.Errorf("Unauthenticate as alice (Cyrus offers it to admins): %v; want ErrUnsupported", err)
	}
	c := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if on, err := c.Enable(ctx, "QRESYNC"); err != nil || !slices.Contains(on, "QRESYNC") {
		t.Fatalf("ENABLE QRESYNC: %v %v", on, err)
	}
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.Session()
	if st := s.State(); st != session.StateNonAuth {
		t.Fatalf("state after UNAUTHENTICATE: %v; want NONAUTH", st)
	}
	if s.Enabled("QRESYNC") || s.Enabled("CONDSTORE") {
		t.Errorf("QRESYNC still counted as enabled after UNAUTHENTICATE")
	}
	caps, err := c.Capability(ctx)
	if err != nil || !slices.Contains(caps, "AUTH=PLAIN") {
		t.Errorf("capabilities after UNAUTHENTICATE: %v %v; want the NONAUTH ones (AUTH=PLAIN)", caps, err)
	}
	if err := c.Login(ctx, "alice", "pass"); err != nil {
		t.Fatalf("LOGIN alice after UNAUTHENTICATE: %v", err)
	}
	q := &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 1, ModSeq: 1}}
	if _, err := c.Select(ctx, "INBOX", q); !errors.Is(err, commands.ErrNotEnabled) {
		t.Fatalf("Select with QResync after UNAUTHENTICATE and LOGIN: %v; want ErrNotEnabled (ENABLE is off again)", err)
	}
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", q); err != nil {
		t.Fatalf("Select with QResync after ENABLE again: %v", err)
	}
}
