package fuzzseed

import (
	"bytes"
	"testing"
)

func TestUntagged(t *testing.T) {
	in := "* 2 FETCH (BODY[] {0}\r\n)\r\n* OK hi\r\nA1 OK done\r\n* 1 FETCH (BODY[1] {7}\r\nA2 OK\r\n BODY[2] {4}\r\nA3\r\n)\r\nA4 NO x\r\n+ go\r\n"
	want := "* 2 FETCH (BODY[] {0}\r\n)\r\n* OK hi\r\n* 1 FETCH (BODY[1] {7}\r\nA2 OK\r\n BODY[2] {4}\r\nA3\r\n)\r\n+ go\r\n"
	if got := Untagged([]byte(in)); string(got) != want {
		t.Errorf("Untagged:\n got %q\nwant %q", got, want)
	}
}

func TestCapture(t *testing.T) {
	got := Capture([]byte("# comment\n#! error: x\n* OK a\nA1 OK b\n"))
	if !bytes.Equal(got, []byte("* OK a\r\nA1 OK b\r\n")) {
		t.Errorf("Capture = %q", got)
	}
}

// TestUnsafe: Unsafe finds C0, DEL and C1 controls and invalid UTF-8, and
// lets printable text of any script through.
func TestUnsafe(t *testing.T) {
	for _, s := range []string{"", "session: NO [ALERT] Grüße", "tab\tx", "\x1b[31m", "a\x7f", "a\u0085b", "\xff", "\r\n"} {
		want := s != "" && s != "session: NO [ALERT] Grüße"
		if got := Unsafe(s); got != want {
			t.Errorf("Unsafe(%q) = %v, want %v", s, got, want)
		}
	}
}
