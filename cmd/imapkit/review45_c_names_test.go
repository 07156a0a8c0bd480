//go:build linux

package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
)

// r45CFoldDst is r42FakeDst whose mailbox names are case-insensitive, as
// Exchange's (and Cyrus's with some settings): a name in CREATE, STATUS,
// SELECT or APPEND is the existing mailbox whose name equals it but for
// case; CREATE of such a name is refused NO [ALREADYEXISTS].
type r45CFoldDst struct {
	r42FakeDst
}

func (f *r45CFoldDst) start(t *testing.T) string { return serveTCP(t, f.serve) }

func (f *r45CFoldDst) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	io.WriteString(c, "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] fake destination\r\n")
	for {
		raw, tag, cmd, rest, ok := r42ReadCommand(r, c)
		if !ok {
			return
		}
		switch cmd {
		case "CREATE", "STATUS", "SELECT", "EXAMINE", "APPEND":
			name, after := rest, ""
			if strings.HasPrefix(rest, `"`) {
				i := strings.Index(rest[1:], `"`) + 2
				name, after = rest[:i], rest[i:]
			} else if i := strings.IndexByte(rest, ' '); i >= 0 {
				name, after = rest[:i], rest[i:]
			}
			name = r42Unquote(name)
			f.mu.Lock()
			for have := range f.boxes {
				if strings.EqualFold(have, name) {
					if cmd == "CREATE" {
						name = "\x00exists"
					} else {
						name = have
					}
				}
			}
			f.mu.Unlock()
			if name == "\x00exists" {
				io.WriteString(c, tag+" NO [ALREADYEXISTS] Mailbox already exists\r\n")
				continue
			}
			rest = `"` + name + `"` + after
		}
		out := f.answer(tag, cmd, rest, raw)
		if _, err := io.WriteString(c, out); err != nil || cmd == "LOGOUT" {
			return
		}
	}
}

// TestReview45CCopyCaseFoldNamesNotMerged: copy's check for source names
// mapped to one destination name is case-sensitive but for INBOX, so
// "Foo" and "foo" both go. Not a merge on a case-insensitive destination:
// it refuses the second CREATE (NO [ALREADYEXISTS]), which fails that
// mailbox naming --map, at every run; nothing of it lands in the other.
// (Failing such pairs up front would refuse two distinct mailboxes on the
// case-sensitive servers, Dovecot and Cyrus by default.)
func TestReview45CCopyCaseFoldNamesNotMerged(t *testing.T) {
	src, err := hostile.Listen(scriptedSource(`(("" "/")) NIL NIL`, []string{`() "/" Foo`, `() "/" foo`},
		map[string][]string{"Foo": {r43Body(1, false)}, "foo": {r43Body(2, false)}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	fake := &r45CFoldDst{r42FakeDst{boxes: map[string]*r42FakeBox{"INBOX": {uidNext: 1}}, statusN: map[string]int{}}}
	addr := fake.start(t)
	state := t.TempDir()
	setEnv(t, "IMAPKIT_PASSWORD", "x")
	setEnv(t, "IMAPKIT_DST_PASSWORD", "x")
	for run := 1; run <= 2; run++ {
		code, out, errs := runCLI(t, "", "copy", "imap://alice@"+src.Addr(), "imap://alice@"+addr, "--insecure-plaintext", "--dst-insecure-plaintext",
			"--state-dir", state, "--timeout", "20s", "--quiet")
		t.Logf("run %d: exit %d\nstdout: %s\nstderr: %s", run, code, out, errs)
		fake.mu.Lock()
		var got []string
		for name, b := range fake.boxes {
			got = append(got, name+"="+strings.Join(b.ids, ","))
		}
		fake.mu.Unlock()
		if code == 0 || !strings.Contains(errs, "ALREADYEXISTS") || !strings.Contains(errs, "--map foo=NAME") || len(fake.boxes["Foo"].ids) != 1 {
			t.Errorf("run %d: exit %d, destination %q, stderr %q; want foo failed naming --map, Foo holding u1 alone", run, code, got, errs)
		}
	}
}
