//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestCopySrcUIDValidityCreatesNothing (found by review): a refusal
// changes nothing on the server. A source mailbox whose entry no longer
// fits the run (its UIDVALIDITY changed, or the --map did) was refused
// only once selected, after its destination mailbox had been CREATEd: a
// missing destination mailbox was left behind, new and empty. Against
// Dovecot (source and destination one account):
//   - the --map changed (Beta=Other): exit 1 (errMapChanged), Other not
//     created;
//   - Beta renumbered and BetaDst deleted: exit 1 (errSrcUIDValidity),
//     BetaDst not created, the advice naming --restart-mailbox Beta (and
//     not the deletion of a mailbox that is not there);
//   - the advice followed: Beta copied whole into a new BetaDst.
func TestCopySrcUIDValidityCreatesNothing(t *testing.T) {
	t.Parallel()
	e := restartSetup(t)
	e.fill("Beta", "b", 2)
	exists := func(box string) bool {
		t.Helper()
		boxes, err := e.c.List(e.ctx, box, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(boxes) > 0
	}
	if code, errs := e.run("Beta", "--map", "Beta=BetaDst"); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, errs)
	}
	code, errs := e.run("Beta", "--map", "Beta=Other")
	if code != exitNo || !strings.Contains(errs, "the --map changed") || exists("Other") {
		t.Errorf("--map changed: exit %d, Other created %v; want %d, the --map refusal, nothing created\nstderr: %s", code, exists("Other"), exitNo, errs)
	}
	e.del("Beta")
	e.fill("Beta", "c", 3)
	e.del("BetaDst")
	code, errs = e.run("Beta", "--map", "Beta=BetaDst")
	if code != exitNo || !strings.Contains(errs, "the UIDVALIDITY changed") || !strings.Contains(errs, "run again with --restart-mailbox Beta") || strings.Contains(errs, "delete it") || exists("BetaDst") {
		t.Errorf("UIDVALIDITY changed, BetaDst deleted: exit %d, BetaDst created %v; want %d, refused, advice --restart-mailbox Beta, nothing created\nstderr: %s", code, exists("BetaDst"), exitNo, errs)
	}
	code, errs = e.run("Beta", "--map", "Beta=BetaDst", "--restart-mailbox", "Beta")
	if got := subjectsOf(t, e.c, "BetaDst"); code != exitOK || got != "c0,c1,c2" {
		t.Errorf("advice followed: exit %d, BetaDst holds %s; want 0, c0,c1,c2\nstderr: %s", code, got, errs)
	}
}
