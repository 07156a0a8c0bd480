package commands_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/wire"
)

// TestGetMetadataLongEntriesOnlyFromItsCode: GETMETADATA answered with
// the entry and a tagged OK whose METADATA code is not LONGENTRIES
// ("[METADATA MAXSIZE 1024]", SETMETADATA's refusal code; "[METADATA
// TOOMANY]"). GetMetadata took the code's number, whatever its kind, as
// the size of the longest entry MAXSIZE left out: 1024 for an answer
// that left out nothing. Only [METADATA LONGENTRIES n] says so; the
// tagged OK's LONGENTRIES is still taken, in any case.
func TestGetMetadataLongEntriesOnlyFromItsCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		want uint64
	}{
		{"[METADATA MAXSIZE 1024]", 0},
		{"[METADATA TOOMANY]", 0},
		{"[METADATA LONGENTRIES 2048]", 2048},
		{"[metadata longentries 77]", 77},
	} {
		c := hostileClient(t, func(c *hostile.Conn) error {
			c.PreAuth("IMAP4rev1 METADATA")
			cmd, err := c.Until("GETMETADATA")
			if err != nil {
				return err
			}
			c.Lines(`* METADATA INBOX (/private/comment "y")`, cmd.Tag+" OK "+tc.code+" done")
			return c.Serve()
		})
		got, long, err := c.GetMetadata(resCtx(t), "INBOX", []string{"/private/comment"}, &commands.MetadataOptions{MaxSize: 4096})
		if err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if len(got) != 1 || string(got[0].Value) != "y" || long != tc.want {
			t.Errorf("GetMetadata answered OK %s = %+v, longEntries %d; want the entry \"y\", longEntries %d", tc.code, got, long, tc.want)
		}
	}
}

// TestGetMetadataValueOverStringBound: GETMETADATA answered with a value
// over the session's bound on one string (wire.DefaultMaxStringLiteral,
// 64 KiB, the defaults) beside entries under it, in the same METADATA
// response and another. The whole answer failed ("part of the answer
// could not be decoded: ... literal too large to return as a string"),
// the entries under the bound lost with it. Now GetMetadata returns them
// all and a *commands.MetadataTooLargeError naming the entry left out and
// its size, which matches wire.ErrStringTooLarge; the session goes on.
func TestGetMetadataValueOverStringBound(t *testing.T) {
	big := strings.Repeat("v", wire.DefaultMaxStringLiteral+1)
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 METADATA")
		cmd, err := c.Until("GETMETADATA")
		if err != nil {
			return err
		}
		c.Lines(`* METADATA INBOX (/private/a "small")`,
			fmt.Sprintf("* METADATA INBOX (/private/b \"x\" /private/big {%d}\r\n%s /private/c NIL)", len(big), big),
			cmd.Tag+" OK done")
		return c.Serve()
	})
	asked := []string{"/private/a", "/private/b", "/private/big", "/private/c"}
	got, _, err := c.GetMetadata(resCtx(t), "INBOX", asked, nil)
	var tooLarge *commands.MetadataTooLargeError
	if !errors.As(err, &tooLarge) || !errors.Is(err, wire.ErrStringTooLarge) ||
		len(tooLarge.Entries) != 1 || tooLarge.Entries[0].Name != "/private/big" || tooLarge.Entries[0].Size != int64(len(big)) {
		t.Errorf("GetMetadata error %v (%+v); want a *MetadataTooLargeError naming /private/big of %d bytes", err, tooLarge, len(big))
	}
	want := []commands.MetadataEntry{{Name: "/private/a", Value: []byte("small")}, {Name: "/private/b", Value: []byte("x")}, {Name: "/private/c"}}
	if !slices.EqualFunc(got, want, func(a, b commands.MetadataEntry) bool {
		return a.Name == b.Name && bytes.Equal(a.Value, b.Value) && (a.Value == nil) == (b.Value == nil)
	}) {
		t.Errorf("GetMetadata = %+v; want %+v", got, want)
	}
	if _, err := c.Capability(resCtx(t)); err != nil {
		t.Errorf("the session after: %v", err)
	}
}
