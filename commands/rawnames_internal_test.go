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
	list := func(raw string) { r.note(decodeMailbox([]byte(raw), false), []byte(raw), false, 0) }
	encode := func(name string) string { // Client.encodeMailbox without UTF8=ACCEPT
		if s, ok := r.raw(name, false, 0); ok {
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
		t.Errorf("%d names remembered; want 3 (R&D, Tom & Jerry, ab): %v", len(r.m), r.m)
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

// TestRawNamesUTF8Mode: in UTF-8 mode a listed name that is not valid
// UTF-8 is remembered (sent as listed), a valid one is not (it goes as it
// is), a NUL is not (refused); a name remembered in one mode is not sent
// as listed in the other ("&AAA-" listed before ENABLE UTF8=ACCEPT is
// another name after it).
func TestRawNamesUTF8Mode(t *testing.T) {
	var r rawNames
	for _, raw := range []string{"Caf\xe9", "Grüße", "a\x00b"} {
		r.note(decodeMailbox([]byte(raw), true), []byte(raw), true, 0)
	}
	if s, ok := r.raw("Caf\xe9", true, 0); !ok || s != "Caf\xe9" {
		t.Errorf("raw(Caf\\xe9, utf8) = %q, %v", s, ok)
	}
	if _, ok := r.raw("Caf\xe9", false, 0); ok {
		t.Errorf("a name listed in UTF-8 mode is found outside it")
	}
	if len(r.m) != 1 {
		t.Errorf("%d names remembered; want 1 (Caf\\xe9): %v", len(r.m), r.m)
	}
	r.note(decodeMailbox([]byte("&AAA-"), false), []byte("&AAA-"), false, 0)
	if _, ok := r.raw("\x00", true, 0); ok {
		t.Errorf("a name listed outside UTF-8 mode is sent as listed in it")
	}
	if s, ok := r.raw("\x00", false, 0); !ok || s != "&AAA-" {
		t.Errorf("raw(NUL, !utf8) = %q, %v", s, ok)
	}
}
