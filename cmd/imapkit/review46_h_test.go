//go:build linux

package main

import (
	"slices"
	"testing"
)

// TestReview46HSectionFieldSeparators: with HEADER.FIELDS split on SP
// and TAB only (TestReview46HSectionFieldNameUnicodeSpace), a list apart
// by runs of spaces or by tabs still gives its names, and the last part
// number there is (4294967295) is still taken.
func TestReview46HSectionFieldSeparators(t *testing.T) {
	sec, err := parseSection("HEADER.FIELDS (From\tTo   Subject )")
	if err != nil || !slices.Equal(sec.Fields, []string{"From", "To", "Subject"}) {
		t.Errorf("fields %q, %v; want From, To, Subject", sec.Fields, err)
	}
	sec, err = parseSection("1.4294967295.MIME")
	if err != nil || !slices.Equal(sec.Part, []int{1, 4294967295}) {
		t.Errorf("part %v, %v; want 1.4294967295", sec.Part, err)
	}
}
