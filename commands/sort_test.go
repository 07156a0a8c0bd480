package commands_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestSortThreadCharsetUTF8 checks that once UTF-8 is enabled
// (ENABLE UTF8=ACCEPT, or IMAP4rev2) Sort, SortIter, ESort and Thread
// refuse a charset other than UTF-8 as Search does, with an error wrapping
// commands.ErrCharsetUTF8 and nothing sent (RFC 6855 section 3, erratum
// 4029), and send UTF-8 when none or UTF-8 is given.
func TestSortThreadCharsetUTF8(t *testing.T) {
	for _, mode := range []struct{ caps, enable string }{
		{"IMAP4rev1 ENABLE UTF8=ACCEPT SORT ESORT THREAD=REFERENCES", "UTF8=ACCEPT"},
		{"IMAP4rev2 IMAP4rev1 ENABLE SORT ESORT THREAD=REFERENCES", "IMAP4rev2"},
	} {
		t.Run(mode.enable, func(t *testing.T) {
			c, ctx, f := rawClient(t, mode.caps, func(c rawCmd) string {
				raw := string(c.Raw)
				switch {
				case strings.Contains(raw, " ENABLE "):
					return "* ENABLED " + mode.enable + "\r\n" + c.Tag + " OK done\r\n"
				case strings.Contains(raw, " SELECT "):
					return "* 3 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + c.Tag + " OK [READ-WRITE] done\r\n"
				case strings.Contains(raw, " SORT "):
					return "* SORT 2 1\r\n" + c.Tag + " OK done\r\n"
				case strings.Contains(raw, " THREAD "):
					return "* THREAD (1 2)\r\n" + c.Tag + " OK done\r\n"
				}
				return ""
			})
			if _, err := c.Enable(ctx, mode.enable); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				t.Fatal(err)
			}
			before := len(f.commands())
			keys := []commands.SortKey{{Key: "SUBJECT"}}
			cr := &commands.Criteria{Subject: []string{"café"}}
			latin := &commands.SearchOptions{Charset: "ISO-8859-1"}
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, commands.ErrCharsetUTF8) {
					t.Errorf("%s with CHARSET ISO-8859-1 in UTF-8 mode: %v, want ErrCharsetUTF8", what, err)
				}
			}
			_, err := c.Search(ctx, cr, latin)
			check("Search", err)
			_, err = c.Sort(ctx, keys, cr, latin)
			check("Sort", err)
			for _, err = range c.SortIter(ctx, keys, cr, latin) {
				break
			}
			check("SortIter", err)
			_, err = c.ESort(ctx, keys, cr, latin)
			check("ESort", err)
			_, err = c.Thread(ctx, "REFERENCES", cr, latin)
			check("Thread", err)
			for _, cmd := range f.commands()[before:] {
				t.Errorf("sent in UTF-8 mode with CHARSET ISO-8859-1: %q", cmd.Raw)
			}

			// None, or UTF-8 in any case: UTF-8 is sent.
			before = len(f.commands())
			if _, err := c.Sort(ctx, keys, cr, nil); err != nil {
				t.Fatalf("Sort: %v", err)
			}
			if _, err := c.Thread(ctx, "REFERENCES", cr, &commands.SearchOptions{Charset: "utf-8"}); err != nil {
				t.Fatalf("Thread: %v", err)
			}
			sent := f.commands()[before:]
			if len(sent) != 2 || !strings.Contains(string(sent[0].Raw), " SORT (SUBJECT) UTF-8 ") ||
				!strings.Contains(string(sent[1].Raw), " THREAD REFERENCES UTF-8 ") {
				t.Errorf("sent %q", sent)
			}
		})
	}
}

// TestSortSeqSetRenumberChecked (finding 4): Sort with a Criteria.Set of sequence
// numbers, queued behind a NOOP that brings "* 1 EXPUNGE", is sent as
// "SORT ... 3" and sorts the message that was number 4 at the call;
// Search with the same criteria is refused (ErrRenumbered) since 1b52cb3,
// whose message promises the check for every command on sequence
// numbers. sortCommand (commands/sort.go) sets no CheckRenumbered.
func TestSortSeqSetRenumberChecked(t *testing.T) {
	set := commands.SeqNums(3)
	after, err := queuedBehindExpunge(t, "IMAP4rev1 SORT", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Sort(ctx, []commands.SortKey{{Key: "DATE"}}, &commands.Criteria{Set: &set}, nil)
		return err
	})
	for _, l := range after {
		if strings.HasPrefix(l, "SORT") {
			t.Fatalf("sent %q after the NOOP's '* 1 EXPUNGE' (Sort: %v); want ErrRenumbered, nothing sent, as Search", l, err)
		}
	}
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Fatalf("Sort: %v (sent %q); want ErrRenumbered", err, after)
	}
}
