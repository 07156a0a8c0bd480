package main

import (
	"strings"
	"testing"
)

// TestReview40CIdleNewDropsEvents: "imapkit idle --new" (docs/cli.md: "the
// mailbox's events as they come (EXISTS, EXPUNGE, FETCH flags, VANISHED,
// alerts)") fetches each new message on the same connection; the server
// reports what other clients did meanwhile with that FETCH's answer
// (Dovecot sends pending EXPUNGEs and flag changes at the end of a UID
// FETCH). Those responses go to the session's unsolicited stream, which
// the CLI never reads: the EXPUNGE and the flag change are never printed,
// and every sequence number printed after them (later EXPUNGE n, FETCH n,
// new: seq) is off for a consumer that follows the event stream.
func TestReview40CIdleNewDropsEvents(t *testing.T) {
	out := runIdleNew(t, func(uids []int) ([]int, []string) {
		// During the FETCH of 111: message 3 (UID 103) is expunged by
		// another client, and message 1 is flagged.
		uids = append(uids[:2:2], uids[3:]...)
		return uids, []string{"* 3 EXPUNGE", "* 1 FETCH (FLAGS (\\Flagged))"}
	})
	if !strings.Contains(out, "msg 111") {
		t.Fatalf("message 111 not reported")
	}
	if !strings.Contains(out, "EXPUNGE 3") {
		t.Errorf("idle --new: the EXPUNGE the server sent with the FETCH's answer was never printed")
	}
	if !strings.Contains(out, `FETCH 1 FLAGS (\Flagged)`) {
		t.Errorf("idle --new: the flag change the server sent with the FETCH's answer was never printed")
	}
}
