package codec_test

import (
	"testing"

	"github.com/imapkit/imapkit/codec"
)

// TestReview42F1BDateFiveDigitYear: ParseMessageDate read the first four
// digits of a five-digit year in the asctime form ("Sat Jan 3 10:00:00
// 12026" gave 1202-01-03, no error), so a Date header or an mbox From
// line with such a year got a date eight centuries off. Such a year is
// an error now, in both forms; four digits still parse.
func TestReview42F1BDateFiveDigitYear(t *testing.T) {
	for _, s := range []string{
		"Sat Jan 3 10:00:00 12026",
		"Sat Jan 3 10:00:00 12026 +0000",
		"Jan 3 12026 10:00:00",
		"Sat, 3 Jan 12026 10:00:00 +0000",
	} {
		if d, err := codec.ParseMessageDate([]byte(s)); err == nil {
			t.Errorf("ParseMessageDate(%q) = %v, want an error", s, d)
		}
	}
	for _, s := range []string{"Sat Jan 3 10:00:00 2026", "Sat, 3 Jan 2026 10:00:00 +0000", "3 Jan 26 10:00 GMT"} {
		if d, err := codec.ParseMessageDate([]byte(s)); err != nil || d.Year() != 2026 {
			t.Errorf("ParseMessageDate(%q) = %v, %v; want 2026", s, d, err)
		}
	}
}
