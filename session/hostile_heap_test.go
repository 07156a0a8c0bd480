package session_test

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestHostileESearchUnknownItems: with the defaults, a NOOP answered by
// one ESEARCH line of ~105 MiB made of unknown return items of 900 KiB
// each, an "ALL 1" after each. Each ALL (once the response is past 64
// KiB) copies the unknown items so far and restarts the line bound
// (codec esearchResp: t.Keep()), so no bound counts them: the line is
// decoded whole, its values held, then copied again for Responses. Want:
// the session ends the line with a typed error within the 64 MiB heap
// bound of the other hostile cases (an endless line grows the heap
// without end otherwise).
func TestHostileESearchUnknownItems(t *testing.T) {
	const value, units = 900 << 10, 120
	unit := " X " + strings.Repeat("a", value) + " ALL 1"
	hsRun(t, func(c *hostile.Conn) error {
		cmd, err := hsSelected(c, "NOOP")
		if err != nil {
			return err
		}
		if _, err := c.Copy(io.MultiReader(strings.NewReader("* ESEARCH ALL 1"), hostile.Repeat(unit, units), strings.NewReader("\r\n"))); err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK done"); err != nil {
			return err
		}
		return c.Serve()
	}, 30*time.Second, 0, func(c *hsCase, conn net.Conn) {
		if !c.selectInbox(conn) {
			return
		}
		_, err := c.run(hsNoop())
		if err == nil {
			c.t.Errorf("NOOP: no error for a %d MiB ESEARCH line", units*value>>20)
		}
	})
}

// TestHostileUnsolicitedBody: with the defaults, a NOOP during which
// the server sends an unsolicited FETCH (no command asked for it) with a
// 60 MB BODY[]. Nothing can keep it (Responses' store is bounded at 16
// MiB, MaxKeptBytes), yet the section handler collects it within
// MaxResultBytes (64 MiB: read.go sectionHandler, target nil), and keep
// then copies the whole response (CloneResponse) before it finds it over
// MaxKeptBytes and drops it: about twice the body in heap for a response
// nobody keeps. Want: the body skipped (as past the bound), the heap
// within the 64 MiB of the other hostile cases.
func TestHostileUnsolicitedBody(t *testing.T) {
	const size = 60_000_000
	hsRun(t, func(c *hostile.Conn) error {
		cmd, err := hsSelected(c, "NOOP")
		if err != nil {
			return err
		}
		if err := c.WriteString("* 2 FETCH (BODY[] {" + itoa(size) + "}\r\n"); err != nil {
			return err
		}
		if _, err := c.Copy(hostile.Repeat("x", size)); err != nil {
			return err
		}
		if err := c.Line(")"); err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK done"); err != nil {
			return err
		}
		return c.Serve()
	}, 30*time.Second, 32<<20, func(c *hsCase, conn net.Conn) {
		if !c.selectInbox(conn) {
			return
		}
		if _, err := c.run(hsNoop()); err != nil {
			c.t.Errorf("NOOP: %v", err)
		}
		if l := c.s.Responses("FETCH"); len(l) != 0 {
			c.t.Logf("kept %d FETCH", len(l))
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
