package commands_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// imaplibOut is what testdata/imaplib/diff.py prints.
type imaplibOut struct {
	Exists          int   `json:"exists"`
	Search          []int `json:"search"`
	UIDSearchUnseen []int `json:"uid_search_unseen"`
	Messages        []struct {
		Seq, UID, Size int
		Flags          []string
		Body           string
	} `json:"messages"`
	List []struct {
		Name, Delim string
		Attrs       []string
	} `json:"list"`
	Status map[string]int `json:"status"`
}

// TestImaplibDifferential runs the same operations through Python's
// imaplib (testdata/imaplib/diff.py) and through imapkit on the same
// mailbox of the same Dovecot, and compares: message numbers, UIDs, flags,
// sizes, bodies byte for byte, LIST names (as sent) and attributes, and
// STATUS counts.
//
// Known differences, by design, not compared: imaplib leaves mailbox names
// in modified UTF-7 (imapkit decodes them: compared via MailboxInfo.Raw and
// the decoded name), and imaplib's SELECT sets no \Seen (neither does
// BODY.PEEK here).
func TestImaplibDifferential(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 12)
	for _, sub := range []string{"Grüße", `a "quoted" name`, "plain"} {
		if err := c.Create(ctx, mb+"/"+sub, nil); err != nil {
			t.Fatal(err)
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
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	py := runImaplib(t, ctx, mb, mb+"*")
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
		attrs := slices.Clone(m.Attrs)
		slices.Sort(attrs)
		raw := latin1(m.Raw)
		if raw != p.Name || m.Delim != p.Delim || !slices.Equal(attrs, p.Attrs) {
			t.Errorf("LIST: imapkit %q %q %v, imaplib %q %q %v", raw, m.Delim, attrs, p.Name, p.Delim, p.Attrs)
		}
		if dec, err := codec.DecodeMailbox(m.Raw); err != nil || dec != m.Name {
			t.Errorf("LIST: %q decodes to %q, imapkit says %q", m.Raw, dec, m.Name)
		}
	}
	status, err := c.Status(ctx, mb, commands.StatusMessages|commands.StatusRecent|commands.StatusUIDNext|commands.StatusUIDValidity|commands.StatusUnseen)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"MESSAGES": int(status.Messages), "RECENT": int(status.Recent), "UIDNEXT": int(status.UIDNext),
		"UIDVALIDITY": int(status.UIDValidity), "UNSEEN": int(status.Unseen)}
	for k, v := range want {
		if py.Status[k] != v {
			t.Errorf("STATUS %s: imapkit %d, imaplib %d", k, v, py.Status[k])
		}
	}
}

func runImaplib(t *testing.T, ctx context.Context, mailbox, pattern string) *imaplibOut {
	t.Helper()
	srv := dvServer(t)
	host, port, _ := strings.Cut(srv.PlainAddr, ":")
	cmd := exec.CommandContext(ctx, "python3", "testdata/imaplib/diff.py", host, port, testserver.Alice, testserver.Password,
		codec.EncodeMailbox(mailbox), codec.EncodeMailbox(pattern))
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
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.TinyUser, 2)
	c := dvClient(t, testserver.TinyUser, nil)
	if err := c.SetACL(ctx, mb, testserver.Bob, "lrs"); err != nil {
		t.Fatal(err)
	}
	srv := dvServer(t)
	host, port, _ := strings.Cut(srv.PlainAddr, ":")
	cmd := exec.CommandContext(ctx, "python3", "testdata/imaplib/quota_acl.py", host, port, testserver.TinyUser, testserver.Password, codec.EncodeMailbox(mb))
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
		ACL      []commands.ACLEntry
		MyRights string
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
