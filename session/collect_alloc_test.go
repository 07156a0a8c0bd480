package session_test

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// TestCollectedSectionAllocatesAsItArrives: a body section the session
// collects (a collecting Run's FETCH, an unsolicited FETCH) is allocated
// as its bytes arrive, not at the size its literal announces: a server
// that announces 60 MB (within the default MaxResultBytes) and sends a
// few bytes before it hangs up made the session allocate the 60 MB at
// once (a few bytes on the wire for 60 MB of heap, held until the stall
// timeout when the server stalls instead). Found by review. Default
// options.
func TestCollectedSectionAllocatesAsItArrives(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  string // the command whose answer brings the body
		line string // the FETCH's start
		size int    // the body's announced size: collected, not skipped
	}{
		// Within MaxResultBytes (64 MiB).
		{"run", "FETCH", "* 1 FETCH (BODY[] {", 60_000_000},
		// No command's: within MaxKeptBytes (16 MiB).
		{"unsolicited", "NOOP", "* 1 FETCH (BODY[1] {", 15_000_000},
	} {
		size := tc.size
		t.Run(tc.name, func(t *testing.T) {
			ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
				if _, err := hsSelected(c, tc.cmd); err != nil {
					return err
				}
				if err := c.WriteString(tc.line + strconv.Itoa(size) + "}\r\n" + strings.Repeat("x", 1000)); err != nil {
					return err
				}
				return c.Close()
			})
			if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
				t.Fatal(err)
			}
			cmd := &session.Command{Name: tc.cmd}
			if tc.cmd == "FETCH" {
				cmd.Args = func(e *wire.Encoder) { e.SP().Raw("1 BODY[]") }
			}
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err := s.Run(ctx, cmd)
			runtime.ReadMemStats(&m1)
			if !errors.Is(err, session.ErrAborted) {
				t.Errorf("%s: %v; want the session aborted (the server hung up mid-body)", tc.cmd, err)
			}
			if got := m1.TotalAlloc - m0.TotalAlloc; got > 8<<20 {
				t.Errorf("%s: allocated %.1f MiB for a body of %d bytes announced and 1,000 sent; want well under the %d announced", tc.cmd, float64(got)/(1<<20), size, size)
			}
		})
	}
}

// TestCollectedSectionWhole: a collected body larger than what
// collectSection allocates before its bytes arrive (1 MiB) comes whole
// and unchanged, its buffer grown as it came. Default options.
func TestCollectedSectionWhole(t *testing.T) {
	const size = 3_000_001
	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	ctx, s := hostileOpen(t, 10*time.Second, func(c *hostile.Conn) error {
		cmd, err := hsSelected(c, "FETCH")
		if err != nil {
			return err
		}
		if err := c.WriteString("* 1 FETCH (BODY[] {" + strconv.Itoa(size) + "}\r\n"); err != nil {
			return err
		}
		if err := c.Write(body); err != nil {
			return err
		}
		if err := c.Lines(" UID 7)", cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1 BODY[]") }})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, d := range r.Data {
		if f, ok := d.(*codec.Fetch); ok && len(f.Sections) == 1 {
			got = f.Sections[0].Data
		}
	}
	if !bytes.Equal(got, body) {
		t.Errorf("the body came as %d bytes, not the %d sent (or differs)", len(got), size)
	}
}
