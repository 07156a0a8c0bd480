package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// remoteProxy starts Dovecot behind a tap on a non-loopback address and
// the proxy in front of it (plaintext policy on).
func remoteProxy(t *testing.T) (addr string, tp *tap, out *syncBuffer) {
	srv, _ := dovecot(t, 1)
	tp = newTapOn(t, net.JoinHostPort(nonLoopbackIP(t), "0"), srv.PlainAddr)
	addr, out, _ = startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())
	return addr, tp, out
}

// TestProxyLimitErrorLeaksLogin: a client line that fails with a
// limit error (not a *SyntaxError) after some of its tokens were read is
// forwarded up to there (tk.Forward(w) before closing), never classified:
// a LOGIN's password reaches a plaintext non-loopback upstream.
func TestProxyLimitErrorLeaksLogin(t *testing.T) {
	t.Parallel()
	for name, tail := range map[string]string{
		"literal-too-large": " {99999999999}\r\n",
		"too-deep":          " " + strings.Repeat("(", 200) + "\r\n",
		"eof":               "",
	} {
		t.Run(name, func(t *testing.T) {
			addr, tp, out := remoteProxy(t)
			lc := dialLines(t, addr)
			lc.send("a1 LOGIN " + testserver.Alice + " " + testserver.Password + tail)
			if tail == "" {
				lc.c.(*net.TCPConn).CloseWrite()
			}
			if up := tp.sentUpstream(t, lc.c); strings.Contains(up, testserver.Password) {
				t.Errorf("the password went upstream in plaintext: %q\ntrace:\n%s", up, out.String())
			}
		})
	}
}

// TestProxyLostPendingIdleCyrus: Cyrus answers a line that is a
// tag alone ("y\r\n") "* BAD Invalid tag", never completing it, while the
// Dialog records it as a pending command. 2000 of them overflow maxPending:
// the entry of an earlier "z NOOP" is dropped, so the NOOP's "z OK" is
// matched to the next pending "z", an IDLE, which the Dialog then ends
// (done == idleID) while Cyrus starts idling. Cyrus's "+ idling" is then
// taken for the go-ahead of the literal of the client's next command
// (withheld, its body relayed), and Cyrus reads that command's line as the
// IDLE's answer and the literal's body as commands: z3 runs, unseen by
// the proxy (its trace shows "z2 NOOP {n bytes}").
func TestProxyLostPendingIdleCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+cy.Addr)
	lc := dialLines(t, addr)
	lc.login("a0")
	hidden := "z3 CREATE INBOX/Hidden36\r\n"
	lc.send("z NOOP\r\n" + strings.Repeat("y\r\n", 2000) + "z IDLE\r\n" +
		fmt.Sprintf("z2 NOOP {%d+}\r\n%s\r\n", len(hidden), hidden) + "z4 NOOP\r\n")
	// Cyrus reads the "{n+}" on the IDLE's answer as a literal (Dovecot
	// as text, as the Dialog does): it eats z3's line, and its end of
	// that line comes later than the proxy's, so z4 may never be
	// answered (a stall, failing closed). What must not happen is a
	// command it runs that the proxy did not see.
	got := readUntil(lc, "z4 ", 5*time.Second)
	checkRanSeen(t, got, out.String())
}

// readUntil reads lines until one starts with prefix, or none comes for d.
func readUntil(lc *lineConn, prefix string, d time.Duration) []string {
	var got []string
	for {
		lc.c.SetReadDeadline(time.Now().Add(d))
		l, err := lc.br.ReadString('\n')
		if err != nil {
			return got
		}
		got = append(got, l)
		if strings.HasPrefix(l, prefix) {
			return got
		}
	}
}

// checkRanSeen fails if the server completed z3 while the proxy's trace
// does not show z3 as a command it relayed.
func checkRanSeen(t *testing.T, got []string, trace string) {
	t.Helper()
	for _, l := range got {
		if strings.HasPrefix(l, "z3 OK") && !strings.Contains(trace, "C: z3 CREATE") {
			t.Errorf("the server ran a command the proxy did not see: %q\ntrace (z lines):\n%s", l, zLines(trace))
		}
	}
}

func zLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, ": z") || strings.Contains(l, ": +") || strings.Contains(l, "C: ...") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestProxyLostPendingIdleDovecot: the same against Dovecot, with
// no phantom needed: 1100 pipelined "y NOOP" reach the proxy in one write,
// so that it records them all before it flushes any upstream, and drops
// the entry of the first "z NOOP" (more than maxPending). Dovecot's "z OK"
// for it ends the Dialog's IDLE; "+ idling" becomes the go-ahead of
// z2's literal, whose body Dovecot runs as a command.
func TestProxyLostPendingIdleDovecot(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.login("a0")
	box := fmt.Sprintf("Hidden%d", time.Now().UnixNano()%1000000)
	hidden := "z3 CREATE " + box + "\r\n"
	lc.send("z NOOP\r\n" + strings.Repeat("y NOOP\r\n", 1100) + "z IDLE\r\n" +
		fmt.Sprintf("z2 NOOP {%d+}\r\n%s\r\n", len(hidden), hidden) + "z4 NOOP\r\n")
	got := readUntil(lc, "z4 ", 10*time.Second)
	if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "z4 ") {
		t.Fatalf("no answer to z4:\n%s", zLines(out.String()))
	}
	// Dovecot reads the IDLE's answer "z2 NOOP {n+}" as text, then z3 as
	// a command: so does the proxy, which shows it.
	checkRanSeen(t, got, out.String())
}

// TestProxyLostPendingCompressLogin: the same dropped entry,
// before login, to an imap:// upstream that is not on loopback: the first
// "z NOOP"'s "z OK" is matched to the pending "z COMPRESS DEFLATE", so
// the proxy takes COMPRESS for accepted and relays the rest of the
// connection raw (io.Copy both ways), classifying nothing: the server
// (which refuses COMPRESS before login) then runs a plaintext LOGIN the
// proxy never saw, and the password crosses the network in the clear.
func TestProxyLostPendingCompressLogin(t *testing.T) {
	t.Parallel()
	addr, tp, out := remoteProxy(t)
	lc := dialLines(t, addr)
	lc.send("z NOOP\r\n" + strings.Repeat("y NOOP\r\n", 1100) + "z COMPRESS DEFLATE\r\n")
	// The LOGIN goes once the COMPRESS's answer (the second z) has
	// come through the proxy, which has then taken it for whatever it
	// takes it for (a 500 ms pause stood in for that: on a loaded
	// machine the LOGIN could come first, and the test pass with the
	// fault, the LOGIN refused before the switch).
	lc.tagged("z")
	lc.tagged("z")
	lc.send("a9 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	var got string
	for {
		l := lc.line()
		if strings.HasPrefix(l, "a9 ") {
			got = l
			break
		}
	}
	if strings.HasPrefix(got, "a9 OK") || strings.Contains(tp.sentUpstream(t, lc.c), testserver.Password) {
		t.Errorf("LOGIN ran in plaintext upstream: %q\ntrace (z/a9 lines):\n%s", got, zLines(out.String()))
	}
}

// TestProxyRefusedTagShiftCompress: no dropped entries needed.
// The proxy's own answer to a refused line is passed to Dialog.Server,
// which completes the OLDEST pending command with that tag: here the
// pipelined "z NOOP" still on its way upstream, not the refused line
// ("z COMPRESS" followed by a control byte: it does not tokenize, the
// Dialog names it COMPRESS). The server's "z OK" for the NOOP is then
// matched to the refused line's entry, so the server direction takes it
// for COMPRESS accepted, relays raw from then on and leaves {ok: true} in
// ps.switched. The client's next COMPRESS (refused by the server before
// login) picks that up and the client direction relays raw too: a
// plaintext LOGIN to a remote upstream runs, never seen by the proxy.
func TestProxyRefusedTagShiftCompress(t *testing.T) {
	t.Parallel()
	addr, tp, out := remoteProxy(t)
	lc := dialLines(t, addr)
	lc.send("z NOOP\r\nz COMPRESS \x01\r\n")
	// The server's answer to the NOOP and the proxy's BAD to the second
	// line race (4 runs of 40 had the NOOP's first): the BAD is one of
	// the two z answers.
	if got, got2 := lc.tagged("z"), ""; !strings.HasPrefix(got, "z BAD imapkit proxy") {
		if got2 = lc.tagged("z"); !strings.HasPrefix(got2, "z BAD imapkit proxy") {
			t.Fatalf("untokenizable line: %q, then %q", got, got2)
		}
	}
	lc.send("x NOOP\r\n") // flushes the NOOP upstream
	lc.tagged("x")
	lc.send("w COMPRESS DEFLATE\r\n")
	// The LOGIN goes once the COMPRESS's answer has come through the
	// proxy (a 300 ms pause stood in for that: on a loaded machine the
	// LOGIN could come first, and the test pass with the fault).
	lc.tagged("w")
	lc.send("a9 LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	got := lc.tagged("a9")
	if strings.HasPrefix(got, "a9 OK") || strings.Contains(tp.sentUpstream(t, lc.c), testserver.Password) {
		t.Errorf("LOGIN ran in plaintext upstream: %q\ntrace:\n%s", got, out.String())
	}
}

// TestProxyLongTagHidesLogin: the command's name is looked for in
// the first piece of a line only (MaxLineTokens tokens). A tag of 65,536
// tokens ("a" and 65,535 "]", which lineHead joins into one tag, valid to
// validTag) fills that piece: the Dialog sees a tag and no command,
// refusal has nothing to refuse, and the next piece, " LOGIN alice pass",
// is relayed as the rest of the line without a look: the password goes in
// plaintext to an upstream that is not on loopback. (Cyrus refuses tags
// over ~4 KB and Dovecot any tag with ']', so the LOGIN does not run
// there; a server with a laxer tag rule would run it.)
func TestProxyLongTagHidesLogin(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	tp := newTapOn(t, net.JoinHostPort(nonLoopbackIP(t), "0"), cy.Addr)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+tp.ln.Addr().String())
	lc := dialLines(t, addr)
	// Now "]" makes no tag (Dovecot's rule): refused. A tag of that many
	// tokens without "]" cannot be made: "[" nests (100 levels at most),
	// and atoms, numbers and NIL run together into one token.
	tag := "a" + strings.Repeat("]", 65535)
	lc.send(tag + " LOGIN " + testserver.Alice + " " + testserver.Password + "\r\n")
	lc.send("b1 NOOP\r\n")
	var got []string
	for {
		l := lc.line()
		if len(l) > 200 {
			l = l[:20] + "..." + l[len(l)-100:]
		}
		got = append(got, l)
		if strings.HasPrefix(l, "b1 ") {
			break
		}
	}
	time.Sleep(100 * time.Millisecond)
	tp.ln.Close()
	if strings.Contains(tp.toServer.String(), testserver.Password) {
		tr := out.String()
		if i := strings.Index(tr, "LOGIN"); i > 0 {
			tr = tr[i-20:]
		}
		t.Errorf("the LOGIN went upstream in plaintext; client got %q\ntrace from LOGIN: %.300s", got, tr)
	}
}

// TestProxyRefusalLeavesPipelinedUnflushed: a line the proxy
// answers itself (here an empty line, no tag; the same for a LOGIN refused
// in plaintext or a line that does not tokenize) takes the "continue"
// path without flushing the writer to the server, while the command
// pipelined before it in the same write is still buffered there
// (ShouldFlush was false: more input was waiting). The client waits for
// a1's answer; the proxy waits for the client. Python's imaplib and
// others that pipeline, or a stray blank line, stall for good.
func TestProxyRefusalLeavesPipelinedUnflushed(t *testing.T) {
	t.Parallel()
	srv, _ := dovecot(t, 1)
	addr, out, _ := startProxy(t, "--upstream", "imap://"+srv.PlainAddr)
	lc := dialLines(t, addr)
	lc.send("a1 CAPABILITY\r\n\r\n")
	lc.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		l, err := lc.br.ReadString('\n')
		if err != nil {
			t.Fatalf("no answer to a1 (%v); trace:\n%s", err, out.String())
		}
		if strings.HasPrefix(l, "a1 ") {
			return
		}
	}
}
