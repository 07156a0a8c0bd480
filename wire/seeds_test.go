package wire_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/imapkit/imapkit/internal/fuzzseed"
)

var updateWireSeeds = flag.Bool("update-wire-seeds", false, "rewrite the quirk and hostile seeds of FuzzTokenizer")

// TestFuzzTokenizerSeeds checks that FuzzTokenizer's corpus holds the quirk
// captures of codec/testdata/quirks as server streams and the byte-stream
// versions of the hostile scenarios (internal/fuzzseed);
// go test -run TestFuzzTokenizerSeeds -update-wire-seeds ./wire rewrites
// them.
func TestFuzzTokenizerSeeds(t *testing.T) {
	caps, err := fuzzseed.Captures(filepath.Join("..", "codec", "testdata", "quirks"))
	if err != nil {
		t.Fatal(err)
	}
	problems, err := fuzzseed.Sync(filepath.Join("testdata", "fuzz", "FuzzTokenizer"), append(caps, fuzzseed.Hostile()...), *updateWireSeeds)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s; run go test -run TestFuzzTokenizerSeeds -update-wire-seeds ./wire", p)
	}
}
