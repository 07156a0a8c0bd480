package commands

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// fzCriteria builds criteria from the fuzzer's bytes: each byte picks a
// field, strings come from strs in turn.
type fzBuilder struct {
	prog []byte
	strs []string
	n    int
}

func (b *fzBuilder) byte() byte {
	if len(b.prog) == 0 {
		return 0
	}
	c := b.prog[0]
	b.prog = b.prog[1:]
	return c
}

func (b *fzBuilder) str() string {
	if len(b.strs) == 0 {
		return "x"
	}
	s := b.strs[b.n%len(b.strs)]
	b.n++
	return s
}

func (b *fzBuilder) criteria(depth int) Criteria {
	var cr Criteria
	count := int(b.byte() % 6)
	for range count {
		switch op := b.byte(); op % 24 {
		case 0:
			var s codec.SeqSet
			for range int(b.byte()%3) + 0 {
				s.AddRange(uint32(b.byte())*1000, uint32(b.byte()))
			}
			set := SetOf(op&0x40 != 0, s)
			set.Saved = op&0x80 != 0
			cr.Set = &set
		case 1:
			cr.Flags = append(cr.Flags, b.str())
		case 2:
			cr.NotFlags = append(cr.NotFlags, b.str())
		case 3:
			cr.Since = time.Date(int(b.byte())*40, time.Month(b.byte()%12+1), int(b.byte()%31+1), 0, 0, 0, 0, time.UTC)
		case 4:
			cr.SentBefore = time.Date(1900+int(b.byte()), 1, 1, 23, 0, 0, 0, time.FixedZone("", -int(b.byte())*3600))
		case 5:
			cr.From = append(cr.From, b.str())
		case 6:
			cr.Subject = append(cr.Subject, b.str())
		case 7:
			cr.Body = append(cr.Body, b.str())
		case 8:
			cr.Header = append(cr.Header, HeaderCriterion{b.str(), b.str()})
		case 9:
			cr.Larger = int64(b.byte()) << (b.byte() % 64)
		case 10:
			cr.Smaller = int64(b.byte()) + 1
		case 11:
			cr.ModSeq = uint64(b.byte()) << (b.byte() % 64)
		case 12:
			cr.Younger = time.Duration(b.byte()) * time.Second / 3
		case 13:
			cr.EmailID = b.str()
		case 14:
			cr.ThreadID = b.str()
		case 15:
			cr.New, cr.Old, cr.Recent = op&0x20 != 0, op&0x40 != 0, op&0x80 != 0
		case 16:
			cr.SavedateSupported = true
		case 17, 18:
			if depth < 4 {
				cr.Not = append(cr.Not, b.criteria(depth+1))
			}
		case 19, 20:
			if depth < 4 {
				cr.Or = append(cr.Or, [2]Criteria{b.criteria(depth + 1), b.criteria(depth + 1)})
			}
		case 21:
			cr.Text = append(cr.Text, b.str())
		case 22:
			cr.SavedOn = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
		case 23:
			cr.Older = time.Duration(b.byte()+1) * time.Second
		}
	}
	return cr
}

// fzStrings lists the strings a criteria must carry (in encode order is
// not needed: as a multiset).
func fzStrings(cr *Criteria, out *[]string) {
	for _, l := range [][]string{cr.From, cr.To, cr.Cc, cr.Bcc, cr.Subject, cr.Body, cr.Text} {
		*out = append(*out, l...)
	}
	for _, h := range cr.Header {
		*out = append(*out, h.Name, h.Value)
	}
	for i := range cr.Not {
		fzStrings(&cr.Not[i], out)
	}
	for i := range cr.Or {
		fzStrings(&cr.Or[i][0], out)
		fzStrings(&cr.Or[i][1], out)
	}
}

// fzSearchArity is how many arguments each search key takes (-1: a
// parenthesized group; -2: two groups).
var fzSearchArity = map[string]int{
	"ALL": 0, "ANSWERED": 0, "DELETED": 0, "DRAFT": 0, "FLAGGED": 0, "SEEN": 0, "RECENT": 0, "NEW": 0, "OLD": 0,
	"UNANSWERED": 0, "UNDELETED": 0, "UNDRAFT": 0, "UNFLAGGED": 0, "UNSEEN": 0, "SAVEDATESUPPORTED": 0,
	"KEYWORD": 1, "UNKEYWORD": 1, "SINCE": 1, "BEFORE": 1, "ON": 1, "SENTSINCE": 1, "SENTBEFORE": 1, "SENTON": 1,
	"SAVEDSINCE": 1, "SAVEDBEFORE": 1, "SAVEDON": 1, "FROM": 1, "TO": 1, "CC": 1, "BCC": 1, "SUBJECT": 1,
	"BODY": 1, "TEXT": 1, "HEADER": 2, "LARGER": 1, "SMALLER": 1, "MODSEQ": 1, "YOUNGER": 1, "OLDER": 1,
	"EMAILID": 1, "THREADID": 1, "UID": 1, "NOT": 1, "OR": 2,
}

type fzTok struct {
	kind wire.Kind
	s    string
}

// fzKeys parses a search-key list from toks (up to ')' or the end) and
// counts its top-level NOT and OR keys. It returns the tokens it used.
func fzKeys(t *testing.T, toks []fzTok, strs *[]string) (used, nots, ors, keys int) {
	i := 0
	var one func() // one search key, at toks[i]
	one = func() {
		if i >= len(toks) {
			t.Fatalf("search key missing at the end")
		}
		tk := toks[i]
		i++
		switch tk.kind {
		case wire.KindLParen:
			n, _, _, k := fzKeys(t, toks[i:], strs)
			if k == 0 {
				t.Fatalf("empty group")
			}
			i += n
			if i >= len(toks) || toks[i].kind != wire.KindRParen {
				t.Fatalf("group not closed")
			}
			i++
			return
		case wire.KindAtom, wire.KindNumber, wire.KindStar:
		default:
			t.Fatalf("search key %v %q", tk.kind, tk.s)
		}
		if _, err := codec.ParseSeqSet([]byte(tk.s)); err == nil || tk.s == "$" {
			return // a set
		}
		a, ok := fzSearchArity[tk.s]
		if !ok {
			t.Fatalf("unknown search key %q", tk.s)
		}
		switch tk.s {
		case "NOT":
			one()
			return
		case "OR":
			one()
			one()
			return
		}
		for range a {
			if i >= len(toks) {
				t.Fatalf("%s: argument missing", tk.s)
			}
			arg := toks[i]
			i++
			switch arg.kind {
			case wire.KindAtom, wire.KindNumber, wire.KindQuoted, wire.KindLiteral, wire.KindNIL, wire.KindStar, wire.KindPlus:
			default:
				t.Fatalf("%s: argument %v", tk.s, arg.kind)
			}
			if j := slices.Index(*strs, arg.s); j >= 0 {
				*strs = slices.Delete(*strs, j, j+1)
			}
		}
	}
	for i < len(toks) && toks[i].kind != wire.KindRParen {
		switch toks[i].s {
		case "NOT":
			nots++
		case "OR":
			ors++
		}
		one()
		keys++
	}
	return i, nots, ors, keys
}

// FuzzSearchEncode: any criteria that pass check() encode to one
// command line that tokenizes whole (no CR or LF outside a literal,
// balanced parentheses), parses back as a list of known search keys each
// with its arguments, holds every string of the criteria, and has as many
// top-level NOT and OR keys as the criteria's Not and Or (the zero
// criteria: ALL).
func FuzzSearchEncode(f *testing.F) {
	f.Add([]byte{3, 5, 1, 17, 2, 6, 0, 19, 1, 8, 1, 10}, "a\x00b\x00c", byte(0))
	f.Add([]byte{5, 0, 2, 5, 7, 8, 1, 2, 13, 15}, "Grüße\x00a\r\nb\x00\\Seen\x00", byte(7))
	f.Add([]byte{1, 17, 0}, "", byte(1))
	f.Add([]byte{2, 19, 0, 0, 18, 1, 18, 0}, "x", byte(3))
	f.Add([]byte{4, 0, 2, 1, 2, 3, 4, 0xc0, 1, 5, 5, 0x40, 0}, "\"q\"\x00{5}\x00NIL", byte(2))
	f.Fuzz(func(t *testing.T, prog []byte, strs string, flags byte) {
		if len(prog) > 200 || len(strs) > 2000 {
			return
		}
		b := &fzBuilder{prog: prog, strs: strings.Split(strs, "\x00")}
		for _, s := range b.strs {
			if strings.HasPrefix(s, "<") {
				return // an atom "<0" is valid, but Tokenizer.Next reads '<' as a partial
			}
		}
		cr := b.criteria(0)
		if err := cr.check(); err != nil {
			return
		}
		opts := &wire.EncoderOptions{LiteralPlus: flags&1 != 0, LiteralMinus: flags&2 != 0, UTF8: flags&4 != 0}
		e := wire.NewEncoder(opts)
		e.Begin("A1").SP().Atom("SEARCH")
		cr.encode(e)
		cmd, err := e.End()
		if err != nil {
			if !errors.Is(err, wire.ErrInvalidAtom) && !errors.Is(err, wire.ErrNUL) {
				t.Fatalf("%+v: encode error %v", cr, err)
			}
			return
		}
		var buf bytes.Buffer
		if _, err := cmd.WriteTo(&buf, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		tk := wire.NewTokenizer(bytes.NewReader(raw), &wire.TokenizerOptions{MaxStringLiteral: 1 << 20})
		var toks []fzTok
		atomish := func(k wire.Kind) bool {
			return k == wire.KindAtom || k == wire.KindNumber || k == wire.KindLBracket || k == wire.KindRBracket || k == wire.KindStar || k == wire.KindPlus || k == wire.KindNIL
		}
		sp := true
		for {
			tok, err := tk.Next()
			if err != nil {
				t.Fatalf("%+v: tokenizing %q: %v", cr, raw, err)
			}
			if tok.Kind == wire.KindSP {
				sp = true
				continue
			}
			glued := !sp && len(toks) > 0 && atomish(tok.Kind) && atomish(toks[len(toks)-1].kind)
			sp = false
			if glued {
				// Next stops atoms at '[' and ']', which ATOM-CHAR allows.
				last := &toks[len(toks)-1]
				last.kind, last.s = wire.KindAtom, last.s+tokText(tok)
				continue
			}
			if tok.Kind == wire.KindCRLF {
				break
			}
			s := tokText(tok)
			if tok.Kind == wire.KindLiteral {
				lb, err := tk.LiteralBytes()
				if err != nil {
					t.Fatalf("%q: literal: %v", raw, err)
				}
				s = string(lb)
			}
			kind := tok.Kind
			if kind == wire.KindLBracket || kind == wire.KindRBracket {
				kind = wire.KindAtom // '[' and ']' are ATOM-CHARs of an atom here
			}
			toks = append(toks, fzTok{kind, s})
		}
		if tk.Offset() != int64(len(raw)) {
			t.Fatalf("%+v: the command %q has bytes after its first line (at %d)", cr, raw, tk.Offset())
		}
		if len(toks) < 3 || toks[0].s != "A1" || toks[1].s != "SEARCH" {
			t.Fatalf("%q: start %v", raw, toks)
		}
		var want []string
		fzStrings(&cr, &want)
		left := slices.Clone(want)
		n, nots, ors, keys := fzKeys(t, toks[2:], &left)
		if n != len(toks)-2 {
			t.Fatalf("%+v: %q: unbalanced ')' at token %d", cr, raw, n+2)
		}
		if nots < len(cr.Not) || ors != len(cr.Or) || keys == 0 {
			t.Fatalf("%+v: %q: %d NOT (want at least %d), %d OR (want %d), %d keys", cr, raw, nots, len(cr.Not), ors, len(cr.Or), keys)
		}
		if len(left) != 0 {
			t.Fatalf("%+v: %q: strings %q not found in the command", cr, raw, left)
		}
		_ = fmt.Sprint
	})
}

// FuzzSetParts: Client.parts cuts a set into parts that are ascending,
// disjoint, together the set, each of the same kind, and each within the
// limit as written (wire.AppendSeqSet) unless it is a single range.
func FuzzSetParts(f *testing.F) {
	f.Add("1:5,7,9:*", int16(3), true)
	f.Add("4294967295,*,1", int16(10), false)
	f.Add("1,3,5,7,9,11,13,15,17,19,21", int16(5), true)
	f.Add("100000:1,4000000000", int16(1), false)
	f.Add("*", int16(0), false)
	f.Fuzz(func(t *testing.T, in string, limit int16, uid bool) {
		s, err := codec.ParseSeqSet([]byte(in))
		if err != nil || s.IsEmpty() {
			return
		}
		c := &Client{}
		c.SetMaxSetLength(int(limit))
		set := SetOf(uid, s)
		parts := c.parts(set)
		if len(parts) == 0 {
			t.Fatalf("no part")
		}
		var all []wire.SeqRange
		var prevMax uint64
		for i, p := range parts {
			if p.UID != uid || p.Saved {
				t.Fatalf("part %d of %q: UID %v Saved %v", i, in, p.UID, p.Saved)
			}
			rs := p.Nums.Ranges()
			if len(rs) == 0 {
				t.Fatalf("part %d of %q empty", i, in)
			}
			w := wire.AppendSeqSet(nil, rs)
			if len(parts) > 1 && int64(len(w)) > c.maxSetLength() && len(rs) > 1 {
				t.Fatalf("part %d of %q with limit %d: %q is %d bytes", i, in, c.maxSetLength(), w, len(w))
			}
			if n := int64(len(w)); n != setLength(rs) {
				t.Fatalf("setLength(%q) = %d; wire length %d", w, setLength(rs), n)
			}
			key := func(n uint32) uint64 {
				if n == 0 {
					return 1<<32 + 1
				}
				return uint64(n)
			}
			for _, r := range rs {
				if i > 0 && key(r.Start) <= prevMax {
					t.Fatalf("part %d of %q (%v) not above the earlier parts", i, in, parts)
				}
			}
			for _, r := range rs {
				prevMax = max(prevMax, key(r.Stop), key(r.Start))
			}
			all = append(all, rs...)
		}
		if got := codec.SeqSetOf(all...); !got.Equal(s) {
			t.Fatalf("parts of %q with limit %d: %v; union %q", in, c.maxSetLength(), parts, got.String())
		}
	})
}

// fzPyFlags is imaplib.ParseFlags: re.match(br'.*FLAGS \((?P<flags>[^\)]*)\)', resp)
// then .split() (Python's '.' does not match LF; '[^\)]' does).
var fzPyFlags = regexp.MustCompile(`\A.*FLAGS \(([^)]*)\)`)

// FuzzImaplibFlags: ParseFlags agrees with imaplib's regular expression
// and bytes.split() on every input (its doc promises imaplib's semantics).
func FuzzImaplibFlags(f *testing.F) {
	for _, s := range []string{`* FLAGS (\Answered \Seen)`, `1 (UID 7 FLAGS (\Seen))`, "* OK [PERMANENTFLAGS (\\* a)] FLAGS (b\nc)", "FLAGS (a\n) FLAGS (b)", "FLAGS ()", "x FLAGS (a\x0bb\x85c)", "FLAGS (\n", "FLAGS (a FLAGS (b) c)"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		got, err := ParseFlags(resp)
		m := fzPyFlags.FindSubmatch(resp)
		if m == nil {
			if err == nil {
				t.Fatalf("ParseFlags(%q) = %q; imaplib matches nothing", resp, got)
			}
			return
		}
		var want []string
		for _, w := range bytes.FieldsFunc(m[1], func(r rune) bool { return r < 0x80 && isPySpace(byte(r)) }) {
			want = append(want, string(w))
		}
		// FieldsFunc decodes UTF-8; split bytes instead.
		want = want[:0]
		for i := 0; i < len(m[1]); {
			for i < len(m[1]) && isPySpace(m[1][i]) {
				i++
			}
			j := i
			for j < len(m[1]) && !isPySpace(m[1][j]) {
				j++
			}
			if j > i {
				want = append(want, string(m[1][i:j]))
			}
			i = j
		}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("ParseFlags(%q) = %q, %v; imaplib %q", resp, got, err, want)
		}
	})
}

var fzPyDate = regexp.MustCompile(`\A.*INTERNALDATE "([ 0123][0-9])-([A-Z][a-z][a-z])-([0-9][0-9][0-9][0-9]) ([0-9][0-9]):([0-9][0-9]):([0-9][0-9]) ([-+])([0-9][0-9])([0-9][0-9])"`)

// FuzzImaplibDate: Internaldate2Time finds what imaplib's regular
// expression finds (ok false only for the documented differences: an
// unknown month, values out of range), gives the instant it names, and
// Time2Internaldate of any time reads back as the same second.
func FuzzImaplibDate(f *testing.F) {
	for _, s := range []string{`1 (INTERNALDATE "17-Jul-1996 02:44:25 -0700")`, `INTERNALDATE " 7-Jul-1996 02:44:25 +0000" INTERNALDATE "x"`,
		`INTERNALDATE "31-Feb-2020 00:00:60 +0000"`, "INTERNALDATE \"01-Jan-0000 23:59:59 -9959\"\nINTERNALDATE \"01-Jan-2000 00:00:00 +0000\""} {
		f.Add([]byte(s), int64(0), int32(0))
	}
	f.Add([]byte(""), int64(-62167219200), int32(-359940))
	f.Add([]byte(""), int64(253402300799), int32(359999))
	f.Fuzz(func(t *testing.T, resp []byte, sec int64, off int32) {
		got, ok := Internaldate2Time(resp)
		m := fzPyDate.FindSubmatch(resp)
		if m == nil && ok {
			t.Fatalf("Internaldate2Time(%q) = %v; imaplib finds none", resp, got)
		}
		if m != nil {
			atoi := func(b []byte) int { n, _ := strconv.Atoi(strings.TrimSpace(string(b))); return n }
			mon := strings.Index("JanFebMarAprMayJunJulAugSepOctNovDec", string(m[2]))
			day, year, hh, mm, ss, zh, zm := atoi(m[1]), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), atoi(m[8]), atoi(m[9])
			valid := mon >= 0 && mon%3 == 0 && day >= 1 && hh < 24 && mm < 60 && ss <= 60 && zm < 60
			if valid {
				tm := time.Date(year, time.Month(mon/3+1), day, 0, 0, 0, 0, time.UTC)
				valid = tm.Day() == day
			}
			if valid != ok {
				t.Fatalf("Internaldate2Time(%q) = %v, %v; imaplib's match %q (valid %v)", resp, got, ok, m[0], valid)
			}
			if ok {
				zone := (zh*60 + zm) * 60
				if m[7][0] == '-' {
					zone = -zone
				}
				want := time.Date(year, time.Month(mon/3+1), day, hh, mm, ss, 0, time.UTC).Add(-time.Duration(zone) * time.Second)
				if !got.Equal(want) {
					t.Fatalf("Internaldate2Time(%q) = %v; want %v", resp, got, want)
				}
			}
		}
		if sec < -62167219200 || sec > 253402300799 {
			return
		}
		tm := time.Unix(sec, 0).In(time.FixedZone("", int(off%360000)))
		if y := tm.Year(); y < 0 || y > 9999 {
			return
		}
		q := Time2Internaldate(tm)
		back, ok := Internaldate2Time([]byte("* 1 FETCH (INTERNALDATE " + q + ")"))
		if !ok || !back.Equal(tm) {
			t.Fatalf("Time2Internaldate(%v) = %s; read back %v, %v", tm, q, back, ok)
		}
		if _, err := QuoteInternaldate(q); err != nil {
			t.Fatalf("QuoteInternaldate(%s): %v", q, err)
		}
	})
}

// FuzzNormalizeCRLF: NormalizeCRLF is imaplib's MapCRLF.sub(CRLF, msg)
// (re.compile(br'\r\n|\r|\n')).
func FuzzNormalizeCRLF(f *testing.F) {
	for _, s := range []string{"a\nb", "a\r\nb", "\r", "\n\r", "\r\r\n", "x", ""} {
		f.Add([]byte(s))
	}
	re := regexp.MustCompile(`\r\n|\r|\n`)
	f.Fuzz(func(t *testing.T, msg []byte) {
		want := re.ReplaceAll(msg, []byte("\r\n"))
		if got := NormalizeCRLF(bytes.Clone(msg)); !bytes.Equal(got, want) {
			t.Fatalf("NormalizeCRLF(%q) = %q; imaplib %q", msg, got, want)
		}
	})
}

// tokText is a token as written: Next gives '[', ']', '(' and ')' no bytes.
func tokText(tok wire.Token) string {
	switch tok.Kind {
	case wire.KindLBracket:
		return "["
	case wire.KindRBracket:
		return "]"
	}
	return tok.String()
}
