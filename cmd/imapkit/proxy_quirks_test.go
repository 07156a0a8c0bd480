package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// Reproducers of review 36d: servers that stop reading a command line
// before its end and read the rest of it as a command of its own, on
// lines the proxy tokenizes and relays as one command.

// directLogin logs in on a connection straight to the server (no proxy).
func directLogin(t *testing.T, addr, user, pass string) *lineConn {
	t.Helper()
	lc := dialLines(t, addr)
	lc.send("d0 LOGIN " + user + " " + pass + "\r\n")
	if got := lc.tagged("d0"); !strings.HasPrefix(got, "d0 OK") {
		t.Fatalf("direct LOGIN %s: %q", user, got)
	}
	return lc
}

// TestProxySetquotaCyrus: Cyrus 3.6 answers a non-administrator's
// SETQUOTA with "NO Permission denied" as soon as it has read the quota
// root, and reads the rest of the line as a new command (UNDUMP and
// XWARMUP do the same, for anyone). "a1 SETQUOTA x a3 CREATE ..." is one
// SETQUOTA to the proxy; Cyrus runs the CREATE. With a3 also the tag of
// a later NOOP that Cyrus never reads (a GETMETADATA of four or more
// arguments makes Cyrus skip the next line), every completion matches a
// command the proxy relayed: no Event.Stray, the proxy does not close,
// and the trace shows "C: a3 NOOP" answered by the CREATE's completion.
func TestProxySetquotaCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	admin := directLogin(t, cy.Addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	admin.send("d1 CREATE user/" + testserver.Alice + "\r\n")
	if got := admin.tagged("d1"); !strings.HasPrefix(got, "d1 OK") {
		t.Fatalf("CREATE user/alice: %q", got)
	}
	addr, out, _ := startProxy(t, "--upstream", "imap://"+cy.Addr)
	lc := dialLines(t, addr)
	lc.login("a0")
	box := "INBOX/Hidden36d"
	lc.send("a1 SETQUOTA x a3 CREATE " + box + "\r\n" +
		"a2 GETMETADATA INBOX x y z\r\n" +
		"a3 NOOP\r\n" +
		"a4 NOOP\r\n")
	got := readUntil(lc, "a4 ", 5*time.Second)
	// The trace once it holds a4's answer (printed after a1's line), not
	// 100 ms after the client had it: a slow printer left "C: a3 CREATE"
	// out of it, and the test failed with a correct proxy.
	waitFor(t, out, "S: a4 ")
	trace := out.String()

	alice := directLogin(t, cy.Addr, testserver.Alice, testserver.Password)
	alice.send("d2 LIST \"\" \"" + box + "\"\r\n")
	var listed bool
	for {
		l := alice.line()
		if strings.HasPrefix(l, "* LIST") && strings.Contains(l, box) {
			listed = true
		}
		if strings.HasPrefix(l, "d2 ") {
			break
		}
	}
	if listed && !strings.Contains(trace, "C: a3 CREATE") {
		t.Errorf("Cyrus created %s: a CREATE the proxy relayed as SETQUOTA's arguments\nclient got %q\ntrace:\n%s", box, got, trace)
	}
	// A SETQUOTA of the grammar's shape still goes to Cyrus (which
	// refuses it to a user who is no admin); UNDUMP and XWARMUP do not.
	lc.send("b1 SETQUOTA \"user/alice\" (STORAGE 100)\r\nb2 XWARMUP INBOX\r\nb3 setquota x (STORAGE 1) a9 NOOP\r\n")
	got = readUntil(lc, "b3 ", 5*time.Second)
	for _, want := range []string{"b1 NO", "b2 BAD imapkit proxy", "b3 NO"} {
		found := false
		for _, l := range got {
			found = found || strings.HasPrefix(l, want)
		}
		if !found {
			t.Errorf("no %s... in %q\ntrace:\n%s", want, got, out.String())
		}
	}
}

// TestProxyAppendLineTooLargeDovecot: Dovecot 2.3 parses
// APPEND's arguments with a parser of its own (cmd-append.c) that, on a
// parse error, answers BAD and does not skip the rest of the line: the
// next command starts where the parser stopped. One error is a line
// longer than imap_max_line_length (64 KiB), checked after each argument:
// the first argument that starts past 64 KiB ends the APPEND, and a
// command glued to it ('"x"h1 CREATE box') runs. The proxy (lines up to
// 1 MiB) relays the whole line as one APPEND; it sees h1's completion as
// Stray and closes, after the server ran the CREATE.
func TestProxyAppendLineTooLargeDovecot(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a0")
	box := fmt.Sprintf("H%d", time.Now().UnixNano()%1000000)
	filler := strings.Repeat(strings.Repeat("A", 999)+" ", 66) // the next argument starts past 64 KiB
	lc.send("a1 APPEND INBOX " + filler + "\"x\"h1 CREATE " + box + "\r\na2 NOOP\r\n")
	got := readUntil(lc, "a2 ", 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	trace := out.String()

	direct := directLogin(t, srv.PlainAddr, testserver.Alice, testserver.Password)
	direct.send("d1 STATUS " + box + " (MESSAGES)\r\n")
	if l := direct.tagged("d1"); strings.HasPrefix(l, "d1 OK") {
		t.Errorf("Dovecot created %s: a CREATE the proxy relayed as APPEND's arguments\nclient got %q\ntrace:\n%.3000s", box, got, zTrace(trace))
	}
}

// zTrace is the trace with long lines cut, for failure messages.
func zTrace(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if len(l) > 200 {
			l = l[:200] + "..."
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}
