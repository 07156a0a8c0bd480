package wire_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestHeaderScanLongHeader: a literal's header given up in pieces (a '{'
// and leading zeros) and ended by the kept tail is found with its size,
// as LiteralSuffix finds it in the whole line; a byte other than a digit
// after the '{' ends it, and Reset forgets it.
func TestHeaderScanLongHeader(t *testing.T) {
	var s wire.HeaderScan
	for _, p := range []string{"* 1 XFOO {", strings.Repeat("0", 30), "00012"} {
		s.Follow([]byte(p))
	}
	info, ok := s.End([]byte("34+}"))
	if !ok || info.Size != 1234 || !info.NonSync {
		t.Fatalf("End: %+v %v; want a non-synchronizing literal of 1234", info, ok)
	}
	s.Follow([]byte("x"))
	if _, ok := s.End([]byte("5}")); ok {
		t.Fatal("End after a non-digit: a header; want none")
	}
	s.Follow([]byte("{00"))
	s.Reset()
	if _, ok := s.End([]byte("5}")); ok {
		t.Fatal("End after Reset: a header; want none")
	}
}
