package codec_test

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
)

// Seeds beyond those in testdata/fuzz/<Name>/.

func FuzzParseSeqSet(f *testing.F) {
	for _, s := range []string{"1", "*", "1:5,7,9:*", "5:2", "*:4", "9,1:3,2", "1,2,3", "4294967295,*",
		"1:4294967295", "0", "01", "4294967296", "1,,2", "", "1:*:2", "3:3,3:3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := codec.ParseSeqSet(b)
		if err != nil {
			var se *codec.SeqSetError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b) {
				t.Fatalf("ParseSeqSet(%q) error = %#v", b, err)
			}
			return
		}
		if s.IsEmpty() {
			t.Fatalf("ParseSeqSet(%q) = empty set, nil", b)
		}
		// Format -> parse gives an equal set, and the canonical form is a
		// fixed point.
		str := s.String()
		p, err := codec.ParseSeqSet([]byte(str))
		if err != nil {
			t.Fatalf("ParseSeqSet(%q) = %v; String of ParseSeqSet(%q)", str, err, b)
		}
		if !p.Equal(s) || !s.Equal(p) || p.String() != str {
			t.Fatalf("ParseSeqSet(%q).String() = %q, parsed back as %q", b, str, p.String())
		}
		// The wire form of Ranges, as given, parses to the same ranges.
		var q codec.SeqSet
		q.AddNum(7) // ParseInto must reset
		if err := q.ParseInto(s.AppendTo(nil)); err != nil || !q.Equal(s) {
			t.Fatalf("ParseInto(AppendTo) = %v, %v", q, err)
		}
		// Building the set with AddRange gives the same canonical set.
		var built codec.SeqSet
		for _, r := range s.Ranges() {
			built.AddRange(r.Start, r.Stop)
		}
		if built.String() != str {
			t.Fatalf("AddRange of ParseSeqSet(%q).Ranges() = %q; want %q", b, built.String(), str)
		}
		c := s.Clone()
		c.Compact()
		if c.String() != str || !slicesEqualRanges(c, built) {
			t.Fatalf("Compact of ParseSeqSet(%q) = %v; want %v", b, c.Ranges(), built.Ranges())
		}
		if s.Dynamic() != s.Contains(0) {
			t.Fatalf("ParseSeqSet(%q): Dynamic() = %v but Contains(0) = %v", b, s.Dynamic(), s.Contains(0))
		}
		// Contains agrees with Nums for small sets.
		n, ok := s.Len()
		if !ok || n > 5000 {
			return
		}
		nums, ok := s.Nums()
		if !ok {
			t.Fatalf("ParseSeqSet(%q): Len ok but Nums not", b)
		}
		in := map[uint32]bool{}
		for _, v := range nums {
			in[v] = true
		}
		if uint64(len(in)) != n {
			t.Fatalf("ParseSeqSet(%q): Len() = %d but Nums has %d distinct", b, n, len(in))
		}
		for v := range in {
			if !s.Contains(v) || !c.Contains(v) {
				t.Fatalf("ParseSeqSet(%q).Contains(%d) = false; Nums has it", b, v)
			}
			for _, w := range []uint32{v - 1, v + 1} {
				if w != 0 && !in[w] && (s.Contains(w) || c.Contains(w)) {
					t.Fatalf("ParseSeqSet(%q).Contains(%d) = true; Nums lacks it", b, w)
				}
			}
		}
		count := 0
		for v := range s.All {
			if !in[v] {
				t.Fatalf("ParseSeqSet(%q).All yielded %d, not in Nums", b, v)
			}
			count++
		}
		if count != len(nums) {
			t.Fatalf("ParseSeqSet(%q).All yielded %d numbers; Nums %d", b, count, len(nums))
		}
	})
}

func slicesEqualRanges(a, b codec.SeqSet) bool {
	ra, rb := a.Ranges(), b.Ranges()
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		if ra[i] != rb[i] {
			return false
		}
	}
	return true
}

func FuzzMailboxUTF7(f *testing.F) {
	for _, p := range utf7Pairs {
		f.Add([]byte(p.utf7))
		f.Add([]byte(p.utf8))
	}
	for _, s := range []string{"&Jjo", "&AGE-", "&Jjo!", "&AOk-&AOk-", "&2D0-", "&3gA-", "&AOl-", "a\xffb", "&"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lenient := codec.DecodeMailboxLenient(b)
		dec, err := codec.DecodeMailbox(b)
		if err == nil {
			// Strictly valid: canonical, so encoding gives the input back,
			// and the lenient decoder agrees.
			if enc := codec.EncodeMailbox(dec); enc != string(b) {
				t.Fatalf("EncodeMailbox(DecodeMailbox(%q) = %q) = %q", b, dec, enc)
			}
			if lenient != dec {
				t.Fatalf("DecodeMailboxLenient(%q) = %q; DecodeMailbox = %q", b, lenient, dec)
			}
			if !utf8.ValidString(dec) {
				t.Fatalf("DecodeMailbox(%q) = %q: invalid UTF-8", b, dec)
			}
		} else {
			var ue *codec.UTF7Error
			if !errors.As(err, &ue) || ue.Offset < 0 || ue.Offset > len(b) {
				t.Fatalf("DecodeMailbox(%q) error = %#v", b, err)
			}
		}
		// The other direction: any valid UTF-8 name survives a round trip.
		if utf8.Valid(b) {
			enc := codec.EncodeMailbox(string(b))
			back, err := codec.DecodeMailbox([]byte(enc))
			if err != nil || back != string(b) {
				t.Fatalf("DecodeMailbox(EncodeMailbox(%q) = %q) = %q, %v", b, enc, back, err)
			}
			for i := 0; i < len(enc); i++ {
				if enc[i] < 0x20 || enc[i] > 0x7e {
					t.Fatalf("EncodeMailbox(%q) = %q: not printable US-ASCII", b, enc)
				}
			}
		}
	})
}

func FuzzParseMessageDate(f *testing.F) {
	for _, d := range messageDates {
		f.Add([]byte(d.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := codec.ParseMessageDate(b)
		if err != nil {
			var de *codec.DateError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(b) {
				t.Fatalf("ParseMessageDate(%q) error = %#v", b, err)
			}
			return
		}
		if y := tm.Year(); y < 0 || y > 10000 {
			t.Fatalf("ParseMessageDate(%q) = %v: year out of range", b, tm)
		}
		// Formatting in RFC 5322 form and parsing again gives the same instant
		// and offset.
		out := tm.Format("Mon, 02 Jan 2006 15:04:05 -0700")
		back, err := codec.ParseMessageDate([]byte(out))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("ParseMessageDate(%q) = %v; formatted %q parses to %v, %v", b, tm, out, back, err)
		}
		_, o1 := tm.Zone()
		_, o2 := back.Zone()
		if o1 != o2 {
			t.Fatalf("ParseMessageDate(%q) offset %d; after a round trip %d", b, o1, o2)
		}
	})
}

func FuzzParseInternalDate(f *testing.F) {
	for _, s := range []string{"17-Jul-1996 02:44:25 -0700", " 7-Jul-1996 02:44:25 -0700", "7-jul-1996 02:44:25 +0000",
		"29-Feb-2024 23:59:60 +1400", "31-Dec-9999 23:59:59 -9959", `"01-Jan-0000 00:00:00 +0000"`, "00-Jan-2000 00:00:00 +0000"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := codec.ParseInternalDate(b)
		if err != nil {
			var de *codec.DateError
			if !errors.As(err, &de) {
				t.Fatalf("ParseInternalDate(%q) error = %#v", b, err)
			}
			return
		}
		out := codec.AppendInternalDate(nil, tm)
		back, err := codec.ParseInternalDate(out)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("ParseInternalDate(%q) = %v; AppendInternalDate = %q, parses to %v, %v", b, tm, out, back, err)
		}
		_, o1 := tm.Zone()
		_, o2 := back.Zone()
		if o1 != o2 {
			t.Fatalf("ParseInternalDate(%q) offset %d; after a round trip %d", b, o1, o2)
		}
		if again := codec.AppendInternalDate(nil, back); !bytes.Equal(again, out) {
			t.Fatalf("AppendInternalDate not stable: %q then %q", out, again)
		}
		// The canonical form (two-digit day, capitalised month, no quotes,
		// no leap second, no "-0000") comes back byte for byte.
		canonical := len(b) == 26 && b[0] != ' ' && b[3] >= 'A' && b[3] <= 'Z' &&
			b[4] >= 'a' && b[5] >= 'a' && string(b[18:20]) != "60" && string(b[21:]) != "-0000"
		if canonical && !bytes.Equal(out, b) {
			t.Fatalf("AppendInternalDate(ParseInternalDate(%q)) = %q", b, out)
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	for _, s := range []string{
		"=?UTF-8?B?UmU6IMOcYmVyc2ljaHQgZGVyIMOEbmRlcnVuZ2Vu?=",
		"=?ISO-8859-1?Q?Caf=E9_meeting?=",
		"=?koi8-r?B?8NLJ18XULCDNydI=?=",
		"=?iso-2022-jp?B?GyRCJEgkahsoQg==?=",
		"=?utf-8?q?a?= =?utf-8?q?b?=",
		"=?utf-8?q?a_b?= c",
		"=?x-unknown?Q?abc?=",
		"=?utf-8*en?B?w6k=?=",
		"Gr\xfc\xdfe\r\n =?utf-8?q?=C3=A9?=",
		"=?utf-16?B?//5hAA==?=",
		"=?utf-8?B?ww==?= =?utf-8?B?nGJlcnNpY2h0?=",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := codec.DecodeHeader(b)
		if err != nil {
			var ue *codec.UnknownCharsetError
			if !errors.As(err, &ue) {
				t.Fatalf("DecodeHeader(%q) error = %#v; want *UnknownCharsetError", b, err)
			}
		}
		if !utf8.ValidString(s) {
			t.Fatalf("DecodeHeader(%q) = %q: invalid UTF-8", b, s)
		}
		// Bounded by the input: an input byte gives at most one character
		// of three bytes (U+FFFD, or a BMP character of a charset).
		if len(s) > 3*len(b) {
			t.Fatalf("DecodeHeader(%q) = %d bytes out of %d", b, len(s), len(b))
		}
		if !bytes.Contains(b, []byte("=?")) && !bytes.ContainsAny(b, "\r\n") && utf8.Valid(b) && s != string(b) {
			t.Fatalf("DecodeHeader(%q) = %q; want the input unchanged", b, s)
		}
	})
}

// FuzzSeqSetIntersect checks Intersect of two parsed sets (one of them
// also made canonical) against the naive model, Contains and the
// intersection by two Removes (checkIntersect). The input is the two
// sets, split at the first space.
func FuzzSeqSetIntersect(f *testing.F) {
	for _, s := range []string{"1:10 5:20", "1:* 5", "* 7:*", "* 1:4294967295", "4294967295 *",
		"9,7,1:3,2 2:8", "1:5 6:10", "1:10,5:15 8:12", "3:3,3:3 *:1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, y, ok := bytes.Cut(b, []byte(" "))
		if !ok {
			return
		}
		s, err1 := codec.ParseSeqSet(x)
		u, err2 := codec.ParseSeqSet(y)
		if err1 != nil || err2 != nil {
			return
		}
		if n := len(s.Ranges()) * len(u.Ranges()); n > 1<<16 {
			return // the naive model's cost
		}
		checkIntersect(t, s, u)
		c := s.Clone()
		c.Compact()
		checkIntersect(t, c, u)
	})
}
