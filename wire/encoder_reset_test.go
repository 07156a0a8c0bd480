package wire

import (
	"bytes"
	"testing"
)

// TestEncoderResetZeroesEarlierLongerCommand: Reset zeroes every command
// encoded since the last Reset, not the last one's bytes alone. A longer
// command encoded earlier by the same Encoder without a Reset between (the
// session keeps its Encoder while its write buffer holds bytes: a LOGIN
// written while another writer waits for the lock, then that writer's
// shorter command) left its tail, password included, in the buffer's
// capacity, which went to the session's encoderPool (found by review). The
// password strings kept for Encoded.Secrets go too, from the whole
// capacity of their slice (Begin truncates it).
func TestEncoderResetZeroesEarlierLongerCommand(t *testing.T) {
	const pw = "correct-horse-battery-staple-0123456789"
	e := NewEncoder(nil)
	e.Begin("A1").Atom("LOGIN").SP().Atom("user").SP().Password(pw)
	if _, err := e.End(); err != nil {
		t.Fatal(err)
	}
	e.Begin("A2").Atom("NOOP")
	if _, err := e.End(); err != nil {
		t.Fatal(err)
	}
	e.Reset()
	if bytes.Contains(e.buf[:cap(e.buf)], []byte(pw)) {
		t.Fatalf("after Reset the Encoder's buffer still holds the password of an earlier command: %q", e.buf[:cap(e.buf)])
	}
	for i, s := range e.rawSecrets[:cap(e.rawSecrets)] {
		if s != "" {
			t.Fatalf("after Reset the Encoder still holds secret %d of an earlier command: %q", i, s)
		}
	}
}
