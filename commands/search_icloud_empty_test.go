package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// icloudCaps is iCloud Mail's capability list after login
// (codec/testdata/quirks/icloud.txt).
const icloudCaps = "XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 ACL QUOTA LITERAL+ NAMESPACE UIDPLUS CHILDREN BINARY UNSELECT SORT CATENATE URLAUTH LANGUAGE ESEARCH ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONDSTORE ENABLE CONTEXT=SEARCH CONTEXT=SORT WITHIN SASL-IR SEARCHRES XSENDER X-NETSCAPE XUM1 XAPPLELITERAL ID"

// icloudEmptySearch is a client with INBOX selected on a server that
// answers its first SEARCH or UID SEARCH as iCloud answers one that
// matches nothing: the tagged OK alone, no "* SEARCH" (nor ESEARCH).
// Wire shape recorded from imap.mail.me.com in home-assistant/core#132042
// ("PACE101260 OK SEARCH completed (took 1 ms)" as the whole answer to a
// SEARCH matching nothing) and Wh1isper/mcp-email-server#237; iCloud
// answers SEARCH RETURN with "* SEARCH" too (jstedfast/MailKit#863).
func icloudEmptySearch(t *testing.T, caps, name string) *commands.Client {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth(caps)
		cmd, err := c.Until(name)
		if err != nil {
			return err
		}
		if err := c.Line(cmd.Tag + " OK SEARCH completed (took 2 ms)"); err != nil {
			return err
		}
		return c.Serve()
	})
	if _, err := c.Select(resCtx(t), "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSearchEmptyAnswerICloudNotRefused: iCloud answers a SEARCH that
// matches nothing with its tagged OK alone, also under its own
// capabilities (ESEARCH: asked SEARCH RETURN). Search and SearchIter take
// it as the empty result (they refused it with a *MissingError, "SEARCH
// succeeded without a SEARCH response", and under ESEARCH "without an
// ESEARCH response": a search matching nothing on iCloud failed, and with
// it the copy tool's Message-ID lookups on an iCloud destination).
func TestSearchEmptyAnswerICloudNotRefused(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1", icloudCaps} {
		for _, uid := range []bool{false, true} {
			name := "SEARCH"
			if uid {
				name = "UID SEARCH"
			}
			opts := &commands.SearchOptions{UID: uid}
			c := icloudEmptySearch(t, caps, name)
			res, err := c.Search(resCtx(t), &commands.Criteria{Flags: []string{`\Flagged`}}, opts)
			if err != nil || res == nil || !res.All.IsEmpty() {
				t.Errorf("caps %.9q: Search (%s) answered as iCloud answers one matching nothing = %+v, %v; want the empty result", caps, name, res, err)
			}
			c = icloudEmptySearch(t, caps, name)
			for n, err := range c.SearchIter(resCtx(t), &commands.Criteria{Flags: []string{`\Flagged`}}, opts) {
				if err != nil || n != 0 {
					t.Errorf("caps %.9q: SearchIter (%s) answered as iCloud answers one matching nothing yielded %d, %v; want nothing", caps, name, n, err)
				}
			}
		}
	}
}
