package commands_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

func TestInt2AP(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, ""},
		{1, "B"},
		{15, "P"},
		{16, "BA"},
		{0x1F, "BP"},
		{4096, "BAAA"},
		{65535, "PPPP"},
		{1<<64 - 1, "PPPPPPPPPPPPPPPP"},
	}
	for _, tt := range tests {
		if got := commands.Int2AP(tt.in); got != tt.want {
			t.Errorf("Int2AP(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: ErrNoFlags
	}{
		{`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`, []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}},
		{`* OK [PERMANENTFLAGS (\Deleted \Seen \*)] Limited`, []string{`\Deleted`, `\Seen`, `\*`}},
		{`1 (UID 7 FLAGS (\Seen))`, []string{`\Seen`}},
		{`* FLAGS ()`, []string{}},
		{`FLAGS (a) FLAGS (b)`, []string{"b"}},
		{`FLAGS (a) FLAGS (b`, []string{"a"}},
		{"FLAGS (a\nb)", []string{"a", "b"}},
		{"x\nFLAGS (a)", nil},
		{`flags (\Seen)`, nil},
		{`FLAGS(\Seen)`, nil},
		{`FLAGS (\Seen`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		got, err := commands.ParseFlags([]byte(tt.in))
		if tt.want == nil {
			if !errors.Is(err, commands.ErrNoFlags) {
				t.Errorf("ParseFlags(%q) = %q, %v; want ErrNoFlags", tt.in, got, err)
			}
			continue
		}
		if err != nil || got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseFlags(%q) = %#v, %v; want %#v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestInternaldate2Time(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`1 (INTERNALDATE "17-Jul-1996 02:44:25 -0700")`, time.Date(1996, 7, 17, 9, 44, 25, 0, time.UTC), true},
		{`INTERNALDATE " 7-Jul-1996 02:44:25 +0200"`, time.Date(1996, 7, 7, 0, 44, 25, 0, time.UTC), true},
		{`INTERNALDATE "7-Jul-1996 02:44:25 +0200"`, time.Time{}, false},
		{`INTERNALDATE "17-jul-1996 02:44:25 +0200"`, time.Time{}, false},
		{`INTERNALDATE "17-Foo-1996 02:44:25 +0200"`, time.Time{}, false},
		{`INTERNALDATE "31-Feb-1996 02:44:25 +0200"`, time.Time{}, false},
		{"x\nINTERNALDATE \"17-Jul-1996 02:44:25 -0700\"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := commands.Internaldate2Time([]byte(tt.in))
		if ok != tt.ok || !got.Equal(tt.want) || (ok && got.Location() != time.UTC) {
			t.Errorf("Internaldate2Time(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTime2Internaldate(t *testing.T) {
	in := time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("PDT", -7*3600))
	if got, want := commands.Time2Internaldate(in), `"17-Jul-1996 02:44:25 -0700"`; got != want {
		t.Errorf("Time2Internaldate(%v) = %q; want %q", in, got, want)
	}
}

func TestQuoteInternaldate(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"17-Jul-1996 02:44:25 -0700"`, `"17-Jul-1996 02:44:25 -0700"`, true},
		{`" 7-Jul-1996 02:44:25 -0700"`, `" 7-Jul-1996 02:44:25 -0700"`, true},
		{`17-Jul-1996 02:44:25 -0700`, `"17-Jul-1996 02:44:25 -0700"`, true},
		{`"17-JUL-1996 02:44:25 -0700"`, `"17-JUL-1996 02:44:25 -0700"`, true},
		{`"7-Jul-1996 02:44:25 -0700"`, "", false},
		{`"garbage"`, "", false},
		{`""`, "", false},
		{`"`, "", false},
		{``, "", false},
		{`"31-Feb-1996 02:44:25 -0700"`, "", false},
		{`"17-Jul-1996 02:44:25 -0700" `, "", false},
	}
	for _, tt := range tests {
		got, err := commands.QuoteInternaldate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("QuoteInternaldate(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// pyLatin1 maps each byte of s to the rune of the same value, so arbitrary
// bytes survive JSON on the way to Python (which encodes them back with
// "latin-1").
func pyLatin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// pyUnlatin1 undoes pyLatin1.
func pyUnlatin1(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

const pyImaplibScript = `
import imaplib, json, sys
from datetime import datetime, timezone, timedelta
d = json.load(sys.stdin)
out = {}
out["int2ap"] = [imaplib.Int2AP(n).decode() for n in d["int2ap"]]
out["flags"] = []
for s in d["flags"]:
    b = s.encode("latin-1")
    out["flags"].append({"matched": imaplib.Flags.match(b) is not None,
                         "flags": [f.decode("latin-1") for f in imaplib.ParseFlags(b)]})
out["internaldate"] = []
for s in d["internaldate"]:
    try:
        r = imaplib.Internaldate2tuple(s.encode("latin-1"))
        out["internaldate"].append(None if r is None else list(r[:6]))
    except Exception as e:
        out["internaldate"].append(type(e).__name__)
out["time2internaldate"] = [
    imaplib.Time2Internaldate(datetime.fromtimestamp(ts, timezone(timedelta(seconds=off))))
    for ts, off in d["time2internaldate"]]
out["quoted"] = [imaplib.Time2Internaldate(s) for s in d["quoted"]]
json.dump(out, sys.stdout)
`

// TestImaplibPython runs Python's imaplib on the same inputs and compares.
// Where the results differ on purpose (documented on each function), the
// row names the difference.
func TestImaplibPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 not found (%v): it is needed to compare with imaplib; .ci/install-deps installs it", err)
	}

	int2ap := []uint64{0, 1, 2, 9, 10, 15, 16, 17, 255, 256, 4095, 4096, 12345, 54321, 65535,
		65536, 1 << 31, 1<<32 - 1, 1 << 40, 1<<63 + 12345, 1<<64 - 1}

	flags := []string{
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS (\Deleted \Seen \*)] Limited`,
		`* OK [PERMANENTFLAGS ()] No permanent flags permitted`,
		`1 (UID 7 FLAGS (\Seen))`,
		`1 (FLAGS (\Seen $Forwarded) UID 7)`,
		`* FLAGS ()`,
		`* 1 FETCH (FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700")`,
		`no flags here`,
		``,
		`FLAGS (a b`,
		`FLAGS (a) FLAGS (b)`,
		`FLAGS (a) FLAGS (b`,
		`flags (\Seen)`,
		`FLAGS(\Seen)`,
		"line1\nFLAGS (x)",
		"FLAGS (a)\nFLAGS (b)",
		"\r\nFLAGS (a)",
		"FLAGS (a\nb) FLAGS (c)",
		"x FLAGS (a\nFLAGS (b) c)",
		"FLAGS (a\tb\x0bc\x0cd\re)",
		"FLAGS (\xa0x \x85y \xc2\xa0z)",
		"FLAGS (  spaced   out  )",
		"FLAGS ((nested))",
		"x)FLAGS (y",
		"FLAGS (\\Seen)\r\n",
		"* 2 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE 44827)",
	}

	type idRow struct {
		in   string
		diff string // why Go differs from Python, or ""
	}
	internaldate := []idRow{
		{`1 (INTERNALDATE "17-Jul-1996 02:44:25 -0700")`, ""},
		{`INTERNALDATE " 7-Jul-1996 02:44:25 -0700"`, ""},
		{`INTERNALDATE "07-Jul-1996 02:44:25 -0700"`, ""},
		{`INTERNALDATE "17-Jul-1996 02:44:25 +0000"`, ""},
		{`INTERNALDATE "31-Dec-1999 23:59:59 +1400"`, ""},
		{`INTERNALDATE "01-Jan-2000 00:00:00 -1200"`, ""},
		{`INTERNALDATE "29-Feb-2024 12:00:00 +0530"`, ""},
		{`INTERNALDATE "17-Jul-1996 02:44:60 -0700"`, ""},
		{`* 12 FETCH (UID 5 INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 44827)`, ""},
		{`INTERNALDATE "17-jul-1996 02:44:25 -0700"`, ""},
		{`INTERNALDATE "7-Jul-1996 02:44:25 -0700"`, ""},
		{`INTERNALDATE 17-Jul-1996 02:44:25 -0700`, ""},
		{`internaldate "17-Jul-1996 02:44:25 -0700"`, ""},
		{`INTERNALDATE "17-Jul-96 02:44:25 -0700"`, ""},
		{`INTERNALDATE "17-Jul-1996 02:44:25 -0700`, ""},
		{"x\nINTERNALDATE \"17-Jul-1996 02:44:25 -0700\"", ""},
		{`INTERNALDATE "17-Jul-1996 02:44:25 -0700" INTERNALDATE "18-Jul-1996 02:44:25 -0700"`, ""},
		{`INTERNALDATE "17-Jul-1996 02:44:25 -0700" INTERNALDATE "18-Jul-1996 02:44:25"`, ""},
		{`INTERNALDATE "17-Foo-1996 02:44:25 -0700"`, "imaplib raises KeyError for an unknown month"},
		{`INTERNALDATE "31-Feb-2024 02:44:25 -0700"`, "imaplib rolls 31-Feb over into March"},
		{`INTERNALDATE "00-Jul-1996 02:44:25 -0700"`, "imaplib rolls day 0 over into June"},
		{`INTERNALDATE "17-Jul-1996 25:00:00 -0700"`, "imaplib rolls hour 25 over"},
	}

	type tzRow struct {
		unix int64
		off  int // seconds east of UTC
		diff string
	}
	t2i := []tzRow{
		{0, 0, ""}, {837596665, -7 * 3600, ""}, {837596665, 0, ""}, {837596665, 19800, ""},
		{837596665, -34200, ""}, {1e9, 3600, ""}, {2e9, -3600, ""}, {1e9, 14 * 3600, ""},
		{1e9, -12 * 3600, ""}, {1709208000, 0, ""}, {1709208000, 20700, ""}, {951782400, 0, ""},
		{1234567890, -18000, ""}, {1700000000, 32400, ""}, {86399, 0, ""}, {-86400, 0, ""},
		{4102444800, 0, ""}, {1000000, 60, ""}, {1000000, -60, ""},
		{837596665, 3723, "Python writes +HHMMSS for an offset with seconds; Go writes UTC"},
	}
	quoted := []string{`"17-Jul-1996 02:44:25 -0700"`, `" 7-Jul-1996 02:44:25 +0000"`, `"garbage"`}

	var input struct {
		Int2AP            []uint64   `json:"int2ap"`
		Flags             []string   `json:"flags"`
		Internaldate      []string   `json:"internaldate"`
		Time2Internaldate [][2]int64 `json:"time2internaldate"`
		Quoted            []string   `json:"quoted"`
	}
	input.Int2AP = int2ap
	for _, f := range flags {
		input.Flags = append(input.Flags, pyLatin1(f))
	}
	for _, r := range internaldate {
		input.Internaldate = append(input.Internaldate, pyLatin1(r.in))
	}
	for _, r := range t2i {
		input.Time2Internaldate = append(input.Time2Internaldate, [2]int64{r.unix, int64(r.off)})
	}
	input.Quoted = quoted
	js, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", pyImaplibScript)
	cmd.Stdin = bytes.NewReader(js)
	cmd.Env = append(os.Environ(), "TZ=UTC") // Internaldate2tuple returns local time
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outJS, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var out struct {
		Int2AP []string `json:"int2ap"`
		Flags  []struct {
			Matched bool     `json:"matched"`
			Flags   []string `json:"flags"`
		} `json:"flags"`
		Internaldate      []any    `json:"internaldate"`
		Time2Internaldate []string `json:"time2internaldate"`
		Quoted            []string `json:"quoted"`
	}
	if err := json.Unmarshal(outJS, &out); err != nil {
		t.Fatalf("python3 output %q: %v", outJS, err)
	}

	for i, n := range int2ap {
		if got, want := commands.Int2AP(n), out.Int2AP[i]; got != want {
			t.Errorf("Int2AP(%d) = %q; want %q (imaplib)", n, got, want)
		}
	}

	for i, in := range flags {
		py := out.Flags[i]
		got, err := commands.ParseFlags([]byte(in))
		if !py.Matched {
			if !errors.Is(err, commands.ErrNoFlags) {
				t.Errorf("ParseFlags(%q) = %q, %v; want ErrNoFlags (imaplib: no match)", in, got, err)
			}
			continue
		}
		want := []string{}
		for _, f := range py.Flags {
			want = append(want, pyUnlatin1(f))
		}
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("ParseFlags(%q) = %q, %v; want %q (imaplib)", in, got, err, want)
		}
	}

	for i, row := range internaldate {
		got, ok := commands.Internaldate2Time([]byte(row.in))
		var pyDesc string
		var want time.Time
		pyOK, pyRaised := false, false
		switch v := out.Internaldate[i].(type) {
		case nil:
			pyDesc = "None"
		case string:
			pyDesc, pyRaised = "raises "+v, true
		case []any:
			want = time.Date(int(v[0].(float64)), time.Month(v[1].(float64)), int(v[2].(float64)),
				int(v[3].(float64)), int(v[4].(float64)), int(v[5].(float64)), 0, time.UTC)
			pyDesc, pyOK = want.String(), true
		}
		same := !pyRaised && ok == pyOK && (!ok || got.Equal(want))
		switch {
		case row.diff == "" && !same:
			t.Errorf("Internaldate2Time(%q) = %v, %v; want %s (imaplib)", row.in, got, ok, pyDesc)
		case row.diff != "" && same:
			t.Errorf("Internaldate2Time(%q) = %v, %v, same as imaplib; want the documented difference: %s", row.in, got, ok, row.diff)
		case row.diff != "" && ok:
			t.Errorf("Internaldate2Time(%q) = %v, true; want ok=false (%s)", row.in, got, row.diff)
		}
	}

	for i, row := range t2i {
		in := time.Unix(row.unix, 0).In(time.FixedZone("", row.off))
		got, want := commands.Time2Internaldate(in), out.Time2Internaldate[i]
		if row.diff == "" && got != want {
			t.Errorf("Time2Internaldate(%v) = %s; want %s (imaplib)", in, got, want)
		}
		if row.diff != "" {
			if got == want {
				t.Errorf("Time2Internaldate(%v) = %s, same as imaplib; want the documented difference: %s", in, got, row.diff)
			}
			if back, err := codec.ParseInternalDate([]byte(strings.Trim(got, `"`))); err != nil || !back.Equal(in) {
				t.Errorf("Time2Internaldate(%v) = %s, which parses back to %v, %v", in, got, back, err)
			}
		}
	}

	for i, in := range quoted {
		got, err := commands.QuoteInternaldate(in)
		if want := out.Quoted[i]; err == nil && got != want {
			t.Errorf("QuoteInternaldate(%q) = %q; want %q (imaplib)", in, got, want)
		}
		if err != nil && in != `"garbage"` {
			t.Errorf("QuoteInternaldate(%q) = %v", in, err)
		}
	}
}
