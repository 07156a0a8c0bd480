package archtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "github.com/imapkit/imapkit"

// allowed lists, for each layer, the module's packages its non-test code
// may depend on (directly or not), and whether it may use modules other
// than the standard library.
var layers = []struct {
	pkg      string
	allowed  []string
	external []string // allowed module path prefixes outside the standard library
}{
	{"transport", nil, nil},
	{"wire", nil, nil},
	{"codec", []string{"wire"}, []string{"golang.org/x/text"}},
	{"session", []string{"wire", "codec", "transport"}, []string{"golang.org/x/text"}},
	{"auth", []string{"wire", "codec", "transport", "session"}, []string{"golang.org/x/text", "github.com/emersion/go-sasl"}},
	// commands reaches go-sasl only through auth (auth.Mechanism has its
	// method set); TestCommandsImportsNoSASL checks the direct imports.
	{"commands", []string{"wire", "codec", "transport", "session", "auth"}, []string{"golang.org/x/text", "github.com/emersion/go-sasl"}},
}

func TestLayersImportDownwardOnly(t *testing.T) {
	for _, l := range layers {
		if files, _ := filepath.Glob(filepath.Join("..", "..", l.pkg, "*.go")); len(files) == 0 {
			continue // the layer does not exist yet
		}
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", mod+"/"+l.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", l.pkg, err, out)
		}
	deps:
		for _, dep := range strings.Fields(string(out)) {
			if dep == mod+"/"+l.pkg {
				continue
			}
			if rest, ok := strings.CutPrefix(dep, mod+"/"); ok {
				for _, a := range l.allowed {
					if rest == a || strings.HasPrefix(rest, a+"/") {
						continue deps
					}
				}
				t.Errorf("%s imports %s: a layer may only import the layers below it (%v)", l.pkg, rest, l.allowed)
				continue
			}
			for _, e := range l.external {
				if strings.HasPrefix(dep, e) {
					continue deps
				}
			}
			t.Errorf("%s depends on %s, which its layer does not allow", l.pkg, dep)
		}
	}
}

func TestCommandsImportsNoSASL(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", mod+"/commands").CombinedOutput()
	if err != nil {
		t.Fatalf("go list commands: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "github.com/emersion/go-sasl") {
			t.Errorf("commands imports %s directly: take auth.Mechanism instead", imp)
		}
	}
}
