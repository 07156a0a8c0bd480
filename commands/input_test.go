package commands_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestInputAtomBackslash: wire.Encoder.Atom lets a leading backslash
// through (for flags), and every other atom argument goes through it
// too: Enable(`\Foo`) sends "ENABLE \Foo", Criteria.EmailID `\x` sends
// "EMAILID \x", a SortKey `\date` "(\DATE)", a SetQuota resource `\x`
// "(\X 1)": none of them is an atom (RFC 3501: '\' is an atom-special;
// RFC 5161 capability, RFC 8474 objectid, RFC 5256 sort-key, RFC 9208
// resource-name), and no error is returned.
func TestInputAtomBackslash(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE QUOTA", true)
	zzRefused(t, srv, "Enable(`\\Foo`)", func() error { _, err := c.Enable(ctx, `\Foo`); return err })
	zzRefused(t, srv, "SetQuota(`\\x`)", func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{`\x`: 1})
		return err
	})
	c2, srv2, ctx2 := zzSelected(t, "SORT")
	zzRefused(t, srv2, "Search(EmailID `\\x`)", func() error {
		_, err := c2.Search(ctx2, &commands.Criteria{EmailID: `\x`}, nil)
		return err
	})
	zzRefused(t, srv2, "Sort(Key `\\date`)", func() error {
		_, err := c2.Sort(ctx2, []commands.SortKey{{Key: `\date`}}, nil, nil)
		return err
	})
}

// TestInputEmptyLists: arguments whose grammar needs at least one
// element go out as an empty "()" (or nothing) when the caller passes
// none, or only bits no name exists for: ENABLE with no capability (RFC
// 5161: 1*(SP capability)), SETMETADATA "()" and GETMETADATA "()" (RFC
// 5464: one entry at least), STATUS "()" for a StatusItem of unknown
// bits (RFC 3501: status-att *(SP status-att)), CATENATE "()" (RFC 4469:
// one cat-part at least), GETANNOTATION's attributes "()" and NOTIFY's
// events "()" for unknown NotifyEvent bits (RFC 5465). Each is a
// syntax error the server answers BAD, where a typed error before
// sending was possible (Notify and AppendMany check their own counts).
func TestInputEmptyLists(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE METADATA CATENATE ANNOTATEMORE NOTIFY", true)
	zzRefused(t, srv, "Enable()", func() error { _, err := c.Enable(ctx); return err })
	zzRefused(t, srv, "SetMetadata(nil)", func() error { return c.SetMetadata(ctx, "INBOX", nil) })
	zzRefused(t, srv, "GetMetadata(nil)", func() error { _, _, err := c.GetMetadata(ctx, "INBOX", nil, nil); return err })
	zzRefused(t, srv, "Status(1<<14)", func() error { _, err := c.Status(ctx, "INBOX", 1<<14); return err })
	zzRefused(t, srv, "AppendCatenate(nil)", func() error { _, err := c.AppendCatenate(ctx, "INBOX", nil, nil); return err })
	zzRefused(t, srv, "GetAnnotation(no attrs)", func() error { _, err := c.GetAnnotation(ctx, "INBOX", "/comment"); return err })
	zzRefused(t, srv, "Notify(Events 1<<12)", func() error {
		_, err := c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: 1 << 12})
		return err
	})
}

// TestInputOutOfRangeNumbers: numbers the grammar bounds go out
// unchecked. QResync{UIDValidity: 0, ModSeq: 0} sends "QRESYNC (0 0)"
// (RFC 7162: uidvalidity is nz-number, mod-sequence-value 1 to 2^63-1);
// FetchItems.Vanished without ChangedSince sends "CHANGEDSINCE 0
// VANISHED" (mod-sequence-value again; Vanished's doc says "with
// ChangedSince"); SetQuota's limit of 2^64-1 goes as is (RFC 9208:
// number64, at most 2^63-1); a FetchSection part of 2^40 goes as
// "BODY.PEEK[1099511627776]" (nz-number: 32 bits); MetadataOptions.Depth
// 5 goes as "DEPTH 5" (RFC 5464: "0" / "1" / "infinity"; its doc says
// 0, 1 or -1, and -5 is taken as infinity).
func TestInputOutOfRangeNumbers(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE QRESYNC CONDSTORE QUOTA METADATA", true)
	srv.extra = func(cmd string) []string {
		if strings.Contains(cmd, " ENABLE ") {
			return []string{"* ENABLED QRESYNC"}
		}
		return nil
	}
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	zzRefused(t, srv, "SetQuota(2^64-1)", func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{"STORAGE": 1<<64 - 1})
		return err
	})
	zzRefused(t, srv, "GetMetadata(Depth 5)", func() error {
		_, _, err := c.GetMetadata(ctx, "INBOX", []string{"/private/comment"}, &commands.MetadataOptions{Depth: 5})
		return err
	})
	zzRefused(t, srv, "Select(QResync 0 0)", func() error {
		_, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{}})
		return err
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	zzRefused(t, srv, "Fetch(Vanished, ChangedSince 0)", func() error {
		_, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Flags: true, Vanished: true})
		return err
	})
	if strconv.IntSize == 64 {
		huge := int(^uint(0) >> 1) // past 2^32-1 where int has 64 bits (compiles on 386 too)
		zzRefused(t, srv, "Fetch(Part MaxInt)", func() error {
			_, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Sections: []commands.FetchSection{{Part: []int{huge}}}})
			return err
		})
	}
}

// TestInputUnicodeCaseFolding: names are upper-cased with
// strings.ToUpper, which maps some non-ASCII letters to ASCII ones
// (U+017F LATIN SMALL LETTER LONG S to 'S', U+0131 DOTLESS I to 'I')
// before the atom check: a SortKey "ſubject" goes as SUBJECT, a
// mechanism "plaın" as AUTHENTICATE PLAIN, a SetQuota resource "ſtorage"
// as STORAGE (then twice, beside "storage"), an invalid name silently
// turned into another, valid one.
func TestInputUnicodeCaseFolding(t *testing.T) {
	c, srv, ctx := zzSelected(t, "SORT QUOTA")
	zzRefused(t, srv, `Sort(Key "ſubject")`, func() error {
		_, err := c.Sort(ctx, []commands.SortKey{{Key: "\u017fubject"}}, nil, nil)
		return err
	})
	zzRefused(t, srv, `SetQuota("ſtorage")`, func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{"\u017ftorage": 1, "storage": 2})
		return err
	})
	c2, srv2, ctx2 := zzClient(t, "AUTH=PLAIN", false)
	zzRefused(t, srv2, `AuthenticateFunc("plaın")`, func() error {
		return c2.AuthenticateFunc(ctx2, "pla\u0131n", func([]byte) ([]byte, error) { return nil, nil })
	})
}
