package commands_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
)

// TestSectionBufferAllocatesAsItArrives: a streamed body section that
// Fetch keeps whole (up to FetchItems.BufferMax) is read into memory that
// grows as its bytes arrive, not at the size its literal announces: a
// server that announced 100 MB and hung up after 1,000 bytes had the
// Client allocate the 100 MB at once (up to the tokenizer's MaxLiteral, 1
// GiB, for a caller who keeps every section whole). Found by review. The
// session's options are the defaults; BufferMax is set (the default keeps
// 4 KiB) because the case is a caller who keeps large sections whole.
func TestSectionBufferAllocatesAsItArrives(t *testing.T) {
	const size = 100_000_000
	c := hostileClient(t, func(hc *hostile.Conn) error {
		if err := hc.PreAuth("IMAP4rev1"); err != nil {
			return err
		}
		if _, err := hc.Until("UID FETCH"); err != nil {
			return err
		}
		if err := hc.WriteString("* 1 FETCH (UID 1 BODY[] {" + strconv.Itoa(size) + "}\r\n" + strings.Repeat("x", 1000)); err != nil {
			return err
		}
		return hc.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var err error
	for m, ferr := range c.Fetch(ctx, commands.UIDs(1), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: 1 << 30}) {
		if err = ferr; err != nil {
			break
		}
		if _, err = m.NextSection(); err != nil {
			break
		}
	}
	runtime.ReadMemStats(&m1)
	if !errors.Is(err, session.ErrAborted) {
		t.Errorf("Fetch: %v; want the session aborted (the server hung up mid-body)", err)
	}
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 16<<20 {
		t.Errorf("Fetch: allocated %.1f MiB for a body of %d bytes announced and 1,000 sent; want well under the %d announced", float64(got)/(1<<20), size, size)
	}
}

// TestSectionBufferWhole: a streamed section larger than what growread.Read
// allocates before its bytes arrive (1 MiB), kept whole under BufferMax
// (set: the default keeps 4 KiB), comes unchanged and can be read after
// the iteration moved on.
func TestSectionBufferWhole(t *testing.T) {
	const size = 3_000_001
	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	c := hostileClient(t, func(hc *hostile.Conn) error {
		if err := hc.PreAuth("IMAP4rev1"); err != nil {
			return err
		}
		cmd, err := hc.Until("UID FETCH")
		if err != nil {
			return err
		}
		if err := hc.WriteString("* 1 FETCH (UID 1 BODY[] {" + strconv.Itoa(size) + "}\r\n"); err != nil {
			return err
		}
		if err := hc.Write(body); err != nil {
			return err
		}
		if err := hc.Lines(")", cmd.Tag+" OK done"); err != nil {
			return err
		}
		return hc.Serve()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	var secs []*commands.Section
	for m, err := range c.Fetch(ctx, commands.UIDs(1), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}, BufferMax: 1 << 30}) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		secs = append(secs, s)
	}
	if len(secs) != 1 {
		t.Fatalf("%d sections; want 1", len(secs))
	}
	got, err := io.ReadAll(secs[0])
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("the section read back as %d bytes (%v), not the %d sent (or differs)", len(got), err, size)
	}
}
