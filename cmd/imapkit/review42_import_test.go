package main

import (
	"testing"
	"time"
)

// TestReview42F1BImportFromLineUUCP: an mbox From line of the old UUCP
// form, "From bob Sat Jan  3 10:00:00 2026 remote from host", has its
// date before the forwarding note; import read words after the year as
// no date, warned, and appended the message with the server's time of
// arrival. Other words after the year still give no date.
func TestReview42F1BImportFromLineUUCP(t *testing.T) {
	want := time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)
	for _, from := range []string{
		"From bob Sat Jan  3 10:00:00 2026 remote from host\n",
		"From bob Sat Jan 3 10:00:00 2026 remote from uucp.example.org\r\n",
		"From bob Sat Jan  3 12:00:00 +0200 2026 Remote From host\n",
	} {
		m := review41ScanOne(t, from+"Subject: x\n\nbody\n")
		if !m.date.Equal(want) || m.badFrom != "" {
			t.Errorf("From line %q: internal date %v (dateless: %q), want %v", from, m.date, m.badFrom, want)
		}
	}
	for _, from := range []string{
		"From bob Sat Jan  3 10:00:00 2026 remote from\n",
		"From bob Sat Jan  3 10:00:00 2026 forwarded by host\n",
		"From bob Sat Jan  3 10:00:00 2026 x remote from host\n",
	} {
		m := review41ScanOne(t, from+"Subject: x\n\nbody\n")
		if !m.date.IsZero() || m.badFrom == "" {
			t.Errorf("From line %q: date %v, dateless %q; want no date, recorded for the warning", from, m.date, m.badFrom)
		}
	}
}

// TestReview42F1BImportFromLineYear5: a From line whose year has five
// digits ("... 10:00:00 12026") was read as the year 1202 (its first four
// digits) and the message appended with that date, with no warning. It
// is no date import can use: none, recorded for the warning.
func TestReview42F1BImportFromLineYear5(t *testing.T) {
	for _, from := range []string{
		"From bob Sat Jan  3 10:00:00 12026\n",
		"From bob Sat Jan  3 10:00:00 +0000 12026\n",
		"From bob Sat Jan  3 10:00:00 12026 remote from host\n",
	} {
		m := review41ScanOne(t, from+"Subject: x\n\nbody\n")
		if !m.date.IsZero() || m.badFrom == "" {
			t.Errorf("From line %q: date %v, dateless %q; want no date, recorded for the warning", from, m.date, m.badFrom)
		}
	}
}
