package commands

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// copyShapes are FETCH responses with the shapes the corpus lacks: more
// flags than a Message holds inline and flags that are not interned,
// EMAILID, THREADID and PREVIEW, NIL and empty strings side by side, empty
// and NIL address lists, groups, a source route, and a BODYSTRUCTURE with
// a message/rfc822 part (its envelope and nested multipart), languages, a
// location, MD5 and extension data.
const copyShapes = "* 1 FETCH (UID 7 FLAGS (\\Seen $Label1 Work \\Flagged Later $Todo) EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9) PREVIEW \"Hello, the preview\" " +
	"ENVELOPE (NIL \"\" ((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) NIL () ((\"A B\" \"@route\" \"a\" \"h.example\")) NIL NIL \"\" NIL) " +
	"BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") \"<id@x>\" \"desc\" \"7bit\" 10 1 \"md5sum\" (\"inline\" NIL) (\"en\" \"de\") \"http://loc\")" +
	"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 500 (NIL \"inner\" ((\"I\" NIL \"i\" \"h\")) NIL NIL NIL NIL NIL NIL \"<inner@h>\") " +
	"((\"text\" \"plain\" NIL NIL NIL \"8bit\" 5 1)(\"text\" \"html\" NIL NIL NIL \"8bit\" 7 1) \"alternative\") 20 NIL (\"attachment\" (\"filename\" \"x.eml\")) \"fr\" NIL 42 (1 2)) " +
	"\"mixed\" (\"boundary\" \"b\") NIL NIL NIL))\r\n" +
	"* 2 FETCH (UID 8 FLAGS () THREADID NIL PREVIEW NIL ENVELOPE NIL BODYSTRUCTURE (\"text\" \"plain\" () NIL NIL \"7bit\" 0 0))\r\n" +
	"* 3 FETCH (FLAGS (\\Deleted) UID 9 ENVELOPE (\"d\" \"s\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n" +
	// The values after a body section: with a small string limit the
	// section is streamed and they are copied once it is done.
	// An attribute the codec does not know and a BINARY.SIZE on either
	// side of it: the complete response holds them all again.
	"* 4 FETCH (X-FOO (a \"b\") BINARY.SIZE[1] 3 BODY[HEADER] {12}\r\nSubject: x\r\n X-BAR 5 BINARY.SIZE[2] 4 FLAGS (\\Seen Custom) ENVELOPE (\"d\" \"s\" ((\"N\" NIL \"m\" \"h\")) NIL NIL NIL NIL NIL NIL NIL) " +
	"BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 3 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 4 1) \"alternative\") UID 10)\r\n" +
	// A larger shape: seven addresses (Sender and Reply-To as From), and
	// a multipart/mixed holding a multipart/alternative and an attachment.
	"* 5 FETCH (UID 11 ENVELOPE (\"d\" \"s\" ((\"F\" NIL \"f\" \"h\")) ((\"F\" NIL \"f\" \"h\")) ((\"F\" NIL \"f\" \"h\")) " +
	"((NIL NIL \"t1\" \"h\")(NIL NIL \"t2\" \"h\")(NIL NIL \"t3\" \"h\")(NIL NIL \"t4\" \"h\")) ((NIL NIL \"c1\" \"h\")(NIL NIL \"c2\" \"h\")) NIL NIL \"<m@h>\") " +
	"BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 3 1)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 4 1) \"alternative\" (\"boundary\" \"a\"))" +
	"(\"application\" \"pdf\" (\"name\" \"x.pdf\") NIL NIL \"base64\" 10 NIL (\"attachment\" (\"filename\" \"x.pdf\")) NIL NIL) \"mixed\" (\"boundary\" \"m\") NIL NIL NIL))\r\n" +
	// A Sender that differs from From only by "" for NIL, a Reply-To equal
	// to it.
	"* 6 FETCH (UID 12 ENVELOPE (NIL NIL ((NIL NIL \"a\" \"h\")) ((\"\" NIL \"a\" \"h\")) ((NIL NIL \"a\" \"h\")) NIL NIL NIL NIL NIL))\r\n" +
	// Gmail's attributes and SAVEDATE (Message.Extra): labels (more than
	// it holds inline, one a literal) and a date before a body section,
	// sent again after it with other values (the last ones count).
	"* 7 FETCH (UID 13 X-GM-LABELS (\\Inbox \"[Gmail]/Sent Mail\" Work {2}\r\nab $Later Todo) X-GM-MSGID 1278455344230334865 " +
	"SAVEDATE \"10-Jul-2026 06:02:11 +0000\" BODY[HEADER] {12}\r\nSubject: x\r\n X-GM-THRID 1266894439832287888 SAVEDATE NIL X-GM-LABELS (\\Important Work))\r\n" +
	"* 8 FETCH (UID 14 X-GM-LABELS () SAVEDATE \"11-Jul-2026 07:00:00 +0200\")\r\n"

// decodeFetches decodes a stream of FETCH responses and returns deep
// copies made by the codec (codec.CloneResponse): the expected values.
func decodeFetches(t testing.TB, stream []byte) []*codec.Fetch {
	t.Helper()
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(stream), nil), nil)
	var out []*codec.Fetch
	for {
		r, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		f, ok := r.(*codec.Fetch)
		if !ok {
			t.Fatalf("%T", r)
		}
		out = append(out, codec.CloneResponse(f).(*codec.Fetch))
	}
}

// fetchServer opens a Client (with the session options opts) on INBOX of a server that answers every
// command but SELECT with stream and a tagged
// OK, over transport.Pipe.
func fetchServer(t *testing.T, stream []byte, opts *session.Options) *Client {
	t.Helper()
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(rest, "SELECT") {
				server.Write([]byte("* 303 EXISTS\r\n" + tag + " OK [READ-WRITE] done\r\n"))
				continue
			}
			server.Write(stream)
			server.Write([]byte(tag + " OK done\r\n"))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	s, err := session.Open(ctx, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCopy compares m with the codec's copy of its response, and checks
// that the copied values are capped (appending to one cannot write into
// another).
func checkCopy(t *testing.T, m *Message, f *codec.Fetch) {
	t.Helper()
	checkValues(t, m, f)
	checkCapped(t, m, f)
}

// checkValues compares m with the codec's copy of its response.
func checkValues(t *testing.T, m *Message, f *codec.Fetch) {
	t.Helper()
	want := &Message{SeqNum: f.Seq, Items: f.Has, UID: f.UID, Size: f.RFC822Size, ModSeq: f.ModSeq,
		Envelope: f.Envelope, BodyStructure: f.BodyStructure,
		EmailID: string(f.EmailID), ThreadID: string(f.ThreadID), Preview: string(f.Preview),
		BinarySizes: f.BinarySizes, Unknown: f.Unknown}
	// The decoder may leave these empty rather than nil (its reused
	// response had some before): a Message has them nil then.
	if len(f.BinarySizes) == 0 {
		want.BinarySizes = nil
	}
	if len(f.Unknown) == 0 {
		want.Unknown = nil
	}
	if f.Has&codec.FetchFlags != 0 {
		want.Flags = []string{}
		for _, fl := range f.Flags {
			want.Flags = append(want.Flags, string(fl))
		}
	}
	if f.Has&codec.FetchInternalDate != 0 {
		want.InternalDate, _ = codec.ParseInternalDate(f.InternalDate)
	}
	if f.Has&extraItems != 0 {
		want.Extra = &MessageExtra{GmailMsgID: f.GmailMsgID, GmailThreadID: f.GmailThreadID}
		if f.Has&codec.FetchSaveDate != 0 {
			want.Extra.SaveDate, _ = codec.ParseInternalDate(f.SaveDate)
		}
		if f.Has&codec.FetchGmailLabels != 0 {
			want.Extra.GmailLabels = []string{}
			for _, l := range f.GmailLabels {
				want.Extra.GmailLabels = append(want.Extra.GmailLabels, string(l))
			}
		}
	}
	if d := diffAttrs(attrView(want), attrView(m)); d != "" {
		t.Fatalf("message %d (-want +got):\n%s", f.Seq, d)
	}
}

// diffAttrs is cmp.Diff(want, got), "" when they are equal. Equal values
// are told by reflect.DeepEqual first, which compares byte slices at once
// (nil and empty apart, as cmp does) where cmp walks them a byte at a
// time by reflection: cmp.Diff over every message of the corpus was most
// of TestFetchBorrow's and TestFetchCopiesValues' CPU under -race. Values
// DeepEqual finds unequal go to cmp.Diff, which judges (it takes
// time.Time's Equal, where DeepEqual compares the fields) and says how.
func diffAttrs(want, got attrs) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return cmp.Diff(want, got)
}

// attrs are the attributes of a Message, for cmp.
type attrs struct {
	SeqNum, UID            uint32
	Items                  codec.FetchItem
	Flags                  []string
	InternalDate           time.Time
	Size                   int64
	Envelope               *codec.Envelope
	BodyStructure          *codec.BodyStructure
	ModSeq                 uint64
	EmailID, ThreadID, Pre string
	BinarySizes            []codec.BinarySize
	Extra                  *MessageExtra
	Unknown                []codec.FetchAttr
}

func attrView(m *Message) attrs {
	return attrs{m.SeqNum, m.UID, m.Items, m.Flags, m.InternalDate, m.Size, m.Envelope, m.BodyStructure,
		m.ModSeq, m.EmailID, m.ThreadID, m.Preview, m.BinarySizes, m.Extra, m.Unknown}
}

// checkCapped checks that the values of m (a copy) are capped.
func checkCapped(t *testing.T, m *Message, f *codec.Fetch) {
	t.Helper()
	capped := func(what string, b codec.Bytes) {
		if cap(b) != len(b) {
			t.Fatalf("message %d: %s has len %d, cap %d", f.Seq, what, len(b), cap(b))
		}
	}
	var body func(b *codec.BodyStructure)
	envelope := func(e *codec.Envelope) {
		capped("Date", e.Date)
		capped("Subject", e.Subject)
		capped("MessageID", e.MessageID)
		for _, l := range [][]codec.Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
			if cap(l) != len(l) {
				t.Fatalf("message %d: an address list has len %d, cap %d", f.Seq, len(l), cap(l))
			}
			for _, a := range l {
				capped("Name", a.Name)
				capped("Mailbox", a.Mailbox)
				capped("Host", a.Host)
			}
		}
	}
	body = func(b *codec.BodyStructure) {
		capped("Type", b.Type)
		capped("Subtype", b.Subtype)
		capped("Extension", b.Extension)
		if cap(b.Params) != len(b.Params) || cap(b.Children) != len(b.Children) {
			t.Fatalf("message %d: a body list is not capped", f.Seq)
		}
		for _, p := range b.Params {
			capped("Param.Value", p.Value)
		}
		if b.Envelope != nil {
			envelope(b.Envelope)
		}
		for _, c := range b.Children {
			body(c)
		}
		if b.Body != nil {
			body(b.Body)
		}
	}
	if m.Envelope != nil {
		envelope(m.Envelope)
	}
	if m.BodyStructure != nil {
		body(m.BodyStructure)
	}
}

// auditCopies counts the copies made into a Message until the test ends,
// and those whose arenas were not used up exactly (or that allocated on
// the side).
func auditCopies(t *testing.T) (audits, short *int) {
	audits, short = new(int), new(int)
	copyAudit = func(c copier, extra int) {
		*audits++
		if len(c.buf) != extra || len(c.addrs)+len(c.params)+len(c.nodes)+len(c.kids)+len(c.strs)+len(c.envs) != 0 || c.short {
			*short++
		}
	}
	t.Cleanup(func() { copyAudit = nil })
	return audits, short
}

// TestFetchCopiesValues: Fetch's messages hold the values of their FETCH
// responses, equal to the codec's own deep copies (nil and empty kept
// apart), still after the iteration has moved on and the decoder has
// reused its memory; every copied value is capped; and the copy's arenas
// were sized exactly (nothing allocated on the side, nothing left over).
// With a string limit of 2 bytes every body section is streamed, and the
// values that follow one are copied once it is done.
func TestFetchCopiesValues(t *testing.T) {
	t.Run("inline", func(t *testing.T) { testFetchCopiesValues(t, nil) })
	t.Run("streamed", func(t *testing.T) {
		testFetchCopiesValues(t, &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 2}})
	})
}

func testFetchCopiesValues(t *testing.T, opts *session.Options) {
	stream := append(corpus.FetchMetadata(300), copyShapes...)
	want := decodeFetches(t, stream)
	audits, short := auditCopies(t)
	c := fetchServer(t, stream, opts)
	ctx := context.Background()
	var got []*Message
	for m, err := range c.Fetch(ctx, SeqRange(1, 0), &FetchItems{UID: true}) {
		if err != nil {
			t.Fatal(err)
		}
		sec, err := m.NextSection() // the header section, kept in the arena
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if sec != nil {
			if b, err := io.ReadAll(sec); err != nil || len(b) == 0 {
				t.Fatalf("section: %q %v", b, err)
			}
		}
		got = append(got, m)
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		checkCopy(t, m, want[i])
	}
	// A message whose section is streamed is copied in two parts.
	if *audits < len(want) || *short != 0 {
		t.Fatalf("%d copies audited, %d with arenas not used up exactly", *audits, *short)
	}
	// The collected path (STORE's answer) copies the same way.
	for _, f := range decodeFetches(t, []byte(copyShapes)) {
		checkCopy(t, newMessage(f), f)
	}
}

// TestFetchBorrow: under FetchItems.Borrow, the one Message lent for
// every message holds the values of its FETCH response (equal to the
// codec's own deep copies, and to the messages FetchAll copies, which
// ignores Borrow) while the loop body is on it, and its sections read the
// bodies in place; Clone's copies stay equal after the iteration has
// moved on and the decoder has reused its memory, capped, their arenas
// sized exactly. With a string limit of 2 bytes every body section is
// streamed, and the values that follow one are taken once it is done.
func TestFetchBorrow(t *testing.T) {
	t.Run("inline", func(t *testing.T) { testFetchBorrow(t, nil) })
	t.Run("streamed", func(t *testing.T) {
		testFetchBorrow(t, &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 2}})
	})
}

func testFetchBorrow(t *testing.T, opts *session.Options) {
	stream := append(corpus.FetchMetadata(300), copyShapes...)
	want := decodeFetches(t, stream)
	audits, short := auditCopies(t)
	c := fetchServer(t, stream, opts)
	ctx := context.Background()
	items := &FetchItems{UID: true, Borrow: true}
	owned, err := c.FetchAll(ctx, SeqRange(1, 0), items)
	if err != nil {
		t.Fatal(err)
	}
	if len(owned) != len(want) || owned[0] == owned[1] {
		t.Fatalf("FetchAll: %d messages, want %d copies", len(owned), len(want))
	}
	*audits = 0
	var clones []*Message
	var lent *Message
	i := 0
	for m, err := range c.Fetch(ctx, SeqRange(1, 0), items) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("more than %d messages", len(want))
		}
		if lent == nil {
			lent = m
		} else if m != lent {
			t.Fatalf("message %d: a new Message, not the lent one", m.SeqNum)
		}
		f := want[i]
		for j := range f.Sections {
			sec, err := m.NextSection()
			if err != nil {
				t.Fatalf("message %d: section %d: %v", f.Seq, j, err)
			}
			if b, err := io.ReadAll(sec); err != nil || !bytes.Equal(b, f.Sections[j].Data) {
				t.Fatalf("message %d: section %q %v, want %q", f.Seq, b, err, f.Sections[j].Data)
			}
		}
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("message %d: after the sections: %v", f.Seq, err)
		}
		checkValues(t, m, f)
		checkValues(t, owned[i], f)
		clones = append(clones, m.Clone())
		i++
	}
	if i != len(want) {
		t.Fatalf("%d messages, want %d", i, len(want))
	}
	for i, m := range clones {
		checkCopy(t, m, want[i])
		if _, err := m.NextSection(); err != io.EOF {
			t.Fatalf("a copy's section: %v", err)
		}
	}
	if *audits != len(want) || *short != 0 {
		t.Fatalf("%d copies audited, %d with arenas not used up exactly", *audits, *short)
	}
	// A copy's copy.
	for i := len(clones) - 4; i < len(clones); i++ {
		checkCopy(t, clones[i].Clone(), want[i])
	}
}

// TestFlagCacheBounded: the keywords of an iteration are cached up to
// flagCacheMax of up to flagCacheLen bytes; the others are not.
func TestFlagCacheBounded(t *testing.T) {
	var fc flagCache
	for i := range 2 * flagCacheMax {
		b := []byte("$Kw" + strings.Repeat("x", i))
		s, ok := fc.get(b)
		if ok != (i < flagCacheMax && len(b) <= flagCacheLen) || ok && s != string(b) {
			t.Fatalf("flag %d (%d bytes): %q %v", i, len(b), s, ok)
		}
	}
	if len(fc) > flagCacheMax {
		t.Fatalf("%d flags cached", len(fc))
	}
	if s, ok := fc.get([]byte("$Kw")); !ok || s != "$Kw" {
		t.Fatalf("cached flag: %q %v", s, ok)
	}
	var nilCache *flagCache
	if _, ok := nilCache.get([]byte("$Kw")); ok {
		t.Fatal("a nil cache cached")
	}
}

// BenchmarkCopyFetchMetadata copies the values of decoded FETCH responses
// of the metadata corpus into Messages, as Fetch's iterator does for each
// message (without the header section): the cost of the copy alone.
// Compare with codec's BenchmarkCloneFetchMetadata.
func BenchmarkCopyFetchMetadata(b *testing.B) {
	const n = 1000
	fs := decodeFetches(b, corpus.FetchMetadata(n))
	if len(fs) != n {
		b.Fatalf("%d responses", len(fs))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if m := newMessage(fs[i%n]); m.BodyStructure == nil {
			b.Fatal("no body structure")
		}
	}
}

// BenchmarkCopyMessage copies the values of messages of the metadata
// stream as Fetch does without Borrow, alone: what the owned path costs
// per message (ns/msg), and what it allocates (B/op, allocs/op: one
// message each). The 64 messages copied over and over are decoded once,
// up front, so that they stay in the cache as the decoder's values of the
// message at hand do in Fetch. The live heap is small here, so the
// collector runs often and most of the time is the runtime's (allocating,
// collecting, returning memory): the cost grows with B/op (1 KB more per
// message took about 30 % more time, 2 December 2026).
func BenchmarkCopyMessage(b *testing.B) {
	fs := decodeFetches(b, corpus.FetchMetadata(64))
	fi := &fetchIter{bufferMax: BufferedSectionMax}
	var keep *Message
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		keep = fi.message(session.Item{}, fs[i%len(fs)])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
	if keep.Envelope == nil {
		b.Fatal("no envelope")
	}
}

// TestMessageMemory: a copied message takes only the memory it needs. One
// with nothing but scalars and flags (a flag resynchronisation) is one
// allocation of at most 352 bytes (it was 768 while every Message held
// room for an Envelope and a Section); one with a body section but no
// envelope or body structure gets its Section in the same allocation and
// the section's bytes in a second (at most 520 bytes in all; 776 before);
// one with an envelope alone takes a slab without room for a body
// structure or a Section (at most 1,600 bytes with its bytes; 2,448
// before); a single-part body structure without sections takes a slab
// without a Section (at most 2,112 bytes with its bytes; 2,338 before);
// the metadata corpus's messages take two allocations each.
func TestMessageMemory(t *testing.T) {
	perMessage := func(f *codec.Fetch) (allocs, bytes float64) {
		fi := &fetchIter{bufferMax: BufferedSectionMax}
		var keep *Message
		allocs = testing.AllocsPerRun(100, func() { keep = fi.message(session.Item{}, f) })
		// TotalAlloc counts what every goroutine of the test binary
		// allocates (one left by another test, the race detector's):
		// the least of five runs is the messages' own.
		const n = 1000
		bytes = math.Inf(1)
		for range 5 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t0 := ms.TotalAlloc
			for i := 0; i < n; i++ {
				keep = fi.message(session.Item{}, f)
			}
			runtime.ReadMemStats(&ms)
			bytes = min(bytes, float64(ms.TotalAlloc-t0)/n)
		}
		if keep == nil {
			t.Fatal("no message")
		}
		return allocs, bytes
	}
	fs := decodeFetches(t, []byte("* 1 FETCH (UID 7 FLAGS (\\Seen $Forwarded) MODSEQ (12))\r\n"+
		"* 2 FETCH (UID 8 BODY[HEADER.FIELDS (X-A)] {8}\r\nX-A: 1\r\n)\r\n"))
	if a, b := perMessage(fs[0]); a != 1 || b > 352 {
		t.Errorf("flags only: %v allocations, %.0f bytes per message; want 1, <= 352", a, b)
	}
	if a, b := perMessage(fs[1]); a != 2 || b > 520+raceSlack {
		t.Errorf("a section only: %v allocations, %.0f bytes per message; want 2, <= %d", a, b, 520+raceSlack)
	}
	env := decodeFetches(t, []byte("* 3 FETCH (UID 9 ENVELOPE (\"Wed, 2 Jul 2026 01:01:07 +0200\" \"Re: a subject\" "+
		"((\"Mark Crispin\" NIL \"mrc\" \"panda.com\")) ((\"Mark Crispin\" NIL \"mrc\" \"panda.com\")) "+
		"((\"Mark Crispin\" NIL \"mrc\" \"panda.com\")) ((NIL NIL \"imap\" \"ietf.org\")) NIL NIL NIL \"<1.31@panda.com>\"))\r\n"))
	if a, b := perMessage(env[0]); a != 2 || b > 1600 {
		t.Errorf("an envelope only: %v allocations, %.0f bytes per message; want 2, <= 1600", a, b)
	}
	// A single-part body structure: the slab has a Section only when the
	// message has sections.
	one := decodeFetches(t, []byte("* 4 FETCH (UID 10 BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 501 11 NIL NIL NIL NIL))\r\n"+
		"* 5 FETCH (UID 11 BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 501 11 NIL NIL NIL NIL) BODY[HEADER.FIELDS (X-A)] {8}\r\nX-A: 1\r\n)\r\n"))
	if a, b := perMessage(one[0]); a != 2 || b > 2112 {
		t.Errorf("a body structure only: %v allocations, %.0f bytes per message; want 2, <= 2112", a, b)
	}
	if a, b := perMessage(one[1]); a != 2 || b < 2304 {
		t.Errorf("a body structure and a section: %v allocations, %.0f bytes per message; want 2, >= 2304 (a Section)", a, b)
	}
	for i, f := range decodeFetches(t, corpus.FetchMetadata(20)) {
		if a, _ := perMessage(f); a != 2 {
			t.Errorf("metadata message %d: %v allocations, want 2", i+1, a)
		}
	}
}

// TestFetchStreamedResentAttribute: an attribute a server sends twice in
// one FETCH response, before and after a body section, ends with its
// second value, whether the section came whole or was streamed (the
// message handed out at the section's start, its values completed after
// it), owned or borrowed: as the codec keeps it. Found by FuzzFetchCopy
// (testdata/fuzz/FuzzFetchCopy/c6ee9e71a3e57276, with BODY twice): the
// streamed message kept the first value.
func TestFetchStreamedResentAttribute(t *testing.T) {
	stream := []byte("* 1 FETCH (UID 5 FLAGS (\\Seen) BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1) BODY[] {10}\r\n0123456789" +
		" FLAGS (\\Seen \\Flagged) BODY (\"text\" \"html\" NIL NIL NIL \"7bit\" 4 1) UID 6)\r\n")
	want := decodeFetches(t, stream)
	if len(want) != 1 || want[0].UID != 6 || len(want[0].Flags) != 2 || string(want[0].BodyStructure.Subtype) != "html" {
		t.Fatalf("the codec keeps %+v", want)
	}
	for _, streamed := range []bool{false, true} {
		var opts *session.Options
		if streamed {
			opts = &session.Options{Tokenizer: &wire.TokenizerOptions{MaxStringLiteral: 2}}
		}
		c := fetchServer(t, stream, opts)
		for _, borrow := range []bool{false, true} {
			n := 0
			for m, err := range c.Fetch(context.Background(), SeqRange(1, 0), &FetchItems{UID: true, Borrow: borrow}) {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := m.NextSection(); err != nil {
					t.Fatal(err)
				}
				if _, err := m.NextSection(); err != io.EOF {
					t.Fatalf("after the section: %v", err)
				}
				if borrow {
					m = m.Clone()
				}
				checkValues(t, m, want[0])
				n++
			}
			if n != 1 {
				t.Fatalf("streamed %v, borrow %v: %d messages", streamed, borrow, n)
			}
		}
	}
}

// BenchmarkCopyMessageInPlace is BenchmarkCopyMessage with the memory of
// the copy reused: each message is copied into one slab and byte arena,
// cleared before each copy, so that the memory stays in the cache and
// nothing is allocated. Compared with BenchmarkCopyMessage it splits the
// owned path's cost between the copy itself (this) and allocating,
// zeroing and collecting fresh memory for every message (the rest). Not
// a way to copy: a message copied here is overwritten by the next one.
func BenchmarkCopyMessageInPlace(b *testing.B) {
	fs := decodeFetches(b, corpus.FetchMetadata(64))
	fi := &fetchIter{bufferMax: BufferedSectionMax}
	s1, s3 := new(messageSlab1[Section]), new(messageSlab3)
	buf := make([]byte, 4096)
	var keep *Message
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := fs[i%len(fs)]
		extra := keptBytes(f, fi.bufferMax)
		n := valueCounts(f, f.Has, extra)
		var c copier
		var m *Message
		switch {
		case n.envs == 1 && n.addrs <= 8 && n.nodes <= 1 && n.params <= 4 && n.kids == 0 && n.strs == 0:
			*s1 = messageSlab1[Section]{}
			m = &s1.m
			m.sec0 = &s1.sec
			c.envs, c.addrs, c.params, c.nodes = s1.env[:n.envs], s1.addrs[:n.addrs], s1.params[:n.params], s1.nodes[:n.nodes]
		case n.envs == 1 && n.addrs <= 8 && n.nodes <= 3 && n.params <= 8 && n.kids <= 2 && n.strs == 0:
			*s3 = messageSlab3{}
			m = &s3.m
			m.sec0 = &s3.sec
			c.envs, c.addrs, c.params, c.nodes, c.kids = s3.env[:n.envs], s3.addrs[:n.addrs], s3.params[:n.params], s3.nodes[:n.nodes], s3.kids[:n.kids]
		default:
			b.Fatalf("message %d fits no slab: %+v", i%len(fs), n)
		}
		clear(buf[:n.bytes])
		m.a.free = buf[:n.bytes:n.bytes]
		c.buf = m.a.free
		m.SeqNum, m.it, m.f = f.Seq, fi, f
		m.copyValues(f, f.Has, &c, extra)
		keep = m
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
	if keep.Envelope == nil {
		b.Fatal("no envelope")
	}
}
