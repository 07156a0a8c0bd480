package session

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/wire"
)

// TestTracerCutLines feeds the tracer server lines longer than what it
// keeps of a line, split across reads at every position, with literals
// whose headers lie past the cut: the history must still frame every line
// (a missed header would swallow the next line into a literal).
func TestTracerCutLines(t *testing.T) {
	long := strings.Repeat("x", 3*(maxTraceLine+ringSlack))
	stream := "* 1 FETCH (BODY[] {5}\r\nhello X-NAME " + long + " {3}\r\nabc)\r\n" +
		"* 2 FETCH (FLAGS () " + long + ")\r\n" +
		"* 3 FETCH (BODY[] " + long + " {0}\r\n)\r\n" +
		"A1 OK done\r\n"
	want := []string{"S: * 1 FETCH", "S: * 2 FETCH", "S: * 3 FETCH", "S: A1 OK done"}
	for _, chunk := range []int{1, 7, 31, 32, 33, 500, len(stream)} {
		tr := newTracer(nil, false, nil, 8, DefaultTraceCapture)
		tr.secrets = &secrets{}
		for b := []byte(stream); len(b) > 0; {
			n := min(chunk, len(b))
			tr.server(b[:n])
			b = b[n:]
		}
		h := tr.history()
		if len(h) != len(want) {
			t.Fatalf("chunk %d: %d lines in the history, want %d:\n%s", chunk, len(h), len(want), strings.Join(h, "\n"))
		}
		for i, w := range want {
			if !strings.HasPrefix(h[i], w) {
				t.Errorf("chunk %d: line %d is %.60q, want it to start with %q", chunk, i, h[i], w)
			}
		}
		if !strings.Contains(h[0], "<5 bytes>") {
			t.Errorf("chunk %d: first line lacks its literal summary: %.80q", chunk, h[0])
		}
		if tr.litRemain != 0 || len(tr.line_) != 0 {
			t.Errorf("chunk %d: tracer left mid-line (litRemain %d, %d bytes)", chunk, tr.litRemain, len(tr.line_))
		}
	}
}

// TestTracerHistoryBounded: the history ring keeps at most maxTraceLine
// bytes of a server line, so that a session that has read long lines
// (FETCH responses) holds about History × maxTraceLine bytes of history,
// not History × (maxTraceLine+ringSlack); what history shows is the same:
// the line cut to maxTraceLine with "...", a secret sent before it
// redacted even where the cut runs through it, and a line that fits whole.
func TestTracerHistoryBounded(t *testing.T) {
	const history = defaultHistory // the tracer a session makes with no options
	tr := newTracer(nil, false, nil, history, DefaultTraceCapture)
	tr.secrets = &secrets{}
	long := "* 1 FETCH (X " + strings.Repeat("y", 2*(maxTraceLine+ringSlack)) + ")\r\n"
	for range 2 * history {
		tr.server([]byte(long))
	}
	for i, slot := range tr.ring {
		if len(slot) != maxTraceLine || cap(slot) > maxTraceLine+16 {
			t.Errorf("slot %d holds %d bytes in %d; want %d in at most %d", i, len(slot), cap(slot), maxTraceLine, maxTraceLine+16)
		}
	}
	for _, l := range tr.history() {
		if want := "S: " + long[:maxTraceLine] + "..."; l != want {
			t.Fatalf("history line %.60q...; want the line cut to %d bytes and \"...\"", l, maxTraceLine)
		}
	}

	// A secret the session sent, echoed across the cut (it starts 5 bytes
	// before it), and before the cut; then a short line that holds it.
	secret := "s3cr3t-passw0rd"
	tr.secrets.add([]byte(secret))
	across := "* OK " + strings.Repeat("a", maxTraceLine-5-5) + secret + strings.Repeat("b", 400) + "\r\n"
	before := "* OK " + secret + strings.Repeat("c", 400) + "\r\n"
	short := "* OK [ALERT] " + secret + "\r\n"
	for _, l := range []string{across, before, short} {
		tr.server([]byte(l))
	}
	h := tr.history()
	got := h[len(h)-3:]
	want := []string{
		"S: " + ("* OK " + strings.Repeat("a", maxTraceLine-5-5) + "***" + strings.Repeat("b", 400))[:maxTraceLine] + "...",
		"S: " + ("* OK ***" + strings.Repeat("c", 400))[:maxTraceLine] + "...",
		"S: * OK [ALERT] ***",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("history line %d:\n got %.80q...\nwant %.80q...", i, got[i], want[i])
		}
		if strings.Contains(got[i], secret[:5]) {
			t.Errorf("history line %d holds a part of the secret: %q", i, got[i])
		}
	}
}

// TestTracerHistoryLaterSecret: a long line kept cut and raw (no secret
// sent yet) that holds a secret sent later is redacted when history shows
// it, and is shown shorter than the cut with "..." (not a panic).
func TestTracerHistoryLaterSecret(t *testing.T) {
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	secret := "later-secret-0123456789"
	tr.server([]byte("* OK " + secret + strings.Repeat("d", 500) + "\r\n"))
	tr.secrets.add([]byte(secret))
	h := tr.history()
	want := "S: * OK ***" + strings.Repeat("d", maxTraceLine-len("* OK ")-len(secret)) + "..."
	if len(h) != 1 || h[0] != want {
		t.Fatalf("history %.80q; want %.80q", h, want)
	}
}

// TestTracerWholeLines: in history-only mode the tracer takes whole lines
// without assembling them (wholeLine); the history must be the one the
// assembling loop makes. Random streams (short and cut lines, literal
// headers of every form, header-like bytes inside literals and right past
// a cut, bare LF and CR CR LF line ends, a secret) are fed in random reads
// to a tracer of each kind, with the capture a session uses and smaller
// ones; their rings, marks, counts and histories must be equal.
func TestTracerWholeLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const secret = "s3cret-pass"
	for round := range 400 {
		stream := tracerStream(rng, secret)
		capture := []int{DefaultTraceCapture, 0, 10, 31, 33, maxTraceLine + 1, 300}[round%7]
		fast, ref := tracerPair(capture, round%3 == 0, secret)
		trs := [2]*tracer{fast, ref}
		for b := stream; len(b) > 0; {
			n := 1 + rng.IntN(min(len(b), []int{7, 100, 2000, 40000}[rng.IntN(4)]))
			for _, tr := range trs {
				tr.server(append([]byte(nil), b[:n]...))
			}
			b = b[n:]
		}
		compareTracers(t, fmt.Sprintf("round %d (capture %d, %d bytes)", round, fast.capture, len(stream)), fast, ref)
	}
}

// tracerPair returns two tracers as a session with no options makes them
// (history only, the default history), with capture when it is not 0 and
// secret sent when withSecret: fast takes whole lines (wholeLine), ref, the
// reference, assembles every line.
func tracerPair(capture int, withSecret bool, secret string) (fast, ref *tracer) {
	mk := func() *tracer {
		tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
		if capture > 0 {
			tr.capture = capture
		}
		tr.secrets = &secrets{}
		if withSecret {
			tr.secrets.add([]byte(secret))
		}
		return tr
	}
	fast, ref = mk(), mk()
	ref.histOnly = false
	return fast, ref
}

// compareTracers fails t unless fast (history only) and ref (the same
// tracer made to assemble every line) hold the same state and history.
func compareTracers(t *testing.T, where string, fast, ref *tracer) {
	t.Helper()
	if fast.count != ref.count || fast.next != ref.next || fast.litRemain != ref.litRemain ||
		fast.cut != ref.cut || !bytes.Equal(fast.line_, ref.line_) {
		t.Fatalf("%s: state differs: count %d/%d, next %d/%d, litRemain %d/%d, cut %v/%v, line %q/%q",
			where, fast.count, ref.count, fast.next, ref.next, fast.litRemain, ref.litRemain,
			fast.cut, ref.cut, fast.line_, ref.line_)
	}
	if !bytes.Equal(fast.marks, ref.marks) || !bytes.Equal(fast.dirs, ref.dirs) {
		t.Fatalf("%s: marks %v dirs %q; reference %v %q", where, fast.marks, fast.dirs, ref.marks, ref.dirs)
	}
	for i := range fast.ring {
		if !bytes.Equal(fast.ring[i], ref.ring[i]) {
			t.Fatalf("%s: ring slot %d is %q; reference %q", where, i, fast.ring[i], ref.ring[i])
		}
	}
	if h, r := strings.Join(fast.history(), "\n"), strings.Join(ref.history(), "\n"); h != r {
		t.Fatalf("%s: history\n%s\nreference\n%s", where, h, r)
	}
}

// FuzzTracerHistory: whatever the server sends and however it is cut into
// reads, the history-only tracer keeps the history the assembling loop
// keeps (TestTracerWholeLines on fuzzed input). The seeds are short streams
// of tracerStream; chunk picks the read sizes, capture the tracer's capture.
//
// A stream is at most fuzzTracerMax bytes (longer inputs are ignored) and
// each exec reuses one read buffer: with the seeds of up to 29 KB of
// before, cut into reads of a byte or two, each new interesting input cost
// Go's minimizer (up to a minute by default, one exec per byte removed)
// the whole fuzzing time, and a plain go test -fuzz ran at about 1 exec/s.
// TestTracerWholeLines keeps the long streams.
func FuzzTracerHistory(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 8; {
		s := tracerStreamLines(rng, "s3cret-pass", 3)
		if len(s) > fuzzTracerMax {
			continue
		}
		f.Add(s, uint64(i*7919+1), uint16([]int{0, 10, 31, 241, 300}[i%5]))
		i++
	}
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint64, capture uint16) {
		if len(stream) > fuzzTracerMax {
			return
		}
		fast, ref := tracerPair(int(capture), true, "s3cret-pass")
		trs := [2]*tracer{fast, ref}
		rng := rand.New(rand.NewPCG(chunk, 0))
		// One buffer for every read, as a session's reads have: a tracer
		// that kept a slice of a read would see it overwritten.
		buf := make([]byte, 0, 1+int(chunk%4096))
		for b := stream; len(b) > 0; {
			n := 1 + rng.IntN(min(len(b), 1+int(chunk%4096)))
			for _, tr := range trs {
				buf = append(buf[:0], b[:n]...)
				tr.server(buf)
			}
			b = b[n:]
		}
		compareTracers(t, fmt.Sprintf("capture %d, %d bytes", fast.capture, len(stream)), fast, ref)
	})
}

// fuzzTracerMax bounds FuzzTracerHistory's stream: twice the longest line
// the tracer keeps whole and its slack, several times over, and short
// enough that minimizing an input byte by byte takes seconds.
const fuzzTracerMax = 4 << 10

// tracerStream makes a random server stream for TestTracerWholeLines.
func tracerStream(rng *rand.Rand, secret string) []byte {
	return tracerStreamLines(rng, secret, 40)
}

// tracerStreamLines is tracerStream with 1 to maxLines lines.
func tracerStreamLines(rng *rand.Rand, secret string, maxLines int) []byte {
	const text = "abcxyz {}~+0123456789()\r\""
	var b []byte
	textOf := func(n int) {
		for range n {
			b = append(b, text[rng.IntN(len(text))])
		}
	}
	ends := []string{"\r\n", "\r\n", "\r\n", "\n", "\r\r\n"}
	for range 1 + rng.IntN(maxLines) {
		b = append(b, "* "...)
		for part := range 1 + rng.IntN(4) {
			// Text whose length puts the header before, at or past the
			// cut of the lines the history keeps.
			textOf([]int{0, 5, 230, 240, 300, 490, 495, 497, 600, 1200}[rng.IntN(10)] + rng.IntN(3))
			if rng.IntN(6) == 0 {
				b = append(b, secret...)
			}
			if part == 3 || rng.IntN(3) == 0 {
				break
			}
			size := rng.IntN(60)
			switch rng.IntN(6) {
			case 0:
				b = fmt.Appendf(b, "{%d+}", size)
			case 1:
				b = fmt.Appendf(b, "~{%d}", size)
			case 2:
				// A header about as long as tailLen, or longer.
				b = fmt.Appendf(b, "{%0*d}", 26+rng.IntN(12), size)
			case 3:
				size = 0
				b = append(b, "{0}"...)
			default:
				b = fmt.Appendf(b, "{%d}", size)
			}
			b = append(b, ends[rng.IntN(len(ends))]...)
			lit := len(b)
			textOf(size)
			if size >= 5 && rng.IntN(2) == 0 {
				copy(b[lit:], "{9}\r\n") // a header inside the literal
			}
		}
		b = append(b, ends[rng.IntN(len(ends))]...)
	}
	return b
}

// BenchmarkTracerHistory feeds the tracer a session makes with no options
// (history only) the 10,000-message metadata stream in reads of the
// tokenizer's buffer size, each copied into one buffer first as a read
// does: the cost of the history per byte read, with the copy.
func BenchmarkTracerHistory(b *testing.B) {
	data := corpus.FetchMetadata(10000)
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	buf := make([]byte, wire.DefaultBufferSize)
	for b.Loop() {
		for p := data; len(p) > 0; {
			n := copy(buf, p) // as a read does: the bytes are in the cache
			tr.server(buf[:n])
			p = p[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/msg")
}

// TestTraceCountWraps: the history ring counts every line traced in an
// int (tracer.count), which is never reset. On 386 (int is 32 bits) a
// long-lived session passes 2^31 lines (a proxy or sync tool at 1,000
// commands a second: about 12 days); the count turns negative and the next
// abort error, which builds its History from it (read.go abort ->
// tracer.history), panics in make([]string, 0, n) with n < 0, on the
// reader goroutine: the whole program dies instead of getting an
// *AbortError. The test puts the count where 2^31-1 lines (math.MaxInt on
// 386) leave it.
func TestTraceCountWraps(t *testing.T) {
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	tr.line('C', []byte("A1 NOOP"))
	tr.count = math.MaxInt // as after 2^31-1 lines on 386
	tr.line('C', []byte("A2 NOOP"))
	tr.server([]byte("A2 OK done\r\n"))
	var h []string
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("history panics once the line count has wrapped: %v", r)
			}
		}()
		h = tr.history()
	}()
	if len(h) == 0 || h[len(h)-1] != "S: A2 OK done" {
		t.Fatalf("history = %q; want the last lines", h)
	}
}

// TestTraceCountBounded: however many lines are traced, the
// ring's count stays at its length, and history shows the last lines.
func TestTraceCountBounded(t *testing.T) {
	tr := newTracer(nil, false, nil, defaultHistory, DefaultTraceCapture)
	tr.secrets = &secrets{}
	for i := 0; i < 3*defaultHistory+1; i++ {
		tr.line('C', []byte("A NOOP"))
		if tr.count > len(tr.ring) {
			t.Fatalf("after %d lines count = %d, past the ring's %d", i+1, tr.count, len(tr.ring))
		}
	}
	tr.server([]byte("A OK done\r\n"))
	if h := tr.history(); len(h) != defaultHistory || h[len(h)-1] != "S: A OK done" {
		t.Fatalf("history = %q", h)
	}
}
