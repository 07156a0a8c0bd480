package wire_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/imapkit/imapkit/wire"
)

// Item 1: the raw line stays available after its CRLF, until the next line.
func TestRawLineAfterCRLF(t *testing.T) {
	in := "A1 LOGIN {3}\r\nabc pw\r\n* 2 EXISTS\r\n"
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	m := tk.Mark()
	for {
		kind, err := tk.Scan()
		if err != nil {
			t.Fatal(err)
		}
		if kind == wire.KindLiteral {
			if _, err := tk.LiteralBytes(); err != nil {
				t.Fatal(err)
			}
		}
		if kind == wire.KindCRLF {
			break
		}
	}
	line, err := tk.RawLine()
	if err != nil || string(line) != "A1 LOGIN {3}\r\nabc pw\r\n" {
		t.Fatalf("RawLine = %q, %v", line, err)
	}
	since, err := tk.Since(m)
	if err != nil || string(since) != string(line) {
		t.Fatalf("Since(start) after CRLF = %q, %v", since, err)
	}
	if _, err := tk.Scan(); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Since(m); err != wire.ErrCannotRewind {
		t.Fatalf("Since(mark of an earlier line) = %v; want ErrCannotRewind", err)
	}
	if line, _ := tk.RawLine(); string(line) != "*" {
		t.Fatalf("RawLine on the next line = %q", line)
	}
}

// Item 2: a mark taken with a literal open survives LiteralBytes; after a
// streamed literal Rewind says so.
func TestMarkWithLiteralOpen(t *testing.T) {
	in := "* 1 FETCH (BODY[] {5}\r\nhello)\r\n"
	tk := wire.NewTokenizer(iotest.OneByteReader(strings.NewReader(in)), nil)
	for {
		kind, err := tk.Scan()
		if err != nil {
			t.Fatal(err)
		}
		if kind == wire.KindLiteral {
			break
		}
	}
	m := tk.Mark()
	b, err := tk.LiteralBytes()
	if err != nil || string(b) != "hello" {
		t.Fatalf("LiteralBytes = %q, %v", b, err)
	}
	if k, _ := tk.Scan(); k != wire.KindRParen {
		t.Fatalf("after the literal: %v", k)
	}
	if err := tk.Rewind(m); err != nil {
		t.Fatalf("Rewind to a mark taken with the literal open: %v", err)
	}
	if b, err := tk.LiteralBytes(); err != nil || string(b) != "hello" {
		t.Fatalf("LiteralBytes after Rewind = %q, %v", b, err)
	}

	tk = wire.NewTokenizer(strings.NewReader(in), nil)
	m = tk.Mark()
	for k, _ := tk.Scan(); k != wire.KindLiteral; k, _ = tk.Scan() {
	}
	r, _ := tk.LiteralReader()
	io.Copy(io.Discard, r)
	if err := tk.Rewind(m); err != wire.ErrCannotRewind {
		t.Fatalf("Rewind across a streamed literal = %v; want ErrCannotRewind", err)
	}
}

// Item 3: a client's synchronizing literal through a relay. The client
// sends the body only after it sees the header arrive at the server (the
// server's "+"): reading the body before forwarding the header deadlocks.
func TestAppendUntilLiteralSynchronizing(t *testing.T) {
	clientR, clientW := io.Pipe()
	serverR, serverW := io.Pipe()
	const line1, body, rest = "A1 LOGIN alice {8}\r\n", "p4ssw0rd", "\r\nA2 NOOP\r\n"
	sawHeader := make(chan struct{})
	go func() {
		// The server sees the header, then says "+", then reads on.
		buf := make([]byte, len(line1))
		io.ReadFull(serverR, buf)
		close(sawHeader)
		io.Copy(io.Discard, serverR)
	}()
	go func() {
		clientW.Write([]byte(line1))
		<-sawHeader // only then the body
		clientW.Write([]byte(body + rest))
		clientW.Close()
	}()
	var got bytes.Buffer
	done := make(chan error, 1)
	go func() {
		tk := wire.NewTokenizer(clientR, nil)
		w := bufio.NewWriter(io.MultiWriter(serverW, &got))
		var line []wire.Token
		for {
			var err error
			line, err = tk.AppendUntilLiteral(line[:0])
			if err == io.EOF {
				done <- w.Flush()
				return
			}
			if err != nil {
				done <- err
				return
			}
			if line[len(line)-1].Kind == wire.KindLiteral {
				if _, err := tk.ForwardLiteral(w); err != nil {
					done <- err
					return
				}
				continue
			}
			if _, err := tk.Forward(w); err != nil {
				done <- err
				return
			}
			if tk.ShouldFlush() {
				w.Flush()
			}
		}
	}()
	select {
	case err := <-done:
		serverW.Close()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("relay deadlocked on a synchronizing literal")
	}
	if got.String() != line1+body+rest {
		t.Fatalf("relayed %q", got.String())
	}
}

// Item 4: the text of a status response or a continuation request is never
// a literal header.
func TestStatusTextIsNotALiteral(t *testing.T) {
	in := "* OK [ALERT] look {5}\r\n+ {5}\r\nA1 NO \"x {3}\r\n* 3 EXISTS\r\n"
	want := []string{
		"'*'", "SP", "atom:OK", "SP", "'['", "atom:ALERT", "']'", "SP", "text:look {5}", "CRLF",
		"'+'", "SP", "text:{5}", "CRLF",
		"atom:A1", "SP", "atom:NO", "SP", "text:\"x {3}", "CRLF",
		"'*'", "SP", "number:3", "SP", "atom:EXISTS", "CRLF",
	}
	for _, size := range []int{0, 16} {
		got, err := dump(wire.NewTokenizer(iotest.HalfReader(strings.NewReader(in)), &wire.TokenizerOptions{BufferSize: size}))
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("Next: %v, %v\nwant %v", got, err, want)
		}
		lines, err := dumpLines(wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{BufferSize: size}))
		if err != nil || strings.Join(lines, "|") != strings.Join(want, "|") {
			t.Fatalf("AppendLine: %v, %v", lines, err)
		}
	}
	// Rest after the status word, and SkipLine, stop at the CRLF too.
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	tk.Expect('*')
	tk.SP()
	tk.Atom()
	tk.SP()
	if rest, err := tk.Rest(); err != nil || string(rest) != "[ALERT] look {5}" {
		t.Fatalf("Rest = %q, %v", rest, err)
	}
	tk.CRLF()
	tk.Expect('+')
	if err := tk.SkipLine(); err != nil {
		t.Fatal(err)
	}
	if err := tk.SkipLine(); err != nil {
		t.Fatal(err)
	}
	if err := tk.Expect('*'); err != nil {
		t.Fatalf("after SkipLine: %v", err)
	}
	// A command may end with a literal: it still is one.
	tk = wire.NewTokenizer(strings.NewReader("A1 LOGIN {2}\r\nab x\r\n"), nil)
	got, _ := dump(tk)
	if strings.Join(got, "|") != `atom:A1|SP|atom:LOGIN|SP|literal:2:false:false:"ab"|SP|atom:x|CRLF` {
		t.Fatalf("command with a literal: %v", got)
	}
}

// Item 5: Scan reads 8-bit atoms as AString does.
func TestScan8BitAtom(t *testing.T) {
	got, err := dump(wire.NewTokenizer(strings.NewReader("* LIST () \"/\" Grüße\r\n"), nil))
	if err != nil || got[len(got)-2] != "atom:Grüße" {
		t.Fatalf("%v, %v", got, err)
	}
}

// Item 6: responses are written, and tokens written back as they came.
func TestEncodeResponseAndTokens(t *testing.T) {
	enc := wire.NewEncoder(nil)
	for _, c := range []struct {
		build func() (*wire.Encoded, error)
		want  string
	}{
		{func() (*wire.Encoded, error) {
			return enc.BeginResponse("*").SP().Atom("OK").SP().Text("[ALERT] hi {5}").End()
		}, "* OK [ALERT] hi {5}\r\n"},
		{func() (*wire.Encoded, error) { return enc.BeginResponse("+").SP().Text("go ahead").End() }, "+ go ahead\r\n"},
		{func() (*wire.Encoded, error) {
			return enc.BeginResponse("*").SP().Number(1).SP().Atom("FETCH").SP().List(func(e *wire.Encoder) {
				e.Atom("BODY").Special('[').Special(']').SP().Literal([]byte("hi\r\n"))
			}).End()
		}, "* 1 FETCH (BODY[] {4}\r\nhi\r\n)\r\n"},
	} {
		cmd, err := c.build()
		if err != nil {
			t.Fatal(err)
		}
		if len(cmd.Parts) != 1 || string(cmd.Parts[0].Data) != c.want {
			t.Fatalf("got %d parts %q; want %q", len(cmd.Parts), cmd.Parts[0].Data, c.want)
		}
	}
	if _, err := enc.BeginResponse("*").SP().Text("a\r\n* injected").End(); !errors.Is(err, wire.ErrInvalidText) {
		t.Fatalf("Text with CRLF: %v", err)
	}
	// Every token of the sample, written back, gives the sample's bytes.
	in := sampleStream + "* OK  two  spaces\r\n"
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	var out []byte
	var line []wire.Token
	for {
		var err error
		line, err = tk.AppendLine(line[:0])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range line {
			out = wire.AppendToken(out, tok)
		}
	}
	if string(out) != in {
		t.Fatalf("AppendToken gave\n%q\nwant\n%q", out, in)
	}
}

// Item 7: ErrSyntax matches syntax errors, without allocating.
func TestErrSyntax(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("(x"), nil)
	_, err := tk.Atom()
	if !errors.Is(err, wire.ErrSyntax) {
		t.Fatalf("errors.Is(%v, ErrSyntax) = false", err)
	}
	if errors.Is(io.EOF, wire.ErrSyntax) {
		t.Fatal("io.EOF is ErrSyntax")
	}
	if n := testing.AllocsPerRun(100, func() { _ = errors.Is(err, wire.ErrSyntax) }); n != 0 {
		t.Fatalf("errors.Is allocates %v times", n)
	}
}

// Item 8: the flush hint.
func TestShouldFlush(t *testing.T) {
	tk := wire.NewTokenizer(strings.NewReader("* 1 EXISTS\r\nA1 OK {3}\r\n"), nil)
	var line []wire.Token
	line, _ = tk.AppendLine(line[:0])
	if tk.ShouldFlush() {
		t.Fatal("ShouldFlush with the next line buffered")
	}
	tk = wire.NewTokenizer(iotest.OneByteReader(strings.NewReader("A1 LOGIN {3}\r\nabc\r\n")), nil)
	line, _ = tk.AppendUntilLiteral(line[:0])
	if line[len(line)-1].Kind != wire.KindLiteral || !tk.ShouldFlush() {
		t.Fatal("no flush hint after a literal header with nothing buffered")
	}
	tk.ForwardLiteral(io.Discard)
	tk.AppendLine(line[:0])
	if !tk.ShouldFlush() {
		t.Fatal("no flush hint at the end of the stream's last line")
	}
}

// Item 9: Dialog tells SASL lines, DONE and completions apart.
func TestDialog(t *testing.T) {
	toks := func(s string) []wire.Token {
		line, err := wire.NewTokenizer(strings.NewReader(s), nil).AppendLine(nil)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	var d wire.Dialog
	steps := []struct {
		client bool
		line   string
		want   wire.Event
	}{
		{true, "a1 authenticate PLAIN\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a1", Command: "AUTHENTICATE"}},
		{false, "+ \r\n", wire.Event{Kind: wire.LineSASL}},
		{true, "AGFsaWNlAHBhc3M=\r\n", wire.Event{Kind: wire.LineSASL, Raw: true}},
		{false, "a1 OK logged in\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "a1", Command: "AUTHENTICATE", Status: "OK"}},
		{true, "a2 IDLE\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a2", Command: "IDLE"}},
		{false, "+ idling\r\n", wire.Event{Kind: wire.LineContinuation}},
		{false, "* 2 EXISTS\r\n", wire.Event{Kind: wire.LineUntagged}},
		{true, "DONE\r\n", wire.Event{Kind: wire.LineDone, Raw: true}},
		{false, "a2 OK done\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "a2", Command: "IDLE", Status: "OK"}},
		{true, "DONE\r\n", wire.Event{Kind: wire.LineCommand, Tag: "DONE"}},
		{true, "a3 UID FETCH 1 BODY[]\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a3", Command: "UID FETCH"}},
		{true, "a4 STARTTLS\r\n", wire.Event{Kind: wire.LineCommand, Tag: "a4", Command: "STARTTLS"}},
		{false, "a4 OK begin\r\n", wire.Event{Kind: wire.LineCompletion, Tag: "a4", Command: "STARTTLS", Status: "OK"}},
	}
	for i, s := range steps {
		var got wire.Event
		if s.client {
			got = d.Client(toks(s.line))
		} else {
			got = d.Server(toks(s.line))
		}
		if got != s.want {
			t.Fatalf("step %d %q: %+v; want %+v", i, s.line, got, s.want)
		}
	}
}

// Forward relays every byte, whatever is read and however it arrives.
func TestForwardByteIdentical(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 10000)
	in := sampleStream + "* 9 FETCH (BODY[] {160000}\r\n" + big + ")\r\n" +
		"* OK text {3}\r\n* BAD ((( \"unterminated {2}\r\nxx\r\n* 1 EXISTS\r\n"
	for _, size := range []int{0, 64} {
		var out bytes.Buffer
		tk := wire.NewTokenizer(iotest.HalfReader(strings.NewReader(in)), &wire.TokenizerOptions{BufferSize: size})
		var line []wire.Token
		for {
			var err error
			line, err = tk.AppendUntilLiteral(line[:0])
			if err == io.EOF {
				break
			}
			if errors.Is(err, wire.ErrSyntax) {
				if err := tk.ForwardLine(&out); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if line[len(line)-1].Kind == wire.KindLiteral {
				if _, err := tk.ForwardLiteral(&out); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := tk.Forward(&out); err != nil {
				t.Fatal(err)
			}
		}
		if out.String() != in {
			t.Fatalf("buffer %d: relayed %d bytes, not the %d sent", size, out.Len(), len(in))
		}
	}
	// A line not forwarded before the next is read is an error, not a gap.
	tk := wire.NewTokenizer(strings.NewReader(in), &wire.TokenizerOptions{BufferSize: 64})
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, err = tk.AppendLine(nil)
	}
	if _, err := tk.Forward(io.Discard); err != wire.ErrForwardGap {
		t.Fatalf("Forward after unforwarded lines = %v; want ErrForwardGap", err)
	}
}

// TestForwardLineAfterLiteralStalls: a relay forwards a line whose
// literal it streamed (ForwardLiteral sets lineCut), then the rest with
// ForwardLine. skipLine starts with whole false and known false (the line
// is not a text line), so it forwards nothing until the line's LF comes:
// what was read stays buffered, unforwarded, up to MaxLineLength. Before
// 0b60ec4 all but a 32-byte tail was forwarded as it came.
func TestForwardLineAfterLiteralStalls(t *testing.T) {
	r := &stepReader{steps: []*string{
		strStep("A1 X box {3}\r\nabc " + strings.Repeat("x", 100_000)), nil,
		strStep(")\r\n"),
	}}
	tk := wire.NewTokenizer(r, nil)
	var out bytes.Buffer
	line, err := tk.AppendUntilLiteral(nil)
	if err != nil || len(line) == 0 || line[len(line)-1].Kind != wire.KindLiteral {
		t.Fatalf("AppendUntilLiteral: %v %v", line, err)
	}
	if _, err := tk.ForwardLiteral(&out); err != nil {
		t.Fatalf("ForwardLiteral: %v", err)
	}
	if err := tk.ForwardLine(&out); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ForwardLine: %v; want the deadline", err)
	}
	if got, read := out.Len(), len("A1 X box {3}\r\nabc ")+100_000; got < read-64 {
		t.Errorf("ForwardLine met a deadline having read %d bytes of the line; it forwarded %d (%d buffered)", read, got, tk.Buffered())
	}
	if err := tk.ForwardLine(&out); err != nil {
		t.Fatalf("ForwardLine resumed: %v", err)
	}
	if want := "A1 X box {3}\r\nabc " + strings.Repeat("x", 100_000) + ")\r\n"; out.String() != want {
		t.Errorf("forwarded %d bytes, want %d", out.Len(), len(want))
	}
}

// TestForwardLongLine: a token longer than MaxLineLength (a
// VANISHED set of 1.1 MB) fails AppendUntilLiteral with ErrLineTooLong,
// and ForwardLine could not relay the rest either (its bound is
// MaxLineLength). ForwardLongLine relays it unchanged within its own
// bound, in a buffer that does not grow, finds the literal at a line's end
// (not in a status response's text) and stays in step; past its bound it
// fails out of step. Defaults.
func TestForwardLongLine(t *testing.T) {
	set := strings.Repeat("12345,", 185000) + "1" // 1.1 MB
	in := "* VANISHED (EARLIER) " + set + "\r\n" +
		"* 1 FETCH (X " + set + " BODY[] {7}\r\n{3}\r\n)\r\n" +
		"* OK " + set + " {4}\r\n" +
		"a OK done\r\n"
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	var out bytes.Buffer
	var line []wire.Token
	for i := 0; i < 3; i++ {
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		if !errors.Is(err, wire.ErrLineTooLong) || len(line) == 0 {
			t.Fatalf("line %d: %d tokens, %v", i, len(line), err)
		}
		if err := tk.ForwardLongLine(&out, 32<<20); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	line, err := tk.AppendUntilLiteral(line[:0])
	if err != nil || string(line[0].Bytes()) != "a" {
		t.Fatalf("out of step: %v %v", line, err)
	}
	if _, err := tk.Forward(&out); err != nil {
		t.Fatal(err)
	}
	if out.String() != in {
		t.Errorf("relayed %d bytes, want %d unchanged", out.Len(), len(in))
	}

	// Past its bound.
	tk = wire.NewTokenizer(strings.NewReader("* 1 FETCH (X "+set+")\r\na OK\r\n"), nil)
	_, _ = tk.AppendUntilLiteral(line[:0])
	err = tk.ForwardLongLine(&out, 1<<20)
	if !errors.Is(err, wire.ErrLineTooLong) || !errors.Is(err, wire.ErrOutOfStep) {
		t.Errorf("past the bound: %v", err)
	}
}

// relayLines relays in as cmd/imapkit's proxy does (defaults: the
// tokenized path, ForwardLongLine for a line too long, ForwardLine for one
// that does not tokenize) and returns the first token of each line it
// relayed, and the error that ended it (nil at EOF).
func relayLines(in string) ([]string, error) {
	tk := wire.NewTokenizer(strings.NewReader(in), nil)
	var lines []string
	var line []wire.Token
	first, start := "", true
	for {
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		if err == io.EOF {
			return lines, nil
		}
		if start && len(line) > 0 {
			first, start = string(line[0].Bytes()), false
		}
		if errors.Is(err, wire.ErrLineTooLong) && tk.Broken() == nil && len(line) > 0 {
			if err := tk.ForwardLongLine(io.Discard, 32<<20); err != nil {
				return lines, err
			}
			lines, start = append(lines, first), true
			continue
		}
		if errors.Is(err, wire.ErrSyntax) {
			if err := tk.ForwardLine(io.Discard); err != nil {
				return lines, err
			}
			lines, start = append(lines, first), true
			continue
		}
		if err != nil {
			return lines, err
		}
		if _, err := tk.Forward(io.Discard); err != nil {
			return lines, err
		}
		if line[len(line)-1].Kind == wire.KindLiteral {
			if _, err := tk.ForwardLiteral(io.Discard); err != nil {
				return lines, err
			}
			continue
		}
		lines, start = append(lines, first), true
	}
}

// TestRelayLongLineLiteralInCode: a literal inside a status
// response's code ("* OK [X ... {7}") is a literal to the tokenizer (and
// to any imapkit client). Once a token in the code was over MaxLineLength,
// ForwardLongLine took the whole status line for text, so the literal's
// body "a9 OK" became a line of its own to the relay (a stray or forged
// completion). It now refuses such a line (fails closed, out of step);
// the short one is still read as the tokenizer reads it.
func TestRelayLongLineLiteralInCode(t *testing.T) {
	body := "a9 OK\r\n"
	tail := body + "] text\r\n* 2 EXISTS\r\n"
	lines, err := relayLines("* OK [X short {7}\r\n" + tail)
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("short token: lines %q, %v; want [* *]", lines, err)
	}
	long := strings.Repeat("x", 1100000)
	lines, err = relayLines("* OK [X " + long + " {7}\r\n" + tail)
	if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
		t.Errorf("long token in the code: lines %q, %v; want none and ErrOutOfStep", lines, err)
	}
	// Past the code's end the text has no literal: relayed as text.
	lines, err = relayLines("* OK [X] " + long + " {7}\r\n" + tail)
	if err != nil || strings.Join(lines, ",") != "*,a9,,*" {
		t.Errorf("long text: lines %q, %v; want [* a9 (]) *]", lines, err)
	}
}

// TestRelaySyntaxErrorLiteralInCode: the same for a code that does
// not tokenize (an unmatched quote in it) and ends in a literal's header:
// ForwardLine took the line for text; it now refuses it. A code that does
// not tokenize and announces no literal is still relayed as a line.
func TestRelaySyntaxErrorLiteralInCode(t *testing.T) {
	lines, err := relayLines("* OK [X \"y {7}\r\na9 OK\r\n] text\r\n* 2 EXISTS\r\n")
	if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
		t.Errorf("lines %q, %v; want none and ErrOutOfStep", lines, err)
	}
	lines, err = relayLines("* OK [X \"y] text\r\n* 2 EXISTS\r\n")
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("lines %q, %v; want [* *]", lines, err)
	}
}

// TestRelayLongCodeClosedBeforeText: a line whose head stopped inside
// a status response's code (a token over MaxLineLength) was refused (out
// of step) whenever its first part ended in "{n}", even with the code
// closed by ']' before it: "{5}" is then in the text, and every reader
// (the tokenizer reading the line whole, an imapkit client) reads the line
// as text. It is relayed as text again; a code still open at "{n}" is
// still refused.
func TestRelayLongCodeClosedBeforeText(t *testing.T) {
	long := strings.Repeat("x", 1100000)
	lines, err := relayLines("* OK [X " + long + "] text {5}\r\n* 2 EXISTS\r\n")
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("closed code: lines %q, %v; want [* *]", lines, err)
	}
	// A ']' inside a nested list or a quoted string does not close it.
	for _, in := range []string{
		"* OK [X (" + long + "] {5}\r\nabcde\r\n",
		"* OK [X " + long + " \"]\" {5}\r\nabcde\r\n",
	} {
		lines, err = relayLines(in + "* 2 EXISTS\r\n")
		if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
			t.Errorf("%.20q...: lines %q, %v; want none and ErrOutOfStep", in[len(in)-20:], lines, err)
		}
	}
}

// TestRelayUntokenizedCodeClosedBeforeText: the same for a code that
// does not tokenize (an unmatched quote), closed by ']' before text that
// ends in "{3}": the codec reads the line as a Status with text (see
// codec's TestCodeErrorTextLiteralInStep), so the relay relays it as a
// line. An unmatched quote is judged without quotes: its ']' counts.
func TestRelayUntokenizedCodeClosedBeforeText(t *testing.T) {
	lines, err := relayLines("* NO [BADCHARSET (x \"y)] {3}\r\n* 2 EXISTS\r\n")
	if err != nil || strings.Join(lines, ",") != "*,*" {
		t.Errorf("lines %q, %v; want [* *]", lines, err)
	}
	// Still open at "{3}" (its ']' is inside the list, whose ')' is
	// missing): refused.
	lines, err = relayLines("* NO [BADCHARSET (x \"y] {3}\r\nabc\r\n* 2 EXISTS\r\n")
	if !errors.Is(err, wire.ErrOutOfStep) || len(lines) != 0 {
		t.Errorf("open code: lines %q, %v; want none and ErrOutOfStep", lines, err)
	}
}
