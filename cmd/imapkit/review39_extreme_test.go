package main

// Reproducers of the arithmetic-at-the-extremes audit (the CLI's part).

import (
	"encoding/json"
	"testing"
)

// copy's source-UID -> destination-UID map (uidMap) keeps runs
// Src..Src+N-1; lookup and add compare Src+N in uint32, which wraps to 0
// for a run that ends at UID 4294967295 (the largest; UnmarshalJSON
// accepts such a run). A copy recorded there is never found: its flag
// changes are not carried (or a Message-ID search is made at every run,
// adding a run each time), though the map holds it.
func TestReview39XUIDMapTopUID(t *testing.T) {
	var m uidMap
	m.add(4294967294, 70)
	m.add(4294967295, 71)
	if got := m.lookup(4294967294); got != 70 {
		t.Errorf("lookup(4294967294) = %d, want 70 (map %v)", got, m)
	}
	if got := m.lookup(4294967295); got != 71 {
		t.Errorf("lookup(4294967295) = %d, want 71 (map %v)", got, m)
	}

	// A state file's run [4294967290, 100, 6] (valid: it ends at the
	// largest UID) is not found either.
	var r uidRun
	if err := json.Unmarshal([]byte(`[4294967290,100,6]`), &r); err != nil {
		t.Fatal(err)
	}
	m2 := uidMap{r}
	if got := m2.lookup(4294967292); got != 102 {
		t.Errorf("lookup(4294967292) in %v = %d, want 102", m2, got)
	}
	// Adding what the map holds already must not grow it.
	m2.add(4294967292, 102)
	if len(m2) != 1 {
		t.Errorf("add of a pair the map holds made %v", m2)
	}
}
