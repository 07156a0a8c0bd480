package session_test

import (
	"errors"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestUIDValidityChangeRefusesMarkedCommand: the UIDVALIDITY of a
// SELECT's answer is no change (also when a mailbox was selected before); an untagged OK [UIDVALIDITY] after it (in
// a NOOP's answer) is one (UIDValidityChanges), and a command carrying
// the count read before it is not sent (ErrUIDValidity): its UIDs may
// name other messages. A command carrying the count read after is sent.
func TestUIDValidityChangeRefusesMarkedCommand(t *testing.T) {
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "SELECT":
				err = c.Lines("* 3 EXISTS", "* OK [UIDVALIDITY 5] ok", cmd.Tag+" OK [READ-WRITE] done")
			case "NOOP":
				err = c.Lines("* OK [UIDVALIDITY 6] renumbered", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	for range 2 { // the second SELECT's answer comes while one is selected
		if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
			t.Fatal(err)
		}
	}
	mark := s.UIDValidityChanges()
	if mark != 0 {
		t.Errorf("UIDValidityChanges = %d after a SELECT answered with its UIDVALIDITY; want 0", mark)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	if s.UIDValidityChanges() == mark {
		t.Fatalf("UIDValidityChanges = %d after an untagged OK [UIDVALIDITY 6]; want a change", mark)
	}
	expunge := func(mark uint32) error {
		_, err := s.Run(ctx, &session.Command{Name: "UID EXPUNGE", UIDValidity: mark, CheckUIDValidity: true, Args: func(e *wire.Encoder) { e.SP().Atom("1:3") }})
		return err
	}
	if err := expunge(mark); !errors.Is(err, session.ErrUIDValidity) || !errors.Is(err, session.ErrNotSent) {
		t.Errorf("UID EXPUNGE marked before the change: %v; want not sent, ErrUIDValidity", err)
	}
	if err := expunge(s.UIDValidityChanges()); err != nil {
		t.Errorf("UID EXPUNGE marked after the change: %v; want sent", err)
	}
}

// TestESearchRoutedByUIDIndicator: an ESEARCH without a correlator goes
// only to a command of the kind its UID indicator says (RFC 4731 section
// 3.1): "* ESEARCH UID ALL 7" is no answer to a SEARCH of sequence
// numbers, which takes the "* ESEARCH ALL 1" that follows.
func TestESearchRoutedByUIDIndicator(t *testing.T) {
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ESEARCH")
		cmd, err := c.Until("SEARCH")
		if err != nil {
			return err
		}
		if err := c.Lines("* ESEARCH UID ALL 7", "* ESEARCH ALL 1", cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	r, err := s.Run(ctx, &session.Command{Name: "SEARCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("RETURN (ALL) ALL") }})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, d := range r.Data {
		if es, ok := d.(*codec.ESearch); ok {
			got = append(got, es.UID)
		}
	}
	if len(got) != 1 || got[0] {
		t.Errorf("SEARCH took ESEARCH responses with UID indicators %v; want its own alone [false]", got)
	}
}

// TestUIDValidityRepeatedValueNoChange: an untagged OK [UIDVALIDITY] that
// repeats the value the session last read for the selected mailbox (its
// SELECT's answer's, or the last change's) changes nothing; a different
// value is one change, and after a SELECT whose answer gave no
// UIDVALIDITY, the first value read counts (nothing to compare it with).
func TestUIDValidityRepeatedValueNoChange(t *testing.T) {
	noops := []string{"5", "5", "6", "6", "6"} // the values of the NOOPs' answers
	selects := 0
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "SELECT":
				selects++
				if selects == 1 {
					err = c.Lines("* 3 EXISTS", "* OK [UIDVALIDITY 5] ok", cmd.Tag+" OK [READ-WRITE] done")
				} else {
					err = c.Lines("* 3 EXISTS", cmd.Tag+" OK [READ-WRITE] done")
				}
			case "NOOP":
				v := noops[0]
				noops = noops[1:]
				err = c.Lines("* OK [UIDVALIDITY "+v+"] valid", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	run := func(name string) {
		t.Helper()
		cmd := &session.Command{Name: name}
		if name == "SELECT" {
			cmd.Args = func(e *wire.Encoder) { e.SP().Atom("INBOX") }
		}
		if _, err := s.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	run("SELECT")
	for i, want := range []uint32{0, 0, 1, 1} { // after 5, 5, 6, 6
		run("NOOP")
		if got := s.UIDValidityChanges(); got != want {
			t.Errorf("UIDValidityChanges = %d after NOOP %d (UIDVALIDITY 5 selected, then 5, 5, 6, 6); want %d", got, i+1, want)
		}
	}
	run("SELECT") // no UIDVALIDITY in its answer
	run("NOOP")   // 6: unknown before, so a change
	if got := s.UIDValidityChanges(); got != 2 {
		t.Errorf("UIDValidityChanges = %d after the first UIDVALIDITY following a SELECT that gave none; want 2", got)
	}
}

// TestSelectedUIDValidity: SelectedUIDValidity gives the selected
// mailbox's name, its SELECT's UIDVALIDITY, then the value an untagged OK
// [UIDVALIDITY] changed it to, with the Selections count of the
// selection; nothing before a SELECT and after CLOSE. (Commands'
// APPENDUID check compares with it: TestAppendUIDOtherUIDValidityOfSelected.)
func TestSelectedUIDValidity(t *testing.T) {
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 UIDPLUS")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "SELECT":
				err = c.Lines("* 3 EXISTS", "* OK [UIDVALIDITY 5] ok", cmd.Tag+" OK [READ-WRITE] done")
			case "NOOP":
				err = c.Lines("* OK [UIDVALIDITY 6] renumbered", cmd.Tag+" OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	})
	if _, _, _, ok := s.SelectedUIDValidity(); ok {
		t.Error("SelectedUIDValidity before a SELECT: ok")
	}
	run := func(name string, args func(e *wire.Encoder)) {
		t.Helper()
		if _, err := s.Run(ctx, &session.Command{Name: name, Args: args}); err != nil {
			t.Fatal(err)
		}
	}
	run("SELECT", func(e *wire.Encoder) { e.SP().Atom("Drafts") })
	check := func(when string, want uint32) {
		t.Helper()
		name, v, sel, ok := s.SelectedUIDValidity()
		if !ok || name != "Drafts" || v != want || sel != s.Selections() {
			t.Errorf("SelectedUIDValidity %s: %q %d %d %v; want \"Drafts\" %d %d true", when, name, v, sel, ok, want, s.Selections())
		}
	}
	check("after the SELECT", 5)
	run("NOOP", nil)
	check("after OK [UIDVALIDITY 6]", 6)
	run("CLOSE", nil)
	if _, _, _, ok := s.SelectedUIDValidity(); ok {
		t.Error("SelectedUIDValidity after CLOSE: ok")
	}
}
