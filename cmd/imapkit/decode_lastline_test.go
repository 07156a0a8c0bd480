package main

import (
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
)

// TestDecodeMalformedLastLineReportedOnce: a malformed response the end of
// the input cuts (a bad byte, then no line end) is reported once, as one
// that cannot be decoded whose rest could not be read, and the run ends
// with exit status 1. Before, the next read met the end again and it was
// reported a second time, "the stream ends inside a response", at an
// offset inside the response. So is one a read failure cuts, and one whose
// streamed body the end cuts.
func TestDecodeMalformedLastLineReportedOnce(t *testing.T) {
	const first = "* 1 EXISTS\r\n"
	for name, last := range map[string]string{
		"bad byte":         "* 1 FETCH (UID x",
		"bad byte, CR":     "* 1 FETCH (UID x\r",
		"stray byte":       "* 1 FETCH (UID 1) x",
		"then a literal":   "* 1 FETCH (UID x) {5}\r\nab",
		"body cut":         "* 1 FETCH (UID 1 BODY[] {100}\r\nabc",
		"bad tag, no CRLF": "A%1 OK done",
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, first+last, "decode")
			if code != 1 || !strings.Contains(stdout, `"EXISTS"`) {
				t.Errorf("exit %d, stdout %q; want 1 and the EXISTS", code, stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "imapkit decode: -: offset 12: cannot decode ") ||
				!strings.HasSuffix(lines[0], "the read failed while skipping the rest: unexpected EOF") {
				t.Errorf("stderr:\n%s\nwant one report at offset 12, of the cut", stderr)
			}
		})
	}
	// A response cut while well formed so far is the stream's end alone,
	// as before.
	_, _, stderr := runCLI(t, first+"* 1 FETCH (UID 1", "decode")
	if stderr != "imapkit decode: -: offset 12: the stream ends inside a response\n" {
		t.Errorf("a cut FETCH: stderr %q", stderr)
	}
	// A reader that fails (not at its end) inside a malformed response.
	var out, errs bytes.Buffer
	in := io.MultiReader(strings.NewReader(first+"* 1 FETCH (UID x"), errReader{syscall.EIO})
	if code := runDecode(in, nil, &out, &errs); code != 1 {
		t.Errorf("a failing reader: exit %d; want 1", code)
	}
	if lines := strings.Split(strings.TrimSuffix(errs.String(), "\n"), "\n"); len(lines) != 1 || !strings.HasSuffix(lines[0], syscall.EIO.Error()) {
		t.Errorf("a failing reader: stderr:\n%s\nwant one report, of the failure", errs.String())
	}
}
