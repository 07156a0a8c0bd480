package codec_test

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/wire"
)

// exactOpts compare two responses field by field, nil and empty slices
// apart, SeqSets by their ranges in order.
var exactOpts = []cmp.Option{cmp.AllowUnexported(codec.SeqSet{})}

// cloneLines holds at least one response of every type and one response
// code of every kind, with lists empty and NIL where the grammar allows.
var cloneLines = func() string {
	lines := []string{
		"* OK [ALERT] look\r\n",
		"A1 OK\r\n",
		"* OK [BADCHARSET (UTF-8 \"X Y\")] no\r\n",
		"* OK [BADCHARSET] no\r\n",
		"* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n",
		"* OK [PERMANENTFLAGS (\\Seen \\*)] ok\r\n",
		"* OK [PERMANENTFLAGS ()] ok\r\n",
		"* OK [UIDNEXT 4392] x\r\n",
		"* OK [UIDVALIDITY 3857529045] x\r\n",
		"* OK [UNSEEN 12] x\r\n",
		"A2 OK [APPENDUID 38505 3955] done\r\n",
		"A3 OK [COPYUID 38505 304,319:320 3956:3958] done\r\n",
		"* OK [HIGHESTMODSEQ 715194045007] x\r\n",
		"A4 OK [MODIFIED 7,9] x\r\n",
		"A5 NO [METADATA LONGENTRIES 2000] x\r\n",
		"A6 NO [METADATA TOOMANY] x\r\n",
		"* OK [MAILBOXID (F2212ea87)] x\r\n",
		"* OK [XFOO a (b c)] other\r\n",
		"* OK [XBAR] other\r\n",
		"* [COPYUID 55 31 6] bare\r\n",
		"* BYE [UNAVAILABLE] bye\r\n",
		"* PREAUTH hi\r\n",
		"+ \r\n",
		"+ YmFzZTY0\r\n",
		"* CAPABILITY IMAP4rev1 IDLE\r\n",
		"* ENABLED UTF8=ACCEPT\r\n",
		"* FLAGS (\\Answered \\Seen $Junk)\r\n",
		"* FLAGS ()\r\n",
		"* 23 EXISTS\r\n",
		"* 1 RECENT\r\n",
		"* 3 EXPUNGE\r\n",
		"* 1 FETCH (UID 5 FLAGS () X-GM-LABELS (\\Inbox \"a b\") EMAILID (M1) THREADID NIL SAVEDATE NIL PREVIEW \"\" X-GM-MSGID 1 X-GM-THRID 2 BINARY.SIZE[1.2] 3 X-FOO (a \"b\") BODY[1.2.HEADER.FIELDS (FROM TO)]<5> {3}\r\nabc BODY[TEXT] NIL BINARY[2] ~{3}\r\na\x00b RFC822.TEXT \"\")\r\n",
		"* 2 FETCH (BODY (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 (NIL \"s\" ((NIL NIL \"g\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL) ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 1 1) \"alternative\") 3))\r\n",
		"* 3 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") \"<id>\" \"desc\" \"base64\" 4 1 \"md5\" (\"inline\" (\"filename\" \"a\")) (\"en\" \"de\") \"loc\" 7 (x y)))\r\n",
		"* 4 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL \"en\" NIL))\r\n",
		"* 5 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
		"* LIST (\\HasNoChildren) \"/\" INBOX\r\n",
		"* LIST () NIL \"\"\r\n",
		"* LIST (\\Subscribed) \"/\" \"a\" (CHILDINFO (\"SUBSCRIBED\") OLDNAME (\"b\") X-EXT (1 2))\r\n",
		"* LSUB () \".\" foo\r\n",
		"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 MAILBOXID (F1) X-Y 1)\r\n",
		"* STATUS x ()\r\n",
		"* SEARCH 2 3 6\r\n",
		"* SEARCH\r\n",
		"* SEARCH 1 (MODSEQ 9)\r\n",
		"* ESEARCH (TAG \"A1\") UID MIN 2 MAX 9 COUNT 3 ALL 2,5:7 MODSEQ 4 PARTIAL (1:10 1,3)\r\n",
		"* ESEARCH\r\n",
		"* SORT 2 3 6\r\n",
		"* SORT\r\n",
		"* THREAD (2)(3 6 (4 23)(44 7 96))((1)(5))\r\n",
		"* THREAD\r\n",
		"* NAMESPACE ((\"\" \"/\")) NIL ((\"Shared/\" \"/\" \"X-EXT\" (\"a\")))\r\n",
		"* NAMESPACE NIL NIL NIL\r\n",
		"* QUOTA \"\" (STORAGE 10 512 MESSAGE 1 100)\r\n",
		"* QUOTA r ()\r\n",
		"* QUOTAROOT INBOX \"\" r2\r\n",
		"* QUOTAROOT INBOX\r\n",
		"* ACL INBOX Fred rwipsldexta- \"a b\" lr\r\n",
		"* ACL INBOX\r\n",
		"* LISTRIGHTS ~/Mail/saved smith la r swicdkxte\r\n",
		"* LISTRIGHTS x y \"\"\r\n",
		"* MYRIGHTS INBOX rwiptsldaex\r\n",
		"* ANNOTATION INBOX /comment (value.priv \"a\" value.shared NIL)\r\n",
		"* METADATA INBOX (/private/comment \"My comment\" /shared/x NIL)\r\n",
		"* METADATA INBOX /shared/comment /private/comment\r\n",
		"* ID (\"name\" \"Dovecot\" \"x\" NIL)\r\n",
		"* ID NIL\r\n",
		"* VANISHED (EARLIER) 300:310,405,411\r\n",
		"* VANISHED 1\r\n",
		"* XFOO bar {3}\r\nabc baz\r\n",
		"* 5 XBAR\r\n",
		"A7 XBAZ\r\n",
	}
	// Every response code without data, by its canonical name.
	for k := codec.CodeAlert; k <= codec.CodeUnknownCTE; k++ {
		lines = append(lines, fmt.Sprintf("* NO [%s] code %d\r\n", k, k))
	}
	return strings.Join(lines, "")
}()

// clonePair is a response's clone and its reflection copy, both taken
// while the response still borrowed the decoder's buffer.
type clonePair struct {
	where       string
	clone, want codec.Response
}

// cloneStream decodes data with d and clones every response as it comes.
func cloneStream(t *testing.T, d *codec.Decoder, name string, data []byte, pairs []clonePair) []clonePair {
	t.Helper()
	d.Tokenizer().Reset(bytes.NewReader(data))
	for {
		off := d.Tokenizer().Offset()
		r, err := d.Next()
		if err == io.EOF {
			return pairs
		}
		if err != nil {
			if r == nil {
				continue // a capture's deliberately undecodable response
			}
		}
		where := fmt.Sprintf("%s at %d", name, off)
		c := codec.CloneResponse(r)
		if diff := cmp.Diff(r, c, exactOpts...); diff != "" {
			t.Fatalf("%s: the clone differs from the response (-response +clone):\n%s", where, diff)
		}
		pairs = append(pairs, clonePair{where, c, reflectClone(r)})
	}
}

// TestCloneIndependence: a clone equals the reflection copy (the oracle)
// taken at the same time, nil and empty apart, for responses of every type
// and codes of every kind, and it still does after the decoder has read
// other lines into its buffer: it borrows nothing.
func TestCloneIndependence(t *testing.T) {
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(nil), nil), nil)
	var pairs []clonePair
	pairs = cloneStream(t, d, "cloneLines", []byte(cloneLines), pairs)
	pairs = cloneStream(t, d, "FetchMetadata", corpus.FetchMetadata(200), pairs)
	stream, _ := corpus.BodyLiterals(5, 3000)
	pairs = cloneStream(t, d, "BodyLiterals", stream, pairs)
	pairs = cloneStream(t, d, "Search", corpus.Search(1000), pairs)
	for _, c := range loadCaptures(t) {
		pairs = cloneStream(t, d, c.name, c.data, pairs)
	}

	types := map[reflect.Type]bool{}
	codes := map[codec.CodeKind]bool{}
	for _, p := range pairs {
		types[reflect.TypeOf(p.clone)] = true
		if s, ok := p.clone.(*codec.Status); ok && s.Code != nil {
			codes[s.Code.Kind] = true
		}
	}
	for _, r := range allResponseTypes {
		if !types[reflect.TypeOf(r)] {
			t.Errorf("no %T was cloned", r)
		}
	}
	for k := codec.CodeOther; k <= codec.CodeUnknownCTE; k++ {
		if !codes[k] {
			t.Errorf("no code %v was cloned", k)
		}
	}

	// Overwrite the decoder's buffer with other lines, then compare.
	d.Tokenizer().Reset(bytes.NewReader(bytes.Repeat([]byte("* 1 FETCH (X-JUNK \""+strings.Repeat("#", 4000)+"\")\r\n"), 100)))
	for {
		if _, err := d.Next(); err != nil {
			break
		}
	}
	for _, p := range pairs {
		if diff := cmp.Diff(p.want, p.clone, exactOpts...); diff != "" {
			t.Fatalf("%s: the clone changed after more lines were read (-reflection copy +clone):\n%s", p.where, diff)
		}
	}
}

// allResponseTypes is the closed set of Response types.
var allResponseTypes = []codec.Response{
	&codec.Status{}, &codec.Continuation{}, &codec.Capability{}, &codec.Enabled{}, &codec.Flags{},
	&codec.Exists{}, &codec.Recent{}, &codec.Expunge{}, &codec.Fetch{}, &codec.List{},
	&codec.MailboxStatus{}, &codec.Search{}, &codec.ESearch{}, &codec.Sort{}, &codec.Thread{},
	&codec.Namespace{}, &codec.Quota{}, &codec.QuotaRoot{}, &codec.ACL{}, &codec.ListRights{},
	&codec.MyRights{}, &codec.Annotation{}, &codec.Metadata{}, &codec.ID{}, &codec.Vanished{},
	&codec.Unknown{},
}

// TestCloneZeroAndNil: CloneResponse(nil) is nil, a nil *T clones to a nil
// *T, and the zero value of every type clones to its zero value.
func TestCloneZeroAndNil(t *testing.T) {
	if codec.CloneResponse(nil) != nil {
		t.Error("CloneResponse(nil) != nil")
	}
	for _, r := range allResponseTypes {
		c := codec.CloneResponse(r)
		if diff := cmp.Diff(r, c, exactOpts...); diff != "" {
			t.Errorf("%T: the zero value's clone differs:\n%s", r, diff)
		}
		if reflect.ValueOf(c).Pointer() == reflect.ValueOf(r).Pointer() {
			t.Errorf("%T: the clone is the same value", r)
		}
		nilPtr := reflect.Zero(reflect.TypeOf(r))
		out := nilPtr.MethodByName("Clone").Call(nil)[0]
		if !out.IsNil() {
			t.Errorf("(%T)(nil).Clone() = %v; want nil", r, out)
		}
	}
	if (*codec.Code)(nil).Clone() != nil || (*codec.Envelope)(nil).Clone() != nil || (*codec.BodyStructure)(nil).Clone() != nil {
		t.Error("Clone of a nil Code, Envelope or BodyStructure is not nil")
	}
}

// TestCloneCapped: appending to a slice of a clone never writes into the
// slice next to it in the clone's arena.
func TestCloneCapped(t *testing.T) {
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(corpus.FetchMetadata(3)), nil), nil)
	for {
		r, err := d.Next()
		if err != nil {
			break
		}
		f, ok := r.(*codec.Fetch)
		if !ok || f.Envelope == nil || len(f.Envelope.From) == 0 {
			continue
		}
		c := f.Clone()
		want := c.Clone()
		_ = append(c.Envelope.Subject, "XXXXXXXX"...)
		_ = append(c.Envelope.From[0].Name, "XXXXXXXX"...)
		_ = append(c.Envelope.From, codec.Address{})
		_ = append(c.Flags, codec.Bytes("x"))
		if diff := cmp.Diff(want, c, exactOpts...); diff != "" {
			t.Fatalf("appending to a clone's slices changed it:\n%s", diff)
		}
		return
	}
	t.Fatal("no FETCH with an envelope in the corpus")
}

// TestCloneArenasExact: the sizes counted before a copy are exact, for
// every response of cloneLines, the captures and the corpus: no arena is
// left with unused room (and none falls short: see
// TestCloneFetchMetadataAllocs).
func TestCloneArenasExact(t *testing.T) {
	var where string
	stop := codec.AuditClones(func(left []string) {
		if len(left) > 0 {
			t.Errorf("%s: arenas left with room: %v", where, left)
		}
	})
	defer stop()
	streams := map[string][]byte{"cloneLines": []byte(cloneLines), "FetchMetadata": corpus.FetchMetadata(50)}
	for _, c := range loadCaptures(t) {
		streams[c.name] = c.data
	}
	for name, data := range streams {
		d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(data), nil), nil)
		for {
			where = fmt.Sprintf("%s at %d", name, d.Tokenizer().Offset())
			r, err := d.Next()
			if err == io.EOF {
				break
			}
			if r != nil {
				codec.CloneResponse(r)
			}
		}
	}
}

// TestCloneFetchMetadataAllocs: cloning one FETCH of the metadata corpus
// (envelope, body structure, a header section) takes at most 8
// allocations, whatever the number of strings it holds (the reflection
// copy took 123).
func TestCloneFetchMetadataAllocs(t *testing.T) {
	const n = 30
	rs := decodeAllClones(t, corpus.FetchMetadata(n))
	for i, r := range rs {
		a := testing.AllocsPerRun(20, func() { codec.CloneResponse(r) })
		if a > 8 {
			t.Errorf("FETCH %d: %v allocations per clone; want <= 8", i+1, a)
		}
	}
}

// TestCloneSize: CloneSize gives the bytes CloneResponse allocates, for
// every response of cloneLines, the captures, the corpus and responses
// whose copies take many times their size: no less, and no more than the
// allocator's rounding adds (an eighth, and 64 bytes).
func TestCloneSize(t *testing.T) {
	// Responses whose copies take many times their bytes on the wire.
	many := func(s string, n int) string { return strings.TrimSpace(strings.Repeat(s, n)) }
	amplified := strings.Join([]string{
		"* THREAD " + many("(1 2)", 500),
		"* THREAD (" + many("1 ", 500) + ")",
		"* CAPABILITY " + many("a ", 500),
		"* FLAGS (" + many("a ", 500) + ")",
		"* LIST (" + many(`\a `, 500) + `) "/" x`,
		"* ID (" + many(`"a" NIL `, 500) + ")",
		"* SEARCH " + many("1 ", 500),
		"* ESEARCH (TAG \"a\") ALL " + strings.TrimSuffix(strings.Repeat("1,3,", 500), ","),
		"* VANISHED " + strings.TrimSuffix(strings.Repeat("1,3,", 500), ","),
		"* 1 FETCH (ENVELOPE (NIL NIL (" + many("(NIL NIL NIL NIL)", 500) + ") NIL NIL NIL NIL NIL NIL NIL))",
		"* 1 FETCH (BODYSTRUCTURE (" + many(`("T" "P" NIL NIL NIL "7" 0 0)`, 200) + ` "MIXED"))`,
	}, "\r\n") + "\r\n"
	streams := map[string][]byte{"cloneLines": []byte(cloneLines), "FetchMetadata": corpus.FetchMetadata(50), "amplified": []byte(amplified)}
	for _, c := range loadCaptures(t) {
		streams[c.name] = c.data
	}
	const runs = 4
	var ms runtime.MemStats
	seen := map[string]bool{}
	for name, data := range streams {
		d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(data), nil), nil)
		for {
			r, err := d.Next()
			if err == io.EOF {
				break
			}
			if r == nil {
				continue
			}
			want := codec.CloneSize(r)
			// The least of three measures: what another goroutine
			// allocates meanwhile only adds.
			got := int64(-1)
			for range 3 {
				runtime.ReadMemStats(&ms)
				before := ms.TotalAlloc
				for range runs {
					codec.CloneResponse(r)
				}
				runtime.ReadMemStats(&ms)
				if n := int64(ms.TotalAlloc-before) / runs; got < 0 || n < got {
					got = n
				}
			}
			if got < want || got > want+want/8+64 {
				t.Errorf("%s: %T: CloneSize %d, CloneResponse allocates %d", name, r, want, got)
			}
			seen[fmt.Sprintf("%T", r)] = true
		}
	}
	if len(seen) < 25 {
		t.Errorf("only %d response types seen: %v", len(seen), seen)
	}
}

// TestCloneDeepThread: a THREAD of one chain of replies is as deep as its
// line is long (a hostile server's 500,000 took 67 MB of stack to copy,
// one call per node). CloneResponse and CloneSize go down chains in a
// loop: the copy is right, and the stack stays small.
func TestCloneDeepThread(t *testing.T) {
	const n = 250000 // within codec.DefaultMaxNumbers/8 nodes
	line := "* THREAD (" + strings.TrimSpace(strings.Repeat("7 ", n)) + ")(1 (2)(3 4))\r\n"
	r, err := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(line), nil), nil).Next()
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.StackInuse
	c := codec.CloneResponse(r).(*codec.Thread)
	size := codec.CloneSize(r)
	runtime.ReadMemStats(&ms)
	if grew := int64(ms.StackInuse) - int64(before); grew > 4<<20 {
		t.Errorf("the stack grew by %d bytes", grew)
	}
	if size < n*int64(unsafe.Sizeof(codec.ThreadNode{})) {
		t.Errorf("CloneSize %d for %d nodes", size, n)
	}
	// Compare node by node, down the chain by a loop.
	orig := r.(*codec.Thread)
	if len(c.Threads) != 2 || !cmp.Equal(c.Threads[1], orig.Threads[1]) {
		t.Fatalf("threads %d; second %v", len(c.Threads), cmp.Diff(orig.Threads[1], c.Threads[1]))
	}
	a, b, depth := orig.Threads[0], c.Threads[0], 0
	for a != nil || b != nil {
		if a == nil || b == nil || a.Num != b.Num || len(a.Children) != len(b.Children) || a == b {
			t.Fatalf("depth %d: %+v against %+v", depth, a, b)
		}
		depth++
		if len(a.Children) == 0 {
			break
		}
		a, b = a.Children[0], b.Children[0]
	}
	if depth != n {
		t.Fatalf("chain of %d, want %d", depth, n)
	}
}
