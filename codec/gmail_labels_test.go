package codec_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestGmailLabelsSentTwice: an X-GM-LABELS sent twice in one FETCH
// response (before and after a body section, say) leaves the last list,
// as FLAGS does; the labels were appended to the first list.
func TestGmailLabelsSentTwice(t *testing.T) {
	f, ok := decodeOne(t, "* 2 FETCH (X-GM-LABELS (\\Inbox Work) UID 5 X-GM-LABELS (Later))\r\n").(*codec.Fetch)
	if !ok || len(f.GmailLabels) != 1 || string(f.GmailLabels[0]) != "Later" {
		t.Fatalf("decoded %+v; want the labels (Later)", f)
	}
}
