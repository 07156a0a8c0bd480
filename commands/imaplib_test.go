package commands_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// imaplibOut is what testdata/imaplib/diff.py prints.
type imaplibOut struct {
	Exists          int       `json:"exists"`
	Search          []int     `json:"search"`
	UIDSearchUnseen []int     `json:"uid_search_unseen"`
	SearchUTF8      [][]int   `json:"search_utf8"`
	Partial         []*[]byte `json:"partial"`
	PartialMethod   string    `json:"partial_method"`
	Messages        []struct {
		Seq, UID, Size int
		Flags          []string
		Body           string
	} `json:"messages"`
	List []struct {
		Name, Delim, Decoded string
		Attrs                []string
		Status               map[string]int
	} `json:"list"`
	Status map[string]int `json:"status"`
	Append struct {
		AppendUID int
		Messages  []struct {
			UID, Size    int
			InternalDate string
			Epoch        int64
			Flags        []string
			Body         []byte
		}
	} `json:"append"`
	Expunge struct {
		Expunged []int
		UIDs     [][2]int
	} `json:"expunge"`
}

// TestImaplibDifferential runs imaplibDifferential on Dovecot.
func TestImaplibDifferential(t *testing.T) {
	// Waits on Dovecot and python3's imaplib, in mailboxes of its own (dvMailbox).
	t.Parallel()
	c := dvClient(t, testserver.Alice, nil)
	imaplibDifferential(t, c, dvServer(t).PlainAddr, testserver.Alice, dvMailbox(t, testserver.Alice, 12), `a "quoted" name`)
}

// TestImaplibDifferentialCyrus runs imaplibDifferential on Cyrus, the
// messages appended by imapkit. Cyrus refuses '"' in a mailbox name (NO
// Invalid mailbox name).
func TestImaplibDifferentialCyrus(t *testing.T) {
	// Cyrus answers INTERNALDATE in its local zone: a half-hour one (a
	// POSIX TZ, no tzdata needed), inherited by imaplib too.
	t.Setenv("TZ", "NST+3:30NDT,M3.2.0,M11.1.0")
	addr, c := cyAlice(t)
	ctx := dvCtx(t)
	mb := "Grüße & diff"
	if err := c.Create(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	var msgs []commands.AppendMessage
	for i := range 12 {
		m := testserver.SampleMessage(i)
		msgs = append(msgs, commands.AppendMessage{R: bytes.NewReader(m), Size: int64(len(m)),
			Options: &commands.AppendOptions{Date: testserver.SampleInfo(i).Date}})
	}
	if _, err := c.AppendMany(ctx, mb, msgs); err != nil {
		t.Fatal(err)
	}
	imaplibDifferential(t, c, addr, testserver.Alice, mb)
}

// imaplibDifferential runs the same operations through Python's imaplib
// (testdata/imaplib/diff.py) and through imapkit on the same mailbox mb
// (12 sample messages) of the same server, and compares: message numbers,
// UIDs, flags, sizes, bodies byte for byte, LIST names (as sent, and
// decoded: the script decodes modified UTF-7 on its own) and attributes,
// STATUS counts, SEARCH CHARSET UTF-8 with non-ASCII strings, partial
// FETCHes (BODY.PEEK[section]<start.length>), an APPEND of a message with
// bare LFs, CRs and 8-bit bytes, with a date in a half-hour time zone
// (imaplib's CRLF normalisation against AppendOptions.NormalizeCRLF; the
// internal dates as sent and as instants), and the EXPUNGE responses and
// the sequence numbers and UIDs after an EXPUNGE.
//
// Known differences, by design or imaplib's, not compared: imaplib leaves
// mailbox names in modified UTF-7 (imapkit decodes them: compared via
// MailboxInfo.Raw and the decoded name); imaplib's Internaldate2tuple
// returns local time, dropping the zone the server sent (compared: the
// instant, and the zone by the raw string); imaplib's partial() sends
// PARTIAL, an IMAP2bis command that RFC 2060 removed and neither server
// knows (BAD): the partial FETCHes are sent by hand through fetch(), as
// imapkit's Partial sends them.
func imaplibDifferential(t *testing.T, c *commands.Client, addr, user, mb string, names ...string) {
	ctx := dvCtx(t)
	for _, sub := range append(names, "Grüße", "a & b ☕ 日本", "plain", "append", "expunge-py", "expunge-go") {
		if err := c.Create(ctx, mb+"/"+sub, nil); err != nil {
			t.Fatalf("%s: %v", sub, err)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqNums(2, 5, 7), commands.AddFlags, []string{`\Seen`, "$Diff"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqNums(3), commands.AddFlags, []string{`\Flagged`}, nil); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{mb + "/expunge-py", mb + "/expunge-go"} {
		if _, err := c.Copy(ctx, commands.SeqRange(1, 0), dst); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	// Non-ASCII SEARCH strings: in the decoded subjects of messages 4
	// (UTF-8), 9 (KOI8-R) and 10, and a From display name.
	searches := [][2]string{{"SUBJECT", "München"}, {"SUBJECT", "Отчёт"}, {"FROM", "Müller"}}
	msg2 := testserver.SampleMessage(1)
	hdrEnd := bytes.Index(msg2, []byte("\r\n\r\n")) + 4
	size2 := uint32(len(msg2))
	partials := []struct {
		seq           uint32
		section       commands.FetchSection
		start, length uint32
	}{
		{2, commands.TextSection, 3, 20},
		{2, commands.WholeMessage, 10, 50},
		{2, commands.WholeMessage, size2 - 5, 100},
		{2, commands.WholeMessage, size2 + 10, 5},
		{2, commands.HeaderSection, 0, uint32(hdrEnd)},
		{1, commands.FetchSection{Part: []int{1}}, 0, 30},
		{1, commands.FetchSection{Part: []int{2}, Specifier: "MIME"}, 5, 1000},
		{2, commands.FetchSection{Part: []int{9}}, 0, 10}, // no such part
	}
	// Bare LF, bare CR, CR CR LF, 8-bit bytes (UTF-8 and Latin-1) in the
	// body, no final line end.
	bare := []byte("From: bare@example.org\nSubject: bare line ends\r\nDate: Thu, 4 Mar 2021 05:06:07 -0330\n\n" +
		"Grüße \xe9t\xe9\nCR alone\rCR CR LF\r\r\nend")
	date := time.Date(2021, 3, 4, 5, 6, 7, 0, time.FixedZone("", -(3*3600+30*60)))
	expungeSeqs := []uint32{2, 5, 6, 12}

	args := []string{codec.EncodeMailbox(mb), codec.EncodeMailbox(mb + "*")}
	for _, s := range searches {
		args = append(args, "--search-utf8", s[0], s[1])
	}
	for _, p := range partials {
		sec := strings.TrimSuffix(strings.TrimPrefix(p.section.String(), "BODY.PEEK["), "]")
		args = append(args, "--partial", fmt.Sprint(p.seq), sec, fmt.Sprint(p.start), fmt.Sprint(p.length))
	}
	args = append(args, "--append", codec.EncodeMailbox(mb+"/append"), date.Format(time.RFC3339))
	var seqs []string
	for _, n := range expungeSeqs {
		seqs = append(seqs, fmt.Sprint(n))
	}
	args = append(args, "--expunge", codec.EncodeMailbox(mb+"/expunge-py"), strings.Join(seqs, ","))
	py := runImaplib(t, ctx, addr, user, bare, args...)
	t.Logf("imaplib: exists %d, %d messages, list %+v, status %v, unseen %v", py.Exists, len(py.Messages), py.List, py.Status, py.UIDSearchUnseen)

	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	st, err := c.Examine(ctx, mb)
	if err != nil {
		t.Fatal(err)
	}
	if int(st.Exists) != py.Exists {
		t.Errorf("EXISTS: imapkit %d, imaplib %d", st.Exists, py.Exists)
	}
	all, err := c.Search(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := nums(all.All); !slices.Equal(got, py.Search) {
		t.Errorf("SEARCH ALL: imapkit %v, imaplib %v", got, py.Search)
	}
	unseen, err := c.Search(ctx, &commands.Criteria{NotFlags: []string{`\Seen`}}, &commands.SearchOptions{UID: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := nums(unseen.All); !slices.Equal(got, py.UIDSearchUnseen) {
		t.Errorf("UID SEARCH UNSEEN: imapkit %v, imaplib %v", got, py.UIDSearchUnseen)
	}
	if len(py.SearchUTF8) != len(searches) {
		t.Fatalf("imaplib: %d searches", len(py.SearchUTF8))
	}
	for i, s := range searches {
		var cr commands.Criteria
		switch s[0] {
		case "SUBJECT":
			cr.Subject = []string{s[1]}
		case "FROM":
			cr.From = []string{s[1]}
		}
		res, err := c.Search(ctx, &cr, &commands.SearchOptions{Charset: "UTF-8"})
		if err != nil {
			t.Fatalf("SEARCH CHARSET UTF-8 %s %s: %v", s[0], s[1], err)
		}
		if got := nums(res.All); !slices.Equal(got, py.SearchUTF8[i]) || len(got) == 0 {
			t.Errorf("SEARCH CHARSET UTF-8 %s %s: imapkit %v, imaplib %v", s[0], s[1], got, py.SearchUTF8[i])
		}
	}
	if len(py.Partial) != len(partials) {
		t.Fatalf("imaplib: %d partial FETCHes", len(py.Partial))
	}
	var nilDiffs []string
	for i, p := range partials {
		got, err := c.Partial(ctx, commands.SeqNums(p.seq), p.section, p.start, p.length)
		if err != nil {
			t.Fatalf("partial %d %s: %v", p.seq, p.section, err)
		}
		pyv := derefBytes(py.Partial[i])
		if !bytes.Equal(got, pyv) {
			t.Errorf("partial %d %s<%d.%d>: imapkit %q, imaplib %q", p.seq, p.section, p.start, p.length, got, pyv)
		}
		if (got == nil) != (pyv == nil) {
			nilDiffs = append(nilDiffs, fmt.Sprintf("%d %s<%d.%d>: imapkit %q (nil %v), imaplib %q (NIL %v)",
				p.seq, p.section, p.start, p.length, got, got == nil, pyv, pyv == nil))
		}
	}
	// NIL (Cyrus's answer for a part the message has not) against ""
	// (what Dovecot sends): imaplib's caller, reading the FETCH response,
	// tells them apart, and so must Partial's (nil, not empty). It
	// returned the same empty slice for both (found here on Cyrus).
	t.Run("NIL", func(t *testing.T) {
		for _, d := range nilDiffs {
			t.Errorf("partial %s", d)
		}
	})
	if !strings.Contains(py.PartialMethod, "PARTIAL") || !strings.Contains(py.PartialMethod, "BAD") {
		t.Errorf("imaplib's partial(): %q, want a BAD to PARTIAL (or imaplib fixed it: compare it)", py.PartialMethod)
	}
	i := 0
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Flags: true, Size: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(py.Messages) {
			t.Fatalf("imapkit has more messages than imaplib (%d)", len(py.Messages))
		}
		p := py.Messages[i]
		i++
		flags := slices.Clone(m.Flags)
		slices.Sort(flags)
		if int(m.SeqNum) != p.Seq || int(m.UID) != p.UID || int(m.Size) != p.Size || !slices.Equal(flags, p.Flags) {
			t.Errorf("message: imapkit %d/%d/%d/%v, imaplib %d/%d/%d/%v", m.SeqNum, m.UID, m.Size, flags, p.Seq, p.UID, p.Size, p.Flags)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(s)
		pyBody, _ := base64.StdEncoding.DecodeString(p.Body)
		if !bytes.Equal(body, pyBody) {
			t.Errorf("message %d: bodies differ (%d vs %d bytes)", m.SeqNum, len(body), len(pyBody))
		}
	}
	if i != len(py.Messages) {
		t.Errorf("imapkit %d messages, imaplib %d", i, len(py.Messages))
	}
	list, err := c.List(ctx, mb+"*", nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b *commands.MailboxInfo) int { return strings.Compare(string(a.Raw), string(b.Raw)) })
	if len(list) != len(py.List) {
		t.Fatalf("LIST: imapkit %d mailboxes, imaplib %d", len(list), len(py.List))
	}
	for i, m := range list {
		p := py.List[i]
		// \Marked and \Unmarked are left out of the comparison: Dovecot
		// derives them from the maildir's cur/ and new/ timestamps (whole
		// seconds) at each LIST, and imaplib's LIST and this one are
		// seconds and several commands apart: on a loaded machine one
		// saw "\HasNoChildren \UnMarked" where the other saw
		// "\HasNoChildren" (25 runs of 28). The other attributes, the
		// names and the delimiter are still compared.
		attrs := slices.DeleteFunc(slices.Clone(m.Attrs), isMarkAttr)
		slices.Sort(attrs)
		pyAttrs := slices.DeleteFunc(slices.Clone(p.Attrs), isMarkAttr)
		raw := latin1(m.Raw)
		if raw != p.Name || m.Name != p.Decoded || m.Delim != p.Delim || !slices.Equal(attrs, pyAttrs) {
			t.Errorf("LIST: imapkit %q (%q) %q %v, imaplib %q (%q) %q %v", raw, m.Name, m.Delim, attrs, p.Name, p.Decoded, p.Delim, p.Attrs)
		}
		if st, err := c.Status(ctx, m.Name, commands.StatusMessages|commands.StatusRecent|commands.StatusUIDNext|commands.StatusUIDValidity|commands.StatusUnseen); err != nil {
			t.Errorf("STATUS %q: %v", m.Name, err)
		} else if !maps.Equal(statusMap(st), p.Status) {
			t.Errorf("STATUS %q: imapkit %v, imaplib %v", m.Name, statusMap(st), p.Status)
		}
	}
	status, err := c.Status(ctx, mb, commands.StatusMessages|commands.StatusRecent|commands.StatusUIDNext|commands.StatusUIDValidity|commands.StatusUnseen)
	if err != nil {
		t.Fatal(err)
	}
	if got := statusMap(status); !maps.Equal(got, py.Status) {
		t.Errorf("STATUS: imapkit %v, imaplib %v", got, py.Status)
	}
	imaplibDiffAppend(t, c, mb+"/append", py, bare, date)
	imaplibDiffExpunge(t, c, mb+"/expunge-go", py, expungeSeqs)
}

// imaplibDiffAppend appends bare as imaplib did (after it, to the same
// mailbox) and compares both stored messages, as imapkit fetches them,
// with what imaplib fetched of its own.
func imaplibDiffAppend(t *testing.T, c *commands.Client, mb string, py *imaplibOut, bare []byte, date time.Time) {
	ctx := dvCtx(t)
	res, err := c.Append(ctx, mb, bytes.NewReader(bare), int64(len(bare)),
		&commands.AppendOptions{Flags: []string{`\Flagged`}, Date: date, NormalizeCRLF: true})
	if err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	if len(py.Append.Messages) != 1 || py.Append.Messages[0].UID != py.Append.AppendUID || res.UID != uint32(py.Append.AppendUID)+1 {
		t.Fatalf("APPENDUID: imapkit %d, imaplib %d, imaplib fetched %+v", res.UID, py.Append.AppendUID, py.Append.Messages)
	}
	p := py.Append.Messages[0]
	if !bytes.Equal(p.Body, commands.NormalizeCRLF(bare)) {
		t.Errorf("imaplib stored %q, NormalizeCRLF gives %q", p.Body, commands.NormalizeCRLF(bare))
	}
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	pyFlags := slices.DeleteFunc(slices.Clone(p.Flags), func(f string) bool { return f == `\Recent` })
	n := 0
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(s)
		// \Recent went to imaplib's session, which selected the
		// mailbox first: the server's doing, not a client's.
		flags := slices.DeleteFunc(slices.Clone(m.Flags), func(f string) bool { return f == `\Recent` })
		slices.Sort(flags)
		who := map[bool]string{true: "imaplib's", false: "imapkit's"}[int(m.UID) == p.UID]
		if !bytes.Equal(body, p.Body) || int(m.Size) != p.Size || !slices.Equal(flags, pyFlags) {
			t.Errorf("%s APPEND as imapkit reads it: %d %v %q, imaplib read %d %v %q", who, m.Size, flags, body, p.Size, pyFlags, p.Body)
		}
		// The instant, and the zone the server sent (imaplib's
		// Internaldate2tuple drops it; the raw string keeps it).
		raw := []byte(p.InternalDate)
		if raw[0] == ' ' {
			raw[0] = '0'
		}
		if m.InternalDate.Unix() != p.Epoch || m.InternalDate.Format("02-Jan-2006 15:04:05 -0700") != string(raw) || !m.InternalDate.Equal(date) {
			t.Errorf("%s INTERNALDATE: imapkit %v, imaplib %q (%d), appended %v", who, m.InternalDate, p.InternalDate, p.Epoch, date)
		}
	}
	if n != 2 {
		t.Errorf("%s: %d messages, want 2", mb, n)
	}
}

// imaplibDiffExpunge does on mb what imaplib did on its copy: STORE
// +FLAGS (\Deleted) on seqs, EXPUNGE, FETCH 1:* (UID).
func imaplibDiffExpunge(t *testing.T, c *commands.Client, mb string, py *imaplibOut, seqs []uint32) {
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, commands.SeqNums(seqs...), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Expunge(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, n := range res.SeqNums {
		got = append(got, int(n))
	}
	if !slices.Equal(got, py.Expunge.Expunged) || len(got) != len(seqs) {
		t.Errorf("EXPUNGE: imapkit %v, imaplib %v", got, py.Expunge.Expunged)
	}
	var uids [][2]int
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true}) {
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, [2]int{int(m.SeqNum), int(m.UID)})
	}
	if !slices.Equal(uids, py.Expunge.UIDs) || len(uids) != 12-len(seqs) {
		t.Errorf("after EXPUNGE: imapkit %v, imaplib %v", uids, py.Expunge.UIDs)
	}
}

func statusMap(st *commands.MailboxStatus) map[string]int {
	return map[string]int{"MESSAGES": int(st.Messages), "RECENT": int(st.Recent), "UIDNEXT": int(st.UIDNext),
		"UIDVALIDITY": int(st.UIDValidity), "UNSEEN": int(st.Unseen)}
}

func runImaplib(t *testing.T, ctx context.Context, addr, user string, stdin []byte, args ...string) *imaplibOut {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "python3", append([]string{"testdata/imaplib/diff.py", host, port, user, testserver.Password}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s", err, stderr.String())
	}
	var out imaplibOut
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("imaplib output: %v\n%s", err, b)
	}
	if len(out.Messages) == 0 {
		t.Fatal("imaplib fetched no message")
	}
	return &out
}

func nums(s codec.SeqSet) []int {
	var out []int
	for n := range s.All {
		out = append(out, int(n))
	}
	return out
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// TestImaplibQuotaACL compares QUOTA and ACL values read by imaplib
// (testdata/imaplib/quota_acl.py) and by imapkit on the same Dovecot.
func TestImaplibQuotaACL(t *testing.T) {
	// Waits on Dovecot and python3's imaplib, in mailboxes of its own (dvMailbox).
	t.Parallel()
	mb := dvMailbox(t, testserver.TinyUser, 2)
	c := dvClient(t, testserver.TinyUser, nil)
	ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
	if err := c.SetACL(ctx, mb, testserver.Bob, "lrs"); err != nil {
		t.Fatal(err)
	}
	imaplibQuotaACL(t, c, dvServer(t).PlainAddr, testserver.TinyUser, mb, false)
}

// TestImaplibQuotaACLCyrus compares QUOTA (two resources set by the
// administrator, some in use), ACL, MYRIGHTS, LIST RETURN (MYRIGHTS) and an
// annotation read by imaplib and by imapkit on the same Cyrus mailbox.
func TestImaplibQuotaACLCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SetQuota(ctx, "user/alice", map[string]uint64{"STORAGE": 1000, "MESSAGE": 50}); err != nil {
		t.Fatalf("SETQUOTA: %v", err)
	}
	c := cyClient(t, addr, testserver.Alice, testserver.Password)
	mb := "Grüße"
	if err := c.Create(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := c.AppendBytes(ctx, mb, testserver.SampleMessage(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetACL(ctx, mb, testserver.Bob, "lrs"); err != nil {
		t.Fatal(err)
	}
	imaplibQuotaACL(t, c, addr, testserver.Alice, mb, true)

	// ANNOTATEMORE: a value with CRLF and UTF-8 (a literal), set by
	// imapkit, on a non-ASCII mailbox, read by both (TestCyrus compares a
	// quoted one).
	value := "line 1\r\nGrüße ☕"
	if err := c.SetAnnotation(ctx, mb, "/comment", []commands.MetadataEntry{{Name: "value.priv", Value: []byte(value)}}); err != nil {
		t.Fatalf("SETANNOTATION: %v", err)
	}
	an, err := c.GetAnnotation(ctx, mb, "/comment", "value.priv")
	if err != nil || len(an) != 1 || len(an[0].Attrs) != 1 {
		t.Fatalf("GETANNOTATION: %v %+v", err, an)
	}
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "python3", "testdata/imaplib/annotation.py", host, port, testserver.Alice, testserver.Password, codec.EncodeMailbox(mb), "/comment", "value.priv")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s", err, stderr.String())
	}
	var py struct{ Entry, Attr, Value string }
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if py.Entry != an[0].Entry || py.Attr != an[0].Attrs[0].Name || py.Value != string(an[0].Attrs[0].Value) || py.Value != value {
		t.Errorf("annotation: imaplib %+v, imapkit %q %q %q", py, an[0].Entry, an[0].Attrs[0].Name, an[0].Attrs[0].Value)
	}
}

func imaplibQuotaACL(t *testing.T, c *commands.Client, addr, user, mb string, listMyRights bool) {
	t.Helper()
	ctx := dvCtx(t)
	host, port, _ := strings.Cut(addr, ":")
	args := []string{"testdata/imaplib/quota_acl.py", host, port, user, testserver.Password, codec.EncodeMailbox(mb)}
	if listMyRights {
		args = append(args, "--list-myrights")
	}
	cmd := exec.CommandContext(ctx, "python3", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s", err, stderr.String())
	}
	var py struct {
		Roots  []string
		Quotas []struct {
			Root      string
			Resources []commands.QuotaResource
		}
		ACL          []commands.ACLEntry
		MyRights     string
		ListMyRights string `json:"list_myrights"`
	}
	if err := json.Unmarshal(b, &py); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	roots, qs, err := c.GetQuotaRoot(ctx, mb)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(roots, py.Roots) || len(qs) != len(py.Quotas) || len(qs) == 0 {
		t.Fatalf("quota roots: imapkit %v %d, imaplib %v %d", roots, len(qs), py.Roots, len(py.Quotas))
	}
	for i, q := range qs {
		if q.Root != py.Quotas[i].Root || !slices.Equal(q.Resources, py.Quotas[i].Resources) {
			t.Errorf("quota: imapkit %+v, imaplib %+v", q, py.Quotas[i])
		}
	}
	acl, err := c.GetACL(ctx, mb)
	if err != nil || !slices.Equal(acl, py.ACL) || len(acl) < 2 {
		t.Errorf("ACL: imapkit %v %+v, imaplib %+v", err, acl, py.ACL)
	}
	rights, err := c.MyRights(ctx, mb)
	if err != nil || rights != py.MyRights {
		t.Errorf("MYRIGHTS: imapkit %v %q, imaplib %q", err, rights, py.MyRights)
	}
	if listMyRights {
		l, err := c.List(ctx, mb, &commands.ListOptions{ReturnMyRights: true})
		if err != nil || len(l) != 1 || l[0].MyRights != py.ListMyRights || l[0].MyRights != rights {
			var got []string
			for _, m := range l {
				got = append(got, m.MyRights)
			}
			t.Errorf("LIST RETURN (MYRIGHTS): imapkit %v %q, imaplib %q, MYRIGHTS %q", err, got, py.ListMyRights, rights)
		}
	}
	t.Logf("imaplib: %s", b)
}

// imaplibMetadata runs testdata/imaplib/metadata.py against addr as user,
// on mailbox, with the entries under prefix: imapkit sets prefix/go (CRLF
// and 8-bit bytes: a literal) and prefix/go/sub first, imaplib sets
// prefix/py, and both read every entry under prefix with DEPTH infinity;
// the two must agree byte for byte.
func imaplibMetadata(t *testing.T, c *commands.Client, addr, user, mailbox, prefix string) {
	t.Helper()
	ctx := dvCtx(t)
	goValue := []byte("set by imapkit\r\nGrüße — line 2\x01")
	if err := c.SetMetadata(ctx, mailbox, []commands.MetadataEntry{
		{Name: prefix + "/go", Value: goValue}, {Name: prefix + "/go/sub", Value: []byte("")},
	}); err != nil {
		t.Fatalf("SETMETADATA: %v", err)
	}
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "python3", "testdata/imaplib/metadata.py", host, port, user, testserver.Password, codec.EncodeMailbox(mailbox), prefix)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s", err, stderr.String())
	}
	var py struct{ Entries map[string]*[]byte }
	if err := json.Unmarshal(b, &py); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	md, _, err := c.GetMetadata(ctx, mailbox, []string{prefix}, &commands.MetadataOptions{Depth: -1})
	if err != nil {
		t.Fatalf("GETMETADATA: %v", err)
	}
	got := map[string][]byte{}
	for _, e := range md {
		got[e.Name] = e.Value
	}
	if !bytes.Equal(got[prefix+"/go"], goValue) || string(got[prefix+"/py"]) != `set by "imaplib"` {
		t.Errorf("imapkit read %q", got)
	}
	if len(got) != len(py.Entries) || len(got) < 2 {
		t.Errorf("entries: imapkit %d %q, imaplib %d", len(got), got, len(py.Entries))
	}
	for name, v := range py.Entries {
		g, ok := got[name]
		if !ok || (v == nil) != (g == nil) || v != nil && !bytes.Equal(*v, g) {
			t.Errorf("%s: imaplib %q, imapkit %q (%v)", name, derefBytes(v), g, ok)
		}
	}
}

func derefBytes(b *[]byte) []byte {
	if b == nil {
		return nil
	}
	return *b
}

// TestImaplibMetadataDovecot compares METADATA entries read by imaplib and
// by imapkit on the same Dovecot mailbox.
func TestImaplibMetadataDovecot(t *testing.T) {
	// Waits on Dovecot and python3's imaplib, in mailboxes of its own (dvMailbox).
	t.Parallel()
	mb := dvMailbox(t, testserver.Alice, 0) + " Grüße"
	c := dvClient(t, testserver.Alice, nil)
	if err := c.Create(dvCtx(t), mb, nil); err != nil {
		t.Fatal(err)
	}
	imaplibMetadata(t, c, dvServer(t).PlainAddr, testserver.Alice, mb, "/private/vendor/imapkit")
}

// TestImaplibMetadataCyrus compares METADATA entries read by imaplib and
// by imapkit on the same Cyrus mailbox (the annotations of imaplib's
// get/setannotation are compared in TestCyrus). Cyrus stores an empty
// value as no value (prefix/go/sub is gone) and answers DEPTH infinity
// with the prefix itself as NIL: both clients see the same.
func TestImaplibMetadataCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	alice := cyClient(t, addr, testserver.Alice, testserver.Password)
	if err := alice.Create(ctx, "Grüße", nil); err != nil {
		t.Fatal(err)
	}
	imaplibMetadata(t, alice, addr, testserver.Alice, "Grüße", "/private/vendor/imapkit")
}

// isMarkAttr reports whether a is \Marked or \Unmarked (any case), the
// LIST attributes a server computes anew at each LIST (RFC 3501 section
// 7.2.2: a hint that the mailbox "probably" has new messages).
func isMarkAttr(a string) bool {
	return strings.EqualFold(a, `\Marked`) || strings.EqualFold(a, `\Unmarked`)
}

// changingSeeker is a file rewritten between NormalizeCRLF's two reads:
// every Seek to the start after the first read serves the next version.
// changingSeeker is a message that changes once it has been read: a
// seek back to the start after a read gives its next version (a seek
// without a read between, as Append's measure of its length, does not).
type changingSeeker struct {
	versions [][]byte
	v        int
	r        *bytes.Reader
	seeks    int
	read     bool
}

func (c *changingSeeker) Read(p []byte) (int, error) {
	if c.r == nil {
		c.r = bytes.NewReader(c.versions[0])
	}
	c.read = true
	return c.r.Read(p)
}

func (c *changingSeeker) Seek(off int64, whence int) (int64, error) {
	if c.r == nil {
		c.r = bytes.NewReader(c.versions[0])
	}
	if whence == io.SeekStart && c.read {
		c.seeks++
		c.read = false
		if c.v+1 < len(c.versions) {
			c.v++
			c.r = bytes.NewReader(c.versions[c.v])
		}
	}
	return c.r.Seek(off, whence)
}

// TestNormalizeCRLFChangedCut: the message grows on NormalizeCRLF's
// second read (its first 1024 bytes become bare LFs, which alone convert
// to as many bytes as the whole first version did). AppendOptions says
// such a message "aborts the session rather than being cut"; it is sent
// cut: its last 1024 bytes are dropped and the APPEND succeeds.
func TestNormalizeCRLFChangedCut(t *testing.T) {
	c, s, ctx := litServerStart(t, "LITERAL+ UIDPLUS", litAppendUID())
	v1 := bytes.Repeat([]byte("a"), 2048)
	v2 := append(bytes.Repeat([]byte("\n"), 1024), bytes.Repeat([]byte("b"), 1024)...)
	rs := &changingSeeker{versions: [][]byte{v1, v2}}
	_, err := c.Append(ctx, "INBOX", rs, int64(len(v1)), &commands.AppendOptions{NormalizeCRLF: true})
	if err == nil {
		cmds := s.commands()
		sent := cmds[len(cmds)-1].Lits[0]
		t.Fatalf("APPEND succeeded: sent %d bytes (%d of them 'b'), whereas the message read then converts to %d bytes: the message was cut",
			len(sent), bytes.Count(sent, []byte("b")), len(commands.NormalizeCRLF(v2)))
	}
	if c.Session().Err() == nil {
		t.Fatalf("error %v but the session is up", err)
	}
}

// TestNormalizeCRLFBoundaryCRLF: a message of 1025 bytes whose
// last two bytes are CRLF, appended with NormalizeCRLF from an unchanged
// bytes.Reader. The crlfReader reads 1024-byte chunks: after the first,
// the CR at byte 1024 has been converted to CRLF (out == want) while the
// final LF (which converts to nothing) is still unread (in < size), and
// e23cc0f's check takes that for a grown message: errChanged, the session
// aborted. Expected: the APPEND succeeds, the message sent as it is.
func TestNormalizeCRLFBoundaryCRLF(t *testing.T) {
	for _, k := range []int{1, 3} {
		c, s, ctx := litServerStart(t, "LITERAL+ UIDPLUS", litAppendUID())
		msg := append(bytes.Repeat([]byte("a"), 1024*k-1), '\r', '\n') // 1024k+1 bytes
		_, err := c.Append(ctx, "INBOX", bytes.NewReader(msg), int64(len(msg)), &commands.AppendOptions{NormalizeCRLF: true})
		if err != nil {
			t.Fatalf("%d bytes ending in CRLF (CR the last byte of a 1024-byte chunk): Append: %v (session: %v)", len(msg), err, c.Session().Err())
		}
		cmds := s.commands()
		if sent := cmds[len(cmds)-1].Lits[0]; !bytes.Equal(sent, msg) {
			t.Fatalf("sent %d bytes, want the %d unchanged", len(sent), len(msg))
		}
	}
}

// TestNormalizeCRLFEdgeCases: last byte CR, empty message,
// exactly one chunk, CRLF not on a boundary: all must go through.
func TestNormalizeCRLFEdgeCases(t *testing.T) {
	for name, msg := range map[string][]byte{
		"lastCR":     append(bytes.Repeat([]byte("a"), 1023), '\r'),
		"lastCR1025": append(bytes.Repeat([]byte("a"), 1024), '\r'),
		"chunk":      bytes.Repeat([]byte("a"), 1024),
		"crlf1026":   append(bytes.Repeat([]byte("a"), 1024), '\r', '\n'),
		"lf1025":     append(bytes.Repeat([]byte("a"), 1024), '\n'),
	} {
		c, _, ctx := litServerStart(t, "LITERAL+ UIDPLUS", litAppendUID())
		if _, err := c.Append(ctx, "INBOX", bytes.NewReader(msg), int64(len(msg)), &commands.AppendOptions{NormalizeCRLF: true}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
