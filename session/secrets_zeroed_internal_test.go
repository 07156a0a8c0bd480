package session

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/wire"
)

// TestRedactionSecretsZeroedWhenDropped: the session keeps a copy of each
// credential it sent (at most 16) to redact the server's echoes of it. The
// oldest, dropped for a seventeenth, went to the garbage collector as it
// was, and so did the whole list when the session ended. The list's copy
// is now zeroed as it is dropped; forget zeroes every copy, and nothing
// is kept after it.
func TestRedactionSecretsZeroedWhenDropped(t *testing.T) {
	x := &secrets{}
	var kept [][]byte
	for i := range maxSecrets {
		x.addString(fmt.Sprintf("password-%02d", i))
		kept = append(kept, newest(x))
	}
	x.add([]byte("password-16"))
	kept = append(kept, newest(x))
	if i := firstNonZero(kept[0]); i >= 0 {
		t.Errorf("the oldest secret, dropped for a seventeenth, is not zeroed: %q", kept[0])
	}
	if got := string(x.redact([]byte("password-00 password-16"))); got != "password-00 ***" {
		t.Errorf("after the drop, redact = %q, want %q", got, "password-00 ***")
	}
	x.forget()
	for i, k := range kept {
		if firstNonZero(k) >= 0 {
			t.Errorf("secret %d not zeroed by forget: %q", i, k)
		}
	}
	x.addString("password-17")
	if x.any() || newest(x) != nil {
		t.Errorf("after forget: any = %v, %q kept; want none", x.any(), newest(x))
	}
}

// newest returns a view of the newest secret x keeps (its raw form, the
// last secret's first form), nil when none.
func newest(x *secrets) []byte {
	var last []byte
	x.set.Forms(func(form []byte, first bool) {
		if first {
			last = form
		}
	})
	return last
}

// TestRedactionSecretsZeroedAtSessionEnd: a session's redaction list is
// zeroed once the session has ended (its reader gone: nothing more to
// redact). Defaults; a bubble.
func TestRedactionSecretsZeroedAtSessionEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pw = "s3cret-for-the-list"
		s := pumpTestSession(t)
		cmd := &Command{Name: "XSECRET", Args: func(e *wire.Encoder) { e.SP().Atom("user").SP().Password(pw) }}
		if _, err := s.Run(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
		var kept [][]byte
		s.secrets.set.Forms(func(form []byte, _ bool) { kept = append(kept, form) })
		if len(kept) != 1 || string(kept[0]) != pw {
			t.Fatalf("the session keeps %q, want the password", kept)
		}
		s.Close()
		if firstNonZero(kept[0]) >= 0 || s.secrets.any() {
			t.Errorf("after Close the redaction list's copy is %q (any %v), want zeroed and let go", kept[0], s.secrets.any())
		}
	})
}

// TestTraceCarryZeroedAtSessionEnd: the tracer carries, from a server
// line to the next, the line's end that starts a secret (a password with
// a line break in it, echoed up to the break). That copy of the server's
// echo is zeroed when the session ends, as the secrets are.
func TestTraceCarryZeroedAtSessionEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pw = "hunter2-carried\r\nrest-of-it"
		// The echo after the tagged OK: the last line read.
		s := okServerSession(t, "* OK you sent hunter2-carried\r\n")
		cmd := &Command{Name: "XSECRET", Args: func(e *wire.Encoder) { e.SP().Atom("user").SP().Password(pw) }}
		if _, err := s.Run(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the echo read and traced
		s.tr.mu.Lock()
		kept := s.tr.carry.View()
		s.tr.mu.Unlock()
		if string(kept) != "hunter2-carried\r\n" {
			t.Fatalf("the trace's carry after the echo holds %q, want the password's start and the line end", kept)
		}
		s.Close()
		if firstNonZero(kept[:cap(kept)]) >= 0 {
			t.Errorf("after Close the trace's carry holds %q, want zeroed", kept[:cap(kept)])
		}
	})
}
