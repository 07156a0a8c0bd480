package commands

import (
	"strconv"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestRawNames: the names a LIST gives that do not encode back (an "&"
// not escaped, raw UTF-8, a run that is not canonical) are sent as
// listed; the others as encoded; of two that decode alike the last listed
// wins; the memory is bounded.
func TestRawNames(t *testing.T) {
	var r rawNames
	list := func(raw string) { r.note(decodeMailbox([]byte(raw), false), []byte(raw)) }
	encode := func(name string) string { // Client.encodeMailbox without UTF8=ACCEPT
		if s, ok := r.raw(name); ok {
			return s
		}
		return codec.EncodeMailbox(name)
	}
	for _, raw := range []string{"R&D", "Tom & Jerry", "Gr\xc3\xbc\xc3\x9fe", "&AGE-b", "INBOX", "Gr&APwA3w-e", "a&-b"} {
		list(raw)
	}
	for name, want := range map[string]string{"R&D": "R&D", "Tom & Jerry": "Tom & Jerry", "ab": "&AGE-b",
		"INBOX": "INBOX", "a&b": "a&-b", "New & old": "New &- old", "Grüße": "Gr&APwA3w-e"} {
		if got := encode(name); got != want {
			t.Errorf("encodeMailbox(%q) = %q; want %q", name, got, want)
		}
	}
	if len(r.m) != 3 {
		t.Errorf("%d names remembered; want 3 (R&D, Tom & Jerry, ab): %q", len(r.m), r.m)
	}
	// "R&-D" listed after "R&D": Name "R&D" reaches it.
	list("R&-D")
	if got := encode("R&D"); got != "R&-D" {
		t.Errorf("after R&-D: encodeMailbox(R&D) = %q", got)
	}
	for i := range rawNamesMax + 10 {
		list("x&" + strconv.Itoa(i))
	}
	if n := len(r.m); n > rawNamesMax || n == 0 {
		t.Errorf("%d names remembered; want 1 to %d", n, rawNamesMax)
	}
	if got := encode("x&" + strconv.Itoa(rawNamesMax+9)); got != "x&"+strconv.Itoa(rawNamesMax+9) {
		t.Errorf("the last name listed is not remembered: %q", got)
	}
}
