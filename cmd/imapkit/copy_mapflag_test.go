//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestCopyMapSameSourceTwice (found by review): "--map INBOX=A --map
// inbox=B" names one source mailbox twice (INBOX's name is
// case-insensitive, RFC 3501 5.1), and so does "--map A=X --map A=Y":
// the last won, silently, and the mail went where the user may not have
// meant. A usage error now (exit 2, before connecting: the URLs name no
// server), naming both. The same map twice, or INBOX in two cases to the
// same target, is no clash.
func TestCopyMapSameSourceTwice(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"INBOX=A", "inbox=B", "--map INBOX=A and --map inbox=B"},
		{"Inbox=A", "INBOX=B", "--map Inbox=A and --map INBOX=B"},
		{"Work=X", "Work=Y", "--map Work=X and --map Work=Y"},
	} {
		code, _, errs := runCLI(t, "", "copy", "imaps://a@127.0.0.1:1", "imaps://b@127.0.0.1:1", "--map", tc.a, "--map", tc.b)
		if code != exitUsage || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "mapped to two") {
			t.Errorf("--map %s --map %s: exit %d, want %d naming both (%q)\nstderr: %.400s", tc.a, tc.b, code, exitUsage, tc.want, errs)
		}
	}
	m := mapFlag{to: map[string]string{}, typed: map[string]string{}}
	for _, v := range []string{"INBOX=A", "inbox=A", "Work=X", "Work=X"} {
		if err := m.Set(v); err != nil {
			t.Errorf("--map %s after the same map: %v, want no error", v, err)
		}
	}
	if m.to["INBOX"] != "A" || m.to["Work"] != "X" || len(m.to) != 2 {
		t.Errorf("maps %v, want INBOX=A Work=X", m.to)
	}
}

// TestCopyMapInboxCaseNote (found by review): mapFlag.Set added
// "INBOX's name is case-insensitive" to the clash when the earlier
// argument differed from this one (whole SRC=DST arguments compared), not
// when the sources differ in case: "--map INBOX=A --map INBOX=B", INBOX
// typed alike twice, was told INBOX's name is case-insensitive. And
// "--map INBOX=INBOX --map inbox=inbox" (one source, one destination:
// INBOX on both) was refused as mapped to two. Without a server.
func TestCopyMapInboxCaseNote(t *testing.T) {
	m := mapFlag{to: map[string]string{}, typed: map[string]string{}}
	if err := m.Set("INBOX=A"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("INBOX=B"); err == nil || strings.Contains(err.Error(), "case-insensitive") {
		t.Errorf("--map INBOX=A --map INBOX=B: %v; want a clash not speaking of INBOX's case (typed alike)", err)
	}
	if err := m.Set("inbox=B"); err == nil || !strings.Contains(err.Error(), "case-insensitive") {
		t.Errorf("--map INBOX=A --map inbox=B: %v; want a clash speaking of INBOX's case", err)
	}
	m = mapFlag{to: map[string]string{}, typed: map[string]string{}}
	if err := m.Set("INBOX=INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("inbox=inbox"); err != nil {
		t.Errorf("--map INBOX=INBOX --map inbox=inbox: %v; want no clash (INBOX to INBOX both)", err)
	}
	if m.to["INBOX"] != "INBOX" || len(m.to) != 1 {
		t.Errorf("maps %v, want INBOX=INBOX, the first kept", m.to)
	}
}

// TestCopyMapInboxChildTwoCases: two --map sources that name one INBOX
// child in two cases ("inbox/Sub", "Inbox/Sub"; the source, Dovecot,
// lists "INBOX/Sub") with different targets are a usage error (exit 2)
// once the source's listing tells they are one mailbox (foldInboxChildren),
// naming both as typed (it named the second "INBOX/Sub"), nothing
// created on the destination. The error existed untested.
func TestCopyMapInboxChildTwoCases(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("INBOX/Sub", "s", 1)
	code, errs := e.run("inbox/Sub", "--map", "inbox/Sub=X", "--map", "Inbox/Sub=Y")
	if code != exitUsage || !strings.Contains(errs, "--map Inbox/Sub=Y and --map inbox/Sub=X: one source mailbox (INBOX/Sub) mapped to two") {
		t.Errorf("--map inbox/Sub=X --map Inbox/Sub=Y: exit %d, want %d naming both as typed\nstderr: %s", code, exitUsage, errs)
	}
	boxes, err := e.c.List(e.ctx, "*", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		if b.Name == "X" || b.Name == "Y" {
			t.Errorf("the refused run created %s on the destination", b.Name)
		}
	}
	// Two cases of the child mapped to INBOX in two cases: one
	// destination, as mapFlag.Set compares them (found by review: a
	// usage error, the targets compared exactly).
	code, errs = e.run("inbox/Sub", "--map", "inbox/Sub=inbox", "--map", "Inbox/Sub=INBOX")
	if code != exitOK || strings.Contains(errs, "mapped to two") {
		t.Errorf("--map inbox/Sub=inbox --map Inbox/Sub=INBOX: exit %d, want 0 (one destination, INBOX)\nstderr: %s", code, errs)
	}
	if got := subjectsOf(t, e.c, "INBOX"); got != "s0" {
		t.Errorf("INBOX holds %s, want s0 (once)", got)
	}
}
