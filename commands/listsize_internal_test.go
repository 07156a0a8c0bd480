package commands

import (
	"runtime"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestListInfoSize: what List counts for a LIST against its bound
// (listInfoSize) is at least what listInfo allocates for it, and not far
// more, for ordinary LIST responses and for one of 20,000 one-letter
// attributes (eight times its bytes on the wire).
func TestListInfoSize(t *testing.T) {
	for _, line := range []string{
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* LIST (\HasChildren \Subscribed) "." "Archive.2024" ("CHILDINFO" ("SUBSCRIBED"))`,
		`* LIST () "/" "&BB8EQAQ4BDIENQRC-" ("OLDNAME" ("old"))`,
		`* LIST (` + strings.TrimSpace(strings.Repeat(`\a `, 20000)) + `) "/" x`,
		`* LIST (` + strings.TrimSpace(strings.Repeat(`\Xyzzy1 `, 5000)) + `) "/" x`,
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(line+"\r\n"), nil), nil)
		r, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		l := r.(*codec.List)
		want := listInfoSize(l)
		got := int64(-1)
		var ms runtime.MemStats
		for range 3 {
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			listInfo(l, false)
			runtime.ReadMemStats(&ms)
			if n := int64(ms.TotalAlloc - before); got < 0 || n < got {
				got = n
			}
		}
		if got > want || want > 2*got+256 {
			t.Errorf("%.40s...: listInfoSize %d, listInfo allocates %d", line, want, got)
		}
	}
}
