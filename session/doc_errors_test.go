package session_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocNamesEverySentinel: the package doc (doc.go) names every
// exported error variable of the package (var ErrXxx): its paragraph on
// errors named none of ErrInvalidCommand, ErrInvalidContinuation,
// ErrNotPull, ErrPanicked, ErrDecoderPanic and ErrCommandEnded (found by
// review), nor ErrBodyDropped, ErrCompressLevel, ErrMisrouted,
// ErrRenumbered and ErrResultTooLarge.
func TestDocNamesEverySentinel(t *testing.T) {
	// The declarations, read as text (go/parser costs most of a
	// second under -race): "var ErrX = " or, in a var block, "\tErrX = ".
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^(?:var |\t)(Err[A-Za-z0-9]*) +=`)
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllSubmatch(src, -1) {
			names = append(names, string(m[1]))
		}
	}
	if len(names) < 20 {
		t.Fatalf("found %d error variables (%v); want the package's", len(names), names)
	}
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !regexp.MustCompile(`\b` + n + `\b`).Match(b) {
			t.Errorf("doc.go does not name %s", n)
		}
	}
}
