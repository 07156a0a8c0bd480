package session_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/transcript"
	"github.com/imapkit/imapkit/session"
)

// TestTranscriptExistsLate: a FETCH by sequence number naming messages
// above the count ends well when an EXISTS in its own answer announces
// them (what Cyrus sends for mail delivered since its last EXISTS), and
// with an *UnannouncedError when that EXISTS does not cover them all or
// comes only after the tagged answer (testdata/exists_late.txt).
func TestTranscriptExistsLate(t *testing.T) {
	conn, wait := script(t, "exists_late")
	s := transcript.Open(t, conn, nil)
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	count := func(step string, n uint32, unannounced uint64) {
		t.Helper()
		if gn, known := s.Exists(); gn != n || !known {
			t.Fatalf("%s: Exists() = %d, %v; want %d, true", step, gn, known, n)
		}
		if u := s.Unannounced(); u != unannounced {
			t.Fatalf("%s: Unannounced() = %d; want %d", step, u, unannounced)
		}
	}
	r, err := s.Run(ctx, rawCommand("FETCH", "1:* (UID)"))
	if err != nil {
		t.Fatalf("FETCH whose answer announces messages 4 and 5 after naming them: %v; want no error", err)
	}
	if n := len(r.Data); n != 5 || r.Data[4].(*codec.Fetch).Seq != 5 {
		t.Fatalf("FETCH delivered %d responses; want all five", n)
	}
	count("announced late", 5, 2)

	var ue *session.UnannouncedError
	_, err = s.Run(ctx, rawCommand("FETCH", "1:* (UID)"))
	if !errors.As(err, &ue) || ue.Count != 2 || ue.Seq != 6 || ue.Exists != 6 {
		t.Fatalf("FETCH of 6 and 7 with only 6 announced in its answer: %v; want an UnannouncedError for 2 from message 6, the mailbox at 6", err)
	}
	count("7 never announced", 6, 4)

	_, err = s.Run(ctx, rawCommand("FETCH", "7:* (UID)"))
	if !errors.As(err, &ue) || ue.Count != 1 || ue.Seq != 8 {
		t.Fatalf("FETCH of 8 announced only by the next command: %v; want an UnannouncedError for message 8", err)
	}
	if _, err := s.Run(ctx, rawCommand("NOOP", "")); err != nil {
		t.Fatal(err)
	}
	count("the next command's EXISTS", 8, 5)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
