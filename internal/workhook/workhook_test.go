package workhook

import (
	"os"
	"testing"
)

// TestTagGivenInCI fails a CI run (CI set, as .ci/run sets it) built
// without the tag Tag: every test that counts work through a Hook would
// be skipped there, and the run would pass checking none of their bounds.
func TestTagGivenInCI(t *testing.T) {
	if os.Getenv("CI") != "" && !Enabled {
		t.Fatalf("CI is set but this build lacks the tag %s: the work-counting tests skip; run go test -tags %s (make test does)", Tag, Tag)
	}
}

// TestSetSkipsOrCounts checks Set's two builds: with the tag a Report
// reaches the function set; without it the test is skipped by Set.
func TestSetSkipsOrCounts(t *testing.T) {
	var h Hook
	got := 0
	restore := h.Set(t, func(a, b, n int) { got += n })
	defer restore()
	if !Enabled {
		t.Fatal("Set returned without the tag: it must skip the test")
	}
	h.Report(1, 2, 3)
	if got != 3 {
		t.Fatalf("Report(1, 2, 3) gave the function %d; want 3", got)
	}
}
