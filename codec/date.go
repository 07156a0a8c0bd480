package codec

import (
	"strconv"
	"sync/atomic"
	"time"
)

// DateError reports a date that could not be parsed.
type DateError struct {
	Input  string // the input, cut to 64 bytes
	Offset int    // offset of the offending byte in the input
	Reason string // what is wrong
}

// Error implements error.
func (e *DateError) Error() string {
	return "codec: invalid date " + strconv.Quote(e.Input) + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// dateErr returns a *DateError for b. It is kept out of line so that the
// parsers stay small.
//
//go:noinline
func dateErr(b []byte, off int, reason string) error {
	if len(b) > 64 {
		b = b[:64]
	}
	return &DateError{Input: string(b), Offset: off, Reason: reason}
}

// zoneCache holds one *time.Location per UTC offset in minutes, for offsets
// under 24 hours, so that parsing the same offset again does not allocate.
var zoneCache [2*zoneCacheMax + 1]atomic.Pointer[time.Location]

const zoneCacheMax = 24*60 - 1

// fixedZone returns a location for an offset east of UTC in minutes:
// time.UTC for 0, otherwise an unnamed fixed zone, cached.
func fixedZone(mins int) *time.Location {
	if mins == 0 {
		return time.UTC
	}
	if mins < -zoneCacheMax || mins > zoneCacheMax {
		return time.FixedZone("", mins*60)
	}
	p := &zoneCache[mins+zoneCacheMax]
	if l := p.Load(); l != nil {
		return l
	}
	l := time.FixedZone("", mins*60)
	p.Store(l)
	return l
}

const monthAbbrevs = "JanFebMarAprMayJunJulAugSepOctNovDec"

// lookupMonth returns the month named by three letters, in any case, or 0.
func lookupMonth(a, b, c byte) time.Month {
	switch uint32(a|0x20)<<16 | uint32(b|0x20)<<8 | uint32(c|0x20) {
	case 'j'<<16 | 'a'<<8 | 'n':
		return time.January
	case 'f'<<16 | 'e'<<8 | 'b':
		return time.February
	case 'm'<<16 | 'a'<<8 | 'r':
		return time.March
	case 'a'<<16 | 'p'<<8 | 'r':
		return time.April
	case 'm'<<16 | 'a'<<8 | 'y':
		return time.May
	case 'j'<<16 | 'u'<<8 | 'n':
		return time.June
	case 'j'<<16 | 'u'<<8 | 'l':
		return time.July
	case 'a'<<16 | 'u'<<8 | 'g':
		return time.August
	case 's'<<16 | 'e'<<8 | 'p':
		return time.September
	case 'o'<<16 | 'c'<<8 | 't':
		return time.October
	case 'n'<<16 | 'o'<<8 | 'v':
		return time.November
	case 'd'<<16 | 'e'<<8 | 'c':
		return time.December
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// daysIn returns the number of days of month m in year y.
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// digits2 parses two ASCII digits at b[i:], or returns -1.
func digits2(b []byte, i int) int {
	if i+1 >= len(b) || !isDigit(b[i]) || !isDigit(b[i+1]) {
		return -1
	}
	return int(b[i]-'0')*10 + int(b[i+1]-'0')
}

// ParseInternalDate parses an INTERNALDATE date-time (RFC 9051 section 9,
// RFC 3501 section 9) without its double quotes, e.g.
// "17-Jul-1996 02:44:25 -0700":
//
//	date-day-fixed "-" date-month "-" date-year SP time SP zone
//
// The day may be " 7", "07" or, tolerated, "7"; month names are accepted
// in any case; surrounding double quotes are tolerated. The layout is
// fixed, so the input is read by position in one pass. Second 60 (a leap
// second) is accepted and becomes the first second of the next minute.
// The result is in a fixed zone of the given offset (time.UTC for +0000);
// these locations are cached (for offsets under 24 hours), so the call
// does not allocate. Errors are of type *DateError.
func ParseInternalDate(b []byte) (time.Time, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	var day, i int
	switch {
	case len(b) >= 2 && b[0] == ' ' && isDigit(b[1]):
		day, i = int(b[1]-'0'), 2
	case len(b) >= 2 && isDigit(b[0]) && isDigit(b[1]):
		day, i = int(b[0]-'0')*10+int(b[1]-'0'), 2
	case len(b) >= 1 && isDigit(b[0]):
		day, i = int(b[0]-'0'), 1
	default:
		return time.Time{}, dateErr(b, 0, "expected day")
	}
	// i: "-Mmm-YYYY HH:MM:SS +HHMM"
	//     0123456789012345678901234
	if len(b)-i != 24 {
		return time.Time{}, dateErr(b, min(len(b), i+24), "expected \"DD-Mmm-YYYY HH:MM:SS +HHMM\"")
	}
	d := b[i:]
	if d[0] != '-' || d[4] != '-' || d[9] != ' ' || d[12] != ':' || d[15] != ':' || d[18] != ' ' {
		return time.Time{}, dateErr(b, i, "expected \"DD-Mmm-YYYY HH:MM:SS +HHMM\"")
	}
	month := lookupMonth(d[1], d[2], d[3])
	if month == 0 {
		return time.Time{}, dateErr(b, i+1, "unknown month")
	}
	y1, y2 := digits2(d, 5), digits2(d, 7)
	hour, minute, sec := digits2(d, 10), digits2(d, 13), digits2(d, 16)
	zh, zm := digits2(d, 20), digits2(d, 22)
	if y1 < 0 || y2 < 0 || hour < 0 || minute < 0 || sec < 0 || zh < 0 || zm < 0 {
		return time.Time{}, dateErr(b, i, "expected digits")
	}
	year := y1*100 + y2
	if day < 1 || day > daysIn(month, year) {
		return time.Time{}, dateErr(b, 0, "day out of range")
	}
	if hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, dateErr(b, i+10, "time out of range")
	}
	if zm > 59 {
		return time.Time{}, dateErr(b, i+20, "zone minutes out of range")
	}
	off := zh*60 + zm
	switch d[19] {
	case '+':
	case '-':
		off = -off
	default:
		return time.Time{}, dateErr(b, i+19, "expected '+' or '-'")
	}
	return mkTime(year, month, day, hour, minute, sec, off*60, fixedZone(off)), nil
}

// AppendInternalDate appends t as an INTERNALDATE date-time (RFC 9051
// section 9), "DD-Mmm-YYYY HH:MM:SS +HHMM", without the double quotes (the
// caller quotes it), in t's own zone, and returns the extended slice. The
// day is written with two digits ("07"). If t's offset is not a whole
// number of minutes, or is 100 hours or more (the zone has two digits of
// hours), t is written in UTC: the same instant. A year outside 0-9999
// cannot be represented and is written with its own digits (not valid
// IMAP).
func AppendInternalDate(dst []byte, t time.Time) []byte {
	_, off := t.Zone()
	if off%60 != 0 || off >= 100*3600 || off <= -100*3600 {
		t, off = t.UTC(), 0
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	dst = append2(dst, day)
	dst = append(dst, '-')
	dst = append(dst, monthAbbrevs[3*(month-1):3*month]...)
	dst = append(dst, '-')
	if year >= 0 && year <= 9999 {
		dst = append2(dst, year/100)
		dst = append2(dst, year%100)
	} else {
		dst = strconv.AppendInt(dst, int64(year), 10)
	}
	dst = append(dst, ' ')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, minute)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	sign := byte('+')
	off /= 60
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, ' ', sign)
	dst = append2(dst, off/60%100)
	return append2(dst, off%60)
}

// append2 appends n (0-99) as two digits.
func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// Named zones of RFC 5322 section 4.3, with their offsets in minutes.
var (
	zoneEST = time.FixedZone("EST", -5*3600)
	zoneEDT = time.FixedZone("EDT", -4*3600)
	zoneCST = time.FixedZone("CST", -6*3600)
	zoneCDT = time.FixedZone("CDT", -5*3600)
	zoneMST = time.FixedZone("MST", -7*3600)
	zoneMDT = time.FixedZone("MDT", -6*3600)
	zonePST = time.FixedZone("PST", -8*3600)
	zonePDT = time.FixedZone("PDT", -7*3600)
)

// namedZone returns the location for a zone name, in any case. Names
// other than those of RFC 5322 section 4.3 (and "UTC") are unknown: they
// and the military letters give UTC, as RFC 5322 section 4.3 says for the
// latter ("-0000", no information about the local zone).
func namedZone(w []byte) *time.Location {
	if len(w) != 3 {
		return time.UTC
	}
	switch uint32(w[0]|0x20)<<16 | uint32(w[1]|0x20)<<8 | uint32(w[2]|0x20) {
	case 'e'<<16 | 's'<<8 | 't':
		return zoneEST
	case 'e'<<16 | 'd'<<8 | 't':
		return zoneEDT
	case 'c'<<16 | 's'<<8 | 't':
		return zoneCST
	case 'c'<<16 | 'd'<<8 | 't':
		return zoneCDT
	case 'm'<<16 | 's'<<8 | 't':
		return zoneMST
	case 'm'<<16 | 'd'<<8 | 't':
		return zoneMDT
	case 'p'<<16 | 's'<<8 | 't':
		return zonePST
	case 'p'<<16 | 'd'<<8 | 't':
		return zonePDT
	}
	return time.UTC
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// skipCFWS skips white space (SP, HTAB, CR, LF) and comments from b[i:]
// and returns the new offset. The common case, one space before a token,
// is inlined.
func skipCFWS(b []byte, i int) int {
	if i+1 < len(b) && b[i] == ' ' && b[i+1] > ' ' && b[i+1] != '(' {
		return i + 1
	}
	return skipCFWSSlow(b, i)
}

func skipCFWSSlow(b []byte, i int) int {
	for i < len(b) {
		if c := b[i]; c > ' ' {
			if c != '(' {
				return i
			}
			i = skipComment(b, i)
		} else if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			i++
		} else {
			return i
		}
	}
	return i
}

// skipComment skips a comment, which may nest and hold quoted-pairs (RFC
// 5322 section 3.2.2), starting at b[i] == '('. An unterminated comment
// runs to the end.
func skipComment(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i + 1
			}
		case '\\':
			i++
		}
	}
	return len(b)
}

// skipWord skips a run of letters and returns its end.
func skipWord(b []byte, i int) int {
	for i < len(b) && isAlpha(b[i]) {
		i++
	}
	return i
}

// num reads up to max digits at b[i:]; it returns the value, the number of
// digits (0 if there is none) and the new offset.
func num(b []byte, i, max int) (v, n, j int) {
	for ; n < max && i < len(b); n++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + int(d)
		i++
	}
	return v, n, i
}

// num2 is num(b, i, 2), unrolled.
func num2(b []byte, i int) (v, n, j int) {
	if i >= len(b) || b[i]-'0' > 9 {
		return 0, 0, i
	}
	v = int(b[i] - '0')
	if i+1 >= len(b) || b[i+1]-'0' > 9 {
		return v, 1, i + 1
	}
	return v*10 + int(b[i+1]-'0'), 2, i + 2
}

// monthWord reads a month name at b[i:]: its first three letters decide, so
// "Jul", "July" and "JULY" all work. It returns 0 if there is none.
func monthWord(b []byte, i int) (time.Month, int) {
	j := skipWord(b, i)
	if j-i < 3 {
		return 0, j
	}
	return lookupMonth(b[i], b[i+1], b[i+2]), j
}

// skipSep skips the separator between day, month and year: white space,
// comments, and at most one '-'.
func skipSep(b []byte, i int) int {
	i = skipCFWS(b, i)
	if i < len(b) && b[i] == '-' {
		i = skipCFWS(b, i+1)
	}
	return i
}

// readYear reads a year and applies RFC 5322 section 4.3: a year of one or
// two digits below 50 is 20xx, other two-digit years 19xx, three-digit
// years + 1900. A year of five digits or more is no year (not ok): its
// first four were read as the year ("Sat Jan 3 10:00:00 12026" was 1202).
func readYear(b []byte, i int) (y, j int, ok bool) {
	y, n, j := num(b, i, 4)
	if j < len(b) && isDigit(b[j]) {
		return 0, j, false
	}
	switch n {
	case 0:
		return 0, j, false
	case 1, 2:
		if y < 50 {
			y += 2000
		} else {
			y += 1900
		}
	case 3:
		y += 1900
	}
	return y, j, true
}

// readClock reads hour ":" minute [":" second]; hour and minute may have
// one digit.
func readClock(b []byte, i int) (h, m, s, j int, ok bool) {
	var n int
	if h, n, i = num2(b, i); n == 0 || i >= len(b) || b[i] != ':' {
		return 0, 0, 0, i, false
	}
	if m, n, i = num2(b, i+1); n == 0 {
		return 0, 0, 0, i, false
	}
	if i < len(b) && b[i] == ':' {
		if s, n, i = num2(b, i+1); n == 0 {
			return 0, 0, 0, i, false
		}
	}
	return h, m, s, i, true
}

// readZone reads the zone at b[i:]: "+hhmm", "-hhmm", "+hh:mm", "+hh", a
// name with an optional offset ("GMT", "PDT", "UTC+0200"), or nothing
// (UTC). Anything after it is ignored. It returns the location and the
// offset in seconds east of UTC.
func readZone(b []byte, i int) (loc *time.Location, off int, ok bool) {
	i = skipCFWS(b, i)
	if i >= len(b) {
		return time.UTC, 0, true
	}
	loc, named := time.UTC, false
	if isAlpha(b[i]) {
		j := skipWord(b, i)
		loc, named = namedZone(b[i:j]), true
		i = j
		if i >= len(b) || (b[i] != '+' && b[i] != '-') {
			return loc, zoneOffset(loc), true
		}
	}
	c := b[i]
	if c != '+' && c != '-' {
		return loc, 0, true // garbage after the time: no zone
	}
	h, n, i := num2(b, i+1)
	if n != 2 {
		if n == 0 && named {
			return loc, zoneOffset(loc), true // "PDT-" and the like
		}
		return nil, 0, false
	}
	if i < len(b) && b[i] == ':' {
		i++
	}
	m, n, _ := num2(b, i)
	if n == 1 || m > 59 {
		return nil, 0, false
	}
	mins := h*60 + m
	if c == '-' {
		mins = -mins
	}
	return fixedZone(mins), mins * 60, true
}

// zoneOffset returns the offset of one of the zones namedZone returns.
func zoneOffset(loc *time.Location) int {
	switch loc {
	case zoneEST, zoneCDT:
		return -5 * 3600
	case zoneEDT:
		return -4 * 3600
	case zoneCST, zoneMDT:
		return -6 * 3600
	case zoneMST, zonePDT:
		return -7 * 3600
	case zonePST:
		return -8 * 3600
	}
	return 0
}

// daysFromMarch holds, per month, the days from 1 March to the first of
// that month in a year that starts in March.
var daysFromMarch = [13]uint64{0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275}

// mkTime returns the time of a validated civil date and clock (year 0 to
// 9999) at offset off (seconds east of UTC) in loc, which must have that
// offset. It is time.Date without the normalisation and zone lookup;
// second 60 rolls over into the next minute.
func mkTime(year int, month time.Month, day, h, m, s, off int, loc *time.Location) time.Time {
	// Days since 1970-01-01 in the proleptic Gregorian calendar, counting
	// years from March so that the leap day comes last. The year is moved
	// on by 400 years (146097 days) to keep the arithmetic unsigned.
	y := uint64(year) + 400
	if month <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	doe := yoe*365 + yoe/4 - yoe/100 + daysFromMarch[month] + uint64(day) - 1
	days := int64(era*146097+doe) - 719468 - 146097
	return time.Unix(days*86400+int64(h*3600+m*60+s-off), 0).In(loc)
}

// ParseMessageDate parses a date as found in an ENVELOPE's date field: the
// RFC 5322 section 3.3 date-time, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
// with the obsolete forms of RFC 5322 section 4.3 and the variants real
// mail carries:
//
//   - the day of the week may be missing, spelt out, or not followed by ","
//     (it is not checked);
//   - the day may have one digit; "-" may separate day, month and year;
//   - month names in any case, abbreviated or in full;
//   - two-digit years (below 50 -> 20xx, else 19xx) and three-digit years
//     (+1900);
//   - seconds may be missing; a leap second (60) becomes the first second
//     of the next minute;
//   - zones "+hhmm"/"-hhmm" ("-0000" is UTC), "+hh:mm", "GMT", "UT",
//     "UTC", "Z", EST/EDT/CST/CDT/MST/MDT/PST/PDT; military letters and
//     unknown names give UTC (RFC 5322 section 4.3) and still succeed, as
//     does a missing zone; "UTC+0200" uses the offset;
//   - comments, extra white space and folding anywhere between tokens, and
//     anything after the zone (a trailing "." or garbage) is ignored;
//   - the asctime form "Wed Jul 17 02:23:25 1996" (with optional zone);
//   - a year of five digits or more is an error, in either form.
//
// It makes one pass without trying layouts and does not allocate unless it
// fails (or meets a zone offset of 24 hours or more). Numeric offsets give
// an unnamed fixed zone (time.UTC for +0000), named zones a fixed zone of
// that name. Errors are of type *DateError.
func ParseMessageDate(b []byte) (time.Time, error) {
	var (
		day, year, h, m, s, n int
		month                 time.Month
		ok                    bool
	)
	i := skipCFWS(b, 0)
	if i < len(b) && isAlpha(b[i]) {
		j := skipWord(b, i)
		if j-i < 3 || lookupMonth(b[i], b[i+1], b[i+2]) == 0 {
			// A day of the week (not checked), optionally followed by ','.
			if i = skipCFWS(b, j); i < len(b) && b[i] == ',' {
				i = skipCFWS(b, i+1)
			}
		} // else the asctime form, without a day of the week
	}
	if i < len(b) && isAlpha(b[i]) {
		// asctime: month day time year [zone], or month day year time.
		if month, i = monthWord(b, i); month == 0 {
			return time.Time{}, dateErr(b, i, "unknown month")
		}
		if day, n, i = num2(b, skipSep(b, i)); n == 0 {
			return time.Time{}, dateErr(b, i, "expected day")
		}
		if i = skipCFWS(b, i); i < len(b) && b[i] == ',' {
			i = skipCFWS(b, i+1)
		}
		at := i
		for at < len(b) && isDigit(b[at]) {
			at++
		}
		if at < len(b) && b[at] == ':' {
			if h, m, s, i, ok = readClock(b, i); !ok {
				return time.Time{}, dateErr(b, i, "expected time")
			}
			if year, i, ok = readYear(b, skipCFWS(b, i)); !ok {
				return time.Time{}, dateErr(b, i, "expected year")
			}
		} else {
			if year, i, ok = readYear(b, i); !ok {
				return time.Time{}, dateErr(b, i, "expected year")
			}
			if h, m, s, i, ok = readClock(b, skipCFWS(b, i)); !ok {
				return time.Time{}, dateErr(b, i, "expected time")
			}
		}
	} else {
		if day, n, i = num2(b, i); n == 0 {
			return time.Time{}, dateErr(b, i, "expected day")
		}
		if month, i = monthWord(b, skipSep(b, i)); month == 0 {
			return time.Time{}, dateErr(b, i, "unknown month")
		}
		if year, i, ok = readYear(b, skipSep(b, i)); !ok {
			return time.Time{}, dateErr(b, i, "expected year")
		}
		if h, m, s, i, ok = readClock(b, skipCFWS(b, i)); !ok {
			return time.Time{}, dateErr(b, i, "expected time")
		}
	}
	if day < 1 || day > daysIn(month, year) {
		return time.Time{}, dateErr(b, 0, "day out of range")
	}
	if h > 23 || m > 59 || s > 60 {
		return time.Time{}, dateErr(b, 0, "time out of range")
	}
	loc, off, ok := readZone(b, i)
	if !ok {
		return time.Time{}, dateErr(b, i, "malformed zone")
	}
	return mkTime(year, month, day, h, m, s, off, loc), nil
}
