package commands_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestPartialDovecot runs imaplib's partial (BODY.PEEK[section]<start.length>)
// against Dovecot: the bytes are the slice of the message, a range past
// the end is cut short or empty, a section's offsets count from the
// section, and \Seen is not set.
func TestPartialDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 3)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	msg := testserver.SampleMessage(1)
	hdrEnd := bytes.Index(msg, []byte("\r\n\r\n")) + 4
	text := msg[hdrEnd:]
	size := uint32(len(msg))
	for _, tc := range []struct {
		name          string
		set           commands.Set
		section       commands.FetchSection
		start, length uint32
		want          []byte
	}{
		{"middle", commands.UIDs(2), commands.WholeMessage, 10, 50, msg[10:60]},
		{"by sequence number", commands.SeqNums(2), commands.WholeMessage, 0, 1, msg[:1]},
		{"past the end", commands.UIDs(2), commands.WholeMessage, size - 5, 100, msg[size-5:]},
		{"beyond the end", commands.UIDs(2), commands.WholeMessage, size + 10, 5, []byte{}},
		{"text", commands.UIDs(2), commands.TextSection, 3, 20, text[3:23]},
		{"header", commands.UIDs(2), commands.HeaderSection, 0, uint32(hdrEnd), msg[:hdrEnd]},
		{"first of two", commands.UIDs(2, 3), commands.WholeMessage, 0, 30, msg[:30]},
	} {
		got, err := c.Partial(ctx, tc.set, tc.section, tc.start, tc.length)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: PARTIAL %d.%d got %q, want %q", tc.name, tc.start, tc.length, got, tc.want)
		}
	}
	ms, err := c.FetchAll(ctx, commands.UIDs(2), &commands.FetchItems{Flags: true})
	if err != nil || len(ms) != 1 || slices.Contains(ms[0].Flags, `\Seen`) {
		t.Fatalf("PARTIAL set \\Seen: %v %+v", err, ms)
	}
}
