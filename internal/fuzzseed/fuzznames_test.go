package fuzzseed_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFuzzNamesCurrent: every fuzz target name in the module's Go files
// and docs is a target that exists (a `func FuzzXxx` of a test file), or
// a former name with its current name next to it ("Old (now New)",
// "Old is New", "New (then named Old)"): a renamed target's old name alone
// sends a reader to `.ci/fuzz OldName`, which finds nothing. Stop 49's
// renames left FuzzReview46IMboxScan, FuzzReview47FStartTLS,
// FuzzReview46EConnect and FuzzReview46EProxyServer bare in
// docs/fuzzing.md's record of stop 48 and in
// cmd/imapkit/review47_f_test.go. Found by review.
func TestFuzzNamesCurrent(t *testing.T) {
	const root = "../.."
	const near = 60 // how far from an old name its new one may be
	defined := map[string]bool{}
	texts := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		texts[path] = string(b)
		if strings.HasSuffix(path, "_test.go") {
			for _, n := range fuzzNames(string(b)) {
				if strings.HasSuffix(string(b[:n[0]]), "\nfunc ") {
					defined[string(b[n[0]:n[1]])] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !defined["FuzzSession"] {
		t.Fatalf("found no fuzz target (FuzzSession) under %s", root)
	}
	for path, text := range texts {
		if strings.HasSuffix(path, "fuzznames_test.go") || strings.HasSuffix(path, "cifuzz_test.go") {
			continue // the names of this test and the misspelt one of .ci/fuzz's
		}
		for _, loc := range fuzzNames(text) {
			name := text[loc[0]:loc[1]]
			if defined[name] || name == "FuzzXxx" {
				continue
			}
			// The current name after it ("Old (now New)", "Old is
			// New") or before it ("New (then named Old)").
			current := false
			after := text[loc[1]:min(len(text), loc[1]+near)]
			for _, m := range fuzzNames(after) {
				between := after[:m[0]]
				current = current || defined[after[m[0]:m[1]]] && (strings.Contains(between, "now") || strings.Contains(between, " is "))
			}
			before := text[max(0, loc[0]-near):loc[0]]
			for _, m := range fuzzNames(before) {
				between := before[m[1]:]
				current = current || defined[before[m[0]:m[1]]] && strings.Contains(between, "then")
			}
			if !current {
				line := strings.Count(text[:loc[0]], "\n") + 1
				t.Errorf("%s:%d names %s, no fuzz target, without its current name next to it (\"(now FuzzX)\")", path, line, name)
			}
		}
	}
}

// fuzzNames returns where the names FuzzX... (X an upper-case letter, the
// rest letters, digits and underscores, not inside a longer identifier)
// are in text, as [start, end) pairs. (Not a regexp: under -race one
// costs seconds over the module's 6 MB of sources.)
func fuzzNames(text string) [][2]int {
	ident := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	var locs [][2]int
	for off := 0; ; {
		i := strings.Index(text[off:], "Fuzz")
		if i < 0 {
			return locs
		}
		start := off + i
		end := start + len("Fuzz")
		off = end
		if start > 0 && ident(text[start-1]) || end >= len(text) || text[end] < 'A' || text[end] > 'Z' {
			continue
		}
		for end < len(text) && ident(text[end]) {
			end++
		}
		locs = append(locs, [2]int{start, end})
		off = end
	}
}
