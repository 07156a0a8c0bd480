package main

import (
	"errors"
	"strings"
	"testing"
)

// TestReview47ESectionLeadingZero: parseSection took "01" for part 1.
// RFC 3501's section-part is nz-number, which has no leading zero: a usage
// error now, before any connection, naming the number.
func TestReview47ESectionLeadingZero(t *testing.T) {
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
