package main

// The mbox From line's date (and its other forms: UUCP, a five-digit
// year, zone names).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scanOneMbox writes mbox to a file and returns the one message
// scanMbox finds in it.
func scanOneMbox(t *testing.T, mbox string) *importMsg {
	t.Helper()
	f := filepath.Join(t.TempDir(), "m.mbox")
	if err := os.WriteFile(f, []byte(mbox), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	msgs, err := scanMbox(fh, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("scanMbox: %d messages, %v", len(msgs), err)
	}
	return msgs[0]
}

// import takes a message's internal date from its mbox From line
// (docs/cli.md: "The internal date is the From line's date (UTC)") by
// time.Parse of the last len(layout) bytes of the line. A day written
// without its padding space ("Sat Jan 3 01:05:34 1996", one byte short)
// shifted that window onto the space before the weekday, no layout
// parsed, and the date was silently lost: the message was appended with
// the server's "now" as its internal date, for every message of days 1
// to 9 (with "+0000" before the year too). The date is now read by its
// fields; a From line whose date does not parse is recorded for the
// warning import prints.
func TestImportFromLineUnpaddedDay(t *testing.T) {
	want := time.Date(1996, 1, 3, 1, 5, 34, 0, time.UTC)
	for _, from := range []string{
		"From user@example.com Sat Jan 3 01:05:34 1996\n",
		"From 1234@xxx Sat Jan 3 01:05:34 +0000 1996\n",
		"From user@example.com Sat Jan  3 01:05:34 1996\n",
		"From user@example.com Sat Jan 03 01:05:34 1996\r\n",
		"From 1234@xxx Sat Jan 3 03:05:34 +0200 1996\n",
	} {
		m := scanOneMbox(t, from+"Subject: x\n\nbody\n")
		if !m.date.Equal(want) {
			t.Errorf("From line %q: internal date %v, want %v (lost: the APPEND goes without a date)", from, m.date, want)
		}
		if m.badFrom != "" {
			t.Errorf("From line %q: recorded as dateless (%q)", from, m.badFrom)
		}
	}
	for _, from := range []string{
		"From user@example.com\n",
		"From user@example.com Sat Jan 33 01:05:34 1996\n",
		"From user@example.com Sat Jan 3 01:05:34 +0000 1996 trailing words\n",
	} {
		m := scanOneMbox(t, from+"Subject: x\n\nbody\n")
		if !m.date.IsZero() || m.badFrom == "" {
			t.Errorf("From line %q: date %v, recorded as dateless: %q; want no date, recorded for the warning", from, m.date, m.badFrom)
		}
	}
	msgs := []*importMsg{{badFrom: "From a\x1b[2J"}, {}, {badFrom: "From b"}}
	if w := fromDateWarning(msgs); w == "" || !strings.Contains(w, "2 From lines") || !strings.Contains(w, "From a?[2J") {
		t.Errorf("warning %q: want the count and the first line, made printable", w)
	}
	if w := fromDateWarning(msgs[1:2]); w != "" {
		t.Errorf("warning %q for messages with dates", w)
	}
}

// The From line layout "Mon Jan _2 15:04:05 MST 2006" was parsed with
// time.Parse, which gives a zone abbreviation the current location does
// not know an offset of 0 (Go's documented behaviour): "PST" read on a
// machine whose zone is UTC (a server, a container) gave 01:05:34 UTC
// instead of 09:05:34 UTC, and the message was appended eight hours off
// ("03-Jan-1996 01:05:34 +0000"); the same mbox imported on a machine in
// California gave the right instant. The names of RFC 5322 now have their
// offsets (codec.ParseMessageDate), whatever the machine's zone; another
// name (CEST, whose offset nothing says) gives no date, recorded for the
// warning, rather than a date hours off.
func TestImportFromLineZoneName(t *testing.T) {
	saved := time.Local
	time.Local = time.UTC // a machine (or container) whose zone is UTC
	defer func() { time.Local = saved }()
	got := scanOneMbox(t, "From user@example.com Sat Jan  3 01:05:34 PST 1996\nSubject: x\n\nbody\n").date
	want := time.Date(1996, 1, 3, 9, 5, 34, 0, time.UTC) // 01:05:34 -0800
	if !got.Equal(want) {
		_, off := got.Zone()
		t.Fatalf("From line \"Sat Jan  3 01:05:34 PST 1996\": internal date %v (offset %d s), want %v: PST taken as UTC", got, off, want)
	}
	for _, tc := range []struct {
		line string
		want time.Time
	}{
		{"From a@b Sat Jan 3 01:05:34 GMT 1996\n", time.Date(1996, 1, 3, 1, 5, 34, 0, time.UTC)},
		{"From a@b Sat Jan 3 01:05:34 edt 1996\n", time.Date(1996, 1, 3, 5, 5, 34, 0, time.UTC)},
		{"From a@b Sat Jan 3 01:05:34 1996 PDT\n", time.Date(1996, 1, 3, 8, 5, 34, 0, time.UTC)},
		{"From a@b Sat Jan 3 01:05:34 CEST 1996\n", time.Time{}},
		{"From a@b Sat Jan 3 01:05:34 XYZ 1996\n", time.Time{}},
	} {
		m := scanOneMbox(t, tc.line+"\nbody\n")
		if !m.date.Equal(tc.want) || (m.badFrom != "") != tc.want.IsZero() {
			t.Errorf("From line %q: date %v (dateless: %q), want %v", tc.line, m.date, m.badFrom, tc.want)
		}
	}
}

// TestImportFromLineUUCP: an mbox From line of the old UUCP
// form, "From bob Sat Jan  3 10:00:00 2026 remote from host", has its
// date before the forwarding note; import read words after the year as
// no date, warned, and appended the message with the server's time of
// arrival. Other words after the year still give no date.
func TestImportFromLineUUCP(t *testing.T) {
	want := time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)
	for _, from := range []string{
		"From bob Sat Jan  3 10:00:00 2026 remote from host\n",
		"From bob Sat Jan 3 10:00:00 2026 remote from uucp.example.org\r\n",
		"From bob Sat Jan  3 12:00:00 +0200 2026 Remote From host\n",
	} {
		m := scanOneMbox(t, from+"Subject: x\n\nbody\n")
		if !m.date.Equal(want) || m.badFrom != "" {
			t.Errorf("From line %q: internal date %v (dateless: %q), want %v", from, m.date, m.badFrom, want)
		}
	}
	for _, from := range []string{
		"From bob Sat Jan  3 10:00:00 2026 remote from\n",
		"From bob Sat Jan  3 10:00:00 2026 forwarded by host\n",
		"From bob Sat Jan  3 10:00:00 2026 x remote from host\n",
	} {
		m := scanOneMbox(t, from+"Subject: x\n\nbody\n")
		if !m.date.IsZero() || m.badFrom == "" {
			t.Errorf("From line %q: date %v, dateless %q; want no date, recorded for the warning", from, m.date, m.badFrom)
		}
	}
}

// TestImportFromLineYear5: a From line whose year has five
// digits ("... 10:00:00 12026") was read as the year 1202 (its first four
// digits) and the message appended with that date, with no warning. It
// is no date import can use: none, recorded for the warning.
func TestImportFromLineYear5(t *testing.T) {
	for _, from := range []string{
		"From bob Sat Jan  3 10:00:00 12026\n",
		"From bob Sat Jan  3 10:00:00 +0000 12026\n",
		"From bob Sat Jan  3 10:00:00 12026 remote from host\n",
	} {
		m := scanOneMbox(t, from+"Subject: x\n\nbody\n")
		if !m.date.IsZero() || m.badFrom == "" {
			t.Errorf("From line %q: date %v, dateless %q; want no date, recorded for the warning", from, m.date, m.badFrom)
		}
	}
}
