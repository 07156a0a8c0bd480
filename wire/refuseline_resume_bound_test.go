package wire_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestRefuseLineMaxCountsAcrossResumes: RefuseLineMax bounds what it
// reads of a refused line, and a line its reader interrupts (a deadline
// after each literal's body) is bounded as one call bounds it: the bytes
// the interrupted calls read count. Before, each resumed call counted
// from where it began, and a line cut often enough passed any bound (here
// 5 parts of about 60 bytes under a bound of 100). The tokenizer's
// defaults (a client's commands).
func TestRefuseLineMaxCountsAcrossResumes(t *testing.T) {
	const max = 100
	part := "{40+}\r\n" + strings.Repeat("x", 40)
	var steps []*string
	steps = append(steps, strStep("a APPEND INBOX "+part))
	for range 4 {
		steps = append(steps, nil, strStep(" "+part))
	}
	steps = append(steps, nil, strStep("\r\nb NOOP\r\n"))
	opts := &wire.TokenizerOptions{Commands: true}

	// One call, the bytes all there: over the bound.
	var whole string
	for _, s := range steps {
		if s != nil {
			whole += *s
		}
	}
	tk := wire.NewTokenizer(strings.NewReader(whole), opts)
	if err := tk.RefuseLineMax(max); !errors.Is(err, wire.ErrLineTooLong) || !errors.Is(err, wire.ErrOutOfStep) {
		t.Fatalf("one call: %v; want ErrLineTooLong and ErrOutOfStep", err)
	}

	tk = wire.NewTokenizer(&stepReader{steps: steps}, opts)
	for i := 0; ; i++ {
		err := tk.RefuseLineMax(max)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if read := tk.Offset(); read > max+int64(len(part))+16 {
				t.Fatalf("call %d: interrupted after %d bytes of the line, still reading under a bound of %d", i+1, read, max)
			}
			continue
		}
		if !errors.Is(err, wire.ErrLineTooLong) || !errors.Is(err, wire.ErrOutOfStep) {
			t.Fatalf("call %d, resumed after %d interruptions, at offset %d: %v; want ErrLineTooLong and ErrOutOfStep, as one call", i+1, i, tk.Offset(), err)
		}
		break
	}
}
