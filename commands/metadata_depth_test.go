package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestGetMetadataEntriesOutsideAsked: GETMETADATA of /private/comment
// (DEPTH 0, then DEPTH 1) answered with entries outside what was asked:
// another entry (/shared/other), and one two levels below the entry
// asked for with DEPTH 1 (RFC 5464 section 4.2.2: DEPTH 1 is the entry
// and its immediate children). GetMetadata returned them all as the
// answer, the stray entry first: a caller reading out[0] as the comment
// got /shared/other's value. Entries neither asked for nor within the
// asked DEPTH of one are not the answer (dropped, or an error).
func TestGetMetadataEntriesOutsideAsked(t *testing.T) {
	for _, tc := range []struct {
		depth int
		line  string
	}{
		{0, `* METADATA INBOX (/shared/other "x" /private/comment "y")`},
		{1, `* METADATA INBOX (/private/comment/a/b "deep" /private/comment "y")`},
	} {
		c := resSelected(t, "IMAP4rev1 METADATA", "GETMETADATA", tc.line)
		got, _, err := c.GetMetadata(resCtx(t), "INBOX", []string{"/private/comment"}, &commands.MetadataOptions{Depth: tc.depth})
		if err != nil {
			continue
		}
		for _, e := range got {
			if e.Name != "/private/comment" {
				t.Errorf("GetMetadata(/private/comment, DEPTH %d) = %d entries, among them %s = %q, not asked for", tc.depth, len(got), e.Name, e.Value)
			}
		}
	}
}
