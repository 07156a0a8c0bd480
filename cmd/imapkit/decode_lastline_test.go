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
// offset inside the response. So is one a read failure cuts. (A
// well-formed FETCH whose streamed body the end cuts is the stream's end:
// TestDecodeCutFetchBodyReportedAsStreamEnd.)
func TestDecodeMalformedLastLineReportedOnce(t *testing.T) {
	const first = "* 1 EXISTS\r\n"
	for name, last := range map[string]string{
		"bad byte":              "* 1 FETCH (UID x",
		"bad byte, CR":          "* 1 FETCH (UID x\r",
		"stray byte":            "* 1 FETCH (UID 1) x",
		"then a literal":        "* 1 FETCH (UID x) {5}\r\nab",
		"body, then a bad byte": "* 1 FETCH (UID 1 BODY[] {3}\r\nabc UID x",
		"bad tag, no CRLF":      "A%1 OK done",
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

// TestDecodeCutFetchBodyReportedAsStreamEnd: a well-formed FETCH whose
// input ends inside or after a streamed body section (decode streams every
// section through its own SectionHandler) is reported as docs/decode.md
// says, "offset N: the stream ends inside a response", N where the
// response starts, once; a reader that fails there, with its error. Before
// (found by review), it was a response that "cannot decode": "cannot
// decode FETCH of message 1 (UID 7): unexpected EOF" after the body, and
// "...: codec: section handler: unexpected EOF; the read failed while
// skipping the rest: unexpected EOF" inside it, blaming the server's
// syntax and decode's own handler for a truncated capture.
func TestDecodeCutFetchBodyReportedAsStreamEnd(t *testing.T) {
	const first = "* 1 EXISTS\r\n"
	const want = "imapkit decode: -: offset 12: the stream ends inside a response\n"
	for name, c := range map[string]struct{ last, maxBody string }{
		"cut after the body":           {"* 1 FETCH (UID 7 BODY[] {3}\r\nabc FLA", ""},
		"cut inside the body":          {"* 1 FETCH (UID 7 BODY[] {10}\r\nabc", ""},
		"cut past what is kept":        {"* 1 FETCH (UID 7 BODY[] {10}\r\nabcdef", "2"},
		"cut after the second body":    {"* 1 FETCH (BODY[1] {1}\r\na BODY[2] {2}\r\nbc", ""},
		"cut inside the second body":   {"* 1 FETCH (BODY[1] {1}\r\na BODY[2] {2}\r\nb", ""},
		"cut before the closing paren": {"* 1 FETCH (UID 7 BODY[] {3}\r\nabc", ""},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"decode"}
			if c.maxBody != "" {
				args = append(args, "-max-body", c.maxBody)
			}
			code, stdout, stderr := runCLI(t, first+c.last, args...)
			if code != 1 || stderr != want || !strings.Contains(stdout, `"EXISTS"`) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1, the EXISTS and %q (docs/decode.md)", code, stdout, stderr, want)
			}
		})
	}
	// A reader that fails inside the body: its error, as before the body.
	var out, errs bytes.Buffer
	in := io.MultiReader(strings.NewReader(first+"* 1 FETCH (UID 7 BODY[] {10}\r\nabc"), errReader{syscall.EIO})
	if code := runDecode(in, nil, &out, &errs); code != 1 || errs.String() != "imapkit decode: -: offset 12: "+syscall.EIO.Error()+"\n" {
		t.Errorf("a failing reader inside a body: exit %d, stderr %q; want 1 and one report of the failure at offset 12", code, errs.String())
	}
}
