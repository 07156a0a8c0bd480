package codec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
)

func zone(h, m int) *time.Location {
	off := h*3600 + m*60
	if h < 0 {
		off = h*3600 - m*60
	}
	return time.FixedZone("", off)
}

func TestParseInternalDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"17-Jul-1996 02:44:25 -0700", time.Date(1996, 7, 17, 2, 44, 25, 0, zone(-7, 0))},
		{" 7-Jul-1996 02:44:25 -0700", time.Date(1996, 7, 7, 2, 44, 25, 0, zone(-7, 0))},
		{"07-Jul-1996 02:44:25 -0700", time.Date(1996, 7, 7, 2, 44, 25, 0, zone(-7, 0))},
		{"7-Jul-1996 02:44:25 -0700", time.Date(1996, 7, 7, 2, 44, 25, 0, zone(-7, 0))},
		{"17-jul-1996 02:44:25 +0000", time.Date(1996, 7, 17, 2, 44, 25, 0, time.UTC)},
		{"17-JUL-1996 02:44:25 -0000", time.Date(1996, 7, 17, 2, 44, 25, 0, time.UTC)},
		{"01-Jan-2024 00:00:00 +0530", time.Date(2024, 1, 1, 0, 0, 0, 0, zone(5, 30))},
		{"31-Dec-2023 23:59:59 -0930", time.Date(2023, 12, 31, 23, 59, 59, 0, zone(-9, 30))},
		{"29-Feb-2024 12:00:00 +1400", time.Date(2024, 2, 29, 12, 0, 0, 0, zone(14, 0))},
		{"31-Dec-2016 23:59:60 +0000", time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)}, // leap second
		{`"17-Jul-1996 02:44:25 -0700"`, time.Date(1996, 7, 17, 2, 44, 25, 0, zone(-7, 0))},
		{"17-Jul-1996 02:44:25 +9959", time.Date(1996, 7, 17, 2, 44, 25, 0, zone(99, 59))},
	}
	for _, tt := range tests {
		got, err := codec.ParseInternalDate([]byte(tt.in))
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseInternalDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		_, gotOff := got.Zone()
		_, wantOff := tt.want.Zone()
		if gotOff != wantOff {
			t.Errorf("ParseInternalDate(%q) offset = %d; want %d", tt.in, gotOff, wantOff)
		}
	}
}

func TestParseInternalDateErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"17-Jul-1996",
		"17-Jul-1996 02:44:25",
		"17-Jul-1996 02:44:25 -0700 ",
		"17-Jul-1996 02:44:25 -07000",
		"17-Jul-96 02:44:25 -0700",
		"17 Jul 1996 02:44:25 -0700",
		"17-Foo-1996 02:44:25 -0700",
		"00-Jul-1996 02:44:25 -0700",
		"32-Jul-1996 02:44:25 -0700",
		"29-Feb-2023 02:44:25 -0700",
		"31-Apr-2023 02:44:25 -0700",
		"17-Jul-1996 24:00:00 -0700",
		"17-Jul-1996 02:60:25 -0700",
		"17-Jul-1996 02:44:61 -0700",
		"17-Jul-1996 02:44:25 -0760",
		"17-Jul-1996 02:44:25 07000",
		"17-Jul-1996 02:44:25 *0700",
		"17-Jul-199x 02:44:25 -0700",
		"17-Jul-1996 2:44:25 -0700",
		"  7-Jul-1996 02:44:25 -0700",
		"x7-Jul-1996 02:44:25 -0700",
		"17-Jul-1996T02:44:25 -0700",
		`"17-Jul-1996 02:44:25 -0700`,
	} {
		got, err := codec.ParseInternalDate([]byte(in))
		var de *codec.DateError
		if !errors.As(err, &de) {
			t.Errorf("ParseInternalDate(%q) = %v, %v; want *DateError", in, got, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "codec: ") {
			t.Errorf("ParseInternalDate(%q) error = %q; want prefix \"codec: \"", in, err)
		}
	}
}

func TestAppendInternalDate(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(1996, 7, 17, 2, 44, 25, 0, zone(-7, 0)), "17-Jul-1996 02:44:25 -0700"},
		{time.Date(1996, 7, 7, 2, 44, 25, 999, zone(-7, 0)), "07-Jul-1996 02:44:25 -0700"},
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "01-Jan-2024 00:00:00 +0000"},
		{time.Date(2024, 12, 31, 23, 59, 59, 0, zone(5, 45)), "31-Dec-2024 23:59:59 +0545"},
		{time.Date(2024, 3, 10, 1, 2, 3, 0, zone(-3, 30)), "10-Mar-2024 01:02:03 -0330"},
		{time.Date(999, 3, 10, 1, 2, 3, 0, time.UTC), "10-Mar-0999 01:02:03 +0000"},
		// Offset with seconds: written in UTC.
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", -17762)), "01-Jan-1900 04:56:02 +0000"},
		// Offsets of 100 hours or more have no two-digit form: UTC (they
		// were written modulo 100 hours, "+0001" for +100:01, another
		// instant).
		{time.Date(2024, 1, 5, 0, 0, 0, 0, time.FixedZone("", 100*3600+60)), "31-Dec-2023 19:59:00 +0000"},
		{time.Date(2024, 1, 5, 0, 0, 0, 0, time.FixedZone("", -100*3600)), "09-Jan-2024 04:00:00 +0000"},
		{time.Date(2024, 1, 5, 0, 0, 0, 0, time.FixedZone("", 99*3600+59*60)), "05-Jan-2024 00:00:00 +9959"},
	}
	for _, tt := range tests {
		if got := string(codec.AppendInternalDate([]byte("x"), tt.in)); got != "x"+tt.want {
			t.Errorf("AppendInternalDate(%v) = %q; want %q", tt.in, got, "x"+tt.want)
		}
		back, err := codec.ParseInternalDate([]byte(tt.want))
		if err != nil || !back.Equal(tt.in.Truncate(time.Second)) {
			t.Errorf("ParseInternalDate(%q) = %v, %v; want %v", tt.want, back, err, tt.in)
		}
	}
}

// RFC 5322 dates and the variants real mail carries.
var messageDates = []struct {
	in   string
	want time.Time
}{
	{"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", time.Date(1996, 7, 17, 2, 23, 25, 0, zone(-7, 0))},
	{"Wed, 17 Jul 1996 02:23:25 -0700", time.Date(1996, 7, 17, 2, 23, 25, 0, zone(-7, 0))},
	{"17 Jul 1996 02:23:25 -0700", time.Date(1996, 7, 17, 2, 23, 25, 0, zone(-7, 0))},
	{"Mon, 2 Jan 2006 15:04:05 +0000", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 02 Jan 2006 15:04:05 +0000 (UTC)", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 06 15:04:05 +0100", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"Mon, 2 Jan 99 15:04:05 +0100", time.Date(1999, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"Mon, 2 Jan 49 15:04:05 +0100", time.Date(2049, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"Mon, 2 Jan 50 15:04:05 +0100", time.Date(1950, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"Mon, 2 Jan 106 15:04:05 +0100", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"Mon, 2 Jan 2006 15:04 +0100", time.Date(2006, 1, 2, 15, 4, 0, 0, zone(1, 0))},
	{"Mon, 2 Jan 2006 15:04:05 GMT", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 2006 15:04:05 UT", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 2006 15:04:05 UTC", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 2006 15:04:05 Z", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 2006 15:04:05 EST", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-5, 0))},
	{"Mon, 2 Jan 2006 15:04:05 EDT", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-4, 0))},
	{"Mon, 2 Jan 2006 15:04:05 CST", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-6, 0))},
	{"Mon, 2 Jan 2006 15:04:05 CDT", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-5, 0))},
	{"Mon, 2 Jan 2006 15:04:05 MST", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-7, 0))},
	{"Mon, 2 Jan 2006 15:04:05 MDT", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-6, 0))},
	{"Mon, 2 Jan 2006 15:04:05 PST", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-8, 0))},
	{"Mon, 2 Jan 2006 15:04:05 pdt", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-7, 0))},
	{"Mon, 2 Jan 2006 15:04:05 A", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},    // military
	{"Mon, 2 Jan 2006 15:04:05 CEST", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)}, // unknown name
	{"Mon, 2 Jan 2006 15:04:05 -0000", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 2006 15:04:05 +0000.", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
	{"Mon, 2 Jan 2006 15:04:05 +0200 garbage here", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon, 2 Jan 2006 15:04:05", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)}, // no zone
	{"  Mon,  2   Jan   2006   15:04:05   +0200  ", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon,\r\n 2 Jan 2006\r\n 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon,2 Jan 2006 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon 2 Jan 2006 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Monday, 2 January 2006 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"mon, 2 JAN 2006 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"(comment) Mon, 2 Jan (x (nested)) 2006 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"2-Jan-2006 15:04:05 +0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon, 2 Jan 2006 5:04:05 +0200", time.Date(2006, 1, 2, 5, 4, 5, 0, zone(2, 0))},
	{"Mon, 2 Jan 2006 15:04:05 +02:00", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon, 2 Jan 2006 15:04:05 +05", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(5, 0))},
	{"Mon, 2 Jan 2006 15:04:05 +0530", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(5, 30))},
	{"Mon, 2 Jan 2006 15:04:05 GMT+0200", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(2, 0))},
	{"Mon, 2 Jan 2006 15:04:05 UTC-0330", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-3, 30))},
	{"Sat, 31 Dec 2016 23:59:60 +0000", time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"Mon Jan  2 15:04:05 2006", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)}, // asctime
	{"Mon Jan  2 15:04:05 2006 -0800", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(-8, 0))},
	{"Jan 2 2006 15:04:05 +0100", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"Mon, Jan 2, 2006 15:04:05 +0100", time.Date(2006, 1, 2, 15, 4, 5, 0, zone(1, 0))},
	{"29 Feb 2024 00:00:00 +0000", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
}

func TestParseMessageDate(t *testing.T) {
	for _, tt := range messageDates {
		got, err := codec.ParseMessageDate([]byte(tt.in))
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseMessageDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		_, gotOff := got.Zone()
		_, wantOff := tt.want.Zone()
		if gotOff != wantOff {
			t.Errorf("ParseMessageDate(%q) offset = %d; want %d", tt.in, gotOff, wantOff)
		}
	}
}

func TestParseMessageDateZoneNames(t *testing.T) {
	got, err := codec.ParseMessageDate([]byte("Mon, 2 Jan 2006 15:04:05 PST"))
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := got.Zone(); name != "PST" {
		t.Errorf("ParseMessageDate(... PST) zone name = %q; want \"PST\"", name)
	}
	got, _ = codec.ParseMessageDate([]byte("Mon, 2 Jan 2006 15:04:05 +0000"))
	if got.Location() != time.UTC {
		t.Errorf("ParseMessageDate(... +0000) location = %v; want time.UTC", got.Location())
	}
}

func TestParseMessageDateErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"Mon,",
		"Mon, 2",
		"Mon, 2 Foo 2006 15:04:05 +0000",
		"Mon, 2 Jan",
		"Mon, 2 Jan 2006",
		"Mon, 2 Jan 2006 15",
		"Mon, 2 Jan 2006 15:",
		"Mon, 2 Jan 2006 15:04:",
		"Mon, 32 Jan 2006 15:04:05 +0000",
		"Mon, 0 Jan 2006 15:04:05 +0000",
		"Mon, 30 Feb 2006 15:04:05 +0000",
		"Mon, 2 Jan 2006 24:04:05 +0000",
		"Mon, 2 Jan 2006 15:60:05 +0000",
		"Mon, 2 Jan 2006 15:04:61 +0000",
		"Mon, 2 Jan 2006 15:04:05 +0",
		"Mon, 2 Jan 2006 15:04:05 +",
		"Mon, 2 Jan 2006 15:04:05 +0099",
		"Mon, 2 Jan 2006 15:04:05 +001",
		"Ja 2 2006 15:04:05",
		"2006-01-02T15:04:05Z",
	} {
		got, err := codec.ParseMessageDate([]byte(in))
		var de *codec.DateError
		if !errors.As(err, &de) {
			t.Errorf("ParseMessageDate(%q) = %v, %v; want *DateError", in, got, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "codec: ") {
			t.Errorf("ParseMessageDate(%q) error = %q; want prefix \"codec: \"", in, err)
		}
	}
}

func TestDateAllocs(t *testing.T) {
	internal := []byte("17-Jul-1996 02:44:25 -0730")
	codec.ParseInternalDate(internal) // fill the zone cache
	if a := testing.AllocsPerRun(100, func() { codec.ParseInternalDate(internal) }); a != 0 {
		t.Errorf("ParseInternalDate(%q) allocs = %v; want 0", internal, a)
	}
	for _, tt := range messageDates {
		b := []byte(tt.in)
		codec.ParseMessageDate(b)
		if a := testing.AllocsPerRun(100, func() { codec.ParseMessageDate(b) }); a != 0 {
			t.Errorf("ParseMessageDate(%q) allocs = %v; want 0", tt.in, a)
		}
	}
	buf := make([]byte, 0, 64)
	tm := time.Date(1996, 7, 17, 2, 44, 25, 0, zone(-7, 0))
	if a := testing.AllocsPerRun(100, func() { buf = codec.AppendInternalDate(buf[:0], tm) }); a != 0 {
		t.Errorf("AppendInternalDate allocs = %v; want 0", a)
	}
}

// TestParseMessageDateFiveDigitYear: ParseMessageDate read the first four
// digits of a five-digit year in the asctime form ("Sat Jan 3 10:00:00
// 12026" gave 1202-01-03, no error), so a Date header or an mbox From
// line with such a year got a date eight centuries off. Such a year is
// an error now, in both forms; four digits still parse.
func TestParseMessageDateFiveDigitYear(t *testing.T) {
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
