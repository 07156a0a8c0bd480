package codec

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/wire"
)

// TestReview41NBodyStructureManyParts (audit 41): the arena that hands out the
// BodyStructure values of a response (msgSlab) sizes its next chunk as
// 4 << len(chunks), capped at 256. Past 61 chunks the shift overflows
// (4<<61 is negative, 4<<62 is 0) and make panics: a BODYSTRUCTURE of a
// multipart with about 14,400 parts, 600 KB on one line (within the 1 MiB
// MaxLineLength), panics the decoder with the default options. In a
// session the decoder runs on the reader goroutine: the user's process
// dies. It should decode (or fail with a typed error).
func TestReview41NBodyStructureManyParts(t *testing.T) {
	const parts = 15000
	part := `("text" "plain" NIL NIL NIL "7bit" 1 1)`
	line := "* 1 FETCH (UID 7 BODYSTRUCTURE (" + strings.Repeat(part, parts) + ` "mixed"))` + "\r\n"
	t.Logf("one FETCH line of %d bytes (MaxLineLength %d)", len(line), wire.DefaultMaxLineLength)
	d := NewDecoder(wire.NewTokenizer(bytes.NewReader([]byte(line)), nil), nil)
	var r Response
	var err error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		r, err = d.Next()
		return nil
	}()
	if panicked != nil {
		t.Fatalf("decoding a BODYSTRUCTURE of %d parts panicked: %v", parts, panicked)
	}
	if err != nil {
		t.Logf("typed error: %v", err)
		return
	}
	f := r.(*Fetch)
	if got := len(f.BodyStructure.Children); got != parts {
		t.Errorf("got %d parts; want %d", got, parts)
	}
}

// TestReview41OEnvelopeMany: the same with the envelopes (msgArena.envs,
// the same msgSlab): a FETCH that repeats ENVELOPE 15,000 times (750 KB,
// within MaxLineLength) panics too.
func TestReview41OEnvelopeMany(t *testing.T) {
	const n = 15000
	line := fmt.Sprintf("* 1 FETCH (UID 7%s)\r\n", strings.Repeat(" ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", n))
	t.Logf("one FETCH line of %d bytes", len(line))
	d := NewDecoder(wire.NewTokenizer(bytes.NewReader([]byte(line)), nil), nil)
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_, err := d.Next()
		if err != nil {
			t.Logf("typed error: %v", err)
		}
		return nil
	}()
	if panicked != nil {
		t.Fatalf("decoding a FETCH of %d ENVELOPEs panicked: %v", n, panicked)
	}
}
