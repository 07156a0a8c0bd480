//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestReview47ESectionAllZeros (found by review): d2fad1e's leading-zero refusal comes before the
// "part numbers start at 1" check, and its advice strips every zero:
// --section 00 says "part number 00 has a leading zero (write )", an
// empty suggestion. A number of zeros only is part 0: say that parts
// start at 1 (or suggest "0" is no part at all).
func TestReview47ESectionAllZeros(t *testing.T) {
	for _, spec := range []string{"00", "1.000"} {
		_, err := parseSection(spec)
		if err == nil {
			t.Fatalf("%q: accepted", spec)
		}
		if strings.Contains(err.Error(), "(write )") {
			t.Errorf("%q: %v; want no empty suggestion (part numbers start at 1)", spec, err)
		}
	}
}
