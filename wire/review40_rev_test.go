package wire_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// r40Script serves its steps in order: a string is data (at most one step
// per Read), nil a read deadline.
type r40Script struct {
	steps []*string
	cur   string
}

func (r *r40Script) Read(p []byte) (int, error) {
	for r.cur == "" {
		if len(r.steps) == 0 {
			return 0, io.EOF
		}
		s := r.steps[0]
		r.steps = r.steps[1:]
		if s == nil {
			return 0, os.ErrDeadlineExceeded
		}
		r.cur = *s
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func r40Str(s string) *string { return &s }

// TestReview40RSkipResumedKeepsLine: SkipLine "keeps nothing in memory": past the
// line's head it drops what it skipped but a 32-byte tail. A skip resumed
// after a read deadline (the session resumes one so) starts with lineCut set
// and lineText unset, so skipLine's known is false and whole is false:
// decide never decides, and the tail drop (gated on known since 0b60ec4)
// never happens. The rest of the line piles up in the buffer (growing it)
// up to its LF or MaxLineLength.
func TestReview40RSkipResumedKeepsLine(t *testing.T) {
	r := &r40Script{steps: []*string{
		r40Str("* 1 FETCH (X " + strings.Repeat("a", 200)), nil,
		r40Str(strings.Repeat("b", 300_000)), nil,
		r40Str("\r\n* 2 EXISTS\r\n"),
	}}
	tk := wire.NewTokenizer(r, nil)
	if err := tk.SkipLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first SkipLine: %v; want the deadline", err)
	}
	first := tk.Buffered()
	if err := tk.SkipLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("resumed SkipLine: %v; want the deadline", err)
	}
	if n := tk.Buffered(); n > 64 {
		t.Errorf("after the resumed skip met the deadline, %d bytes of the skipped line are still buffered (after the first skip: %d); want at most the 32-byte tail", n, first)
	}
	if err := tk.SkipLine(); err != nil {
		t.Fatalf("last SkipLine: %v", err)
	}
	if b, err := tk.Rest(); err != nil || string(b) != "* 2 EXISTS" {
		t.Fatalf("next line: %q %v", b, err)
	}
}

// TestReview40RForwardLineAfterLiteralStalls: a relay forwards a line whose
// literal it streamed (ForwardLiteral sets lineCut), then the rest with
// ForwardLine. skipLine starts with whole false and known false (the line
// is not a text line), so it forwards nothing until the line's LF comes:
// what was read stays buffered, unforwarded, up to MaxLineLength. Before
// 0b60ec4 all but a 32-byte tail was forwarded as it came.
func TestReview40RForwardLineAfterLiteralStalls(t *testing.T) {
	r := &r40Script{steps: []*string{
		r40Str("A1 X box {3}\r\nabc " + strings.Repeat("x", 100_000)), nil,
		r40Str(")\r\n"),
	}}
	tk := wire.NewTokenizer(r, nil)
	var out bytes.Buffer
	line, err := tk.AppendUntilLiteral(nil)
	if err != nil || len(line) == 0 || line[len(line)-1].Kind != wire.KindLiteral {
		t.Fatalf("AppendUntilLiteral: %v %v", line, err)
	}
	if _, err := tk.ForwardLiteral(&out); err != nil {
		t.Fatalf("ForwardLiteral: %v", err)
	}
	if err := tk.ForwardLine(&out); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ForwardLine: %v; want the deadline", err)
	}
	if got, read := out.Len(), len("A1 X box {3}\r\nabc ")+100_000; got < read-64 {
		t.Errorf("ForwardLine met a deadline having read %d bytes of the line; it forwarded %d (%d buffered)", read, got, tk.Buffered())
	}
	if err := tk.ForwardLine(&out); err != nil {
		t.Fatalf("ForwardLine resumed: %v", err)
	}
	if want := "A1 X box {3}\r\nabc " + strings.Repeat("x", 100_000) + ")\r\n"; out.String() != want {
		t.Errorf("forwarded %d bytes, want %d", out.Len(), len(want))
	}
}
