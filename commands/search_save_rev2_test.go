package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestSearchSaveUnderIMAP4rev2: SEARCHRES is part of IMAP4rev2 (RFC 9051
// section 6.4.4.1, RETURN (SAVE)): a server that offers IMAP4rev2 alone
// is asked RETURN (SAVE), not refused with ErrUnsupported.
func TestSearchSaveUnderIMAP4rev2(t *testing.T) {
	c := resSelected(t, "IMAP4rev2", "SEARCH")
	opts := &commands.SearchOptions{Return: &commands.SearchReturn{Save: true}}
	if _, err := c.Search(resCtx(t), nil, opts); err != nil {
		t.Errorf("Search RETURN (SAVE) on an IMAP4rev2 server: %v; want it sent and answered", err)
	}
	c = resSelected(t, "IMAP4rev1 ESEARCH", "SEARCH")
	if _, err := c.Search(resCtx(t), nil, opts); !errors.Is(err, commands.ErrUnsupported) {
		t.Errorf("Search RETURN (SAVE) without SEARCHRES nor IMAP4rev2: %v; want ErrUnsupported", err)
	}
}

// TestMissingErrorArticle: the error reads "an ESEARCH response", "a
// SEARCH response".
func TestMissingErrorArticle(t *testing.T) {
	for resp, want := range map[string]string{"ESEARCH": "without an ESEARCH response", "ACL": "without an ACL response", "SEARCH": "without a SEARCH response", "": "without a  response"} {
		if got := (&commands.MissingError{Command: "X", Response: resp}).Error(); !strings.Contains(got, want) {
			t.Errorf("MissingError{Response: %q} = %q; want %q in it", resp, got, want)
		}
	}
}
