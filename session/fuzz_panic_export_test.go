package session

import (
	"context"
	"io"
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// PlantedDecoderPanicSession returns a session whose decoder panics on the
// FETCH its server sends for a NOOP (plantedSectionSession: a stand-in for a
// bug of the decoder's own code), for the test of the fuzz harnesses'
// panic check (TestFuzzCheckPanics). The session ends with the test.
func PlantedDecoderPanicSession(t *testing.T) (context.Context, *Session) {
	t.Helper()
	return plantedSectionSession(t, func(*Session) func(*codec.Fetch, *codec.Section, io.Reader) error {
		return func(*codec.Fetch, *codec.Section, io.Reader) error { panic("planted decoder bug") }
	})
}
