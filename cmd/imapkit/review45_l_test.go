package main

import (
	"errors"
	"testing"
)

// TestReview45LSectionOneList: RFC 3501's section-msgtext takes one
// header-list after HEADER.FIELDS (.NOT). parseSection took everything
// between the first '(' and the last ')' for the list, so
// "HEADER.FIELDS (a) (b)" parsed (fields "a)" and "(b"), and only
// commands' check refused those names, after the connection and login,
// as a runtime error rather than the usage error it is. It is now refused
// at once.
func TestReview45LSectionOneList(t *testing.T) {
	for _, spec := range []string{
		"HEADER.FIELDS (a) (b)",
		"HEADER.FIELDS ((a))",
		"HEADER.FIELDS (a (b))",
		"1.HEADER.FIELDS.NOT (a)(b)",
	} {
		_, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v; want a usage error", spec, err)
		}
	}
	sec, err := parseSection("HEADER.FIELDS (FROM TO)")
	if err != nil || len(sec.Fields) != 2 || sec.Fields[0] != "FROM" || sec.Fields[1] != "TO" {
		t.Errorf("HEADER.FIELDS (FROM TO): %+v %v", sec, err)
	}
}
