package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// TestUnknownOwnerSectionTooLarge: two pulled UID FETCH commands in
// flight, and a body over MaxResultBytes whose UID comes after it: whose
// it is cannot be told when it comes, so it is kept in the FETCH (within
// the bound) rather than streamed to a guess; past the bound it is left
// out (Section.Missing), and the command the FETCH goes to by its UID, the
// second, ends with a *ResultTooLargeError that counts it; the first ends
// clean. (A small bound, so as not to send 64 MiB: the accounting, not a
// default, is under test.)
func TestUnknownOwnerSectionTooLarge(t *testing.T) {
	const size = 2 << 20
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		io.WriteString(server, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		r := bufio.NewReader(server)
		var fetches []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			if !strings.HasPrefix(rest, "UID FETCH") {
				io.WriteString(server, tag+" OK done\r\n")
				continue
			}
			if fetches = append(fetches, tag); len(fetches) < 2 {
				continue
			}
			fmt.Fprintf(server, "* 2 FETCH (BODY[] {%d}\r\n%s UID 2)\r\n%s OK done\r\n%s OK done\r\n",
				size, strings.Repeat("x", size), fetches[0], fetches[1])
		}
	}()
	s, err := session.Open(dvCtx(t), client, &session.Options{MaxResultBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := dvCtx(t)
	dvRun(t, s, dvMailboxCmd("SELECT", "INBOX"))
	var ps []*session.Pending
	for _, uid := range []uint32{1, 2} {
		var set codec.SeqSet
		set.AddNum(uid)
		p, err := s.Start(ctx, &session.Command{Name: "UID FETCH", Messages: &set, Pull: true,
			Args: func(e *wire.Encoder) { e.SP().Raw(fmt.Sprintf("%d BODY[]", uid)) }})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	var got [2][]string
	var errs [2]error
	for i, p := range ps {
		for {
			it, err := p.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := it.Response.(*codec.Fetch); ok && it.Section == nil {
				got[i] = append(got[i], fmt.Sprintf("UID %d missing %v", f.UID, len(f.Sections) == 1 && f.Sections[0].Missing))
			}
		}
		_, errs[i] = p.Wait(ctx)
	}
	var tl *session.ResultTooLargeError
	if len(got[0]) != 0 || errs[0] != nil || fmt.Sprint(got[1]) != "[UID 2 missing true]" || !errors.As(errs[1], &tl) || tl.Sections != 1 {
		t.Fatalf("first: %q, %v; second: %q, %v; want nothing and no error, then UID 2 with its body missing and a ResultTooLargeError counting it", got[0], errs[0], got[1], errs[1])
	}
}
