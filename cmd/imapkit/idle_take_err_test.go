package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestIdleNewCatchDropReported: idle --new's fetchNew hands on what the
// watch's Catch took before its UID FETCH went out (Take), and returns
// Take's error, a *session.ResultTooLargeError, when the Catch dropped
// responses past MaxResultBytes: events were lost, and the watch says so
// rather than go on as if none had been. Untested until now (the path
// where Take returns an error). The Catch is filled past its bound by
// what a NOOP's answer brought (no command takes a flag change of another
// message: the Catch does), in stream order before the NOOP's OK, so it
// is there when fetchNew starts. The bound is lowered (4 KiB) only to
// make the Catch drop without 64 MiB of responses: what is checked is
// that the drop is reported, not the bound.
func TestIdleNewCatchDropReported(t *testing.T) {
	client, srv := hostile.Pipe(func(c *hostile.Conn) error {
		if err := c.PreAuth("IMAP4rev1 IDLE"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			switch cmd.Name {
			case "SELECT", "EXAMINE":
				err = c.Lines("* 200 EXISTS", "* OK [UIDVALIDITY 7] x", cmd.Tag+" OK [READ-ONLY] done")
			case "NOOP":
				var b strings.Builder
				for i := 1; i <= 200; i++ {
					fmt.Fprintf(&b, "* %d FETCH (FLAGS (\\Seen \\Flagged $Label%d))\r\n", i, i)
				}
				b.WriteString(cmd.Tag + " OK done\r\n")
				err = c.WriteString(b.String())
			case "UID FETCH":
				err = c.Line(cmd.Tag + " OK nothing new")
			default:
				err = c.Line(cmd.Tag + " OK done")
			}
			if err != nil {
				return err
			}
		}
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang detector
	defer cancel()
	s, err := session.Open(ctx, client, &session.Options{MaxResultBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run(ctx, &session.Command{Name: "EXAMINE", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	ca := s.Catch()
	defer ca.Stop()
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatal(err)
	}
	next := uint64(201)
	events := 0
	_, _, err = fetchNew(ctx, s, ca, &next, func(codec.Response) bool { events++; return true }, func(jsonEvent) bool { return true })
	var tl *session.ResultTooLargeError
	if !errors.As(err, &tl) || tl.Dropped == 0 {
		t.Fatalf("fetchNew after the Catch dropped responses past its bound: %v (%d events handed on); want a *session.ResultTooLargeError saying how many were dropped", err, events)
	}
	if events == 0 {
		t.Fatalf("fetchNew handed on none of what the Catch kept")
	}
}
