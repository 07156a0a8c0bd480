package commands_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

func cyClient(t *testing.T, addr, user, pass string) *commands.Client {
	t.Helper()
	ctx := dvCtx(t)
	conn, err := transport.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatalf("LOGIN %s: %v", user, err)
	}
	return c
}

// TestCyrus runs what only Cyrus has here: SETQUOTA by an administrator,
// ANNOTATEMORE (imaplib's get/setannotation), OBJECTID, APPENDLIMIT and
// LIST-MYRIGHTS.
func TestCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	q, err := admin.SetQuota(ctx, "user/alice", map[string]uint64{"STORAGE": 1000})
	if err != nil {
		t.Fatalf("SETQUOTA: %v", err)
	}
	_ = q
	q, err = admin.GetQuota(ctx, "user/alice")
	if err != nil || !slices.ContainsFunc(q.Resources, func(r commands.QuotaResource) bool { return r.Name == "STORAGE" && r.Limit == 1000 }) {
		t.Fatalf("GETQUOTA: %v %+v", err, q)
	}
	alice := cyClient(t, addr, "alice", "pass")
	roots, qs, err := alice.GetQuotaRoot(ctx, "INBOX") // Cyrus names alice's root INBOX for her
	if err != nil || len(roots) != 1 || len(qs) != 1 || qs[0].Root != roots[0] || qs[0].Resources[0].Limit != 1000 {
		t.Fatalf("GETQUOTAROOT as alice: %v %v %+v", err, roots, qs)
	}
	// A refused SETQUOTA (alice is no admin) is a NO.
	if _, err := alice.SetQuota(ctx, "user/alice", map[string]uint64{"STORAGE": 5}); !errors.Is(err, session.ErrNo) && !errors.Is(err, session.ErrBad) {
		t.Fatalf("SETQUOTA by alice: %v", err)
	}
	alice = cyClient(t, addr, "alice", "pass") // Cyrus answers BAD Invalid tag after a refused SETQUOTA
	if err := alice.SetAnnotation(ctx, "INBOX", "/comment", []commands.MetadataEntry{{Name: "value.priv", Value: []byte("my inbox")}}); err != nil {
		t.Fatalf("SETANNOTATION: %v", err)
	}
	an, err := alice.GetAnnotation(ctx, "INBOX", "/comment", "value.priv")
	if err != nil || len(an) != 1 || an[0].Entry != "/comment" || len(an[0].Attrs) != 1 || string(an[0].Attrs[0].Value) != "my inbox" {
		t.Fatalf("GETANNOTATION: %v %+v", err, an)
	}
	// Side by side with imaplib: the annotation and the quota.
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "python3", "testdata/imaplib/annotation.py", host, port, testserver.Alice, testserver.Password, "INBOX", "/comment", "value.priv")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s", err, stderr.String())
	}
	var py struct {
		Entry, Attr, Value string
		Storage            [2]uint64
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if py.Entry != an[0].Entry || py.Attr != an[0].Attrs[0].Name || py.Value != string(an[0].Attrs[0].Value) {
		t.Errorf("annotation: imaplib %+v, imapkit %+v", py, an[0])
	}
	_, qs, err = alice.GetQuotaRoot(ctx, "INBOX")
	if err != nil || len(qs) != 1 || qs[0].Resources[0].Usage != py.Storage[0] || qs[0].Resources[0].Limit != py.Storage[1] {
		t.Errorf("quota: imaplib %v, imapkit %v %+v", py.Storage, err, qs)
	}
	res, err := alice.AppendBytes(ctx, "INBOX", []byte("Subject: x\r\n\r\nhello\r\n"), nil)
	if err != nil || res.UID != 1 {
		t.Fatalf("APPEND: %v %+v", err, res)
	}
	st, err := alice.Status(ctx, "INBOX", commands.StatusMailboxID)
	if err != nil || st.MailboxID == nil {
		t.Fatalf("STATUS MAILBOXID: %v %+v", err, st)
	}
	// Cyrus 3.6 advertises APPENDLIMIT=n but refuses STATUS APPENDLIMIT
	// (BAD Invalid Status attributes): the limit is in the capability.
	if !slices.ContainsFunc(alice.Caps(), func(c string) bool { return len(c) > 12 && c[:12] == "APPENDLIMIT=" }) {
		t.Errorf("no APPENDLIMIT= capability: %v", alice.Caps())
	}
	st, err = alice.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusSize)
	if err != nil || st.Messages != 1 || st.Size == 0 {
		t.Fatalf("STATUS: %v %+v", err, st)
	}
	if _, err := alice.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	ms, err := alice.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{EmailID: true, ThreadID: true})
	if err != nil || len(ms) != 1 || ms[0].EmailID == "" {
		t.Fatalf("FETCH EMAILID: %v %+v", err, ms)
	}
	l, err := alice.List(ctx, "INBOX", &commands.ListOptions{ReturnMyRights: true})
	if err != nil || len(l) != 1 {
		t.Fatalf("LIST RETURN (MYRIGHTS): %v %+v", err, l)
	}
	// CREATE-SPECIAL-USE: TestCreateSpecialUseCyrus.

}

// TestIdleYieldsCyrus: TestIdleYieldsDovecot against Cyrus, whose IDLE
// polls the mailbox (imapidlepoll: 1 in the test server's configuration).
func TestIdleYieldsCyrus(t *testing.T) {
	// Parallel: it waits on Cyrus's IDLE poll (imapidlepoll: 1 s); it has a Cyrus of its own;
	// it looks at nothing process-wide.
	t.Parallel()
	addr, c := cyAlice(t)
	ctx := dvCtx(t)
	for i := range 2 {
		if _, err := c.AppendBytes(ctx, "INBOX", testserver.SampleMessage(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	idleYields(t, c, cyClient(t, addr, "alice", "pass"), "INBOX")
}

// TestMixedConcurrencyCyrus is TestMixedConcurrencyDovecot against Cyrus,
// then TestCloseUnderLoadDovecot's rounds (the session closed under the
// operations after 90 to 610 of them).
func TestMixedConcurrencyCyrus(t *testing.T) {
	const n = 16
	addr, c := cyAlice(t)
	ctx := dvCtx(t)
	if err := c.Create(ctx, "mixed", nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := c.AppendBytes(ctx, "mixed", testserver.SampleMessage(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	mixedConcurrency(t, c, "mixed", n, 0)
	for round := range 5 {
		mixedConcurrency(t, cyClient(t, addr, "alice", "pass"), "mixed", n, int64(90+round*130))
	}
}

// cyAlice starts a Cyrus server, makes alice's mailboxes as the admin, and
// returns the server's address and a Client logged in as alice.
func cyAlice(t *testing.T) (string, *commands.Client) {
	return cyAliceWith(t, testserver.CyrusOptions{})
}

// cyAliceWith is cyAlice on a Cyrus configured with opts.
func cyAliceWith(t *testing.T, opts testserver.CyrusOptions) (string, *commands.Client) {
	addr := testserver.StartCyrusWithT(t, opts).Addr
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(dvCtx(t), "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	return addr, cyClient(t, addr, "alice", "pass")
}
