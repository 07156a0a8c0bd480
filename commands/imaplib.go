package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// The utilities of Python's imaplib module (Int2AP, ParseFlags,
// Internaldate2tuple, Time2Internaldate), with the same semantics, for
// programs ported from Python. Differences are noted on each function.
// New code decodes responses with the codec, which parses FLAGS (RFC 9051
// section 7.3.5) and INTERNALDATE (section 7.5.2) by the grammar
// (codec.ParseInternalDate, codec.AppendInternalDate).

// ErrNoFlags is returned by ParseFlags when the response holds no
// "FLAGS (...)".
var ErrNoFlags = errors.New("commands: no FLAGS (...) in response")

// Int2AP returns n in base 16 with the digits A to P, most significant
// first, as imaplib.Int2AP does: Int2AP(0x1F) = "BP". Like imaplib it
// returns "" for 0. imaplib makes its tag prefixes this way (RFC 9051
// section 2.2.1 lets a client choose any tag of ASTRING-CHARs but "+").
func Int2AP(n uint64) string {
	var buf [16]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = 'A' + byte(n&0xF)
		n >>= 4
	}
	return string(buf[i:])
}

// isPySpace reports whether c is white space for Python's bytes.split():
// space, HT, LF, VT, FF, CR.
func isPySpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// ParseFlags returns the flags of a FLAGS response (RFC 9051 section
// 7.3.5) or of a FLAGS item of a FETCH response, e.g.
// `* FLAGS (\Answered \Seen)` or `1 (UID 7 FLAGS (\Seen))`, with the
// semantics of imaplib.ParseFlags, whose pattern is
// `.*FLAGS \((?P<flags>[^\)]*)\)` matched from the start of resp:
//
//   - "FLAGS (" is found case-sensitively anywhere on the first line
//     (before the first LF), including inside "PERMANENTFLAGS (";
//   - of several, the last one that is followed by a ")" anywhere wins;
//   - the flags are the text up to the next ")" (which may be on a later
//     line), split at ASCII white space; "FLAGS ()" gives an empty,
//     non-nil slice.
//
// Differences: where imaplib returns an empty tuple because nothing
// matched, ParseFlags returns ErrNoFlags; the flags are strings rather
// than bytes. Flags are not unquoted or validated (imaplib does neither).
func ParseFlags(resp []byte) ([]string, error) {
	lastParen := bytes.LastIndexByte(resp, ')')
	if lastParen < 0 {
		return nil, ErrNoFlags
	}
	line := resp
	if nl := bytes.IndexByte(resp, '\n'); nl >= 0 {
		line = resp[:nl]
	}
	if len(line) > lastParen {
		line = line[:lastParen]
	}
	k := bytes.LastIndex(line, []byte("FLAGS ("))
	if k < 0 {
		return nil, ErrNoFlags
	}
	body := resp[k+len("FLAGS ("):]
	body = body[:bytes.IndexByte(body, ')')]
	flags := []string{}
	for i := 0; i < len(body); {
		for i < len(body) && isPySpace(body[i]) {
			i++
		}
		j := i
		for j < len(body) && !isPySpace(body[j]) {
			j++
		}
		if j > i {
			flags = append(flags, string(body[i:j]))
		}
		i = j
	}
	return flags, nil
}

// internalDatePattern reports whether d (26 bytes) matches imaplib's
// INTERNALDATE pattern: [ 0123][0-9]-[A-Z][a-z][a-z]-[0-9]{4}
// [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4} followed by a double quote.
func internalDatePattern(d []byte) bool {
	if len(d) < 27 || d[26] != '"' {
		return false
	}
	const layout = "d9-Abb-9999 99:99:99 s9999"
	for i := 0; i < 26; i++ {
		c := d[i]
		var ok bool
		switch layout[i] {
		case 'd':
			ok = c == ' ' || (c >= '0' && c <= '3')
		case '9':
			ok = isDigit(c)
		case 'A':
			ok = c >= 'A' && c <= 'Z'
		case 'b':
			ok = c >= 'a' && c <= 'z'
		case 's':
			ok = c == '+' || c == '-'
		default:
			ok = c == layout[i]
		}
		if !ok {
			return false
		}
	}
	return true
}

// Internaldate2Time finds `INTERNALDATE "17-Jul-1996 02:44:25 -0700"` in a
// FETCH response and returns that instant in UTC, like
// imaplib.Internaldate2tuple: the match is case-sensitive, must be on the
// first line of resp, and the last match on that line wins; the day must
// be two characters (" 7" or "07"), the month capitalised ("Jul"). ok is
// false where imaplib returns None.
//
// Differences: imaplib returns local time as a struct_time, this returns a
// time.Time in UTC. imaplib raises KeyError for a well-formed but unknown
// month ("Foo") and ValueError for year 0000, and lets calendar.timegm
// roll impossible values over ("31-Feb" is 3 March, hour 25 the next day);
// Internaldate2Time returns ok=false for an unknown month and for values
// out of range (day, hour 24 and over, minute 60 and over, zone minutes 60
// and over) and accepts year 0000. A leap second (60) rolls over in both.
func Internaldate2Time(resp []byte) (time.Time, bool) {
	line := resp
	if nl := bytes.IndexByte(resp, '\n'); nl >= 0 {
		line = resp[:nl]
	}
	const key = `INTERNALDATE "`
	for end := len(line); ; {
		k := bytes.LastIndex(line[:end], []byte(key))
		if k < 0 {
			return time.Time{}, false
		}
		d := line[k+len(key):]
		if internalDatePattern(d) {
			t, err := codec.ParseInternalDate(d[:26])
			if err != nil {
				return time.Time{}, false
			}
			return t.UTC(), true
		}
		end = k + len(key) - 1
	}
}

// Time2Internaldate returns t as a quoted INTERNALDATE (RFC 9051 section
// 9), "\"17-Jul-1996 02:44:25 -0700\"", in t's own zone, like
// imaplib.Time2Internaldate given an aware datetime. The day has two
// digits ("07"), as with Python's %d.
//
// Differences: a zone offset that is not a whole number of minutes is
// written as "+HHMMSS" by Python (not valid IMAP); Time2Internaldate
// writes the time in UTC instead. imaplib's other argument kinds map to Go
// as follows: seconds since the epoch, time.Unix(sec, 0).Local(); a
// struct_time, time.Date; an already quoted string, QuoteInternaldate.
func Time2Internaldate(t time.Time) string {
	var buf [40]byte
	b := append(buf[:0], '"')
	b = codec.AppendInternalDate(b, t)
	b = append(b, '"')
	return string(b)
}

// QuoteInternaldate returns s as a quoted INTERNALDATE (RFC 9051 section
// 9): an already quoted `"17-Jul-1996 02:44:25 -0700"` is returned
// unchanged, an unquoted one gets its quotes. Unlike imaplib, which returns
// any string that starts and ends with '"' without looking at it, the date
// is checked: it must match date-time exactly (day " 7" or "07", month in
// any case), or an error (a *codec.DateError where the parser says why) is
// returned.
func QuoteInternaldate(s string) (string, error) {
	inner := s
	quoted := len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
	if quoted {
		inner = s[1 : len(s)-1]
	}
	if _, err := codec.ParseInternalDate([]byte(inner)); err != nil {
		return "", err
	}
	if len(inner) != 26 {
		return "", fmt.Errorf("commands: %q is not \"DD-Mmm-YYYY HH:MM:SS +HHMM\"", s)
	}
	if quoted {
		return s, nil
	}
	return `"` + s + `"`, nil
}

// NormalizeCRLF returns msg with every bare CR and bare LF made CRLF, as
// imaplib's append does; msg is returned as is when it has none.
func NormalizeCRLF(msg []byte) []byte {
	bare := false
	for i, c := range msg {
		if c == '\n' && (i == 0 || msg[i-1] != '\r') || c == '\r' && (i+1 == len(msg) || msg[i+1] != '\n') {
			bare = true
			break
		}
	}
	if !bare {
		return msg
	}
	out := make([]byte, 0, len(msg)+len(msg)/32+2)
	for i := 0; i < len(msg); i++ {
		switch c := msg[i]; {
		case c == '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(msg) && msg[i+1] == '\n' {
				i++
			}
		case c == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// Partial fetches length bytes from start of a section of one message
// (imaplib's partial: the PARTIAL command is obsolete, this sends
// BODY.PEEK[section]<start.length>) and returns them. With several
// messages in set, only the first one's bytes are returned. At most
// length bytes are read into memory: of a server that sends more than it
// was asked, the first length are returned and the rest is dropped. A
// section the server sends as NIL (a part the message has not, on Cyrus)
// is nil; an empty one is empty and not nil. Only the section asked for
// is its answer (BODY or BINARY, part, specifier, and origin start; no
// origin only when start is 0): another the server sends instead is
// passed over, and without the one asked for the result is nil, as for a
// section the server left out.
func (c *Client) Partial(ctx context.Context, set Set, section FetchSection, start, length uint32) ([]byte, error) {
	if length == 0 {
		// BODY[]<start.0> has no form (the length is nz-number): it
		// went as the whole section.
		return nil, errors.New("commands: Partial of length 0")
	}
	section.Offset, section.Count = start, length
	var out []byte
	got := false
	for m, err := range c.Fetch(ctx, set, &FetchItems{Sections: []FetchSection{section}}) {
		if err != nil {
			return nil, err
		}
		if got {
			continue
		}
		s, err := nextAsked(m, section)
		if err == io.EOF {
			continue
		}
		if err != nil {
			return nil, err
		}
		if s.Nil {
			// NIL (Cyrus, for a part the message has not): nil, told
			// from an empty section, which is empty and not nil.
			got = true
			continue
		}
		if out, err = io.ReadAll(io.LimitReader(s, int64(length))); err != nil {
			return nil, err
		}
		got = true
	}
	return out, nil
}

// nextAsked returns the next section of m that answers asked, a partial
// section (Partial): the sections that do not (another kind, part,
// specifier or origin) are passed over, and io.EOF says there is none.
func nextAsked(m *Message, asked FetchSection) (*Section, error) {
	for {
		s, err := m.NextSection()
		if err != nil || s.Answers(asked) {
			return s, err
		}
	}
}

// Answers reports whether s, a section the server sent, is the answer to
// asked, one of FetchItems.Sections: the same kind (BODY or BINARY; the
// RFC822, RFC822.HEADER and RFC822.TEXT forms stand for BODY[],
// BODY[HEADER] and BODY[TEXT]), part and specifier (in any ASCII case),
// the same header field names for HEADER.FIELDS (.NOT) (in any ASCII case
// and order, each once or more), and the origin asked for (Offset; a
// section without an origin is the section from its start, the answer
// only to an Offset of 0, as a whole section with the origin 0 is).
//
// Message.NextSection hands on every section the server sent, asked for
// or not: a broken or hostile server (or proxy) may send BODY[HEADER]
// for BODY[], another part, or the same section twice. A caller that
// takes a section for the one it asked for checks it with Answers (as
// Partial does) and passes over the others.
func (s *Section) Answers(asked FetchSection) bool {
	kind, spec := s.Kind, s.Specifier
	switch kind {
	case codec.SectionRFC822:
		kind = codec.SectionBody
	case codec.SectionRFC822Header:
		kind, spec = codec.SectionBody, "HEADER"
	case codec.SectionRFC822Text:
		kind, spec = codec.SectionBody, "TEXT"
	}
	if (kind == codec.SectionBinary) != asked.Binary || kind != codec.SectionBinary && kind != codec.SectionBody {
		return false
	}
	if len(s.Part) != len(asked.Part) || !equalFold(spec, asked.Specifier) {
		return false
	}
	for i, p := range asked.Part {
		if int64(s.Part[i]) != int64(p) {
			return false
		}
	}
	if len(asked.Fields) > 0 && !sameFields(s.Spec, asked.Fields) {
		return false
	}
	if s.HasOrigin {
		return s.Origin == asked.Offset
	}
	return asked.Offset == 0
}

// sameFields reports whether the header field list of spec, a section
// spec as a server sent it ("1.HEADER.FIELDS (FROM TO)"), names the
// fields asked: the same names in any ASCII case (a server may spell them
// its way: Dovecot and Cyrus send them upper-case) and in any order, each
// name once or more (the same header lines are asked). A list it cannot
// read is not the one asked.
func sameFields(spec string, asked []string) bool {
	i := strings.IndexByte(spec, '(')
	if i < 0 {
		return false
	}
	got, ok := fieldList(spec[i+1:])
	if !ok {
		return false
	}
	in := func(name string, list []string) bool {
		return slices.ContainsFunc(list, func(f string) bool { return equalFold(f, name) })
	}
	for _, f := range got {
		if !in(f, asked) {
			return false
		}
	}
	for _, f := range asked {
		if !in(f, got) {
			return false
		}
	}
	return true
}

// fieldList reads the names of a header field list after its "(", up to
// its ")" and the end of rest: astrings (atoms, quoted strings, literals)
// separated by spaces. ok is false for a list it cannot read.
func fieldList(rest string) (names []string, ok bool) {
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return nil, false
		}
		if rest[0] == ')' {
			return names, strings.TrimSpace(rest[1:]) == ""
		}
		var name string
		if name, rest, ok = fieldName(rest); !ok {
			return nil, false
		}
		names = append(names, name)
	}
}

// fieldName reads one astring at the head of rest and returns it and what
// follows it.
func fieldName(rest string) (name, after string, ok bool) {
	switch rest[0] {
	case '"':
		var b strings.Builder
		for i := 1; i < len(rest); i++ {
			switch c := rest[i]; {
			case c == '"':
				return b.String(), rest[i+1:], true
			case c == '\\' && i+1 < len(rest):
				i++
				b.WriteByte(rest[i])
			default:
				b.WriteByte(c)
			}
		}
		return "", "", false
	case '{':
		end := strings.Index(rest, "}\r\n")
		if end < 0 {
			return "", "", false
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(rest[1:end], "+"), 10, 31)
		if err != nil || uint64(len(rest)-end-3) < n {
			return "", "", false
		}
		body := rest[end+3:]
		return body[:n], body[n:], true
	}
	end := strings.IndexAny(rest, " )")
	if end < 0 {
		return "", "", false
	}
	return rest[:end], rest[end:], true
}

// isDigit reports an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
