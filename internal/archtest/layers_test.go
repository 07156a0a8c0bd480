package archtest

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/imapkit/imapkit"

// rule is one row of the table: the packages at pkg and under it.
type rule struct {
	pkg      string   // module-relative path; the row covers pkg and pkg/...
	allowed  []string // module packages (and their sub-packages) the code may import
	external []string // module paths outside the standard library it may import
	testing  bool     // it may link the testing package (test kits only)
}

// rules is the table. A package of the module that no row covers is a
// failure: a new package needs a row before it can land.
var rules = []rule{
	{pkg: "transport", allowed: []string{"internal/printable"}},
	{pkg: "wire", allowed: []string{"internal/printable"}},
	{pkg: "codec", allowed: []string{"wire", "internal/printable", "internal/workhook", "internal/seqrange"}, external: []string{"golang.org/x/text"}},
	{pkg: "session", allowed: []string{"wire", "codec", "transport", "internal/printable", "internal/growread", "internal/redact"}},
	{pkg: "auth", allowed: []string{"wire", "codec", "transport", "session", "internal/printable"}, external: []string{"golang.org/x/text", "github.com/emersion/go-sasl"}},
	{pkg: "commands", allowed: []string{"wire", "codec", "transport", "session", "auth", "internal/printable", "internal/growread", "internal/workhook", "internal/seqrange"}},
	// The CLI may start the demo server; it must not link testing.
	// x/term (the password prompt) is the CLI's alone (issue 12).
	// progressbar (export/import/copy) and readline (shell) likewise.
	// x/text (a module dependency already, for codec's charsets) gives its
	// tables their display width (x/text/width: CJK takes two columns).
	{pkg: "cmd", allowed: []string{"wire", "codec", "transport", "session", "auth", "commands", "internal/testserver", "internal/printable", "internal/redact"}, external: []string{"golang.org/x/term", "github.com/schollz/progressbar/v3", "github.com/chzyer/readline", "golang.org/x/text"}},
	{pkg: "internal/archtest"},
	{pkg: "internal/corpus"},
	// A test kit of the benchmarks: the ratio benchmarks' codec and loop,
	// and a transport.Pipe with a link's delay (DelayPipe).
	{pkg: "internal/benchkit", allowed: []string{"wire", "codec", "transport"}, testing: true},
	{pkg: "internal/fuzzseed", allowed: []string{"internal/printable"}},
	{pkg: "internal/hostile", allowed: []string{"transport"}},
	// A test kit: a TCP relay that cuts, freezes, slows or rewrites a
	// real server's connection (commands' and the CLI's restart tests).
	{pkg: "internal/faultrelay", testing: true},
	// A test kit: a net.Conn that counts its reads, writes and bytes
	// (session's and commands' tests).
	{pkg: "internal/connkit"},
	// A test kit: it runs from TestMain.
	{pkg: "internal/leakcheck", allowed: []string{"internal/procfs"}, testing: true},
	{pkg: "internal/testserver", allowed: []string{"internal/procfs"}},
	{pkg: "internal/procfs"},
	// Escapes what a peer chose before it is printed: every layer's
	// errors and traces use it.
	{pkg: "internal/printable"},
	// Redacts the credentials a client sent from what a server sends
	// back: the session's traces and errors, the proxy's printout.
	{pkg: "internal/redact"},
	// Reads a body a peer announced into memory that grows as it
	// arrives: session's collected sections, commands' kept sections.
	{pkg: "internal/growread"},
	// Hooks through which tests count the work of codec's SeqSet (the
	// session's and the CLI's tests of linearity): nil outside tests.
	{pkg: "internal/workhook"},
	// The key order and the searches of a sequence set's ranges: codec's
	// SeqSet and commands' cut of VANISHED (EARLIER) to a set of UIDs.
	{pkg: "internal/seqrange", allowed: []string{"wire"}},
	{pkg: "internal/ptytest", external: []string{"golang.org/x/sys/unix"}},
	{pkg: "internal/transcript", allowed: []string{"transport", "session"}},
}

// pkgInfo is what the checker needs to know of a package: its non-test
// imports and its whole non-test dependency set.
type pkgInfo struct {
	path    string // module-relative ("" for the module root)
	imports []string
	deps    []string
}

// under reports whether p is dir or a package below it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// ruleFor returns the most specific row covering p.
func ruleFor(p string) (rule, bool) {
	var best rule
	found := false
	for _, r := range rules {
		if under(p, r.pkg) && (!found || len(r.pkg) > len(best.pkg)) {
			best, found = r, true
		}
	}
	return best, found
}

// standard reports whether an import path is in the standard library: its
// first element has no dot.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// check returns one message for each violation of the table in pkgs.
func check(pkgs []pkgInfo) []string {
	var bad []string
	for _, p := range pkgs {
		r, ok := ruleFor(p.path)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: no row in internal/archtest covers it; add one before it lands", p.path))
			continue
		}
	imports:
		for _, imp := range p.imports {
			if standard(imp) {
				continue
			}
			if rest, ok := strings.CutPrefix(imp, mod+"/"); ok {
				if under(rest, r.pkg) {
					continue // inside its own row
				}
				for _, a := range r.allowed {
					if under(rest, a) {
						continue imports
					}
				}
				bad = append(bad, fmt.Sprintf("%s imports %s: row %q allows only %v", p.path, rest, r.pkg, r.allowed))
				continue
			}
			if imp == mod {
				bad = append(bad, fmt.Sprintf("%s imports the module root, which no row allows", p.path))
				continue
			}
			for _, e := range r.external {
				if under(imp, e) {
					continue imports
				}
			}
			bad = append(bad, fmt.Sprintf("%s imports %s: row %q allows only the modules %v outside the standard library", p.path, imp, r.pkg, r.external))
		}
		if !r.testing && slices.Contains(p.deps, "testing") {
			bad = append(bad, fmt.Sprintf("%s links the testing package (through its imports); only test kits may", p.path))
		}
	}
	return bad
}

// modulePackages lists every package of the module with its non-test
// imports and dependencies.
func modulePackages(t *testing.T) []pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", mod+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var pkgs []pkgInfo
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("go list line %q", line)
		}
		path := strings.TrimPrefix(strings.TrimPrefix(f[0], mod), "/")
		pkgs = append(pkgs, pkgInfo{path: path, imports: strings.Fields(f[1]), deps: strings.Fields(f[2])})
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func TestLayersImportDownwardOnly(t *testing.T) {
	for _, msg := range check(modulePackages(t)) {
		t.Error(msg)
	}
}

// TestGuardCatchesPlantedViolations runs the checker over the module's
// real packages plus planted ones, each breaking one rule. It fails when
// the guard is weakened so that one of them passes.
func TestGuardCatchesPlantedViolations(t *testing.T) {
	real := modulePackages(t)
	planted := []struct {
		name string
		pkg  pkgInfo
		want string // a substring of the expected message
	}{
		{"commands imports internal/testserver",
			pkgInfo{path: "commands", imports: []string{"context", mod + "/session", mod + "/internal/testserver"}},
			"commands imports internal/testserver"},
		{"a sub-package of wire imports session",
			pkgInfo{path: "wire/sub", imports: []string{mod + "/session"}},
			"wire/sub imports session"},
		{"a package no row covers",
			pkgInfo{path: "newlayer", imports: []string{"fmt"}},
			"newlayer: no row"},
		{"auth imports commands",
			pkgInfo{path: "auth", imports: []string{mod + "/commands"}},
			"auth imports commands"},
		{"commands imports an outside module directly",
			pkgInfo{path: "commands", imports: []string{"golang.org/x/text/encoding/charmap"}},
			"commands imports golang.org/x/text/encoding/charmap"},
		{"a prefix that is not a path boundary",
			pkgInfo{path: "codec", imports: []string{"golang.org/x/textile"}},
			"codec imports golang.org/x/textile"},
		{"the CLI links testing",
			pkgInfo{path: "cmd/imapkit", imports: []string{mod + "/internal/testserver"}, deps: []string{mod + "/internal/testserver", "testing"}},
			"cmd/imapkit links the testing package"},
	}
	for _, p := range planted {
		t.Run(p.name, func(t *testing.T) {
			got := check(append(slices.Clone(real), p.pkg))
			if len(got) != 1 || !strings.Contains(got[0], p.want) {
				t.Fatalf("violations %q; want exactly one containing %q", got, p.want)
			}
		})
	}
}
