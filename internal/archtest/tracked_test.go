package archtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// executableMagic are the first bytes of the executables a build of the
// module writes (ELF on Linux and the BSDs, Mach-O on macOS, PE on
// Windows).
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xcf, 0xfa, 0xed, 0xfe}, // Mach-O 64-bit
	[]byte("MZ"),
}

// trackedExecutables returns the files among names (relative to root)
// that start like an executable.
func trackedExecutables(t *testing.T, root string, names []string) []string {
	t.Helper()
	var bad []string
	for _, name := range names {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		for _, m := range executableMagic {
			if bytes.HasPrefix(head[:n], m) {
				bad = append(bad, name)
				break
			}
		}
	}
	return bad
}

// TestNoTrackedExecutables fails when git tracks a built executable: a
// plain `go build` in cmd/imapkit writes cmd/imapkit/imapkit, and one was
// committed by mistake once (17 MB, removed in stop 50). It needs git and
// a checkout; without them it is skipped.
func TestNoTrackedExecutables(t *testing.T) {
	root := moduleRoot(t)
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("not a git checkout")
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if bad := trackedExecutables(t, root, names); len(bad) > 0 {
		t.Errorf("git tracks built executables (remove them with git rm --cached, and keep them out with .gitignore): %v", bad)
	}
}

// TestTrackedExecutablesCatchesPlanted plants an executable's first bytes
// and a text file, so the check above cannot pass by reading nothing.
func TestTrackedExecutablesCatchesPlanted(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "imapkit"), []byte("\x7fELF\x02\x01\x01"), 0o755)
	os.WriteFile(filepath.Join(dir, "notes.md"), []byte("# notes\n"), 0o644)
	bad := trackedExecutables(t, dir, []string{"imapkit", "notes.md"})
	if len(bad) != 1 || bad[0] != "imapkit" {
		t.Fatalf("got %v; want [imapkit]", bad)
	}
}

// moduleRoot is the module's root directory (two levels up from here).
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}
