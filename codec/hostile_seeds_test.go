package codec_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/imapkit/imapkit/internal/fuzzseed"
)

var updateHostileSeeds = flag.Bool("update-hostile-seeds", false, "rewrite the hostile seeds of FuzzDecodeStream")

// TestFuzzHostileSeeds checks that FuzzDecodeStream's corpus holds the
// byte-stream versions of the hostile scenarios (internal/fuzzseed), beside
// the quirk captures of TestFuzzSeeds; go test -run TestFuzzHostileSeeds
// -update-hostile-seeds ./codec rewrites them.
func TestFuzzHostileSeeds(t *testing.T) {
	problems, err := fuzzseed.Sync(filepath.Join("testdata", "fuzz", "FuzzDecodeStream"), fuzzseed.Hostile(), *updateHostileSeeds)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s; run go test -run TestFuzzHostileSeeds -update-hostile-seeds ./codec", p)
	}
}
