//go:build linux

package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestSectionUnicodeSpaceAroundList: 8c5e245 splits the
// HEADER.FIELDS list on SP and TAB only, so that a Unicode space is not
// taken for a separator; but parseSection's strings.TrimSpace (around
// the spec, and before the list) still drops Unicode spaces:
// "HEADER.FIELDS<NBSP>(From)" and "<NEL>1.MIME" are taken, exit 0. Also
// strconv.Atoi takes a sign: "+1.MIME" is part 1. Cause: mail.go
// parseSection, strings.TrimSpace and strconv.Atoi. Now SP and TAB only
// are trimmed, and a part number is ASCII digits only.
//
// Found by review (review46 H, fde75c1).
func TestSectionUnicodeSpaceAroundList(t *testing.T) {
	for _, spec := range []string{"HEADER.FIELDS\u00a0(From)", "HEADER.FIELDS (From)\u00a0", "\u00851.MIME", "+1.MIME", "1.+2"} {
		sec, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: taken as %+v, %v; want a usage error", spec, sec, err)
		}
	}
	// SP and TAB are still trimmed; a part number past any uint64 is
	// past the bound.
	for spec, want := range map[string]string{" 1.MIME\t": "1.MIME", "\tHEADER.FIELDS\t(From) ": "HEADER.FIELDS"} {
		if sec, err := parseSection(spec); err != nil || sec.Specifier != strings.TrimPrefix(want, "1.") {
			t.Errorf("%q: %+v, %v; want %s", spec, sec, err, want)
		}
	}
	past := fmt.Sprintf("is past %d", uint64(maxSectionPart))
	if _, err := parseSection("99999999999999999999.MIME"); err == nil || !strings.Contains(err.Error(), past) {
		t.Errorf("99999999999999999999.MIME: %v; want a part number past %d", err, uint64(maxSectionPart))
	}
}

// TestSectionFieldSeparators: with HEADER.FIELDS split on SP
// and TAB only (TestSectionFieldNameUnicodeSpace), a list apart
// by runs of spaces or by tabs still gives its names.
func TestSectionFieldSeparators(t *testing.T) {
	sec, err := parseSection("HEADER.FIELDS (From\tTo   Subject )")
	if err != nil || !slices.Equal(sec.Fields, []string{"From", "To", "Subject"}) {
		t.Errorf("fields %q, %v; want From, To, Subject", sec.Fields, err)
	}
}

// TestSectionLargestPartTaken: the largest part number --section takes
// (maxSectionPart: 4294967295, an IMAP nz-number's bound, where an int
// is 64 bits; 2147483647 where it is 32, GOARCH=386) is taken as that
// number, and the next one is a usage error naming the bound. Before,
// 4294967295 was taken on 386 too, as part -1 (int(n)), and the run
// was refused only after its login (commands' FetchSection.check); the
// test itself, with 4294967295 in an []int, did not build there.
func TestSectionLargestPartTaken(t *testing.T) {
	largest := uint64(maxSectionPart)
	spec := fmt.Sprintf("1.%d.MIME", largest)
	sec, err := parseSection(spec)
	if err != nil || len(sec.Part) != 2 || sec.Part[0] != 1 || uint64(sec.Part[1]) != largest || sec.Part[1] <= 0 {
		t.Errorf("%s: part %v, %v; want 1.%d", spec, sec.Part, err, largest)
	}
	for _, n := range []uint64{largest + 1, math.MaxUint32 + 1} {
		spec := fmt.Sprintf("1.%d.MIME", n)
		sec, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), fmt.Sprintf("is past %d", largest)) {
			t.Errorf("%s: part %v, %v; want a usage error, past %d", spec, sec.Part, err, largest)
		}
	}
}

// TestSectionFieldNameUnicodeSpace: parseSection splits the
// HEADER.FIELDS list with strings.Fields, which splits on Unicode spaces
// too (U+00A0 NO-BREAK SPACE, U+0085 NEL): "From<NBSP>To" is taken as the
// two names From and To, and imapkit asks for two fields the user did not
// write, exit 0, instead of the usage error (exit 2) a name holding a
// non-ASCII byte gets.
//
// Found by review (review46 C, c0a8b9f).
func TestSectionFieldNameUnicodeSpace(t *testing.T) {
	for _, spec := range []string{"HEADER.FIELDS (From\u00a0To)", "HEADER.FIELDS (From\u0085To)"} {
		sec, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: fields %q, %v; want a usage error (no such field name)", spec, sec.Fields, err)
		}
	}
}

// TestSectionPartPastUint32: a part number past 4294967295 passes
// parseSection and is refused by commands only once connected (the same
// late refusal 94e5b5e fixed for field names): exit 3 against an address
// nothing listens on, where a bad --section is exit 2 before connecting.
//
// Found by review (review46 C, c0a8b9f).
func TestSectionPartPastUint32(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	for _, sec := range []string{"4294967296", "1.4294967296.MIME"} {
		args := []string{"fetch", "imap://alice@127.0.0.1:1", "INBOX", "1", "--section", sec, "--insecure-plaintext", "--timeout", "5s"}
		code, _, errs := runCLI(t, "", args...)
		if code != exitUsage || !strings.Contains(errs, "--section") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the bad --section", sec, code, errs)
		}
	}
}

// TestSectionFieldNames: parseSection took any word of a
// HEADER.FIELDS list for a field name, so "HEADER.FIELDS (a:b)" passed the
// argument check and was refused by commands only after the connection
// and the login (exit 1, a runtime error). A field name is RFC 5322's
// ftext (printable US-ASCII but ':'), without the characters commands
// refuses: anything else is a usage error at once (exit 2, as the other
// bad --section values), before any connection.
func TestSectionFieldNames(t *testing.T) {
	for _, name := range []string{"a:b", "Subject:", ":", "x\x7fy", "caf\u00e9", "a\"b", "a\\b", "a%", "a*", "a{1}", "a[b]"} {
		spec := "HEADER.FIELDS (FROM " + name + ")"
		_, err := parseSection(spec)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v; want a usage error", spec, err)
		}
	}
	for _, spec := range []string{"HEADER.FIELDS (FROM X-Spam-Score List-Id)", "1.HEADER.FIELDS.NOT (Received DKIM-Signature X-a.b_c!#$&'+/=?^`|~)"} {
		if _, err := parseSection(spec); err != nil {
			t.Errorf("%q: %v; want it taken", spec, err)
		}
	}
	// The CLI: exit 2 before connecting (nothing listens on port 1), as
	// for another bad --section.
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_URL", "")
	for _, sec := range []string{"HEADER.FIELDS (a:b)", "HEADER.FIELDS ((a))"} {
		for _, extra := range [][]string{nil, {"--to", t.TempDir()}} {
			args := append([]string{"fetch", "imap://alice@127.0.0.1:1", "INBOX", "1", "--section", sec, "--insecure-plaintext", "--timeout", "5s"}, extra...)
			code, _, errs := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(errs, "bad --section") {
				t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the bad --section", args, code, errs)
			}
		}
	}
}

// TestSectionAllZeros (found by review): d2fad1e's leading-zero refusal comes before the
// "part numbers start at 1" check, and its advice strips every zero:
// --section 00 says "part number 00 has a leading zero (write )", an
// empty suggestion. A number of zeros only is part 0: say that parts
// start at 1 (or suggest "0" is no part at all).
func TestSectionAllZeros(t *testing.T) {
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
