package archtest

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// A docExample is a piece of Go code in a guide: a ```go block, or the
// code of an example cell of a table (docs/imaplib.md).
type docExample struct {
	file string // relative to the module root
	line int
	code string
}

// docExamples returns the Go examples of the Markdown file name (relative
// to root): its ```go blocks, and the code spans of the "example" column
// of its tables.
func docExamples(root, name string) ([]docExample, error) {
	f, err := os.Open(filepath.Join(root, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []docExample
	var block *docExample
	other := false   // inside a fenced block of another language
	exampleCol := -1 // the column headed "example" of the table being read
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case other:
			other = !strings.HasPrefix(line, "```")
		case block != nil && strings.HasPrefix(line, "```"):
			out = append(out, *block)
			block = nil
		case block != nil:
			block.code += line + "\n"
		case strings.HasPrefix(line, "```go"):
			block = &docExample{file: name, line: n + 1}
		case strings.HasPrefix(line, "```"):
			other, exampleCol = true, -1
		case strings.HasPrefix(line, "|"):
			cells := tableCells(line)
			if exampleCol < 0 {
				for i, c := range cells {
					if strings.TrimSpace(c) == "example" {
						exampleCol = i
					}
				}
				continue
			}
			if exampleCol < len(cells) {
				for _, span := range codeSpans(cells[exampleCol]) {
					out = append(out, docExample{file: name, line: n, code: span + "\n"})
				}
			}
		default:
			exampleCol = -1
		}
	}
	return out, sc.Err()
}

// tableCells splits a Markdown table row into its cells; a "|" inside a
// code span does not split.
func tableCells(row string) []string {
	var cells []string
	var cur strings.Builder
	inCode := false
	for _, r := range strings.TrimPrefix(strings.TrimSpace(row), "|") {
		switch {
		case r == '`':
			inCode = !inCode
		case r == '|' && !inCode:
			cells = append(cells, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return cells
}

// codeSpans returns the contents of the `code spans` of a cell.
func codeSpans(cell string) []string {
	var out []string
	for {
		i := strings.IndexByte(cell, '`')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(cell[i+1:], '`')
		if j < 0 {
			return out
		}
		// In a table, "\|" is how a code span holds a "|".
		out = append(out, strings.ReplaceAll(cell[i+1:i+1+j], `\|`, "|"))
		cell = cell[i+2+j:]
	}
}

// docPreamble declares what the guides take as given (docs/imaplib.md
// says so at its top: c, s, ctx; the others are named for what they
// hold), with the imports their examples use.
// Each example is type-checked in a block of its own inside one function
// that returns an error, so that "return err" is valid and one example's
// declarations do not clash with the next one's.
const docPreamble = `package docexamples

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

func examples() error {
	var (
		ctx      context.Context
		c        *commands.Client
		s        *session.Session
		conn     net.Conn
		err      error
		password string
		msg      []byte
		user     string
		pass     string
		cfg      *tls.Config
		t        time.Time
		set      commands.Set
		items    *commands.FetchItems
		name     string              // a mailbox
		from, to net.Conn            // a proxy's two sides
		d        *wire.Dialog        // a proxy's Dialog
		r        *session.Result     // what an earlier example's Run returned
		cmd      *session.Command    // a command built earlier
		uid      uint32              // a message's UID
		m        *commands.Message   // a fetched message
		sec      *commands.Section   // one of its body sections
		part     *codec.BodyStructure // a body part
		dst      io.Writer           // where a literal goes
		newCount chan uint32         // an application's channel
		newMail  chan struct{}       // an application's channel
		showUser func(string)        // an application's function
		store    interface {         // an application's message store
			Create(uid, seq uint32) (io.WriteCloser, error)
		}
		mailboxes           []string
		waitForContinuation func() error // a proxy's wait for "+"
	)
	_, _, _, _, _, _, _ = ctx, c, s, conn, err, password, msg
	_, _, _, _, _, _ = user, pass, cfg, t, set, items
	_, _, _, _, _, _, _, _ = name, from, to, r, cmd, uid, dst, newCount
	_, _, _, _, _ = newMail, showUser, store, mailboxes, waitForContinuation
	_, _, _, _ = m, sec, part, d
	_ = bufio.NewReader
	_, _, _, _, _, _ = bytes.MinRead, tls.VersionTLS13, errors.New, fmt.Sprint, io.EOF, log.Print
	_, _, _, _, _ = slog.Info, os.Stdout, strings.Cut, time.Now, auth.NewPlain
	_, _, _, _ = codec.ParseInternalDate, commands.SeqNums, transport.Dial, wire.NewTokenizer
`

// elided matches a line that is only "...".
var elided = regexp.MustCompile(`(?m)^\s*\.\.\.\s*$`)

// docFiles are the guides whose examples are type-checked.
var docFiles = []string{"README.md", "docs/getting-started.md", "docs/imaplib.md", "docs/session.md", "docs/errors.md", "docs/wire.md", "docs/proxy.md"}

// typeCheckExamples type-checks the examples against the module's
// packages and returns the hard errors (an unused variable or import is a
// soft one: examples show calls whose results they drop), each with the
// guide and line of its example.
func typeCheckExamples(t *testing.T, root string, exs []docExample) []string {
	t.Helper()
	var src strings.Builder
	src.WriteString(docPreamble)
	for _, ex := range exs {
		// A //line directive makes positions name the guide's line.
		// The guides' elisions, "{ ... }" and a line of "...", become
		// an empty block and an empty line.
		code := elided.ReplaceAllString(strings.NewReplacer("{ ... }", "{}", "{...}", "{}").Replace(ex.code), "")
		fmt.Fprintf(&src, "\t{\n//line %s:%d\n%s\t}\n", filepath.Join(root, ex.file), ex.line, code)
	}
	src.WriteString("\treturn nil\n}\n")
	fset, imp := docImporter()
	file, err := parser.ParseFile(fset, filepath.Join(root, "internal/archtest/docexamples.go"), src.String(), parser.SkipObjectResolution)
	if list, ok := err.(scanner.ErrorList); ok {
		var errs []string
		for _, e := range list {
			errs = append(errs, "not Go: "+e.Error())
		}
		return errs
	} else if err != nil {
		return []string{fmt.Sprintf("not Go: %v", err)}
	}
	var paths []string
	for _, im := range file.Imports {
		paths = append(paths, strings.Trim(im.Path.Value, `"`))
	}
	if err := docExports.load(paths...); err != nil {
		t.Fatal(err)
	}
	var errs []string
	conf := types.Config{
		Importer: imp,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok && te.Soft {
				return
			}
			errs = append(errs, err.Error())
		},
	}
	conf.Check("docexamples", fset, []*ast.File{file}, nil)
	sort.Strings(errs)
	return errs
}

// docImporter returns the file set and the importer every check shares:
// the importer reads the compiler's export data of the imported packages
// (exportLookup). It type-checked them from source before: 27 s of CPU in
// a -race test binary, where go/types runs race-checked.
var docImporter = sync.OnceValues(func() (*token.FileSet, types.Importer) {
	fset := token.NewFileSet()
	return fset, importer.ForCompiler(fset, "gc", docExports.open)
})

// docExports is docImporter's lookup; typeCheckExamples loads the
// imports of the examples with one go list.
var docExports = &exportLookup{}

// exportLookup finds export data with go list -export, a package and its
// dependencies at a time, built with -race when this test binary is
// (raceBuild): the packages make test compiled already, from the build
// cache.
type exportLookup struct {
	mu    sync.Mutex
	files map[string]string // import path -> export data file
}

// load runs go list for the paths not loaded yet.
func (l *exportLookup) load(paths ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loadLocked(paths)
}

func (l *exportLookup) loadLocked(paths []string) error {
	var missing []string
	for _, p := range paths {
		if _, ok := l.files[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	args := []string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
	if raceBuild {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, missing...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%v: %s", err, ee.Stderr)
		}
		return fmt.Errorf("go list -export %s: %w", strings.Join(missing, " "), err)
	}
	if l.files == nil {
		l.files = map[string]string{}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if p, f, ok := strings.Cut(line, "\t"); ok && f != "" {
			l.files[p] = f
		}
	}
	return nil
}

func (l *exportLookup) open(path string) (io.ReadCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.loadLocked([]string{path}); err != nil {
		return nil, err
	}
	f, ok := l.files[path]
	if !ok {
		return nil, fmt.Errorf("no export data for %s", path)
	}
	return os.Open(f)
}

// TestDocExamplesTypeCheck: the Go examples of the README and the guides
// that show the typed client compile against today's API: a renamed
// method or a changed signature fails here, not in a reader's editor.
func TestDocExamplesTypeCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module from source")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var exs []docExample
	for _, name := range docFiles {
		e, err := docExamples(root, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(e) == 0 {
			t.Fatalf("no Go example found in %s: the extraction is broken", name)
		}
		exs = append(exs, e...)
	}
	for _, e := range typeCheckExamples(t, root, exs) {
		t.Error(e)
	}
}

// TestDocExamplesCatchPlanted: the extraction finds a ```go block and the
// example cells of a table (a "\|" in a cell included), not what a block
// of another language holds, and the check
// reports a call of a method that does not exist, at its guide's line,
// and nothing for the examples that are right.
func TestDocExamplesCatchPlanted(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module from source")
	}
	dir := t.TempDir()
	md := "# Planted\n\n```go\nif err := c.Noop(ctx); err != nil { ... }\n```\n\n" +
		"```sh\n| example |\n| `not Go` |\n```\n\n" +
		"| imaplib | imapkit | example |\n|---|---|---|\n" +
		"| `noop()` | `c.Noop(ctx)` | `c.Noop(ctx)` |\n" +
		"| `status()` | `c.Status` | `c.Status(ctx, \"INBOX\", commands.StatusMessages\\|commands.StatusUnseen)` |\n" +
		"| `gone()` | none | `c.NoSuchMethod(ctx)` |\n"
	if err := os.WriteFile(filepath.Join(dir, "planted.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	exs, err := docExamples(dir, "planted.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 4 {
		t.Fatalf("%d examples extracted, want 4: %+v", len(exs), exs)
	}
	for i := range exs {
		exs[i].file = filepath.Join(dir, exs[i].file)
	}
	errs := typeCheckExamples(t, "", exs)
	if len(errs) != 1 || !strings.Contains(errs[0], "planted.md:16:") || !strings.Contains(errs[0], "NoSuchMethod") {
		t.Fatalf("errors %q; want one, for NoSuchMethod at planted.md:16", errs)
	}
}
