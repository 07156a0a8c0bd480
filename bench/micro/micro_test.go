package micro_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/imapkit/imapkit/bench/internal/scripted"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/corpus"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// kind says what a workload's stream holds.
type kind int

const (
	metadata kind = iota
	bodies
	search
)

// tally is what a contender decoded in one pass: the number of messages
// (or SEARCH numbers), the sum of their UIDs (or numbers), and the body
// bytes read. The plain reader counts bytes only.
type tally struct {
	count int
	sum   uint64
	body  int64
}

// workload is one recorded stream and what decoding it must give.
type workload struct {
	name   string
	kind   kind
	stream []byte
	n      int   // messages or numbers in the stream
	want   tally // what every decoding contender must find
}

// The workloads, built once. The expected tallies follow from how
// internal/corpus writes the streams: metadata message i has UID 1000+3i,
// body message i has UID 100+i and a body of bodySize bytes, SEARCH number
// i is 100000+3i.
const (
	metaN    = 10000
	bodyN    = 100
	bodySize = 100 << 10
	searchN  = 100000
)

var workloads = func() []*workload {
	bodyStream, _ := corpus.BodyLiterals(bodyN, bodySize)
	ws := []*workload{
		{name: "Metadata10k", kind: metadata, stream: corpus.FetchMetadata(metaN), n: metaN},
		{name: "Bodies100x100KiB", kind: bodies, stream: bodyStream, n: bodyN},
		{name: "Search100k", kind: search, stream: corpus.Search(searchN), n: searchN},
	}
	for _, w := range ws {
		w.want.count = w.n
		for i := 1; i <= w.n; i++ {
			switch w.kind {
			case metadata:
				w.want.sum += uint64(1000 + 3*i)
			case bodies:
				w.want.sum += uint64(100 + i)
				w.want.body += bodySize
			case search:
				w.want.sum += uint64(100000 + 3*i)
			}
		}
	}
	return ws
}()

// A contender prepares a pass over w (connecting to a scripted server when
// it needs one) and returns the pass; close releases what it holds.
type contender struct {
	name  string
	setup func(tb testing.TB, w *workload) (pass func() (tally, error), close func())
}

var contenders = []contender{
	{"plain", setupPlain},
	{"codec", setupCodec},
	{"session-pull", setupSessionPull},
	{"session-run", setupSessionRun},
	{"commands", setupCommands},
	{"goimap", setupGoIMAP},
}

// serve starts the scripted server on a transport.Pipe and returns the
// client's end.
func serve(w *workload) net.Conn {
	client, server := transport.Pipe()
	go scripted.Serve(server, w.stream, w.n)
	return client
}

// fetchArgs is what the imapkit session contenders ask for; the scripted
// server ignores it.
func fetchArgs(k kind) string {
	if k == bodies {
		return "1:* (UID BODY.PEEK[])"
	}
	return "1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ BODY.PEEK[HEADER.FIELDS (LIST-ID X-PRIORITY)])"
}

func raw(s string) func(e *wire.Encoder) { return func(e *wire.Encoder) { e.SP().Raw(s) } }

// setupPlain reads the answer to a command into a 64 KiB buffer and looks
// at nothing but its length and its last line: the ceiling.
func setupPlain(tb testing.TB, w *workload) (func() (tally, error), func()) {
	conn := serve(w)
	buf := make([]byte, 64<<10)
	greeting := len(scripted.Greeting)
	if _, err := io.ReadFull(conn, buf[:greeting]); err != nil {
		tb.Fatal(err)
	}
	const tagged = "P1 OK done\r\n"
	total := int64(len(w.stream) + len(tagged))
	pass := func() (tally, error) {
		if _, err := conn.Write([]byte("P1 X\r\n")); err != nil {
			return tally{}, err
		}
		var got int64
		var last []byte
		for got < total {
			n, err := conn.Read(buf)
			got += int64(n)
			if n > 0 {
				last = buf[:n]
			}
			if err != nil {
				return tally{}, err
			}
		}
		if got != total || !bytes.HasSuffix(last, []byte(tagged)) {
			return tally{}, fmt.Errorf("plain: read %d bytes ending %q; want %d", got, last[max(0, len(last)-20):], total)
		}
		return tally{body: got}, nil
	}
	return pass, func() { conn.Close() }
}

// plainReader hides bytes.Reader's WriterTo, so that the tokenizer reads
// as it would from a connection.
type plainReader struct{ r io.Reader }

func (p *plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

func setupCodec(tb testing.TB, w *workload) (func() (tally, error), func()) {
	br := bytes.NewReader(w.stream)
	pr := &plainReader{br}
	var t tally
	var opts *codec.DecoderOptions
	if w.kind == bodies {
		opts = &codec.DecoderOptions{SectionHandler: func(f *codec.Fetch, s *codec.Section, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			t.body += n
			return err
		}}
	}
	d := codec.NewDecoder(wire.NewTokenizer(pr, nil), opts)
	pass := func() (tally, error) {
		br.Reset(w.stream)
		d.Tokenizer().Reset(pr)
		t = tally{}
		for {
			r, err := d.Next()
			if err == io.EOF {
				return t, nil
			}
			if err != nil {
				return t, err
			}
			countResponse(&t, r)
		}
	}
	return pass, func() {}
}

// countResponse adds a decoded FETCH or SEARCH response to t.
func countResponse(t *tally, r codec.Response) {
	switch r := r.(type) {
	case *codec.Fetch:
		t.count++
		t.sum += uint64(r.UID)
		for _, s := range r.Sections {
			if r.Has&codec.FetchEnvelope == 0 { // bodies: header sections are not counted
				t.body += int64(len(s.Data))
			}
		}
	case *codec.Search:
		for _, n := range r.Nums {
			t.count++
			t.sum += uint64(n)
		}
	}
}

// openSession opens an imapkit session on the scripted server and selects
// INBOX.
func openSession(tb testing.TB, w *workload) *session.Session {
	ctx := context.Background()
	s, err := session.Open(ctx, serve(w), nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: raw("INBOX")}); err != nil {
		tb.Fatal(err)
	}
	return s
}

func sessionCommand(w *workload) *session.Command {
	if w.kind == search {
		return &session.Command{Name: "UID SEARCH", Args: raw("ALL")}
	}
	return &session.Command{Name: "FETCH", Args: raw(fetchArgs(w.kind))}
}

func setupSessionPull(tb testing.TB, w *workload) (func() (tally, error), func()) {
	s := openSession(tb, w)
	ctx := context.Background()
	pass := func() (tally, error) {
		cmd := sessionCommand(w)
		cmd.Pull = true
		p, err := s.Start(ctx, cmd)
		if err != nil {
			return tally{}, err
		}
		var t tally
		for {
			it, err := p.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return t, err
			}
			if it.Body != nil {
				n, err := io.Copy(io.Discard, it.Body)
				t.body += n
				if err != nil {
					return t, err
				}
				continue
			}
			countResponse(&t, it.Response)
		}
		_, err = p.Wait(ctx)
		return t, err
	}
	return pass, func() { s.Close() }
}

func setupSessionRun(tb testing.TB, w *workload) (func() (tally, error), func()) {
	s := openSession(tb, w)
	ctx := context.Background()
	pass := func() (tally, error) {
		var t tally
		cmd := sessionCommand(w)
		if w.kind == bodies {
			cmd.Sections = func(f *codec.Fetch, sec *codec.Section, r io.Reader) error {
				n, err := io.Copy(io.Discard, r)
				t.body += n
				return err
			}
		}
		res, err := s.Run(ctx, cmd)
		if err != nil {
			return t, err
		}
		for _, r := range res.Data {
			countResponse(&t, r)
		}
		return t, nil
	}
	return pass, func() { s.Close() }
}

func setupCommands(tb testing.TB, w *workload) (func() (tally, error), func()) {
	s := openSession(tb, w)
	c := commands.New(s)
	ctx := context.Background()
	items := &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}
	if w.kind == metadata {
		items = &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Envelope: true,
			BodyStructure: true, ModSeq: true,
			Sections: []commands.FetchSection{{Specifier: "HEADER.FIELDS", Fields: []string{"LIST-ID", "X-PRIORITY"}}}}
	}
	pass := func() (tally, error) {
		var t tally
		if w.kind == search {
			r, err := c.Search(ctx, &commands.Criteria{}, &commands.SearchOptions{UID: true})
			if err != nil {
				return t, err
			}
			for n := range r.All.All {
				t.count++
				t.sum += uint64(n)
			}
			return t, nil
		}
		for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), items) {
			if err != nil {
				return t, err
			}
			t.count++
			t.sum += uint64(m.UID)
			for {
				sec, err := m.NextSection()
				if err == io.EOF {
					break
				}
				if err != nil {
					return t, err
				}
				n, err := io.Copy(io.Discard, sec)
				if w.kind == bodies {
					t.body += n
				}
				if err != nil {
					return t, err
				}
			}
		}
		return t, nil
	}
	return pass, func() { s.Close() }
}

func setupGoIMAP(tb testing.TB, w *workload) (func() (tally, error), func()) {
	c := imapclient.New(serve(w), nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		tb.Fatal(err)
	}
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	if w.kind == metadata {
		opts = &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
			BodyStructure: &imap.FetchItemBodyStructure{Extended: true}, ModSeq: true,
			BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"LIST-ID", "X-PRIORITY"}, Peek: true}}}
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	pass := func() (tally, error) {
		var t tally
		if w.kind == search {
			data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
			if err != nil {
				return t, err
			}
			uids, _ := data.All.(imap.UIDSet).Nums()
			for _, n := range uids {
				t.count++
				t.sum += uint64(n)
			}
			return t, nil
		}
		cmd := c.Fetch(all, opts)
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			t.count++
			for {
				item := msg.Next()
				if item == nil {
					break
				}
				switch item := item.(type) {
				case imapclient.FetchItemDataUID:
					t.sum += uint64(item.UID)
				case imapclient.FetchItemDataBodySection:
					n, err := io.Copy(io.Discard, item.Literal)
					if w.kind == bodies {
						t.body += n
					}
					if err != nil {
						return t, err
					}
				}
			}
		}
		return t, cmd.Close()
	}
	return pass, func() { c.Close() }
}

// check compares a pass's tally with the workload's.
func check(c contender, w *workload, t tally) error {
	want := w.want
	if c.name == "plain" {
		want = tally{body: int64(len(w.stream) + len("P1 OK done\r\n"))}
	}
	if t != want {
		return fmt.Errorf("%s on %s: decoded %+v; want %+v", c.name, w.name, t, want)
	}
	return nil
}

// TestContenders runs every contender once on every workload and checks
// what it decoded, so that a benchmark never measures a contender that
// drops or misreads data.
func TestContenders(t *testing.T) {
	for _, w := range workloads {
		for _, c := range contenders {
			t.Run(w.name+"/"+c.name, func(t *testing.T) {
				pass, closeFn := c.setup(t, w)
				defer closeFn()
				for range 2 { // the second pass reuses the connection and the buffers
					got, err := pass()
					if err != nil {
						t.Fatal(err)
					}
					if err := check(c, w, got); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

func mallocs() (n, bytes uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs, ms.TotalAlloc
}

// BenchmarkCompare runs every contender on every workload:
// BenchmarkCompare/WORKLOAD/CONTENDER. MB/s counts the recorded stream;
// allocs/item and B/item divide by the messages (SEARCH: the numbers).
func BenchmarkCompare(b *testing.B) {
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			for _, c := range contenders {
				b.Run(c.name, func(b *testing.B) {
					pass, closeFn := c.setup(b, w)
					defer closeFn()
					got, err := pass() // warm up: grow the buffers
					if err == nil {
						err = check(c, w, got)
					}
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(len(w.stream)))
					b.ReportAllocs()
					m0, b0 := mallocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := pass(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					m1, b1 := mallocs()
					items := float64(b.N) * float64(w.n)
					b.ReportMetric(float64(m1-m0)/items, "allocs/item")
					b.ReportMetric(float64(b1-b0)/items, "B/item")
				})
			}
		})
	}
}
