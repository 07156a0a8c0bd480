package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/wire"
)

// FuzzMboxRoundTrip: export's mbox writer then import's mbox scanner and
// reader give back every message (docs/cli.md, import: "through an mbox,
// the same bytes and dates ... but for a message whose last line has no
// line end"), in the same number, with the same dates (to the second).
// Every exec reuses one file and skips export's fsync (mboxRoundTripFile):
// a temporary directory and an fsync per exec held it to some 34 execs/s.
func FuzzMboxRoundTrip(f *testing.F) {
	path := filepath.Join(f.TempDir(), "x.mbox")
	f.Add([]byte("Subject: a\r\n\r\nbody\r\n"), []byte("From me\r\n\r\nFrom you\r\n>From x\r\n"), int64(1e9))
	f.Add([]byte(""), []byte("\r\n\r\n"), int64(0))
	f.Add([]byte("x\r\r\n"), []byte("y\r"), int64(253402300799))
	f.Add([]byte("a\nb"), []byte("Status: RO\r\nX-Status: AF\r\n\r\nz\r\n\r\nFrom \r\n"), int64(-1))
	f.Add([]byte(strings.Repeat("x", 40000)+"\r\n"), []byte(strings.Repeat("y", 32767)+"\r\n"+strings.Repeat("z", 32766)+"\r\r\n"), int64(5))
	f.Fuzz(func(t *testing.T, a, b []byte, unix int64) {
		if unix < 0 || unix > 253402300799 {
			unix = 0
		}
		d := time.Unix(unix, 0)
		got := mboxRoundTripFile(t, path, false, [][]byte{a, b}, []time.Time{d, d})
		if len(got) != 2 {
			t.Fatalf("exported 2 messages (%q, %q), imported %d", a, b, len(got))
		}
		for i, m := range [][]byte{a, b} {
			if err := got[i].measure(); err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(got[i].open())
			if err != nil {
				t.Fatal(err)
			}
			if want := canonMbox(m); !bytes.Equal(back, want) {
				t.Fatalf("message %d: exported %q, imported %q; want %q", i, m, back, want)
			}
			if got[i].size != int64(len(back)) {
				t.Fatalf("message %d: size %d, read %d", i, got[i].size, len(back))
			}
			if !got[i].date.Equal(d) {
				t.Fatalf("message %d: date %v, imported %v", i, d, got[i].date)
			}
		}
	})
}

// FuzzReadSet: a set read from stdin ("-", tokens separated by white
// space or commas) is the set its tokens joined by commas parse to; and a
// uidQueue of the set hands out exactly its numbers above the bound, in
// ascending order, whatever the batch sizes.
func FuzzReadSet(f *testing.F) {
	f.Add("1:5,7\n9:*\n", uint32(0), byte(3))
	f.Add("4294967295 1 2,3\t\r\n", uint32(2), byte(1))
	f.Add("", uint32(0), byte(0))
	f.Add("5:1,,,", uint32(4294967295), byte(200))
	f.Fuzz(func(t *testing.T, in string, after uint32, batch byte) {
		o := &output{stdin: strings.NewReader(in)}
		s, err := o.readSet(context.Background(), "-", false)
		toks := strings.FieldsFunc(in, func(r rune) bool { return strings.ContainsRune(", \t\n\r", r) })
		var rs []wire.SeqRange
		bad := false
		for _, tk := range toks {
			n, err := codec.ParseSeqSet([]byte(tk))
			if err != nil || n.IsEmpty() {
				bad = true
				break
			}
			rs = append(rs, n.Ranges()...)
		}
		want := codec.SeqSetOf(rs...)
		if bad != (err != nil) {
			t.Fatalf("readSet(%q) = %v, %v; tokens %q bad %v", in, s, err, toks, bad)
		}
		if err != nil {
			return
		}
		if !s.Nums.Equal(want) && !(s.Nums.IsEmpty() && want.IsEmpty()) {
			t.Fatalf("readSet(%q) = %v; want %v", in, s.Nums.String(), want.String())
		}
		// uidQueue over the canonical, static part of the set.
		var u codec.SeqSet
		for _, r := range s.Nums.Ranges() {
			if r.Start != 0 && r.Stop != 0 {
				u.AddRange(r.Start, r.Stop)
			}
		}
		u.Compact()
		if n, ok := u.Len(); !ok || n > 20000 {
			return
		}
		var wantUIDs []uint32
		for v := range u.All {
			if v > after {
				wantUIDs = append(wantUIDs, v)
			}
		}
		slices.Sort(wantUIDs)
		wantUIDs = slices.Compact(wantUIDs)
		q := newUIDQueue(u, after)
		if q.len() != len(wantUIDs) {
			t.Fatalf("queue of %v after %d: len %d; want %d", u.String(), after, q.len(), len(wantUIDs))
		}
		var gotUIDs []uint32
		step := int(batch%7) + 1
		for q.len() > 0 {
			b := q.take(step)
			if len(b) == 0 {
				t.Fatalf("take(%d) empty with len %d", step, q.len())
			}
			if batch&0x80 != 0 && len(b) > 1 {
				// put the last one back: it is handed out next
				q.unshift(b[len(b)-1:])
				b = b[:len(b)-1]
			}
			gotUIDs = append(gotUIDs, b...)
		}
		if !slices.Equal(gotUIDs, wantUIDs) {
			t.Fatalf("queue of %v after %d gave %v; want %v", u.String(), after, gotUIDs, wantUIDs)
		}
	})
}

// FuzzTraceEscape: a server line as the session's trace writes it
// ("S: " and internal/printable's Escape), read back by imapkit decode's
// traceStream, gives the line's bytes and its CRLF, when the line holds no
// literal header (which the trace summarises).
func FuzzTraceEscape(f *testing.F) {
	f.Add([]byte("* OK \\x41 \x1b[2J \\xzz \xff\xfe \u202e end\\"))
	f.Add([]byte("* 1 FETCH (FLAGS (\\Seen \\xff))"))
	f.Add([]byte("\\\\x\\x5c"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.ContainsAny(line, "\r\n{") {
			return
		}
		trace := "C: A1 NOOP\nS: " + esc.Escape(line) + "\n"
		got, err := io.ReadAll(newTraceStream(strings.NewReader(trace)))
		if err != nil {
			t.Fatal(err)
		}
		if want := append(bytes.Clone(line), '\r', '\n'); !bytes.Equal(got, want) {
			t.Fatalf("line %q traced as %q, read back %q", line, esc.Escape(line), got)
		}
	})
}

// fuzzNamespaces are real servers' personal namespaces: Cyrus without
// altnamespace, Dovecot with "/" or ".", Cyrus with altnamespace.
var fuzzNamespaces = []struct{ prefix, delim string }{{"INBOX.", "."}, {"", "/"}, {"", "."}, {"INBOX/", "/"}}

// FuzzMapNameDistinct: copy never merges two different source mailboxes
// of the personal namespace into one destination mailbox, silently: when
// its name mapping (mapName) sends them to one name, or a source mailbox
// but INBOX to the destination's INBOX (any case: INBOX is
// case-insensitive), copy fails them (destClashes), and it fails no other.
func FuzzMapNameDistinct(f *testing.F) {
	f.Add("INBOX.Inbox", "INBOX", byte(0x01))
	f.Add("a/b", "a_b", byte(0x20))
	f.Add("Sent", "Archive/2024", byte(0x10))
	f.Fuzz(func(t *testing.T, a, b string, cfg byte) {
		src, dst := fuzzNamespaces[cfg&3], fuzzNamespaces[cfg>>4&3]
		inbox := func(s string) bool { return strings.EqualFold(s, "INBOX") }
		ok := func(s string) bool {
			// A name of the source's personal namespace, as the source
			// lists it: under its prefix (or INBOX), no empty level.
			if inbox(s) {
				return true
			}
			if !strings.HasPrefix(s, src.prefix) || len(s) == len(src.prefix) {
				return false
			}
			for _, l := range strings.Split(strings.TrimPrefix(s, src.prefix), src.delim) {
				if l == "" {
					return false
				}
			}
			return !strings.ContainsAny(s, "\x00\r\n*%")
		}
		if a == b || !ok(a) || !ok(b) || inbox(a) && inbox(b) {
			return
		}
		ma := mapName(a, src.prefix, src.delim, dst.prefix, dst.delim)
		mb := mapName(b, src.prefix, src.delim, dst.prefix, dst.delim)
		// Adjusted: mapName can send two names to one (the fix does not
		// change the mapping); copy must then fail them (destClashes).
		m := &nameMapper{srcPrefix: src.prefix, srcDelim: src.delim, dstPrefix: dst.prefix, dstDelim: dst.delim}
		c := m.destClashes([]string{a, b}, nil)
		merged := ma == mb || inbox(ma) && inbox(mb)
		for _, x := range []struct{ name, to string }{{a, ma}, {b, mb}} {
			fail := merged || inbox(x.to) && !inbox(x.name)
			if fail != (c[x.name] != nil) {
				t.Fatalf("source %q and %q (%q %q) go to %q / %q (%q %q); copy fails %q: %v, want %v (%v)", a, b, src.prefix, src.delim, ma, mb, dst.prefix, dst.delim, x.name, c[x.name] != nil, fail, c[x.name])
			}
		}
	})
}
