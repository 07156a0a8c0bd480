package wire_test

import (
	"io"
	"os"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// stepReader serves its steps in order: a string is data (at most one step
// per Read), nil a read deadline.
type stepReader struct {
	steps []*string
	cur   string
}

func (r *stepReader) Read(p []byte) (int, error) {
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

func strStep(s string) *string { return &s }

// nextLiteral reads tokens until a literal's header, failing t on an
// error.
func nextLiteral(t *testing.T, tk *wire.Tokenizer) wire.Token {
	t.Helper()
	for {
		tok, err := tk.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == wire.KindLiteral {
			return tok
		}
	}
}
