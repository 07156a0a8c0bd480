package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

func TestResponseRecent(t *testing.T) {
	c, ctx := scripted(t, "misc/response")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	alerts := c.Response("ALERT")
	if len(alerts) != 1 || string(alerts[0].(*codec.Status).Text) != "the server will be down at noon" {
		t.Fatalf("response(ALERT): %+v", alerts)
	}
	if again := c.Response("ALERT"); again != nil {
		t.Fatalf("response pops: %+v", again)
	}
	// RECENT 1 from SELECT is pending: no NOOP is sent for it.
	r, err := c.Recent(ctx)
	if err != nil || !slices.Equal(r, []uint32{1}) {
		t.Fatalf("recent(): %v %v", err, r)
	}
	r, err = c.Recent(ctx) // nothing pending: NOOP brings RECENT 2
	if err != nil || !slices.Equal(r, []uint32{2}) {
		t.Fatalf("recent() with NOOP: %v %v", err, r)
	}
	if ex := c.Response("EXISTS"); len(ex) != 2 || ex[1].(*codec.Exists).Count != 4 {
		t.Fatalf("response(EXISTS): %+v", ex)
	}
	r, err = c.Recent(ctx)
	if err != nil || r != nil {
		t.Fatalf("recent() with nothing new: %v %v", err, r)
	}
}

func TestUnauthenticate(t *testing.T) {
	c, ctx := scripted(t, "misc/unauthenticate")
	if err := c.Unauthenticate(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Session().State(); st != session.StateNonAuth {
		t.Fatalf("state %v", st)
	}
	id, err := c.ID(ctx, nil)
	if err != nil || id != nil {
		t.Fatalf("ID NIL: %v %v", err, id)
	}
}

// TestIDFields: IDFields returns the server's ID fields in order, with a
// NIL value marked Nil (not "" as the map has it) and a field sent twice
// there twice (the map keeps the last); "()" is an empty list, not nil.
func TestIDFields(t *testing.T) {
	c, ctx := scripted(t, "misc/id")
	fields := map[string]string{"name": "imapkit"}
	got, err := c.IDFields(ctx, fields)
	want := []commands.IDField{
		{Name: "name", Value: "Srv"}, {Name: "version", Nil: true}, {Name: "os", Value: ""},
		{Name: "Name", Value: "Srv2"}, {Name: "name", Value: "Srv3"}, {Name: "build", Value: "42"},
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("IDFields: %v\n got %+v\nwant %+v", err, got, want)
	}
	m, err := c.ID(ctx, fields)
	if err != nil || !maps.Equal(m, map[string]string{"name": "Srv3", "version": "", "os": "", "Name": "Srv2", "build": "42"}) {
		t.Fatalf("ID: %v %v", err, m)
	}
	got, err = c.IDFields(ctx, nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("IDFields (): %v %#v", err, got)
	}
	m, err = c.ID(ctx, nil)
	if err != nil || m == nil || len(m) != 0 {
		t.Fatalf("ID (): %v %#v", err, m)
	}
}

// TestStoreUnchangedSinceZero: HasUnchangedSince sends "UNCHANGEDSINCE
// 0" (RFC 7162 allows it: fail for every message with a mod-sequence),
// which UnchangedSince 0 alone cannot, as it means no modifier.
func TestStoreUnchangedSinceZero(t *testing.T) {
	c, ctx := scripted(t, "mailbox/store_unchangedsince0")
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Store(ctx, commands.UIDRange(1, 3), commands.AddFlags, []string{`\Seen`},
		&commands.StoreOptions{Silent: true, HasUnchangedSince: true})
	if err != nil || res.Modified.String() != "UID 1:3" {
		t.Fatalf("STORE UNCHANGEDSINCE 0: %v %+v", err, res)
	}
	res, err = c.Store(ctx, commands.UIDRange(1, 3), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{Silent: true})
	if err != nil || !res.Modified.Nums.IsEmpty() {
		t.Fatalf("STORE: %v %+v", err, res)
	}
}

// TestFetchVanishedEarlier: OnVanished tells VANISHED (EARLIER), the
// history the VANISHED modifier asks for, from a live VANISHED that comes
// during the same UID FETCH (a message expunged now, which lowers the
// count).
func TestFetchVanishedEarlier(t *testing.T) {
	c, ctx := scripted(t, "fetch/vanished")
	enableQResyncSelect(t, ctx, c, "INBOX")
	var got []string
	var uids []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Flags: true, ChangedSince: 10, Vanished: true,
		OnVanished: func(u codec.SeqSet, earlier bool) { got = append(got, fmt.Sprintf("%s earlier=%v", u, earlier)) }}) {
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, m.UID)
	}
	if want := []string{"2:3 earlier=true", "5 earlier=false"}; !slices.Equal(got, want) || !slices.Equal(uids, []uint32{1, 4}) {
		t.Fatalf("OnVanished %q, want %q; UIDs %v", got, want, uids)
	}
	if n, ok := c.Exists(); !ok || n != 4 {
		t.Fatalf("Exists %d %v, want 4 (5 less the live VANISHED's one)", n, ok)
	}
}

func TestCreateSpecialUse(t *testing.T) {
	c, ctx := scripted(t, "mailbox/create_special_use")
	if err := c.Create(ctx, "Flagged mail", &commands.CreateOptions{SpecialUse: []string{`\Flagged`}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.List(ctx, "Flagged mail", &commands.ListOptions{ReturnSpecialUse: true})
	if err != nil || len(l) != 1 || !l[0].HasAttr(`\Flagged`) {
		t.Fatalf("LIST: %v %+v", err, l)
	}
}

// dvPython runs a Python snippet with M, an imaplib.IMAP4 logged in as
// alice on the test Dovecot, the mailbox name mb in MB and other in
// sys.argv[6]; it decodes what the snippet prints as JSON into out.
func dvPython(t *testing.T, mb, other, body string, out any) {
	t.Helper()
	host, port, err := net.SplitHostPort(dvServer(t).PlainAddr)
	if err != nil {
		t.Fatal(err)
	}
	src := "import imaplib, json, sys\nM = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))\nM.login(sys.argv[3], sys.argv[4])\nMB = sys.argv[5]\n" + body
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", src, host, port, testserver.Alice, testserver.Password, codec.EncodeMailbox(mb), codec.EncodeMailbox(other))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("python output %q: %v", b, err)
	}
}

// TestResponseTaggedCodes: docs/imaplib.md maps imaplib's
// response(code) to c.Response(code), and Client.Response's doc names
// "READ-ONLY" as a code it pops. imaplib keeps the response codes of
// tagged answers too (the "Bracketed response information" of
// _get_response): after EXAMINE, response('READ-ONLY') has the code
// (RFC 3501/9051 put READ-ONLY on the tagged OK), and after APPEND and
// COPY, response('APPENDUID') and response('COPYUID') have theirs.
// imapkit's Response returns nothing for any of them.
func TestResponseTaggedCodes(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 2)
	dst := dvMailbox(t, testserver.Alice, 0)
	var py map[string][]string
	dvPython(t, mb, dst, `
out = {}
M.select(MB, readonly=True)
out['READ-ONLY'] = [x.decode() for x in M.response('READ-ONLY')[1] if x is not None]
M.append(MB, None, None, b'Subject: x\r\n\r\nhi\r\n')
out['APPENDUID'] = [x.decode() for x in M.response('APPENDUID')[1] if x is not None]
M.select(MB)
M.copy('1', sys.argv[6])
out['COPYUID'] = [x.decode() for x in M.response('COPYUID')[1] if x is not None]
print(json.dumps(out))
`+"\n", &py)
	t.Logf("imaplib: %q", py)

	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	got["READ-ONLY"] = len(c.Response("READ-ONLY"))
	ar, err := c.AppendBytes(ctx, mb, []byte("Subject: x\r\n\r\nhi\r\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	au := c.Response("APPENDUID")
	got["APPENDUID"] = len(au)
	if len(au) == 1 {
		// The kept response is the tagged OK, its code the APPENDUID.
		st, ok := au[0].(*codec.Status)
		if !ok || st.Code == nil || st.Code.Kind != codec.CodeAppendUID || len(st.Tag) == 0 || st.Code.Dst.String() != fmt.Sprint(ar.UID) {
			t.Errorf("Response(APPENDUID) = %#v, want the tagged OK [APPENDUID ... %d]", au[0], ar.UID)
		}
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(ctx, commands.SeqNums(1), dst); err != nil {
		t.Fatal(err)
	}
	got["COPYUID"] = len(c.Response("COPYUID"))
	for _, name := range []string{"READ-ONLY", "APPENDUID", "COPYUID"} {
		if len(py[name]) > 0 && got[name] == 0 {
			t.Errorf("c.Response(%q) after the command: nothing; imaplib's response(%q) gives %q", name, name, py[name])
		}
	}
}
