package commands

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// FuzzFetchCopy checks the copies Fetch makes (clone.go: arenas and slabs
// sized by counting, then filled) on FETCH responses of any shape the
// codec decodes. The input is a stream of FETCH responses: one the codec
// does not decode whole into FETCH responses of messages 1 to 303 (the
// fake server's EXISTS) is skipped. The stream is the answer to a FETCH,
// through a session with the defaults or (streamed) one whose string limit
// of 2 bytes streams every body section (and refuses other strings over
// 2 bytes sent as literals: such a stream ends the exec). Fetch's owned messages and
// Borrow's clones must equal the codec's own deep copies
// (codec.CloneResponse), nil and empty kept apart, after the iteration
// has moved on; every copied value must be capped; every arena must be
// used up exactly; every section must read the bytes the codec decoded.
func FuzzFetchCopy(f *testing.F) {
	for _, l := range strings.SplitAfter(copyShapes, ")\r\n") {
		if l != "" {
			f.Add([]byte(l), false)
		}
	}
	f.Add([]byte(copyShapes), true)
	f.Add(corpus.FetchMetadata(3), false)
	f.Add(corpus.FetchMetadata(2), true)
	f.Fuzz(func(t *testing.T, stream []byte, streamed bool) {
		want, ok := decodeFetchStream(stream)
		if !ok {
			return
		}
		var opts *session.Options
		if streamed {
			opts = &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 2}}
		}
		audits, short := auditCopies(t)
		c := fetchServer(t, stream, opts)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, borrow := range []bool{false, true} {
			*audits = 0
			var got []*Message
			var secs [][][]byte
			var ferr error
			for m, err := range c.Fetch(ctx, SeqRange(1, 0), &FetchItems{UID: true, Borrow: borrow}) {
				if err != nil {
					ferr = err
					break
				}
				var bodies [][]byte
				for {
					sec, err := m.NextSection()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("borrow %v: message %d: section %d: %v", borrow, len(got), len(bodies), err)
					}
					b, err := io.ReadAll(sec)
					if err != nil {
						t.Fatalf("borrow %v: message %d: section %d: %v", borrow, len(got), len(bodies), err)
					}
					bodies = append(bodies, b)
				}
				if borrow {
					lent := m
					m = m.Clone()
					if d := diffAttrs(attrView(lent), attrView(m)); d != "" {
						t.Fatalf("message %d: the clone differs from the lent message (-lent +clone):\n%s", len(got), d)
					}
				}
				got = append(got, m)
				secs = append(secs, bodies)
			}
			// With the string limit of 2 bytes, a string over 2 bytes sent
			// as a literal outside a body section is refused (the
			// session's decode error comes after the messages it could
			// decode).
			if streamed && errors.Is(ferr, wire.ErrStringTooLarge) {
				return
			}
			if ferr != nil {
				t.Fatalf("borrow %v: after %d messages: %v", borrow, len(got), ferr)
			}
			if len(got) != len(want) {
				t.Fatalf("borrow %v: %d messages, want %d", borrow, len(got), len(want))
			}
			for i, m := range got {
				checkCopy(t, m, want[i])
				if len(secs[i]) != len(want[i].Sections) {
					t.Fatalf("borrow %v: message %d: %d sections, want %d", borrow, i, len(secs[i]), len(want[i].Sections))
				}
				for j, b := range secs[i] {
					if !bytes.Equal(b, want[i].Sections[j].Data) {
						t.Fatalf("borrow %v: message %d: section %d: %q, want %q", borrow, i, j, b, want[i].Sections[j].Data)
					}
				}
			}
			if *audits < len(want) || *short != 0 {
				t.Fatalf("borrow %v: %d copies audited for %d messages, %d with arenas not used up exactly", borrow, *audits, len(want), *short)
			}
		}
	})
}

// decodeFetchStream decodes stream with the codec's defaults and returns
// deep copies of its responses, and whether it holds only whole FETCH
// responses of messages 1 to 303 (at least one).
func decodeFetchStream(stream []byte) ([]*codec.Fetch, bool) {
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(stream), nil), nil)
	var out []*codec.Fetch
	for {
		r, err := d.Next()
		if err == io.EOF {
			return out, len(out) > 0
		}
		if err != nil {
			return nil, false
		}
		f, ok := r.(*codec.Fetch)
		if !ok || f.Seq < 1 || f.Seq > 303 {
			return nil, false
		}
		out = append(out, codec.CloneResponse(f).(*codec.Fetch))
	}
}
