package main

import (
	"errors"
	"strings"
	"testing"
)

// TestSectionOneList: RFC 3501's section-msgtext takes one
// header-list after HEADER.FIELDS (.NOT). parseSection took everything
// between the first '(' and the last ')' for the list, so
// "HEADER.FIELDS (a) (b)" parsed (fields "a)" and "(b"), and only
// commands' check refused those names, after the connection and login,
// as a runtime error rather than the usage error it is. It is now refused
// at once.
func TestSectionOneList(t *testing.T) {
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

// TestSectionLeadingZero: parseSection took "01" for part 1.
// RFC 3501's section-part is nz-number, which has no leading zero: a usage
// error now, before any connection, naming the number.
func TestSectionLeadingZero(t *testing.T) {
	for _, spec := range []string{"01", "1.02", "01.MIME", "00", "1.007.HEADER", "010"} {
		_, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v; want a usage error", spec, err)
			continue
		}
		if spec != "00" && !strings.Contains(err.Error(), "leading zero") {
			t.Errorf("%q: %v; want it to name the leading zero", spec, err)
		}
	}
	for _, spec := range []string{"1", "10", "1.10.MIME", "100.2"} {
		if _, err := parseSection(spec); err != nil {
			t.Errorf("%q: %v; want it taken", spec, err)
		}
	}
}
