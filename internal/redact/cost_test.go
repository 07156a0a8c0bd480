package redact

import (
	"bytes"
	"encoding/base64"
	"testing"
	"unsafe"
)

// capture is the session trace's default capture of a server line
// (session.DefaultTraceCapture), the longest line it redacts.
const capture = 64 << 10

// TestRedactCutPeriodicSecretWorkBounded checks that RedactCut and Redact
// of a line cut at the session's capture (64 KiB) that repeats
// credentials with a short period, or is a run of near matches of every
// credential (a server knows the credentials it was sent), look at no
// more than a few bytes a byte of the line a form, and print none of a
// credential: the session's cut was pulled back one occurrence at a time,
// each step searching every credential around the cut again (seconds a
// line, under the tracer's lock); the proxy's marked each occurrence of
// a periodic credential whole (n times m); bytes.Index of a long
// credential compared every near match whole. work counts the bytes
// looked at.
func TestRedactCutPeriodicSecretWorkBounded(t *testing.T) {
	cases := []struct {
		name string
		x    *Set
		line []byte
	}{
		{"123123", periodicTokens(), bytes.Repeat([]byte("123"), capture/3)},
		{"aaRuns", periodicRuns(), bytes.Repeat([]byte("a"), capture)},
	}
	for _, h := range hostileLines(capture, 32<<10) {
		var x Set
		for _, s := range h.secrets {
			x.Add(s)
		}
		cases = append(cases, struct {
			name string
			x    *Set
			line []byte
		}{h.name, &x, h.line})
	}
	for _, c := range cases {
		x := c.x
		forms := 0
		x.Forms(func([]byte, bool) { forms++ })
		for _, cut := range []bool{false, true} {
			x.work = 0
			var got []byte
			if cut {
				got = x.RedactCut(c.line)
			} else {
				got = x.Redact(c.line)
			}
			if bound := 8 * len(c.line) * forms; x.work > bound {
				t.Errorf("%s (cut %v): looked at %d bytes of a %d-byte line, more than %d (%d forms)", c.name, cut, x.work, len(c.line), bound, forms)
			}
			if c.name != "period16" && c.name != "runA" && bytes.Contains(got, c.line[:3]) {
				t.Errorf("%s (cut %v): shows part of a credential: %.40q", c.name, cut, got)
			}
		}
	}
}

// periodicTokens returns secrets "123123" and 15 tokens of 1,500 bytes
// that open as "123123123123".
func periodicTokens() *Set {
	x := new(Set)
	x.AddString("123123")
	for i := range 15 {
		raw := bytes.Repeat([]byte{byte(i + 1), 0x5a, 0x33}, 375)
		x.AddString("123123123123" + base64.StdEncoding.EncodeToString(raw))
	}
	return x
}

// periodicRuns returns secrets "aa" and 15 runs of "a" of 2,048 bytes
// and more.
func periodicRuns() *Set {
	x := new(Set)
	x.AddString("aa")
	for i := range 15 {
		x.Add(bytes.Repeat([]byte("a"), 2048+i))
	}
	return x
}

// TestFormsZeroed: every form of a credential (the quoted ones, the
// printed ones) is zeroed with it, when it is dropped for a seventeenth
// and when the Set forgets them all, whole arrays.
func TestFormsZeroed(t *testing.T) {
	x := New(func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\t"), []byte(`\x09`)) })
	x.Add([]byte("first\tsecret\"1"))
	var first [][]byte
	x.Forms(func(f []byte, _ bool) { first = append(first, unsafe.Slice(unsafe.SliceData(f), cap(f))) })
	if len(first) < 4 {
		t.Fatalf("%d forms kept for a secret with a tab and a quote, want 4 or more: %q", len(first), first)
	}
	for i := range MaxSecrets {
		x.Add([]byte{'s', '\t', byte('a' + i), 'x', 'y'})
	}
	for _, f := range first {
		if string(f) != string(make([]byte, len(f))) {
			t.Errorf("form of a dropped secret left as %q", f)
		}
	}
	var last [][]byte
	x.Forms(func(f []byte, _ bool) { last = append(last, unsafe.Slice(unsafe.SliceData(f), cap(f))) })
	x.Forget()
	for _, f := range last {
		if string(f) != string(make([]byte, len(f))) {
			t.Errorf("form left as %q after Forget", f)
		}
	}
	if x.Any() {
		t.Error("Any after Forget")
	}
}

// TestAgainNewest: a credential sent again becomes the newest, and is not
// the one dropped for the seventeenth (the proxy's rule, stricter than
// the session's, which kept its first place).
func TestAgainNewest(t *testing.T) {
	var x Set
	x.AddString("password-00")
	for i := 1; i < MaxSecrets; i++ {
		x.AddString("password-" + string(rune('a'+i)) + "x")
	}
	x.AddString("password-00")
	x.AddString("one-more")
	if got := string(x.Redact([]byte("password-00"))); got != "***" {
		t.Errorf("a credential sent again was dropped as the oldest: Redact = %q", got)
	}
}

// TestAddOpen: the start of a credential that went on (AddOpen: a capture
// cut at its bound) is redacted with the rest of the line after it, which
// may be the credential's rest; a whole one (Add) only as far as it goes.
func TestAddOpen(t *testing.T) {
	var x Set
	x.AddOpen([]byte("token-start"))
	x.Add([]byte("pw-whole"))
	for _, c := range []struct{ line, want string }{
		{"* NO bad token-start-and-its-rest end", "* NO bad ***"},
		{"* NO pw-whole and token-start...", "* NO *** and ***"},
		{"* NO pw-whole-more", "* NO ***-more"},
		{"* NO token-sta", "* NO token-sta"},
	} {
		if got := string(x.Redact([]byte(c.line))); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.line, got, c.want)
		}
	}
	// The cut before the partial "token-sta" would split the open one:
	// back to its start.
	if got := string(x.RedactCut([]byte("* NO token-start-and-its-rest end, token-sta"))); got != "* NO " {
		t.Errorf("RedactCut = %q, want %q", got, "* NO ")
	}
}

// TestKeptMemory: what a Set keeps from one line to the next, after a
// line of the session's capture (64 KiB) with a credential in it and a
// hostile one (near matches of long credentials, ending in the start of
// one: the two-way search and the cut's table): its cover, 2 bits a byte
// (16 KiB), and no table over keepFail entries. The session kept an
// []int32 a byte (256 KiB), and a table as long as the longest
// credential at the cut.
func TestKeptMemory(t *testing.T) {
	var x Set
	x.AddString("s3cret-pass")
	long := bytes.Repeat([]byte("abcdefghijklmnop"), 4<<10)
	long[len(long)-1] = 'Z'
	x.Add(long)
	line := append([]byte("* OK echo s3cret-pass "), bytes.Repeat([]byte("q"), capture-22)...)
	x.RedactCut(line)
	x.RedactCut(append(bytes.Repeat([]byte("abcdefghijklmnop"), 2<<10), 'x')) // the cut's table
	x.Redact(bytes.Repeat([]byte("abcdefghijklmnop"), capture/16))
	if got, want := x.KeptBytes(), capture/4+64; got > want {
		t.Errorf("the Set keeps %d bytes after a %d-byte line, want at most %d", got, capture, want)
	}
}
