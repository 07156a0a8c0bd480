package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// r40Python runs a Python snippet with M, an imaplib.IMAP4 logged in as
// alice on the test Dovecot, the mailbox name mb in MB and other in
// sys.argv[6]; it decodes what the snippet prints as JSON into out.
func r40Python(t *testing.T, mb, other, body string, out any) {
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

// TestReview40BResponseTaggedCodes: docs/imaplib.md maps imaplib's
// response(code) to c.Response(code), and Client.Response's doc names
// "READ-ONLY" as a code it pops. imaplib keeps the response codes of
// tagged answers too (the "Bracketed response information" of
// _get_response): after EXAMINE, response('READ-ONLY') has the code
// (RFC 3501/9051 put READ-ONLY on the tagged OK), and after APPEND and
// COPY, response('APPENDUID') and response('COPYUID') have theirs.
// imapkit's Response returns nothing for any of them.
func TestReview40BResponseTaggedCodes(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 2)
	dst := dvMailbox(t, testserver.Alice, 0)
	var py map[string][]string
	r40Python(t, mb, dst, `
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

// TestReview40CConcurrentStartTLSLogin: commands.Client's doc says "Its methods
// are safe for concurrent use", but StartTLS and Login go through the
// auth.Client, whose doc says "Its methods may be called from one
// goroutine at a time": StartTLS writes auth.Client.tls
// (auth/client.go:100) while Login reads it (cleartextOK, auth/client.go:92)
// with no lock. Run with -race: the race detector reports the data race.
// (Against Dovecot on loopback; the session itself orders the two
// commands.)
func TestReview40CConcurrentStartTLSLogin(t *testing.T) {
	for i := 0; i < 5; i++ {
		c := dvPlain(t)
		ctx := dvCtx(t)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); c.StartTLS(ctx, nil) }()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Millisecond) // not a synchronisation: the race detector sees none
			c.Login(ctx, testserver.Alice, testserver.Password)
		}()
		wg.Wait()
		c.Session().Close()
	}
}
