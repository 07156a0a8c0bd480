//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

func r38Heap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestReview38LongProxyLoginSecrets: one client connection through "imapkit
// proxy" that keeps trying LOGIN (each refused by the server, as a client
// with a wrong or rotating password does, or a brute-forcer) makes the
// proxy's per-connection secretSet grow by four copies of every password,
// never trimmed, and re-sorted at each: the proxy's heap grows with the
// number of LOGIN lines.
func TestReview38LongProxyLoginSecrets(t *testing.T) {
	up, err := hostile.Listen(func(c *hostile.Conn) error {
		c.Greet("IMAP4rev1")
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			if cmd.Name == "LOGIN" {
				if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] Authentication failed."); err != nil {
					return err
				}
				continue
			}
			if err := c.Answer(cmd); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &proxyConfig{upstream: &target{host: "127.0.0.1", addr: up.Addr()}, out: io.Discard, dialTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- serveProxy(ctx, ln, cfg, false) }()
	defer func() { cancel(); <-served }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	pad := fmt.Sprintf("%0200d", 0)
	seq := 0
	// batch sends n LOGIN attempts, 100 at a time, and reads the answers.
	batch := func(n int) {
		for done := 0; done < n; done += 100 {
			for k := 0; k < 100; k++ {
				seq++
				fmt.Fprintf(w, "a%d LOGIN user \"pw-%d-%s\"\r\n", seq, seq, pad)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 100; k++ {
				l, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if k == 99 && l[0] != 'a' {
					t.Fatalf("unexpected %q", l)
				}
			}
		}
	}
	const N = 3000
	batch(500)
	h0 := r38Heap()
	t0 := time.Now()
	batch(N)
	h1, d1 := r38Heap(), time.Since(t0)
	t1 := time.Now()
	batch(3 * N)
	h4, d4 := r38Heap(), time.Since(t1)
	t.Logf("proxy heap growth after %d LOGINs: %d B (%.0f B/LOGIN); after %d: %d B (%.0f B/LOGIN); time for the first N %v, for the next 3N %v",
		N, h1-h0, float64(h1-h0)/N, 4*N, h4-h0, float64(h4-h0)/(4*N), d1, d4)
	if g1, g4 := h1-h0, h4-h0; g4 > 1<<20 && g4 > 3*g1 {
		t.Errorf("the proxy's memory grows with the number of LOGIN attempts on one connection: +%d B after %d, +%d B after %d", g1, N, g4, 4*N)
	}
}

// r38MaxUIDSource is a source server whose INBOX holds one message with
// the largest UID there is, 4294967295; like Dovecot, it answers BAD to a
// UID set holding 0 ("Invalid UID messageset").
func r38MaxUIDSource(searches *[]string) hostile.Scenario {
	const uid = "4294967295"
	const body = "From: a@example.com\r\nSubject: last\r\n\r\nthe last UID\r\n"
	return func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 NAMESPACE"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return err
			}
			ok := cmd.Tag + " OK done"
			hasZero := func(args string) bool {
				set, _, _ := strings.Cut(strings.TrimPrefix(args, "UID "), " ")
				for _, p := range strings.FieldsFunc(set, func(r rune) bool { return r == ',' || r == ':' }) {
					if p == "0" {
						return true
					}
				}
				return false
			}
			switch cmd.Name {
			case "LOGIN":
				err = c.Line(ok)
			case "EXAMINE", "SELECT":
				err = c.Lines("* 1 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT "+uid+"] x", cmd.Tag+" OK [READ-ONLY] done")
			case "UID SEARCH":
				*searches = append(*searches, cmd.Args)
				if hasZero(cmd.Args) {
					err = c.Line(cmd.Tag + " BAD Error in IMAP command UID SEARCH: Invalid UID messageset")
					break
				}
				err = c.Lines("* SEARCH "+uid, ok)
			case "UID FETCH":
				if hasZero(cmd.Args) {
					err = c.Line(cmd.Tag + " BAD Error in IMAP command UID FETCH: Invalid UID messageset")
					break
				}
				if strings.Contains(cmd.Args, "BODY") {
					if err = c.Linef("* 1 FETCH (UID %s BODY[] {%d}", uid, len(body)); err == nil {
						err = c.WriteString(body + ")\r\n")
					}
				} else {
					err = c.Linef(`* 1 FETCH (UID %s FLAGS (\Seen) INTERNALDATE "01-Feb-2024 10:00:00 +0000" RFC822.SIZE %d)`, uid, len(body))
				}
				if err == nil {
					err = c.Line(ok)
				}
			case "LOGOUT":
				c.Lines("* BYE bye", ok)
				return nil
			default:
				err = c.Answer(cmd)
			}
			if err != nil {
				return err
			}
		}
	}
}

// TestReview38LongExportMaxUIDOverflow: an incremental export (run again and
// again, as from cron, to pick up new mail) of a mailbox whose last UID is
// 4294967295 (the largest nz-number) works the first time, and then fails
// every time: the next run asks for "UID SEARCH UID <LastUID+1>:*", and
// LastUID+1 wraps to 0 in uint32 arithmetic, an invalid set that Dovecot
// answers with BAD. copy's state has the same expression (copy.go).
func TestReview38LongExportMaxUIDOverflow(t *testing.T) {
	var searches []string
	src, err := hostile.Listen(r38MaxUIDSource(&searches))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "secret")
	setEnv(t, "IMAPKIT_URL", "")
	mbox := filepath.Join(t.TempDir(), "x.mbox")
	code, out, errs := runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", mbox, "--quiet")
	if code != 0 || !strings.Contains(out, "exported 1 messages") {
		t.Fatalf("first export: exit %d %q %q", code, out, errs)
	}
	// Nothing new since: the second run must find nothing to do.
	code, out, errs = runCLI(t, "", "export", "imap://alice@"+src.Addr(), "INBOX", "--to", mbox, "--quiet")
	t.Logf("UID SEARCH arguments sent: %q", searches)
	if code != 0 {
		t.Errorf("second (incremental) export of a mailbox whose last UID is 4294967295: exit %d, stdout %q, stderr %q; want exit 0 and nothing new exported", code, out, errs)
	}
}

// TestReview38LongIdleNewMissesExistsBetweenIdles: "imapkit idle --new", the
// notifier, keeps its own count of the messages it has reported (known)
// and learns of new ones only from the EXISTS responses that reach its
// IDLE handler. The FETCH it runs for a new message ends the IDLE; an
// EXISTS the server sends with that FETCH's answer (Dovecot reports mail
// that arrived meanwhile at the end of any command) goes to the session,
// not to the handler, and the server does not send it again: the second
// message of a burst is never reported, until yet another arrives (known
// drifts below the session's own count, Client.Exists).
func TestReview38LongIdleNewMissesExistsBetweenIdles(t *testing.T) {
	out := runIdleNew(t, func(uids []int) ([]int, []string) {
		// UID 112 arrived while the FETCH of 111 ran: reported at its
		// end, as Dovecot does.
		uids = append(uids, 112)
		return uids, []string{fmt.Sprintf("* %d EXISTS", len(uids))}
	})
	if !strings.Contains(out, "msg 111") {
		t.Fatalf("message 111 not reported")
	}
	if !strings.Contains(out, "msg 112") {
		t.Errorf("idle --new: message 112, announced by the server (* 12 EXISTS) at the end of the FETCH for message 111, was never reported")
	}
}
