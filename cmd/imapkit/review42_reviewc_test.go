//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestReview42RFIdleNewExistsDuringEmptyFetchLost: idle --new fetches after an
// EXISTS "again until a FETCH finds nothing new" (runIdle, kept by
// 9d74fc2). A message that arrives while the last, empty UID FETCH runs
// is announced by an EXISTS sent with that FETCH's answer (Dovecot reports
// mailbox changes at the end of each command: the FETCH's set was taken
// before the message came). fetchNew prints that EXISTS as an event, but
// it ends the loop because nothing new was found, and the next IDLE
// starts: the EXISTS never reaches Idle's handler, so the new message is
// never fetched nor reported as new (until some other mail arrives). An
// EXISTS met during a fetch should count as "fetch again".
func TestReview42RFIdleNewExistsDuringEmptyFetchLost(t *testing.T) {
	out := review42IdleServer(t, func(tag string, _ *[]int) []string {
		return []string{tag + " OK IDLE terminated"}
	}, func(n int, uids *[]int) []string {
		if n != 2 {
			return nil
		}
		// Mail came while this FETCH ran: announced at its end, as
		// Dovecot does.
		*uids = append(*uids, 112)
		return []string{fmt.Sprintf("* %d EXISTS", len(*uids))}
	}, "--new", "--for", "2s")
	if !strings.Contains(out, "EXISTS 12") {
		t.Fatalf("EXISTS 12 not printed: the script did not run as meant")
	}
	if !strings.Contains(out, "msg 112") {
		t.Errorf("the message announced by the EXISTS that came with the last (empty) UID FETCH was never fetched: no \"new\" line for UID 112 in 2 s")
	}
}

// TestReview42REAppendTooBigExit1: as TestCopyTooBigExit3, for
// "imapkit append" of a message over the server's APPENDLIMIT (the
// library refuses it before sending, commands.ErrTooBig): exit 1, the
// server's stated limit refusing it, not 3.
func TestReview42REAppendTooBigExit1(t *testing.T) {
	fake := &r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}, caps: "IMAP4rev1 LITERAL+ APPENDLIMIT=20"}
	addr := fake.start(t)
	msg := "From: x@example.org\r\nSubject: big\r\n\r\n" + strings.Repeat("x", 100) + "\r\n"
	code, out, errs := runCLI(t, msg, "append", "imap://alice@"+addr, "INBOX", "-", "--insecure-plaintext", "--timeout", "20s")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	if !strings.Contains(errs, "APPENDLIMIT") {
		t.Fatalf("no APPENDLIMIT refusal reported")
	}
	if code != exitNo {
		t.Errorf("append of a message over the server's APPENDLIMIT: exit %d, want %d", code, exitNo)
	}
}
