package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview45HSwitchOnLineClientRefuses: a line that does not tokenize
// ("a1 OK\"x") ended through endServerLine with the Event of the tokens
// read before the error (a1 SP OK): the proxy took it for COMPRESS's OK
// and relayed the rest raw, while an imapkit client reads the line as a
// response that does not decode (expected SP after OK) and goes on
// uncompressed. The proxy now closes the connection on such a completion
// of an awaited STARTTLS or COMPRESS; a NO that does not tokenize still
// ends the wait, and the session goes on.
func TestReview45HSwitchOnLineClientRefuses(t *testing.T) {
	for _, ans := range []string{"a1 OK\"x\r\n", "a1 OK\x01\"\r\n", "a1 OK{x\r\n"} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(ans), nil), nil)
		if r, err := d.Next(); err == nil {
			t.Fatalf("the client reads %q as %#v", ans, r)
		}
		addr := r45PUpstream(t, func(tag string) string {
			if tag == "a1" {
				return ans
			}
			return tag + " OK done\r\n"
		})
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
		c, r := r45PDial(t, paddr)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
		r.ReadString('\n')
		fmt.Fprintf(c, "a2 NOOP\r\n")
		l, err := r.ReadString('\n')
		if err == nil || strings.Contains(out.String(), "COMPRESS=DEFLATE active") {
			t.Errorf("%q: next %q %v; trace:\n%.2000s", ans, l, err, out.String())
		}
	}
	// A NO that does not tokenize: the client reads an error too, and
	// neither side switches: the wait ends, the session goes on.
	addr := r45PUpstream(t, func(tag string) string {
		if tag == "a1" {
			return "a1 NO\"x\r\n"
		}
		return tag + " OK done\r\n"
	})
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
	c, r := r45PDial(t, paddr)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
	r.ReadString('\n')
	fmt.Fprintf(c, "a2 NOOP\r\n")
	if l, err := r.ReadString('\n'); err != nil || l != "a2 OK done\r\n" {
		t.Errorf("after a NO: %q %v; trace:\n%.2000s", l, err, out.String())
	}
}

// TestReview45HRedactOverlapping: two credentials that overlap in a
// server's line (the end of one is the start of the other: "abcdefgh" and
// "fghijklm", echoed as "abcdefghijklm") were redacted one after the
// other with ReplaceAll: the first left "ijklm" of the second, which it no
// longer matched ("***ijklm"). Every byte covered by a form is marked now,
// each marked run replaced by "***"; so is a credential that overlaps
// itself ("aaa" in "aaaa").
func TestReview45HRedactOverlapping(t *testing.T) {
	var ss secretSet
	ss.add([]byte("abcdefgh"))
	ss.add([]byte("fghijklm"))
	ss.add([]byte("zzz"))
	p := printer{prefix: "[1] S: ", redact: &ss}
	p.begin(false, "")
	p.add([]byte("a1 NO abcdefghijklm and zzzz, fgh."))
	got := string(p.end())
	if want := "[1] S: a1 NO *** and ***, fgh.\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestReview45HRefusedLongTokenAnswered: a refused command (over 64,000
// bytes, in pieces) whose later piece holds a token over MaxLineLength (a
// 1.1 MB quoted string; a 1.24 MB SEARCH in all) got "* BYE imapkit proxy:
// a refused command of more than 33554432 bytes": RefuseCommandMax
// returns the tokenizer's own ErrLineTooLong for the token, which
// refuseFailed took for the 32 MiB bound. Closing is the documented
// outcome; the BYE now names the bound that was reached. Defaults.
func TestReview45HRefusedLongTokenAnswered(t *testing.T) {
	addr := r45PUpstream(t, func(tag string) string { return tag + " OK done\r\n" })
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
	cmd := "a1 SEARCH " + strings.Repeat("1 ", 70000) + "TEXT \"" + strings.Repeat("x", 1100000) + "\"\r\n"
	c, r := r45PDial(t, paddr)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(c, cmd+"a2 NOOP\r\n")
	var got []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, l)
	}
	if len(got) == 0 || !strings.Contains(got[len(got)-1], "* BYE imapkit proxy: a refused command with a token or line of more than 1048576 bytes") {
		t.Errorf("a %d-byte command: %q; trace:\n%.300s", len(cmd), got, out.String())
	}
}
