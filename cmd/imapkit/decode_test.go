package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"

	"github.com/google/go-cmp/cmp"
)

// jsonLines parses the output of decode: one JSON object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("invalid JSON line %q: %v", l, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// every response type, one per line, with the "type" decode gives it.
var allTypes = []struct{ line, typ string }{
	{"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n", "OK"},
	{"* PREAUTH hi\r\n", "PREAUTH"},
	{"+ go\r\n", "CONTINUATION"},
	{"* CAPABILITY IMAP4rev1\r\n", "CAPABILITY"},
	{"* ENABLED QRESYNC\r\n", "ENABLED"},
	{"* FLAGS (\\Seen)\r\n", "FLAGS"},
	{"* 3 EXISTS\r\n", "EXISTS"},
	{"* 0 RECENT\r\n", "RECENT"},
	{"* 2 EXPUNGE\r\n", "EXPUNGE"},
	{"* 1 FETCH (UID 7)\r\n", "FETCH"},
	{"* LIST () \"/\" INBOX\r\n", "LIST"},
	{"* LSUB () \"/\" INBOX\r\n", "LSUB"},
	{"* STATUS INBOX (MESSAGES 1)\r\n", "STATUS"},
	{"* SEARCH 1 2\r\n", "SEARCH"},
	{"* ESEARCH (TAG \"a\") COUNT 2\r\n", "ESEARCH"},
	{"* SORT 2 1\r\n", "SORT"},
	{"* THREAD (1 2)\r\n", "THREAD"},
	{"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", "NAMESPACE"},
	{"* QUOTA \"\" (STORAGE 1 2)\r\n", "QUOTA"},
	{"* QUOTAROOT INBOX \"\"\r\n", "QUOTAROOT"},
	{"* ACL INBOX fred lr\r\n", "ACL"},
	{"* LISTRIGHTS INBOX fred l r\r\n", "LISTRIGHTS"},
	{"* MYRIGHTS INBOX lr\r\n", "MYRIGHTS"},
	{"* ANNOTATION INBOX /comment (value.priv NIL)\r\n", "ANNOTATION"},
	{"* METADATA INBOX (/private/comment \"x\")\r\n", "METADATA"},
	{"* ID NIL\r\n", "ID"},
	{"* VANISHED 1:3\r\n", "VANISHED"},
	{"* XFOO bar\r\n", "UNKNOWN"},
	{"a1 NO [TRYCREATE] no\r\n", "NO"},
	{"a2 BAD what\r\n", "BAD"},
	{"* BYE bye\r\n", "BYE"},
}

func TestDecodeAllTypes(t *testing.T) {
	var in strings.Builder
	for _, l := range allTypes {
		in.WriteString(l.line)
	}
	code, stdout, stderr := runCLI(t, in.String(), "decode")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	objs := jsonLines(t, stdout)
	if len(objs) != len(allTypes) {
		t.Fatalf("%d objects for %d responses:\n%s", len(objs), len(allTypes), stdout)
	}
	off := 0
	for i, o := range objs {
		if o["type"] != allTypes[i].typ {
			t.Errorf("line %q: type %v; want %s", allTypes[i].line, o["type"], allTypes[i].typ)
		}
		if o["offset"] != float64(off) {
			t.Errorf("line %q: offset %v; want %d", allTypes[i].line, o["offset"], off)
		}
		if _, ok := o["response"].(map[string]any); !ok {
			t.Errorf("line %q: response %v is not an object", allTypes[i].line, o["response"])
		}
		if _, ok := o["file"]; ok {
			t.Errorf("line %q: a file field with a single input", allTypes[i].line)
		}
		off += len(allTypes[i].line)
	}
}

// TestDecodeJSONShape pins the JSON of a few responses, as docs/decode.md
// describes it.
func TestDecodeJSONShape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"* OK [UIDNEXT 4392] Predicted next UID\r\n",
			`{"offset":0,"type":"OK","response":{"Tag":null,"Kind":"OK","Code":{"Kind":"UIDNEXT","Name":"UIDNEXT","Num":4392},"Text":"Predicted next UID"}}`},
		{"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
			`{"offset":0,"type":"OK","response":{"Tag":"A4","Kind":"OK","Code":{"Kind":"COPYUID","Name":"COPYUID","UIDValidity":38505,"Src":"304,319:320","Dst":"3956:3958"},"Text":"Done"}}`},
		{"* OK [XFOO a b] hi\r\n",
			`{"offset":0,"type":"OK","response":{"Tag":null,"Kind":"OK","Code":{"Kind":"OTHER","Name":"XFOO","Raw":"a b"},"Text":"hi"}}`},
		{"* LIST (\\HasNoChildren) NIL \"Envoy\xe9\"\r\n",
			`{"offset":0,"type":"LIST","response":{"LSUB":false,"Attrs":["\\HasNoChildren"],"Delim":null,"Mailbox":"Envoyé","ChildInfo":[],"OldName":null,"Extensions":[]}}`},
		{"* STATUS INBOX (MESSAGES 2 APPENDLIMIT NIL X-Y 1)\r\n",
			`{"offset":0,"type":"STATUS","response":{"Mailbox":"INBOX","Items":["MESSAGES","APPENDLIMIT"],"Messages":2,"AppendLimit":0,"Unknown":[{"Tag":"X-Y","Value":"1"}]}}`},
		{"* ESEARCH (TAG \"A1\") UID MIN 2 ALL 2,5:7\r\n",
			`{"offset":0,"type":"ESEARCH","response":{"Tag":"A1","UID":true,"Has":["MIN","ALL"],"Min":2,"All":"2,5:7"}}`},
		{"* ID NIL\r\n", `{"offset":0,"type":"ID","response":{"Params":null}}`},
		{"* ID ()\r\n", `{"offset":0,"type":"ID","response":{"Params":[]}}`},
		{"* 3 FETCH (UID 9 FLAGS () RFC822.SIZE -1 BODY[HEADER] {8}\r\nA: <b>\r\n)\r\n",
			`{"offset":0,"type":"FETCH","response":{"Seq":3,"Has":["UID","FLAGS","RFC822.SIZE"],"UID":9,"Flags":[],"RFC822Size":-1,` +
				`"Sections":[{"Kind":"BODY","Spec":"HEADER","Part":[],"Specifier":"HEADER","Fields":[],"Origin":0,"HasOrigin":false,"Data":"A: <b>\r\n","Streamed":true,"Size":8,"Missing":false,"Truncated":false}]}}`},
		{"* 4 FETCH (BODY[]<5> NIL BINARY.SIZE[1] 3)\r\n",
			`{"offset":0,"type":"FETCH","response":{"Seq":4,"Has":[],` +
				`"Sections":[{"Kind":"BODY","Spec":"","Part":[],"Specifier":"","Fields":[],"Origin":5,"HasOrigin":true,"Data":null,"Streamed":false,"Size":0,"Missing":false,"Truncated":false}],"BinarySizes":[{"Part":[1],"Size":3}]}}`},
		{"* THREAD (1 (2)(3))\r\n",
			`{"offset":0,"type":"THREAD","response":{"Threads":[{"Num":1,"Children":[{"Num":2,"Children":[]},{"Num":3,"Children":[]}]}]}}`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, tt.in, "decode")
		if code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", tt.in, code, stderr)
		}
		if diff := cmp.Diff(tt.want+"\n", stdout); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestDecodeBodyLimit: a streamed body is cut at -max-body and marked.
func TestDecodeBodyLimit(t *testing.T) {
	body := strings.Repeat("0123456789", 10000)
	in := "* 1 FETCH (UID 5 BODY[] {100000}\r\n" + body + " BODY[TEXT] {3}\r\nabc)\r\n* 2 EXISTS\r\n"
	for _, tt := range []struct {
		args      []string
		n         int
		truncated bool
	}{
		{[]string{"decode"}, 64 << 10, true},
		{[]string{"decode", "-max-body", "10"}, 10, true},
		{[]string{"decode", "-max-body", "200000"}, 100000, false},
	} {
		code, stdout, stderr := runCLI(t, in, tt.args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%q: exit %d, stderr %q", tt.args, code, stderr)
		}
		objs := jsonLines(t, stdout)
		if len(objs) != 2 {
			t.Fatalf("%q: %d objects; want 2", tt.args, len(objs))
		}
		secs := objs[0]["response"].(map[string]any)["Sections"].([]any)
		s0, s1 := secs[0].(map[string]any), secs[1].(map[string]any)
		if s0["Data"] != body[:tt.n] || s0["Truncated"] != tt.truncated || s0["Size"] != float64(100000) {
			t.Errorf("%q: first section: %d bytes, truncated %v, size %v", tt.args, len(s0["Data"].(string)), s0["Truncated"], s0["Size"])
		}
		if s1["Data"] != "abc"[:min(3, tt.n)] || s1["Truncated"] != (tt.n < 3) {
			t.Errorf("%q: second section %v", tt.args, s1)
		}
	}
}

// TestDecodeErrors: an undecodable response is reported with its offset,
// the rest of the stream is still decoded and the exit code is 1.
func TestDecodeErrors(t *testing.T) {
	in := "* 1 EXISTS\r\n* 1 FETCH (UID 7 FLAGS x)\r\n* 2 EXISTS\r\n* 99999999999 EXISTS\r\n* 3 EXISTS\r\n* 4 FETCH (UID"
	code, stdout, stderr := runCLI(t, in, "decode")
	if code != 1 {
		t.Errorf("exit %d; want 1", code)
	}
	var types []string
	for _, o := range jsonLines(t, stdout) {
		types = append(types, o["type"].(string))
	}
	if diff := cmp.Diff([]string{"EXISTS", "EXISTS", "EXISTS"}, types); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	want := []string{
		"imapkit decode: -: offset 12: cannot decode FETCH of message 1 (UID 7): ",
		"imapkit decode: -: offset 51: cannot decode response: ",
		"imapkit decode: -: offset 85: the stream ends inside a response",
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr:\n%s\nwant %d lines", stderr, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("stderr line %d: %q; want prefix %q", i, lines[i], w)
		}
	}
}

// TestDecodeFiles: several files (and "-") are decoded in turn, each
// object names its file, and a missing file is an error.
func TestDecodeFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cap")
	if err := os.WriteFile(a, []byte("* 1 EXISTS\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "* 2 EXISTS\r\n", "decode", a, "-", filepath.Join(dir, "missing"))
	if code != 1 || !strings.Contains(stderr, "missing") {
		t.Errorf("exit %d, stderr %q; want 1 and the missing file", code, stderr)
	}
	objs := jsonLines(t, stdout)
	if len(objs) != 2 || objs[0]["file"] != a || objs[1]["file"] != "-" {
		t.Fatalf("objects %v", objs)
	}
	if n := objs[1]["response"].(map[string]any)["Count"]; n != float64(2) {
		t.Errorf("stdin EXISTS %v; want 2", n)
	}
	code, _, stderr = runCLI(t, "", "decode", a)
	if code != 0 || stderr != "" {
		t.Errorf("one good file: exit %d, stderr %q", code, stderr)
	}
}

// TestDecodeCaptures runs decode over the server captures of
// codec/testdata/quirks: every response decodes but the ones marked as
// deliberately undecodable.
func TestDecodeCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "codec", "testdata", "quirks", "*.txt"))
	if len(files) == 0 {
		t.Skip("no captures")
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var in strings.Builder
		bad := 0
		for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
			if strings.HasPrefix(l, "#! error") {
				bad++
			}
			if !strings.HasPrefix(l, "#") {
				in.WriteString(l + "\r\n")
			}
		}
		code, stdout, stderr := runCLI(t, in.String(), "decode")
		wantCode := 0
		if bad > 0 {
			wantCode = 1
		}
		if code != wantCode || strings.Count(stderr, "\n") != bad {
			t.Errorf("%s: exit %d with %d errors; want %d with %d:\n%s", f, code, strings.Count(stderr, "\n"), wantCode, bad, stderr)
		}
		if len(jsonLines(t, stdout)) < 20 {
			t.Errorf("%s: only %d responses", f, len(jsonLines(t, stdout)))
		}
	}
}

// TestDecodeSectionsQuadratic: imapkit decode's SectionHandler
// (decodeRun.section) found the index of the section it is given by
// comparing it with every section of the FETCH so far: O(s) per section,
// O(s^2) for a FETCH of s sections. "BODY[1] {0}" takes 14 bytes of the
// line (the literal bodies do not count toward MaxLineLength), so one
// capture line of 1 MB holds 70,000 sections; the handler alone took most
// of the 2 to 3.6 s the line cost. The index is len(f.Sections)-1, known
// without a search. The test runs the whole command once for the record,
// then calls the handler as the decoder does (once per section, the
// section last in f.Sections) for 70,000 sections and counts the sections
// it compared (decodeRun.compared): at most one a call. It compared the
// CPU time of the handler's thread for x8 the sections (at most x30, best
// of three), which a loaded machine could stretch.
func TestDecodeSectionsQuadratic(t *testing.T) {
	const n = 17500 // 70,000 took 2.6 s (30 s under -race), linear in n
	in := "* 1 FETCH (UID 1" + strings.Repeat(" BODY[1] {0}\r\n", n) + ")\r\n"
	code, out, errs := runCLI(t, in, "decode")
	if code != 0 || !strings.Contains(out, `"type":"FETCH"`) {
		t.Fatalf("n=%d: exit %d, stderr %.200q", n, code, errs)
	}
	const sections = 70000
	dr := &decodeRun{maxBody: defaultMaxBody}
	f := &codec.Fetch{Sections: make([]codec.Section, 0, sections)}
	for i := 0; i < sections; i++ {
		f.Sections = append(f.Sections, codec.Section{Kind: codec.SectionBody})
		if err := dr.section(f, &f.Sections[i], strings.NewReader("")); err != nil {
			t.Fatal(err)
		}
	}
	if len(dr.bodies) != sections {
		t.Fatalf("%d sections: %d bodies filed", sections, len(dr.bodies))
	}
	t.Logf("the section handler for %d sections compared %d", sections, dr.compared)
	if dr.compared > sections {
		t.Errorf("imapkit decode's section handler costs O(s^2) for a FETCH of s sections: %d sections compared for %d (one 980 KB line); want at most one a section", dr.compared, sections)
	}
}
