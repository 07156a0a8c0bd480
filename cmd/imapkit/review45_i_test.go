package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview45IUnspacedOKClientRefuses: a completion of an awaited
// COMPRESS that tokenizes but has no SP after the status word ("a1
// OK{5}" and a literal, "a1 OK(x)", "a1 OK[ALERT] x", "a1 OK\"x\"",
// "a1 OK]") or begins with a space (" a1 OK x") got an OK Event from the
// Dialog, and the proxy switched to COMPRESS, while an imapkit client
// reads each line as a DecodeError and goes on uncompressed. The proxy
// now closes the connection on such a completion. Lines the codec reads
// as OK ("a1 OK" with no text, "a1 OK [ALERT] x", "a1 ok x", two spaces
// after the tag) still switch. Defaults.
func TestReview45IUnspacedOKClientRefuses(t *testing.T) {
	compress := func(ans string) (got []string, active bool) {
		t.Helper()
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
		fmt.Fprintf(c, "a2 NOOP\r\n")
		for {
			l, err := r.ReadString('\n')
			if l != "" {
				got = append(got, l)
			}
			if err != nil || strings.HasPrefix(l, "a2 ") {
				break
			}
		}
		return got, strings.Contains(out.String(), "COMPRESS=DEFLATE active")
	}
	decodes := func(ans string) bool {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(ans), nil), nil)
		r, err := d.Next()
		s, ok := r.(*codec.Status)
		return err == nil && ok && s.Kind == codec.StatusOK
	}
	for _, ans := range []string{
		"a1 OK{5}\r\n12345\r\n",
		"a1 OK(x)\r\n",
		"a1 OK[ALERT] x\r\n",
		"a1 OK\"x\"\r\n",
		"a1 OK]\r\n",
		" a1 OK x\r\n",
	} {
		if decodes(ans) {
			t.Fatalf("the client reads %q as OK", ans)
		}
		got, active := compress(ans)
		if active || len(got) > 0 && strings.HasPrefix(got[len(got)-1], "a2 ") {
			t.Errorf("%q: the proxy switched (active %v), the client would not: %q", ans, active, got)
		}
	}
	for _, ans := range []string{
		"a1 OK\r\n",
		"a1 OK \r\n",
		"a1 OK [ALERT] x\r\n",
		"a1 ok x\r\n",
		"a1  OK x\r\n",
	} {
		if !decodes(ans) {
			t.Fatalf("the client does not read %q as OK", ans)
		}
		if got, active := compress(ans); !active {
			t.Errorf("%q: the proxy did not switch: %q", ans, got)
		}
	}
	// A NO of that shape: neither side switches, the session goes on.
	if got, active := compress("a1 NO(x)\r\n"); active || len(got) == 0 || got[len(got)-1] != "a2 OK done\r\n" {
		t.Errorf("after a NO: %q (active %v)", got, active)
	}
}
