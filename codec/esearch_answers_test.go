package codec_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestESearchAnswers: an ESEARCH answers a SEARCH (or UID SEARCH) sent
// with a tag when it is untagged or of that tag, and of the command's
// kind of numbers when it names messages; one naming none (Cyrus 2.4's
// and Gmail's empty answer to UID SEARCH, which leave the UID indicator
// out) answers either kind. commands' Search and imapkit's search take
// only those (an ESEARCH of another tag, or of sequence numbers, added
// UIDs never there).
func TestESearchAnswers(t *testing.T) {
	all := codec.ESearch{Has: codec.ESearchAll}
	for _, c := range []struct {
		name string
		r    codec.ESearch
		tag  string
		uid  bool
		want bool
	}{
		{"own tag, UIDs", codec.ESearch{Tag: []byte("A1"), UID: true, Has: codec.ESearchAll}, "A1", true, true},
		{"untagged, UIDs", codec.ESearch{UID: true, Has: codec.ESearchAll}, "A1", true, true},
		{"another tag", codec.ESearch{Tag: []byte("zz"), UID: true, Has: codec.ESearchAll}, "A1", true, false},
		{"sequence numbers for a UID SEARCH", all, "A1", true, false},
		{"UIDs for a SEARCH", codec.ESearch{UID: true, Has: codec.ESearchAll}, "A1", false, false},
		{"sequence numbers for a SEARCH", all, "A1", false, true},
		{"no data, no indicator, for a UID SEARCH", codec.ESearch{Tag: []byte("A1")}, "A1", true, true},
		{"COUNT alone, no indicator, for a UID SEARCH", codec.ESearch{Has: codec.ESearchCount, Count: 3}, "A1", true, true},
		{"no data, another tag", codec.ESearch{Tag: []byte("zz")}, "A1", true, false},
	} {
		if got := c.r.Answers(c.tag, c.uid); got != c.want {
			t.Errorf("%s: Answers(%q, %v) = %v; want %v", c.name, c.tag, c.uid, got, c.want)
		}
	}
}
