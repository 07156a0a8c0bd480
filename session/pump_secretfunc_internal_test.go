package session

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/wire"
)

// TestPumpBufferZeroedForSecretLiteralFunc: wire.Encoder.Secret "marks
// everything f writes as secret", a literal streamed through LiteralFunc
// included. send took a command for secret (secretWrite, and ctxBodies'
// secret, which zeroes the pump buffer: putPumpBuffer) when Command.Secret
// was set or the Encoded had Secrets(); a LiteralFunc writes nothing into
// the Encoder's buffer, so Secret(LiteralFunc) left no secret span and no
// Secrets(): the pump buffer that read the secret body went back to
// pumpBuffers holding it (and the write buffer was not zeroed either, nor
// a COMPRESS deflater kept out of its pool; a LiteralReader inside Secret
// was caught only because its header "{n+}" became a "secret"; found by
// review). send asks wire.Encoded.SecretBody now. Defaults; a bubble.
func TestPumpBufferZeroedForSecretLiteralFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secretBody = "s3cret-sasl-blob-in-a-literal-0123456789"
		var (
			mu   sync.Mutex
			seen []bool
		)
		testHookPumpPut = func(buf []byte) {
			mu.Lock()
			seen = append(seen, bytes.Contains(buf, []byte(secretBody)))
			mu.Unlock()
		}
		defer func() { testHookPumpPut = nil }()
		s := pumpTestSession(t)
		ctx, cancel := context.WithCancel(context.Background()) // can end: the body is pumped
		defer cancel()
		open := func() (io.Reader, int64, error) {
			return io.MultiReader(strings.NewReader(secretBody)), int64(len(secretBody)), nil
		}
		cmd := &Command{Name: "XBLOB", Args: func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) { e.LiteralFunc(open, false) })
		}}
		if _, err := s.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the pump goroutine has given its buffer back
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 1 {
			t.Fatalf("%d pump buffers given back, want 1", len(seen))
		}
		if seen[0] {
			t.Error("a pump buffer went back to its pool holding a literal body written inside wire.Encoder.Secret (LiteralFunc)")
		}
	})
}

// TestSecretLiteralReaderHeaderNotRedacted: a LiteralReader inside
// wire.Encoder.Secret made the session a secret command only because its
// header ("{40+}") was listed by Secrets: the session then redacted every
// "{40+}" from what the server sent. It is a secret command by its body
// now (SecretBody): the pump buffer is zeroed, and the header is no
// credential. Defaults; a bubble.
func TestSecretLiteralReaderHeaderNotRedacted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secretBody = "s3cret-sasl-blob-in-a-literal-0123456789"
		var (
			mu   sync.Mutex
			seen []bool
		)
		testHookPumpPut = func(buf []byte) {
			mu.Lock()
			seen = append(seen, bytes.Contains(buf, []byte(secretBody)))
			mu.Unlock()
		}
		defer func() { testHookPumpPut = nil }()
		s := pumpTestSession(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := &Command{Name: "XBLOB", Args: func(e *wire.Encoder) {
			e.SP().Secret(func(e *wire.Encoder) {
				e.LiteralReader(int64(len(secretBody)), io.MultiReader(strings.NewReader(secretBody)), false)
			})
		}}
		if _, err := s.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		hdr := []byte("{" + strconv.Itoa(len(secretBody)) + "+}")
		if got := s.secrets.redact(hdr); !bytes.Equal(got, hdr) {
			t.Errorf("the session redacts the literal's header %q from the server's text: %q", hdr, got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 1 || seen[0] {
			t.Errorf("pump buffers given back holding the secret body: %v, want [false]", seen)
		}
	})
}
