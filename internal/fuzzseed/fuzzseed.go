// Package fuzzseed gives the fuzz targets that take raw server bytes their
// seeds: the quirk captures of codec/testdata/quirks turned into the byte
// streams a server sends, and small byte-stream versions of the scenarios
// of the hostile-server suite (internal/hostile, session/hostile_test.go,
// issue 7). It also holds what the fuzz harnesses and stress tests share:
// a connection that breaks mid-stream (CutConn) and the goroutine stacks
// for a report (Stacks). It is imported by tests only.
//
// The hostile streams answer the commands of session's FuzzSession (tags
// A1 to A4: UID FETCH, NOOP, STATUS, APPEND with a synchronizing literal);
// for the wire and codec targets the tags do not matter.
package fuzzseed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/imapkit/imapkit/internal/printable"
)

// A Seed is one named input.
type Seed struct {
	Name string
	Data []byte
}

// Capture turns the text of a quirk capture into the bytes the server
// sent: lines starting with '#' are comments (and "#! error" marks), every
// other line ends in CRLF on the wire. It is the conversion of
// codec/quirks_test.go's parseCapture.
func Capture(text []byte) []byte {
	var out []byte
	for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l...)
		out = append(out, '\r', '\n')
	}
	return out
}

// Captures reads every *.txt capture of dir (codec/testdata/quirks) and
// returns its server bytes, named "quirk-<file>", in name order.
func Captures(dir string) ([]Seed, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("fuzzseed: no captures in %s", dir)
	}
	sort.Strings(names)
	var out []Seed
	for _, name := range names {
		text, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Seed{Name: "quirk-" + strings.TrimSuffix(filepath.Base(name), ".txt"), Data: Capture(text)})
	}
	return out, nil
}

// Untagged returns data without its tagged lines: the untagged responses
// of a capture (with their literals), to which a fuzz target appends
// completions of its own. A line is tagged when its first word is neither
// "*" nor "+"; the lines inside a literal are kept as they are.
func Untagged(data []byte) []byte {
	var out []byte
	lit := int64(0) // bytes of the current literal still to come
	keep := false   // the current response is untagged
	cont := false   // the next line goes on with the current response
	for len(data) > 0 {
		i := bytes.Index(data, []byte("\r\n"))
		if i < 0 {
			i = len(data)
		} else {
			i += 2
		}
		line := data[:i]
		data = data[i:]
		switch {
		case lit > 0:
			lit -= int64(len(line))
			if lit == 0 {
				cont = true
			}
		case cont:
			cont = false
		default:
			keep = bytes.HasPrefix(line, []byte("* ")) || bytes.HasPrefix(line, []byte("+"))
		}
		if keep {
			out = append(out, line...)
		}
		if lit <= 0 && !cont {
			lit = 0
			if n, ok := literalAtEnd(line); ok {
				lit, cont = n, n == 0
			}
		}
	}
	return out
}

// literalAtEnd returns n when line ends in "{n}\r\n" or "{n+}\r\n".
func literalAtEnd(line []byte) (int64, bool) {
	line = bytes.TrimSuffix(line, []byte("\r\n"))
	if !bytes.HasSuffix(line, []byte("}")) {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	num := strings.TrimSuffix(string(line[i+1:len(line)-1]), "+")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Complete is the well-formed end of a FuzzSession exchange: every command
// answered, the APPEND's literal let go with "+".
const Complete = "A1 OK UID FETCH done\r\nA2 OK NOOP done\r\n* STATUS INBOX (MESSAGES 1 UIDNEXT 2)\r\nA3 OK STATUS done\r\n+ go ahead\r\nA4 OK [APPENDUID 1 2] APPEND done\r\n"

// Hostile returns the byte-stream versions of the hostile scenarios: what
// the scripted server of each case sends after its greeting, cut to a
// size a fuzzer can mutate (an endless line is 8 KiB, a deep nesting 200
// levels, a flood 200 responses). Timing (stalls, slowloris) and TLS have
// no byte-stream form and are left out.
func Hostile() []Seed {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	var lits strings.Builder
	lits.WriteString("* 1 FETCH (UID 1")
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&lits, " BODY[%d] {3}\r\nabc", i)
	}
	lits.WriteString(")\r\n")
	random := make([]byte, 512)
	x := uint32(2463534242)
	for i := range random {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		random[i] = byte(x)
	}
	seeds := []struct{ Name, Data string }{
		{"hostile-control", "* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n" + Complete},
		{"hostile-literal-int64-overflow", "* 1 FETCH (UID 1 BODY[] {9223372036854775808}\r\nabc"},
		{"hostile-literal-past-2to64", "* 1 FETCH (UID 1 BODY[] {18446744073709551616}\r\nabc"},
		{"hostile-literal-over-limit", "* 1 FETCH (UID 1 BODY[] {9999999999}\r\nabcdef" + Complete},
		{"hostile-literal-plus-header", "* 1 FETCH (UID 1 BODY[] {5+}\r\nhello)\r\n" + Complete},
		{"hostile-forged-pipelined", "A2 OK forged before its turn\r\nA1 OK forged\r\n* 1 FETCH (UID 1)\r\n" + Complete},
		{"hostile-forged-append", "A4 OK [APPENDUID 1 2] never sent\r\nA1 OK\r\nA2 OK\r\nA3 OK\r\n"},
		{"hostile-password-echo", "A1 NO [AUTHENTICATIONFAILED] bad password hunter2-SECRET\r\nA2 BAD hunter2-SECRET\r\n* BYE hunter2-SECRET\r\n"},
		{"hostile-escapes", "* OK [ALERT] \x1b[31mred\x1b[0m\x07\x08\r\nA1 NO \x1b]0;title\x07\r\nA2 BAD \x1b[2J\r\n* BYE \x1b[31mbye\r\n"},
		{"hostile-endless-line", "* OK " + rep("a", 8<<10)},
		{"hostile-long-line-then-ok", "* OK " + rep("a", 8<<10) + "\r\n" + Complete},
		{"hostile-nested-list", "* LIST (" + rep("(", 200) + ") \"/\" INBOX\r\n" + Complete},
		{"hostile-nested-bodystructure", "* 1 FETCH (UID 1 BODYSTRUCTURE " + rep("(", 200) + "\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1" + rep(")", 200) + ")\r\n" + Complete},
		{"hostile-untagged-flood", rep("* 1 EXISTS\r\n", 200) + Complete},
		{"hostile-fetch-flood", rep("* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n", 200) + Complete},
		{"hostile-many-literals", lits.String() + Complete},
		{"hostile-numbers", "* 4294967296 EXISTS\r\n* -1 FETCH (UID 1)\r\n* 1 FETCH (UID 0)\r\n* 1 FETCH (UID 18446744073709551616)\r\n* 1 FETCH (MODSEQ (99999999999999999999))\r\n* 1 FETCH (UID 1 BODY[]<18446744073709551616> {1}\r\na)\r\n* 0 FETCH (UID 1)\r\n* 99999999999 EXPUNGE\r\n* STATUS INBOX (MESSAGES -1 UIDNEXT 18446744073709551616)\r\n" + Complete},
		{"hostile-bye-mid-fetch", "* 1 FETCH (UID 1 BODY[] {10}\r\nabc* BYE going away\r\n"},
		{"hostile-bye-between", "* 1 FETCH (UID 1 FLAGS ())\r\n* BYE going away\r\n"},
		{"hostile-eof-mid-literal", "* 1 FETCH (UID 1 BODY[] {100}\r\nabc"},
		{"hostile-eof-mid-line", "* 1 FETCH (UID 1 FLA"},
		{"hostile-random", string(random)},
		{"hostile-nul", "* OK a\x00b\r\n* 1 FETCH (UID 1 BODY[] \"a\x00b\")\r\n" + Complete},
		{"hostile-lone-cr-lf", "* OK a\rb\r\n* OK a\nb\r\n* 1 FETCH (UID 1)\n" + Complete},
		{"hostile-invalid-utf8", "* LIST () \"/\" \"\xff\xfe\xc3\"\r\n* 1 FETCH (UID 1 ENVELOPE (NIL \"\xc3\x28\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n" + Complete},
		{"hostile-unknown-tag", "ZZZ9 OK who are you\r\n" + Complete},
		{"hostile-unexpected-continuation", "+ nothing pending\r\n+ again\r\n" + Complete},
		{"hostile-endless-continuations", rep("+ more\r\n", 100)},
		{"hostile-starttls-injection", "A1 OK Begin TLS now\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n* 1 FETCH (UID 1)\r\n"},
		{"hostile-continuation-refused", "A4 NO [TOOBIG] refused\r\nA1 OK\r\nA2 OK\r\nA3 OK\r\n"},
		{"hostile-tagged-not-status", "A1 FETCH (UID 1)\r\nA2 OK\r\nA3 OK\r\n+ go\r\nA4 OK\r\n"},
		{"hostile-bad-tagged-code", "A1 OK [UIDNEXT abc] x\r\nA2 OK [APPENDUID x y] x\r\nA3 OK [BADCHARSET (\r\n+ go\r\nA4 OK [APPENDUID 0 0:*] done\r\n"},
		{"hostile-bare-codes", "* OK [ALERT]\r\n* NO\r\n* BAD [PARSE]\r\n* PREAUTH late\r\n* OK [CAPABILITY IMAP4rev1 IMAP4rev2 UTF8=ACCEPT ENABLE]\r\n* ENABLED UTF8=ACCEPT\r\n" + Complete},
	}
	out := make([]Seed, len(seeds))
	for i, s := range seeds {
		out[i] = Seed{Name: s.Name, Data: []byte(s.Data)}
	}
	return out
}

// CorpusFile renders data as a file of Go's fuzzing corpus for a target
// that takes one []byte.
func CorpusFile(data []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n")
}

// Sync checks that dir (a package's testdata/fuzz/<Target>) holds a corpus
// file for every seed, named after it, with its current bytes; with update
// it writes them instead. It returns what is missing or stale. Other files
// of dir (crashers, named by their hash) are left alone.
func Sync(dir string, seeds []Seed, update bool) (problems []string, err error) {
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	for _, s := range seeds {
		path := filepath.Join(dir, s.Name)
		want := CorpusFile(s.Data)
		if update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				return nil, err
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			problems = append(problems, path+" is missing or stale")
		}
	}
	return problems, nil
}

// Unsafe reports whether text holds a character internal/printable
// escapes (printable.Unsafe: a control byte, C0, DEL or C1, a line or
// paragraph separator, a bidirectional control) or invalid UTF-8: what no
// error text or trace line of the library may carry (a terminal escape
// from a server must not reach a user or a log). The fuzz targets check
// every error and trace line with it.
func Unsafe(text string) bool {
	return !utf8.ValidString(text) || strings.ContainsFunc(text, printable.Unsafe)
}
